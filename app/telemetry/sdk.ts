/**
 * Starts OpenTelemetry for one process (or one receiver in a test): a tracer provider and a meter
 * provider of its own, exporting OTLP to OTEL_EXPORTER_OTLP_ENDPOINT with the maintained
 * OpenTelemetry exporters. Nothing is registered globally (no global provider, no context manager),
 * so several receivers with different settings can share a process, and spans are parented
 * explicitly.
 *
 * Off when no endpoint is set (or OTEL_SDK_DISABLED=true): then no OpenTelemetry SDK module is even
 * loaded and the receiver registers no hook (the zero-cost path).
 *
 * The standard variables are read here because @opentelemetry/sdk-trace and sdk-metrics 3.x leave
 * them to @opentelemetry/sdk-node (which would also pull in auto-instrumentation we do not want):
 * OTEL_EXPORTER_OTLP_PROTOCOL (and _TRACES_/_METRICS_ variants), OTEL_TRACES_EXPORTER,
 * OTEL_METRICS_EXPORTER, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_BSP_*, OTEL_METRIC_EXPORT_*.
 * The exporters read the endpoint, headers, timeout and compression variables themselves.
 */
import { randomUUID } from "node:crypto";
import type { Meter, Tracer } from "@opentelemetry/api";
import type { MetricReader, PushMetricExporter } from "@opentelemetry/sdk-metrics";
import type { SpanExporter } from "@opentelemetry/sdk-trace";
import { instrumentationScope, maxAttributeLength } from "./names";
import { scrubText } from "../scrub";
import { DeliverySampling } from "./sampling";
import { defaultDeliveryTracesPerSecond, parseDeliveryTraceLimit } from "./settings";

type Env = Record<string, string | undefined>;

export interface Telemetry {
  /** True when something is exported (spans, metrics or both). */
  readonly enabled: boolean;
  /** Tracer, when spans are exported. */
  readonly tracer?: Tracer;
  /** Meter, when metrics are exported. */
  readonly meter?: Meter;
  /** Which delivery traces to record (the receiver, with the tracer); absent: every one. */
  readonly deliverySampling?: DeliverySampling;
  /** What is exported where, for one start-up line (no header values). */
  readonly description: string;
  /** Exports everything recorded so far. */
  forceFlush(): Promise<void>;
  /** Exports what is left and stops; later calls resolve at once. */
  shutdown(): Promise<void>;
}

/** Telemetry switched off: no tracer, no meter, nothing loaded. */
export const telemetryOff: Telemetry = {
  enabled: false,
  description: "telemetry off (no OTEL_EXPORTER_OTLP_ENDPOINT)",
  forceFlush: async () => {},
  shutdown: async () => {},
};

/** A bad OTEL_* value: the process should refuse to start, naming the variable. */
export class TelemetryConfigError extends Error {}

export type OtlpProtocol = "http/protobuf" | "http/json" | "grpc";
const PROTOCOLS: readonly OtlpProtocol[] = ["http/protobuf", "http/json", "grpc"];

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v ? v : undefined;
}

function protocolFor(env: Env, signal: "TRACES" | "METRICS"): OtlpProtocol {
  const name = value(env, `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`)
    ? `OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`
    : "OTEL_EXPORTER_OTLP_PROTOCOL";
  // The OTLP exporter specification's default is http/protobuf.
  const v = value(env, name) ?? "http/protobuf";
  if (!(PROTOCOLS as readonly string[]).includes(v))
    throw new TelemetryConfigError(`${name} must be one of ${PROTOCOLS.join(", ")} (got "${v}")`);
  return v as OtlpProtocol;
}

function exporterChoice(env: Env, signal: "TRACES" | "METRICS"): "otlp" | "none" {
  const name = `OTEL_${signal}_EXPORTER`;
  const v = value(env, name) ?? "otlp";
  if (v !== "otlp" && v !== "none")
    throw new TelemetryConfigError(
      `${name} must be "otlp" or "none" (got "${v}"; no other exporter is bundled)`,
    );
  return v;
}

/** A Duration or Timeout of the SDK environment variable specification: whole milliseconds, ≥ 0. */
function millis(env: Env, name: string, fallback: number): number {
  const v = value(env, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v))
    throw new TelemetryConfigError(`${name} must be a whole number of milliseconds (got "${v}")`);
  return Number(v);
}

/** A queue or batch size: an Integer the specification says must be positive. */
function positiveCount(env: Env, name: string, fallback: number): number {
  const v = value(env, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1)
    throw new TelemetryConfigError(`${name} must be a whole number >= 1 (got "${v}")`);
  return Number(v);
}

/**
 * HOOKFLEET_DELIVERY_TRACES_PER_SECOND: the limit of recorded delivery traces per second
 * (sampling.ts), or undefined for `all` (no sampling).
 */
export function deliveryTracesPerSecond(env: Env): number | undefined {
  const name = "HOOKFLEET_DELIVERY_TRACES_PER_SECOND";
  const v = value(env, name);
  if (v === undefined) return defaultDeliveryTracesPerSecond;
  const limit = parseDeliveryTraceLimit(v);
  if (limit === undefined)
    throw new TelemetryConfigError(
      `${name} must be a number of traces per second above 0, or "all" (got "${v}")`,
    );
  return limit === "all" ? undefined : limit;
}

/** Which signals are on, and how, from the environment alone (pure; tested directly). */
export interface TelemetryPlan {
  traces?: SignalPlan;
  metrics?: SignalPlan;
}

export interface SignalPlan {
  protocol: OtlpProtocol;
  /** Where the exporter sends: for OTLP/HTTP the signal's URL (`…/v1/traces`), for gRPC the endpoint. */
  url: string;
}

/**
 * The OTLP exporter specification: a per-signal endpoint is used as is; the generic
 * OTEL_EXPORTER_OTLP_ENDPOINT gets `v1/traces` / `v1/metrics` appended for OTLP/HTTP, and is used
 * as is for gRPC (the Container Apps agent injects `http://otel.service.k8se-apps:4317/`).
 */
function signalPlan(env: Env, signal: "TRACES" | "METRICS"): SignalPlan | undefined {
  if (exporterChoice(env, signal) === "none") return undefined;
  const specific = value(env, `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`);
  const base = value(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  if (!specific && !base) return undefined;
  const protocol = protocolFor(env, signal);
  const raw = specific ?? base!;
  try {
    new URL(raw);
  } catch {
    const name = specific ? `OTEL_EXPORTER_OTLP_${signal}_ENDPOINT` : "OTEL_EXPORTER_OTLP_ENDPOINT";
    throw new TelemetryConfigError(`${name} must be a URL such as http://localhost:4318 (got "${raw}")`);
  }
  if (specific || protocol === "grpc") return { protocol, url: raw };
  return { protocol, url: `${raw.replace(/\/+$/, "")}/v1/${signal.toLowerCase()}` };
}

export function telemetryPlan(env: Env): TelemetryPlan {
  if (value(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true") return {};
  const plan: TelemetryPlan = {};
  const traces = signalPlan(env, "TRACES");
  if (traces) plan.traces = traces;
  const metrics = signalPlan(env, "METRICS");
  if (metrics) plan.metrics = metrics;
  return plan;
}

/*
 * Exporters are loaded only for the protocol in use: grpc pulls in @grpc/grpc-js, which a receiver
 * speaking http/protobuf never needs. The URL comes from `env` (the plan); headers, timeout and
 * compression the exporters read from process.env themselves.
 */
async function spanExporter({ protocol, url }: SignalPlan): Promise<SpanExporter> {
  switch (protocol) {
    case "grpc":
      return new (await import("@opentelemetry/exporter-trace-otlp-grpc")).OTLPTraceExporter({ url });
    case "http/json":
      return new (await import("@opentelemetry/exporter-trace-otlp-http")).OTLPTraceExporter({ url });
    case "http/protobuf":
      return new (await import("@opentelemetry/exporter-trace-otlp-proto")).OTLPTraceExporter({ url });
  }
}

async function metricExporter({ protocol, url }: SignalPlan): Promise<PushMetricExporter> {
  switch (protocol) {
    case "grpc":
      return new (await import("@opentelemetry/exporter-metrics-otlp-grpc")).OTLPMetricExporter({ url });
    case "http/json":
      return new (await import("@opentelemetry/exporter-metrics-otlp-http")).OTLPMetricExporter({ url });
    case "http/protobuf":
      return new (await import("@opentelemetry/exporter-metrics-otlp-proto")).OTLPMetricExporter({ url });
  }
}

export interface StartTelemetryOptions {
  /** `service.name` unless OTEL_SERVICE_NAME says otherwise (names.ts serviceNames). */
  serviceName: string;
  /** `service.version`, when known. */
  serviceVersion?: string;
  /**
   * Used instead of the OTLP span exporter the environment names, when traces are on (the telemetry
   * benchmark: to measure making spans apart from serializing and sending them). Default: OTLP.
   */
  spanExporter?: SpanExporter;
  /**
   * The receiver: sample its delivery traces as HOOKFLEET_DELIVERY_TRACES_PER_SECOND says
   * (sampling.ts). Others (the heal job) make no delivery spans and leave the variable alone.
   */
  sampleDeliveryTraces?: boolean;
}

/**
 * Telemetry as the environment asks: `telemetryOff` without an endpoint, else providers exporting
 * over OTLP. Throws TelemetryConfigError for a bad OTEL_* value. `env` decides whether to start,
 * the protocol, the URL and the intervals (the receiver and heal pass process.env).
 */
export async function startTelemetry(env: Env, opts: StartTelemetryOptions): Promise<Telemetry> {
  const plan = telemetryPlan(env);
  if (!plan.traces && !plan.metrics) return telemetryOff;
  // Names and defaults: the OpenTelemetry specification's "Environment Variable Specification",
  // Batch Span Processor and Periodic exporting MetricReader (specification/configuration/
  // sdk-environment-variables.md). A batch larger than the queue the SDK cuts to the queue itself
  // (BatchSpanProcessorBase, with a warning).
  const bsp = {
    scheduledDelayMillis: millis(env, "OTEL_BSP_SCHEDULE_DELAY", 5000),
    exportTimeoutMillis: millis(env, "OTEL_BSP_EXPORT_TIMEOUT", 30000),
    maxQueueSize: positiveCount(env, "OTEL_BSP_MAX_QUEUE_SIZE", 2048),
    maxExportBatchSize: positiveCount(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512),
  };
  const metricInterval = millis(env, "OTEL_METRIC_EXPORT_INTERVAL", 60000);
  const metricTimeout = Math.min(millis(env, "OTEL_METRIC_EXPORT_TIMEOUT", 30000), metricInterval);

  const { resourceFromAttributes, resourceAttributesEnvDetector, detectResources } =
    await import("@opentelemetry/resources");
  // OTEL_RESOURCE_ATTRIBUTES first, our names over them, OTEL_SERVICE_NAME over all (the spec's order).
  const fromEnv = detectResources({ detectors: [resourceAttributesEnvDetector] });
  const resource = fromEnv.merge(
    resourceFromAttributes({
      "service.name": value(env, "OTEL_SERVICE_NAME") ?? opts.serviceName,
      // Application Insights shows it as the role instance (one per replica or job execution).
      "service.instance.id": randomUUID(),
      ...(opts.serviceVersion ? { "service.version": opts.serviceVersion } : {}),
    }),
  );

  const stops: (() => Promise<void>)[] = [];
  const flushes: (() => Promise<void>)[] = [];
  let tracer: Tracer | undefined;
  let meter: Meter | undefined;
  const tracesPerSecond = opts.sampleDeliveryTraces ? deliveryTracesPerSecond(env) : undefined;
  if (plan.traces) {
    const { TracerProvider, BatchSpanProcessor } = await import("@opentelemetry/sdk-trace");
    const provider = new TracerProvider({
      resource,
      spanProcessors: [
        new BatchSpanProcessor({ exporter: opts.spanExporter ?? (await spanExporter(plan.traces)), ...bsp }),
      ],
    });
    tracer = provider.getTracer(instrumentationScope);
    stops.push(() => provider.shutdown());
    flushes.push(() => provider.forceFlush());
  }
  if (plan.metrics) {
    const { MeterProvider, PeriodicExportingMetricReader } = await import("@opentelemetry/sdk-metrics");
    const reader: MetricReader = new PeriodicExportingMetricReader({
      exporter: await metricExporter(plan.metrics),
      exportIntervalMillis: metricInterval,
      exportTimeoutMillis: metricTimeout,
    });
    const provider = new MeterProvider({ resource, readers: [reader] });
    meter = provider.getMeter(instrumentationScope);
    stops.push(() => provider.shutdown());
    flushes.push(() => provider.forceFlush());
  }

  const what = [
    plan.traces && `traces (${plan.traces.protocol})`,
    plan.metrics && `metrics (${plan.metrics.protocol})`,
  ].filter(Boolean);
  let stopping: Promise<void> | undefined;
  return {
    enabled: true,
    tracer,
    meter,
    deliverySampling:
      plan.traces && tracesPerSecond !== undefined ? new DeliverySampling(tracesPerSecond) : undefined,
    description:
      `telemetry: ${what.join(" and ")} over OTLP to ${scrubText(plan.traces?.url ?? plan.metrics?.url ?? "", maxAttributeLength)}` +
      (plan.traces && tracesPerSecond !== undefined
        ? `; delivery traces sampled above ${tracesPerSecond}/s a route, quieter outcomes and organizations kept whole`
        : ""),
    forceFlush: async () => {
      await Promise.all(flushes.map((f) => f().catch(() => {})));
    },
    // An unreachable collector must not hold the process: exporters time out on their own, and
    // failures are dropped (telemetry never fails the work it observes).
    shutdown: () => (stopping ??= Promise.all(stops.map((s) => s().catch(() => {}))).then(() => {})),
  };
}
