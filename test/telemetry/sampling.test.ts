/**
 * Delivery trace sampling (issue 16's overhead target): the pure sampler against streams whose true
 * counts we know, and its span processor inside the real OpenTelemetry SDK (TracerProvider, the
 * SDK's in-memory exporter), as the receiver runs it.
 */
import { SpanKind, trace, ROOT_CONTEXT } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { attrs, metrics, spans } from "../../app/telemetry/names";
import { DeliveryTraceSampler, deliveryStratum, samplingWindowMs } from "../../app/telemetry/sampling";
import { DeliverySamplingProcessor, maxHeldMs } from "../../app/telemetry/sampling-processor";
import {
  defaultDeliveryTracesPerSecond,
  deliveryTracesPerSecond,
  startTelemetry,
  TelemetryConfigError,
} from "../../app/telemetry/sdk";
import { mintToken, sha256Hex } from "../../app/tokens";
import { sampleEvent } from "../../devkit/ado-events";
import { postJson } from "../app/harness";
import { startOtlpCapture, type OtlpCapture } from "../support/otlp-capture";
import { startProcess, type RunningProcess } from "./helpers";

/** A seeded uniform generator (mulberry32), so that a failing case can be replayed. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `perSecond` deliveries a second for `seconds`, evenly spaced: the weights of each. */
function steady(
  sampler: DeliveryTraceSampler,
  stratum: string,
  perSecond: number,
  seconds: number,
  from = 0,
) {
  const weights: number[] = [];
  for (let i = 0; i < perSecond * seconds; i++)
    weights.push(sampler.weight(stratum, from + (i * 1000) / perSecond));
  return weights;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
const stored = deliveryStratum("stored", "contoso");

describe("the delivery trace sampler", () => {
  it("keeps every delivery, with weight 1, while a stratum stays under its limit", () => {
    const sampler = new DeliveryTraceSampler(100, seeded(1));
    const weights = steady(sampler, stored, 90, 10);
    expect(new Set(weights)).toEqual(new Set([1]));
  });

  it("above the limit keeps about the limit, and the weights add up to the deliveries exactly", () => {
    const sampler = new DeliveryTraceSampler(100, seeded(2));
    const weights = steady(sampler, stored, 2000, 10);
    const kept = weights.filter((w) => w > 0);
    // The first window is kept whole (nothing came before it), then one in 20.
    expect(kept.length).toBeGreaterThan(100 * 10 * 0.9);
    expect(kept.length).toBeLessThan(100 * 10 * 1.1 + 2000 * (samplingWindowMs / 1000));
    expect(new Set(kept.slice(-100))).toEqual(new Set([20]));
    expect(sum(weights)).toBe(20_000);
  });

  it("counts bursty traffic without bias: weights add up to the deliveries on average", () => {
    // Bursts of random size at random moments, as ADO sends after a push or a retry round.
    const errors: number[] = [];
    for (let seed = 1; seed <= 40; seed++) {
      const random = seeded(seed);
      const sampler = new DeliveryTraceSampler(10, seeded(1000 + seed));
      let t = 0;
      let n = 0;
      let total = 0;
      for (let burst = 0; burst < 50; burst++) {
        t += random() * 400;
        const size = 1 + Math.floor(random() * 60);
        for (let i = 0; i < size; i++, n++) total += sampler.weight(stored, t + i * random() * 5);
        t += size * 5;
      }
      errors.push((total - n) / n);
    }
    const meanError = sum(errors) / errors.length;
    // Unbiased: the mean relative error over 40 runs is near 0 (a fixed start would be well above).
    expect(Math.abs(meanError)).toBeLessThan(0.03);
    for (const e of errors) expect(Math.abs(e)).toBeLessThan(0.25);
  });

  it("thins each outcome and organization on its own: a quiet one beside a busy one is kept whole", () => {
    const sampler = new DeliveryTraceSampler(100, seeded(3));
    const quietOrg = deliveryStratum("stored", "fabrikam");
    const unavailable = deliveryStratum("unavailable", "contoso");
    const quiet: number[] = [];
    const failed: number[] = [];
    for (let i = 0; i < 50_000; i++) {
      const t = i / 5; // 5000 deliveries a second from contoso
      sampler.weight(stored, t);
      if (i % 5000 === 0) quiet.push(sampler.weight(quietOrg, t));
      if (i % 100 === 0) failed.push(sampler.weight(unavailable, t));
    }
    expect(quiet).toEqual(new Array(10).fill(1));
    expect(failed).toEqual(new Array(500).fill(1));
  });

  it("keeps the first delivery after a busy stratum fell idle (the quiet-organization alert's case)", () => {
    const sampler = new DeliveryTraceSampler(10, seeded(4));
    const busy = steady(sampler, stored, 5000, 2);
    expect(Math.max(...busy)).toBeGreaterThan(100);
    const later = 2000 + 10 * 60 * 60 * 1000;
    expect(sampler.weight(stored, later)).toBe(1);
    expect(sampler.weight(stored, later + 1)).toBe(1);
  });

  it("refuses a limit that is not a positive number", () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => new DeliveryTraceSampler(bad)).toThrow(RangeError);
  });
});

describe("HOOKFLEET_DELIVERY_TRACES_PER_SECOND", () => {
  it("defaults to 100 per second; `all` turns sampling off; decimals are allowed", () => {
    expect(defaultDeliveryTracesPerSecond).toBe(100);
    expect(deliveryTracesPerSecond({})).toBe(100);
    expect(deliveryTracesPerSecond({ HOOKFLEET_DELIVERY_TRACES_PER_SECOND: " all " })).toBeUndefined();
    expect(deliveryTracesPerSecond({ HOOKFLEET_DELIVERY_TRACES_PER_SECOND: "0.5" })).toBe(0.5);
    expect(deliveryTracesPerSecond({ HOOKFLEET_DELIVERY_TRACES_PER_SECOND: "250" })).toBe(250);
  });

  it("is read by the receiver only: the heal job (no delivery spans) neither samples nor minds a bad value", async () => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:9",
      HOOKFLEET_DELIVERY_TRACES_PER_SECOND: "lots",
    };
    const heal = await startTelemetry(env, { serviceName: "hookfleet-heal" });
    expect(heal.description).not.toMatch(/sampled/);
    await heal.shutdown();
    await expect(
      startTelemetry(env, { serviceName: "hookfleet-receiver", sampleDeliveryTraces: true }),
    ).rejects.toThrow(TelemetryConfigError);
    const receiver = await startTelemetry(
      { ...env, HOOKFLEET_DELIVERY_TRACES_PER_SECOND: "25" },
      { serviceName: "hookfleet-receiver", sampleDeliveryTraces: true },
    );
    expect(receiver.description).toMatch(
      /; delivery traces sampled above 25\/s per outcome and organization$/,
    );
    await receiver.shutdown();
  });

  it.each(["0", "-5", "lots", "1e3", "ALL", "0.0"])("refuses %p, naming the variable", (v) => {
    expect(() => deliveryTracesPerSecond({ HOOKFLEET_DELIVERY_TRACES_PER_SECOND: v })).toThrow(
      new TelemetryConfigError(
        `HOOKFLEET_DELIVERY_TRACES_PER_SECOND must be a number of traces per second above 0, or "all" (got "${v}")`,
      ),
    );
  });
});

describe("the sampling span processor in the OpenTelemetry SDK", () => {
  let clock: number;
  let exporter: InMemorySpanExporter;
  let processor: DeliverySamplingProcessor;
  let provider: TracerProvider;

  function setUp(perSecond: number) {
    clock = 0;
    exporter = new InMemorySpanExporter();
    processor = new DeliverySamplingProcessor(
      new SimpleSpanProcessor({ exporter }),
      new DeliveryTraceSampler(perSecond, seeded(5)),
      () => clock,
    );
    provider = new TracerProvider({ spanProcessors: [processor] });
  }
  afterEach(() => provider.shutdown());

  /** One delivery as the receiver traces it: a server span, two store spans ending first. */
  function delivery(outcome: string, org: string) {
    const tracer = provider.getTracer("t");
    const root = tracer.startSpan(spans.delivery.name, { kind: SpanKind.SERVER }, ROOT_CONTEXT);
    const parent = trace.setSpan(ROOT_CONTEXT, root);
    for (const op of ["create", "get"])
      tracer.startSpan(`${spans.store.name}.${op}`, { kind: SpanKind.CLIENT }, parent).end();
    root.setAttribute(attrs.outcome, outcome);
    root.setAttribute(attrs.org, org);
    root.end();
    return root.spanContext().traceId;
  }

  const exported = () => exporter.getFinishedSpans();

  it("passes a kept delivery on whole: the delivery span and its store spans, each with the weight", () => {
    setUp(100);
    const traceId = delivery("stored", "contoso");
    expect(
      exported().map((s) => [s.name, s.spanContext().traceId, s.attributes[attrs.samplingWeight]]),
    ).toEqual([
      ["hookfleet.store.create", traceId, 1],
      ["hookfleet.store.get", traceId, 1],
      ["hookfleet.delivery", traceId, 1],
    ]);
    // The copy keeps what the exporter reads: parent, times, the span's own attributes.
    const [create, , root] = exported();
    expect(create.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(create.duration).toEqual(expect.any(Array));
    expect(root.attributes[attrs.org]).toBe("contoso");
    expect(processor.heldCount).toBe(0);
  });

  it("drops a thinned delivery whole, and the kept ones stand for the dropped", () => {
    setUp(10); // one trace per 100 ms window per stratum
    for (let i = 0; i < 200; i++) {
      clock = i; // 1000 deliveries a second for 200 ms
      delivery("stored", "contoso");
    }
    const roots = exported().filter((s) => s.name === spans.delivery.name);
    expect(roots.length).toBeLessThan(200);
    expect(exported().length).toBe(roots.length * 3);
    expect(sum(roots.map((s) => Number(s.attributes[attrs.samplingWeight])))).toBe(200);
    const byTrace = new Map<string, unknown[]>();
    for (const s of exported())
      byTrace.set(s.spanContext().traceId, [
        ...(byTrace.get(s.spanContext().traceId) ?? []),
        s.attributes[attrs.samplingWeight],
      ]);
    for (const weights of byTrace.values()) expect(new Set(weights).size).toBe(1);
  });

  it("passes other spans straight through, without a weight", () => {
    setUp(1);
    const tracer = provider.getTracer("t");
    const run = tracer.startSpan(spans.healRun.name, { kind: SpanKind.INTERNAL }, ROOT_CONTEXT);
    tracer.startSpan(`${spans.store.name}.create`, {}, trace.setSpan(ROOT_CONTEXT, run)).end();
    run.end();
    expect(exported().map((s) => [s.name, s.attributes[attrs.samplingWeight]])).toEqual([
      ["hookfleet.store.create", undefined],
      ["hookfleet.heal.run", undefined],
    ]);
  });

  it("gives up a delivery span that never ends, so held spans cannot pile up", () => {
    setUp(100);
    const tracer = provider.getTracer("t");
    const abandoned = tracer.startSpan(spans.delivery.name, { kind: SpanKind.SERVER }, ROOT_CONTEXT);
    tracer.startSpan(`${spans.store.name}.create`, {}, trace.setSpan(ROOT_CONTEXT, abandoned)).end();
    expect(processor.heldCount).toBe(1);
    clock = maxHeldMs + 1;
    delivery("stored", "contoso");
    expect(processor.heldCount).toBe(0);
    expect(exported()).toHaveLength(3);
  });
});

describe("a receiver process sampling its delivery traces, exporting over OTLP/HTTP", () => {
  let capture: OtlpCapture;
  let receiver: RunningProcess;
  let url: string;
  const token = mintToken();

  // A process of its own: the OTLP exporters load their transport with a dynamic import(), which
  // jest's module system refuses (test/telemetry/helpers.ts).
  beforeAll(async () => {
    capture = await startOtlpCapture();
    receiver = startProcess("app/main.ts", [], {
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      HOOKFLEET_SYSTEMS: JSON.stringify([{ id: "devops", storageMode: "lean", retentionDays: 1 }]),
      HOOKFLEET_URL_TOKENS: JSON.stringify([{ sha256: sha256Hex(token), systemId: "devops" }]),
      HOOKFLEET_READ_TOKENS: "[]",
      OTEL_EXPORTER_OTLP_ENDPOINT: capture.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
      OTEL_METRIC_EXPORT_INTERVAL: "200",
      HOOKFLEET_DELIVERY_TRACES_PER_SECOND: "2",
    });
    url = `${(await receiver.waitForLine(/receiver listening on (http:\/\/[^\s,;]+)/))[1]}/api/v1/webhooks/${token}`;
  });
  afterAll(async () => {
    receiver?.child.kill("SIGTERM");
    await receiver?.exited();
    await capture?.close();
  });

  it("exports fewer traces than deliveries, weighted to count them all, and a quiet org's only one", async () => {
    expect(receiver.stderr()).toMatch(/delivery traces sampled above 2\/s per outcome and organization/);
    const busy = 120;
    // In rounds of 8, at least 20 ms apart: the burst spans several 100 ms sampling windows.
    for (let i = 0; i < busy; i += 8, await new Promise((r) => setTimeout(r, 20)))
      await Promise.all(
        Array.from({ length: 8 }, async () =>
          expect((await postJson(url, sampleEvent("git.push", { org: "contoso" }))).status).toBe(201),
        ),
      );
    expect((await postJson(url, sampleEvent("git.push", { org: "fabrikam" }))).status).toBe(201);

    const deliveries = () => capture.spans().filter((s) => s.name === spans.delivery.name);
    const from = (org: string) => deliveries().filter((s) => s.attributes[attrs.org] === org);
    const counted = () =>
      capture
        .points()
        .filter((p) => p.metric === metrics.deliveries.name && p.attributes[attrs.org] === "contoso")
        .reduce((a, p) => Math.max(a, p.value), 0);
    // Spans end in onResponse, just after the answer left; batches go out every 100 ms.
    await capture.waitFor(
      () => from("fabrikam").length > 0 && counted() === busy,
      "the quiet organization's delivery span and every delivery counted",
      20_000,
    );
    expect(from("fabrikam").map((s) => s.attributes[attrs.samplingWeight])).toEqual([1]);
    // Metrics are not sampled: the counter has every delivery (the wait above); spans are thinned.
    const kept = from("contoso");
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(busy);
    for (const span of kept) {
      const weight = span.attributes[attrs.samplingWeight];
      expect(Number.isInteger(weight) && (weight as number) >= 1).toBe(true);
      // Its store span came with it, carrying the same weight.
      const store = capture
        .spans()
        .filter((s) => s.traceId === span.traceId && s.name === "hookfleet.store.create");
      expect(store.map((s) => s.attributes[attrs.samplingWeight])).toEqual([weight]);
    }
  });
});
