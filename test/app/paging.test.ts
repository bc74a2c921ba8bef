/**
 * Issue 13, item 1: the read API pages by (receivedAt, id). Every event of an Event Grid array has
 * the same receivedAt; a listing must still reach every message exactly once, with a continuation
 * of bounded size.
 */
import { sampleEvent } from "../../devkit/ado-events";
import { postJson, send, startHarness, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

interface Listed {
  id: string;
  systemId: string;
  sourceEventId: string;
  receivedAt: string;
  type: string;
}

const gridEvents = (prefix: string, n: number, eventType = "Custom.Thing") =>
  Array.from({ length: n }, (_, i) => ({
    id: `${prefix}-${String(i).padStart(4, "0")}`,
    subject: `/things/${i}`,
    eventType,
    eventTime: "2026-11-30T10:00:00Z",
    data: { i },
  }));

async function page(
  query: string,
): Promise<{ status: number; messages: Listed[]; continuation: string | null }> {
  const res = await send(`${h.receiver.url}/api/v1/messages?${query}`, {
    method: "GET",
    headers: { authorization: `Bearer ${h.secrets.readToken}` },
  });
  const body = res.status === 200 ? res.json() : {};
  return {
    status: res.status,
    messages: (body.messages ?? []) as Listed[],
    continuation: (body.continuation ?? null) as string | null,
  };
}

/** Every page of a listing; fails on a page that is not 200 or on more pages than `maxPages`. */
async function listAll(
  query: string,
  maxPages = 1000,
): Promise<{ pages: Listed[][]; continuations: string[] }> {
  const pages: Listed[][] = [];
  const continuations: string[] = [];
  let continuation: string | null = null;
  do {
    const p = await page(
      `${query}${continuation ? `&continuation=${encodeURIComponent(continuation)}` : ""}`,
    );
    expect(p.status).toBe(200);
    pages.push(p.messages);
    continuation = p.continuation;
    if (continuation) continuations.push(continuation);
  } while (continuation && pages.length < maxPages);
  expect(continuation).toBeNull();
  return { pages, continuations };
}

/** The order of every listing: newest first, ties by id, descending. */
function expectedOrder(stored: Record<string, unknown>[]): string[] {
  return stored
    .map((m) => ({ id: String(m.id), t: String(m.receivedAt) }))
    .sort((a, b) => (a.t !== b.t ? (a.t < b.t ? 1 : -1) : a.id < b.id ? 1 : -1))
    .map((m) => m.id);
}

describe("paging after a large Event Grid array (all events share one receivedAt)", () => {
  beforeAll(async () => {
    const res = await postJson(h.receiver.webhookUrl(h.secrets.devopsToken), gridEvents("big", 600));
    expect(res.status).toBe(201);
  });

  it("lists all 600 events in three pages of 200, each once, with short continuations", async () => {
    const { pages, continuations } = await listAll("systemId=devops&limit=200");
    expect(pages.map((p) => p.length)).toEqual([200, 200, 200]);
    const ids = pages.flat().map((m) => m.id);
    expect(new Set(ids).size).toBe(600);
    expect(ids).toEqual(expectedOrder(await h.cosmos.storedMessages("devops")));
    for (const c of continuations) expect(c.length).toBeLessThan(200);
  });

  it("lists them across systems too, and page by page with any page size", async () => {
    const all = expectedOrder(await h.cosmos.storedMessages());
    for (const limit of [13, 199]) {
      const { pages } = await listAll(`limit=${limit}`);
      expect(pages.flat().map((m) => m.id)).toEqual(all);
      for (const p of pages) expect(p.length).toBeLessThanOrEqual(limit);
    }
  });
});

describe("paging through single events and arrays interleaved", () => {
  beforeAll(async () => {
    const lean = (body: unknown) => postJson(h.receiver.webhookUrl(h.secrets.leanToken), body);
    for (const [i, body] of [
      sampleEvent("git.push"),
      gridEvents("a", 5),
      sampleEvent("build.complete"),
      gridEvents("b", 7, "Custom.Other"),
      sampleEvent("git.push"),
      gridEvents("c", 3),
      sampleEvent("workitem.created"),
    ].entries()) {
      const res = await lean(body);
      expect(res.status).toBe(201);
      // Instants apart, so page ends fall inside and between instants.
      if (i % 2 === 0) await new Promise((resolve) => setTimeout(resolve, 3));
    }
  });

  it("returns every message exactly once in (receivedAt, id) order for every page size", async () => {
    const all = expectedOrder(await h.cosmos.storedMessages("lean"));
    expect(all).toHaveLength(19);
    for (let limit = 1; limit <= 20; limit++) {
      const { pages } = await listAll(`systemId=lean&limit=${limit}`);
      expect(pages.flat().map((m) => m.id)).toEqual(all);
    }
  });

  it("keeps the filters across pages (type, since, until)", async () => {
    const stored = await h.cosmos.storedMessages("lean");
    const things = expectedOrder(stored.filter((m) => m.type === "Custom.Thing"));
    expect(things).toHaveLength(8);
    const { pages } = await listAll("systemId=lean&type=Custom.Thing&limit=3");
    expect(pages.flat().map((m) => m.id)).toEqual(things);

    const times = [...new Set(stored.map((m) => String(m.receivedAt)))].sort();
    const [since, until] = [times[1], times[times.length - 1]];
    const window = expectedOrder(
      stored.filter((m) => String(m.receivedAt) >= since && String(m.receivedAt) < until),
    );
    const { pages: windowed } = await listAll(
      `systemId=lean&limit=2&since=${encodeURIComponent(since)}&until=${encodeURIComponent(until)}`,
    );
    expect(windowed.flat().map((m) => m.id)).toEqual(window);
  });
});

describe("continuations", () => {
  const encoded = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

  it("refuses one it did not issue with 400 naming the parameter, before any store call", async () => {
    for (const forged of [
      "not-ours",
      encoded({ t: "2026-11-30T10:00:00.000Z", ids: ["x"] }), // the previous release's shape
      encoded({ v: 1, t: "yesterday" }),
      encoded({ v: 1, t: "2026-11-30T10:00:00.000Z", id: "../devops" }),
      encoded({ v: 1, t: "2026-11-30T10:00:00.000Z", id: 42 }),
      encoded({ v: 2, t: "2026-11-30T10:00:00.000Z" }),
    ]) {
      const res = await page(`systemId=devops&continuation=${encodeURIComponent(forged)}`);
      expect(res.status).toBe(400);
    }
    const tooLong = await page(`continuation=${"A".repeat(600)}`);
    expect(tooLong.status).toBe(400);
  });
});
