import http from "node:http";
import type { AddressInfo } from "node:net";
import { AdoClient, type AdoLogger } from "../../ado/client";
import { AdoError } from "../../ado/errors";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { OTHER_CONSUMERS, consumersOf, webhookInput } from "../../devkit/recording-receiver";

/** Captures what the client logs, to prove no secret ends up there. */
function recordingLogger(): AdoLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    debug: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
    warn: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`),
  };
}

describe("throttling, retries and concurrency against the emulator", () => {
  let emu: AdoEmulator;

  beforeAll(async () => {
    emu = await startAdoEmulator({ allowBasicAuthOverLoopbackHttp: true });
  });
  afterAll(() => emu.close());
  beforeEach(() => emu.counters.reset());

  const client = (extra: Partial<ConstructorParameters<typeof AdoClient>[0]> = {}) =>
    new AdoClient({ orgUrl: emu.orgUrl(), auth: { kind: "pat", pat: emu.pat }, retryBaseMs: 10, ...extra });

  test("a 429 with Retry-After is waited out, then the call succeeds", async () => {
    const logger = recordingLogger();
    emu.failNext(1, 429, { route: "GET /_apis/hooks/subscriptions", retryAfterSeconds: 1 });
    const started = Date.now();
    const subs = await client({ logger }).listSubscriptions();
    const waited = Date.now() - started;
    expect(consumersOf(subs)).toEqual(OTHER_CONSUMERS);
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(5000);
    expect(emu.counters.byRoute["GET /_apis/hooks/subscriptions"]).toBe(2);
    expect(logger.lines.join("\n")).toMatch(/retried.*"status":429/);
    expect(logger.lines.join("\n")).not.toContain(emu.pat);
  });

  test("the emulator's rate limit: delay phase with X-RateLimit-Delay, then 429 + Retry-After, all absorbed by the client", async () => {
    emu.setRateLimit({ enabled: true, budget: 4, blockAt: 6, windowMs: 1500, delayMs: 50 });
    try {
      const c = client({ maxRetries: 8 });
      const started = Date.now();
      for (let i = 0; i < 9; i++) await c.listSubscriptions();
      // 9 calls against a window admitting 6 per 1.5 s: the client had to wait for the window.
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(emu.counters.byStatus["200"]).toBe(9);
    } finally {
      emu.setRateLimit({ enabled: false });
    }
  });

  test("the delay phase is visible to any client: X-RateLimit-* headers and X-RateLimit-Delay", async () => {
    emu.setRateLimit({ enabled: true, budget: 2, blockAt: 10, windowMs: 60_000, delayMs: 20 });
    try {
      const auth = { Authorization: `Basic ${Buffer.from(`:${emu.pat}`).toString("base64")}` };
      const url = `${emu.orgUrl()}/_apis/hooks/subscriptions?api-version=7.1`;
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await fetch(url, { headers: auth }));
      expect(answers[0].headers.get("x-ratelimit-remaining")).toBe("1");
      expect(answers[1].headers.get("x-ratelimit-delay")).toBeNull();
      expect(answers[2].headers.get("x-ratelimit-delay")).toBe("0.02");
      expect(answers[3].headers.get("x-ratelimit-remaining")).toBe("0");
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    } finally {
      emu.setRateLimit({ enabled: false });
    }
  });

  test.each([502, 503, 504, 408])("a transient %i is retried", async (status) => {
    emu.failNext(2, status, { route: "GET /_apis/hooks/subscriptions", retryAfterSeconds: 0 });
    expect(consumersOf(await client().listSubscriptions())).toEqual(OTHER_CONSUMERS);
    expect(emu.counters.byRoute["GET /_apis/hooks/subscriptions"]).toBe(3);
  });

  test("connection resets are retried, for CoreApi calls too", async () => {
    emu.failNext(2, "reset", { route: "GET /_apis/projects" });
    const projects = await client().listProjects();
    expect(projects).toHaveLength(3);
    expect(emu.counters.byRoute["GET /_apis/projects"]).toBe(3);
  });

  test("retries stop at maxRetries and the error says how many attempts", async () => {
    emu.failNext(10, 503, { route: "GET /_apis/hooks/subscriptions", retryAfterSeconds: 0 });
    const err = (await client({ maxRetries: 2 })
      .listSubscriptions()
      .catch((e: unknown) => e)) as AdoError;
    expect(err).toBeInstanceOf(AdoError);
    expect(err.status).toBe(503);
    expect(err.attempts).toBe(3);
    expect(emu.counters.byRoute["GET /_apis/hooks/subscriptions"]).toBe(3);
    emu.failNext(0, 503);
    // Drain the faults this test left queued.
    await client({ maxRetries: 10 }).listSubscriptions();
  });

  test("an enduring error is not retried and surfaces ADO's message and TF code", async () => {
    emu.failNext(1, 500, {
      route: "POST /_apis/hooks/subscriptions",
      message: "TF400898: An Internal Error Occurred. Activity Id: 1234.",
    });
    const err = (await client()
      .createSubscription(webhookInput("http://127.0.0.1:9/x"))
      .catch((e: unknown) => e)) as AdoError;
    expect(err.status).toBe(500);
    expect(err.tfCode).toBe("TF400898");
    expect(err.adoMessage).toBe("TF400898: An Internal Error Occurred. Activity Id: 1234.");
    expect(err.message).toContain("POST http://127.0.0.1");
    expect(emu.counters.byRoute["POST /_apis/hooks/subscriptions"]).toBe(1);
  });

  test("a create is not retried after a reset (it may have happened), but is after a 429", async () => {
    emu.failNext(1, "reset", { route: "POST /_apis/hooks/subscriptions" });
    const err = (await client()
      .createSubscription(webhookInput("http://127.0.0.1:9/x"))
      .catch((e: unknown) => e)) as AdoError;
    expect(err.kind).toBe("network");
    expect(err.message).toMatch(/may or may not have been processed/);
    expect(emu.counters.byRoute["POST /_apis/hooks/subscriptions"]).toBe(1);
    emu.failNext(1, 429, { route: "POST /_apis/hooks/subscriptions", retryAfterSeconds: 0 });
    await expect(client().createSubscription(webhookInput("http://127.0.0.1:9/y"))).resolves.toMatchObject({
      consumerInputs: { url: "http://127.0.0.1:9/y" },
    });
    // The 429 and its retry: two more requests.
    expect(emu.counters.byRoute["POST /_apis/hooks/subscriptions"]).toBe(3);
  });

  test("no server at all: a network AdoError after the retries, without the credential", async () => {
    const gone = new AdoClient({
      orgUrl: "http://127.0.0.1:9/contoso",
      auth: { kind: "pat", pat: "pat-that-must-not-leak" },
      retryBaseMs: 1,
      maxRetries: 2,
    });
    const err = (await gone.listSubscriptions().catch((e: unknown) => e)) as AdoError;
    expect(err).toMatchObject({ kind: "network", status: 0, attempts: 3, method: "GET" });
    expect(err.message).toMatch(/ECONNREFUSED/);
    expect(err.message).not.toContain("pat-that-must-not-leak");
  });

  test("concurrency per organization stays within maxConcurrency", async () => {
    emu.setLatency(40);
    try {
      const c = client({ maxConcurrency: 3 });
      const sub = await c.createSubscription(webhookInput("http://127.0.0.1:9/conc"));
      emu.counters.reset();
      await Promise.all(Array.from({ length: 20 }, () => c.getSubscription(sub.id)));
      expect(emu.counters.byRoute["GET /_apis/hooks/subscriptions/{id}"]).toBe(20);
      expect(emu.counters.maxInFlight).toBe(3);
      // A second client of the same org and bound shares the gate.
      emu.counters.reset();
      const d = client({ maxConcurrency: 3 });
      await Promise.all([
        ...Array.from({ length: 6 }, () => c.getSubscription(sub.id)),
        ...Array.from({ length: 6 }, () => d.getSubscription(sub.id)),
      ]);
      expect(emu.counters.maxInFlight).toBe(3);
    } finally {
      emu.setLatency(0);
    }
  });

  test("falling X-RateLimit-Remaining slows the client down", async () => {
    emu.setRateLimit({ enabled: true, budget: 8, blockAt: 100, windowMs: 60_000, delayMs: 0 });
    try {
      const c = client({ maxPaceMs: 200 });
      const started = Date.now();
      for (let i = 0; i < 9; i++) await c.listSubscriptions();
      // Remaining 1 and then 0 (below a quarter of 8) space the last starts ~100 and ~200 ms apart.
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    } finally {
      emu.setRateLimit({ enabled: false });
    }
  });
});

describe("a 2xx answer that is not ADO's JSON fails instead of reading as nothing", () => {
  let server: http.Server;
  let url: string;
  /** What the stand-in answers at /signin: an HTML page, or a 200 with no body at all. */
  let page: "html" | "empty" = "html";
  beforeAll(async () => {
    // Redirects every API call to a sign-in page, as a gateway or an expired session may.
    server = http.createServer((req, res) => {
      if (req.url?.startsWith("/signin")) {
        if (page === "empty") res.writeHead(200).end();
        else res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end("<html>Sign in</html>");
      } else res.writeHead(302, { location: "/signin?returnUrl=x" }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/contoso`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("the subscription list and a subscription read name the page, not an empty org", async () => {
    page = "html";
    const client = new AdoClient({ orgUrl: url, auth: { kind: "pat", pat: "x".repeat(52) }, retryBaseMs: 1 });
    const listed = client.listSubscriptions();
    await expect(listed).rejects.toThrow(AdoError);
    await expect(listed).rejects.toThrow(
      /not JSON \(text\/html.*check the organization URL and the credential/,
    );
    await expect(client.getSubscription("3f0e1f6a-0000-4000-8000-000000000001")).rejects.toThrow(/not JSON/);
  });

  test("a 200 with no body is an error too, except for a DELETE", async () => {
    page = "empty";
    const client = new AdoClient({ orgUrl: url, auth: { kind: "pat", pat: "x".repeat(52) }, retryBaseMs: 1 });
    await expect(client.listSubscriptions()).rejects.toThrow(/no body/);
    await expect(client.deleteSubscription("3f0e1f6a-0000-4000-8000-000000000001")).resolves.toBe(true);
  });
});
