/**
 * Which delivery traces the receiver records and exports: all of them while deliveries come slower
 * than a limit, about the limit's worth above it, each kept trace carrying its weight (how many
 * deliveries it stands for) so that the alerts and the dashboard, which count delivery spans, sum
 * the weights and still count every delivery (components/receiver/telemetry-kql.ts). Why: recording
 * a span in the OpenTelemetry SDK is most of telemetry's cost per delivery (docs/receiver.md,
 * "Telemetry with sampled delivery traces"), so a limit on recorded traces bounds that cost however fast deliveries come.
 *
 * Two decisions per delivery (DeliverySampling):
 * - **At its start** (head), per route kind: record it (a real span, with its store spans) or not
 *   (no span at all, nothing made). One in k is recorded, k from the route's recent rate, so the
 *   recorded trace stands for k deliveries and each of its store spans for k store calls.
 * - **At its end**, per outcome × organization (what the alerts split by): a stratum that is under
 *   the limit (it was in the window before, and this window has not yet had its share; at least
 *   its first delivery) keeps every delivery: one recorded at the start gets weight 1, one that was not is
 *   written then, from its start time (its delivery span only: its store calls were not traced). So
 *   a quiet organization beside a busy one, and rare outcomes (503s, rejections) beside thousands of
 *   stored deliveries, are kept whole, and the quiet-organization alert cannot miss an
 *   organization's only delivery. A delivery of a busy stratum is kept only if recorded at its
 *   start, with weight k.
 * Each delivery is thus kept with a known probability (1, or 1/k) and weighted by its inverse: the
 * weights add up to the true count on average (Horvitz–Thompson).
 *
 * How k comes about (DeliveryTraceSampler), for each stratum:
 * - **From the past only**: k for a 100 ms window is the stratum's count in the window before it over
 *   its share of the limit (k = ⌈count / budget⌉); at the end, a stratum idle then has k = 1, so a
 *   quiet stratum's first deliveries are kept (up to its share). At the start, the last busy window
 *   of the past 5 s counts instead, so that bursts with short pauses between them are thinned from
 *   their first window and the recorded traces stay near the limit.
 * - **Systematic, from a random start, with integer weights**: one in k arrivals, counted on across
 *   windows, starting at a random one of the first k whenever k changes. Each arrival is thus kept
 *   with probability exactly 1/k (a fixed start would over-count every change of k), the weights of a
 *   steady stream add up to its count exactly, and integer weights suit KQL's weighted percentiles
 *   (`percentilesw` takes integer weights).
 *
 * Pure: no OpenTelemetry import, no clock of its own (app/telemetry/receiver.ts applies it).
 */

/** Length of a sampling window, in milliseconds. */
export const samplingWindowMs = 100;

/** How far back (in windows: 5 s) the start decision remembers a burst. */
export const headMemoryWindows = 50;

/**
 * Strata tracked at most. Outcomes are a handful and organizations few, but an organization name
 * comes from event bodies; beyond this many, new strata share one.
 */
export const maxStrata = 1000;

const overflowStratum = "\u0000overflow";

interface Stratum {
  /** Window number (time / samplingWindowMs) of `count`. */
  window: number;
  /** Arrivals in that window. */
  count: number;
  /** One in k is kept in this window. */
  k: number;
  /** Arrivals modulo k, from a random start in [0, k) when k last changed; 0 is kept. */
  phase: number;
}

export class DeliveryTraceSampler {
  /** Traces per window a stratum may export before it is thinned. */
  private readonly budget: number;
  private readonly strata = new Map<string, Stratum>();

  /**
   * `perSecond`: arrivals per second each stratum keeps at most (about; see the module comment).
   * `random`: uniform in [0, 1), for the start of each run of one in k (tests pass a seeded one).
   * `memoryWindows`: how many windows back the last busy one still sets k. 1: only the window just
   * before (a stratum idle for 100 ms is kept whole again); more: a burst after a short pause is
   * thinned from its start.
   */
  constructor(
    readonly perSecond: number,
    private readonly random: () => number = Math.random,
    private readonly memoryWindows = 1,
  ) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond))
      throw new RangeError(`traces per second must be a positive number (got ${perSecond})`);
    this.budget = (perSecond * samplingWindowMs) / 1000;
  }

  /**
   * One arrival of `stratum` at `nowMs` (a monotonic clock): 0 if it is not kept, else its weight,
   * the whole number of the stratum's arrivals it stands for.
   */
  weight(stratum: string, nowMs: number): number {
    const s = this.arrive(stratum, nowMs);
    const kept = s.phase === 0;
    s.phase = (s.phase + 1) % s.k;
    return kept ? s.k : 0;
  }

  /**
   * One arrival of `stratum` at `nowMs`: is the stratum under its limit, i.e. was it under it in
   * the window before and is this arrival within the window's share (at least the first one)? A
   * stratum waking up with a burst keeps its first arrivals, not the whole first window.
   */
  underLimit(stratum: string, nowMs: number): boolean {
    const s = this.arrive(stratum, nowMs);
    return s.k === 1 && s.count <= Math.max(1, this.budget);
  }

  private arrive(key: string, nowMs: number): Stratum {
    const s = this.stratum(key);
    const window = Math.floor(nowMs / samplingWindowMs);
    if (window !== s.window) {
      // s.count is the count of the last window that had arrivals.
      const previous = window - s.window <= this.memoryWindows ? s.count : 0;
      const k = Math.max(1, Math.ceil(previous / this.budget));
      if (k !== s.k) {
        s.k = k;
        s.phase = Math.floor(this.random() * k);
      }
      s.window = window;
      s.count = 0;
    }
    s.count++;
    return s;
  }

  private stratum(key: string): Stratum {
    let s = this.strata.get(key);
    if (s) return s;
    if (this.strata.size >= maxStrata) key = overflowStratum;
    s = this.strata.get(key);
    if (!s) {
      s = { window: -Infinity, count: 0, k: 1, phase: 0 };
      this.strata.set(key, s);
    }
    return s;
  }
}

/** The stratum of a delivery at its end: its outcome and organization. */
export function deliveryStratum(outcome: string, org: string): string {
  return `${outcome}\u0000${org}`;
}

/** The receiver's two decisions per delivery (see the module comment), with one limit. */
export class DeliverySampling {
  private readonly head: DeliveryTraceSampler;
  private readonly tail: DeliveryTraceSampler;

  /** `perSecond`: HOOKFLEET_DELIVERY_TRACES_PER_SECOND. `random` as for DeliveryTraceSampler. */
  constructor(
    readonly perSecond: number,
    random: () => number = Math.random,
  ) {
    // The start decision bounds the cost, so it remembers a burst for 5 s: ADO sends in bursts (a
    // push raises several events; retries come in rounds), and a burst whose first 100 ms were
    // all recorded, every second, would record more than the limit. The end decision keeps quiet
    // strata whole, so it looks at the window just before only.
    this.head = new DeliveryTraceSampler(perSecond, random, headMemoryWindows);
    this.tail = new DeliveryTraceSampler(perSecond, random);
  }

  /**
   * A delivery starts on a route of this kind: 0 if it is not to be recorded, else the weight of
   * its recorded trace (and of each of its store spans).
   */
  atStart(routeKind: string, nowMs: number): number {
    return this.head.weight(routeKind, nowMs);
  }

  /**
   * The delivery ended with this outcome, from this organization; `startWeight` is what atStart
   * said. 0: no trace. Else the weight of its delivery span, which must be recorded (written now if
   * it was not recorded from the start).
   */
  atEnd(outcome: string, org: string, startWeight: number, nowMs: number): number {
    return this.tail.underLimit(deliveryStratum(outcome, org), nowMs) ? 1 : startWeight;
  }
}
