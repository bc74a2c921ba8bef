/**
 * Delivery trace sampling (issue 16's overhead target): the pure sampler against streams whose true
 * counts we know; the receiver's start and end decisions; a receiver recording through the real
 * OpenTelemetry SDK (TracerProvider, the SDK's in-memory exporter); and a receiver process exporting
 * through the real OTLP exporter.
 */
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { attrs, metrics, spans } from "../../app/telemetry/names";
import {
  DeliverySampling,
  DeliveryTraceSampler,
  deliveryStratum,
  headMemoryWindows,
  samplingWindowMs,
} from "../../app/telemetry/sampling";
import { startReceiver, type RunningReceiver } from "../../app/receiver";
import { DiscardingStore } from "../../app/store";
import { defaultDeliveryTracesPerSecond } from "../../app/telemetry/settings";
import {
  deliveryTracesPerSecond,
  startTelemetry,
  TelemetryConfigError,
  type Telemetry,
} from "../../app/telemetry/sdk";
import { mintToken, sha256Hex } from "../../app/tokens";
import { sampleEvent } from "../../devkit/ado-events";
import { postJson } from "../app/harness";
import { startOtlpCapture, type OtlpCapture } from "../support/otlp-capture";
import { startLeanReceiver, type RunningProcess } from "./helpers";

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
  it("defaults to 20 per second; `all` turns sampling off; decimals are allowed", () => {
    expect(defaultDeliveryTracesPerSecond).toBe(20);
    expect(deliveryTracesPerSecond({})).toBe(20);
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
      /; delivery traces sampled above 25\/s a route, quieter outcomes and organizations kept whole$/,
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

describe("the receiver's two decisions", () => {
  it("records about the limit at the start, and the end keeps what the start dropped only for a stratum under its limit", () => {
    const sampling = new DeliverySampling(10, seeded(6));
    let startKept = 0;
    let total = 0;
    const weights: number[] = [];
    for (let i = 0; i < 20_000; i++) {
      const t = i / 5; // 5000 a second
      const w = sampling.atStart("token", t);
      if (w > 0) startKept++;
      const end = sampling.atEnd("stored", "contoso", w, t);
      if (end > 0) weights.push(end);
      total++;
    }
    // About 10 a second over 4 s, after the first 100 ms window (500 deliveries) kept whole.
    expect(startKept).toBeGreaterThanOrEqual(500);
    expect(startKept).toBeLessThan(500 + 10 * 4 + 10);
    // What the start dropped stays dropped for a busy stratum; the kept ones count them all.
    expect(weights.length).toBe(startKept);
    expect(sum(weights) / total).toBeGreaterThan(0.9);
    expect(sum(weights) / total).toBeLessThan(1.1);
  });

  it("thins a burst from its start when the route was busy within the last 5 s, but not after a longer pause", () => {
    const sampling = new DeliverySampling(10, seeded(9));
    const burst = (from: number) => {
      let recorded = 0;
      for (let i = 0; i < 2000; i++) if (sampling.atStart("token", from + i / 2) > 0) recorded++;
      return recorded;
    };
    const first = burst(0); // 2000 in 1 s: the first 100 ms (200) recorded whole, then ~10 a second
    expect(first).toBeGreaterThanOrEqual(200);
    const soonAfter = burst(2000); // after a 1 s pause: thinned at once
    expect(soonAfter).toBeLessThan(30);
    const muchLater = burst(2000 + 1000 + headMemoryWindows * samplingWindowMs + 1000);
    expect(muchLater).toBeGreaterThanOrEqual(200);
  });

  it("at its end keeps a waking stratum's first deliveries whole, not its whole first window", () => {
    const sampling = new DeliverySampling(100, seeded(10)); // a share of 10 per 100 ms window
    const kept: number[] = [];
    for (let i = 0; i < 300; i++) kept.push(sampling.atEnd("stored", "contoso", 0, i / 10)); // 300 in 30 ms
    expect(kept.slice(0, 10)).toEqual(new Array(10).fill(1));
    expect(kept.slice(10)).toEqual(new Array(290).fill(0));
  });

  it("keeps a quiet stratum's delivery at its end with weight 1, whether or not the start recorded it", () => {
    const sampling = new DeliverySampling(10, seeded(7));
    for (let i = 0; i < 5_000; i++) sampling.atStart("token", i / 5);
    // The route is busy (k > 1), so the start drops most; fabrikam's one delivery is kept anyway.
    expect(sampling.atEnd("stored", "fabrikam", 0, 1000)).toBe(1);
    expect(sampling.atEnd("unavailable", "contoso", 0, 1000.5)).toBe(1);
    expect(sampling.atEnd("stored", "fabrikam", 37, 1150)).toBe(1);
  });
});

describe("a receiver recording sampled delivery traces (the real SDK, in memory)", () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const token = mintToken();
  let receiver: RunningReceiver;

  beforeAll(async () => {
    const telemetry: Telemetry = {
      enabled: true,
      tracer: provider.getTracer("test"),
      deliverySampling: new DeliverySampling(2, seeded(8)),
      description: "in memory",
      forceFlush: async () => {},
      shutdown: async () => {},
    };
    receiver = await startReceiver({
      credentials: {
        systems: [{ id: "devops", storageMode: "lean", retentionDays: 1 }],
        urlTokens: [{ sha256: sha256Hex(token), systemId: "devops" }],
        readTokens: [],
      },
      store: new DiscardingStore(),
      logLevel: "silent",
      telemetry,
    });
  });
  afterAll(async () => {
    await receiver?.close();
    await provider.shutdown();
  });

  const finished = () => exporter.getFinishedSpans();
  /** Spans end in onResponse, just after the answer left. */
  async function settled(test: () => boolean) {
    for (let i = 0; i < 200 && !test(); i++) await new Promise((r) => setTimeout(r, 10));
  }

  it("records a busy organization's deliveries in part, whole traces with their weight, and a quiet one's at its end", async () => {
    const busy = 120;
    const started = performance.timeOrigin + performance.now();
    for (let i = 0; i < busy; i += 8, await new Promise((r) => setTimeout(r, 20)))
      await Promise.all(
        Array.from({ length: 8 }, async () =>
          expect(
            (await postJson(receiver.webhookUrl(token), sampleEvent("git.push", { org: "contoso" }))).status,
          ).toBe(201),
        ),
      );
    expect(
      (await postJson(receiver.webhookUrl(token), sampleEvent("git.push", { org: "fabrikam" }))).status,
    ).toBe(201);
    const roots = () => finished().filter((s) => s.name === spans.delivery.name);
    await settled(() => roots().some((s) => s.attributes[attrs.org] === "fabrikam"));

    const [quiet] = roots().filter((s) => s.attributes[attrs.org] === "fabrikam");
    expect(quiet.attributes[attrs.samplingWeight]).toBe(1);
    // Written at its end if the start had dropped it: its times are still the request's.
    const startMs = quiet.startTime[0] * 1000 + quiet.startTime[1] / 1e6;
    expect(startMs).toBeGreaterThanOrEqual(Math.floor(started));
    expect(quiet.duration[0] * 1000 + quiet.duration[1] / 1e6).toBeGreaterThan(0);

    const kept = roots().filter((s) => s.attributes[attrs.org] === "contoso");
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(busy / 2);
    for (const root of kept) {
      const weight = root.attributes[attrs.samplingWeight];
      expect(Number.isInteger(weight) && (weight as number) >= 1).toBe(true);
      const stores = finished().filter(
        (s) => s.spanContext().traceId === root.spanContext().traceId && s !== root,
      );
      // A trace recorded from its start has its store span, weighted by the start's decision; one
      // written at its end has none (its store call was not traced).
      for (const store of stores) {
        expect(store.name).toBe("hookfleet.store.create");
        expect(Number.isInteger(store.attributes[attrs.samplingWeight])).toBe(true);
      }
    }
    // No store span without its delivery span.
    const rootTraces = new Set(roots().map((s) => s.spanContext().traceId));
    expect(finished().filter((s) => !rootTraces.has(s.spanContext().traceId))).toEqual([]);
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
    receiver = startLeanReceiver(token, {
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
    expect(receiver.stderr()).toMatch(
      /delivery traces sampled above 2\/s a route, quieter outcomes and organizations kept whole/,
    );
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
      // Recorded from its start, it has its store span, weighted by the start's decision; written
      // at its end, none.
      const store = capture
        .spans()
        .filter((s) => s.traceId === span.traceId && s.name === "hookfleet.store.create");
      expect(store.length).toBeLessThanOrEqual(1);
      for (const s of store) expect(Number.isInteger(s.attributes[attrs.samplingWeight])).toBe(true);
    }
  });
});
