/**
 * Issue 13, item 10 (and the list half of item 3): one large delivery gets a bounded share of the
 * receiver — a few store writes at a time, while /healthz keeps answering — and a listing costs a
 * bounded number of bounded queries however many messages are stored. Latency figures come from
 * `npm run bench:receiver` (docs/receiver.md), not from here.
 */
import { CREATE_CONCURRENCY } from "../../app/ingest";
import type { RunningReceiver } from "../../app/receiver";
import type { CosmosTestServer } from "../support/cosmos-server";
import { gridArray } from "../../devkit/grid-events";
import { send, startProxiedHarness, type ProxiedHarness, type Secrets } from "./harness";

jest.setTimeout(120_000);

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

describe("a 5,000-event, 1 MB Event Grid array", () => {
  const body = gridArray("large", 5000, 1_000_000);

  it("is stored whole, a bounded number of writes at a time, while /healthz keeps answering", async () => {
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1024 * 1024);
    expect(Buffer.byteLength(body)).toBeGreaterThan(950_000);
    let done = false;
    const delivery = send(receiver.webhookUrl(secrets.devopsToken), {
      body,
      headers: { "content-type": "application/json" },
    }).finally(() => (done = true));
    const health: number[] = [];
    while (!done) {
      health.push((await send(`${receiver.url}/healthz`, { method: "GET" })).status);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const res = await delivery;
    expect(res.status).toBe(201);
    expect((res.json().messages as unknown[]).length).toBe(5000);
    expect(health.length).toBeGreaterThan(1);
    expect(health.every((s) => s === 200)).toBe(true);
    expect(proxy.maxConcurrentWrites).toBeLessThanOrEqual(CREATE_CONCURRENCY);
    expect(proxy.maxConcurrentWrites).toBeGreaterThan(1);
    expect(await cosmos.storedMessages("devops")).toHaveLength(5000);
  });

  it("is listed page by page with at most three queries of at most limit + 1 messages each", async () => {
    let continuation: string | null = null;
    const seen = new Set<string>();
    let pages = 0;
    do {
      const before = proxy.queries.length;
      const res = await send(
        `${receiver.url}/api/v1/messages?systemId=devops&limit=200${continuation ? `&continuation=${encodeURIComponent(continuation)}` : ""}`,
        { method: "GET", headers: { authorization: `Bearer ${secrets.readToken}` } },
      );
      expect(res.status).toBe(200);
      const queries = proxy.queries.slice(before);
      expect(queries.length).toBeGreaterThanOrEqual(1);
      expect(queries.length).toBeLessThanOrEqual(3);
      for (const q of queries) expect(Number(/^SELECT TOP (\d+) /.exec(q)?.[1])).toBeLessThanOrEqual(201);
      for (const m of res.json().messages as { id: string }[]) seen.add(m.id);
      continuation = res.json().continuation as string | null;
      pages++;
    } while (continuation && pages < 100);
    expect(pages).toBe(25);
    expect(seen.size).toBe(5000);
  });
});
