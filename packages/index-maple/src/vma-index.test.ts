import { Counters, VM_READ, VM_WRITE, Vma } from '@vmalab/core';
import { describe, expect, it } from 'vitest';
import { MapleVmaIndex, strategy } from './index.js';

const P = 4096;
const BASE = 0x7f0000000000;

/** n VMAs of 1–3 pages with 1-page holes (so nothing is adjacent). */
function build(n: number, options = {}): { index: MapleVmaIndex; vmas: Vma[] } {
  const index = new MapleVmaIndex(new Counters(), options);
  const vmas: Vma[] = [];
  let at = BASE;
  for (let i = 0; i < n; i++) {
    const len = (1 + (i % 3)) * P;
    const v = new Vma(at, at + len, VM_READ | VM_WRITE, null, at / P);
    index.insert(v);
    vmas.push(v);
    at += len + P;
  }
  return { index, vmas };
}

const layout = (index: MapleVmaIndex) => [...index].map((v) => `${v.start}-${v.end}`);

describe('MapleVmaIndex', () => {
  it('stores each VMA over [start, end − 1] and answers find/next/prev by walks', () => {
    const { index, vmas } = build(500);
    index.validate();
    expect(index.tree.height).toBeGreaterThanOrEqual(3);
    for (let i = 0; i < vmas.length; i++) {
      const v = vmas[i] as Vma;
      expect(index.find(v.start - 1)).toBe(v); // in the hole below
      expect(index.find(v.end - 1)).toBe(v);
      expect(index.next(v)).toBe(vmas[i + 1]);
      expect(index.prev(v)).toBe(vmas[i - 1]);
    }
    expect(index.first()).toBe(vmas[0]);
    expect(index.last()).toBe(vmas[499]);
  });

  it('fork with __mt_dup: one node per source node, then one exact-fit store per VMA', () => {
    const { index } = build(2000);
    const nodes = index.tree.nodeCount;
    const child = index.dup((v) => v.clone());
    child.validate();
    expect(layout(child)).toEqual(layout(index));
    expect(child.tree.stats.nodesDuplicated).toBe(nodes);
    expect(child.tree.stats.storeTable()).toEqual({ exact_fit: 2000 });
    expect(child.tree.stats.nodesRequested).toBe(0);
    // Independent afterwards.
    const first = child.first() as Vma;
    child.remove(first);
    expect(index.count).toBe(2000);
    expect(child.count).toBe(1999);
    index.validate();
    child.validate();
  });

  it('fork before 6.8: one store per VMA in bulk mode, the same layout', () => {
    const { index } = build(2000, { dup: 'insert' });
    const child = index.dup((v) => v.clone());
    child.validate();
    expect(layout(child)).toEqual(layout(index));
    const s = child.tree.stats;
    expect(s.nodesDuplicated).toBe(0);
    expect(s.storeCount('append') + s.storeCount('split_store') + s.storeCount('store_root')).toBe(
      2000,
    );
    expect(s.nodesRequested).toBe(s.nodesUsed + s.nodesReturned);
    // The per-VMA stores allocate far more nodes than the structural copy.
    expect(s.nodesUsed).toBeGreaterThan(2 * child.tree.nodeCount);
  });

  it('VM_DONTCOPY VMAs are NULL stores in the copied tree', () => {
    const { index, vmas } = build(300);
    const child = index.dup((v) => (vmas.indexOf(v) % 4 === 1 ? null : v.clone()));
    child.validate();
    expect(child.count).toBe(300 - 75);
    expect(child.tree.stats.storeCount('exact_fit')).toBe(225);
    expect(child.tree.stats.stores.reduce((a, b) => a + b, 0)).toBe(300);
  });

  it('a node allocation failing anywhere in __mt_dup leaves the parent intact and no child', () => {
    const { index } = build(1500);
    const before = layout(index);
    const total = index.tree.nodeCount;
    for (let k = 0; k < total; k++) {
      index.failDupAfter(k);
      expect(() => index.dup((v) => v.clone())).toThrow(/ENOMEM/);
    }
    index.validate();
    expect(layout(index)).toEqual(before);
    // And with enough nodes it succeeds.
    index.failDupAfter(total);
    const child = index.dup((v) => v.clone());
    child.validate();
    expect(layout(child)).toEqual(before);
  });

  it('a VMA copy failing at any position (vm_area_dup) leaves the parent intact', () => {
    for (const dup of ['mt-dup', 'insert'] as const) {
      const { index } = build(200, { dup });
      const before = layout(index);
      for (let k = 0; k < 200; k += 7) {
        let n = 0;
        expect(() =>
          index.dup((v) => {
            if (n++ === k) throw new Error('ENOMEM in vm_area_dup');
            return v.clone();
          }),
        ).toThrow('ENOMEM in vm_area_dup');
        index.validate();
        expect(layout(index)).toEqual(before);
      }
    }
  });

  it('counts preallocation per policy: 1 + 3h per write in 6.1, by store type later', () => {
    const run = (prealloc: 'worst-case' | 'by-store-type' | 'vacant-height') => {
      const { index, vmas } = build(3000, { prealloc, rcu: false });
      const h = index.tree.height;
      const s = index.tree.stats;
      const before = s.nodesRequested;
      // mprotect-like: replace one VMA by an equal one (exact_fit, no nodes).
      const v = vmas[1500] as Vma;
      index.remove(v);
      expect(index.find(v.start)).not.toBe(v); // makes the removal's NULL store
      index.insert(v);
      return { h, requested: s.nodesRequested - before, overruns: s.overruns, s };
    };
    const worst = run('worst-case');
    expect(worst.requested).toBe(2 * (1 + 3 * worst.h));
    const byType = run('by-store-type');
    // remove (NULL over a VMA between two holes: one slot replaces three) and insert back.
    expect(byType.requested).toBeLessThan(worst.requested);
    for (const r of [worst, byType, run('vacant-height')]) {
      expect(r.overruns).toBe(0);
      expect(r.s.nodesRequested).toBe(r.s.nodesUsed + r.s.nodesReturned);
    }
  });

  it('a split is one tree store, as __split_vma: shrink, then the new VMA over the freed part', () => {
    const { index, vmas } = build(200);
    const v = vmas[100] as Vma; // two pages
    expect(v.end - v.start).toBe(2 * P);
    const stores = () => index.tree.stats.stores.reduce((a, b) => a + b, 0);
    const before = stores();
    const oldEnd = v.end;
    const mid = v.start + P;
    index.resize(v, v.start, mid);
    const tail = new Vma(mid, oldEnd, v.flags, null, mid / P);
    index.insert(tail);
    expect(stores() - before).toBe(1);
    index.validate();
    expect(index.find(mid)).toBe(tail);
    expect(index.next(v)).toBe(tail);
  });

  it('a shrink alone is visible to every read (the deferred NULL store is made first)', () => {
    const { index, vmas } = build(50);
    const v = vmas[10] as Vma;
    const end = v.end;
    index.resize(v, v.start, v.start + P);
    if (end > v.end) expect(index.find(v.end)).toBe(vmas[11]);
    expect(index.next(v)).toBe(vmas[11]);
    index.validate();
    expect([...index].length).toBe(50);
  });

  it('a merge on both sides is one tree store: the removed next VMA is overwritten by the expansion', () => {
    const { index, vmas } = build(200);
    const prev = vmas[100] as Vma;
    const next = vmas[101] as Vma;
    expect(next.start - prev.end).toBe(P); // the one-page hole a new mapping fills
    const stores = () => index.tree.stats.stores.reduce((a, b) => a + b, 0);
    const before = stores();
    index.remove(next);
    index.resize(prev, prev.start, next.end);
    expect(stores() - before).toBe(1);
    index.validate();
    expect(index.find(next.start)).toBe(prev);
    expect(index.next(prev)).toBe(vmas[102]);
    expect(index.count).toBe(199);
  });

  it('sync() ends an operation: a removal and an expansion in two operations are two stores', () => {
    const { index, vmas } = build(200);
    const prev = vmas[100] as Vma;
    const next = vmas[101] as Vma;
    const stores = () => index.tree.stats.stores.reduce((a, b) => a + b, 0);
    const before = stores();
    index.remove(next);
    index.sync();
    expect(stores() - before).toBe(1);
    index.sync(); // nothing left to do
    expect(stores() - before).toBe(1);
    index.resize(prev, prev.start, next.end);
    expect(stores() - before).toBe(2);
    index.validate();
  });

  it('a removal alone is visible to every read, and an expansion into other VMAs still fails', () => {
    const { index, vmas } = build(50);
    const v = vmas[10] as Vma;
    index.remove(v);
    expect(index.find(v.start)).toBe(vmas[11]);
    index.validate();
    const a = vmas[20] as Vma;
    index.remove(vmas[21] as Vma);
    // Growing over the removed VMA and on into vmas[22]: not free.
    expect(() => index.resize(a, a.start, (vmas[22] as Vma).start + P)).toThrow('not free');
    index.validate();
    expect([...index].length).toBe(48);
  });

  it('is created by the strategy descriptor with its options', () => {
    const idx = strategy.create(
      { prealloc: 'worst-case', dup: 'insert', rcu: false },
      new Counters(),
    );
    expect(idx).toBeInstanceOf(MapleVmaIndex);
    const m = idx as MapleVmaIndex;
    expect(m.tree.prealloc).toBe('worst-case');
    expect(m.tree.dupMode).toBe('insert');
    expect(m.tree.rcu).toBe(false);
    expect(() => strategy.create({ prealloc: 'sometimes' }, new Counters())).toThrow(/prealloc/);
  });
});
