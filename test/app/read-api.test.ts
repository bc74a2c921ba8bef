import http from "node:http";
import { messageId } from "../../app/messages";
import { mintPassword, mintToken, sha256Hex } from "../../app/tokens";
import { sampleEvent } from "../../devkit/ado-events";
import { basic, credentialsFor, postJson, send, startHarness, type Harness } from "./harness";

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const read = (path: string, token = h.secrets.readToken) =>
  send(`${h.receiver.url}${path}`, { method: "GET", headers: { authorization: `Bearer ${token}` } });

describe("messages read API", () => {
  const ids: string[] = [];
  beforeAll(async () => {
    // Seven messages, sent one after the other so receivedAt grows.
    for (const type of [
      "git.push",
      "build.complete",
      "git.push",
      "workitem.created",
      "git.push",
      "tfvc.checkin",
      "git.push",
    ]) {
      const res = await postJson(h.receiver.webhookUrl(h.secrets.devopsToken), sampleEvent(type));
      ids.push(String(res.json().id));
    }
    await postJson(h.receiver.webhookUrl(h.secrets.leanToken), sampleEvent("git.push"));
  });

  it("lists a system's messages newest first, page by page with continuation, each exactly once", async () => {
    const seen: string[] = [];
    let continuation: string | null = null;
    let pages = 0;
    do {
      const qs: string = `systemId=devops&limit=3${continuation ? `&continuation=${encodeURIComponent(continuation)}` : ""}`;
      const res = await read(`/api/v1/messages?${qs}`);
      expect(res.status).toBe(200);
      const body = res.json() as { messages: { id: string; _rid?: string }[]; continuation: string | null };
      expect(body.messages.length).toBeLessThanOrEqual(3);
      for (const m of body.messages) expect(m._rid).toBeUndefined();
      seen.push(...body.messages.map((m) => m.id));
      continuation = body.continuation;
      pages++;
    } while (continuation && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
  });

  it("filters by type and time, across systems when no systemId is given", async () => {
    const pushes = await read("/api/v1/messages?systemId=devops&type=git.push");
    expect((pushes.json().messages as unknown[]).length).toBe(4);
    const all = await read("/api/v1/messages?type=git.push&limit=200");
    const systems = new Set((all.json().messages as { systemId: string }[]).map((m) => m.systemId));
    expect(systems).toEqual(new Set(["devops", "lean"]));
    const future = await read(
      `/api/v1/messages?systemId=devops&since=${encodeURIComponent("2999-01-01T00:00:00Z")}`,
    );
    expect(future.json().messages).toEqual([]);
    const past = await read(
      `/api/v1/messages?systemId=devops&until=${encodeURIComponent("2000-01-01T00:00:00Z")}`,
    );
    expect(past.json().messages).toEqual([]);
  });

  it("reads one message, and answers 404 for an unknown one", async () => {
    const one = await read(`/api/v1/messages/devops/${ids[0]}`);
    expect(one.status).toBe(200);
    expect(one.json()).toMatchObject({ id: ids[0], systemId: "devops", type: "git.push" });
    expect((await read(`/api/v1/messages/devops/nope`)).status).toBe(404);
  });

  it("answers 400 for bad query parameters and a forged continuation", async () => {
    expect((await read("/api/v1/messages?limit=0")).status).toBe(400);
    expect((await read("/api/v1/messages?limit=1000")).status).toBe(400);
    expect((await read("/api/v1/messages?since=yesterday")).status).toBe(400);
    const forged = await read("/api/v1/messages?systemId=devops&continuation=not-ours");
    expect(forged.status).toBe(400);
  });

  it("answers 401 with a Bearer challenge without a valid read token (a URL token is not one)", async () => {
    for (const token of ["", mintToken(), h.secrets.devopsToken]) {
      const res = await read("/api/v1/messages", token);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
    }
    const noHeader = await send(`${h.receiver.url}/api/v1/messages`, { method: "GET" });
    expect(noHeader.status).toBe(401);
  });
});

/** A GET with the path sent exactly as given (fetch would resolve `.` and `..` first). */
function rawGet(path: string, token = h.secrets.readToken): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(h.receiver.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { hostname, port, path, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = "";
        res.setEncoding("utf8").on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject).end();
  });
}

async function storeReads(): Promise<number> {
  const text = (await send(`${h.receiver.url}/metrics`, { method: "GET" })).text;
  const m = /hookfleet_store_latency_seconds_count\{operation="read",outcome="[^"]+"\} (\d+)/g;
  return [...text.matchAll(m)].reduce((n, x) => n + Number(x[1]), 0);
}

describe("message ids on the read API (issue 13, item 2)", () => {
  it("answers 404 for anything that is not a message id, without asking the store", async () => {
    const realId = messageId("devops", "whatever");
    const before = await storeReads();
    for (const path of [
      "/api/v1/messages/nosuchsystem/.",
      "/api/v1/messages/devops/..",
      "/api/v1/messages/devops/%2e%2e",
      "/api/v1/messages/devops/a%23b",
      "/api/v1/messages/devops/a%3Fb",
      "/api/v1/messages/devops/%2F",
      "/api/v1/messages/devops/a%20b",
      `/api/v1/messages/devops/${realId}x`,
      `/api/v1/messages/devops/${realId.slice(1)}`,
      `/api/v1/messages/devops/${realId.slice(1)}.`,
      `/api/v1/messages/bad%20system/${realId}`,
      `/api/v1/messages/..%2Fdevops/${realId}`,
    ]) {
      const res = await rawGet(path);
      expect({ path, status: res.status, body: res.body }).toEqual({
        path,
        status: 404,
        body: '{"error":"message-not-found"}',
      });
    }
    expect(await storeReads()).toBe(before);
    // A well-formed id of no stored message is looked up, and not found.
    expect((await rawGet(`/api/v1/messages/devops/${realId}`)).status).toBe(404);
    expect(await storeReads()).toBe(before + 1);
  });
});

describe("dates on the read API (issue 13, item 6)", () => {
  const list = (qs: string) => rawGet(`/api/v1/messages?${qs}`);

  it("answers 400 naming the parameter for a date that is not an instant, a leap second included", async () => {
    for (const [qs, message] of [
      ["since=2016-12-31T23:59:60Z", /^since is a leap second \(23:59:60\)/],
      ["until=2016-12-31T23:59:60%2B01:00", /^until is a leap second/],
      ["since=2026-02-30T00:00:00Z", /^since names a day that does not exist \(2026-02-30\)/],
      ["since=2026-13-01T00:00:00Z", /^since names a day that does not exist/],
      ["until=2026-01-01T24:00:00Z", /^until has an hour, minute, second or offset out of range/],
      ["since=2026-01-01T00:00:00%2B24:00", /^since has an hour, minute, second or offset out of range/],
      ["since=2026-01-01", /^since must be an RFC 3339 date-time/],
      ["since=yesterday", /^since must be an RFC 3339 date-time/],
    ] as const) {
      const res = await list(qs);
      expect({ qs, status: res.status }).toEqual({ qs, status: 400 });
      expect(JSON.parse(res.body)).toEqual({ error: "bad-request", message: expect.stringMatching(message) });
    }
  });

  it("accepts every RFC 3339 form of an instant: offsets, fractions, lower case", async () => {
    for (const qs of [
      "since=2016-12-31T23:59:59Z",
      "since=2026-01-31T12:00:00%2B01:00&until=2026-01-31T12:00:00.5-01:00",
      "since=2024-02-29t00:00:00.123456789z",
    ]) {
      const res = await list(`systemId=devops&${qs}`);
      expect({ qs, status: res.status }).toEqual({ qs, status: 200 });
    }
  });
});

describe("health and metrics", () => {
  it("serves liveness and readiness", async () => {
    expect((await send(`${h.receiver.url}/healthz`, { method: "GET" })).json()).toEqual({ status: "ok" });
    expect((await send(`${h.receiver.url}/readyz`, { method: "GET" })).json()).toEqual({ status: "ready" });
  });

  it("counts requests by status, stored, duplicates, projected and store latency", async () => {
    const event = sampleEvent("git.push");
    await postJson(h.receiver.webhookUrl(h.secrets.devopsToken), event);
    await postJson(h.receiver.webhookUrl(h.secrets.devopsToken), event);
    await postJson(h.receiver.webhookUrl(h.secrets.leanToken), sampleEvent("build.complete"));
    await postJson(h.receiver.webhookUrl(mintToken()), event);
    const res = await send(`${h.receiver.url}/metrics`, { method: "GET" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/text\/plain/);
    const text = res.text;
    expect(text).toMatch(
      /hookfleet_http_requests_total\{method="POST",route="\/api\/v1\/webhooks\/:token",status="201"\} \d+/,
    );
    expect(text).toMatch(
      /hookfleet_http_requests_total\{method="POST",route="\/api\/v1\/webhooks\/:token",status="404"\} 1/,
    );
    expect(text).toMatch(/hookfleet_messages_duplicate_total\{system="devops"\} 1/);
    expect(text).toMatch(/hookfleet_messages_projected_total\{system="lean"\} 2/);
    expect(text).toMatch(/hookfleet_messages_stored_total\{system="devops",mode="full"\} \d+/);
    expect(text).toMatch(/hookfleet_store_latency_seconds_count\{operation="create",outcome="ok"\} \d+/);
    expect(text).not.toMatch(/alw_/);
  });

  it("serves /metrics on its own port when asked, and not on the main one", async () => {
    const h2 = await startHarness({ metricsPort: 0 });
    try {
      expect(h2.receiver.metricsUrl).toBeDefined();
      expect((await send(`${h2.receiver.metricsUrl}/metrics`, { method: "GET" })).text).toMatch(
        /hookfleet_http_requests_total/,
      );
      expect((await send(`${h2.receiver.url}/metrics`, { method: "GET" })).status).toBe(404);
    } finally {
      await h2.close();
    }
  });
});

describe("credential swap on a running receiver", () => {
  it("switches URL tokens, systems and read tokens at once, and rejects an invalid set", async () => {
    const h3 = await startHarness();
    try {
      const oldToken = h3.secrets.devopsToken;
      const newToken = mintToken();
      const base = credentialsFor(h3.secrets);
      const newReadToken = mintToken();
      const freshPassword = mintPassword();
      const next = {
        ...base,
        // A system that did not exist before the swap.
        systems: [
          ...base.systems,
          {
            id: "fresh",
            storageMode: "full" as const,
            retentionDays: 1,
            basicPasswords: [{ sha256: sha256Hex(freshPassword) }],
          },
        ],
        // The old token stays in its overlap window; the new one is added (a rotation).
        urlTokens: [...base.urlTokens, { sha256: sha256Hex(newToken), systemId: "devops" }],
        // The read token is replaced outright.
        readTokens: [{ sha256: sha256Hex(newReadToken) }],
      };
      const freshUrl = `${h3.receiver.url}/api/v1/systems/fresh/webhooks`;
      const listWith = (token: string) =>
        send(`${h3.receiver.url}/api/v1/messages`, {
          method: "GET",
          headers: { authorization: `Bearer ${token}` },
        });
      const freshAuth = { authorization: basic("u", freshPassword) };
      expect((await postJson(freshUrl, sampleEvent("git.push"), freshAuth)).status).toBe(401);
      expect((await listWith(newReadToken)).status).toBe(401);
      h3.receiver.setCredentials(next);
      expect((await postJson(h3.receiver.webhookUrl(newToken), sampleEvent("git.push"))).status).toBe(201);
      expect((await postJson(h3.receiver.webhookUrl(oldToken), sampleEvent("git.push"))).status).toBe(201);
      expect((await postJson(freshUrl, sampleEvent("git.push"), freshAuth)).status).toBe(201);
      expect((await listWith(newReadToken)).status).toBe(200);
      expect((await listWith(h3.secrets.readToken)).status).toBe(401);
      // The overlap ends: the old token is gone.
      h3.receiver.setCredentials({
        ...next,
        urlTokens: next.urlTokens.filter((t) => t.sha256 !== sha256Hex(oldToken)),
      });
      expect((await postJson(h3.receiver.webhookUrl(oldToken), sampleEvent("git.push"))).status).toBe(404);
      expect(() =>
        h3.receiver.setCredentials({
          ...next,
          systems: [{ id: "bad id", storageMode: "full", retentionDays: 1 }],
        }),
      ).toThrow(/systems\[0\]\.id/);
      // The invalid set changed nothing.
      expect((await postJson(h3.receiver.webhookUrl(newToken), sampleEvent("git.push"))).status).toBe(201);
    } finally {
      await h3.close();
    }
  });

  it("drops no request while credentials are swapped under load (rotation with overlap)", async () => {
    const h4 = await startHarness();
    try {
      const base = credentialsFor(h4.secrets);
      const tokens = [h4.secrets.devopsToken, ...Array.from({ length: 6 }, () => mintToken())];
      const set = (...live: string[]) =>
        h4.receiver.setCredentials({
          ...base,
          urlTokens: live.map((t) => ({ sha256: sha256Hex(t), systemId: "devops" })),
        });
      const answers: number[] = [];
      for (let r = 0; r + 1 < tokens.length; r++) {
        // The sender uses token r while, mid-flight, the previous token is dropped and the next added.
        const batch = Promise.all(
          Array.from({ length: 25 }, () =>
            postJson(h4.receiver.webhookUrl(tokens[r]), sampleEvent("git.push")),
          ),
        );
        await new Promise((resolve) => setImmediate(resolve));
        set(tokens[r]);
        await new Promise((resolve) => setTimeout(resolve, 1));
        set(tokens[r], tokens[r + 1]);
        answers.push(...(await batch).map((b) => b.status));
      }
      expect(answers).toHaveLength(150);
      expect(answers.filter((s) => s !== 201)).toEqual([]);
      // A token dropped by the rotation is refused afterwards.
      expect((await postJson(h4.receiver.webhookUrl(tokens[0]), sampleEvent("git.push"))).status).toBe(404);
    } finally {
      await h4.close();
    }
  });
});
