import {
  Counters,
  isGapIndex,
  Prng,
  VM_GROWSDOWN,
  VM_READ,
  VM_SHADOW_STACK,
  Vma,
} from '@vmalab/core';
import { ReferenceIndex, referenceFindGap } from '@vmalab/core/conformance';
import { describe, expect, it } from 'vitest';
import {
  createRbTreeIndex,
  GapRbTreeIndex,
  type RbNode,
  RbTreeIndex,
  type RbTreeIndexOptions,
  strategy,
} from './index.js';

const P = 4096;
const mk = (startPage: number, endPage: number, flags = VM_READ) =>
  new Vma(startPage * P, endPage * P, flags, null, startPage);
const nodeOf = (v: Vma) => v.node as RbNode;

/** [nodesVisited, comparisons, rotations, gapUpdates, nodesAllocated, nodesFreed] */
const work = (c: Counters) => [
  c.nodesVisited,
  c.comparisons,
  c.rotations,
  c.gapUpdates,
  c.nodesAllocated,
  c.nodesFreed,
];

/** A, B, C at pages [1, 3), [5, 8), [10, 12); counters reset after the inserts. */
function abc(options: RbTreeIndexOptions = {}) {
  const counters = new Counters();
  const index = new GapRbTreeIndex(counters, options);
  const [a, b, c] = [mk(1, 3), mk(5, 8), mk(10, 12)];
  for (const v of [a, b, c]) index.insert(v);
  counters.reset();
  return { counters, index, a, b, c };
}

describe('RbTreeIndex: shape, colours and rotations', () => {
  const build = (pages: number[]) => {
    const counters = new Counters();
    const index = new RbTreeIndex(counters, { findCache: 'none' });
    const vmas = pages.map((p) => mk(2 * p, 2 * p + 1));
    for (const v of vmas) index.insert(v);
    index.validate();
    return { counters, index, vmas };
  };
  const lines = (...l: string[]) => l.join('\n');

  it('ascending 1, 2, 3: one left rotation, black root, two red leaves', () => {
    const { counters, index } = build([1, 2, 3]);
    expect(counters.rotations).toBe(1);
    expect(index.dump()).toBe(
      lines('    R [0x6000, 0x7000)', 'B [0x4000, 0x5000)', '    R [0x2000, 0x3000)'),
    );
  });

  it('3, 1, 2: a double rotation gives the same tree', () => {
    const { counters, index } = build([3, 1, 2]);
    expect(counters.rotations).toBe(2);
    expect(index.dump()).toBe(build([1, 2, 3]).index.dump());
  });

  it('1, 2, 3, 4: a red uncle recolours without rotating', () => {
    const { counters, index } = build([1, 2, 3, 4]);
    expect(counters.rotations).toBe(1);
    expect(index.dump()).toBe(
      lines(
        '        R [0x8000, 0x9000)',
        '    B [0x6000, 0x7000)',
        'B [0x4000, 0x5000)',
        '    B [0x2000, 0x3000)',
      ),
    );
  });

  it('erasing a black leaf with a far red nephew: one rotation, recoloured', () => {
    const { counters, index, vmas } = build([1, 2, 3, 4]);
    counters.reset();
    index.remove(vmas[0] as Vma);
    index.validate();
    expect(counters.rotations).toBe(1);
    expect(index.dump()).toBe(
      lines('    B [0x8000, 0x9000)', 'B [0x6000, 0x7000)', '    B [0x4000, 0x5000)'),
    );
  });

  it('ascending, descending and zig-zag inserts keep height ≤ 2·log2(n+1)', () => {
    const n = 2000;
    const orders = {
      ascending: Array.from({ length: n }, (_, i) => i),
      descending: Array.from({ length: n }, (_, i) => n - 1 - i),
      zigzag: Array.from({ length: n }, (_, i) => (i % 2 === 0 ? i / 2 : n - 1 - (i - 1) / 2)),
    };
    for (const [name, order] of Object.entries(orders)) {
      const counters = new Counters();
      const index = new GapRbTreeIndex(counters);
      order.forEach((p, k) => {
        index.insert(mk(2 * p, 2 * p + 1));
        if (k % 97 === 0 || k === n - 1) {
          expect(index.height(), `${name} after ${k + 1}`).toBeLessThanOrEqual(
            2 * Math.log2(k + 2),
          );
        }
      });
      index.validate();
      // A red-black tree never needs more than two rotations per insert.
      expect(counters.rotations, name).toBeLessThanOrEqual(2 * n);
      expect(counters.rotations, name).toBeGreaterThan(n / 2);
    }
  });

  it('removals in every order keep the rules (validate after each)', () => {
    const rng = new Prng(7);
    for (let round = 0; round < 20; round++) {
      const n = 1 + rng.int(200);
      const index = new GapRbTreeIndex(new Counters(), { stackGuardGap: 2 * P });
      const vmas = Array.from({ length: n }, (_, i) =>
        mk(3 * i, 3 * i + 1 + rng.int(2), rng.chance(0.2) ? VM_GROWSDOWN : VM_READ),
      );
      for (const i of shuffled(rng, n)) index.insert(vmas[i] as Vma);
      for (const i of shuffled(rng, n)) {
        index.remove(vmas[i] as Vma);
        index.validate();
      }
      expect(index.count).toBe(0);
      expect(index.height()).toBe(0);
    }
  });
});

describe('RbTreeIndex: exact counters', () => {
  it('counts a known sequence of inserts, finds, a removal and resizes', () => {
    const counters = new Counters();
    const index = new GapRbTreeIndex(counters, { findCache: 'none' });
    const [a, b, c] = [mk(1, 3), mk(5, 8), mk(10, 12)];
    // A into the empty tree: its own gap (1) and its subtree gap (1).
    index.insert(a);
    expect(work(counters)).toEqual([0, 0, 0, 2, 1, 0]);
    // B: one node compared; own gap, then B and A's subtree gaps.
    index.insert(b);
    expect(work(counters)).toEqual([1, 1, 0, 5, 2, 0]);
    // C: two nodes; own gap, C, B (unchanged: stop); a left rotation at A recomputes A.
    // (Each insert is a leaf whose successor, if any, is an ancestor: one walk.)
    index.insert(c);
    expect(work(counters)).toEqual([3, 3, 1, 9, 3, 0]);
    // Tree: B black, A and C red.
    expect(index.find(6 * P)).toBe(b); // root contains it: 1 node, 2 comparisons
    expect(work(counters)).toEqual([4, 5, 1, 9, 3, 0]);
    expect(index.find(2 * P)).toBe(a); // B, A
    expect(work(counters)).toEqual([6, 9, 1, 9, 3, 0]);
    expect(index.find(4 * P)).toBe(b); // in the hole: B (2 comparisons), A (1)
    expect(work(counters)).toEqual([8, 12, 1, 9, 3, 0]);
    expect(index.find(12 * P)).toBeUndefined(); // B, C: one comparison each
    expect(work(counters)).toEqual([10, 14, 1, 9, 3, 0]);
    // Removing the red leaf A: its successor B's own gap grows to 5 pages, and
    // the one walk up from A's parent (B itself, the root) carries it. The
    // node stays embedded in A (freed with the VMA): nodesFreed stays 0.
    index.remove(a);
    expect(work(counters)).toEqual([10, 14, 1, 11, 3, 0]);
    // A new end with no next VMA: one comparison with the previous one, no gap work.
    index.resize(c, 10 * P, 14 * P);
    expect(work(counters)).toEqual([10, 15, 1, 11, 3, 0]);
    // A new start: C's own gap (1 page), C's subtree gap, B (unchanged: stop).
    index.resize(c, 9 * P, 14 * P);
    expect(work(counters)).toEqual([10, 16, 1, 14, 3, 0]);
    expect([nodeOf(b).gap, nodeOf(b).subtreeGap, nodeOf(c).gap]).toEqual([5 * P, 5 * P, P]);
    index.validate();
  });

  it('findGap counts the nodes on its path and the holes it tests', () => {
    const { counters, index } = abc({ findCache: 'none' });
    // Holes: [0, 1) under A, [3, 5) under B, [8, 10) under C, [12, ∞) on top.
    // A's subtree gap (1) is too small: B's own hole at once.
    expect(index.findGap(2 * P, 0, 100 * P, false)).toBe(3 * P);
    expect([counters.nodesVisited, counters.gapsExamined]).toEqual([1, 1]);
    counters.reset();
    // Down to A (its hole lies below the window), climb back to B.
    expect(index.findGap(P, 2 * P, 100 * P, false)).toBe(3 * P);
    expect([counters.nodesVisited, counters.gapsExamined]).toEqual([3, 2]);
    counters.reset();
    expect(index.findGap(2 * P, 0, 100 * P, true)).toBe(98 * P); // the top hole alone
    expect([counters.nodesVisited, counters.gapsExamined]).toEqual([0, 1]);
    counters.reset();
    expect(index.findGap(2 * P, 0, 11 * P, true)).toBe(8 * P); // top hole, then B, C
    expect([counters.nodesVisited, counters.gapsExamined]).toEqual([2, 2]);
    counters.reset();
    expect(index.findGap(3 * P, 0, 11 * P, true)).toBeUndefined(); // root's subtree gap is 2
    expect([counters.nodesVisited, counters.gapsExamined]).toEqual([0, 1]);
  });

  it('dup walks the source once and links each copy at the right edge, as __vma_link_rb did', () => {
    const counters = new Counters();
    const index = new GapRbTreeIndex(counters, { gaps: 'raw', findCache: 'mmap_cache' });
    const vmas = Array.from({ length: 100 }, (_, i) => mk(2 * i, 2 * i + 1));
    for (const v of vmas) index.insert(v);
    counters.reset();
    const keep = (v: Vma) => v.start !== 10 * P;
    const copy = index.dup((v) => (keep(v) ? v.clone() : null));
    const dup = { ...counters };
    expect(copy).toBeInstanceOf(GapRbTreeIndex);
    expect([copy.gapKind, copy.findCache, copy.stackGuardGap]).toEqual([
      'raw',
      'mmap_cache',
      index.stackGuardGap,
    ]);
    copy.validate();
    expect(copy.findGap(3 * P, 0, 1000 * P, false)).toBe(9 * P);
    // The same copies inserted in address order into an empty tree hang at the
    // same places and rebalance the same way; dup only skips the descents.
    const ref = new GapRbTreeIndex(new Counters(), { gaps: 'raw' });
    const rc = ref.counters;
    let descents = 0;
    for (const v of vmas.filter(keep)) {
      const before = rc.nodesVisited;
      ref.insert(v.clone());
      descents += rc.nodesVisited - before;
    }
    expect(copy.dump()).toBe(ref.dump());
    expect([dup.nodesAllocated, dup.rotations, dup.gapUpdates]).toEqual([
      99,
      rc.rotations,
      rc.gapUpdates,
    ]);
    expect(dup.rotations).toBeGreaterThan(80); // an ascending run rotates at almost every link
    expect(dup.nodesVisited).toBe(100); // the walk over the source, no descent
    expect(descents).toBeGreaterThan(99 * 5);
  });

  it('dup builds a valid tree with the same VMAs for every size from 0 to 130', () => {
    const index = new GapRbTreeIndex(new Counters(), { stackGuardGap: P });
    for (let n = 0; n <= 130; n++) {
      const copy = index.dup((v) => v.clone());
      copy.validate();
      expect(copy.count).toBe(n);
      expect([...copy].map((v) => v.start)).toEqual([...index].map((v) => v.start));
      index.insert(mk(3 * n + 1, 3 * n + 2, n % 5 === 0 ? VM_GROWSDOWN : VM_READ));
    }
    const plain = new RbTreeIndex(new Counters());
    expect(plain.dup((v) => v)).toBeInstanceOf(RbTreeIndex);
    expect(isGapIndex(plain.dup((v) => v))).toBe(false);
  });
});

describe('RbTreeIndex: find_vma caches', () => {
  const hm = (c: Counters) => [c.cacheHits, c.cacheMisses];

  it('mmap_cache: one entry, kept by inserts, cleared by removals and resizes', () => {
    const { counters, index, a, b, c } = abc({ findCache: 'mmap_cache' });
    expect(index.find(6 * P)).toBe(b); // cold
    expect(hm(counters)).toEqual([0, 1]);
    expect(index.find(5 * P)).toBe(b);
    expect(hm(counters)).toEqual([1, 1]);
    expect(index.find(2 * P)).toBe(a); // B fails on vm_start; A cached
    expect(hm(counters)).toEqual([1, 2]);
    expect(index.find(4 * P)).toBe(b); // in the hole under B: A fails on vm_end; B cached
    expect(hm(counters)).toEqual([1, 3]);
    expect(index.find(12 * P)).toBeUndefined(); // nothing found: the cache keeps B
    expect(hm(counters)).toEqual([1, 4]);
    expect(index.find(7 * P)).toBe(b);
    expect(hm(counters)).toEqual([2, 4]);
    const visited = counters.nodesVisited;
    index.insert(mk(13, 14));
    expect(index.find(7 * P)).toBe(b); // an insert keeps the cache
    expect(hm(counters)).toEqual([3, 4]);
    expect(counters.nodesVisited - visited).toBe(2); // the insert's descent (B, C); the hit walks nothing
    index.resize(c, 10 * P, 13 * P);
    expect(index.find(7 * P)).toBe(b);
    expect(hm(counters)).toEqual([3, 5]);
    index.remove(a);
    expect(index.find(7 * P)).toBe(b);
    expect(index.find(7 * P)).toBe(b);
    expect(hm(counters)).toEqual([4, 6]);
    index.validate();
  });

  it('vmacache: filled at slot (addr >> 12) & 3, all four scanned, flushed by a newer seqnum', () => {
    const { counters, index, a, b, c } = abc({ findCache: 'vmacache' });
    const slots = () =>
      (index as unknown as { cache: RbNode[] }).cache.map((n) =>
        n.owner === null ? '-' : n.vma.start / P,
      );
    expect(index.find(6 * P)).toBe(b); // page 6 → slot 2
    expect(hm(counters)).toEqual([0, 1]);
    expect(slots()).toEqual(['-', '-', 5, '-']);
    expect(index.find(5 * P)).toBe(b);
    expect(hm(counters)).toEqual([1, 1]);
    expect(index.find(2 * P)).toBe(a); // page 2 → slot 2 again: A replaces B
    expect(slots()).toEqual(['-', '-', 1, '-']);
    expect(index.find(7 * P)).toBe(b); // page 7 → slot 3
    expect(hm(counters)).toEqual([1, 3]);
    expect(index.find(6 * P)).toBe(b); // found in slot 3 although page 6 hashes to slot 2
    expect(index.find(1 * P)).toBe(a);
    expect(hm(counters)).toEqual([3, 3]);
    expect(index.find(4 * P)).toBe(b); // the hole under B: no slot contains page 4; cached at slot 0
    expect(slots()).toEqual([5, '-', 1, 5]);
    expect(index.find(11 * P)).toBe(c); // page 11 → slot 3
    expect(slots()).toEqual([5, '-', 1, 10]);
    expect(index.find(10 * P)).toBe(c);
    expect(index.find(7 * P)).toBe(b); // slot 0
    expect(hm(counters)).toEqual([5, 5]);
    const d = mk(13, 14);
    index.insert(d); // inserts do not bump the seqnum
    expect(index.find(7 * P)).toBe(b);
    expect(hm(counters)).toEqual([6, 5]);
    index.remove(d); // bumps it: the next lookup flushes all four slots and misses
    expect(index.find(7 * P)).toBe(b);
    expect(hm(counters)).toEqual([6, 6]);
    expect(slots()).toEqual(['-', '-', '-', 5]);
    expect(index.find(7 * P)).toBe(b);
    index.resize(b, 5 * P, 9 * P); // so does a resize
    expect(index.find(7 * P)).toBe(b);
    expect(hm(counters)).toEqual([7, 7]);
    index.validate();
  });

  it('vmacache holds a working set of four pages hashing to different slots', () => {
    const counters = new Counters();
    const index = new RbTreeIndex(counters, { findCache: 'vmacache' });
    const vmas = [mk(0, 1), mk(1, 2), mk(2, 3), mk(3, 4), mk(4, 5)];
    for (const v of vmas) index.insert(v);
    for (let i = 0; i < 400; i++) expect(index.find((i % 4) * P)).toBe(vmas[i % 4]);
    expect(hm(counters)).toEqual([396, 4]);
    counters.reset();
    // Pages 0 and 4 share slot 0: alternating between them misses every time
    // after the first lookup (slot 0 still holds page 0's VMA).
    for (let i = 0; i < 100; i++) index.find((i % 2) * 4 * P);
    expect(hm(counters)).toEqual([1, 99]);
  });

  it("findCache 'none' counts no hits or misses", () => {
    const { counters, index, b } = abc({ findCache: 'none' });
    for (let i = 0; i < 10; i++) expect(index.find(6 * P)).toBe(b);
    expect(hm(counters)).toEqual([0, 0]);
    expect(counters.nodesVisited).toBe(10);
  });
});

describe('RbTreeIndex: gaps', () => {
  it('resize at either end updates the own gap or the next one, raw and guard', () => {
    for (const gaps of ['raw', 'guard'] as const) {
      const g = 4 * P;
      const index = new GapRbTreeIndex(new Counters(), { gaps, stackGuardGap: g });
      const a = mk(10, 12);
      const s = mk(30, 40, VM_GROWSDOWN); // a stack: its gap ends g lower with 'guard'
      const c = mk(50, 52);
      for (const v of [s, c, a]) index.insert(v);
      const guard = gaps === 'guard' ? g / P : 0;
      // Own gaps, in pages.
      const gapsNow = () => [nodeOf(a).gap / P, nodeOf(s).gap / P, nodeOf(c).gap / P];
      expect(gapsNow()).toEqual([10, 18 - guard, 10]);
      index.resize(s, 25 * P, 40 * P); // the stack grows down: its own gap shrinks
      expect(gapsNow()).toEqual([10, 13 - guard, 10]);
      index.resize(s, 25 * P, 45 * P); // its end grows: the next VMA's gap shrinks
      expect(gapsNow()).toEqual([10, 13 - guard, 5]);
      index.resize(a, 10 * P, 24 * P); // A's end: the stack's gap (1 page, 0 with a guard of 4)
      expect(gapsNow()).toEqual([10, gaps === 'guard' ? 0 : 1, 5]);
      index.resize(a, 2 * P, 24 * P); // A's start: its own gap
      expect(gapsNow()).toEqual([2, gaps === 'guard' ? 0 : 1, 5]);
      index.validate();
      const root = (index as unknown as { root: RbNode }).root;
      expect(root.subtreeGap).toBe(5 * P);
      expect(index.findGap(5 * P, 0, 60 * P, false)).toBe(45 * P);
      expect(index.findGap(P, 22 * P, 60 * P, false)).toBe(gaps === 'guard' ? 45 * P : 24 * P);
    }
  });

  it('a shadow stack keeps one page of guard whatever stackGuardGap is', () => {
    const index = new GapRbTreeIndex(new Counters(), { stackGuardGap: 64 * P });
    const a = mk(0, 1);
    const t = mk(5, 6, VM_SHADOW_STACK);
    index.insert(a);
    index.insert(t);
    expect(nodeOf(t).gap).toBe(3 * P);
    expect(index.findGap(4 * P, 0, 10 * P, false)).toBe(6 * P);
    expect(index.findGap(3 * P, 0, 10 * P, false)).toBe(P);
  });

  it('huge holes and requests (TiB, above 2^32 pages of bytes) stay exact', () => {
    const T = 2 ** 42; // 4 TiB
    for (const gaps of ['guard', 'raw'] as const) {
      const counters = new Counters();
      const index = new GapRbTreeIndex(counters, { gaps, stackGuardGap: 16 * P });
      const vmas = [
        mk(1, 2),
        new Vma(2 ** 44, 2 ** 44 + P, VM_READ, null, 0), // a 16 TiB hole below
        new Vma(2 ** 44 + T, 2 ** 44 + T + 8 * P, VM_GROWSDOWN, null, 0), // exactly 4 TiB (raw)
        new Vma(2 ** 46, 2 ** 46 + P, VM_READ, null, 0),
        new Vma(2 ** 46 + T - P, 2 ** 46 + T, VM_READ, null, 0), // 4 TiB − 2 pages
      ];
      for (const v of vmas) index.insert(v);
      index.validate();
      expect(nodeOf(vmas[1] as Vma).gap).toBe(2 ** 44 - 2 * P);
      const ref = [...index];
      const guard = gaps === 'guard' ? 16 * P : undefined;
      const lengths = [P, T - 2 * P, T - P, T, T + P, 2 ** 43, 2 ** 44 - 2 * P, 2 ** 44, 2 ** 45];
      const windows: Array<[number, number]> = [
        [0, 2 ** 47],
        [P, 2 ** 44 + T],
        [2 ** 43, 2 ** 46 + T],
        [2 ** 44 + P, 2 ** 46 + T - P],
      ];
      for (const len of lengths) {
        for (const [low, high] of windows) {
          for (const topDown of [false, true]) {
            const want = referenceFindGap(ref, len, low, high, topDown, guard);
            expect(
              index.findGap(len, low, high, topDown),
              `${gaps} ${len} ${low} ${high} ${topDown}`,
            ).toBe(want);
          }
        }
      }
      index.remove(vmas[1] as Vma);
      index.resize(vmas[2] as Vma, 2 ** 44 + T - P, 2 ** 44 + T + 8 * P);
      index.validate();
      expect(index.findGap(2 ** 44, 0, 2 ** 47, false)).toBe(
        referenceFindGap([...index], 2 ** 44, 0, 2 ** 47, false, guard),
      );
    }
  });

  it('agrees with referenceFindGap on thousands of VMAs (deep trees)', () => {
    const rng = new Prng(424242);
    for (const gaps of ['guard', 'raw'] as const) {
      const g = 8 * P;
      const index = new GapRbTreeIndex(new Counters(), { gaps, stackGuardGap: g });
      const ref = new ReferenceIndex();
      const live: Vma[] = [];
      const SPACE = 40_000; // pages
      for (let op = 0; op < 6000; op++) {
        const r = rng.int(10);
        if (r < 5 || live.length < 10) {
          const s = rng.int(SPACE);
          const len = 1 + rng.int(6);
          const hit = ref.find(s * P);
          if (hit && hit.start < (s + len) * P) continue;
          const v = mk(s, s + len, rng.chance(0.15) ? VM_GROWSDOWN : VM_READ);
          index.insert(v);
          ref.insert(v);
          live.push(v);
        } else if (r < 7) {
          const v = live.splice(rng.int(live.length), 1)[0] as Vma;
          index.remove(v);
          ref.remove(v);
        } else if (r < 8) {
          const v = live[rng.int(live.length)] as Vma;
          const lo = ref.prev(v)?.end ?? 0;
          const hi = ref.next(v)?.start ?? Math.max(SPACE * P, v.end);
          const start = rng.chance(0.5) ? v.start : lo + rng.int((v.end - lo) / P) * P;
          const end = rng.chance(0.5) ? v.end : start + P + rng.int((hi - start) / P) * P;
          // The reference shares the Vma objects and stays sorted: bounds stay between neighbours.
          index.resize(v, start, end);
        } else {
          const len = (1 + rng.int(rng.chance(0.1) ? 200 : 12)) * P;
          const low = rng.int(SPACE) * P;
          const high = low + rng.int(SPACE / 4) * P;
          const topDown = rng.chance(0.5);
          const want = referenceFindGap(
            [...ref],
            len,
            low,
            high,
            topDown,
            gaps === 'guard' ? g : undefined,
          );
          expect(index.findGap(len, low, high, topDown), `op ${op}`).toBe(want);
        }
        if (op % 500 === 0) index.validate();
      }
      index.validate();
      expect([...index]).toEqual([...ref]);
      expect(index.count).toBeGreaterThan(1000);
    }
  });
});

describe('RbTreeIndex: removed nodes hold no links', () => {
  // A removed node that the GC promoted would keep what it links to alive
  // through scavenges (2 KB promoted per mmap-churn iteration before).
  const unlinked = (n: RbNode) => {
    const nil = n.next;
    expect(nil.vma.end).toBe(0); // the sentinel
    for (const l of [n.prev, n.parent, n.left, n.right]) expect(l).toBe(nil);
  };

  it('remove clears the node of every link, and a later insert relinks it', () => {
    const { index, a, b, c } = abc();
    index.remove(b);
    unlinked(nodeOf(b));
    index.remove(c);
    unlinked(nodeOf(c));
    index.insert(b);
    expect(nodeOf(a).next).toBe(nodeOf(b));
    expect(nodeOf(b).prev).toBe(nodeOf(a));
    index.validate();
  });

  it('clear (exit) clears every node of its links', () => {
    const { index, a, b, c } = abc();
    index.clear();
    for (const v of [a, b, c]) unlinked(nodeOf(v));
    expect([...index]).toEqual([]);
  });
});

describe('RbTreeIndex: misuse and validate()', () => {
  it('rejects VMAs that are not in this tree, overlaps and bad ranges, changing nothing', () => {
    const { index, a, b } = abc();
    const other = new GapRbTreeIndex(new Counters());
    const stray = mk(20, 21);
    expect(() => index.remove(stray)).toThrow(/remove: .* is not in this index/);
    expect(() => other.remove(a)).toThrow(/not in this index/);
    expect(() => other.insert(a)).toThrow(/already in an index/);
    expect(() => index.next(stray)).toThrow(/next: .* is not in this index/);
    expect(() => index.insert(mk(2, 4))).toThrow(/insert: .* overlaps \[0x1000, 0x3000\)/);
    expect(() => index.insert(new Vma(P, P, 0, null, 1))).toThrow(/bad range/);
    expect(() => index.insert(new Vma(P + 1, 2 * P, 0, null, 1))).toThrow(/bad range/);
    expect(() => index.insert(new Vma(-P, P, 0, null, 1))).toThrow(/bad range/);
    expect(() => index.resize(a, 2 * P, P)).toThrow(/bad range/);
    expect(() => index.resize(a, P, 6 * P)).toThrow(/resize: .* overlaps \[0x5000, 0x8000\)/);
    expect(() => index.resize(a, 9 * P, 11 * P)).toThrow(/overlaps \[0xa000, 0xc000\)/);
    expect(() => index.dup((v) => v)).toThrow(/already in an index/);
    expect(() => index.dup((v) => (v === b ? a.clone() : v.clone()))).toThrow(/out of order/);
    index.validate();
    expect([...index].map(String)).toEqual([
      '[0x1000, 0x3000)',
      '[0x5000, 0x8000)',
      '[0xa000, 0xc000)',
    ]);
    index.remove(a);
    other.insert(a);
    other.validate();
    index.validate();
  });

  it('a resize past a neighbour moves the node', () => {
    const { counters, index, a, b, c } = abc();
    index.resize(a, 20 * P, 22 * P);
    index.validate();
    expect([...index]).toEqual([b, c, a]);
    expect(index.first()).toBe(b);
    expect(index.last()).toBe(a);
    expect(index.findGap(8 * P, 0, 100 * P, false)).toBe(12 * P);
    expect([counters.nodesAllocated, counters.nodesFreed]).toEqual([0, 0]);
  });

  it('names the broken invariant', () => {
    type Scene = ReturnType<typeof abc>;
    const internals = (x: Scene) =>
      x.index as unknown as { n: number; root: RbNode; head: RbNode; cache: RbNode[] };
    const cases: Array<[string, (x: Scene) => void, RegExp]> = [
      [
        'subtree gap',
        (x) => {
          nodeOf(x.b).subtreeGap += P;
        },
        /subtree gap: \[0x5000/,
      ],
      [
        'own gap',
        (x) => {
          nodeOf(x.c).gap = 3 * P;
        },
        /gap: own gap of \[0xa000, 0xc000\) is 12288, expected 8192/,
      ],
      [
        'root colour',
        (x) => {
          nodeOf(x.b).meta = 1;
        },
        /colour: the root .* is red/,
      ],
      [
        'black height',
        (x) => {
          nodeOf(x.c).meta = 0;
        },
        /black height: 1 on the left of \[0x5000, 0x8000\), 2 on the right/,
      ],
      [
        'parent pointer',
        (x) => {
          nodeOf(x.a).parent = nodeOf(x.c);
        },
        /parent pointers: \[0x1000/,
      ],
      [
        'neighbour link',
        (x) => {
          nodeOf(x.c).prev = nodeOf(x.a);
        },
        /neighbour links: prev of \[0xa000/,
      ],
      [
        'head',
        (x) => {
          internals(x).head = nodeOf(x.b);
        },
        /neighbour links/,
      ],
      [
        'count (more)',
        (x) => {
          internals(x).n = 4;
        },
        /count: map_count 4, but 3 nodes/,
      ],
      [
        'count (fewer)',
        (x) => {
          internals(x).n = 2;
        },
        /count: more nodes than map_count 2/,
      ],
      [
        'bounds',
        (x) => {
          x.c.end = 13 * P;
        },
        /bounds: the node caches \[0xa000, 0xc000\)/,
      ],
      [
        'order',
        (x) => {
          nodeOf(x.c).start = 7 * P;
          x.c.start = 7 * P;
        },
        /order: \[0x5000, 0x8000\) then \[0x7000/,
      ],
      [
        'vma.node',
        (x) => {
          x.b.node = null;
        },
        /\[0x5000, 0x8000\)\.node is not its tree node/,
      ],
      [
        'cache',
        (x) => {
          internals(x).cache[1] = nodeOf(x.index.dup((v) => v.clone()).first() as Vma);
        },
        /cache: slot 1 holds/,
      ],
    ];
    for (const [what, corrupt, message] of cases) {
      const x = abc();
      x.index.find(5 * P); // fills vmacache slot 1
      x.index.validate();
      corrupt(x);
      expect(() => x.index.validate(), what).toThrow(message);
    }
    // Red node with a red child needs a deeper tree: 1, 2, 3, 4 has black 3 over red 4.
    const index = new RbTreeIndex(new Counters());
    const vmas = [1, 2, 3, 4].map((i) => mk(2 * i, 2 * i + 1));
    for (const v of vmas) index.insert(v);
    nodeOf(vmas[2] as Vma).meta = 1;
    expect(() => index.validate()).toThrow(/colour: red node \[0x6000, 0x7000\) has a red child/);
  });

  it('notices a write to the sentinel', () => {
    const { index, a } = abc();
    const nil = nodeOf(a).left;
    nil.subtreeGap = 0;
    try {
      expect(() => index.validate()).toThrow(/sentinel: NIL was written to/);
    } finally {
      nil.subtreeGap = -1;
    }
    index.validate();
  });
});

describe('strategy', () => {
  it('describes the rbtree', () => {
    expect([strategy.role, strategy.name, strategy.kernels]).toEqual([
      'index',
      'rbtree',
      '2.4.10–6.0',
    ]);
    expect(strategy.options.map((o) => [o.name, o.type, o.default])).toEqual([
      ['gaps', 'enum', 'guard'],
      ['stackGuardGap', 'number', 256 * P],
      ['findCache', 'enum', 'vmacache'],
    ]);
  });

  it('creates a GapIndex unless gaps are off, with the resolved options', () => {
    const def = strategy.create({}, new Counters());
    expect(def).toBeInstanceOf(GapRbTreeIndex);
    expect(isGapIndex(def)).toBe(true);
    const g = def as GapRbTreeIndex;
    expect([g.name, g.gapKind, g.gaps, g.stackGuardGap, g.findCache]).toEqual([
      'rbtree',
      'guard',
      'guard',
      256 * P,
      'vmacache',
    ]);
    const raw = strategy.create(
      { gaps: 'raw', findCache: 'none', stackGuardGap: 8 * P },
      new Counters(),
    ) as RbTreeIndex;
    expect([(raw as GapRbTreeIndex).gapKind, raw.findCache]).toEqual(['raw', 'none']);
    const off = strategy.create(
      { gaps: 'off', findCache: 'mmap_cache' },
      new Counters(),
    ) as RbTreeIndex;
    expect(off).toBeInstanceOf(RbTreeIndex);
    expect(off).not.toBeInstanceOf(GapRbTreeIndex);
    expect(isGapIndex(off)).toBe(false);
    expect('findGap' in off).toBe(false);
    expect([off.gaps, off.findCache]).toEqual(['off', 'mmap_cache']);
    expect(isGapIndex(createRbTreeIndex(new Counters(), { gaps: 'off' }))).toBe(false);
    expect(createRbTreeIndex(new Counters()).gapKind).toBe('guard');
  });

  it('rejects bad options, naming them', () => {
    const c = new Counters();
    expect(() => strategy.create({ gap: 'raw' }, c)).toThrow(
      "strategy 'rbtree': unknown option 'gap' (options: gaps, stackGuardGap, findCache)",
    );
    expect(() => strategy.create({ gaps: 'maple' }, c)).toThrow(
      /'gaps' must be one of guard \| raw \| off/,
    );
    expect(() => strategy.create({ findCache: true }, c)).toThrow(/'findCache' must be one of/);
    expect(() => strategy.create({ stackGuardGap: '1M' }, c)).toThrow(/must be a number/);
    expect(() => strategy.create({ stackGuardGap: 100 }, c)).toThrow(
      /'stackGuardGap' must be a non-negative multiple of 4096, got 100/,
    );
    expect(() => new RbTreeIndex(c, { findCache: 'lru' as never })).toThrow(/'findCache'/);
  });
});

function shuffled(rng: Prng, n: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j] as number, a[i] as number];
  }
  return a;
}

describe('RbTreeIndex: embedded nodes', () => {
  it('a VMA removed and inserted again reuses its node: no allocation', () => {
    const counters = new Counters();
    const index = new GapRbTreeIndex(counters);
    const v = new Vma(10 * P, 12 * P, 3, null, 10);
    index.insert(v);
    const node = v.node;
    index.remove(v);
    index.insert(v);
    expect(v.node).toBe(node);
    expect(counters.nodesAllocated).toBe(1);
    index.validate();
    expect(index.find(10 * P)).toBe(v);
  });
});
