import { mintToken } from "../../app/tokens";
import { sampleEvent } from "../../devkit/ado-events";
import { basic, send, startHarness, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const JSON_CT = { "content-type": "application/json" };

interface BadCase {
  name: string;
  status: number;
  error?: string;
  message?: RegExp;
  path?: (h: Harness) => string;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

const ev = () => sampleEvent("git.push");
const without = (key: string) => {
  const e = ev() as unknown as Record<string, unknown>;
  delete e[key];
  return JSON.stringify(e);
};
const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
const gridEvent = (id: string) => ({
  id,
  subject: "/x",
  eventType: "Custom.Thing",
  eventTime: new Date().toISOString(),
  data: {},
});

const cases: BadCase[] = [
  { name: "body that is not JSON", status: 400, error: "invalid-json", body: "{not json", headers: JSON_CT },
  { name: "empty JSON body", status: 400, message: /empty/, body: "", headers: JSON_CT },
  {
    name: "text/plain content type",
    status: 415,
    error: "unsupported-media-type",
    body: JSON.stringify(ev()),
    headers: { "content-type": "text/plain" },
  },
  { name: "XML content type", status: 415, body: "<event/>", headers: { "content-type": "application/xml" } },
  {
    name: "form content type",
    status: 415,
    body: "a=b",
    headers: { "content-type": "application/x-www-form-urlencoded" },
  },
  { name: "no content type", status: 415, body: new TextEncoder().encode(JSON.stringify(ev())) },
  {
    name: "token with a bad checksum",
    status: 404,
    error: "webhook-not-found",
    path: (x) => x.receiver.webhookUrl(x.secrets.devopsToken.slice(0, -2) + "zz"),
    body: JSON.stringify(ev()),
    headers: JSON_CT,
  },
  {
    name: "unknown well-formed token",
    status: 404,
    error: "webhook-not-found",
    path: (x) => x.receiver.webhookUrl(mintToken()),
    body: JSON.stringify(ev()),
    headers: JSON_CT,
  },
  {
    name: "expired token",
    status: 404,
    error: "webhook-not-found",
    path: (x) => x.receiver.webhookUrl(x.secrets.expiredToken),
    body: JSON.stringify(ev()),
    headers: JSON_CT,
  },
  {
    name: "token with path traversal",
    status: 404,
    path: (x) => `${x.receiver.url}/api/v1/webhooks/..%2F..%2Fhealthz`,
    body: JSON.stringify(ev()),
    headers: JSON_CT,
  },
  {
    name: "wrong Basic password",
    status: 401,
    path: (x) => `${x.receiver.url}/api/v1/systems/devops/webhooks`,
    body: JSON.stringify(ev()),
    headers: { ...JSON_CT, authorization: basic("u", "nope") },
  },
  {
    name: "garbage Authorization header",
    status: 401,
    path: (x) => `${x.receiver.url}/api/v1/systems/devops/webhooks`,
    body: JSON.stringify(ev()),
    headers: { ...JSON_CT, authorization: "Basic !!!" },
  },
  { name: "missing event id", status: 400, message: /missing `id`/, body: without("id"), headers: JSON_CT },
  {
    name: "numeric event id",
    status: 400,
    message: /`id`/,
    body: JSON.stringify({ ...ev(), id: 42 }),
    headers: JSON_CT,
  },
  {
    name: "event id of 300 characters",
    status: 400,
    message: /longer than 200/,
    body: JSON.stringify({ ...ev(), id: "a".repeat(300) }),
    headers: JSON_CT,
  },
  {
    name: "missing eventType",
    status: 400,
    message: /missing `eventType`/,
    body: without("eventType"),
    headers: JSON_CT,
  },
  {
    name: "resource that is not an object",
    status: 400,
    message: /`resource` that is not an object/,
    body: JSON.stringify({ ...ev(), resource: "the build" }),
    headers: JSON_CT,
  },
  { name: "JSON string", status: 400, message: /must be a JSON object/, body: '"hello"', headers: JSON_CT },
  { name: "JSON null", status: 400, body: "null", headers: JSON_CT },
  { name: "JSON number", status: 400, body: "12", headers: JSON_CT },
  { name: "empty array", status: 400, message: /empty array/, body: "[]", headers: JSON_CT },
  {
    name: "junk array",
    status: 400,
    message: /event \[0\] must be a JSON object/,
    body: "[1,2,3]",
    headers: JSON_CT,
  },
  {
    name: "array with an event missing eventType",
    status: 400,
    message: /event \[1\] is missing `eventType`/,
    body: JSON.stringify([gridEvent("g1"), { id: "g2", subject: "/x", eventTime: "2026-01-01T00:00:00Z" }]),
    headers: JSON_CT,
  },
  {
    name: "validation event without a code",
    status: 400,
    message: /validationCode/,
    body: JSON.stringify([
      { ...gridEvent("v"), eventType: "Microsoft.EventGrid.SubscriptionValidationEvent" },
    ]),
    headers: { ...JSON_CT, "aeg-event-type": "SubscriptionValidation" },
  },
  {
    name: "CloudEvent of spec 0.3",
    status: 400,
    message: /specversion/,
    body: JSON.stringify({ specversion: "0.3", id: "c", source: "/s", type: "t" }),
    headers: { "content-type": "application/cloudevents+json" },
  },
  {
    name: "__proto__ key (prototype pollution)",
    status: 400,
    body: `{"id":"p1","eventType":"git.push","resource":{},"__proto__":{"polluted":true}}`,
    headers: JSON_CT,
  },
  {
    name: "constructor.prototype key",
    status: 400,
    body: `{"id":"p2","eventType":"git.push","resource":{"constructor":{"prototype":{"polluted":true}}}}`,
    headers: JSON_CT,
  },
  {
    name: "__proto__ key spelled with \\u escapes, inside an array",
    status: 400,
    error: "invalid-json",
    body: `{"id":"p3","eventType":"git.push","resource":{"list":[{"\\u005f_proto__":{"polluted":true}}]}}`,
    headers: JSON_CT,
  },
  {
    name: "nesting 10,000 levels deep",
    status: 400,
    message: /deeper than 64/,
    body: deep(10_000),
    headers: JSON_CT,
  },
  {
    name: "nesting 65 levels deep inside an event",
    status: 400,
    message: /deeper than 64/,
    body: JSON.stringify({ ...ev(), resource: JSON.parse(deep(65)) }),
    headers: JSON_CT,
  },
  {
    name: "1 MB + 1 byte",
    status: 413,
    error: "payload-too-large",
    body: (() => {
      const base = JSON.stringify({ ...ev(), pad: "" });
      return base.replace('"pad":""', `"pad":"${"x".repeat(1024 * 1024 + 1 - base.length)}"`);
    })(),
    headers: JSON_CT,
  },
];

describe("bad input", () => {
  it("has at least 20 kinds of bad input", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases.map((c) => [c.name, c] as const))(
    "answers %s with its documented status",
    async (_name, c) => {
      const url = c.path ? c.path(h) : h.receiver.webhookUrl(h.secrets.devopsToken);
      const res = await send(url, { body: c.body, headers: c.headers });
      expect(res.status).toBe(c.status);
      const body = res.json();
      if (c.error) expect(body.error).toBe(c.error);
      if (c.message) expect(String(body.message)).toMatch(c.message);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it("stored nothing and is still healthy and serving", async () => {
    expect(await h.cosmos.storedMessages()).toEqual([]);
    expect((await send(`${h.receiver.url}/healthz`, { method: "GET" })).status).toBe(200);
    expect((await send(`${h.receiver.url}/readyz`, { method: "GET" })).status).toBe(200);
    const ok = await send(h.receiver.webhookUrl(h.secrets.devopsToken), {
      body: JSON.stringify(ev()),
      headers: JSON_CT,
    });
    expect(ok.status).toBe(201);
  });

  it("accepts a body of exactly 1 MB (Event Grid events reach 1 MB)", async () => {
    const base = JSON.stringify({ ...ev(), pad: "" });
    const body = base.replace('"pad":""', `"pad":"${"x".repeat(1024 * 1024 - base.length)}"`);
    expect(Buffer.byteLength(body)).toBe(1024 * 1024);
    const res = await send(h.receiver.webhookUrl(h.secrets.devopsToken), { body, headers: JSON_CT });
    expect(res.status).toBe(201);
  });
});
