/**
 * The embedded store's own thread: an in-memory Cosmos DB API server (@vercel/cosmosdb-server) on
 * loopback, started by app/embedded-cosmos.ts with `new Worker(this file)`. A query over many
 * documents costs the server CPU time; on its own thread that never stalls the receiver's event
 * loop (its deliveries, /healthz, /readyz).
 *
 * Self-contained on purpose: in tests and `npm run receiver` Node loads this file directly (type
 * stripping or tsx), so it imports only packages, never sibling .ts modules.
 */
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { isMainThread, parentPort, workerData } from "node:worker_threads";

/** What the parent passes in workerData. */
export interface EmbeddedCosmosWorkerData {
  role: "hookfleet-embedded-cosmos";
  host: string;
  port: number;
  /** A file inside node_modules to resolve the server package from (the parent's resolution). */
  resolveFrom: string;
}

export type EmbeddedCosmosWorkerMessage =
  | { type: "ready"; port: number; linearQueries: boolean }
  | { type: "failed"; message: string }
  | { type: "closed" };

/**
 * The engine version the rewrites below were written against and are tested with
 * (test/app/embedded-store.test.ts): @zeit/cosmosdb-query 0.7.2, which @vercel/cosmosdb-server 1.0.1
 * pins exactly; both are the packages' last releases. Any other version runs unpatched.
 */
export const LINEARIZED_ENGINE_VERSION = "0.7.2";

// One reduce step of the engine's generated JavaScript:
// `($, c) => typeof c !== "undefined" ? [...$, {c: c}] : $` copies the whole accumulator for every
// document, so a query over n documents costs O(n²): 5 s at 15,000 documents (measured; the issue
// saw 11–39 s at 15k–20k). Each form becomes a push onto the accumulator, which the reduce owns (its
// seed is a fresh `[]`): O(n), same result.
const GUARDED_STEP = /\(\$, (\w+)\) => typeof \1 !== "undefined" \? \[\.\.\.\$, (\{[^{}]*\})\] : \$/g;
const PLAIN_STEP = /\(\$, (\w+)\) => \[\.\.\.\$, (\{[^{}]*\})\]/g;
/** What is left of a quadratic step in generated code (none may remain once rewritten). */
const QUADRATIC_STEP = /\[\.\.\.\$,/;
/** A query of the shape the message store issues (app/store.ts), compiled to check the rewrite takes. */
const PROBE_QUERY =
  "SELECT TOP 3 * FROM c WHERE c.systemId = @systemId AND c.receivedAt < @before ORDER BY c.receivedAt DESC";

/**
 * The engine's stripUndefined (applied to every document a query returns) rebuilds each array with
 * `[...o, v]`, O(n²) in the array's length: a stored event with an array of 80,000 numbers made any
 * listing that returned it take minutes. Same result, linear: `undefined` entries are dropped from
 * arrays and objects, recursively.
 */
export function stripUndefined(value: unknown): unknown {
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const v of value) if (typeof v !== "undefined") out.push(stripUndefined(v));
    return out;
  }
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (typeof v !== "undefined") out[k] = stripUndefined(v);
    return out;
  }
  return value;
}

/** Rewrites the quadratic accumulator steps of a generated query into linear pushes. */
export function linearizeQueryCode(code: string): string {
  return code
    .replace(GUARDED_STEP, '($, $1) => (typeof $1 !== "undefined" && $.push($2), $)')
    .replace(PLAIN_STEP, "($, $1) => ($.push($2), $)");
}

interface QueryPrototype {
  _code: string | null;
}

/** The parts of the query engine the rewrite touches, as resolved from the server package. */
export interface QueryEngine {
  /** The engine package's version (its package.json). */
  version: string;
  /** The engine's default export: SQL text → a Query whose `code` getter compiles it. */
  makeQuery: (query: string) => object;
  /** The engine's helpers module object, through which its code calls stripUndefined. */
  helpers: { stripUndefined?: unknown };
}

/** The engine the server uses: the same module instances, resolved from the server package. */
export function resolveQueryEngine(requireFromServer: NodeJS.Require): QueryEngine {
  const paths = [requireFromServer.resolve("@vercel/cosmosdb-server")];
  const main = requireFromServer.resolve("@zeit/cosmosdb-query", { paths });
  const pkg = requireFromServer(
    requireFromServer.resolve("@zeit/cosmosdb-query/package.json", { paths }),
  ) as {
    version: string;
  };
  return {
    version: pkg.version,
    makeQuery: (requireFromServer(main) as { default: (query: string) => object }).default,
    helpers: requireFromServer(main.replace(/index\.js$/, "helpers.js")) as QueryEngine["helpers"],
  };
}

/**
 * Makes the query engine linear: wraps the `code` getter of its Query class so that every query the
 * server compiles goes through linearizeQueryCode, and replaces its stripUndefined helper. Returns
 * false, changing nothing, unless the engine is the version this was written for, has the shape it
 * expects, and a query shaped like the store's compiles to quadratic steps that the rewrite removes
 * entirely: anything else runs the engine at its own speed, never with a half-applied rewrite.
 */
export function installLinearQueries(engine: QueryEngine): boolean {
  if (engine.version !== LINEARIZED_ENGINE_VERSION) return false;
  if (typeof engine.makeQuery !== "function" || typeof engine.helpers.stripUndefined !== "function")
    return false;
  const probe = engine.makeQuery(PROBE_QUERY) as QueryPrototype;
  const proto = Object.getPrototypeOf(probe) as QueryPrototype;
  const original = Object.getOwnPropertyDescriptor(proto, "code");
  if (!original?.get || !("_code" in probe)) return false;
  const getOriginal = original.get;
  const probeCode = getOriginal.call(probe) as unknown;
  if (
    typeof probeCode !== "string" ||
    !QUADRATIC_STEP.test(probeCode) ||
    QUADRATIC_STEP.test(linearizeQueryCode(probeCode))
  )
    return false;
  // Generated code and the engine's own paginate call it as a property of this module object.
  engine.helpers.stripUndefined = stripUndefined;
  Object.defineProperty(proto, "code", {
    configurable: true,
    get(this: QueryPrototype) {
      const code = getOriginal.call(this) as string;
      const linear = linearizeQueryCode(code);
      // The getter caches its result in _code: cache the rewritten one.
      this._code = linear;
      return linear;
    },
  });
  return true;
}

async function run(data: EmbeddedCosmosWorkerData): Promise<void> {
  const port = parentPort!;
  const requireFromServer = createRequire(data.resolveFrom);
  const linearQueries = installLinearQueries(resolveQueryEngine(requireFromServer));
  const { createHttpServer } = requireFromServer(
    "@vercel/cosmosdb-server",
  ) as typeof import("@vercel/cosmosdb-server");
  const server = createHttpServer({ keepAlive: true } as Parameters<typeof createHttpServer>[0]);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(data.port, data.host, () => resolve());
  });
  server.keepAliveTimeout = 60_000;
  port.on("message", (message: { type?: string }) => {
    if (message.type !== "close") return;
    server.closeAllConnections();
    server.close(() => {
      port.postMessage({ type: "closed" } satisfies EmbeddedCosmosWorkerMessage);
      port.close();
    });
  });
  port.postMessage({
    type: "ready",
    port: (server.address() as AddressInfo).port,
    linearQueries,
  } satisfies EmbeddedCosmosWorkerMessage);
}

const data = workerData as Partial<EmbeddedCosmosWorkerData> | null;
if (!isMainThread && data?.role === "hookfleet-embedded-cosmos")
  run(data as EmbeddedCosmosWorkerData).catch((err: unknown) =>
    parentPort!.postMessage({
      type: "failed",
      message: err instanceof Error ? err.message : String(err),
    } satisfies EmbeddedCosmosWorkerMessage),
  );
