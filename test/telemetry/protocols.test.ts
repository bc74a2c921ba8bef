/**
 * The two wire formats the receiver meets outside tests: gRPC (what the Container Apps managed
 * OpenTelemetry agent injects: OTEL_EXPORTER_OTLP_PROTOCOL=grpc) and http/protobuf (the OTLP
 * default). One receiver process sends its traces over gRPC to a gRPC OTLP server (@grpc/grpc-js)
 * and its metrics as protobuf over HTTP, each to its own capture; both arrive, with our names in
 * them and no secret.
 */
import { metrics, spans } from "../../app/telemetry/names";
import { mintToken } from "../../app/tokens";
import { postJson } from "../app/harness";
import { sampleEvent } from "../../devkit/ado-events";
import { startOtlpCapture, startOtlpGrpcCapture, type OtlpCapture } from "../support/otlp-capture";
import { startLeanReceiver, type RunningProcess } from "./helpers";

jest.setTimeout(90_000);

let grpcCapture: OtlpCapture;
let httpCapture: OtlpCapture;
let receiver: RunningProcess;
const token = mintToken();

beforeAll(async () => {
  grpcCapture = await startOtlpGrpcCapture();
  httpCapture = await startOtlpCapture();
  receiver = startLeanReceiver(token, {
    // As the managed agent sets them: one endpoint, gRPC…
    OTEL_EXPORTER_OTLP_ENDPOINT: grpcCapture.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
    // …except metrics, sent elsewhere in the OTLP default protocol (a per-signal endpoint is used as is).
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${httpCapture.url}/v1/metrics`,
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: "http/protobuf",
    OTEL_BSP_SCHEDULE_DELAY: "200",
    OTEL_METRIC_EXPORT_INTERVAL: "500",
  });
  await receiver.waitForLine(/receiver listening on (http:\/\/[^\s,;]+)/);
});

afterAll(async () => {
  receiver?.child.kill("SIGTERM");
  await receiver?.exited();
  await grpcCapture?.close();
  await httpCapture?.close();
});

test("spans over gRPC and metrics as protobuf over HTTP, with our names and no token", async () => {
  expect(receiver.stderr()).toMatch(/telemetry: traces \(grpc\) and metrics \(http\/protobuf\) over OTLP/);
  const base = /receiver listening on (http:\/\/[^\s,;]+)/.exec(receiver.stderr())![1];
  expect((await postJson(`${base}/api/v1/webhooks/${token}`, sampleEvent("build.complete"))).status).toBe(
    201,
  );

  await grpcCapture.waitFor(
    () => grpcCapture.allText().includes(spans.delivery.name),
    "the delivery span over gRPC",
  );
  await httpCapture.waitFor(
    () => httpCapture.allText().includes(metrics.deliveries.name),
    "the deliveries metric as protobuf",
  );
  expect(grpcCapture.requests.every((r) => r.path === "/v1/traces")).toBe(true);
  expect(grpcCapture.allText()).toContain("build.complete");
  expect(httpCapture.requests[0]).toMatchObject({
    path: "/v1/metrics",
    contentType: "application/x-protobuf",
  });
  expect(grpcCapture.allText() + httpCapture.allText()).not.toContain(token);
});
