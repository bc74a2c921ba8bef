/**
 * Issue 13, item 3: local mode's embedded store (@vercel/cosmosdb-server) runs on its own thread,
 * so its work never stalls the receiver's event loop, and its query engine costs O(n log n), not
 * O(n²), in the documents it holds.
 */
import { createRequire } from "node:module";
import { threadId } from "node:worker_threads";
import { CosmosClient } from "@azure/cosmos";
import {
  installLinearQueries,
  LINEARIZED_ENGINE_VERSION,
  linearizeQueryCode,
  resolveQueryEngine,
  stripUndefined,
} from "../../app/embedded-cosmos-worker";
import { startEmbeddedCosmos } from "../../app/embedded-cosmos";
import { buildMessage } from "../../app/messages";
import { startReceiver, type RunningReceiver } from "../../app/receiver";
import { CosmosMessageStore } from "../../app/store";
import { sampleEvent } from "../../devkit/ado-events";
import { credentialsFor, makeSecrets, postJson, send, type Secrets } from "./harness";

describe("the embedded store of a local-mode receiver", () => {
  let r: RunningReceiver;
  let secrets: Secrets;
  let client: CosmosClient;
  beforeAll(async () => {
    secrets = makeSecrets();
    // No Cosmos endpoint: local mode starts its embedded store.
    r = await startReceiver({ credentials: credentialsFor(secrets), logLevel: "silent" });
    client = new CosmosClient({
      endpoint: r.embeddedCosmos!.endpoint,
      key: r.embeddedCosmos!.key,
      connectionPolicy: { enableEndpointDiscovery: false },
    });
  });
  afterAll(async () => {
    client.dispose();
    await r.close();
  });

  it("runs on its own thread and is reachable like any Cosmos DB account, by endpoint and key", async () => {
    expect(r.embeddedCosmos).toBeDefined();
    expect(r.embeddedCosmos!.threadId).not.toBe(threadId);
    expect(r.embeddedCosmos!.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const event = sampleEvent("git.push");
    expect((await postJson(r.webhookUrl(secrets.devopsToken), event)).status).toBe(201);
    const { resources } = await client
      .database("hookfleet")
      .container("messages")
      .items.query<{ sourceEventId: string }>("SELECT c.sourceEventId FROM c")
      .fetchAll();
    expect(resources).toEqual([{ sourceEventId: event.id }]);
  });

  it("answers /healthz while the store is busy with a long query", async () => {
    const container = client.database("hookfleet").container("messages");
    // A user-defined function that keeps the store's thread busy (1.5 s per document).
    await container.scripts.userDefinedFunctions.create({
      id: "spin",
      body: "function spin(ms) { var end = Date.now() + ms; while (Date.now() < end) {} return true; }",
    });
    const order: string[] = [];
    const busy = container.items
      .query("SELECT VALUE udf.spin(1500) FROM c")
      .fetchAll()
      .then(() => order.push("store query"));
    // Were the store on this thread, this timer and the request could only run after the query.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const health = await send(`${r.url}/healthz`, { method: "GET" });
    order.push("healthz");
    expect(health.status).toBe(200);
    await busy;
    expect(order).toEqual(["healthz", "store query"]);
  });

  it("runs its query engine with linear accumulation", () => {
    expect(r.embeddedCosmos!.linearQueries).toBe(true);
  });
});

// The engine as the server package resolves it (a dependency of @vercel/cosmosdb-server, not ours).
const fromServer = createRequire(require.resolve("@vercel/cosmosdb-server"));
const makeQuery = (fromServer("@zeit/cosmosdb-query") as typeof import("@zeit/cosmosdb-query")).default;
const engineHelpers = fromServer("@zeit/cosmosdb-query/lib/helpers") as {
  stripUndefined(v: unknown): unknown;
};

describe("receivers starting together against a new store", () => {
  it("all open it: the database and container are made once, and each one finds them", async () => {
    const store = await startEmbeddedCosmos();
    try {
      // Several replicas (or the benchmark's servers) coming up at once: each reads 404, all create.
      const settings = {
        endpoint: store.endpoint,
        key: store.key,
        database: "hookfleet",
        container: "messages",
      };
      const opened = await Promise.allSettled(
        Array.from({ length: 6 }, () => CosmosMessageStore.open({ settings, createIfMissing: true })),
      );
      expect(opened.map((o) => (o.status === "rejected" ? String(o.reason) : o.status))).toEqual(
        Array(6).fill("fulfilled"),
      );
      const stores = opened.map((o) => (o as PromiseFulfilledResult<CosmosMessageStore>).value);
      // One container, shared: what one stores, another finds.
      const system = { id: "devops", storageMode: "full" as const, retentionDays: 1 };
      const event = sampleEvent("git.push") as unknown as Record<string, unknown>;
      const doc = buildMessage(system, "ado", event, new Date());
      expect(await stores[0].create(doc)).toEqual({ id: doc.id, duplicate: false });
      expect(await stores[5].create(doc)).toEqual({ id: doc.id, duplicate: true });
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await store.close();
    }
  });
});

describe("the query engine made linear (app/embedded-cosmos-worker.ts)", () => {
  // The documents a listing meets: several instants, ties, holes (undefined) and a missing field.
  const docs: Record<string, unknown>[] = Array.from({ length: 60 }, (_, i) => ({
    id: `id-${String((i * 37) % 60).padStart(2, "0")}`,
    _rid: `rid${i}`,
    systemId: i % 3 ? "devops" : "lean",
    type: i % 4 ? "git.push" : "build.complete",
    receivedAt: `2026-11-30T10:00:0${i % 7}.000Z`,
    body: { list: [1, undefined, { a: undefined, b: [undefined, 2] }] },
    ...(i === 5 ? { receivedAt: undefined } : {}),
  }));
  const parameters = [
    { name: "@systemId", value: "devops" },
    { name: "@type", value: "git.push" },
    { name: "@since", value: "2026-11-30T10:00:01.000Z" },
    { name: "@before", value: "2026-11-30T10:00:05.000Z" },
    { name: "@at", value: "2026-11-30T10:00:03.000Z" },
    { name: "@belowId", value: "id-40" },
  ];

  it.each([
    "SELECT * FROM c",
    "SELECT TOP 5 * FROM c WHERE c.systemId = @systemId ORDER BY c.receivedAt DESC",
    "SELECT TOP 9 * FROM c WHERE c.systemId = @systemId AND c.type = @type AND c.receivedAt >= @since AND c.receivedAt < @before ORDER BY c.receivedAt DESC",
    "SELECT TOP 4 * FROM c WHERE c.receivedAt = @at AND c.id < @belowId ORDER BY c.id DESC",
    "SELECT TOP 100 * FROM root r WHERE r.receivedAt = @at ORDER BY r.id DESC",
    "SELECT c.id FROM c WHERE c.systemId = @systemId",
  ])("gives the same answer as the original engine for %s", (sql) => {
    const original = makeQuery(sql);
    const originalCode = original.code;
    const linear = linearizeQueryCode(originalCode);
    expect(originalCode).toMatch(/\[\.\.\.\$, \{/);
    expect(linear).not.toMatch(/\[\.\.\.\$,/);
    const patched = makeQuery(sql) as unknown as { _code: string; exec: typeof original.exec };
    patched._code = linear;
    const options = { parameters, maxItemCount: 1000 };
    expect(patched.exec(docs, options)).toStrictEqual(original.exec(docs, options));
  });

  it("strips undefined entries exactly like the engine's own helper", () => {
    for (const value of [
      docs,
      { a: undefined, b: [undefined, null, [undefined, { c: undefined }]] },
      3,
      null,
      "x",
    ])
      expect(stripUndefined(value)).toStrictEqual(engineHelpers.stripUndefined(value));
  });
});

describe("installing the rewrite", () => {
  const realEngine = resolveQueryEngine(fromServer);
  const codeGetter = () =>
    Object.getOwnPropertyDescriptor(Object.getPrototypeOf(makeQuery("SELECT * FROM c")), "code")!.get;

  it("finds the engine version it was written for where the server resolves it", () => {
    expect(realEngine.version).toBe(LINEARIZED_ENGINE_VERSION);
    expect(realEngine.makeQuery).toBe(makeQuery);
    expect(realEngine.helpers).toBe(engineHelpers);
  });

  it("leaves any other version of the engine as it is", () => {
    const getter = codeGetter();
    const helper = engineHelpers.stripUndefined;
    expect(installLinearQueries({ ...realEngine, version: "0.7.3" })).toBe(false);
    expect(codeGetter()).toBe(getter);
    expect(engineHelpers.stripUndefined).toBe(helper);
  });

  it("changes nothing when the rewrite would leave a quadratic step in the store's query", () => {
    class Query {
      _code: string | null = null;
      get code() {
        return "rows.reduce(($, c) => [...$, c], [])";
      }
    }
    const helpers = { stripUndefined: (v: unknown) => v };
    const helper = helpers.stripUndefined;
    const engine = { version: LINEARIZED_ENGINE_VERSION, makeQuery: () => new Query(), helpers };
    expect(installLinearQueries(engine)).toBe(false);
    expect(helpers.stripUndefined).toBe(helper);
    expect(new Query().code).toContain("[...$, c]");
  });
});
