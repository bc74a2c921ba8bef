/**
 * The benchmarks' confidence interval for a median, checked against the sign-test ranks published
 * in nonparametric statistics tables (Conover, "Practical Nonparametric Statistics", table A3;
 * the same ranks follow from the binomial distribution with p = ½).
 */
import { coverageNote, median, medianInterval, verdict } from "../../scripts/bench/statistics";

/** 1..n in a scrambled order, so that order statistic k is the value k. */
function ranks(n: number): number[] {
  const xs = Array.from({ length: n }, (_, i) => i + 1);
  for (let i = 0; i < n; i++) {
    const j = (i * 7919) % n;
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

describe("median", () => {
  it("takes the middle value, or the mean of the two middle ones, whatever the input order", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });

  it("refuses no values", () => {
    expect(() => median([])).toThrow("median of no values");
  });
});

describe("medianInterval (95 %)", () => {
  it.each([
    // n, lower rank, upper rank, coverage (1 − 2·P(B ≤ lower − 1))
    [6, 1, 6, 0.96875],
    [10, 2, 9, 0.97852],
    [20, 6, 15, 0.95861],
    [100, 40, 61, 0.9648],
    // A long run (--rounds 120): the interval spans the middle fifth of the rounds.
    [120, 49, 72, 0.96468],
  ])("n = %i: the order statistics %i and %i, covering %f", (n, low, high, coverage) => {
    const interval = medianInterval(ranks(n));
    expect(interval.low).toBe(low);
    expect(interval.high).toBe(high);
    expect(interval.coverage).toBeCloseTo(coverage, 4);
  });

  it("is the whole range, and says it covers less, when there are too few values for 95 %", () => {
    const interval = medianInterval([0.9, 0.7, 1.1, 0.8, 1.0]);
    expect(interval).toMatchObject({ low: 0.7, high: 1.1 });
    expect(interval.coverage).toBeCloseTo(1 - 2 / 32, 10);
    expect(medianInterval([0.9])).toEqual({ low: 0.9, high: 0.9, coverage: 0 });
  });

  it("refuses no values and a confidence outside (0, 1)", () => {
    expect(() => medianInterval([])).toThrow("interval of no values");
    expect(() => medianInterval([1, 2], 1)).toThrow("confidence must be between 0 and 1");
  });
});

describe("verdict against a floor", () => {
  it("is met only when the whole interval is at or above the floor, not met only when all of it is below", () => {
    expect(verdict({ low: 0.9, high: 0.95, coverage: 0.95 }, 0.9)).toBe("met");
    expect(verdict({ low: 0.8, high: 0.89, coverage: 0.95 }, 0.9)).toBe("not met");
    expect(verdict({ low: 0.86, high: 0.93, coverage: 0.95 }, 0.9)).toBe("undecided");
  });

  it("is undecided while the interval covers less than the confidence asked for (too few rounds)", () => {
    const threeLowRounds = medianInterval([0.7, 0.75, 0.8]);
    expect(threeLowRounds.high).toBeLessThan(0.9);
    expect(verdict(threeLowRounds, 0.9)).toBe("undecided");
    expect(verdict(threeLowRounds, 0.9, 0.7)).toBe("not met");
  });
});

describe("coverageNote", () => {
  it("says how far short of 95 % an interval falls, and nothing when it does not", () => {
    expect(coverageNote(medianInterval([0.8, 0.9]), "rounds")).toBe(" (only 50 %: too few rounds)");
    expect(coverageNote(medianInterval(ranks(20)), "blocks")).toBe("");
  });
});
