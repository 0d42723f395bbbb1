import { describe, expect, it } from 'vitest';
import { Prng } from './prng.js';
import {
  bootstrapCI,
  compareSamples,
  formatCount,
  formatDelta,
  formatNs,
  formatPercent,
  geomean,
  mannWhitneyP,
  median,
  quantile,
  ratioOfMedians,
} from './stats.js';

/** Normal(mu, sd) samples by Box–Muller over the seeded PRNG. */
function normal(rng: Prng, n: number, mu: number, sd: number): number[] {
  return Array.from({ length: n }, () => {
    const u = 1 - rng.float();
    const v = rng.float();
    return mu + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  });
}

/** Exponential with rate 1 (median ln 2): skewed, like timings. */
function exponential(rng: Prng, n: number, scale: number): number[] {
  return Array.from({ length: n }, () => -Math.log(1 - rng.float()) * scale);
}

describe('medians and quantiles', () => {
  it('interpolate between ranks', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantile([10], 0.9)).toBe(10);
    expect(() => median([])).toThrow();
  });
});

describe('bootstrap confidence interval', () => {
  it('covers the true median of known distributions about 95% of the time (fixed seed)', () => {
    const rng = new Prng(42);
    let coveredNormal = 0;
    let coveredExp = 0;
    const trials = 60;
    for (let t = 0; t < trials; t++) {
      const xs = normal(rng, 40, 10, 2);
      const ci = bootstrapCI(xs, median, { seed: t + 1, resamples: 1000 });
      if (ci.lo <= 10 && 10 <= ci.hi) coveredNormal++;
      expect(ci.lo).toBeLessThanOrEqual(ci.value);
      expect(ci.value).toBeLessThanOrEqual(ci.hi);
      const ys = exponential(rng, 40, 1);
      const cy = bootstrapCI(ys, median, { seed: t + 1, resamples: 1000 });
      if (cy.lo <= Math.LN2 && Math.LN2 <= cy.hi) coveredExp++;
    }
    // Nominal 95 %; the percentile bootstrap of a median runs a little under.
    expect(coveredNormal / trials).toBeGreaterThanOrEqual(0.85);
    expect(coveredExp / trials).toBeGreaterThanOrEqual(0.85);
  });

  it('is deterministic for a seed, narrows with more data, and is a point for one value', () => {
    const xs = normal(new Prng(7), 30, 5, 1);
    expect(bootstrapCI(xs, median, { seed: 3 })).toEqual(bootstrapCI(xs, median, { seed: 3 }));
    const wide = bootstrapCI(normal(new Prng(8), 10, 5, 1), median, { seed: 1 });
    const narrow = bootstrapCI(normal(new Prng(8), 1000, 5, 1), median, {
      seed: 1,
      resamples: 500,
    });
    expect(narrow.hi - narrow.lo).toBeLessThan((wide.hi - wide.lo) / 3);
    expect(bootstrapCI([4])).toEqual({ value: 4, lo: 4, hi: 4 });
  });

  it('gives a ratio of medians whose interval covers the true ratio', () => {
    const rng = new Prng(9);
    let covered = 0;
    for (let t = 0; t < 40; t++) {
      const a = normal(rng, 30, 8, 1); // true median 8
      const b = normal(rng, 30, 10, 1); // true median 10
      const r = ratioOfMedians(a, b, { seed: t, resamples: 1000 });
      if (r.lo <= 0.8 && 0.8 <= r.hi) covered++;
      expect(r.value).toBeCloseTo(median(a) / median(b), 12);
    }
    expect(covered).toBeGreaterThanOrEqual(34);
  });
});

describe('Mann–Whitney U p-value', () => {
  it('is exact for small samples without ties', () => {
    // Complete separation of 5 and 5: 2 of C(10, 5) = 252 arrangements.
    expect(mannWhitneyP([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])).toBeCloseTo(2 / 252, 12);
    expect(mannWhitneyP([6, 7, 8, 9, 10], [1, 2, 3, 4, 5])).toBeCloseTo(2 / 252, 12);
    // Interleaved: no evidence.
    expect(mannWhitneyP([1, 3, 5, 7, 9], [2, 4, 6, 8, 10])).toBeGreaterThan(0.5);
  });

  it('is small for clearly different samples and large for identical ones', () => {
    const rng = new Prng(11);
    const a = normal(rng, 60, 10, 1);
    const b = normal(rng, 60, 12, 1);
    expect(mannWhitneyP(a, b)).toBeLessThan(0.001);
    expect(mannWhitneyP(a, a)).toBe(1);
    expect(mannWhitneyP([5, 5, 5], [5, 5, 5])).toBe(1);
    const c = normal(rng, 60, 10, 1);
    expect(mannWhitneyP(a, c)).toBeGreaterThan(0.05);
    // With ties: the normal approximation.
    expect(mannWhitneyP([1, 1, 2, 2, 3, 3], [7, 7, 8, 8, 9, 9])).toBeLessThan(0.01);
  });
});

describe('geomean', () => {
  it('is the geometric mean of positive values', () => {
    expect(geomean([1, 4, 16])).toBeCloseTo(4, 12);
    expect(geomean([0.5, 2])).toBeCloseTo(1, 12);
    expect(Number.isNaN(geomean([]))).toBe(true);
    expect(() => geomean([1, 0])).toThrow(/non-positive/);
  });
});

describe('formatting', () => {
  it('prints benchstat-style deltas: a signed percentage with p when significant, else ~', () => {
    const sig = compareSamples([8.28, 8.3, 8.25, 8.27, 8.29], [10, 10.1, 9.9, 10.05, 9.95]);
    expect(sig.significant).toBe(true);
    expect(formatDelta(sig)).toBe('−17.2% (p=0.008 n=5)');
    expect(formatDelta(sig, { n: false })).toBe('−17.2% (p=0.008)');
    const same = compareSamples([1, 2, 3, 4, 5], [1.5, 2.5, 3.5, 4.5, 5.5]);
    expect(same.significant).toBe(false);
    expect(formatDelta(same)).toBe('~');
    expect(formatDelta(same, { withP: true })).toMatch(/^~ \(p=0\.\d{3} n=5\)$/);
    const slower = compareSamples([12, 12.1, 12.2], [10, 10.1, 10.2, 10.3]);
    expect(slower.ratio.value).toBeGreaterThan(1);
    // 3 vs 4 values: the smallest possible p is 2/35 > 0.05 — never significant.
    expect(formatDelta(slower)).toBe('~');
    expect(formatPercent(2.5)).toBe('+150%');
    expect(formatPercent(1)).toBe('0.0%');
  });

  it('scales units per value and never prints 0.0000 or NaN', () => {
    expect(formatNs(812)).toBe('812 ns');
    expect(formatNs(1234)).toBe('1.23 µs');
    expect(formatNs(45_600_000)).toBe('45.6 ms');
    expect(formatNs(2.5e9)).toBe('2.50 s');
    expect(formatNs(0.5)).toBe('0.500 ns');
    expect(formatNs(Number.NaN)).toBe('—');
    expect(formatCount(0.000976)).toBe('0.000976');
    expect(formatCount(12)).toBe('12');
    expect(formatCount(2.8349)).toBe('2.83');
  });
});
