/**
 * The receiver as it runs in the container (`tsx app/main.ts`), with OTEL_EXPORTER_OTLP_ENDPOINT
 * pointing at a local OTLP capture server: real OpenTelemetry exporters over real HTTP, short
 * export intervals through the standard OTEL_* variables. Deliveries of every kind go in; what
 * comes out is spans and metrics with the names the alerts query, and never a secret or a body.
 */
import { randomUUID } from "node:crypto";
import {
  attrs,
  deliveryOutcomes,
  metrics,
  rejectReasons,
  serviceNames,
  spans,
} from "../../app/telemetry/names";
import { mintPassword, mintToken, sha256Hex } from "../../app/tokens";
import {
  attributesRead,
  dashboardQueries,
  failedDeliveriesQuery,
  quietOrgQuery,
} from "../../components/receiver/telemetry-kql";
import { basic, postJson, send, startStoreProxy } from "../app/harness";
import { sampleEvent } from "../../devkit/ado-events";
import { startCosmosServer, type CosmosTestServer } from "../support/cosmos-server";
import { startOtlpCapture, type CapturedSpan, type OtlpCapture } from "../support/otlp-capture";
import { startProcess, unreadableAttributes, valuesOf, type RunningProcess } from "./helpers";

jest.setTimeout(90_000);

const token = mintToken();
const password = mintPassword();
const readToken = mintToken();
/** Written into the delivered bodies: it must never leave the process except into the store. */
const bodySentinel = `body-sentinel-${randomUUID()}`;

let capture: OtlpCapture;
let cosmos: CosmosTestServer;
let proxy: Awaited<ReturnType<typeof startStoreProxy>>;
let receiver: RunningProcess;
let base: string;

const deliveries = () => capture.spans().filter((s) => s.name === spans.delivery.name);
const byOutcome = (outcome: string) => deliveries().filter((s) => s.attributes[attrs.outcome] === outcome);

beforeAll(async () => {
  capture = await startOtlpCapture();
  cosmos = await startCosmosServer();
  proxy = await startStoreProxy(cosmos.endpoint);
  receiver = startProcess("app/main.ts", [], {
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    HOOKFLEET_MODE: "local",
    COSMOS_ENDPOINT: proxy.endpoint,
    COSMOS_KEY: cosmos.key,
    HOOKFLEET_SYSTEMS: JSON.stringify([
      {
        id: "devops",
        storageMode: "full",
        retentionDays: 30,
        basicPasswords: [{ sha256: sha256Hex(password) }],
      },
    ]),
    HOOKFLEET_URL_TOKENS: JSON.stringify([{ sha256: sha256Hex(token), systemId: "devops" }]),
    HOOKFLEET_READ_TOKENS: JSON.stringify([{ sha256: sha256Hex(readToken) }]),
    OTEL_EXPORTER_OTLP_ENDPOINT: capture.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "200",
    OTEL_METRIC_EXPORT_INTERVAL: "500",
  });
  base = (await receiver.waitForLine(/receiver listening on (http:\/\/[^\s,;]+)/))[1];
});

afterAll(async () => {
  receiver?.child.kill("SIGTERM");
  await receiver?.exited();
  await proxy?.close();
  await cosmos?.close();
  await capture?.close();
});

function event(org = "contoso") {
  const e = sampleEvent("git.push", { org });
  e.message = { text: bodySentinel, html: bodySentinel, markdown: bodySentinel };
  return e;
}

test("a POST shows up as a delivery span, its store span and the deliveries metric within 30 s", async () => {
  const started = Date.now();
  const res = await postJson(`${base}/api/v1/webhooks/${token}`, event());
  expect(res.status).toBe(201);
  await capture.waitFor(
    () =>
      byOutcome(deliveryOutcomes.stored).length > 0 &&
      capture.points().some((p) => p.metric === metrics.deliveries.name),
    "the delivery span and the deliveries metric",
    30_000,
  );
  expect(Date.now() - started).toBeLessThan(30_000);

  const delivery = byOutcome(deliveryOutcomes.stored)[0];
  expect(delivery.kind).toBe(2); // server → AppRequests
  expect(delivery.resource["service.name"]).toBe(serviceNames.receiver);
  expect(delivery.attributes).toMatchObject({
    [attrs.route]: "token",
    [attrs.system]: "devops",
    [attrs.eventType]: "git.push",
    [attrs.org]: "contoso",
    [attrs.outcome]: "stored",
    [attrs.httpStatus]: 201,
    [attrs.httpRoute]: "/api/v1/webhooks/:token",
    [attrs.events]: 1,
    [attrs.stored]: 1,
  });
  await capture.waitFor(
    () => capture.spans().some((s) => s.name === "hookfleet.store.create" && s.traceId === delivery.traceId),
    "its store span",
  );
  const store = capture
    .spans()
    .find((s) => s.name === "hookfleet.store.create" && s.traceId === delivery.traceId)!;
  expect(store).toMatchObject({ kind: 3, parentSpanId: delivery.spanId });
  expect(store.attributes).toMatchObject({ [attrs.storeOperation]: "create", [attrs.storeOutcome]: "ok" });

  const point = capture.points().find((p) => p.metric === metrics.deliveries.name)!;
  expect(point.attributes).toMatchObject({
    [attrs.system]: "devops",
    [attrs.eventType]: "git.push",
    [attrs.outcome]: "stored",
    [attrs.org]: "contoso",
  });
});

test("each outcome: duplicate, Basic route, refused token, wrong password, bad JSON, store throttling (503)", async () => {
  const e = event("fabrikam");
  expect((await postJson(`${base}/api/v1/webhooks/${token}`, e)).status).toBe(201);
  expect((await postJson(`${base}/api/v1/webhooks/${token}`, e)).status).toBe(201);
  expect(
    (
      await postJson(`${base}/api/v1/systems/devops/webhooks`, event(), {
        authorization: basic("x", password),
      })
    ).status,
  ).toBe(201);
  expect((await postJson(`${base}/api/v1/webhooks/${mintToken()}`, event())).status).toBe(404);
  expect(
    (
      await postJson(`${base}/api/v1/systems/devops/webhooks`, event(), {
        authorization: basic("x", "wrong"),
      })
    ).status,
  ).toBe(401);
  expect(
    (
      await send(`${base}/api/v1/webhooks/${token}`, {
        body: `{"id": "${bodySentinel}"`,
        headers: { "content-type": "application/json" },
      })
    ).status,
  ).toBe(400);
  proxy.mode = { kind: "throttle", retryAfterMs: 5 };
  try {
    expect((await postJson(`${base}/api/v1/webhooks/${token}`, event())).status).toBe(503);
  } finally {
    proxy.mode = { kind: "pass" };
  }

  await capture.waitFor(() => byOutcome(deliveryOutcomes.unavailable).length > 0, "the 503 span");
  expect(byOutcome(deliveryOutcomes.duplicate)[0].attributes).toMatchObject({
    [attrs.org]: "fabrikam",
    [attrs.stored]: 0,
    [attrs.duplicates]: 1,
  });
  expect(
    deliveries().some(
      (s) => s.attributes[attrs.route] === "basic" && s.attributes[attrs.outcome] === "stored",
    ),
  ).toBe(true);
  const rejected = byOutcome(deliveryOutcomes.rejected);
  expect(rejected.map((s) => s.attributes[attrs.rejectReason]).sort()).toEqual(
    [rejectReasons.invalidJson, rejectReasons.notFound, rejectReasons.unauthorized].sort(),
  );
  // Refused before authentication: no system, no event type known.
  expect(
    rejected.find((s) => s.attributes[attrs.rejectReason] === rejectReasons.notFound)!.attributes,
  ).toMatchObject({
    [attrs.eventType]: "unknown",
    [attrs.httpStatus]: 404,
  });
  const unavailable = byOutcome(deliveryOutcomes.unavailable)[0];
  expect(unavailable.attributes).toMatchObject({ [attrs.httpStatus]: 503, [attrs.eventType]: "git.push" });
  expect(unavailable.statusCode).toBe(2); // error: Application Insights shows it failed
  await capture.waitFor(
    () =>
      capture
        .spans()
        .some((s) => s.traceId === unavailable.traceId && s.attributes[attrs.storeOutcome] === "unavailable"),
    "the throttled store span",
  );

  await capture.waitFor(
    () =>
      capture
        .points()
        .some(
          (p) =>
            p.metric === metrics.storeDuration.name && p.attributes[attrs.storeOutcome] === "unavailable",
        ) &&
      capture
        .points()
        .some((p) => p.metric === metrics.deliveries.name && p.attributes[attrs.outcome] === "unavailable"),
    "metrics of the 503",
  );
  const deliveryPoints = capture.points().filter((p) => p.metric === metrics.deliveries.name);
  expect(new Set(deliveryPoints.map((p) => p.attributes[attrs.outcome]))).toEqual(
    new Set(["stored", "duplicate", "rejected", "unavailable"]),
  );
});

test("the CloudEvents handshake is a delivery span of its own route kind; other routes make none", async () => {
  const read = await send(`${base}/api/v1/messages?systemId=devops`, {
    method: "GET",
    headers: { authorization: `Bearer ${readToken}` },
  });
  expect(read.status).toBe(200);
  expect((await send(`${base}/healthz`, { method: "GET" })).status).toBe(200);
  const handshake = await send(`${base}/api/v1/webhooks/${token}`, {
    method: "OPTIONS",
    headers: { "webhook-request-origin": "eventgrid.azure.net" },
  });
  expect(handshake.status).toBe(200);

  await capture.waitFor(() => byOutcome(deliveryOutcomes.handshake).length > 0, "the handshake span");
  expect(byOutcome(deliveryOutcomes.handshake)[0].attributes).toMatchObject({
    [attrs.route]: "handshake",
    [attrs.system]: "devops",
    [attrs.httpMethod]: "OPTIONS",
    [attrs.httpRoute]: "/api/v1/webhooks/:token",
    [attrs.httpStatus]: 200,
  });
  // Spans are exported in the order they end: the read API's and /healthz's would be here by now.
  expect(new Set(deliveries().map((s) => s.attributes[attrs.httpRoute]))).toEqual(
    new Set(["/api/v1/webhooks/:token", "/api/v1/systems/:systemId/webhooks"]),
  );
  expect(new Set(deliveries().map((s) => s.attributes[attrs.route]))).toEqual(
    new Set(["token", "basic", "handshake"]),
  );
});

test("no token, password, read token, Basic header or body text in any span, metric or log line", async () => {
  // Make sure everything recorded so far is exported: the counters are cumulative, spans batched.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const exported = capture.allText();
  const logs = receiver.stdout() + receiver.stderr();
  expect(exported.length).toBeGreaterThan(1000);
  expect(logs).toMatch(/"statusCode":201/);
  for (const secret of [token, password, readToken, bodySentinel, basic("x", password).slice(6)]) {
    expect({ secret: secret.slice(0, 8), inTelemetry: exported.includes(secret) }).toEqual({
      secret: secret.slice(0, 8),
      inTelemetry: false,
    });
    expect({ secret: secret.slice(0, 8), inLogs: logs.includes(secret) }).toEqual({
      secret: secret.slice(0, 8),
      inLogs: false,
    });
  }
});

describe("the alert and dashboard queries read what the receiver emits", () => {
  let captured: CapturedSpan[];
  beforeAll(() => {
    captured = capture.spans();
  });

  it("failed deliveries: the route and outcome attributes, with the outcome values it counts", () => {
    const { query } = failedDeliveriesQuery(5, 10);
    expect(unreadableAttributes(query, attributesRead(query), captured)).toEqual([]);
    for (const value of valuesOf(captured, attrs.route)) expect(query).toContain(`"${value}"`);
    expect(valuesOf(captured, attrs.outcome)).toContain(deliveryOutcomes.unavailable);
    expect(query).toContain(`"${deliveryOutcomes.unavailable}"`);
  });

  it("quiet organization: stored deliveries by org (the heal side is checked with the heal job)", () => {
    const { query } = quietOrgQuery(24);
    const receiverSide = attributesRead(query).filter((k) => k !== attrs.hooks);
    expect(unreadableAttributes(query, receiverSide, captured)).toEqual([]);
    expect(valuesOf(captured, attrs.org)).toEqual(new Set(["contoso", "fabrikam", "unknown"]));
  });

  it("dashboard: deliveries per event type and outcome, store latency", () => {
    for (const query of [
      dashboardQueries.deliveriesByEventType,
      dashboardQueries.deliveriesByOutcome,
      dashboardQueries.storeLatency,
    ])
      expect(unreadableAttributes(query, attributesRead(query), captured)).toEqual([]);
    expect(captured.some((s) => s.kind === 3 && s.name.startsWith(`${spans.store.name}.`))).toBe(true);
  });
});
