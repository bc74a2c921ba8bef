/**
 * The OpenTelemetry variables the receiver and the heal job read (standard OTEL_* names, from the
 * OpenTelemetry SDK environment variable specification). Pure module, merged into the receiver's
 * settings schema (app/settings.ts) and read by the heal job too (app/heal/settings.ts).
 *
 * None has a schema default on purpose: ReceiverInfra writes every setting that has one onto the
 * container, and a written OTEL_EXPORTER_OTLP_ENDPOINT or _PROTOCOL would override what the
 * Container Apps managed OpenTelemetry agent injects ("If you explicitly set the environment
 * variable in the container app specification, your value overwrites the automatically injected
 * value", learn.microsoft.com/azure/container-apps/opentelemetry-agents, "Environment variables").
 * The defaults named in the descriptions are applied in code (app/telemetry/sdk.ts).
 */
import type { SettingSpec } from "../settings";

/** HOOKFLEET_DELIVERY_TRACES_PER_SECOND when unset. */
export const defaultDeliveryTracesPerSecond = 20;

export const telemetrySettings = {
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    description:
      "Base URL of the OTLP receiver (the Container Apps managed OpenTelemetry agent injects it). Unset: telemetry off, no OpenTelemetry code loaded. Per-signal OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / _METRICS_ENDPOINT are honoured too.",
    requiredInProduction: false,
    source: "plain",
  },
  OTEL_EXPORTER_OTLP_PROTOCOL: {
    description:
      "`http/protobuf` (default, the OTLP specification's), `http/json` or `grpc` (what the Container Apps managed agent accepts and injects).",
    requiredInProduction: false,
    source: "plain",
  },
  OTEL_EXPORTER_OTLP_HEADERS: {
    description: "Headers for the OTLP receiver (`key=value,…`), e.g. an API key of a SaaS backend.",
    requiredInProduction: false,
    source: "secret",
  },
  OTEL_TRACES_EXPORTER: {
    description: "`otlp` (default) or `none` (no spans).",
    requiredInProduction: false,
    source: "plain",
  },
  OTEL_METRICS_EXPORTER: {
    description:
      "`otlp` (default) or `none` (no metrics). ReceiverInfra sets `none`: the managed agent's Application Insights destination does not accept metrics.",
    requiredInProduction: false,
    source: "plain",
  },
  OTEL_SERVICE_NAME: {
    description:
      "`service.name` of the telemetry; default `hookfleet-receiver` (heal job: `hookfleet-heal`).",
    requiredInProduction: false,
    source: "plain",
  },
  OTEL_BSP_SCHEDULE_DELAY: {
    description: "Milliseconds between span exports; default 5000.",
    requiredInProduction: false,
    source: "plain",
  },
  OTEL_METRIC_EXPORT_INTERVAL: {
    description: "Milliseconds between metric exports; default 60000.",
    requiredInProduction: false,
    source: "plain",
  },
  HOOKFLEET_DELIVERY_TRACES_PER_SECOND: {
    description: `Receiver: delivery traces (a delivery span with its store spans) recorded per second on a route before they are sampled: above it one in k is recorded, carrying k as \`hookfleet.sampling.weight\`, which the alerts and the dashboard sum; an outcome × organization arriving slower is kept whole. Default ${defaultDeliveryTracesPerSecond}; \`all\` records every one.`,
    requiredInProduction: false,
    source: "plain",
  },
  OTEL_SDK_DISABLED: {
    description: "`true` turns telemetry off even when an endpoint is set.",
    requiredInProduction: false,
    source: "plain",
  },
} as const satisfies Record<string, SettingSpec>;

export type TelemetrySettingName = keyof typeof telemetrySettings;

/**
 * A HOOKFLEET_DELIVERY_TRACES_PER_SECOND value (trimmed): a number of traces per second above 0,
 * `all`, or undefined when it is neither. The receiver (sdk.ts) and the program's stack config
 * (`hookfleet:deliveryTracesPerSecond`, components/config/program.ts) read it the same way, each
 * naming its own key in the error.
 */
export function parseDeliveryTraceLimit(value: string): number | "all" | undefined {
  if (value === "all") return "all";
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  return n > 0 ? n : undefined;
}

/**
 * The telemetry variables a receiver and heal job deployed by ReceiverInfra run with, besides the
 * endpoint the managed agent injects: no metrics, because the agent's Application Insights
 * destination does not accept them (components/receiver/app.ts cites the page). ReceiverInfra writes
 * these (stack settings override them); the receiver benchmark measures telemetry this way too.
 */
export const receiverInfraTelemetryDefaults = { OTEL_METRICS_EXPORTER: "none" } as const;

/**
 * What the Container Apps managed OpenTelemetry agent injects beside the endpoint: gRPC
 * (learn.microsoft.com/azure/container-apps/opentelemetry-agents, "Environment variables";
 * docs/telemetry.md). Not written by ReceiverInfra (a written value would override the agent's).
 */
export const managedAgentProtocol = { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" } as const;
