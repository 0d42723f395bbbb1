/**
 * The rbtree index against general-purpose ordered maps, side by side in one
 * process, at 10^3 … 10^6 VMAs: find_vma (first range with end > addr),
 * churn (remove a VMA, insert it back) and in-order iteration.
 *
 *   pnpm --filter @vmalab/index-rbtree bench
 *   pnpm --filter @vmalab/index-rbtree bench -- --sizes=1e5,1e6 --rounds=5 --time=150 --json
 *   BENCH_SIZES=1e4 pnpm --filter @vmalab/index-rbtree bench
 *
 * Every implementation holds the same `Vma` objects (keyed by `end` in the
 * libraries, so that "first VMA with end > addr" is their upper bound) and
 * answers the same pre-generated queries. Before anything is timed, every
 * query's answer, the layout after a churn round and the iteration order are
 * compared across implementations; a difference aborts the run.
 *
 * The rbtree runs with gaps 'guard' (it maintains rb_subtree_gap and the
 * vm_next/vm_prev links, which the libraries do not) and findCache 'none'
 * (random lookups would mostly miss the vmacache; its hits are measured by the
 * counters in the tests, not here), and it counts its work in `Counters`.
 * A second column, `rbtree (gaps off)` (Linux 2.4.10–3.7), shows the same
 * tree without the augmentation; the ratios use the gap-tracking one.
 *
 * js-sdsl appears twice for find: through its public API (`upperBound(addr)`
 * then `iterator.pointer[1]`, which builds a Proxy on every access), and
 * reading the iterator's node directly (private, minified fields, located at
 * start-up on a probe map) to show its tree walk without the Proxy. The ratio column compares the rbtree
 * with the faster of the red-black libraries on each row.
 *
 * Timing, made for a noisy machine: `--rounds` rounds (default 5). In each
 * round every implementation is built afresh, in an order rotated from round
 * to round, and timed alone (only its own structure alive); each task runs
 * warm-up iterations, then timed iterations for `--time` ms (at least 5), and
 * the round keeps the median iteration. A cell is the median of the rounds'
 * medians, per operation. A ratio is the median of the per-round ratios (the
 * rbtree's round median over the other's in the same round, so that a slow
 * spell of the machine, which lasts seconds, hits both sides of most ratios)
 * with a bootstrap 95 % confidence interval of that median (10 000 resamples
 * of the rounds, fixed seed). The verdict against the fastest red-black
 * library — per round, the faster of js-sdsl and bintrees through their
 * public APIs — is "met" when the whole interval is at or below 1, "not met"
 * when it is above 1, else "tie".
 *
 * Output: progress on stderr, a Markdown table on stdout (or JSON with
 * `--json`, including every round's medians).
 */
import { OrderedMap } from '@js-sdsl/ordered-map';
import { Counters, Prng, VM_READ, VM_WRITE, Vma } from '@vmalab/core';
import { bootstrapCI, median } from '@vmalab/core/stats';
import bintrees from 'bintrees';
import SortedBTree from 'sorted-btree';
import { GapRbTreeIndex, RbTreeIndex } from '../src/index.js';

const BTree = SortedBTree.default;
const P = 4096;
const BASE = 2 ** 46; // addresses above 2^32, as user mappings are

// ---------------------------------------------------------------------------
// Configuration: --sizes=1e3,1e4 / BENCH_SIZES, --rounds=5 / BENCH_ROUNDS,
// --time=ms per task and round / BENCH_TIME, --json

function arg(name: string): string | undefined {
  const prefix = `--${name}=`;
  const hit = process.argv.find((a) => a.startsWith(prefix));
  return hit?.slice(prefix.length) ?? process.env[`BENCH_${name.toUpperCase()}`];
}
const sizes = (arg('sizes') ?? '1e3,1e4,1e5,1e6').split(',').map((s) => Math.round(Number(s)));
if (sizes.some((n) => !(n >= 10))) throw new Error(`bad --sizes: ${arg('sizes')}`);
const TIME = Number(arg('time') ?? 100);
const ROUNDS = Math.round(Number(arg('rounds') ?? 5));
if (!(TIME > 0)) throw new Error(`bad --time: ${arg('time')}`);
if (!(ROUNDS >= 1)) throw new Error(`bad --rounds: ${arg('rounds')}`);
const JSON_OUT = process.argv.includes('--json');
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const log = (msg: string) => process.stderr.write(`${msg}\n`);

/** Operations per timed iteration. */
const FINDS = 10_000;
const CHURNS = 2_000;

// ---------------------------------------------------------------------------
// Workload

interface Workload {
  vmas: Vma[];
  /** The VMAs in a shuffled order (insertion order for every implementation). */
  shuffled: Vma[];
  queries: Float64Array;
  churn: Uint32Array;
}

function workload(n: number, seed: number): Workload {
  const rng = new Prng(seed);
  const vmas: Vma[] = [];
  let at = BASE;
  for (let i = 0; i < n; i++) {
    at += (1 + rng.int(4)) * P; // a small gap
    const len = (1 + rng.int(16)) * P;
    vmas.push(new Vma(at, at + len, VM_READ | VM_WRITE, null, at / P));
    at += len;
  }
  const shuffled = vmas.slice();
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = shuffled[i] as Vma;
    shuffled[i] = shuffled[j] as Vma;
    shuffled[j] = t;
  }
  const span = at + 64 * P - BASE; // some queries fall above the last VMA
  const queries = new Float64Array(FINDS);
  for (let i = 0; i < FINDS; i++) queries[i] = BASE + Math.floor(rng.float() * span);
  const churn = new Uint32Array(CHURNS);
  for (let i = 0; i < CHURNS; i++) churn[i] = rng.int(n);
  return { vmas, shuffled, queries, churn };
}

// ---------------------------------------------------------------------------
// Implementations: each one's loops are written out so that each is compiled
// for its own library (no shared, polymorphic call sites).

interface Impl {
  name: string;
  kind: 'rbtree' | 'rb-lib' | 'btree';
  /** Runs only the find task (a second view of another implementation). */
  findOnly?: boolean;
  findOne(addr: number): Vma | undefined;
  find(q: Float64Array): number;
  churn(vmas: readonly Vma[], idx: Uint32Array): void;
  iterate(): number;
  list(): Vma[];
}

function rbtreeImpl(w: Workload, gaps: 'guard' | 'off'): Impl {
  const counters = new Counters();
  const index =
    gaps === 'off'
      ? new RbTreeIndex(counters, { findCache: 'none' })
      : new GapRbTreeIndex(counters, { gaps, findCache: 'none' });
  for (const v of w.shuffled) index.insert(v);
  return {
    name: gaps === 'off' ? 'rbtree (gaps off)' : 'rbtree',
    kind: 'rbtree',
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
        index.insert(v);
      }
    },
    iterate() {
      let sum = 0;
      for (const v of index) sum += v.end - v.start;
      return sum;
    },
    list: () => [...index],
  };
}

type Loose = Record<string, unknown>;

/**
 * js-sdsl's minified private field names differ between its builds: find the
 * iterator's cursor field and the node's value field on a two-element map.
 */
function sdslFields(): { cursor: string; value: string } {
  const m = new OrderedMap<number, string>();
  m.setElement(10, 'ten');
  m.setElement(20, 'twenty');
  const it = m.upperBound(15) as unknown as Loose;
  const end = m.end() as unknown as Loose;
  for (const cursor of Object.keys(it)) {
    const node = it[cursor];
    if (typeof node !== 'object' || node === null || node === end[cursor]) continue;
    const value = Object.keys(node).find((k) => (node as Loose)[k] === 'twenty');
    if (value !== undefined) return { cursor, value };
  }
  throw new Error('js-sdsl: cannot find the iterator cursor field');
}

function sdslImpls(w: Workload): Impl[] {
  const map = new OrderedMap<number, Vma>();
  for (const v of w.shuffled) map.setElement(v.end, v);
  const { cursor, value } = sdslFields();
  const header = (map.end() as unknown as Loose)[cursor];
  const pub: Impl = {
    name: 'js-sdsl',
    kind: 'rb-lib',
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
  const node: Impl = {
    ...pub,
    name: 'js-sdsl (node)',
    findOnly: true,
    findOne(addr) {
      const n = (map.upperBound(addr) as unknown as Loose)[cursor] as Loose;
      return n === header ? undefined : (n[value] as Vma);
    },
    find(q) {
      let sum = 0;
      for (let i = 0; i < q.length; i++) {
        const n = (map.upperBound(q[i] as number) as unknown as Loose)[cursor] as Loose;
        if (n !== header) sum += (n[value] as Vma).start;
      }
      return sum;
    },
  };
  return [pub, node];
}

function bintreesImpl(w: Workload): Impl {
  const tree = new bintrees.RBTree<Vma>((a, b) => a.end - b.end);
  for (const v of w.shuffled) tree.insert(v);
  const probe = new Vma(0, 0, 0, null, 0);
  return {
    name: 'bintrees',
    kind: 'rb-lib',
    findOne(addr) {
      probe.end = addr;
      return tree.upperBound(probe).data() ?? undefined;
    },
    find(q) {
      let sum = 0;
      for (let i = 0; i < q.length; i++) {
        probe.end = q[i] as number;
        const v = tree.upperBound(probe).data();
        if (v !== null) sum += v.start;
      }
      return sum;
    },
    churn(vmas, idx) {
      for (let i = 0; i < idx.length; i++) {
        const v = vmas[idx[i] as number] as Vma;
        tree.remove(v);
        tree.insert(v);
      }
    },
    iterate() {
      let sum = 0;
      const it = tree.iterator();
      for (let v = it.next(); v !== null; v = it.next()) sum += v.end - v.start;
      return sum;
    },
    list() {
      const out: Vma[] = [];
      tree.each((v) => {
        out.push(v);
      });
      return out;
    },
  };
}

function btreeImpl(w: Workload): Impl {
  const tree = new BTree<number, Vma>();
  for (const v of w.shuffled) tree.set(v.end, v);
  const pair: [number, Vma] = [0, w.vmas[0] as Vma];
  return {
    name: 'sorted-btree',
    kind: 'btree',
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

// ---------------------------------------------------------------------------
// Equal results first

function sameList(a: readonly Vma[], b: readonly Vma[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkEqual(impls: readonly Impl[], w: Workload): void {
  const [ref, ...others] = impls as [Impl, ...Impl[]];
  for (const q of w.queries) {
    const want = ref.findOne(q);
    for (const o of others) {
      if (o.findOne(q) !== want) throw new Error(`${o.name}: find(${q}) differs from ${ref.name}`);
    }
  }
  const sum = ref.find(w.queries);
  for (const o of others)
    if (o.find(w.queries) !== sum) throw new Error(`${o.name}: find checksum`);
  const full = impls.filter((i) => !i.findOnly);
  for (const i of full) i.churn(w.vmas, w.churn);
  const order = ref.list();
  if (!sameList(order, w.vmas)) throw new Error(`${ref.name}: wrong order after churn`);
  const total = ref.iterate();
  for (const o of full) {
    if (!sameList(o.list(), order)) throw new Error(`${o.name}: contents differ after churn`);
    if (o.iterate() !== total) throw new Error(`${o.name}: iteration checksum differs`);
  }
}

// ---------------------------------------------------------------------------
// Timing: in each round, each implementation is built afresh and timed with
// only its own structure alive (besides the shared VMAs), so that one
// library's heap does not tax another's garbage collections; the order of the
// implementations rotates from round to round.

type Op = 'find' | 'churn' | 'iterate';
const OPS: readonly Op[] = ['find', 'churn', 'iterate'];

type Factory = (w: Workload) => Impl[];
const FACTORIES: readonly Factory[] = [
  (w) => [rbtreeImpl(w, 'guard')],
  (w) => [rbtreeImpl(w, 'off')],
  sdslImpls,
  (w) => [bintreesImpl(w)],
  (w) => [btreeImpl(w)],
];
const NAMES = [
  'rbtree',
  'rbtree (gaps off)',
  'js-sdsl',
  'js-sdsl (node)',
  'bintrees',
  'sorted-btree',
];
const RB_LIBS = ['js-sdsl', 'bintrees']; // the red-black libraries, public APIs
const WARMUP = 3;
const MIN_ITERATIONS = 5;

let sink = 0;

/** One task: warm-up, then timed iterations for TIME ms; the median per operation (ns). */
function timeTask(impl: Impl, op: Op, w: Workload, n: number): number {
  const run =
    op === 'find'
      ? () => {
          sink += impl.find(w.queries);
        }
      : op === 'churn'
        ? () => impl.churn(w.vmas, w.churn)
        : () => {
            sink += impl.iterate();
          };
  // Warm-up: at least WARMUP iterations and a third of the timed budget, so
  // that every hot function is optimised before the clock runs.
  const warm = performance.now() + TIME / 3;
  for (let i = 0; i < WARMUP || performance.now() < warm; i++) run();
  gc();
  const times: number[] = [];
  const until = performance.now() + TIME;
  while (times.length < MIN_ITERATIONS || performance.now() < until) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  const per = op === 'find' ? FINDS : op === 'churn' ? CHURNS : n;
  return (median(times) * 1e6) / per;
}

/** Median of `xs` and its percentile-bootstrap 95 % interval (core's stats, fixed seed). */
function bootstrap(xs: readonly number[]): { median: number; lo: number; hi: number } {
  const e = bootstrapCI(xs, median, { seed: 0x5eed });
  return { median: e.value, lo: e.lo, hi: e.hi };
}

/** rounds[size][op][impl] = that round's median ns per operation. */
type Round = Record<string, Record<string, number>>;

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const results = new Map<number, Round[]>();
for (const n of sizes) {
  const w = workload(n, n);
  // Two rbtrees cannot hold the same VMAs at once (vma.node belongs to one
  // index): the gap-free one is checked in a second round.
  checkEqual([rbtreeImpl(w, 'guard'), ...sdslImpls(w), bintreesImpl(w), btreeImpl(w)], w);
  for (const v of w.vmas) v.node = null; // the checked structures are dropped
  checkEqual([rbtreeImpl(w, 'off'), btreeImpl(w)], w);
  for (const v of w.vmas) v.node = null;
  gc();
  log(`n = ${n}: all implementations agree (${elapsed()})`);
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const round: Round = { find: {}, churn: {}, iterate: {} };
    for (let j = 0; j < FACTORIES.length; j++) {
      const impls = (FACTORIES[(j + r) % FACTORIES.length] as Factory)(w);
      for (const op of OPS) {
        for (const impl of impls) {
          if (impl.findOnly && op !== 'find') continue;
          (round[op] as Record<string, number>)[impl.name] = timeTask(impl, op, w, n);
        }
      }
      for (const v of w.vmas) v.node = null; // release the VMAs of a dropped rbtree
      gc();
    }
    rounds.push(round);
    log(`  round ${r + 1}/${ROUNDS} (${elapsed()})`);
  }
  results.set(n, rounds);
}
if (Number.isNaN(sink)) log('(sink)');

interface Ratio {
  median: number;
  lo: number;
  hi: number;
}
interface Row {
  size: number;
  op: Op;
  /** Median over rounds of each implementation's round median (ns per operation). */
  ns: Record<string, number>;
  /** rbtree / the faster of js-sdsl and bintrees in the same round. */
  vsFastestRb: Ratio;
  /** How many rounds each library was that faster one. */
  fastestRb: Record<string, number>;
  vsSdslNode: Ratio | undefined;
  vsBtree: Ratio;
  verdict: 'met' | 'not met' | 'tie';
  rounds: Round[keyof Round][];
}

const rows: Row[] = [];
for (const [size, rounds] of results) {
  for (const op of OPS) {
    const per = rounds.map((r) => r[op] as Record<string, number>);
    const ns: Record<string, number> = {};
    for (const name of NAMES) {
      if (per[0]?.[name] !== undefined) ns[name] = median(per.map((p) => p[name] as number));
    }
    const fastestRb: Record<string, number> = {};
    const vsFastest = per.map((p) => {
      const lib = RB_LIBS.reduce((a, b) => ((p[b] as number) < (p[a] as number) ? b : a));
      fastestRb[lib] = (fastestRb[lib] ?? 0) + 1;
      return (p.rbtree as number) / (p[lib] as number);
    });
    const vsFastestRb = bootstrap(vsFastest);
    rows.push({
      size,
      op,
      ns,
      vsFastestRb,
      fastestRb,
      vsSdslNode:
        op === 'find'
          ? bootstrap(per.map((p) => (p.rbtree as number) / (p['js-sdsl (node)'] as number)))
          : undefined,
      vsBtree: bootstrap(per.map((p) => (p.rbtree as number) / (p['sorted-btree'] as number))),
      verdict: vsFastestRb.hi <= 1 ? 'met' : vsFastestRb.lo > 1 ? 'not met' : 'tie',
      rounds: per,
    });
  }
}

function fmt(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return ns >= 100 ? `${ns.toFixed(0)} ns` : `${ns.toFixed(1)} ns`;
}
const ratio = (r: Ratio | undefined) =>
  r ? `${r.median.toFixed(2)} [${r.lo.toFixed(2)}, ${r.hi.toFixed(2)}]` : '–';

const env = `Node ${process.version}, V8 ${process.versions.v8}, ${process.platform}/${process.arch}`;
if (JSON_OUT) {
  console.log(
    JSON.stringify(
      { schema: 2, env, rounds: ROUNDS, timeMs: TIME, finds: FINDS, churns: CHURNS, rows },
      null,
      2,
    ),
  );
} else {
  console.log(
    `${env}; ${ROUNDS} rounds × ${TIME} ms per task; ${FINDS} finds, ${CHURNS} remove+insert pairs per iteration.`,
  );
  console.log(
    'Cells: median over rounds of the round median, per operation (iterate: per VMA). Ratios: median of per-round ratios [bootstrap 95% CI].\n',
  );
  console.log(
    `| n | op | ${NAMES.join(' | ')} | rbtree / fastest RB lib | target | rbtree / js-sdsl (node) | rbtree / sorted-btree |`,
  );
  console.log(`|---|---|${NAMES.map(() => '---:').join('|')}|---:|---|---:|---:|`);
  for (const r of rows) {
    const cells = NAMES.map((name) => (r.ns[name] !== undefined ? fmt(r.ns[name]) : '–'));
    const who = Object.entries(r.fastestRb)
      .map(([k, v]) => `${k} ${v}/${r.rounds.length}`)
      .join(', ');
    console.log(
      `| 10^${Math.round(Math.log10(r.size))} | ${r.op} | ${cells.join(' | ')} | ${ratio(r.vsFastestRb)} (${who}) | ${r.verdict} | ${ratio(r.vsSdslNode)} | ${ratio(r.vsBtree)} |`,
    );
  }
  console.log(`\ntotal ${elapsed()}`);
}
