/**
 * An OTLP/gRPC server that keeps what it is sent as raw bytes: the collector's TraceService and
 * MetricsService Export methods (opentelemetry-proto, `opentelemetry.proto.collector.{trace,metrics}.v1`,
 * unary), each answered with an empty ExportServiceResponse as a collector that accepted everything
 * does. It is what the Container Apps managed agent speaks (OTEL_EXPORTER_OTLP_PROTOCOL=grpc, see
 * docs/telemetry.md), for the telemetry tests (test/support/otlp-capture.ts) and the receiver
 * benchmark's sink.
 */
import type { Server } from "@grpc/grpc-js";

export interface OtlpGrpcServer {
  /** `http://127.0.0.1:<port>`: what OTEL_EXPORTER_OTLP_ENDPOINT takes for gRPC. */
  url: string;
  close(): void;
}

/** `onExport(path, body)` per Export call; `path` is `/v1/traces` or `/v1/metrics`, as over HTTP. */
export async function startOtlpGrpcServer(
  onExport: (path: "/v1/traces" | "/v1/metrics", body: Buffer) => void,
): Promise<OtlpGrpcServer> {
  const grpc = await import("@grpc/grpc-js");
  const raw = {
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  };
  const server: Server = new grpc.Server();
  for (const [service, path] of [
    ["opentelemetry.proto.collector.trace.v1.TraceService", "/v1/traces"],
    ["opentelemetry.proto.collector.metrics.v1.MetricsService", "/v1/metrics"],
  ] as const) {
    server.addService(
      { Export: { ...raw, path: `/${service}/Export`, originalName: "Export" } },
      {
        Export: (call: { request: Buffer }, callback: (err: null, res: Buffer) => void) => {
          onExport(path, call.request);
          callback(null, Buffer.alloc(0));
        },
      },
    );
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { url: `http://127.0.0.1:${port}`, close: () => server.forceShutdown() };
}
