/**
 * MapleTree against a trivially correct reference range map: random
 * sequences of stores (long spanning stores, NULL erasures, XA_ZERO_ENTRY),
 * inserts, erases and every read, under every flag combination and every
 * preallocation policy, with validate() after every operation. Plus the
 * store-type classification, the preallocation counts, dup (both modes, with
 * fault injection at every allocation) and argument errors.
 */
import { EBUSY, EEXIST, EINVAL, ENOMEM, Prng } from '@vmalab/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DUP_MODES,
  type DupMode,
  MAPLE_MAX,
  MapleTree,
  PREALLOC_POLICIES,
  type PreallocPolicy,
  STORE_TYPES,
  type StoreType,
  ZERO_ENTRY,
  type ZeroEntry,
} from './index.js';

type V = number | ZeroEntry;
type Range = [number, number, V];

interface Config {
  allocRange: boolean;
  rcu: boolean;
  prealloc: PreallocPolicy;
}

const CONFIGS: Config[] = [];
for (const allocRange of [false, true])
  for (const rcu of [false, true])
    for (const prealloc of PREALLOC_POLICIES) CONFIGS.push({ allocRange, rcu, prealloc });
const FLAGS = CONFIGS.filter((c) => c.prealloc === 'by-store-type');
const label = (c: Partial<Config>) =>
  Object.entries(c)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

// ---------------------------------------------------------------------------
// The reference: a sorted array of disjoint [first, last, value] intervals
// (no NULL intervals; adjacent intervals are never merged, as in the tree).

class RefMap {
  iv: Range[] = [];

  /** First interval whose last ≥ x. */
  private lowerByLast(x: number): number {
    let lo = 0;
    let hi = this.iv.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.iv[mid] as Range)[1] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Last interval whose first ≤ x, or −1. */
  private upperByFirst(x: number): number {
    let lo = 0;
    let hi = this.iv.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.iv[mid] as Range)[0] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  store(f: number, l: number, v: V | null): void {
    const i = this.lowerByLast(f);
    let j = i;
    while (j < this.iv.length && (this.iv[j] as Range)[0] <= l) j++;
    const repl: Range[] = [];
    if (i < j) {
      const a = this.iv[i] as Range;
      if (a[0] < f) repl.push([a[0], f - 1, a[2]]);
    }
    if (v !== null) repl.push([f, l, v]);
    if (i < j) {
      const b = this.iv[j - 1] as Range;
      if (b[1] > l) repl.push([l + 1, b[1], b[2]]);
    }
    this.iv.splice(i, j - i, ...repl);
  }

  occupied(f: number, l: number): boolean {
    const i = this.lowerByLast(f);
    return i < this.iv.length && (this.iv[i] as Range)[0] <= l;
  }

  at(x: number): Range | undefined {
    const i = this.lowerByLast(x);
    const r = this.iv[i];
    return r !== undefined && r[0] <= x ? r : undefined;
  }

  load(x: number): number | undefined {
    const r = this.at(x);
    return r === undefined || r[2] === ZERO_ENTRY ? undefined : r[2];
  }

  erase(x: number): number | undefined {
    const r = this.at(x);
    if (r === undefined || r[2] === ZERO_ENTRY) return undefined;
    this.store(r[0], r[1], null);
    return r[2];
  }

  /** Non-ZERO intervals intersecting [from, to], ascending. */
  entries(from: number, to: number): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    for (let i = this.lowerByLast(from); i < this.iv.length; i++) {
      const r = this.iv[i] as Range;
      if (r[0] > to) break;
      if (r[2] !== ZERO_ENTRY) out.push([r[0], r[1], r[2]]);
    }
    return out;
  }

  /** Non-ZERO intervals intersecting [to, from], descending. */
  entriesReverse(from: number, to: number): Array<[number, number, number]> {
    const out: Array<[number, number, number]> = [];
    for (let i = this.upperByFirst(from); i >= 0; i--) {
      const r = this.iv[i] as Range;
      if (r[1] < to) break;
      if (r[2] !== ZERO_ENTRY) out.push([r[0], r[1], r[2]]);
    }
    return out;
  }

  /** Every range of [0, MAPLE_MAX], NULL ranges included (what ranges() yields). */
  layout(): Array<[number, number, V | null]> {
    const out: Array<[number, number, V | null]> = [];
    let at = 0;
    for (const [f, l, v] of this.iv) {
      if (f > at) out.push([at, f - 1, null]);
      out.push([f, l, v]);
      at = l + 1;
    }
    if (this.iv.length === 0 || (this.iv[this.iv.length - 1] as Range)[1] < MAPLE_MAX) {
      out.push([at, MAPLE_MAX, null]);
    }
    return out;
  }

  private gaps(): Array<[number, number]> {
    return this.layout()
      .filter(([, , v]) => v === null)
      .map(([f, l]) => [f, l]);
  }

  /** Brute force over the holes: lowest fit inside [min, max] (§1.10). */
  emptyArea(min: number, max: number, size: number): number {
    if (!(min <= max) || !(size > 0) || max - min < size - 1) return -EINVAL;
    for (const [a, b] of this.gaps()) {
      const s = Math.max(a, min);
      const e = Math.min(b, max);
      if (e >= s && e - s + 1 >= size) return s;
    }
    return -EBUSY;
  }

  /** Highest fit inside [min, max]: returns the start. */
  emptyAreaRev(min: number, max: number, size: number): number {
    if (!(min <= max) || !(size > 0) || max - min < size - 1) return -EINVAL;
    const g = this.gaps();
    for (let i = g.length - 1; i >= 0; i--) {
      const [a, b] = g[i] as [number, number];
      const s = Math.max(a, min);
      const e = Math.min(b, max);
      if (e >= s && e - s + 1 >= size) return e - size + 1;
    }
    return -EBUSY;
  }
}

// ---------------------------------------------------------------------------
// Comparisons (expect() only on a mismatch: these run after every operation)

function fmt(v: unknown): string {
  return v === ZERO_ENTRY ? 'ZERO' : v === null ? 'null' : String(v);
}

function layoutOf(t: MapleTree<number>): string {
  const parts: string[] = [];
  for (const [f, l, v] of t.ranges()) parts.push(`${f}-${l}:${fmt(v)}`);
  return parts.join(' ');
}

function refLayoutOf(ref: RefMap): string {
  return ref
    .layout()
    .map(([f, l, v]) => `${f}-${l}:${fmt(v)}`)
    .join(' ');
}

function sameLayout(t: MapleTree<number>, ref: RefMap, what: string): void {
  const got = [...t.ranges()];
  const want = ref.layout();
  let ok = got.length === want.length;
  for (let i = 0; ok && i < got.length; i++) {
    const a = got[i] as [number, number, unknown];
    const b = want[i] as [number, number, unknown];
    ok = a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
  }
  if (!ok) expect(layoutOf(t), what).toBe(refLayoutOf(ref));
}

function checkStats(t: MapleTree<number>): void {
  const s = t.stats;
  expect(s.overruns, 'a write used more nodes than it preallocated').toBe(0);
  expect(s.nodesRequested).toBe(s.nodesUsed + s.nodesReturned);
}

// ---------------------------------------------------------------------------
// Operations

type ValKind = 'v' | 'null' | 'zero';
type Op =
  | { k: 'store'; f: number; l: number; val: ValKind; budget: number | null }
  | { k: 'insert'; f: number; l: number; zero: boolean }
  | { k: 'erase'; x: number }
  | { k: 'eraseSeq'; x: number; count: number }
  | { k: 'load'; x: number }
  | { k: 'find'; a: number; b: number }
  | { k: 'findRev'; a: number; b: number }
  | { k: 'entries'; a: number; b: number }
  | { k: 'entriesReverse'; a: number; b: number }
  | { k: 'empty'; min: number; max: number; size: number; rev: boolean }
  | { k: 'alloc'; min: number; max: number; size: number; rev: boolean }
  | { k: 'dup'; mode: DupMode }
  | { k: 'toggleRcu' };

const SMALL = 2000;
const HIGH = MAPLE_MAX - 2000;

const idxArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: SMALL }) },
  { weight: 2, arbitrary: fc.integer({ min: HIGH, max: MAPLE_MAX }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, MAPLE_MAX - 1, MAPLE_MAX) },
);

const clip = (a: number, len: number) => [a, Math.min(MAPLE_MAX, a + len)] as const;

/** [first, last]: mostly short, some medium, some long spanning ranges. */
const rangeArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(idxArb, fc.integer({ min: 0, max: 12 })).map(([a, n]) => clip(a, n)),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(idxArb, fc.integer({ min: 0, max: 400 })).map(([a, n]) => clip(a, n)),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(idxArb, idxArb)
      .map(([a, b]) => (a <= b ? ([a, b] as const) : ([b, a] as const))),
  },
);

const pairArb = fc
  .tuple(idxArb, idxArb)
  .map(([a, b]) => (a <= b ? [a, b] : [b, a]) as [number, number]);

const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3000 }) },
  { weight: 1, arbitrary: fc.constantFrom(MAPLE_MAX - HIGH, MAPLE_MAX, HIGH) },
);

const searchArb = fc.record({
  min: idxArb,
  max: idxArb,
  size: sizeArb,
  rev: fc.boolean(),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc
      .record({
        r: rangeArb,
        val: fc.constantFrom<ValKind>('v', 'v', 'v', 'v', 'null', 'null', 'zero'),
        budget: fc.option(fc.integer({ min: 0, max: 12 }), { freq: 8 }),
      })
      .map(({ r, val, budget }): Op => ({ k: 'store', f: r[0], l: r[1], val, budget })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ r: rangeArb, zero: fc.constantFrom(false, false, false, false, true) })
      .map(({ r, zero }): Op => ({ k: 'insert', f: r[0], l: r[1], zero })),
  },
  { weight: 3, arbitrary: idxArb.map((x): Op => ({ k: 'erase', x })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(idxArb, fc.integer({ min: 1, max: 30 }))
      .map(([x, count]): Op => ({ k: 'eraseSeq', x, count })),
  },
  { weight: 2, arbitrary: idxArb.map((x): Op => ({ k: 'load', x })) },
  { weight: 1, arbitrary: pairArb.map(([a, b]): Op => ({ k: 'find', a, b })) },
  { weight: 1, arbitrary: pairArb.map(([a, b]): Op => ({ k: 'findRev', a: b, b: a })) },
  { weight: 1, arbitrary: pairArb.map(([a, b]): Op => ({ k: 'entries', a, b })) },
  { weight: 1, arbitrary: pairArb.map(([a, b]): Op => ({ k: 'entriesReverse', a: b, b: a })) },
  { weight: 2, arbitrary: searchArb.map((s): Op => ({ k: 'empty', ...s })) },
  { weight: 1, arbitrary: searchArb.map((s): Op => ({ k: 'alloc', ...s })) },
  { weight: 1, arbitrary: fc.constantFrom(...DUP_MODES).map((mode): Op => ({ k: 'dup', mode })) },
  // mt_clear_in_rcu / mt_set_in_rcu mid-life (dup_mmap does both).
  { weight: 1, arbitrary: fc.constant<Op>({ k: 'toggleRcu' }) },
);

/** Writes that failed with ENOMEM under an injected budget (coverage of that path). */
let enomemSeen = 0;

/**
 * Applies one op to the tree and the reference; checks results, validate(),
 * and the layout after writes. Returns the tree to continue with (a `dup` op
 * continues with the copy).
 */
function apply(
  t: MapleTree<number>,
  ref: RefMap,
  op: Op,
  n: number,
  compareLayout = true,
): MapleTree<number> {
  const what = `op ${n}: ${JSON.stringify(op)}`;
  let wrote = false;
  switch (op.k) {
    case 'store': {
      const v: V | null = op.val === 'v' ? n + 1 : op.val === 'null' ? null : ZERO_ENTRY;
      const before = op.budget === null ? '' : layoutOf(t);
      const stores = t.stats.stores.slice();
      if (op.budget !== null) t.failAllocAfter(op.budget);
      const r = t.store(op.f, op.l, v);
      t.failAllocAfter(undefined);
      if (r === -ENOMEM && op.budget !== null) {
        enomemSeen++;
        // Nothing changed, nothing counted.
        expect(layoutOf(t), what).toBe(before);
        expect(t.stats.stores, what).toEqual(stores);
      } else {
        expect(r, what).toBe(0);
        ref.store(op.f, op.l, v);
        wrote = true;
      }
      break;
    }
    case 'insert': {
      const v: V = op.zero ? ZERO_ENTRY : n + 1;
      const want = ref.occupied(op.f, op.l) ? -EEXIST : 0;
      expect(t.insert(op.f, op.l, v), what).toBe(want);
      if (want === 0) ref.store(op.f, op.l, v);
      wrote = true;
      break;
    }
    case 'erase': {
      expect(t.erase(op.x), what).toBe(ref.erase(op.x));
      wrote = true;
      break;
    }
    case 'eraseSeq': {
      // Erase the next `count` entries one by one (a munmap of several VMAs
      // done entry by entry): drains leaves below their minimum.
      for (const [f] of ref.entries(op.x, MAPLE_MAX).slice(0, op.count)) {
        apply(t, ref, { k: 'erase', x: f }, n, compareLayout);
      }
      break;
    }
    case 'load': {
      const got = t.load(op.x);
      const want = ref.load(op.x);
      if (got !== want) expect(got, what).toBe(want);
      if (want !== undefined) {
        const r = ref.at(op.x) as Range;
        expect([t.foundFirst, t.foundLast], what).toEqual([r[0], r[1]]);
      }
      break;
    }
    case 'find': {
      const got = t.find(op.a, op.b);
      const want = ref.entries(op.a, op.b)[0];
      expect(got, what).toBe(want?.[2]);
      if (want !== undefined) expect([t.foundFirst, t.foundLast], what).toEqual([want[0], want[1]]);
      break;
    }
    case 'findRev': {
      const got = t.findRev(op.a, op.b);
      const want = ref.entriesReverse(op.a, op.b)[0];
      expect(got, what).toBe(want?.[2]);
      if (want !== undefined) expect([t.foundFirst, t.foundLast], what).toEqual([want[0], want[1]]);
      break;
    }
    case 'entries': {
      const c = t.counters;
      const v0 = [c.nodesVisited, c.slotsScanned];
      const got = [...t.entries(op.a, op.b)];
      const v1 = [c.nodesVisited, c.slotsScanned];
      expect(got, what).toEqual(ref.entries(op.a, op.b));
      // forEach: the same entries, ranges and counts, without the generator.
      const each: Array<[number, number, number]> = [];
      t.forEach(
        (v) => {
          each.push([t.foundFirst, t.foundLast, v]);
        },
        op.a,
        op.b,
      );
      const v2 = [c.nodesVisited, c.slotsScanned];
      expect(each, what).toEqual(got);
      expect([v2[0]! - v1[0]!, v2[1]! - v1[1]!], what).toEqual([v1[0]! - v0[0]!, v1[1]! - v0[1]!]);
      // values: the same walk and counts, the values alone.
      const vals = [...t.values(op.a, op.b)];
      const v3 = [c.nodesVisited, c.slotsScanned];
      expect(vals, what).toEqual(got.map((e) => e[2]));
      expect([v3[0]! - v2[0]!, v3[1]! - v2[1]!], what).toEqual([v1[0]! - v0[0]!, v1[1]! - v0[1]!]);
      break;
    }
    case 'entriesReverse':
      expect([...t.entriesReverse(op.a, op.b)], what).toEqual(ref.entriesReverse(op.a, op.b));
      break;
    case 'empty': {
      const got = op.rev
        ? t.emptyAreaRev(op.min, op.max, op.size)
        : t.emptyArea(op.min, op.max, op.size);
      const want = op.rev
        ? ref.emptyAreaRev(op.min, op.max, op.size)
        : ref.emptyArea(op.min, op.max, op.size);
      expect(got, what).toBe(want);
      break;
    }
    case 'toggleRcu':
      t.rcu = !t.rcu;
      break;
    case 'dup': {
      const d = new MapleTree<number>({ ...t.options, dup: op.mode });
      expect(t.dupInto(d), what).toBe(0);
      t.validate();
      d.validate();
      const a = layoutOf(t);
      expect(layoutOf(d), what).toBe(a);
      if (op.mode === 'mt-dup') expect(d.nodeCount, what).toBe(t.nodeCount);
      checkStats(t);
      sameLayout(d, ref, what);
      return d;
    }
    case 'alloc': {
      const v = n + 1;
      const got = op.rev
        ? t.allocRrange(op.size, op.min, op.max, v)
        : t.allocRange(op.size, op.min, op.max, v);
      if (!t.isAlloc) {
        expect(got, what).toBe(-EINVAL);
        break;
      }
      const want = op.rev
        ? ref.emptyAreaRev(op.min, op.max, op.size)
        : ref.emptyArea(op.min, op.max, op.size);
      expect(got, what).toBe(want);
      if (want >= 0) ref.store(want, want + op.size - 1, v);
      wrote = true;
      break;
    }
  }
  try {
    t.validate();
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}\n${t.dump(fmt)}`);
  }
  if (wrote && compareLayout) sameLayout(t, ref, what);
  return t;
}

/** A deterministic prefill: `count` short ranges at stride `stride`, in shuffled order. */
function prefill(
  t: MapleTree<number>,
  ref: RefMap,
  count: number,
  stride: number,
  seed: number,
): void {
  const order = Array.from({ length: count }, (_, i) => i);
  const rng = new Prng(seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  for (const i of order) {
    const f = i * stride;
    const l = f + rng.int(stride);
    const v = 1_000_000 + i;
    expect(t.store(f, l, v)).toBe(0);
    ref.store(f, l, v);
    t.validate();
  }
  sameLayout(t, ref, 'after prefill');
}

const scenarioArb = fc.record({
  count: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 0, max: 40 }),
    fc.integer({ min: 0, max: 400 }),
  ),
  stride: fc.integer({ min: 1, max: 5 }),
  seed: fc.integer({ min: 0, max: 0xffff }),
  ops: fc.array(opArb, { minLength: 1, maxLength: 150, size: 'max' }),
});

/** Longer hunts: MAPLE_FC_RUNS=2000 MAPLE_FC_SEED=$RANDOM npx vitest run maple-tree.property. */
const FC_RUNS = Number(process.env.MAPLE_FC_RUNS ?? 60);
const FC_SEED = Number(process.env.MAPLE_FC_SEED ?? 0x5eed);

describe('MapleTree vs a reference range map (random operation sequences)', () => {
  for (const c of CONFIGS) {
    it(label(c), () => {
      // What the runs exercised, so that a generator change cannot quietly
      // stop covering the interesting writes.
      const seen = new Array<number>(STORE_TYPES.length).fill(0);
      let maxHeight = 0;
      const enomem0 = enomemSeen;
      fc.assert(
        fc.property(scenarioArb, ({ count, stride, seed, ops }) => {
          let t = new MapleTree<number>(c);
          const ref = new RefMap();
          prefill(t, ref, count, stride, seed);
          ops.forEach((op, n) => {
            const h = t.height;
            t = apply(t, ref, op, n);
            maxHeight = Math.max(maxHeight, t.height, h);
          });
          sameLayout(t, ref, 'end');
          checkStats(t);
          t.stats.stores.forEach((k, i) => {
            seen[i] = (seen[i] as number) + k;
          });
        }),
        { numRuns: FC_RUNS, seed: FC_SEED + CONFIGS.indexOf(c) },
      );
      const covered = STORE_TYPES.filter((_, i) => (seen[i] as number) > 0);
      for (const st of [
        'store_root',
        'spanning_store',
        'exact_fit',
        'rebalance',
        'split_store',
        'node_store',
      ] as const) {
        expect(covered).toContain(st);
      }
      if (!c.rcu) expect(covered).toEqual(expect.arrayContaining(['append', 'slot_store']));
      expect(maxHeight).toBeGreaterThanOrEqual(3);
      expect(enomemSeen).toBeGreaterThan(enomem0);
    });
  }
});

// ---------------------------------------------------------------------------
// Large trees: height ≥ 4, then random churn and a full teardown.

describe('large trees (height ≥ 4)', () => {
  for (const c of CONFIGS) {
    it(label(c), () => {
      const rng = new Prng(4242);
      let t = new MapleTree<number>(c);
      const ref = new RefMap();
      const N = 3000;
      // Thousands of small ranges [4i, 4i+1], inserted in random order.
      const order = Array.from({ length: N }, (_, i) => i);
      for (let i = N - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [order[i], order[j]] = [order[j] as number, order[i] as number];
      }
      let n = 0;
      const every = (k: number) => k % 97 === 0;
      for (const i of order) {
        apply(t, ref, { k: 'insert', f: 4 * i, l: 4 * i + 1, zero: false }, n, every(n));
        n++;
      }
      sameLayout(t, ref, 'after the inserts');
      // Continue on a copy: the churn below runs on a dup'd tree.
      t = apply(t, ref, { k: 'dup', mode: DUP_MODES[CONFIGS.indexOf(c) % 2] as DupMode }, n++);
      expect(t.height).toBeGreaterThanOrEqual(4);
      // Churn: small writes, NULL erasures, spanning stores, reads.
      const dom = 4 * N + 10;
      for (let s = 0; s < 600; s++) {
        const a = rng.int(dom);
        const len = rng.chance(0.05) ? rng.int(600) : rng.int(6);
        const l = Math.min(a + len, MAPLE_MAX);
        const kind = rng.int(10);
        let op: Op;
        if (kind < 4)
          op = { k: 'store', f: a, l, val: rng.chance(0.3) ? 'null' : 'v', budget: null };
        else if (kind < 5) op = { k: 'insert', f: a, l, zero: false };
        else if (kind < 7) op = { k: 'erase', x: a };
        else if (kind < 8) op = { k: 'load', x: a };
        else if (kind < 9) op = { k: 'find', a, b: l };
        else
          op = {
            k: 'empty',
            min: a,
            max: Math.min(a + rng.int(2000), MAPLE_MAX),
            size: 1 + rng.int(6),
            rev: rng.chance(0.5),
          };
        apply(t, ref, op, n, every(n));
        n++;
      }
      sameLayout(t, ref, 'after the churn');
      // A munmap-like NULL store over a large part of the tree.
      apply(t, ref, { k: 'store', f: 1001, l: 9003, val: 'null', budget: null }, n++);
      // Teardown: erase everything in random order.
      const left = ref.iv.map(([f]) => f);
      for (let i = left.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [left[i], left[j]] = [left[j] as number, left[i] as number];
      }
      for (const x of left) {
        apply(t, ref, { k: 'erase', x }, n, every(n));
        n++;
      }
      expect(t.isEmpty).toBe(true);
      expect(t.height).toBe(0);
      checkStats(t);
    });
  }

  it('ascending appends reach height ≥ 4 (plain and alloc)', () => {
    for (const allocRange of [false, true]) {
      const t = new MapleTree<number>({ allocRange });
      for (let i = 1; i <= 2500; i++) {
        expect(t.store(2 * i, 2 * i, i)).toBe(0);
        t.validate();
      }
      expect(t.height).toBeGreaterThanOrEqual(4);
      checkStats(t);
    }
  });
});

// ---------------------------------------------------------------------------
// Store-type classification

function counts(t: MapleTree<number>): number[] {
  return t.stats.stores.slice();
}

/** Runs `fn` (one write) and returns [the one store type counted, nodes requested]. */
function classify(t: MapleTree<number>, fn: () => number): [StoreType | string, number] {
  const before = counts(t);
  const req = t.stats.nodesRequested;
  const r = fn();
  expect(r).toBe(0);
  t.validate();
  const after = counts(t);
  const changed = STORE_TYPES.filter((_, i) => after[i] !== before[i]);
  const one =
    changed.length === 1 &&
    after[STORE_TYPES.indexOf(changed[0] as StoreType)] ===
      (before[STORE_TYPES.indexOf(changed[0] as StoreType)] as number) + 1;
  return [
    one ? (changed[0] as StoreType) : `not exactly one: ${changed.join(',')}`,
    t.stats.nodesRequested - req,
  ];
}

/** Leaf [0,0]null [1,1]..[14,14] [15,MAX]null: 16 slots, full. */
function fullLeaf(opts: Partial<Config>): MapleTree<number> {
  const t = new MapleTree<number>(opts);
  for (let i = 1; i <= 14; i++) expect(t.store(i, i, i)).toBe(0);
  expect(t.height).toBe(1);
  expect(t.nodeCount).toBe(1);
  t.validate();
  return t;
}

/** fullLeaf + [15,15]: split into two leaves (height 2). */
function twoLeaves(opts: Partial<Config>): MapleTree<number> {
  const t = fullLeaf(opts);
  expect(t.store(15, 15, 15)).toBe(0);
  t.validate();
  expect(t.height).toBe(2);
  expect(t.nodeCount).toBe(3);
  return t;
}

describe('store-type classification', () => {
  for (const c of FLAGS) {
    const o = { allocRange: c.allocRange, rcu: c.rcu };
    describe(label(o), () => {
      it('store_root: first store into an empty tree; [0,0] without a node', () => {
        const t = new MapleTree<number>(o);
        expect(classify(t, () => t.store(5, 10, 1))).toEqual(['store_root', 1]);
        expect(t.height).toBe(1);
        const u = new MapleTree<number>(o);
        expect(classify(u, () => u.store(0, 0, 1))).toEqual(['store_root', 0]);
        expect(u.height).toBe(0);
        expect(u.nodeCount).toBe(0);
        expect(classify(u, () => u.store(0, 0, 2))).toEqual(['store_root', 0]);
        expect(u.height).toBe(0);
        expect(u.load(0)).toBe(2);
        expect([...u.ranges()]).toEqual([
          [0, 0, 2],
          [1, MAPLE_MAX, null],
        ]);
        // A root entry plus a range elsewhere: store_root builds the first leaf.
        expect(classify(u, () => u.store(7, 9, 3))).toEqual(['store_root', 1]);
        expect(u.height).toBe(1);
        expect([...u.ranges()]).toEqual([
          [0, 0, 2],
          [1, 6, null],
          [7, 9, 3],
          [10, MAPLE_MAX, null],
        ]);
      });

      it('new_root: [0, MAPLE_MAX]', () => {
        const t = new MapleTree<number>(o);
        t.store(5, 10, 1);
        t.store(20, 30, 2);
        expect(classify(t, () => t.store(0, MAPLE_MAX, 3))).toEqual(['new_root', 1]);
        expect(t.height).toBe(1);
        expect([...t.ranges()]).toEqual([[0, MAPLE_MAX, 3]]);
        // From a taller tree the write runs past the first leaf, so (as in
        // mas_wr_store_type, which tests for a spanning write before new_root)
        // it is a spanning store, which then makes the new root.
        const u = twoLeaves(o);
        expect(classify(u, () => u.store(0, MAPLE_MAX, 4))).toEqual(['spanning_store', 3 * 2 + 1]);
        expect(u.height).toBe(1);
        expect(u.nodeCount).toBe(1);
        expect([...u.ranges()]).toEqual([[0, MAPLE_MAX, 4]]);
        expect(u.load(12345)).toBe(4);
      });

      it('exact_fit: overwrite one whole range', () => {
        const t = new MapleTree<number>(o);
        t.store(5, 10, 1);
        expect(classify(t, () => t.store(5, 10, 2))).toEqual(['exact_fit', 0]);
        expect(t.load(7)).toBe(2);
        // A NULL exact fit between two entries.
        t.store(11, 20, 3);
        t.store(21, 30, 4);
        expect(classify(t, () => t.store(11, 20, null))).toEqual(['exact_fit', 0]);
        expect(t.load(15)).toBeUndefined();
      });

      it(`${o.rcu ? 'node_store' : 'append'}: a write at the last slot`, () => {
        const t = new MapleTree<number>(o);
        t.store(5, 10, 1);
        expect(classify(t, () => t.store(20, 30, 2))).toEqual(
          o.rcu ? ['node_store', 1] : ['append', 0],
        );
        expect(t.load(25)).toBe(2);
      });

      it('slot_store: two adjacent slots, count unchanged', () => {
        const t = new MapleTree<number>(o);
        t.store(5, 10, 1);
        t.store(20, 30, 2);
        // [5,10]=1 [11,19]=null → [5,15]=3 [16,19]=null
        expect(classify(t, () => t.store(5, 15, 3))).toEqual(['slot_store', 0]);
        expect([...t.ranges()]).toEqual([
          [0, 4, null],
          [5, 15, 3],
          [16, 19, null],
          [20, 30, 2],
          [31, MAPLE_MAX, null],
        ]);
      });

      it(`${o.rcu ? 'node_store' : 'slot_store'}: three slots touched, count unchanged`, () => {
        const t = new MapleTree<number>(o);
        t.store(5, 10, 1);
        t.store(20, 30, 2);
        // [5,10]=1 [11,19]=null [20,30]=2 → [5,6]=1 [7,25]=3 [26,30]=2
        expect(classify(t, () => t.store(7, 25, 3))).toEqual(
          o.rcu ? ['node_store', 1] : ['slot_store', 0],
        );
        expect(t.load(6)).toBe(1);
        expect(t.load(7)).toBe(3);
        expect(t.load(26)).toBe(2);
      });

      it('node_store: a write strictly inside one slot', () => {
        const t = new MapleTree<number>(o);
        t.store(5, 10, 1);
        t.store(20, 30, 2);
        expect(classify(t, () => t.store(7, 8, 3))).toEqual(['node_store', o.rcu ? 1 : 0]);
        expect([t.load(6), t.load(7), t.load(8), t.load(9)]).toEqual([1, 3, 3, 1]);
      });

      it('split_store: the 17th slot of a leaf', () => {
        const t = fullLeaf(o);
        expect(classify(t, () => t.store(15, 15, 15))).toEqual(['split_store', 2 * 1 + 1]);
        expect(t.height).toBe(2);
        for (let i = 1; i <= 15; i++) expect(t.load(i)).toBe(i);
      });

      it('spanning_store: a munmap-like NULL store across two leaves', () => {
        const t = twoLeaves(o);
        const left = t.dump().split('\n')[1] as string;
        expect(left).toMatch(/^ {2}maple_leaf_64 \[0x0, 0x7\]/);
        expect(classify(t, () => t.store(5, 10, null))).toEqual(['spanning_store', 3 * 2 + 1]);
        const u = twoLeaves(o);
        // A NULL write ending exactly at a non-right-most leaf's max.
        expect(classify(u, () => u.store(6, 7, null))).toEqual(['spanning_store', 3 * 2 + 1]);
        expect(u.load(7)).toBeUndefined();
        expect(u.load(8)).toBe(8);
      });

      it('rebalance: an erase leaves a non-root leaf under-full', () => {
        const t = twoLeaves(o);
        // Left leaf: [0,0]null [1..7]: end 7.
        expect(classify(t, () => t.store(5, 5, null))).toEqual(['exact_fit', 0]);
        expect(classify(t, () => t.store(6, 6, null))).toEqual(['node_store', o.rcu ? 1 : 0]);
        // [4,4] joins the NULL [5,6]: the leaf drops to end 5 < 6.
        expect(classify(t, () => t.store(4, 4, null))).toEqual(['rebalance', 2 * 2 - 1]);
        expect([...t.entries()].map(([f]) => f)).toEqual([
          1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        ]);
      });
    });
  }

  it('worst-case policy asks 1 + 3h for every write; vacant-height never more than by-store-type', () => {
    const w = fullLeaf({ prealloc: 'worst-case' });
    expect(classify(w, () => w.store(15, 15, 15))).toEqual(['split_store', 1 + 3 * 1]);
    expect(classify(w, () => w.store(1, 1, 99))).toEqual(['exact_fit', 1 + 3 * 2]);
    const e = new MapleTree<number>({ prealloc: 'worst-case' });
    expect(classify(e, () => e.store(0, 0, 1))).toEqual(['store_root', 1]);
    checkStats(w);
  });

  for (const allocRange of [false, true]) {
    it(`split preallocation at heights 1…4 (allocRange=${allocRange})`, () => {
      const want: Record<PreallocPolicy, (h: number) => number> = {
        'by-store-type': (h) => 2 * h + 1,
        'worst-case': (h) => 1 + 3 * h,
        'vacant-height': (h) => 2 * h + 1,
      };
      for (const prealloc of PREALLOC_POLICIES) {
        const t = new MapleTree<number>({ allocRange, prealloc });
        const seen = new Set<number>();
        for (let i = 1; t.height < 5 && i < 100_000; i++) {
          const h = t.height;
          const splits = t.stats.storeCount('split_store');
          const req = t.stats.nodesRequested;
          expect(t.store(2 * i, 2 * i, i)).toBe(0);
          const d = t.stats.nodesRequested - req;
          if (t.stats.storeCount('split_store') === splits + 1) {
            seen.add(h);
            if (prealloc === 'vacant-height') {
              expect(d).toBeGreaterThanOrEqual(1);
              expect(d).toBeLessThanOrEqual(want[prealloc](h));
            } else expect(d, `${prealloc} split at height ${h}`).toBe(want[prealloc](h));
          } else if (prealloc === 'worst-case' && h > 0) {
            expect(d).toBe(1 + 3 * h);
          }
        }
        t.validate();
        expect([...seen].sort()).toEqual([1, 2, 3, 4]);
        checkStats(t);
      }
    });
  }
});

// ---------------------------------------------------------------------------
// dup

function bigSource(opts: Partial<Config>, n = 2500, seed = 7): MapleTree<number> {
  const t = new MapleTree<number>(opts);
  const rng = new Prng(seed);
  for (let i = 0; i < n; i++) expect(t.store(3 * i, 3 * i + rng.int(2), i + 1)).toBe(0);
  // Some holes and a blocked range, so leaves are not uniform.
  for (let i = 0; i < n; i += 7) t.erase(3 * i);
  expect(t.store(3 * n + 100, 3 * n + 200, ZERO_ENTRY)).toBe(0);
  t.validate();
  return t;
}

describe('dup', () => {
  for (const c of FLAGS) {
    for (const mode of DUP_MODES) {
      const o = { allocRange: c.allocRange, rcu: c.rcu };
      it(`${label(o)} dup=${mode}: equal copy, independent afterwards`, () => {
        const src = bigSource(o);
        expect(src.height).toBeGreaterThanOrEqual(3);
        const dest = new MapleTree<number>({ ...o, dup: mode });
        const nodesBefore = src.nodeCount;
        expect(src.dupInto(dest)).toBe(0);
        dest.validate();
        src.validate();
        expect(layoutOf(dest)).toBe(layoutOf(src));
        if (mode === 'mt-dup') {
          expect(dest.stats.nodesDuplicated).toBe(nodesBefore);
          expect(dest.nodeCount).toBe(nodesBefore);
          expect(dest.height).toBe(src.height);
        }
        const srcLayout = layoutOf(src);
        // Writes to the copy do not reach the source…
        expect(dest.store(10, 5000, 77)).toBe(0);
        expect(dest.store(1, 1, null)).toBe(0);
        for (let i = 5000; i < 6000; i += 3) dest.erase(i);
        expect(dest.store(100, 100, 88)).toBe(0);
        dest.validate();
        expect(layoutOf(src)).toBe(srcLayout);
        src.validate();
        // …and writes to the source do not reach the copy.
        const destLayout = layoutOf(dest);
        expect(src.store(0, 4000, null)).toBe(0);
        for (let i = 0; i < 7500; i += 5) src.store(i, i, -i);
        src.validate();
        expect(layoutOf(dest)).toBe(destLayout);
        dest.validate();
      });
    }

    it(`${label({ allocRange: c.allocRange, rcu: c.rcu })}: EINVAL when dest is not empty or flags differ; small sources`, () => {
      const o = { allocRange: c.allocRange, rcu: c.rcu };
      for (const mode of DUP_MODES) {
        const src = bigSource(o, 50);
        const full = new MapleTree<number>({ ...o, dup: mode });
        full.store(3, 4, 1);
        expect(src.dupInto(full)).toBe(-EINVAL);
        expect([...full.ranges()]).toEqual([
          [0, 2, null],
          [3, 4, 1],
          [5, MAPLE_MAX, null],
        ]);
        const other = new MapleTree<number>({ allocRange: !o.allocRange, rcu: o.rcu, dup: mode });
        expect(src.dupInto(other)).toBe(-EINVAL);
        expect(other.isEmpty).toBe(true);
        // Empty source and a source that is only a root entry.
        const empty = new MapleTree<number>(o);
        const d1 = new MapleTree<number>({ ...o, dup: mode });
        expect(empty.dupInto(d1)).toBe(0);
        expect(d1.isEmpty).toBe(true);
        d1.validate();
        const rootOnly = new MapleTree<number>(o);
        rootOnly.store(0, 0, 5);
        const d2 = new MapleTree<number>({ ...o, dup: mode });
        expect(rootOnly.dupInto(d2)).toBe(0);
        d2.validate();
        expect(d2.load(0)).toBe(5);
        expect(d2.height).toBe(0);
        d2.store(0, 0, 6);
        expect(rootOnly.load(0)).toBe(5);
      }
    });

    it(`${label({ allocRange: c.allocRange, rcu: c.rcu })} dup=mt-dup: ENOMEM at every allocation position`, () => {
      const o = { allocRange: c.allocRange, rcu: c.rcu };
      const src = bigSource(o, 1500);
      expect(src.height).toBeGreaterThanOrEqual(3);
      const srcLayout = layoutOf(src);
      const ok = new MapleTree<number>(o);
      expect(src.dupInto(ok)).toBe(0);
      const total = ok.stats.nodesDuplicated;
      expect(total).toBe(src.nodeCount);
      for (let k = 0; k < total; k++) {
        const dest = new MapleTree<number>(o);
        dest.failAllocAfter(k);
        expect(src.dupInto(dest), `k=${k}`).toBe(-ENOMEM);
        expect(dest.isEmpty, `k=${k}`).toBe(true);
        expect(dest.height).toBe(0);
        dest.validate();
        src.validate();
        expect(layoutOf(src), `k=${k}`).toBe(srcLayout);
        // The failed destination is usable afterwards.
        if (k === total - 1) {
          dest.failAllocAfter(undefined);
          expect(src.dupInto(dest)).toBe(0);
          dest.validate();
          expect(layoutOf(dest)).toBe(srcLayout);
        }
      }
      const exact = new MapleTree<number>(o);
      exact.failAllocAfter(total);
      expect(src.dupInto(exact)).toBe(0);
      exact.validate();
      expect(layoutOf(exact)).toBe(srcLayout);
    });

    it(`${label({ allocRange: c.allocRange, rcu: c.rcu })} dup=insert: a budget one node short fails (8 entries)`, () => {
      const o = { allocRange: c.allocRange, rcu: c.rcu, dup: 'insert' as DupMode };
      const src = new MapleTree<number>(o);
      for (let i = 1; i <= 8; i++) expect(src.store(2 * i, 2 * i, i)).toBe(0);
      const ok = new MapleTree<number>(o);
      expect(src.dupInto(ok)).toBe(0);
      ok.validate();
      const total = ok.stats.nodesRequested;
      const dest = new MapleTree<number>(o);
      dest.failAllocAfter(total - 1);
      expect(src.dupInto(dest)).toBe(-ENOMEM);
      expect(dest.isEmpty).toBe(true);
      dest.validate();
    });

    it(`${label({ allocRange: c.allocRange, rcu: c.rcu })} dup=insert: ENOMEM at sampled allocation positions`, () => {
      const o = { allocRange: c.allocRange, rcu: c.rcu, dup: 'insert' as DupMode };
      const src = bigSource(o, 1000);
      const srcLayout = layoutOf(src);
      const ok = new MapleTree<number>(o);
      expect(src.dupInto(ok)).toBe(0);
      const total = ok.stats.nodesRequested;
      expect(total).toBeGreaterThan(0);
      const rng = new Prng(99);
      const ks = new Set([0, 1, 2, 3, total >> 2, total >> 1, total - 2, total - 1]);
      while (ks.size < 40) ks.add(rng.int(total));
      for (const k of ks) {
        const dest = new MapleTree<number>(o);
        dest.failAllocAfter(k);
        expect(src.dupInto(dest), `k=${k}`).toBe(-ENOMEM);
        expect(dest.isEmpty, `k=${k}`).toBe(true);
        dest.validate();
        src.validate();
        expect(layoutOf(src), `k=${k}`).toBe(srcLayout);
      }
    });
  }
});

// ---------------------------------------------------------------------------
// Gap search on trees without nodes (§1.10 step 1)

describe('emptyArea / emptyAreaRev without nodes', () => {
  for (const c of FLAGS) {
    it(label(c), () => {
      const t = new MapleTree<number>(c);
      expect(t.emptyArea(5, 100, 10)).toBe(5);
      expect(t.emptyAreaRev(5, 100, 10)).toBe(91);
      expect(t.emptyArea(0, MAPLE_MAX, MAPLE_MAX)).toBe(0);
      expect(t.emptyAreaRev(0, MAPLE_MAX, 1)).toBe(MAPLE_MAX);
      // −EINVAL: min > max, size 0, window smaller than size.
      expect(t.emptyArea(10, 9, 1)).toBe(-EINVAL);
      expect(t.emptyAreaRev(10, 9, 1)).toBe(-EINVAL);
      expect(t.emptyArea(0, 10, 0)).toBe(-EINVAL);
      expect(t.emptyAreaRev(0, 10, 0)).toBe(-EINVAL);
      expect(t.emptyArea(0, 8, 10)).toBe(-EINVAL);
      expect(t.emptyAreaRev(0, 8, 10)).toBe(-EINVAL);
      expect(t.emptyArea(0, 9, 10)).toBe(0);
      // A root entry at index 0: min 0 is bumped to 1.
      expect(t.store(0, 0, 1)).toBe(0);
      expect(t.height).toBe(0);
      expect(t.emptyArea(0, 10, 3)).toBe(1);
      expect(t.emptyAreaRev(0, 10, 3)).toBe(8);
      expect(t.emptyArea(0, 2, 3)).toBe(-EBUSY);
      expect(t.emptyAreaRev(0, 2, 3)).toBe(-EBUSY);
      expect(t.emptyArea(0, 3, 3)).toBe(1);
      expect(t.emptyAreaRev(0, 3, 3)).toBe(1);
      expect(t.emptyArea(4, 10, 3)).toBe(4);
      expect(t.emptyArea(0, 0, 1)).toBe(-EBUSY);
      t.validate();
      if (c.allocRange) {
        expect(t.allocRange(3, 0, 10, 2)).toBe(1);
        expect(t.allocRrange(3, 0, 10, 3)).toBe(8);
        t.validate();
        expect([...t.entries()]).toEqual([
          [0, 0, 1],
          [1, 3, 2],
          [8, 10, 3],
        ]);
      } else {
        expect(t.allocRange(3, 0, 10, 2)).toBe(-EINVAL);
        expect(t.allocRrange(3, 0, 10, 2)).toBe(-EINVAL);
      }
    });
  }
});

// ---------------------------------------------------------------------------
// Argument errors and ENOMEM

describe('store / insert argument errors and ENOMEM', () => {
  for (const c of FLAGS) {
    it(label(c), () => {
      const t = bigSource(c, 40);
      const before = layoutOf(t);
      const stores = counts(t);
      const bad: Array<[number, number]> = [
        [5, 3],
        [-1, 3],
        [-5, -1],
        [1.5, 3],
        [1, 2.5],
        [0, MAPLE_MAX + 1],
        [Number.NaN, 3],
        [3, Number.POSITIVE_INFINITY],
      ];
      for (const [f, l] of bad) {
        expect(t.store(f, l, 1), `store(${f}, ${l})`).toBe(-EINVAL);
        expect(t.store(f, l, null), `store(${f}, ${l}, null)`).toBe(-EINVAL);
        expect(t.insert(f, l, 1), `insert(${f}, ${l})`).toBe(-EINVAL);
        t.validate();
      }
      expect(layoutOf(t)).toBe(before);
      expect(counts(t)).toEqual(stores);

      // ENOMEM on a split: nothing changes; afterwards the same split succeeds.
      for (const prealloc of PREALLOC_POLICIES) {
        const u = fullLeaf({ ...c, prealloc });
        const l0 = layoutOf(u);
        const s0 = counts(u);
        u.failAllocAfter(0);
        expect(u.store(15, 15, 15)).toBe(-ENOMEM);
        expect(u.insert(15, 15, 15)).toBe(-ENOMEM);
        u.validate();
        expect(layoutOf(u)).toBe(l0);
        expect(counts(u)).toEqual(s0);
        expect(u.height).toBe(1);
        u.failAllocAfter(undefined);
        expect(u.store(15, 15, 15)).toBe(0);
        u.validate();
        expect(u.height).toBe(2);
        checkStats(u);
      }
    });
  }
});

// ---------------------------------------------------------------------------
// XA_ZERO_ENTRY reads as empty everywhere

describe('XA_ZERO_ENTRY', () => {
  for (const c of FLAGS) {
    it(`${label(c)}: occupies its range but reads as empty (in a node)`, () => {
      const t = new MapleTree<number>(c);
      expect(t.store(10, 20, ZERO_ENTRY)).toBe(0);
      expect(t.store(30, 40, 1)).toBe(0);
      t.validate();
      expect(t.load(15)).toBeUndefined();
      expect(t.find(0)).toBe(1);
      expect(t.findRev(25)).toBeUndefined();
      expect(t.erase(15)).toBeUndefined();
      expect(t.insert(12, 12, 2)).toBe(-EEXIST);
      expect(t.emptyArea(10, 25, 3)).toBe(21);
      expect([...t.entries()]).toEqual([[30, 40, 1]]);
    });

    it(`${label(c)}: a root entry XA_ZERO_ENTRY at index 0 reads as empty (mtree_load returns NULL)`, () => {
      const t = new MapleTree<number>(c);
      expect(t.store(0, 0, ZERO_ENTRY)).toBe(0);
      t.validate();
      expect(t.height).toBe(0);
      expect(t.find(0)).toBeUndefined();
      expect(t.findRev(5)).toBeUndefined();
      expect(t.load(0)).toBeUndefined();
      // erase() of an empty-reading index removes nothing.
      expect(t.erase(0)).toBeUndefined();
      expect(t.isEmpty).toBe(false);
      expect(t.insert(0, 0, 1)).toBe(-EEXIST);
    });
  }
});
