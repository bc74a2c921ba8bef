/**
 * The OTEL_* variables of bench:receiver's telemetry rows (e, f): by default what a receiver deployed
 * by ReceiverInfra runs with, so that the benchmark measures the telemetry users get.
 */
import {
  defaultDeliveryTracesPerSecond,
  managedAgentProtocol,
  receiverInfraTelemetryDefaults,
} from "../../app/telemetry/settings";

/**
 * Rows e and f's telemetry variables: as a receiver deployed by ReceiverInfra runs (gRPC, which the
 * managed agent injects, no metrics, delivery traces sampled above the default rate), then any
 * OTEL_* variable or HOOKFLEET_DELIVERY_TRACES_PER_SECOND given to the bench (e.g.
 * OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf OTEL_METRICS_EXPORTER=otlp, or
 * HOOKFLEET_DELIVERY_TRACES_PER_SECOND=all), then the sink's endpoint for the protocol in use (per
 * signal when a per-signal protocol is given).
 */
export function telemetryEnvironment(
  given: NodeJS.ProcessEnv,
  sink: { http: string; grpc: string },
): Record<string, string> {
  const env: Record<string, string> = {
    ...managedAgentProtocol,
    ...receiverInfraTelemetryDefaults,
    HOOKFLEET_DELIVERY_TRACES_PER_SECOND:
      given.HOOKFLEET_DELIVERY_TRACES_PER_SECOND ?? String(defaultDeliveryTracesPerSecond),
  };
  // Endpoints given on the command are dropped: the rows always export to the sink.
  for (const [k, v] of Object.entries(given))
    if (k.startsWith("OTEL_") && !k.endsWith("_ENDPOINT") && v !== undefined) env[k] = v;
  env.OTEL_EXPORTER_OTLP_ENDPOINT = env.OTEL_EXPORTER_OTLP_PROTOCOL === "grpc" ? sink.grpc : sink.http;
  for (const signal of ["TRACES", "METRICS"]) {
    const protocol = env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`];
    if (!protocol) continue;
    // A per-signal endpoint is used as is: for OTLP/HTTP it names the signal's path.
    env[`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`] =
      protocol === "grpc" ? sink.grpc : `${sink.http}/v1/${signal.toLowerCase()}`;
  }
  return env;
}
