import http from "node:http";
import type { AddressInfo } from "node:net";
import { AuthenticationError, CredentialUnavailableError } from "@azure/identity";
import { sampleEvent } from "../../devkit/ado-events";
import { startReceiver, type RunningReceiver } from "../../app/receiver";
import { classifyStoreError, DiscardingStore, StoreUnavailableError } from "../../app/store";
import { startCosmosServer, type CosmosTestServer } from "../support/cosmos-server";
import {
  credentialsFor,
  makeSecrets,
  postJson,
  send,
  startHarness,
  startProxiedHarness,
  type ProxiedHarness,
  type Secrets,
} from "./harness";

let h: ProxiedHarness;
let cosmos: CosmosTestServer;
let proxy: ProxiedHarness["proxy"];
let receiver: RunningReceiver;
let secrets: Secrets;

beforeAll(async () => {
  h = await startProxiedHarness();
  ({ cosmos, proxy, receiver, secrets } = h);
});
afterAll(() => h.close());
afterEach(() => {
  proxy.mode = { kind: "pass" };
});

describe("store trouble", () => {
  it("answers 503 with Retry-After when the store throttles, and stores nothing", async () => {
    proxy.mode = { kind: "throttle", retryAfterMs: 50 };
    const event = sampleEvent("git.push");
    const res = await postJson(receiver.webhookUrl(secrets.devopsToken), event);
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(res.json().error).toBe("store-unavailable");
    expect(await cosmos.storedMessages()).toEqual([]);
    // Once the store recovers, the sender's retry is stored.
    proxy.mode = { kind: "pass" };
    const retry = await postJson(receiver.webhookUrl(secrets.devopsToken), event);
    expect(retry.status).toBe(201);
    expect(retry.json().duplicate).toBe(false);
  });

  it("keeps the events of an array it stored when the rest fail, and the retry completes the set", async () => {
    const run = Date.now();
    const events = [1, 2, 3].map((i) => ({
      id: `partial-${i}-${run}`,
      subject: "/s",
      eventType: "Custom.Thing",
      eventTime: new Date().toISOString(),
      data: {},
    }));
    const ours = async () =>
      (await cosmos.storedMessages("devops"))
        .map((m) => String(m.sourceEventId))
        .filter((id) => id.endsWith(`-${run}`))
        .sort();
    // The first write is stored, then the store throttles: the request fails with one event stored.
    proxy.mode = { kind: "throttleAfter", passes: 1, retryAfterMs: 20 };
    const res = await postJson(receiver.webhookUrl(secrets.devopsToken), events);
    expect(res.status).toBe(503);
    proxy.mode = { kind: "pass" };
    // Not deleted again: an overlapping retry may already have been answered 201 with it as a duplicate.
    const kept = await ours();
    expect(kept).toHaveLength(1);
    const retry = await postJson(receiver.webhookUrl(secrets.devopsToken), events);
    expect(retry.status).toBe(201);
    const answer = retry.json() as { duplicate: boolean; messages: { duplicate: boolean }[] };
    expect(answer.duplicate).toBe(false);
    const duplicates = events.filter((_, i) => answer.messages[i].duplicate).map((e) => e.id);
    expect(duplicates).toEqual(kept);
    expect(await ours()).toEqual(events.map((e) => e.id).sort());
  });

  it("finishes a delivery in flight when it is closed (drain), then refuses new connections", async () => {
    const h2 = await startProxiedHarness({ shutdownGraceMs: 10_000 });
    const { cosmos: cosmos2, proxy: slow, receiver: r, secrets: s } = h2;
    slow.mode = { kind: "delay", ms: 400 };
    const inFlight = postJson(r.webhookUrl(s.devopsToken), sampleEvent("build.complete"));
    while (slow.writes === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const closed = r.close();
    const res = await inFlight;
    await closed;
    expect(res.status).toBe(201);
    expect(await cosmos2.storedMessages("devops")).toHaveLength(1);
    await expect(fetch(`${r.url}/healthz`)).rejects.toThrow();
    await h2.close();
  });

  it("answers 503 when the store is down, stores nothing, and readiness fails while liveness holds", async () => {
    const h3 = await startHarness();
    const { receiver: r, secrets: s } = h3;
    await h3.cosmos.close();
    const res = await postJson(r.webhookUrl(s.devopsToken), sampleEvent("git.push"));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect((await send(`${r.url}/readyz`, { method: "GET" })).status).toBe(503);
    expect((await send(`${r.url}/healthz`, { method: "GET" })).status).toBe(200);
    await h3.close();
  });
});

describe("store errors a retry can cure are 503, not 500 (ADO disables a hook after enduring failures)", () => {
  /** A receiver on `endpoint` with the test credentials; production mode creates nothing at start. */
  async function receiverOn(cosmos: { endpoint: string; key?: string }) {
    const s = makeSecrets();
    const r = await startReceiver({
      credentials: credentialsFor(s),
      mode: "production",
      cosmos,
      logLevel: "silent",
    });
    return { r, deliver: () => postJson(r.webhookUrl(s.devopsToken), sampleEvent("git.push")) };
  }

  it("answers 503 when the managed identity's token endpoint refuses (DefaultAzureCredential, over HTTP)", async () => {
    // The App Service / Container Apps identity endpoint, found through IDENTITY_ENDPOINT and
    // IDENTITY_HEADER (node_modules/@azure/msal-node/dist/client/ManagedIdentitySources/
    // AppService.mjs), here on loopback, refusing the token request.
    let tokenRequests = 0;
    const identity = http.createServer((req, res) => {
      tokenRequests++;
      req.resume();
      res
        .writeHead(400, { "content-type": "application/json" })
        .end(JSON.stringify({ error: "invalid_request", error_description: "identity not found" }));
    });
    await new Promise<void>((resolve) => identity.listen(0, "127.0.0.1", resolve));
    const saved = { ...process.env };
    Object.assign(process.env, {
      IDENTITY_ENDPOINT: `http://127.0.0.1:${(identity.address() as AddressInfo).port}/msi/token`,
      IDENTITY_HEADER: "test-header",
      // Only the managed identity, whatever developer tools this machine has
      // (learn.microsoft.com/javascript/api/@azure/identity/defaultazurecredential).
      AZURE_TOKEN_CREDENTIALS: "ManagedIdentityCredential",
    });
    // No key: Entra auth. The token is asked for before any connection, so no store need listen.
    const { r, deliver } = await receiverOn({ endpoint: "https://127.0.0.1:1/" });
    try {
      const res = await deliver();
      expect(tokenRequests).toBeGreaterThan(0);
      expect({ status: res.status, error: res.json().error }).toEqual({
        status: 503,
        error: "store-unavailable",
      });
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    } finally {
      for (const k of ["IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_TOKEN_CREDENTIALS"])
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      await r.close();
      await new Promise((resolve) => identity.close(resolve));
    }
  });

  it("answers 503 for a network failure outside the old list (EPROTO: TLS to a server that is not TLS)", async () => {
    const store = await startCosmosServer();
    const { r, deliver } = await receiverOn({
      endpoint: store.endpoint.replace("http:", "https:"),
      key: store.key,
    });
    try {
      const res = await deliver();
      expect({ status: res.status, error: res.json().error }).toEqual({
        status: 503,
        error: "store-unavailable",
      });
    } finally {
      await r.close();
      await store.close();
    }
  });

  it("classifies @azure/identity's errors as unavailable, whatever statusCode they carry", () => {
    const refused = new AuthenticationError(400, { error: "invalid_request", error_description: "no" });
    expect(refused.statusCode).toBe(400);
    for (const err of [refused, new CredentialUnavailableError("no identity endpoint")])
      expect(() => classifyStoreError(err)).toThrow(StoreUnavailableError);
    const bug = new TypeError("x is undefined");
    expect(() => classifyStoreError(bug)).toThrow(bug);
  });

  it("answers 500, not the 4xx it carries, for an error that is not fastify's own", async () => {
    // A store failure no one classified, carrying a statusCode of 400 as AuthenticationError does:
    // a 400 would be enduring for ADO and never retried by Event Grid, and it is no fault of the body.
    class UnclassifiedFailure extends DiscardingStore {
      override async create(): Promise<never> {
        throw Object.assign(new Error("something below the store"), { statusCode: 400 });
      }
    }
    const s = makeSecrets();
    const r = await startReceiver({
      credentials: credentialsFor(s),
      store: new UnclassifiedFailure(),
      logLevel: "silent",
    });
    try {
      const res = await postJson(r.webhookUrl(s.devopsToken), sampleEvent("git.push"));
      expect({ status: res.status, error: res.json().error }).toEqual({ status: 500, error: "internal" });
    } finally {
      await r.close();
    }
  });
});
