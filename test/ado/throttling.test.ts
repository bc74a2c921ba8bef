/**
 * Many concurrent callers against a binding rate limit: the org's throttling gate must slow the
 * client down as X-RateLimit-Remaining falls without turning the callers into a queue of
 * reserved start slots (which once left 400 hooks at ~1 call/s with nothing in flight).
 */
import { AdoClient, type AdoLogger } from "../../ado/client";
import { startAdoEmulator, type AdoEmulator } from "../../devkit/ado-emulator";
import { webhookInput } from "../../devkit/recording-receiver";

const GET_ONE = "GET /_apis/hooks/subscriptions/{id}";

function countingLogger() {
  const seen = { held: 0, heldByPause: 0, retried429: 0 };
  const logger: AdoLogger = {
    debug: (message, fields) => {
      if (!/held by the org's throttling gate/.test(message)) return;
      seen.held++;
      if (fields?.reason === "pause") seen.heldByPause++;
    },
    warn: (message, fields) => {
      if (/retried/.test(message) && fields?.status === 429) seen.retried429++;
    },
  };
  return { logger, seen };
}

describe("the org's throttling gate under many concurrent callers", () => {
  // A fresh emulator (and so a fresh org URL and gate) per test: gates are shared per org.
  let emu: AdoEmulator;
  beforeEach(async () => {
    emu = await startAdoEmulator({ allowBasicAuthOverLoopbackHttp: true });
  });
  afterEach(() => emu.close());

  const maxConcurrency = 4;

  /** A client of the test's org with a counting logger, one subscription to read, and 20 ms latency. */
  async function clientWithSubscription(extra: { retryBaseMs?: number } = {}) {
    const { logger, seen } = countingLogger();
    const client = new AdoClient({
      orgUrl: emu.orgUrl(),
      auth: { kind: "pat", pat: emu.pat },
      maxConcurrency,
      logger,
      ...extra,
    });
    const sub = await client.createSubscription(webhookInput("http://127.0.0.1:9/throttled"));
    emu.setLatency(20);
    return { client, sub, seen };
  }

  test("200 calls arriving while the budget is nearly spent all succeed, paced, within a bound from the budget", async () => {
    const budget = 100;
    const windowMs = 2_000;
    const calls = 200;
    const { client, sub, seen } = await clientWithSubscription({ retryBaseMs: 50 });
    emu.setRateLimit({ enabled: true, budget, windowMs, delayMs: 20 });
    // Spend most of the budget first, so the 200 callers arrive while Remaining is low: the moment
    // a per-caller slot queue would have stretched far into the future.
    await Promise.all(Array.from({ length: budget * 0.9 }, () => client.getSubscription(sub.id)));
    emu.counters.reset();

    const started = Date.now();
    const results = await Promise.all(Array.from({ length: calls }, () => client.getSubscription(sub.id)));
    const seconds = (Date.now() - started) / 1000;

    expect(results.every((s) => s?.id === sub.id)).toBe(true);
    expect(emu.counters.byStatus["200"]).toBe(calls);
    expect(emu.counters.byRoute[GET_ONE]).toBe(calls + (emu.counters.byStatus["429"] ?? 0));
    expect(emu.counters.maxInFlight).toBeLessThanOrEqual(maxConcurrency);
    // The window admits budget/window calls per second for good (1.5 × that before 429s); three
    // times the ideal time is generous. A queue of reserved slots up to 2 s apart needs minutes.
    const idealSeconds = (calls / budget) * (windowMs / 1000);
    expect(seconds).toBeLessThan(3 * idealSeconds + 2);
    // …and the client did slow down rather than run into the limit unchecked.
    expect(seen.held + seen.retried429).toBeGreaterThan(0);
  }, 30_000);

  test("a 429's Retry-After holds every caller of the org until that instant, not only the one that got it", async () => {
    const { client, sub, seen } = await clientWithSubscription();
    emu.counters.reset();
    emu.failNext(1, 429, { route: GET_ONE, retryAfterSeconds: 2 });

    const started = Date.now();
    const all = Promise.all(Array.from({ length: 12 }, () => client.getSubscription(sub.id)));
    // Halfway through the pause only the first wave (one slot per concurrent request) has been sent.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const sentDuringPause = emu.counters.byRoute[GET_ONE];
    const results = await all;

    expect(sentDuringPause).toBeLessThanOrEqual(maxConcurrency);
    expect(results.every((s) => s?.id === sub.id)).toBe(true);
    expect(emu.counters.byStatus["429"]).toBe(1);
    expect(emu.counters.byStatus["200"]).toBe(12);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
    expect(seen.retried429).toBe(1);
    expect(seen.heldByPause).toBeGreaterThan(0);
  }, 30_000);
});
