import { Counters, type MappedFile, VM_GROWSDOWN } from '@vmalab/core';
import { describe, expect, it } from 'vitest';
import { checkImage, imageSpecToSnapshot, parseSnapshot } from './exec.js';
import { formatMaps, SnapshotError } from './maps.js';
import { PYTHON3_IMAGE } from './python3-image.js';
import {
  ImageBuilder,
  type IndexKind,
  mmWith,
  python3Snapshot,
  python3Spec,
  type RmapKind,
} from './testing/images.js';

describe('image specs', () => {
  it('PYTHON3_IMAGE is data/python3.image.json as a module', () => {
    expect(PYTHON3_IMAGE).toEqual(python3Spec());
  });

  it('the shipped spec and the recorded snapshot are the same 42 VMAs', () => {
    const spec = python3Spec();
    const fromSpec = imageSpecToSnapshot(spec);
    const trim = (ls: readonly { line: string; vmFlags?: string }[]) =>
      ls.map((l) => ({ ...l, line: l.line.trimEnd() }));
    expect(trim(fromSpec)).toEqual(trim(python3Snapshot()));
    expect(fromSpec).toHaveLength(42);
    // binary, ld.so, libc, libm, libz, libexpat: 5 VMAs of one file each
    const elf = spec.objects.filter((o) => ['program', 'interpreter', 'library'].includes(o.role));
    expect(elf.map((o) => o.vmas.length)).toEqual([5, 5, 5, 5, 5, 5]);
    expect(elf.map((o) => o.role).sort()).toEqual([
      'interpreter',
      'library',
      'library',
      'library',
      'library',
      'program',
    ]);
  });

  it('exec of the spec and of the snapshot give the same layout, and mmap_base at the end of ld.so', () => {
    const a = mmWith('batched');
    a.exec(python3Spec());
    const b = mmWith('batched');
    b.exec(python3Snapshot());
    expect(formatMaps(a)).toBe(formatMaps(b));
    const ld = a.vmas().filter((v) => v.file?.path.includes('/ld-linux'));
    expect(a.mmapBase).toBe(ld[ld.length - 1]?.end);
    expect(b.mmapBase).toBe(a.mmapBase);
    expect(a.mapCount).toBe(42);
    expect(a.brkAddr).toBeGreaterThan(a.startBrk);
    expect(a.vmas().find((v) => v.flags & VM_GROWSDOWN)?.end).toBe(a.startStack + 4096);
  });

  it('checks the image before the old address space is touched', () => {
    const mm = mmWith('unbatched');
    mm.exec(python3Spec());
    const before = formatMaps(mm);
    const bad = python3Snapshot();
    bad[3] = { line: 'not a maps line' };
    expect(() => mm.exec(bad)).toThrow(SnapshotError);
    const overlapping = python3Snapshot();
    [overlapping[0], overlapping[1]] = [overlapping[1] as never, overlapping[0] as never];
    expect(() => mm.exec(overlapping)).toThrow(/exec image:2: overlaps or precedes/);
    expect(() => mm.exec({ ...python3Spec(), mmapBase: '12345' })).toThrow(/bad mmapBase/);
    expect(() =>
      mm.exec({ name: 'x', objects: [{ role: 'library', vmas: [['1000-2000', 'r--p', '0']] }] }),
    ).toThrow(/a library object without a path/);
    expect(formatMaps(mm)).toBe(before);
    expect(checkImage(parseSnapshot('1000-3000 r--p 00000000 00:00 0 \n'), 's')).toEqual({
      mmapBase: undefined,
    });
  });

  it('the new address space works: mmap below the new mmap_base, fault, munmap', () => {
    const mm = mmWith('batched', 'maple');
    mm.exec(python3Spec());
    const a = mm.mmap(0, 1 << 20, 3, 0x22);
    expect(a).toBeGreaterThan(0);
    expect(a + (1 << 20)).toBeLessThanOrEqual(mm.mmapBase);
    expect(mm.fault(a, true)).toBe('ok');
    expect(mm.munmap(a, 1 << 20)).toBe(0);
    mm.validate();
  });
});

/**
 * Counter deltas of one exec of the shipped image over an address space that
 * already runs it, and of its teardown alone (exit).
 */
function execCost(rmap: RmapKind, index: IndexKind = 'list') {
  const mm = mmWith(rmap, index);
  mm.exec(python3Spec());
  const oldFiles = new Set(mm.vmas().flatMap((v) => (v.file ? [v.file] : [])));
  const c0 = mm.counters.snapshot();
  mm.exec(python3Spec());
  const exec = Counters.diff(mm.counters.snapshot(), c0);
  for (const f of oldFiles as Set<MappedFile>) expect(f.iMmap.size).toBe(0);
  const c1 = mm.counters.snapshot();
  mm.exit();
  const teardown = Counters.diff(mm.counters.snapshot(), c1);
  return { exec, teardown };
}

describe('i_mmap acquisitions per exec of the shipped python3 image', () => {
  it('teardown: 32 unbatched (one per file VMA), 8 batched (one per object)', () => {
    const u = execCost('unbatched');
    const b = execCost('batched');
    expect(u.teardown.iMmapLockWrite).toBe(32);
    expect(u.teardown.rmapBatchHistogram).toEqual([0, 32]);
    expect(b.teardown.iMmapLockWrite).toBe(8);
    // LC_CTYPE and the gconv cache are single VMAs; binary, ld.so, libc, libm, libz, libexpat 5 each.
    expect(b.teardown.rmapBatchHistogram).toEqual([0, 2, 0, 0, 0, 6]);
    for (const c of [u, b]) {
      expect([c.teardown.mmapLockRead, c.teardown.mmapLockWrite, c.teardown.vmaFreed]).toEqual([
        1, 1, 42,
      ]);
      // exec = the teardown + the build, which links 32 file VMAs under one more mmap_lock write.
      expect([
        c.exec.mmapLockRead,
        c.exec.mmapLockWrite,
        c.exec.vmaFreed,
        c.exec.vmaAllocated,
      ]).toEqual([1, 2, 42, 42]);
      expect(c.exec.rmapBatchHistogram).toEqual(c.teardown.rmapBatchHistogram);
    }
    expect(u.exec.iMmapLockWrite).toBe(32 + 32);
    expect(b.exec.iMmapLockWrite).toBe(8 + 32);
  });

  it('the index does not change the lock counts', () => {
    for (const index of ['list', 'rbtree', 'maple'] as const) {
      expect(execCost('unbatched', index).exec.iMmapLockWrite).toBe(64);
      expect(execCost('batched', index).exec.iMmapLockWrite).toBe(40);
    }
  });

  it('table: i_mmap acquisitions per exec by strategy', () => {
    const rows = (['unbatched', 'batched'] as const).map((r) => {
      const { exec, teardown } = execCost(r);
      const t = teardown.iMmapLockWrite as number;
      return [
        r,
        t,
        (exec.iMmapLockWrite as number) - t,
        exec.iMmapLockWrite,
        teardown.rmapBatchHistogram,
      ];
    });
    expect(rows).toEqual([
      ['unbatched', 32, 32, 64, [0, 32]],
      ['batched', 8, 32, 40, [0, 2, 0, 0, 0, 6]],
    ]);
  });
});

describe('a synthetic image', () => {
  it('ld.so and libc of 5 VMAs each: exec teardown costs 10 unbatched, 2 batched', () => {
    const spec = new ImageBuilder()
      .file('/usr/lib/x86_64-linux-gnu/libc.so.6')
      .anon(3)
      .file('/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 5, 'interpreter')
      .build();
    for (const [rmap, want] of [
      ['unbatched', 10],
      ['batched', 2],
    ] as const) {
      const mm = mmWith(rmap);
      mm.exec(spec);
      const before = mm.counters.snapshot();
      mm.exec(spec);
      const d = Counters.diff(mm.counters.snapshot(), before);
      // The exec's i_mmap cost: the teardown (want) + 10 links of the new image.
      expect(d.iMmapLockWrite).toBe(want + 10);
      expect((d.rmapBatchHistogram as number[]).reduce((a, b) => a + b, 0)).toBe(want);
      expect(mm.mapCount).toBe(11);
    }
  });
});
