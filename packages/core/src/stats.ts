/**
 * Statistics for benchmarks (`vmalab bench`, `vmalab compare`, the packages'
 * micro-benchmarks): medians, seeded
 * bootstrap confidence intervals, the ratio of two medians, the Mann–Whitney
 * U test, geometric means and benchstat-style formatting.
 *
 * Everything random is drawn from core's seeded `Prng`, so the same samples
 * and seed give the same interval on every machine (a report can be
 * regenerated bit for bit from its raw samples).
 */
import { Prng } from './prng.js';

/** Quantile `q` ∈ [0, 1] of sorted values, linear interpolation between ranks (R type 7). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('quantile of no values');
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const a = sorted[lo] as number;
  const b = sorted[Math.min(lo + 1, n - 1)] as number;
  return a + (h - lo) * (b - a);
}

export function quantile(xs: readonly number[], q: number): number {
  return quantileSorted(
    [...xs].sort((a, b) => a - b),
    q,
  );
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

export interface BootstrapOptions {
  /** Seed of the resampling (default 1). */
  seed?: number;
  /** Number of resamples (default 10 000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
}

/** A point estimate and its confidence interval. */
export interface Estimate {
  value: number;
  lo: number;
  hi: number;
}

function resample(xs: readonly number[], rng: Prng, into: number[]): number[] {
  const n = xs.length;
  for (let i = 0; i < n; i++) into[i] = xs[rng.int(n)] as number;
  return into;
}

/**
 * Percentile bootstrap confidence interval of `stat` over `xs`: `resamples`
 * samples of `xs.length` values drawn with replacement. One value gives a
 * zero-width interval.
 */
export function bootstrapCI(
  xs: readonly number[],
  stat: (sample: readonly number[]) => number = median,
  opts: BootstrapOptions = {},
): Estimate {
  if (xs.length === 0) throw new Error('bootstrap of no values');
  const value = stat(xs);
  if (xs.length === 1) return { value, lo: value, hi: value };
  const { seed = 1, resamples = 10_000, level = 0.95 } = opts;
  const rng = new Prng(seed);
  const buf = new Array<number>(xs.length);
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) stats[r] = stat(resample(xs, rng, buf));
  stats.sort();
  const s = Array.from(stats);
  return { value, lo: quantileSorted(s, (1 - level) / 2), hi: quantileSorted(s, (1 + level) / 2) };
}

/**
 * `median(a) / median(b)` with a bootstrap confidence interval: `a` and `b`
 * are resampled independently (unpaired, as benchstat treats two sets of
 * runs).
 */
export function ratioOfMedians(
  a: readonly number[],
  b: readonly number[],
  opts: BootstrapOptions = {},
): Estimate {
  if (a.length === 0 || b.length === 0) throw new Error('ratio of no values');
  const value = median(a) / median(b);
  const { seed = 1, resamples = 10_000, level = 0.95 } = opts;
  if (a.length === 1 && b.length === 1) return { value, lo: value, hi: value };
  const rng = new Prng(seed);
  const bufA = new Array<number>(a.length);
  const bufB = new Array<number>(b.length);
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    stats[r] = median(resample(a, rng, bufA)) / median(resample(b, rng, bufB));
  }
  stats.sort();
  const s = Array.from(stats);
  return { value, lo: quantileSorted(s, (1 - level) / 2), hi: quantileSorted(s, (1 + level) / 2) };
}

/** P(U = u) for u = 0 … n1·n2 under the null hypothesis, no ties. */
function exactUDistribution(n1: number, n2: number): Float64Array {
  // f(i, m, u): arrangements of i a's and m b's with U = u, built up over i
  // (f(i, m, u) = f(i − 1, m, u − m) + f(i, m − 1, u)). Counts up to
  // C(100, 50) ≈ 1e29 fit a double; only their ratios matter.
  const maxU = n1 * n2;
  let prev: Float64Array[] = [];
  for (let m = 0; m <= n2; m++) {
    const row = new Float64Array(maxU + 1);
    row[0] = 1;
    prev.push(row);
  }
  for (let i = 1; i <= n1; i++) {
    const cur: Float64Array[] = [];
    for (let m = 0; m <= n2; m++) {
      const row = new Float64Array(maxU + 1);
      const fromA = prev[m] as Float64Array;
      const fromB = m > 0 ? (cur[m - 1] as Float64Array) : undefined;
      for (let u = 0; u <= i * m; u++) {
        row[u] = (u >= m ? (fromA[u - m] as number) : 0) + (fromB ? (fromB[u] as number) : 0);
      }
      cur.push(row);
    }
    prev = cur;
  }
  const last = prev[n2] as Float64Array;
  let total = 0;
  for (const c of last) total += c;
  return last.map((c) => c / total);
}

function normalCdf(z: number): number {
  // Abramowitz & Stegun 7.1.26 through erf; |error| < 1.5e-7.
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const y =
    1 -
    ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) *
      t *
      Math.exp(-x * x);
  return z >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}

/**
 * Two-sided p-value of the Mann–Whitney U test that `a` and `b` come from the
 * same distribution. Exact (the full U distribution) for up to 50 values a
 * side without ties — benchstat's case of a few rounds each; otherwise the
 * normal approximation with tie and continuity corrections. Deterministic.
 */
export function mannWhitneyP(a: readonly number[], b: readonly number[]): number {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return 1;
  const all = [...a.map((v) => ({ v, s: 0 })), ...b.map((v) => ({ v, s: 1 }))].sort(
    (x, y) => x.v - y.v,
  );
  // Mid-ranks for ties.
  let rankSumA = 0;
  let tieTerm = 0;
  let ties = false;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && (all[j + 1] as { v: number }).v === (all[i] as { v: number }).v)
      j++;
    const rank = (i + j) / 2 + 1;
    const t = j - i + 1;
    if (t > 1) {
      ties = true;
      tieTerm += t ** 3 - t;
    }
    for (let k = i; k <= j; k++) if ((all[k] as { s: number }).s === 0) rankSumA += rank;
    i = j + 1;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  if (tieTerm === n ** 3 - n) return 1; // every value equal
  if (!ties && n1 <= 50 && n2 <= 50) {
    const dist = exactUDistribution(n1, n2);
    let lower = 0;
    let upper = 0;
    for (let k = 0; k < dist.length; k++) {
      if (k <= u) lower += dist[k] as number;
      if (k >= u) upper += dist[k] as number;
    }
    return Math.min(1, 2 * Math.min(lower, upper));
  }
  const mean = (n1 * n2) / 2;
  const sd = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sd === 0) return 1;
  const z = (Math.abs(u - mean) - 0.5) / sd;
  if (z <= 0) return 1;
  return Math.min(1, 2 * (1 - normalCdf(z)));
}

/** Geometric mean of positive values (NaN for none). */
export function geomean(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  let s = 0;
  for (const x of xs) {
    if (!(x > 0)) throw new Error(`geomean of a non-positive value: ${x}`);
    s += Math.log(x);
  }
  return Math.exp(s / xs.length);
}

/** An A/B comparison of two sets of measurements (new `a` over old/baseline `b`). */
export interface Delta {
  /** median(a) / median(b) with its bootstrap CI. */
  ratio: Estimate;
  /** Mann–Whitney U two-sided p-value. */
  p: number;
  na: number;
  nb: number;
  /** p < alpha and the ratio's interval excludes 1. */
  significant: boolean;
}

export function compareSamples(
  a: readonly number[],
  b: readonly number[],
  opts: BootstrapOptions & { alpha?: number } = {},
): Delta {
  const ratio = ratioOfMedians(a, b, opts);
  const p = mannWhitneyP(a, b);
  const significant = p < (opts.alpha ?? 0.05) && (ratio.hi < 1 || ratio.lo > 1);
  return { ratio, p, na: a.length, nb: b.length, significant };
}

/** `−17.2%`: a ratio as a signed percentage change, with a true minus sign. */
export function formatPercent(ratio: number): string {
  const pct = (ratio - 1) * 100;
  const digits = Math.abs(pct) >= 100 ? 0 : 1;
  const s = Math.abs(pct).toFixed(digits);
  if (Number(s) === 0) return '0.0%';
  return `${pct < 0 ? '−' : '+'}${s}%`;
}

/**
 * benchstat style: `−17.2% (p=0.008 n=5)` when the difference is significant,
 * else `~` (with the p-value: `~ (p=0.310 n=5)` when `withP`).
 * `n` is shown as `n=5` for equal sides, `n=5+6` otherwise.
 */
export function formatDelta(d: Delta, opts: { n?: boolean; withP?: boolean } = {}): string {
  const n = opts.n === false ? '' : ` n=${d.na === d.nb ? d.na : `${d.na}+${d.nb}`}`;
  const p = `(p=${d.p.toFixed(3)}${n})`;
  if (!d.significant) return opts.withP ? `~ ${p}` : '~';
  return `${formatPercent(d.ratio.value)} ${p}`;
}

/** A duration in nanoseconds with a unit scaled to the value: `812 ns`, `1.23 µs`, `45.6 ms`. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '—';
  const units: [number, string][] = [
    [1e9, 's'],
    [1e6, 'ms'],
    [1e3, 'µs'],
  ];
  for (const [scale, unit] of units) {
    if (Math.abs(ns) >= scale) return `${sig3(ns / scale)} ${unit}`;
  }
  return `${sig3(ns)} ns`;
}

/** Three significant digits, no exponent below 1e21, never `0.000`. */
export function sig3(x: number): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toString();
  const digits = Math.max(0, 2 - Math.floor(Math.log10(a)));
  return x.toFixed(Math.min(digits, 12));
}

/** A count per operation: integers plainly, fractions to three significant digits. */
export function formatCount(x: number): string {
  if (Number.isInteger(x)) return x.toString();
  return sig3(x);
}
