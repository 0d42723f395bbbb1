/**
 * The node slab: a tree's nodes are records in arenas that grow only when a
 * write starts or a bulk allocation is made, are reused after a write frees
 * nodes, and are released by destroy().
 */
import { describe, expect, it } from 'vitest';
import { MapleTree } from './maple-tree.js';

describe('node slab', () => {
  it('grows from nothing, reuses freed nodes and is released by destroy', () => {
    const t = new MapleTree<number>({ allocRange: true, rcu: true });
    expect(t.arenaBytes).toBe(0);
    // Descending inserts: splits all the way to a new root several times.
    for (let i = 3000; i > 0; i--) {
      expect(t.insert(16 * i, 16 * i + 7, i)).toBe(0);
      if (i % 97 === 0) t.validate();
    }
    t.validate();
    expect(t.height).toBeGreaterThanOrEqual(4);
    const grown = t.arenaBytes;
    expect(grown).toBeGreaterThan(0);
    // Churn in place: RCU node stores replace leaves; freed records are reused,
    // so the arenas do not grow any further.
    for (let k = 0; k < 20_000; k++) {
      const i = 1 + ((k * 7919) % 3000);
      expect(t.store(16 * i, 16 * i + 7, null)).toBe(0);
      expect(t.store(16 * i, 16 * i + 7, i)).toBe(0);
    }
    t.validate();
    expect(t.arenaBytes).toBe(grown);
    expect(t.nodeCount).toBeLessThan(grown / 256);
    t.destroy();
    expect(t.arenaBytes).toBe(0);
    expect(t.isEmpty).toBe(true);
    t.validate();
    // And it grows again from nothing.
    expect(t.store(5, 9, 1)).toBe(0);
    expect(t.load(7)).toBe(1);
    t.validate();
  });

  it('a copy lands in the destination slab, which grows during the copy', () => {
    const src = new MapleTree<number>({ allocRange: true });
    for (let i = 0; i < 2000; i++) expect(src.store(10 * i, 10 * i + 4, i)).toBe(0);
    const dst = new MapleTree<number>({ allocRange: true });
    expect(src.dupInto(dst)).toBe(0);
    dst.validate();
    expect(dst.nodeCount).toBe(src.nodeCount);
    expect([...dst.entries()]).toEqual([...src.entries()]);
    // The copy is independent: writing one leaves the other as it was.
    expect(dst.store(0, 99_999, null)).toBe(0);
    expect(src.load(10_000)).toBe(1000);
    src.validate();
    dst.validate();
  });
});
