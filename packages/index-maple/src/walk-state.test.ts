/**
 * The walk state (an active ma_state): reads and leaf-local writes that land
 * in the leaf of the previous walk start there (one node visited) instead of
 * at the root; anything that may have moved nodes — a split, a rebalance, a
 * spanning store, another tree state — makes the next call walk from the root.
 */
import { Counters } from '@vmalab/core';
import { describe, expect, it } from 'vitest';
import { MapleTree } from './maple-tree.js';

/** Entries [10i, 10i + 4] = i for i < n: a tree of height 3 for n = 200. */
function build(n: number, rcu = false): { t: MapleTree<number>; c: Counters } {
  const c = new Counters();
  const t = new MapleTree<number>({ allocRange: true, rcu, counters: c });
  for (let i = 0; i < n; i++) expect(t.store(10 * i, 10 * i + 4, i)).toBe(0);
  t.validate();
  return { t, c };
}

function visits(c: Counters, f: () => void): number {
  const before = c.nodesVisited;
  f();
  return c.nodesVisited - before;
}

describe('walk state', () => {
  for (const rcu of [false, true]) {
    it(`reads in the same leaf start there (rcu=${rcu})`, () => {
      const { t, c } = build(200, rcu);
      expect(t.height).toBe(3);
      t.seq++; // any earlier walk is stale
      expect(visits(c, () => expect(t.find(1000)).toBe(100))).toBe(3);
      // Another index of the same range, then the neighbours (in this leaf or not).
      expect(visits(c, () => expect(t.find(1003)).toBe(100))).toBe(1);
      expect(visits(c, () => expect(t.findRev(999)).toBe(99))).toBeLessThanOrEqual(3);
      expect(visits(c, () => expect(t.find(1000)).toBe(100))).toBeLessThanOrEqual(3);
      expect(visits(c, () => expect(t.findRev(1004)).toBe(100))).toBe(1);
    });

    it(`a leaf-local write starts at the walked leaf and keeps the state (rcu=${rcu})`, () => {
      const { t, c } = build(200, rcu);
      t.seq++;
      expect(visits(c, () => expect(t.find(1000)).toBe(100))).toBe(3);
      // Exact fit over entry 100: no node moves.
      expect(visits(c, () => expect(t.store(1000, 1004, 7)).toBe(0))).toBe(1);
      expect(visits(c, () => expect(t.find(1002)).toBe(7))).toBe(1);
      // A slot/node store inside the leaf (rcu: a replacement leaf, swapped into the path).
      expect(visits(c, () => expect(t.store(1005, 1006, 8)).toBe(0))).toBe(1);
      expect(visits(c, () => expect(t.find(1005)).toBe(8))).toBe(1);
      t.validate();
    });
  }

  it('a split or a spanning store sends the next walk to the root', () => {
    const { t, c } = build(200);
    t.seq++;
    expect(t.find(1000)).toBe(100);
    // Fill the leaf until it splits: each store adds two ranges.
    const splitsBefore = t.stats.storeCount('split_store');
    let at = 1005;
    while (t.stats.storeCount('split_store') === splitsBefore) {
      expect(t.store(at, at, -1)).toBe(0);
      at += 2;
      expect(at).toBeLessThan(1100);
    }
    expect(visits(c, () => t.find(1000))).toBe(3);
    // A spanning store over many leaves.
    expect(t.store(500, 1500, 9)).toBe(0);
    expect(visits(c, () => expect(t.find(1000)).toBe(9))).toBe(3);
    t.validate();
  });

  it('resetWalk() (a new VMA iterator, MapleVmaIndex.sync) sends the next call to the root', () => {
    const { t, c } = build(200);
    t.seq++;
    expect(t.find(1000)).toBe(100);
    expect(visits(c, () => t.find(1001))).toBe(1);
    t.resetWalk();
    expect(visits(c, () => t.find(1001))).toBe(3);
  });

  it('a failed write (EEXIST) leaves the state valid; another tree never shares it', () => {
    const { t, c } = build(200);
    t.seq++;
    expect(t.find(1000)).toBe(100);
    expect(visits(c, () => expect(t.insert(1001, 1002, 5)).toBe(-17))).toBe(1);
    expect(visits(c, () => expect(t.find(1003)).toBe(100))).toBe(1);
    const other = build(200).t;
    other.seq++;
    expect(visits(other.counters, () => expect(other.find(1000)).toBe(100))).toBe(3);
  });

  it('iteration walks from the root once, then leaf to leaf by the parent links (mas_next_node)', () => {
    for (const n of [200, 5000]) {
      const { t, c } = build(n);
      const h = t.height;
      const nodes = t.nodeCount;
      const census = t.nodeCensus();
      const leaves = census.maple_leaf_64 as number;
      let seen = 0;
      // Every node but the first path's is entered once and its parent read once.
      expect(
        visits(c, () => {
          for (const [first, last, v] of t.entries()) {
            expect([first, last]).toEqual([10 * v, 10 * v + 4]);
            expect(v).toBe(seen++);
          }
        }),
      ).toBe(2 * nodes - h);
      expect(seen).toBe(n);
      // A walk from the root per leaf would have visited leaves × height nodes.
      expect(2 * nodes - h).toBeLessThan(leaves * h);
      // forEach walks the same way.
      let k = 0;
      expect(
        visits(c, () =>
          t.forEach((v) => {
            expect([t.foundFirst, t.foundLast, v]).toEqual([10 * k, 10 * k + 4, k]);
            k++;
          }),
        ),
      ).toBe(2 * nodes - h);
      expect(k).toBe(n);
      // A window: from the middle to an index past the next few leaves.
      const got = [...t.entries(10 * 100 + 2, 10 * 140)].map(([, , v]) => v);
      expect(got).toEqual(Array.from({ length: 41 }, (_, i) => 100 + i));
      const each: number[] = [];
      t.forEach(
        (v) => {
          each.push(v);
        },
        10 * 100 + 2,
        10 * 140,
      );
      expect(each).toEqual(got);
      // The tree must not change under it.
      expect(() =>
        t.forEach((v) => {
          t.store(10 * v, 10 * v + 4, null);
        }),
      ).toThrow(/modified during iteration/);
    }
  });
});
