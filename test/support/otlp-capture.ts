/**
 * A local OTLP receiver for tests: an HTTP server that accepts what the real OpenTelemetry
 * exporters POST (OTLP/HTTP, JSON or protobuf, to /v1/traces and /v1/metrics), answers 200 as a
 * collector does, and keeps every request's raw bytes. JSON payloads are flattened into spans and
 * metric points to assert on; protobuf payloads are searched as bytes (strings are stored as UTF-8
 * in protobuf, so names and secret values show up verbatim).
 *
 * Also a gRPC variant (`startOtlpGrpcCapture`) speaking the OTLP collector services with
 * @grpc/grpc-js, which is what the Container Apps managed agent accepts.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { startOtlpGrpcServer } from "../../devkit/otlp-grpc";

export interface CapturedRequest {
  path: string;
  contentType: string;
  body: Buffer;
}

/** An OTLP attribute value as JSON encodes it. */
interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
}
interface KeyValue {
  key: string;
  value: AnyValue;
}

export type AttrValue = string | number | boolean | AttrValue[] | undefined;

function plain(v: AnyValue | undefined): AttrValue {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(plain);
  return undefined;
}

export function attributesOf(list: KeyValue[] | undefined): Record<string, AttrValue> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, plain(kv.value)]));
}

export interface CapturedSpan {
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, AttrValue>;
  resource: Record<string, AttrValue>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
}

export interface CapturedPoint {
  metric: string;
  unit?: string;
  attributes: Record<string, AttrValue>;
  /** Sum or gauge value, or a histogram's count. */
  value: number;
  /** Histogram sum, when a histogram. */
  sum?: number;
  resource: Record<string, AttrValue>;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- OTLP JSON documents, walked defensively */
export function spansOf(requests: CapturedRequest[]): CapturedSpan[] {
  const out: CapturedSpan[] = [];
  for (const r of requests) {
    if (r.path !== "/v1/traces" || !r.contentType.includes("json")) continue;
    const doc = JSON.parse(r.body.toString("utf8")) as any;
    for (const rs of doc.resourceSpans ?? []) {
      const resource = attributesOf(rs.resource?.attributes);
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? [])
          out.push({
            name: s.name,
            kind: s.kind,
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId || undefined,
            attributes: attributesOf(s.attributes),
            resource,
            statusCode: s.status?.code ?? 0,
          });
    }
  }
  return out;
}

export function pointsOf(requests: CapturedRequest[]): CapturedPoint[] {
  const out: CapturedPoint[] = [];
  for (const r of requests) {
    if (r.path !== "/v1/metrics" || !r.contentType.includes("json")) continue;
    const doc = JSON.parse(r.body.toString("utf8")) as any;
    for (const rm of doc.resourceMetrics ?? []) {
      const resource = attributesOf(rm.resource?.attributes);
      for (const sm of rm.scopeMetrics ?? [])
        for (const m of sm.metrics ?? []) {
          const data = m.sum ?? m.gauge ?? m.histogram;
          for (const p of data?.dataPoints ?? [])
            out.push({
              metric: m.name,
              unit: m.unit,
              attributes: attributesOf(p.attributes),
              value: m.histogram ? Number(p.count) : Number(p.asInt ?? p.asDouble ?? 0),
              sum: m.histogram ? Number(p.sum) : undefined,
              resource,
            });
        }
    }
  }
  return out;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface OtlpCapture {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT, e.g. http://127.0.0.1:43121 */
  url: string;
  requests: CapturedRequest[];
  /** Every byte received, as one latin1 string (for "this secret never appears" checks). */
  allText(): string;
  spans(): CapturedSpan[];
  points(): CapturedPoint[];
  /** Resolves when `test` holds for what was captured (polled), or rejects after `ms`. */
  waitFor(test: () => boolean, what: string, ms?: number): Promise<void>;
  close(): Promise<void>;
}

async function waitUntil(test: () => boolean, what: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!test()) {
    if (Date.now() > until) throw new Error(`OTLP capture: timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function captureApi(url: string, requests: CapturedRequest[], close: () => Promise<void>): OtlpCapture {
  return {
    url,
    requests,
    allText: () => requests.map((r) => r.body.toString("latin1")).join("\n"),
    spans: () => spansOf(requests),
    points: () => pointsOf(requests),
    waitFor: (test, what, ms = 30_000) => waitUntil(test, what, ms),
    close,
  };
}

/** OTLP/HTTP capture on a free loopback port. */
export async function startOtlpCapture(): Promise<OtlpCapture> {
  const requests: CapturedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      const contentType = String(req.headers["content-type"] ?? "");
      requests.push({ path: req.url ?? "", contentType, body });
      // An empty ExportServiceResponse: `{}` in JSON, zero bytes in protobuf.
      if (contentType.includes("json")) res.writeHead(200, { "content-type": "application/json" }).end("{}");
      else res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return captureApi(`http://127.0.0.1:${port}`, requests, async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
}

/** OTLP/gRPC capture (devkit/otlp-grpc.ts): each Export call's message kept as raw protobuf bytes. */
export async function startOtlpGrpcCapture(): Promise<OtlpCapture> {
  const requests: CapturedRequest[] = [];
  const server = await startOtlpGrpcServer((path, body) =>
    requests.push({ path, contentType: "application/grpc", body }),
  );
  return captureApi(server.url, requests, () => {
    server.close();
    return Promise.resolve();
  });
}
