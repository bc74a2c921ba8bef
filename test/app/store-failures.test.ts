import { sampleEvent } from "../../devkit/ado-events";
import type { RunningReceiver } from "../../app/receiver";
import type { CosmosTestServer } from "../support/cosmos-server";
import {
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
