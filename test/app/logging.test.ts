import http from "node:http";
import net from "node:net";
import { redactPath } from "../../app/logging";
import { mintToken } from "../../app/tokens";
import { sampleEvent } from "../../devkit/ado-events";
import { basic, postJson, send, startHarness, type Harness } from "./harness";

describe("log hygiene", () => {
  const lines: string[] = [];
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ logLevel: "info", logStream: { write: (line: string) => lines.push(line) } });
  });
  afterAll(() => h.close());

  it("writes one JSON line per request with the token redacted, and never a credential", async () => {
    const unknown = mintToken();
    // Another last character than the token's own (a fixed "0" equals it one time in 62).
    const token = h.secrets.devopsToken;
    const badChecksum = token.slice(0, -1) + (token.endsWith("0") ? "1" : "0");
    await postJson(h.receiver.webhookUrl(h.secrets.devopsToken), sampleEvent("git.push"));
    await postJson(h.receiver.webhookUrl(unknown), sampleEvent("git.push"));
    await postJson(h.receiver.webhookUrl(badChecksum), sampleEvent("git.push"));
    await postJson(h.receiver.webhookUrl("short-garbage-token"), "{not json");
    await postJson(`${h.receiver.url}/api/v1/systems/devops/webhooks`, sampleEvent("git.push"), {
      authorization: basic("user", h.secrets.basicPassword),
    });
    await send(`${h.receiver.url}/api/v1/messages?systemId=devops`, {
      method: "GET",
      headers: { authorization: `Bearer ${h.secrets.readToken}` },
    });
    await send(`${h.receiver.url}/no/such/${h.secrets.devopsToken}`, { method: "GET" });

    const all = lines.join("");
    for (const secret of [
      h.secrets.devopsToken,
      unknown,
      badChecksum,
      "short-garbage-token",
      h.secrets.basicPassword,
      h.secrets.readToken,
      Buffer.from(`user:${h.secrets.basicPassword}`).toString("base64"),
    ])
      expect(all).not.toContain(secret);
    expect(all).not.toMatch(/authorization/i);

    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = records.filter((r) => r.msg === "request");
    expect(requests).toHaveLength(7);
    expect(requests[0]).toMatchObject({
      method: "POST",
      url: "/api/v1/webhooks/[redacted]",
      statusCode: 201,
    });
    expect(requests.map((r) => r.statusCode)).toEqual([201, 404, 404, 404, 201, 200, 404]);
  });
});

/** Sends a request with the path exactly as given (no URL normalisation), over a fresh connection. */
function raw(
  base: string,
  opts: { method?: string; path: string; body?: string | Buffer; headers?: Record<string, string> },
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname, port, method: opts.method ?? "POST", path: opts.path, headers: opts.headers, agent: false },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject).end(opts.body);
  });
}

/** Every 8-character piece of a token's random part: none may show up anywhere. */
function pieces(token: string): string[] {
  const secret = token.slice(4);
  return Array.from({ length: secret.length - 7 }, (_, i) => secret.slice(i, i + 8));
}

function expectNoPieceOf(token: string, text: string, where: string): void {
  const leaked = pieces(token).filter((p) => text.includes(p));
  expect({ where, leaked }).toEqual({ where, leaked: [] });
}

const percentAll = (s: string) =>
  [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join("");

describe("tokens in hostile paths (issue 13, items 4 and 5)", () => {
  const lines: string[] = [];
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ logLevel: "info", logStream: { write: (line: string) => lines.push(line) } });
  });
  afterAll(() => h.close());
  beforeEach(() => lines.splice(0));
  const json = { "content-type": "application/json" };
  const body = () => JSON.stringify(sampleEvent("git.push"));

  it("accepts a token whose path is percent-encoded and logs neither it nor its encoded form", async () => {
    const t = h.secrets.devopsToken;
    for (const path of [
      `/api/v1/%77ebhooks/%61lw_${t.slice(4)}`,
      `/api/v1/webhooks/${percentAll(t)}`,
      `/api/v1/%77%65%62%68%6F%6F%6B%73/${t.slice(0, 10)}%${t.charCodeAt(10).toString(16)}${t.slice(11)}`,
    ]) {
      const res = await raw(h.receiver.url, { path, body: body(), headers: json });
      expect({ path, status: res.status }).toEqual({ path, status: 201 });
    }
    const all = lines.join("");
    expectNoPieceOf(t, all, "log");
    expectNoPieceOf(t, decodeURIComponent(all.replace(/%(?![0-9a-f]{2})/gi, "%25")), "decoded log");
    const requests = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => r.msg === "request");
    expect(requests.map((r) => r.url)).toEqual(Array(3).fill("/api/v1/webhooks/[redacted]"));
  });

  it("answers every 4xx of the token route without echoing the path, and logs it redacted", async () => {
    const t = h.secrets.devopsToken;
    const both = h.secrets.bothToken;
    const cases: {
      name: string;
      token: string;
      method?: string;
      path: string;
      body?: string | Buffer;
      headers?: Record<string, string>;
      status: number;
    }[] = [
      {
        name: "malformed escape after the token",
        token: t,
        path: `/api/v1/webhooks/${t}%zz`,
        body: body(),
        headers: json,
        status: 404,
      },
      {
        name: "malformed escape inside the token",
        token: t,
        path: `/api/v1/webhooks/${t.slice(0, 20)}%g1${t.slice(20)}`,
        body: body(),
        headers: json,
        status: 404,
      },
      {
        name: "truncated escape",
        token: t,
        path: `/api/v1/webhooks/${t}%`,
        body: body(),
        headers: json,
        status: 404,
      },
      {
        name: "escape of a NUL",
        token: t,
        path: `/api/v1/webhooks/${t}%00`,
        body: body(),
        headers: json,
        status: 404,
      },
      {
        name: "encoded slash",
        token: t,
        path: `/api/v1/webhooks/${t}%2Fx`,
        body: body(),
        headers: json,
        status: 404,
      },
      {
        name: "extra segment",
        token: t,
        path: `/api/v1/webhooks/${t}/x`,
        body: body(),
        headers: json,
        status: 404,
      },
      {
        name: "double-encoded token",
        token: t,
        path: `/api/v1/webhooks/%2561${t.slice(1)}`,
        body: body(),
        headers: json,
        status: 404,
      },
      { name: "GET", token: t, method: "GET", path: `/api/v1/webhooks/${t}`, status: 404 },
      {
        name: "OPTIONS without origin",
        token: t,
        method: "OPTIONS",
        path: `/api/v1/webhooks/${t}`,
        status: 400,
      },
      {
        name: "not JSON",
        token: t,
        path: `/api/v1/webhooks/${t}`,
        body: "{nope",
        headers: json,
        status: 400,
      },
      { name: "empty body", token: t, path: `/api/v1/webhooks/${t}`, body: "", headers: json, status: 400 },
      {
        name: "invalid UTF-8",
        token: t,
        path: `/api/v1/webhooks/${t}`,
        body: Buffer.from([0x7b, 0xff, 0x7d]),
        headers: json,
        status: 400,
      },
      {
        name: "no id",
        token: t,
        path: `/api/v1/webhooks/${t}`,
        body: '{"eventType":"x","resource":{}}',
        headers: json,
        status: 400,
      },
      {
        name: "XML",
        token: t,
        path: `/api/v1/webhooks/${t}`,
        body: "<a/>",
        headers: { "content-type": "application/xml" },
        status: 415,
      },
      {
        name: "latin1",
        token: t,
        path: `/api/v1/webhooks/${t}`,
        body: body(),
        headers: { "content-type": "application/json; charset=latin1" },
        status: 415,
      },
      {
        name: "gzip",
        token: t,
        path: `/api/v1/webhooks/${t}`,
        body: body(),
        headers: { ...json, "content-encoding": "gzip" },
        status: 415,
      },
      {
        name: "over 1 MB",
        token: t,
        path: `/api/v1/webhooks/${t}`,
        body: `{"x":"${"a".repeat(1024 * 1024)}"}`,
        headers: json,
        status: 413,
      },
      {
        name: "token of 300 characters",
        token: t,
        path: `/api/v1/webhooks/${t.repeat(8)}`,
        body: body(),
        headers: json,
        status: 404,
      },
      {
        name: "Basic password missing (requireBoth)",
        token: both,
        path: `/api/v1/webhooks/${both}`,
        body: body(),
        headers: json,
        status: 401,
      },
    ];
    for (const c of cases) {
      const res = await raw(h.receiver.url, c);
      expect({ case: c.name, status: res.status }).toEqual({ case: c.name, status: c.status });
      expectNoPieceOf(c.token, res.body, `answer to ${c.name}`);
      expect(res.body).not.toMatch(/webhooks/);
    }
    const all = lines.join("");
    expectNoPieceOf(t, all, "log");
    expectNoPieceOf(both, all, "log");
    const requests = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((r) => r.msg === "request");
    expect(requests).toHaveLength(cases.length);
  });

  it("answers a request line Node cannot parse with a bare 400 that echoes nothing", async () => {
    const t = h.secrets.devopsToken;
    const { hostname, port } = new URL(h.receiver.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () =>
        socket.write(`POST /api/v1/webhooks/${t} x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`),
      );
      let data = "";
      socket.setEncoding("utf8").on("data", (d: string) => (data += d));
      socket.on("end", () => resolve(data)).on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expectNoPieceOf(t, answer, "answer");
    expectNoPieceOf(t, lines.join(""), "log");
  });
});

describe("redactPath", () => {
  it("redacts the token segment of webhook paths and any alw_ token anywhere", () => {
    const t = mintToken();
    expect(redactPath(`/api/v1/webhooks/${t}?x=1`)).toBe("/api/v1/webhooks/[redacted]?x=1");
    expect(redactPath(`/api/v1/webhooks/anything`)).toBe("/api/v1/webhooks/[redacted]");
    expect(redactPath(`/other/${t}`)).toBe("/other/alw_[redacted]");
    expect(redactPath("/healthz")).toBe("/healthz");
  });

  it("redacts them percent-encoded too, once or more, in any hex case", () => {
    const t = mintToken();
    expect(redactPath(`/api/v1/%77ebhooks/%61lw_${t.slice(4)}`)).toBe("/api/v1/%77ebhooks/[redacted]");
    expect(redactPath(`/api/v1/%2577%65BHOOKS/x`)).toBe("/api/v1/%2577%65BHOOKS/[redacted]");
    expect(redactPath(`/x?t=%2561%6C%77%5F${t.slice(4)}`)).toBe("/x?t=alw_[redacted]");
    expect(redactPath(`/x?t=alw_%41%42%43%44%45`)).toBe("/x?t=alw_[redacted]");
  });
});

describe("requests Node cannot parse, at LOG_LEVEL=trace", () => {
  const lines: string[] = [];
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ logLevel: "trace", logStream: { write: (line: string) => lines.push(line) } });
  });
  afterAll(() => h.close());

  /** The log as text, plus every array of byte values in it decoded (pino prints a Buffer as numbers). */
  function logText(): string {
    const all = lines.join("");
    const buffers = [...all.matchAll(/\[(\d{1,3}(?:,\d{1,3})+)\]/g)].map((m) =>
      Buffer.from(m[1].split(",").map(Number)).toString("latin1"),
    );
    return [all, ...buffers].join("\n");
  }

  it("logs the client error without the request's bytes (URL token, Authorization header)", async () => {
    const t = h.secrets.devopsToken;
    const credential = Buffer.from(`hookfleet:${h.secrets.bothPassword}`).toString("base64");
    const { hostname, port } = new URL(h.receiver.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () =>
        socket.write(
          `POST /api/v1/webhooks/${t} x HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${credential}\r\n` +
            "Content-Length: 0\r\n\r\n",
        ),
      );
      let data = "";
      socket.setEncoding("utf8").on("data", (d: string) => (data += d));
      socket.on("end", () => resolve(data)).on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expectNoPieceOf(t, answer, "answer");
    const text = logText();
    expectNoPieceOf(t, text, "log");
    expect(text).not.toContain(credential);
    expect(text).not.toMatch(/authorization/i);
    // It is still logged at trace (by fastify's own handler), with its code.
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter((r) => r.msg === "client error")).toEqual([
      expect.objectContaining({ err: expect.objectContaining({ code: "HPE_INVALID_CONSTANT" }) }),
    ]);
  });
});
