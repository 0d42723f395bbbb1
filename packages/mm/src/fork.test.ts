import {
  Counters,
  ENOMEM,
  MADV_DONTFORK,
  MADV_WIPEONFORK,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  type MappedFile,
  PROT_READ,
  PROT_WRITE,
  VM_DONTCOPY,
  VM_LOCKED,
  VM_WIPEONFORK,
  type Vma,
} from '@vmalab/core';
import type { MapleVmaIndex } from '@vmalab/index-maple';
import { describe, expect, it } from 'vitest';
import type { AddressSpace } from './address-space.js';
import { ForkAllocationError, ForkedAnonVma, isAllocationFailure } from './fork.js';
import { formatMaps } from './maps.js';
import { type IndexKind, mmWith, python3Spec, type RmapKind } from './testing/images.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

/**
 * A running python3 (the shipped image) plus anonymous memory that fork
 * treats specially: a VM_DONTCOPY region, a written VM_WIPEONFORK region,
 * an mlocked one, and a never-written one.
 */
function parent(rmap: RmapKind = 'unbatched', index: IndexKind = 'list'): AddressSpace {
  const mm = mmWith(rmap, index);
  mm.exec(python3Spec());
  const dontcopy = mm.mmap(0, 16 * P, RW, ANON);
  mm.fault(dontcopy, true);
  expect(mm.madvise(dontcopy, 16 * P, MADV_DONTFORK)).toBe(0);
  const wipe = mm.mmap(0, 8 * P, RW, ANON);
  mm.fault(wipe, true);
  expect(mm.madvise(wipe, 8 * P, MADV_WIPEONFORK)).toBe(0);
  const locked = mm.mmap(0, 4 * P, RW, ANON);
  expect(mm.mlock(locked, 4 * P)).toBe(0);
  mm.mmap(0, 2 * P, PROT_READ, ANON); // never written: no anon_vma
  return mm;
}

const ids = new WeakMap<object, number>();
/** A stable number per object, so that states compare by identity without deep walks. */
let nextId = 1;
const idOf = (o: object | null): number => {
  if (o === null) return 0;
  if (!ids.has(o)) ids.set(o, nextId++);
  return ids.get(o) as number;
};

/** Everything of `mm` that fork must leave alone, by identity and value (plain data). */
function stateOf(mm: AddressSpace) {
  const vmas = mm.vmas();
  const files = [...new Set(vmas.flatMap((v) => (v.file ? [v.file] : [])))];
  return {
    maps: formatMaps(mm),
    vmas: vmas.map((v) => [
      idOf(v),
      v.start,
      v.end,
      v.flags,
      v.pgoff,
      idOf(v.file),
      v.anonVma?.id ?? 0,
      v.anonForked,
      v.name,
    ]),
    iMmap: files.map((f) => [f.path, ...[...f.iMmap].map(idOf)]),
    locks: files.map((f) => f.iMmapRwsem.held),
    mm: [mm.startBrk, mm.brkAddr, mm.startStack, mm.mmapBase, mm.mapCount, mm.mmapLock.held],
  };
}

function fileSet(mm: AddressSpace): MappedFile[] {
  return [...new Set(mm.vmas().flatMap((v) => (v.file ? [v.file] : [])))];
}

const withoutDontcopy = (mm: AddressSpace) =>
  formatMaps(mm)
    .split('\n')
    .filter((_, i) => !((mm.vmas()[i]?.flags ?? 0) & VM_DONTCOPY))
    .join('\n');

describe.each([
  'list',
  'rbtree',
  'maple',
  'maple-insert',
] as const)('fork (dup_mmap) with the %s index', (index) => {
  it("copies every VMA but VM_DONTCOPY ones: the child's layout is the parent's minus those", () => {
    const p = parent('unbatched', index);
    const before = stateOf(p);
    const child = p.fork();
    if (typeof child === 'number') throw new Error(`fork failed: ${child}`);
    child.validate();
    expect(formatMaps(child)).toBe(withoutDontcopy(p));
    expect(child.mapCount).toBe(p.mapCount - 1);
    expect(child.index.name).toBe(p.index.name);
    // The parent is unchanged; its files' i_mmap now hold the child's VMAs too.
    const after = stateOf(p);
    expect([after.maps, after.vmas, after.mm, after.locks]).toEqual([
      before.maps,
      before.vmas,
      before.mm,
      before.locks,
    ]);
    expect(after.iMmap.map((m) => m.length)).toEqual(before.iMmap.map((m) => 2 * m.length - 1));
  });

  it('copies VMA by VMA: no mlock, WIPEONFORK without pages, anon_vma forked, i_mmap linked', () => {
    const p = parent('unbatched', index);
    const pv = p.vmas().filter((v) => !(v.flags & VM_DONTCOPY));
    const child = p.fork() as AddressSpace;
    const cv = child.vmas();
    expect(cv).toHaveLength(pv.length);
    cv.forEach((c, i) => {
      const v = pv[i] as Vma;
      expect(c).not.toBe(v);
      expect([c.start, c.end, c.pgoff, c.file, c.name]).toEqual([
        v.start,
        v.end,
        v.pgoff,
        v.file,
        v.name,
      ]);
      expect(c.flags).toBe(v.flags & ~VM_LOCKED);
      if (v.flags & VM_WIPEONFORK) {
        expect(v.anonVma).not.toBeNull();
        expect([c.anonVma, c.anonForked]).toEqual([null, false]);
      } else if (v.anonVma) {
        expect(c.anonVma).toBeInstanceOf(ForkedAnonVma);
        expect((c.anonVma as ForkedAnonVma).parent).toBe(v.anonVma);
        expect(c.anonForked).toBe(true);
      } else {
        expect(c.anonVma).toBeNull();
      }
      if (c.file) {
        expect(c.file.iMmap.has(c)).toBe(true);
        expect(c.file.iMmap.has(v)).toBe(true);
      }
    });
    expect(pv.some((v) => v.flags & VM_LOCKED)).toBe(true);
    expect(cv.some((v) => v.flags & VM_WIPEONFORK)).toBe(true);
  });

  it('takes one i_mmap write lock per copied file VMA (not batched) and both mmap_locks', () => {
    for (const rmap of ['unbatched', 'batched'] as const) {
      const p = parent(rmap, index);
      const before = p.counters.snapshot();
      const child = p.fork() as AddressSpace;
      const d = Counters.diff(p.counters.snapshot(), before);
      const fileVmas = child.vmas().filter((v) => v.file).length;
      expect(fileVmas).toBe(32);
      expect(d.iMmapLockWrite).toBe(32);
      expect((d.rmapBatchHistogram as number[]).toString()).toMatch(/^(0,?)*$/);
      expect([d.mmapLockRead, d.mmapLockWrite, d.vmaAllocated, d.vmaFreed]).toEqual([
        0,
        2,
        child.mapCount,
        0,
      ]);
      expect(child.mmapLock.writeAcquisitions).toBe(1);
      for (const f of fileSet(p)) expect(f.iMmapRwsem.held).toBe(false);
    }
  });

  it('parent and child are independent afterwards', () => {
    const p = parent('batched', index);
    const child = p.fork() as AddressSpace;
    const parentMaps = formatMaps(p);
    const libc = child.vmas().filter((v) => v.file?.path.endsWith('/libc.so.6'));
    const first = libc[0] as Vma;
    const last = libc[libc.length - 1] as Vma;
    expect(child.munmap(first.start, last.end - first.start)).toBe(0);
    expect(formatMaps(p)).toBe(parentMaps);
    expect([...first.file!.iMmap].every((v) => p.vmas().includes(v))).toBe(true);
    const childMaps = formatMaps(child);
    const a = p.mmap(0, 4 * P, RW, ANON);
    expect(p.mprotect(a, P, PROT_READ)).toBe(0);
    expect(formatMaps(child)).toBe(childMaps);
    // The child's brk is its own (its heap has a forked anon_vma chain, so
    // the growth does not merge: a new VMA, as in Linux).
    const parentNow = formatMaps(p);
    const heapEnd = child.brkAddr;
    expect(child.brk(heapEnd + 16 * P)).toBe(heapEnd + 16 * P);
    expect(child.lookup(heapEnd)?.start).toBe(heapEnd);
    expect(formatMaps(p)).toBe(parentNow);
    child.exit();
    for (const f of fileSet(p)) {
      expect([...f.iMmap].every((v) => p.vmas().includes(v))).toBe(true);
      expect(f.iMmap.size).toBe(p.vmas().filter((v) => v.file === f).length);
    }
    p.validate();
  });

  it('a forked child forks again: grandchild anon_vmas chain to the same root', () => {
    const p = parent('batched', index);
    const c = p.fork() as AddressSpace;
    const g = c.fork() as AddressSpace;
    const pv = p.vmas().find((v) => v.anonVma && !(v.flags & (VM_DONTCOPY | VM_WIPEONFORK))) as Vma;
    const gv = g.vmas().find((v) => v.start === pv.start) as Vma;
    expect((gv.anonVma as ForkedAnonVma).root).toBe(pv.anonVma);
    expect(formatMaps(g)).toBe(formatMaps(c));
  });

  it('fault injection at every vm_area_dup / anon_vma_fork: −ENOMEM, parent intact, child gone', () => {
    for (const rmap of ['unbatched', 'batched'] as const) {
      const p = parent(rmap, index);
      const before = stateOf(p);
      const copies = p.vmas().filter((v) => !(v.flags & VM_DONTCOPY));
      const allocations =
        copies.length + copies.filter((v) => v.anonVma && !(v.flags & VM_WIPEONFORK)).length;
      let n = 0;
      for (; ; n++) {
        const c0 = p.counters.snapshot();
        const r = p.fork({ failAllocation: n });
        const d = Counters.diff(p.counters.snapshot(), c0);
        if (typeof r !== 'number') {
          expect(n).toBe(allocations);
          break;
        }
        expect(r).toBe(-ENOMEM);
        expectIntact(p, before, d);
      }
      expect(n).toBeGreaterThan(60);
    }
  });
});

/**
 * After a failed fork: the parent is what it was (same VMA objects, fields,
 * i_mmap members), no lock is held, every VMA the child allocated was freed
 * and every i_mmap link it made was undone (one lock to link, and the
 * teardown's locks to unlink).
 */
function expectIntact(
  p: AddressSpace,
  before: ReturnType<typeof stateOf>,
  d: Record<string, number | number[]>,
): void {
  expect(stateOf(p)).toEqual(before);
  expect(p.mmapLock.held).toBe(false);
  expect(d.vmaAllocated).toBe(d.vmaFreed);
  const hist = d.rmapBatchHistogram as number[];
  const unlinked = hist.reduce((a, b, k) => a + k * b, 0);
  const unlinkLocks = hist.reduce((a, b) => a + b, 0);
  // every link (one lock each) was unlinked again
  expect(d.iMmapLockWrite).toBe(unlinked + unlinkLocks);
  // the parent's lock, the child's, and the child's exit_mmap (read + write)
  expect([d.mmapLockRead, d.mmapLockWrite]).toEqual([1, 3]);
  p.validate();
}

describe.each([
  'maple',
  'maple-insert',
] as const)('fork with the %s index: fault injection at every node allocation of the tree copy', (index) => {
  it('returns −ENOMEM with the parent intact until the copy has enough nodes', () => {
    const p = parent('batched', index);
    const before = stateOf(p);
    const maple = p.index as MapleVmaIndex;
    let n = 0;
    for (; n < 10_000; n++) {
      maple.failDupAfter(n);
      const c0 = p.counters.snapshot();
      const r = p.fork();
      const d = Counters.diff(p.counters.snapshot(), c0);
      if (typeof r !== 'number') {
        r.validate();
        expect(formatMaps(r)).toBe(withoutDontcopy(p));
        break;
      }
      expect(r).toBe(-ENOMEM);
      expectIntact(p, before, d);
    }
    // Every node of the copy was a failure point (mt-dup: the whole tree, then
    // the NULL store over the VM_DONTCOPY range; insert: the bulk stores).
    expect(n).toBeGreaterThan(2);
    expect(n).toBeLessThan(10_000);
  });
});

describe('fork errors', () => {
  it('classifies allocation failures', () => {
    const v = mmWith('batched');
    expect(v.fork()).not.toBe(-ENOMEM); // an empty mm forks
    expect(isAllocationFailure(new Error('maple: dup: ENOMEM (__mt_dup)'))).toBe(true);
    expect(isAllocationFailure(new Error('list: dup: copy out of order'))).toBe(false);
    const p = parent();
    const err = (() => {
      try {
        p.fork({ failAllocation: 0 });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeUndefined();
    expect(new ForkAllocationError('vm_area_dup', p.vmas()[0] as Vma, 3).message).toMatch(
      /^dup_mmap: ENOMEM in vm_area_dup for \[0x400000, 0x41f000\) \(allocation 3\)$/,
    );
  });

  it('rethrows other errors after tearing the partial child down', () => {
    const p = parent('batched');
    const before = stateOf(p);
    const index = p.index;
    const dup = index.dup.bind(index);
    let calls = 0;
    index.dup = (copy) =>
      dup((v) => {
        if (++calls === 10) throw new Error('a bug in the index');
        return copy(v);
      });
    expect(() => p.fork()).toThrow('a bug in the index');
    expect(stateOf(p)).toEqual(before);
  });
});
