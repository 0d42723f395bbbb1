/**
 * The maple tree against general-purpose ordered maps, side by side in one
 * process, and __mt_dup against the one-store-per-entry fork it replaced.
 *
 *   pnpm --filter @vmalab/index-maple bench
 *   pnpm --filter @vmalab/index-maple bench -- --sizes=1e5,1e6 --rounds=5 --time=80 --json
 *   pnpm --filter @vmalab/index-maple bench -- --only=find,churn
 *   BENCH_SIZES=1e4 BENCH_ONLY=dup pnpm --filter @vmalab/index-maple bench
 *
 * Sections (`--only=build,find,churn,iterate,dup,memory`, default all):
 *
 * - build / find / churn / iterate at 10^3 … 10^6 entries (`--sizes`).
 *   Entries are VMA-like ranges [start, end): page-aligned, above 2^46, of
 *   1–16 pages, half of them followed by a hole of 1–16 pages. Every
 *   implementation holds the same `Vma` objects:
 *     - `MapleTree` (default options: no ALLOC_RANGE, no RCU) over
 *       [start, end − 1]: `store(first, last, v)`, `find(addr)`,
 *       `store(first, last, null)` + `store(first, last, v)`, `forEach`
 *       (the callback form, as the libraries' `forEachPair`/`forEach`);
 *     - `MapleVmaIndex` (default options: by-store-type, mt-dup, RCU; an
 *       ALLOC_RANGE tree): `insert`, `find`, `remove` + `insert` (with `sync()` after each: two operations), its iterator;
 *     - `sorted-btree` and `@js-sdsl/ordered-map`, keyed by `end`, so "first
 *       entry with end > addr" is their upper bound through the public API
 *       (`nextHigherPair(addr, reused)`, `upperBound(addr).pointer[1]`);
 *       `set`, `delete`/`eraseElementByKey` + `set`/`setElement`,
 *       `forEachPair`/`forEach`.
 *   build = inserting all entries in a shuffled order (per entry); find =
 *   10 000 pre-generated addresses (some above the last entry); churn = 2 000
 *   remove-and-insert-back pairs of existing entries; iterate = every entry
 *   in order (per entry). Before anything is timed, every query's answer, the
 *   contents after a churn pass and the iteration order are compared across
 *   the four; a difference aborts the run.
 * - dup: a tree of K VMA-like entries (each followed by a hole), K = 21 …
 *   51 221 as in the __mt_dup series, copied by `dupInto` into
 *   `new MapleTree({ allocRange: true })` (mt-dup) and
 *   `new MapleTree({ allocRange: true, dup: 'insert' })`, and the whole fork
 *   path `MapleVmaIndex.dup(v => v.clone())` in both modes. The copies are
 *   checked (same entries, mt_validate) and their exact node counts reported;
 *   "advantage growing with K" is judged by Spearman's ρ between K and the
 *   median ratio.
 * - memory: bytes per entry of each structure holding 10^6 entries
 *   (heapUsed + arrayBuffers after/before the build, gc() around it; the
 *   entries themselves existed before), and for the maple trees the kernel's
 *   figure, nodes × 256 bytes / entries. Taken on the builds that the
 *   correctness check makes at 10^6 (or on builds of its own without 10^6).
 *
 * Timing, made for a noisy 2-vCPU machine: `--rounds` rounds (default 5). In
 * each round every implementation is built afresh, in an order rotated from
 * round to round, and timed alone (only its own structure alive); each task
 * runs up to 3 warm-up iterations (fewer when they take over `--time` ms),
 * then timed iterations for `--time` ms (default 80, at least 3), and the
 * round keeps the median iteration (build: builds for `--time` ms, after
 * `--time` ms of warm-up builds when one build takes under a tenth of it;
 * a single build at 10^6). dup: batches of copies (each copy destroyed, untimed,
 * before the next, so that nodes come from a warm slab, as in a
 * fork-and-exit loop), per round in a rotated order of the four variants. A
 * cell is the median of the rounds' medians. A ratio is the median of the
 * per-round ratios (so that a slow spell of the machine hits both sides of
 * most ratios) with a percentile-bootstrap 95 % confidence interval (10 000
 * resamples of the rounds, fixed seed). Against "the fastest library" the
 * ratio takes, in each round, the faster of sorted-btree and js-sdsl. A
 * "≤ 1" target is met when the whole interval is at or below 1, not met when
 * the whole interval is above 1, else a tie; a "≥ 5×" target likewise.
 *
 * Output: progress on stderr, Markdown tables on stdout (or JSON with
 * `--json`, including every round's medians).
 */
import os from 'node:os';
import v8 from 'node:v8';
import { OrderedMap } from '@js-sdsl/ordered-map';
import { Counters, Prng, VM_READ, VM_WRITE, Vma } from '@vmalab/core';
import { bootstrapCI, median } from '@vmalab/core/stats';
import SortedBTree from 'sorted-btree';
import { KERNEL_NODE_BYTES, MapleTree, MapleVmaIndex } from '../src/index.js';

const BTree = SortedBTree.default;
// The harness calls gc() between tasks; V8 would then flush the bytecode (and
// optimized code) of whichever structure sat idle through a few full GCs, and
// its next task would start in the interpreter. Keep compiled code alive.
v8.setFlagsFromString('--no-flush-bytecode');
const P = 4096;
const BASE = 2 ** 46; // addresses above 2^32, as user mappings are

// ---------------------------------------------------------------------------
// Configuration

function arg(name: string): string | undefined {
  const prefix = `--${name}=`;
  const hit = process.argv.find((a) => a.startsWith(prefix));
  return hit?.slice(prefix.length) ?? process.env[`BENCH_${name.toUpperCase()}`];
}
const sizes = (arg('sizes') ?? '1e3,1e4,1e5,1e6').split(',').map((s) => Math.round(Number(s)));
if (sizes.some((n) => !(n >= 10))) throw new Error(`bad --sizes: ${arg('sizes')}`);
const TIME = Number(arg('time') ?? 80);
const ROUNDS = Math.round(Number(arg('rounds') ?? 5));
if (!(TIME > 0)) throw new Error(`bad --time: ${arg('time')}`);
if (!(ROUNDS >= 1)) throw new Error(`bad --rounds: ${arg('rounds')}`);
const SECTIONS = ['build', 'find', 'churn', 'iterate', 'dup', 'memory'] as const;
type Section = (typeof SECTIONS)[number];
const only = new Set(
  (arg('only') ?? SECTIONS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
);
for (const s of only)
  if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`bad --only: ${s}`);
const want = (s: Section) => only.has(s);
const JSON_OUT = process.argv.includes('--json');
const gc = (globalThis as { gc?: (options?: { type: 'major' | 'minor' }) => void }).gc;
/** Empties the young generation between tasks (a full GC at 10^6 costs ~0.2 s). */
const minorGc = () => gc?.({ type: 'minor' });
const collect = () => {
  gc?.();
  gc?.();
};
const log = (msg: string) => process.stderr.write(`${msg}\n`);
if (gc === undefined) log('warning: run with --expose-gc (memory figures will be meaningless)');

/** Operations per timed iteration. */
const FINDS = 10_000;
const CHURNS = 2_000;
const MEMORY_N = 1_000_000;
/** The VMA counts of the __mt_dup series' table. */
const DUP_KS = [21, 121, 221, 421, 821, 1621, 3221, 6421, 12821, 25621, 51221];
/** Forks per 10 s, before / after the series (kernel-facts.md §1.12, cover letter v7). */
const KERNEL_BEFORE = [112100, 76261, 54227, 34035, 20195, 11112, 6017, 3161, 1606, 802, 393];
const KERNEL_AFTER = [114558, 83067, 65008, 45824, 28751, 16072, 8922, 4747, 2436, 1233, 599];

// ---------------------------------------------------------------------------
// Workload

interface Workload {
  /** In address order. */
  vmas: Vma[];
  /** The same VMAs shuffled: the insertion order of every implementation. */
  shuffled: Vma[];
  queries: Float64Array;
  churn: Uint32Array;
}

/** `n` ranges; a hole after each with probability `holeP` (always, for 1). */
function workload(n: number, seed: number, holeP: number): Workload {
  const rng = new Prng(seed);
  const vmas: Vma[] = [];
  let at = BASE;
  for (let i = 0; i < n; i++) {
    const len = (1 + rng.int(16)) * P;
    vmas.push(new Vma(at, at + len, VM_READ | VM_WRITE, null, at / P));
    at += len;
    if (holeP >= 1 || rng.float() < holeP) at += (1 + rng.int(16)) * P;
  }
  const shuffled = vmas.slice();
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = shuffled[i] as Vma;
    shuffled[i] = shuffled[j] as Vma;
    shuffled[j] = t;
  }
  const span = at + 64 * P - BASE; // some queries fall above the last entry
  const queries = new Float64Array(FINDS);
  for (let i = 0; i < FINDS; i++) queries[i] = BASE + Math.floor(rng.float() * span);
  const churn = new Uint32Array(CHURNS);
  for (let i = 0; i < CHURNS; i++) churn[i] = rng.int(n);
  return { vmas, shuffled, queries, churn };
}

// ---------------------------------------------------------------------------
// Implementations: each one's loops are written out so that each is compiled
// for its own structure (no shared, polymorphic call sites).

interface Impl {
  findOne(addr: number): Vma | undefined;
  find(q: Float64Array): number;
  churn(vmas: readonly Vma[], idx: Uint32Array): void;
  iterate(): number;
  list(): Vma[];
  /** Nodes by type, for the maple trees. */
  census?(): { nodes: number; byType: Record<string, number> };
}

function mapleTreeImpl(w: Workload): Impl {
  const tree = new MapleTree<Vma>();
  const src = w.shuffled;
  for (let i = 0; i < src.length; i++) {
    const v = src[i] as Vma;
    if (tree.store(v.start, v.end - 1, v) !== 0) throw new Error(`MapleTree: store ${v}`);
  }
  return {
    findOne: (addr) => tree.find(addr),
    find(q) {
      let sum = 0;
      for (let i = 0; i < q.length; i++) {
        const v = tree.find(q[i] as number);
        if (v !== undefined) sum += v.start;
      }
      return sum;
    },
    churn(vmas, idx) {
      for (let i = 0; i < idx.length; i++) {
        const v = vmas[idx[i] as number] as Vma;
        if (tree.store(v.start, v.end - 1, null) !== 0) throw new Error(`MapleTree: erase ${v}`);
        if (tree.store(v.start, v.end - 1, v) !== 0) throw new Error(`MapleTree: store ${v}`);
      }
    },
    iterate() {
      let sum = 0;
      tree.forEach((v) => {
        sum += v.end - v.start;
      });
      return sum;
    },
    list: () => Array.from(tree.entries(), (e) => e[2]),
    census: () => ({ nodes: tree.nodeCount, byType: tree.nodeCensus() }),
  };
}

function mapleVmaImpl(w: Workload): Impl {
  const index = new MapleVmaIndex(new Counters());
  const src = w.shuffled;
  for (let i = 0; i < src.length; i++) index.insert(src[i] as Vma);
  return {
    findOne: (addr) => index.find(addr),
    find(q) {
      let sum = 0;
      for (let i = 0; i < q.length; i++) {
        const v = index.find(q[i] as number);
        if (v !== undefined) sum += v.start;
      }
      return sum;
    },
    churn(vmas, idx) {
      for (let i = 0; i < idx.length; i++) {
        const v = vmas[idx[i] as number] as Vma;
        index.remove(v);
        index.sync(); // two operations, as munmap + mmap would be
        index.insert(v);
        index.sync();
      }
    },
    iterate() {
      let sum = 0;
      for (const v of index) sum += v.end - v.start;
      return sum;
    },
    list: () => [...index],
    census: () => ({ nodes: index.tree.nodeCount, byType: index.tree.nodeCensus() }),
  };
}

function btreeImpl(w: Workload): Impl {
  const tree = new BTree<number, Vma>();
  const src = w.shuffled;
  for (let i = 0; i < src.length; i++) {
    const v = src[i] as Vma;
    tree.set(v.end, v);
  }
  const pair: [number, Vma] = [0, w.vmas[0] as Vma];
  return {
    findOne: (addr) => tree.nextHigherPair(addr, pair)?.[1],
    find(q) {
      let sum = 0;
      for (let i = 0; i < q.length; i++) {
        const p = tree.nextHigherPair(q[i] as number, pair);
        if (p !== undefined) sum += p[1].start;
      }
      return sum;
    },
    churn(vmas, idx) {
      for (let i = 0; i < idx.length; i++) {
        const v = vmas[idx[i] as number] as Vma;
        tree.delete(v.end);
        tree.set(v.end, v);
      }
    },
    iterate() {
      let sum = 0;
      tree.forEachPair((_k, v) => {
        sum += v.end - v.start;
      });
      return sum;
    },
    list() {
      const out: Vma[] = [];
      tree.forEachPair((_k, v) => {
        out.push(v);
      });
      return out;
    },
  };
}

function sdslImpl(w: Workload): Impl {
  const map = new OrderedMap<number, Vma>();
  const src = w.shuffled;
  for (let i = 0; i < src.length; i++) {
    const v = src[i] as Vma;
    map.setElement(v.end, v);
  }
  return {
    findOne(addr) {
      const it = map.upperBound(addr);
      return it.equals(map.end()) ? undefined : it.pointer[1];
    },
    find(q) {
      const end = map.end();
      let sum = 0;
      for (let i = 0; i < q.length; i++) {
        const it = map.upperBound(q[i] as number);
        if (!it.equals(end)) sum += it.pointer[1].start;
      }
      return sum;
    },
    churn(vmas, idx) {
      for (let i = 0; i < idx.length; i++) {
        const v = vmas[idx[i] as number] as Vma;
        map.eraseElementByKey(v.end);
        map.setElement(v.end, v);
      }
    },
    iterate() {
      let sum = 0;
      map.forEach((e) => {
        sum += e[1].end - e[1].start;
      });
      return sum;
    },
    list() {
      const out: Vma[] = [];
      map.forEach((e) => {
        out.push(e[1]);
      });
      return out;
    },
  };
}

const NAMES = ['MapleTree', 'MapleVmaIndex', 'sorted-btree', 'js-sdsl'] as const;
type Name = (typeof NAMES)[number];
const MAPLES: readonly Name[] = ['MapleTree', 'MapleVmaIndex'];
const LIBS: readonly Name[] = ['sorted-btree', 'js-sdsl'];
const FACTORIES: Record<Name, (w: Workload) => Impl> = {
  MapleTree: mapleTreeImpl,
  MapleVmaIndex: mapleVmaImpl,
  'sorted-btree': btreeImpl,
  'js-sdsl': sdslImpl,
};

// ---------------------------------------------------------------------------
// Equal results first

function sameList(a: readonly Vma[], b: readonly Vma[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Builds the four implementations (all alive at once) and compares them with
 * a reference computed from the sorted array; throws on any difference. With
 * `measure`, each build is also weighed (heap delta, gc() around it).
 */
function checkEqual(w: Workload, measure: boolean): MemoryRow[] {
  const memory: MemoryRow[] = [];
  const impls = NAMES.map((name) => {
    if (!measure) return { name, impl: FACTORIES[name](w) };
    const { impl, row } = weigh(name, w);
    memory.push(row);
    return { name, impl };
  });
  const expect = (name: string, ok: boolean, what: string) => {
    if (!ok) throw new Error(`${name}: ${what} differs (aborting: the implementations disagree)`);
  };
  for (const { name, impl } of impls) expect(name, sameList(impl.list(), w.vmas), 'order');
  // A reference answer computed from the sorted array, by binary search.
  const ends = w.vmas.map((v) => v.end);
  const ref = (addr: number): Vma | undefined => {
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((ends[mid] as number) > addr) hi = mid;
      else lo = mid + 1;
    }
    return w.vmas[lo];
  };
  let sum = 0;
  for (const q of w.queries) {
    const want = ref(q);
    if (want !== undefined) sum += want.start;
    for (const { name, impl } of impls)
      expect(name, impl.findOne(q) === want, `find(0x${q.toString(16)})`);
  }
  for (const { name, impl } of impls) expect(name, impl.find(w.queries) === sum, 'find checksum');
  for (const { impl } of impls) impl.churn(w.vmas, w.churn);
  let total = 0;
  for (const v of w.vmas) total += v.end - v.start;
  for (const { name, impl } of impls) {
    expect(name, sameList(impl.list(), w.vmas), 'order after churn');
    expect(name, impl.iterate() === total, 'iteration checksum');
  }
  for (const { name, impl } of impls)
    for (const q of w.queries) expect(name, impl.findOne(q) === ref(q), 'find after churn');
  return memory;
}

// ---------------------------------------------------------------------------
// Statistics

interface Ratio {
  median: number;
  lo: number;
  hi: number;
}

/** Median of `xs` and its percentile-bootstrap 95 % interval (core's stats, fixed seed). */
function bootstrap(xs: readonly number[]): Ratio {
  const e = bootstrapCI(xs, median, { seed: 0x5eed });
  return { median: e.value, lo: e.lo, hi: e.hi };
}

type Verdict = 'met' | 'not met' | 'tie';
/** A "ratio ≤ bound" target. */
const atMost = (r: Ratio, bound: number): Verdict =>
  r.hi <= bound ? 'met' : r.lo > bound ? 'not met' : 'tie';
/** A "ratio ≥ bound" target. */
const atLeast = (r: Ratio, bound: number): Verdict =>
  r.lo >= bound ? 'met' : r.hi < bound ? 'not met' : 'tie';

/** Spearman's rank correlation (no ties expected). */
function spearman(xs: readonly number[], ys: readonly number[]): number {
  const rank = (v: readonly number[]) => {
    const order = v.map((x, i) => [x, i] as const).sort((a, b) => a[0] - b[0]);
    const r = new Array<number>(v.length).fill(0);
    order.forEach(([, i], k) => {
      r[i] = k;
    });
    return r;
  };
  const rx = rank(xs);
  const ry = rank(ys);
  const n = xs.length;
  let d2 = 0;
  for (let i = 0; i < n; i++) d2 += ((rx[i] as number) - (ry[i] as number)) ** 2;
  return 1 - (6 * d2) / (n * (n * n - 1));
}

// ---------------------------------------------------------------------------
// Timing

const WARMUP = 3;
const MIN_ITERATIONS = 3;
let sink = 0;

/**
 * Warm-up (WARMUP runs, or fewer if they take over TIME ms; at least one),
 * then timed iterations of `run` for TIME ms (at least MIN_ITERATIONS);
 * median ms per iteration.
 */
function timeIterations(run: () => void): number {
  const warm = performance.now() + TIME;
  for (let i = 0; i < WARMUP && (i === 0 || performance.now() < warm); i++) run();
  minorGc();
  const times: number[] = [];
  const until = performance.now() + TIME;
  while (times.length < MIN_ITERATIONS || performance.now() < until) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/**
 * For short operations: `run` performs one and returns the milliseconds it
 * took (leaving out its own clean-up). Batches of `reps` calls (doubled until
 * a batch takes ≥ 1 ms, which is also the warm-up), timed for TIME ms; the
 * median batch's ms per call.
 */
function timeBatched(run: () => number): number {
  let reps = 1;
  for (;;) {
    let t = 0;
    for (let i = 0; i < reps; i++) t += run();
    if (t >= 1 || reps >= 1 << 20) break;
    reps *= 2;
  }
  minorGc();
  const times: number[] = [];
  const until = performance.now() + TIME;
  while (times.length < MIN_ITERATIONS || performance.now() < until) {
    let t = 0;
    for (let i = 0; i < reps; i++) t += run();
    times.push(t / reps);
  }
  return median(times);
}

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

// ---------------------------------------------------------------------------
// 3. Memory (first: a fresh heap, no recycled maple nodes anywhere)

interface MemoryRow {
  name: Name;
  bytesPerEntry: number;
  nodes?: number;
  byType?: Record<string, number>;
  kernelBytesPerEntry?: number;
  jsBytesPerNode?: number;
}

function heapNow(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Builds one implementation and weighs it. */
function weigh(name: Name, w: Workload): { impl: Impl; row: MemoryRow } {
  const n = w.vmas.length;
  collect();
  const before = heapNow();
  const impl = FACTORIES[name](w);
  collect();
  const bytes = heapNow() - before;
  const row: MemoryRow = { name, bytesPerEntry: bytes / n };
  const c = impl.census?.();
  if (c !== undefined) {
    row.nodes = c.nodes;
    row.byType = c.byType;
    row.kernelBytesPerEntry = (c.nodes * KERNEL_NODE_BYTES) / n;
    row.jsBytesPerNode = bytes / c.nodes;
  }
  log(`memory: ${name} ${row.bytesPerEntry.toFixed(1)} B/entry (${elapsed()})`);
  return { impl, row };
}

/** Memory alone (when the operations do not run at MEMORY_N entries). */
function memorySection(): MemoryRow[] {
  const w = workload(MEMORY_N, MEMORY_N, 0.5);
  const rows: MemoryRow[] = [];
  for (const name of NAMES) {
    const { impl, row } = weigh(name, w);
    sink += impl.findOne(BASE)?.start ?? 0;
    rows.push(row);
  }
  collect();
  return rows;
}

// ---------------------------------------------------------------------------
// 1. build / find / churn / iterate

type Op = 'build' | 'find' | 'churn' | 'iterate';
const OPS: readonly Op[] = (['build', 'find', 'churn', 'iterate'] as const).filter(want);
/** rounds[i][op][name] = that round's median ns per operation. */
type Round = Record<Op, Record<Name, number>>;

let memory: MemoryRow[] = [];

function opsSection(): Map<number, Round[]> {
  const results = new Map<number, Round[]>();
  for (const n of sizes) {
    const w = workload(n, n, 0.5);
    const rows = checkEqual(w, want('memory') && n === MEMORY_N);
    if (rows.length > 0) memory = rows;
    collect();
    log(`n = ${n}: all implementations agree (${elapsed()})`);
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round = {} as Round;
      for (const op of OPS) round[op] = {} as Record<Name, number>;
      for (let j = 0; j < NAMES.length; j++) {
        const name = NAMES[(j + r) % NAMES.length] as Name;
        const factory = FACTORIES[name];
        gc?.();
        let impl: Impl;
        if (want('build')) {
          // A build that takes over TIME / 10 ms is timed once. Shorter ones
          // are first warmed up for TIME ms (each full GC that frees the
          // previous round's trees deoptimizes the write path — "weak
          // objects" — and V8 takes some builds to optimize it again), then
          // timed for TIME ms; the last one stays.
          const t = performance.now();
          impl = factory(w);
          const times = [performance.now() - t];
          if ((times[0] as number) < TIME / 10) {
            const warm = performance.now() + TIME;
            while (performance.now() < warm) impl = factory(w);
            times.length = 0;
            const until = performance.now() + TIME;
            do {
              const t0 = performance.now();
              impl = factory(w);
              times.push(performance.now() - t0);
            } while (performance.now() < until);
          }
          round.build[name] = (median(times) * 1e6) / n;
        } else impl = factory(w);
        const it = impl;
        if (want('find'))
          round.find[name] =
            (timeIterations(() => {
              sink += it.find(w.queries);
            }) *
              1e6) /
            FINDS;
        if (want('churn'))
          round.churn[name] = (timeIterations(() => it.churn(w.vmas, w.churn)) * 1e6) / CHURNS;
        if (want('iterate'))
          round.iterate[name] =
            (timeIterations(() => {
              sink += it.iterate();
            }) *
              1e6) /
            n;
      }
      rounds.push(round);
      log(`  n = ${n}: round ${r + 1}/${ROUNDS} (${elapsed()})`);
    }
    results.set(n, rounds);
  }
  return results;
}

interface OpRow {
  size: number;
  op: Op;
  /** Median over rounds of each implementation's round median (ns per operation). */
  ns: Record<Name, number>;
  /** Per maple implementation: its time over the faster library's in the same round. */
  vsFastest: Record<string, Ratio>;
  /** How many rounds each library was the faster one. */
  fastestLib: Record<string, number>;
  vsLib: Record<string, Record<string, Ratio>>;
  /** Rows that carry the issue's target (find and churn at ≥ 10^5). */
  target: boolean;
  verdict: Record<string, Verdict>;
  rounds: Record<Name, number>[];
}

function opRows(results: Map<number, Round[]>): OpRow[] {
  const rows: OpRow[] = [];
  for (const [size, rounds] of results) {
    for (const op of OPS) {
      const per = rounds.map((r) => r[op]);
      const ns = {} as Record<Name, number>;
      for (const name of NAMES) ns[name] = median(per.map((p) => p[name]));
      const fastestLib: Record<string, number> = {};
      const fastest = per.map((p) => {
        const lib = LIBS.reduce((a, b) => (p[b] < p[a] ? b : a));
        fastestLib[lib] = (fastestLib[lib] ?? 0) + 1;
        return p[lib];
      });
      const vsFastest: Record<string, Ratio> = {};
      const vsLib: Record<string, Record<string, Ratio>> = {};
      const verdict: Record<string, Verdict> = {};
      for (const m of MAPLES) {
        vsFastest[m] = bootstrap(per.map((p, i) => p[m] / (fastest[i] as number)));
        vsLib[m] = {};
        for (const lib of LIBS)
          (vsLib[m] as Record<string, Ratio>)[lib] = bootstrap(per.map((p) => p[m] / p[lib]));
        verdict[m] = atMost(vsFastest[m] as Ratio, 1);
      }
      rows.push({
        size,
        op,
        ns,
        vsFastest,
        fastestLib,
        vsLib,
        target: (op === 'find' || op === 'churn') && size >= 1e5,
        verdict,
        rounds: per,
      });
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------
// 2. dup

const DUP_TASKS = ['tree mt-dup', 'tree insert', 'vma mt-dup', 'vma insert'] as const;
type DupTask = (typeof DUP_TASKS)[number];

interface DupCounts {
  sourceNodes: number;
  sourceHeight: number;
  /** dest.stats.nodesDuplicated of the mt-dup copy. */
  mtDupNodes: number;
  /** The insert-mode copy: nodes preallocated, used, in the result; stores by type. */
  insertRequested: number;
  insertUsed: number;
  insertNodes: number;
  insertStores: Record<string, number>;
  vmaMtDup: { duplicated: number; requested: number; used: number; stores: Record<string, number> };
  vmaInsert: { requested: number; used: number; nodes: number; stores: Record<string, number> };
}

interface DupRow {
  k: number;
  /** Median ns per dup, per task. */
  ns: Record<DupTask, number>;
  treeRatio: Ratio;
  vmaRatio: Ratio;
  counts: DupCounts;
  rounds: Record<DupTask, number>[];
}

function dupSection(): DupRow[] {
  interface Setup {
    k: number;
    tree: MapleTree<Vma>;
    vmaM: MapleVmaIndex;
    vmaI: MapleVmaIndex;
    counts: DupCounts;
  }
  const setups: Setup[] = [];
  for (const k of DUP_KS) {
    const w = workload(k, k + 7, 1);
    const counters = new Counters();
    const vmaM = new MapleVmaIndex(counters);
    const vmaI = new MapleVmaIndex(counters, { dup: 'insert' });
    for (const v of w.shuffled) {
      vmaM.insert(v);
      vmaI.insert(v.clone());
    }
    const tree = vmaM.tree;
    const want = [...tree.entries()].map((e) => `${e[0]}-${e[1]}`).join();
    const check = (t: MapleTree<Vma>, what: string) => {
      t.validate();
      const got = [...t.entries()].map((e) => `${e[0]}-${e[1]}`).join();
      if (got !== want) throw new Error(`dup K=${k}: ${what} copy differs from the source`);
    };
    const dm = new MapleTree<Vma>({ allocRange: true });
    const di = new MapleTree<Vma>({ allocRange: true, dup: 'insert' });
    if (tree.dupInto(dm) !== 0 || tree.dupInto(di) !== 0) throw new Error('dupInto failed');
    check(dm, 'mt-dup');
    check(di, 'insert');
    for (const [, , v] of di.entries())
      if (v !== tree.load(v.start)) throw new Error('insert copy: wrong entry');
    const cm = vmaM.dup((v) => v.clone());
    const ci = vmaI.dup((v) => v.clone());
    cm.validate();
    ci.validate();
    check(cm.tree, 'vma mt-dup');
    check(ci.tree, 'vma insert');
    setups.push({
      k,
      tree,
      vmaM,
      vmaI,
      counts: {
        sourceNodes: tree.nodeCount,
        sourceHeight: tree.height,
        mtDupNodes: dm.stats.nodesDuplicated,
        insertRequested: di.stats.nodesRequested,
        insertUsed: di.stats.nodesUsed,
        insertNodes: di.nodeCount,
        insertStores: di.stats.storeTable(),
        vmaMtDup: {
          duplicated: cm.tree.stats.nodesDuplicated,
          requested: cm.tree.stats.nodesRequested,
          used: cm.tree.stats.nodesUsed,
          stores: cm.tree.stats.storeTable(),
        },
        vmaInsert: {
          requested: ci.tree.stats.nodesRequested,
          used: ci.tree.stats.nodesUsed,
          nodes: ci.tree.nodeCount,
          stores: ci.tree.stats.storeTable(),
        },
      },
    });
  }
  log(`dup: copies checked for K = ${DUP_KS.join(', ')} (${elapsed()})`);
  const clone = (v: Vma) => v.clone();
  // Each copy is destroyed after it is timed (untimed), its nodes going back
  // to the node slab, as a forked child's are when it exits: the next dup
  // allocates from a warm slab, as in the kernel's fork-and-exit benchmark.
  const runs: Record<DupTask, (s: Setup) => () => number> = {
    'tree mt-dup': (s) => () => {
      const d = new MapleTree<Vma>({ allocRange: true });
      const t0 = performance.now();
      s.tree.dupInto(d);
      const t = performance.now() - t0;
      sink += d.height;
      d.destroy();
      return t;
    },
    'tree insert': (s) => () => {
      const d = new MapleTree<Vma>({ allocRange: true, dup: 'insert' });
      const t0 = performance.now();
      s.tree.dupInto(d);
      const t = performance.now() - t0;
      sink += d.height;
      d.destroy();
      return t;
    },
    'vma mt-dup': (s) => () => {
      const t0 = performance.now();
      const c = s.vmaM.dup(clone);
      const t = performance.now() - t0;
      sink += c.count;
      c.tree.destroy();
      return t;
    },
    'vma insert': (s) => () => {
      const t0 = performance.now();
      const c = s.vmaI.dup(clone);
      const t = performance.now() - t0;
      sink += c.count;
      c.tree.destroy();
      return t;
    },
  };
  const perK: Record<DupTask, number>[][] = setups.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    setups.forEach((s, si) => {
      const round = {} as Record<DupTask, number>;
      for (let j = 0; j < DUP_TASKS.length; j++) {
        const task = DUP_TASKS[(j + r) % DUP_TASKS.length] as DupTask;
        round[task] = timeBatched(runs[task](s)) * 1e6;
      }
      (perK[si] as Record<DupTask, number>[]).push(round);
    });
    log(`  dup: round ${r + 1}/${ROUNDS} (${elapsed()})`);
  }
  return setups.map((s, si) => {
    const per = perK[si] as Record<DupTask, number>[];
    const ns = {} as Record<DupTask, number>;
    for (const t of DUP_TASKS) ns[t] = median(per.map((p) => p[t]));
    return {
      k: s.k,
      ns,
      treeRatio: bootstrap(per.map((p) => p['tree insert'] / p['tree mt-dup'])),
      vmaRatio: bootstrap(per.map((p) => p['vma insert'] / p['vma mt-dup'])),
      counts: s.counts,
      rounds: per,
    };
  });
}

// ---------------------------------------------------------------------------
// Run

const load0 = os.loadavg();
const results = OPS.length > 0 ? opsSection() : new Map<number, Round[]>();
if (want('memory') && memory.length === 0) memory = memorySection();
const rows = opRows(results);
const dups = want('dup') ? dupSection() : [];
if (Number.isNaN(sink)) log('(sink)');

function fmt(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return ns >= 100 ? `${ns.toFixed(0)} ns` : `${ns.toFixed(1)} ns`;
}
const ratio = (r: Ratio | undefined) =>
  r ? `${r.median.toFixed(2)} [${r.lo.toFixed(2)}, ${r.hi.toFixed(2)}]` : '–';
const pow10 = (n: number) =>
  Number.isInteger(Math.log10(n)) ? `10^${Math.round(Math.log10(n))}` : String(n);
const table = (o: Record<string, number>) =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

const load1 = os.loadavg();
const loads = `${load0.map((x) => x.toFixed(1)).join('/')} at start, ${load1.map((x) => x.toFixed(1)).join('/')} at end (1/5/15 min, ${os.cpus().length} CPUs)`;
const env = `Node ${process.version}, V8 ${process.versions.v8}, ${process.platform}/${process.arch}`;
const growth =
  dups.length >= 3
    ? spearman(
        DUP_KS.slice(0, dups.length),
        dups.map((d) => d.treeRatio.median),
      )
    : NaN;
const growthVma =
  dups.length >= 3
    ? spearman(
        DUP_KS.slice(0, dups.length),
        dups.map((d) => d.vmaRatio.median),
      )
    : NaN;
const lastDup = dups[dups.length - 1];

if (JSON_OUT) {
  console.log(
    JSON.stringify(
      {
        schema: 1,
        env,
        loads,
        rounds: ROUNDS,
        timeMs: TIME,
        finds: FINDS,
        churns: CHURNS,
        rows,
        dup: { rows: dups, spearmanTree: growth, spearmanVma: growthVma },
        kernelDup: { ks: DUP_KS, before: KERNEL_BEFORE, after: KERNEL_AFTER },
        memory,
      },
      null,
      2,
    ),
  );
} else {
  console.log(`${env}; ${ROUNDS} rounds × ${TIME} ms per task; load average ${loads}.\n`);
  if (rows.length > 0) {
    console.log(
      `### Operations\n\n${FINDS} finds, ${CHURNS} remove+insert pairs per timed iteration; build and iterate are per entry. ` +
        'Cells: median over rounds of the round median, per operation. Ratios: median of per-round ratios [bootstrap 95% CI] ' +
        'against the faster of sorted-btree and js-sdsl in each round (how often each was the faster one in brackets). ' +
        'Verdict: met if the whole CI ≤ 1; the target rows are find and churn at 10^5 and 10^6.\n',
    );
    console.log(
      `| n | op | ${NAMES.join(' | ')} | MapleTree / fastest lib | verdict | MapleVmaIndex / fastest lib | verdict |`,
    );
    console.log(`|---|---|${NAMES.map(() => '---:').join('|')}|---:|---|---:|---|`);
    for (const r of rows) {
      const cells = NAMES.map((name) => fmt(r.ns[name]));
      const who = Object.entries(r.fastestLib)
        .map(([k, v]) => `${k} ${v}/${r.rounds.length}`)
        .join(', ');
      const v = (m: string) => (r.target ? `**${r.verdict[m]}**` : `(${r.verdict[m]})`);
      console.log(
        `| ${pow10(r.size)} | ${r.op} | ${cells.join(' | ')} | ${ratio(r.vsFastest.MapleTree)} (${who}) | ${v('MapleTree')} | ${ratio(r.vsFastest.MapleVmaIndex)} | ${v('MapleVmaIndex')} |`,
      );
    }
    console.log('');
  }
  if (dups.length > 0) {
    console.log(
      '### dup\n\nTime per dup (median of rounds; each copy destroyed, untimed, before the next, so nodes come from a warm slab). "tree": `src.dupInto(dest)`, dest `new MapleTree({ allocRange: true })` (mt-dup) or with `dup: \'insert\'`. ' +
        '"vma": `MapleVmaIndex.dup(v => v.clone())` (mt-dup = __mt_dup + one exact-fit store per VMA; insert = one store per VMA into an empty tree in bulk mode). ' +
        'Ratios insert / mt-dup, median of per-round ratios [bootstrap 95% CI]. Kernel: forks per 10 s before/after the __mt_dup series (kernel-facts.md §1.12); ' +
        "their quotient is the whole fork's speed-up (page tables, VMA copies, anon_vma chains included), not the tree copy alone.\n",
    );
    console.log(
      '| K | tree mt-dup | tree insert | insert / mt-dup (tree) | vma mt-dup | vma insert | insert / mt-dup (vma) | kernel forks/10 s before → after | kernel speed-up |',
    );
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const d of dups) {
      const i = DUP_KS.indexOf(d.k);
      const b = KERNEL_BEFORE[i] as number;
      const a = KERNEL_AFTER[i] as number;
      console.log(
        `| ${d.k} | ${fmt(d.ns['tree mt-dup'])} | ${fmt(d.ns['tree insert'])} | ${ratio(d.treeRatio)} | ${fmt(d.ns['vma mt-dup'])} | ${fmt(d.ns['vma insert'])} | ${ratio(d.vmaRatio)} | ${b} → ${a} | ${(a / b).toFixed(3)}× |`,
      );
    }
    console.log(
      '\nNode counts (exact, deterministic). Source: the VMA tree (ALLOC_RANGE, RCU) built by inserting the K entries in a shuffled order.\n',
    );
    console.log(
      '| K | source nodes (height) | tree mt-dup: nodesDuplicated | tree insert: requested / used / in tree | tree insert: stores | vma mt-dup: duplicated, requested / used, stores | vma insert: requested / used / in tree, stores |',
    );
    console.log('|---:|---:|---:|---:|---|---|---|');
    for (const d of dups) {
      const c = d.counts;
      console.log(
        `| ${d.k} | ${c.sourceNodes} (${c.sourceHeight}) | ${c.mtDupNodes} | ${c.insertRequested} / ${c.insertUsed} / ${c.insertNodes} | ${table(c.insertStores)} | ${c.vmaMtDup.duplicated}, ${c.vmaMtDup.requested} / ${c.vmaMtDup.used}, ${table(c.vmaMtDup.stores)} | ${c.vmaInsert.requested} / ${c.vmaInsert.used} / ${c.vmaInsert.nodes}, ${table(c.vmaInsert.stores)} |`,
      );
    }
    if (lastDup !== undefined) {
      console.log(
        `\nTarget (mt-dup ≥ 5× faster at K = ${lastDup.k}, advantage growing with K): tree ${ratio(lastDup.treeRatio)} → **${atLeast(lastDup.treeRatio, 5)}**, ` +
          `Spearman ρ(K, ratio) = ${growth.toFixed(2)}; vma ${ratio(lastDup.vmaRatio)} → **${atLeast(lastDup.vmaRatio, 5)}**, ρ = ${growthVma.toFixed(2)}.\n`,
      );
    }
  }
  if (memory.length > 0) {
    console.log(
      `### Memory at ${MEMORY_N} entries\n\nJS: (heapUsed + arrayBuffers) after − before the build, gc() twice around it; the entries themselves are not counted. Kernel: nodes × ${KERNEL_NODE_BYTES} B / entries.\n`,
    );
    console.log(
      '| structure | JS bytes / entry | nodes (by type) | JS bytes / node | kernel bytes / entry |',
    );
    console.log('|---|---:|---|---:|---:|');
    for (const m of memory) {
      console.log(
        `| ${m.name} | ${m.bytesPerEntry.toFixed(1)} | ${m.nodes !== undefined ? `${m.nodes} (${table(m.byType ?? {})})` : '–'} | ${m.jsBytesPerNode?.toFixed(0) ?? '–'} | ${m.kernelBytesPerEntry?.toFixed(1) ?? '–'} |`,
      );
    }
    console.log('');
  }
  console.log(`total ${elapsed()}`);
}
