/**
 * An in-memory Cosmos DB API server (@vercel/cosmosdb-server) on loopback, for local runs, tests
 * and the benchmark. Plain HTTP (its bundled TLS certificate has expired) with keep-alive.
 * Nothing it holds survives the process: it is not durable storage.
 */
import type { AddressInfo } from "node:net";
import { createHttpServer } from "@vercel/cosmosdb-server";

/** The Cosmos DB emulator's well-known key: the local server accepts any key, the client needs base64. */
export const EMBEDDED_COSMOS_KEY =
  "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";

export interface EmbeddedCosmos {
  endpoint: string;
  key: string;
  port: number;
  close(): Promise<void>;
}

export async function startEmbeddedCosmos(
  opts: { host?: string; port?: number } = {},
): Promise<EmbeddedCosmos> {
  const server = createHttpServer({ keepAlive: true } as Parameters<typeof createHttpServer>[0]);
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  server.keepAliveTimeout = 60_000;
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host}:${port}`,
    key: EMBEDDED_COSMOS_KEY,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
