/**
 * Which delivery traces the receiver exports: all of them while a kind of delivery arrives slower
 * than the limit, one in k above it, each kept trace carrying k as its weight (how many deliveries
 * it stands for). Why: serializing and sending the spans is most of telemetry's cost per delivery
 * (docs/receiver.md, "Telemetry overhead"), so a limit on exported traces bounds that cost however
 * fast deliveries come, while the alerts and the dashboard, which count delivery spans, sum the
 * weights and still count every delivery (components/receiver/telemetry-kql.ts).
 *
 * Pure (no OpenTelemetry import, no clock of its own): the span processor that applies it is
 * sampling-processor.ts.
 *
 * - **Stratified**: each stratum (a delivery's outcome and organization) has its own rate, so a
 *   rare outcome (503s, rejections) or a quiet organization is kept whole while a busy one is
 *   thinned; the quiet-organization alert cannot miss an organization's only delivery.
 * - **Decided from the past only**: k for a 100 ms window comes from the stratum's count in the
 *   window before it (k = ⌈count / budget⌉); a stratum that was idle then has k = 1. A burst's first
 *   window is therefore kept whole.
 * - **Systematic, from a random start, with integer weights**: one in k arrivals, counted on across
 *   windows, starting at a random one of the first k whenever k changes. Each delivery is thus kept
 *   with probability exactly 1/k, so the weights add up to the true count on average (a fixed start
 *   would over-count every change of k), and to it exactly on a steady stream; and integer weights
 *   suit KQL's weighted percentiles (`percentilesw` takes integer weights).
 */

/** Length of a sampling window, in milliseconds. */
export const samplingWindowMs = 100;

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
   * `perSecond`: traces per second each stratum exports at most (about; see the module comment).
   * `random`: uniform in [0, 1), for the start of each run of one in k (tests pass a seeded one).
   */
  constructor(
    readonly perSecond: number,
    private readonly random: () => number = Math.random,
  ) {
    if (!(perSecond > 0) || !Number.isFinite(perSecond))
      throw new RangeError(`traces per second must be a positive number (got ${perSecond})`);
    this.budget = (perSecond * samplingWindowMs) / 1000;
  }

  /**
   * One delivery of `stratum` ended at `nowMs` (a monotonic clock): 0 if its trace is dropped, else
   * its weight, the whole number of the stratum's deliveries it stands for.
   */
  weight(stratum: string, nowMs: number): number {
    const s = this.stratum(stratum);
    const window = Math.floor(nowMs / samplingWindowMs);
    if (window !== s.window) {
      const previous = window === s.window + 1 ? s.count : 0;
      const k = Math.max(1, Math.ceil(previous / this.budget));
      if (k !== s.k) {
        s.k = k;
        s.phase = Math.floor(this.random() * k);
      }
      s.window = window;
      s.count = 0;
    }
    s.count++;
    const kept = s.phase === 0;
    s.phase = (s.phase + 1) % s.k;
    return kept ? s.k : 0;
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

/** The stratum of a delivery: its outcome and organization. */
export function deliveryStratum(outcome: string, org: string): string {
  return `${outcome}\u0000${org}`;
}
