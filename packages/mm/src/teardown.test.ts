import {
  Counters,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  type MappedFile,
  PMD_SIZE,
  PROT_READ,
  PROT_WRITE,
  VM_HUGETLB,
  VM_READ,
  Vma,
} from '@vmalab/core';
import { strategy as gap } from '@vmalab/finder-gap';
import { strategy as maple } from '@vmalab/index-maple';
import { describe, expect, it } from 'vitest';
import { freePgtables, pgtableGroups } from './teardown.js';
import { loadFixtures, replayFixture } from './testing/fixtures.js';
import { ImageBuilder, makeRmap, mmWith } from './testing/images.js';

const P = 4096;
const ranges = (groups: Vma[][]) => groups.map((g) => g.map((v) => v.start / P));

describe('free_pgtables grouping', () => {
  const vma = (startPage: number, pages = 1, flags = VM_READ) =>
    new Vma(startPage * P, (startPage + pages) * P, flags, null, startPage);

  it('gathers neighbours that start within 2 MiB (inclusive) of the previous end', () => {
    const pmdPages = PMD_SIZE / P;
    const a = vma(0);
    const b = vma(1 + pmdPages); // exactly 2 MiB after a's end: same group
    const c = vma(2 + 2 * pmdPages + 1); // 2 MiB + 4 KiB after b's end: new group
    const d = vma(3 + 2 * pmdPages + 1);
    expect(ranges(pgtableGroups([a, b, c, d]))).toEqual([
      [0, 1 + pmdPages],
      [2 + 2 * pmdPages + 1, 3 + 2 * pmdPages + 1],
    ]);
  });

  it('never gathers hugetlb VMAs', () => {
    const groups = pgtableGroups([vma(0), vma(1, 1, VM_READ | VM_HUGETLB), vma(2), vma(3)]);
    expect(ranges(groups)).toEqual([[0], [1], [2, 3]]);
  });

  it('rejects VMAs out of address order', () => {
    expect(() => pgtableGroups([vma(4), vma(2)])).toThrow(/out of address order/);
    expect(pgtableGroups([])).toEqual([]);
  });

  it('calls the locker once per group', () => {
    const calls: number[] = [];
    const r = freePgtables([vma(0), vma(1), vma(10_000)], {
      name: 'spy',
      unlink: (vs) => void calls.push([...vs].length),
    });
    expect(calls).toEqual([2, 1]);
    expect(r).toEqual({ vmas: 3, groups: 2 });
  });
});

describe('teardown through the rmap locker (exit)', () => {
  /** i_mmap write acquisitions of an exit of `image`, and the histogram. */
  function exitCost(rmap: 'unbatched' | 'batched', image: ImageBuilder) {
    const mm = mmWith(rmap);
    mm.exec(image.build());
    const before = mm.counters.snapshot();
    mm.exit();
    const d = Counters.diff(mm.counters.snapshot(), before);
    expect(mm.mapCount).toBe(0);
    return [d.iMmapLockWrite, d.rmapBatchHistogram];
  }

  it('ld.so and libc of 5 VMAs each: 10 acquisitions unbatched, 2 batched', () => {
    const image = () =>
      new ImageBuilder().file('/usr/lib/libc.so.6').anon(2).file('/usr/lib/ld.so');
    expect(exitCost('unbatched', image())).toEqual([10, [0, 10]]);
    expect(exitCost('batched', image())).toEqual([2, [0, 0, 0, 0, 0, 2]]);
  });

  it('interleaved anonymous VMAs do not break a batch', () => {
    const image = () =>
      new ImageBuilder()
        .file('/usr/lib/libc.so.6', 2)
        .anon()
        .file('/usr/lib/libc.so.6', 1)
        .anon(3)
        .file('/usr/lib/libc.so.6', 2);
    expect(exitCost('unbatched', image())).toEqual([5, [0, 5]]);
    expect(exitCost('batched', image())).toEqual([1, [0, 0, 0, 0, 0, 1]]);
  });

  it('a 9th same-file VMA starts a new batch', () => {
    const image = (n: number) => new ImageBuilder().file('/usr/lib/libbig.so', n);
    expect(exitCost('batched', image(8))).toEqual([1, [0, 0, 0, 0, 0, 0, 0, 0, 1]]);
    expect(exitCost('batched', image(9))).toEqual([2, [0, 1, 0, 0, 0, 0, 0, 0, 1]]);
    expect(exitCost('unbatched', image(9))).toEqual([9, [0, 9]]);
  });

  it('a group boundary (a hole of more than 2 MiB) finalizes a batch', () => {
    const image = (hole: number) =>
      new ImageBuilder().file('/usr/lib/libc.so.6', 3).hole(hole).file('/usr/lib/libc.so.6', 2);
    expect(exitCost('batched', image(PMD_SIZE))).toEqual([1, [0, 0, 0, 0, 0, 1]]);
    expect(exitCost('batched', image(PMD_SIZE + P))).toEqual([2, [0, 0, 1, 1]]);
    expect(exitCost('unbatched', image(PMD_SIZE + P))).toEqual([5, [0, 5]]);
  });

  it('a different file flushes the batch', () => {
    const image = () =>
      new ImageBuilder().file('/usr/lib/a.so', 2).file('/usr/lib/b.so', 1).file('/usr/lib/a.so', 2);
    expect(exitCost('batched', image())).toEqual([3, [0, 1, 2]]);
  });

  it('exit takes mmap_lock once for reading and once for writing, and empties every i_mmap', () => {
    const mm = mmWith('batched');
    mm.exec(new ImageBuilder().file('/usr/lib/libc.so.6').anon().build());
    const files = new Set(mm.vmas().flatMap((v) => (v.file ? [v.file] : [])));
    const before = mm.counters.snapshot();
    mm.exit();
    const d = Counters.diff(mm.counters.snapshot(), before);
    expect([d.mmapLockRead, d.mmapLockWrite, d.vmaFreed]).toEqual([1, 1, 6]);
    for (const f of files) expect(f.iMmap.size).toBe(0);
    expect(mm.mmapLock.held).toBe(false);
    mm.exit(); // an empty address space exits too
    expect(mm.mapCount).toBe(0);
  });

  it('exit drops the VMA tree whole (remove_vma, then __mt_destroy or an abandoned mm_rb)', () => {
    for (const index of ['maple', 'rbtree', 'list'] as const) {
      const mm = mmWith('batched', index);
      const image = () =>
        new ImageBuilder().file('/usr/lib/libc.so.6', 5).anon(3).file('/usr/lib/ld.so').build();
      mm.exec(image());
      // 300 anonymous pages that do not merge (alternating protections).
      for (let i = 0; i < 300; i++)
        mm.mmap(0, P, i % 2 ? PROT_READ : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      mm.munmap(mm.vmas()[20]?.start as number, P); // a removal just before the exit
      const n = mm.mapCount;
      expect(n).toBeGreaterThan(300);
      const before = mm.counters.snapshot();
      mm.exit();
      const d = Counters.diff(mm.counters.snapshot(), before);
      // No erase per VMA: no node store (maple, RCU), no rotation or gap update (rbtree).
      expect([index, d.nodesAllocated, d.rotations, d.gapUpdates]).toEqual([index, 0, 0, 0]);
      expect(d.vmaFreed).toBe(n);
      expect(mm.mapCount).toBe(0);
      expect(mm.vmas()).toEqual([]);
      // The address space takes a new image (exec after exit of the old one).
      mm.exec(image());
      expect(mm.mapCount).toBe(11);
    }
  });
});

describe('munmap tears down through the same grouping', () => {
  it('unlinks a library in one round trip with the batched locker, per PMD group', () => {
    for (const [rmap, hole, want] of [
      ['batched', 0, 1],
      ['batched', PMD_SIZE + P, 2],
      ['unbatched', 0, 5],
    ] as const) {
      const mm = mmWith(rmap);
      mm.exec(
        new ImageBuilder(0x7f0000000000)
          .file('/usr/lib/libc.so.6', 3)
          .hole(hole)
          .file('/usr/lib/libc.so.6', 2)
          .build(),
      );
      const first = mm.vmas()[0] as Vma;
      const last = mm.vmas()[4] as Vma;
      const file = first.file as MappedFile;
      const before = mm.counters.iMmapLockWrite;
      expect(mm.munmap(first.start, last.end - first.start)).toBe(0);
      expect(mm.counters.iMmapLockWrite - before).toBe(want);
      expect(file.iMmap.size).toBe(0);
      expect(mm.mapCount).toBe(0);
    }
  });
});

describe('kernel-oracle fixtures with the batched locker (maple + gap finder: the linux-6.11 preset)', () => {
  const fixtures = loadFixtures();
  it.each(
    fixtures.map((f) => [f.name, f] as const),
  )('%s matches the kernel after every call, with no more i_mmap locks than unbatched', (_, fx) => {
    const run = (rmap: 'batched' | 'unbatched') => {
      let counters = new Counters();
      const r = replayFixture(fx, () => {
        counters = new Counters();
        return {
          counters,
          index: maple.create({}, counters),
          finder: gap.create({}, counters),
          rmap: makeRmap(rmap, counters),
        };
      });
      return { r, counters };
    };
    const b = run('batched');
    expect(b.r.mismatch).toBeNull();
    expect(b.r.matched).toBe(fx.steps.length);
    const u = run('unbatched');
    expect(b.counters.iMmapLockWrite).toBeLessThanOrEqual(u.counters.iMmapLockWrite);
    const vmas = (h: number[]) => h.reduce((a, n, k) => a + k * n, 0);
    expect(vmas(b.counters.rmapBatchHistogram)).toBe(vmas(u.counters.rmapBatchHistogram));
  });
});
