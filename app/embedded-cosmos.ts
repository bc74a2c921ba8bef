/**
 * An in-memory Cosmos DB API server (@vercel/cosmosdb-server) on loopback, for local runs, tests
 * and the benchmark. It runs on its own worker thread (app/embedded-cosmos-worker.ts), so the
 * server's query work never blocks the event loop of the receiver that uses it; it is reached like
 * any Cosmos DB account, by endpoint URL and key (plain HTTP: its bundled TLS certificate has
 * expired, ../shared/design/pulumi-and-azure-notes.md). Nothing it holds survives the process: it is
 * not durable storage.
 */
import path from "node:path";
import { Worker } from "node:worker_threads";
import type { EmbeddedCosmosWorkerData, EmbeddedCosmosWorkerMessage } from "./embedded-cosmos-worker";

/**
 * The Cosmos DB emulator's well-known key (learn.microsoft.com/azure/cosmos-db/emulator): the local
 * server accepts any key, the client needs a base64 one.
 */
export const EMBEDDED_COSMOS_KEY =
  "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";

export interface EmbeddedCosmos {
  /** `http://127.0.0.1:<port>`: any Cosmos DB client (endpoint discovery off) can use it with `key`. */
  endpoint: string;
  key: string;
  port: number;
  /** The worker thread serving it (never the caller's thread). */
  threadId: number;
  /** True when the query engine's O(n²) accumulation was replaced by a linear one (see the worker). */
  linearQueries: boolean;
  /** Stops the server and its thread. Idempotent. */
  close(): Promise<void>;
}

// Next to this module: .ts under tsx/ts-jest (Node strips the types), .js in the built image.
const WORKER_FILE = path.join(__dirname, `embedded-cosmos-worker${path.extname(__filename)}`);
// A .ts worker has ES module syntax in a package without "type": Node reparses it as a module and
// says so on every start; nothing to act on, so that one warning is silenced for the thread.
const WORKER_EXEC_ARGV = WORKER_FILE.endsWith(".ts")
  ? [...process.execArgv, "--disable-warning=MODULE_TYPELESS_PACKAGE_JSON"]
  : process.execArgv;

export async function startEmbeddedCosmos(
  opts: { host?: string; port?: number } = {},
): Promise<EmbeddedCosmos> {
  const host = opts.host ?? "127.0.0.1";
  const workerData: EmbeddedCosmosWorkerData = {
    role: "hookfleet-embedded-cosmos",
    host,
    port: opts.port ?? 0,
    resolveFrom: require.resolve("@vercel/cosmosdb-server"),
  };
  const worker = new Worker(WORKER_FILE, { workerData, execArgv: WORKER_EXEC_ARGV });
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  const ready = await new Promise<{ port: number; linearQueries: boolean }>((resolve, reject) => {
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`embedded Cosmos DB server exited (code ${code})`)));
    worker.once("message", (m: EmbeddedCosmosWorkerMessage) => {
      if (m.type === "ready") resolve(m);
      else
        reject(
          new Error(`embedded Cosmos DB server failed to start: ${m.type === "failed" ? m.message : m.type}`),
        );
    });
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  worker.removeAllListeners("error").removeAllListeners("message");
  // Local runs stay correct without the rewrite, only slower with many messages: say so once.
  if (!ready.linearQueries)
    console.error(
      "note: the embedded store's query engine is not the version app/embedded-cosmos-worker.ts makes linear: listings slow down with the square of the messages stored",
    );
  // Once running, a crash of the store thread shows up as 503s from the receiver; say why once.
  worker.on("error", (err) => console.error(`embedded Cosmos DB server failed: ${err.message}`));
  // The caller's servers keep the process alive, not this thread.
  worker.unref();

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${ready.port}`,
    key: EMBEDDED_COSMOS_KEY,
    port: ready.port,
    threadId: worker.threadId,
    linearQueries: ready.linearQueries,
    close() {
      closing ??= (async () => {
        worker.postMessage({ type: "close" });
        // The server closes its connections and the thread ends; a stuck one is terminated.
        const timer = setTimeout(() => void worker.terminate(), 5_000);
        await exited;
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}
