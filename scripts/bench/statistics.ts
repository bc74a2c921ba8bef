/**
 * The few statistics the benchmarks print: medians, and how far a median of noisy rounds can be
 * trusted. Pure functions, tested directly (test/scripts/bench-statistics.test.ts).
 */

/** The confidence the benchmarks print their intervals at. */
export const CONFIDENCE = 0.95;

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of no values");
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** P(B <= k) for B ~ Binomial(n, 1/2). */
function binomialHalfCdf(n: number, k: number): number {
  // Summed in log space: 2^n and C(n, i) overflow a double beyond about a thousand rounds.
  let logTerm = -n * Math.LN2; // i = 0: C(n, 0) / 2^n
  let sum = 0;
  for (let i = 0; i <= k; i++) {
    sum += Math.exp(logTerm);
    logTerm += Math.log((n - i) / (i + 1)); // C(n, i + 1) = C(n, i) · (n − i) / (i + 1)
  }
  return Math.min(1, sum);
}

export interface MedianInterval {
  low: number;
  high: number;
  /**
   * The interval's actual coverage: at least the confidence asked for, except when there are too few
   * values for it; the interval is then the whole range, and this says how much less it covers.
   */
  coverage: number;
}

/**
 * A distribution-free confidence interval for the median: the order statistics x(l) and x(n+1−l),
 * with l the largest index such that P(Binomial(n, ½) ≤ l − 1) ≤ (1 − confidence) / 2. It assumes
 * only that the values are independent draws of one distribution (the textbook sign-test interval,
 * e.g. Conover, "Practical Nonparametric Statistics", ch. 3.2), which per-round ratios of interleaved
 * rounds are close to. With too few values for the confidence asked, it is the whole range.
 */
export function medianInterval(xs: readonly number[], confidence = CONFIDENCE): MedianInterval {
  if (xs.length === 0) throw new Error("interval of no values");
  if (!(confidence > 0 && confidence < 1)) throw new Error("confidence must be between 0 and 1");
  const sorted = [...xs].sort((x, y) => x - y);
  const n = sorted.length;
  const tail = (1 - confidence) / 2;
  let l = 0; // 1-based index of the lower order statistic; 0: none qualifies
  while (l + 1 <= n / 2 && binomialHalfCdf(n, l) <= tail) l++;
  if (l === 0) return { low: sorted[0], high: sorted[n - 1], coverage: 1 - 2 * binomialHalfCdf(n, 0) };
  return {
    low: sorted[l - 1],
    high: sorted[n - l],
    coverage: 1 - 2 * binomialHalfCdf(n, l - 1),
  };
}

/**
 * What an interval says of a floor such as "e/a >= 0.9": nothing ("undecided") while it straddles
 * the floor or covers less than `confidence` (too few values).
 */
export function verdict(
  interval: MedianInterval,
  floor: number,
  confidence = CONFIDENCE,
): "met" | "not met" | "undecided" {
  if (interval.coverage < confidence) return "undecided";
  if (interval.low >= floor) return "met";
  if (interval.high < floor) return "not met";
  return "undecided";
}

/** "" at full confidence, else " (only 50 %: too few rounds)": what a printed interval falls short of. */
export function coverageNote(interval: MedianInterval, samples: string, confidence = CONFIDENCE): string {
  return interval.coverage < confidence
    ? ` (only ${Math.round(interval.coverage * 100)} %: too few ${samples})`
    : "";
}
