/**
 * The VMA merge vectors of tools/testing/vma/vma.c (kernel-facts §9.7), run
 * against the merge primitives with the kernel's flags and page offsets.
 */
import {
  AnonVma,
  Counters,
  MappedFile,
  VM_DONTEXPAND,
  VM_IO,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_MIXEDMAP,
  VM_PFNMAP,
  VM_READ,
  VM_WRITE,
  Vma,
} from '@vmalab/core';
import { ReferenceIndex } from '@vmalab/core/conformance';
import { describe, expect, it } from 'vitest';
import {
  anonVmaPrepare,
  linkVma,
  type MergeRange,
  mergeExistingRange,
  mergeNewRange,
  newVma,
  splitVma,
  type VmaContext,
} from './vma-ops.js';

const F = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE;

function ctx(): VmaContext {
  return { index: new ReferenceIndex(), counters: new Counters() };
}

function add(
  c: VmaContext,
  start: number,
  end: number,
  pgoff: number,
  file: MappedFile | null = null,
  flags = F,
): Vma {
  const v = new Vma(start, end, flags, file, pgoff);
  linkVma(c, v);
  return v;
}

function range(
  start: number,
  end: number,
  pgoff: number,
  extra: Partial<MergeRange> = {},
): MergeRange {
  return { start, end, flags: F, file: null, pgoff, anonVma: null, anonForked: false, ...extra };
}

/** Merge a new range or insert it, as mmap does. */
function mapNew(c: VmaContext, r: MergeRange): Vma {
  const next = c.index.find(r.start);
  const prev = next ? c.index.prev(next) : c.index.last();
  const merged = mergeNewRange(c, r, prev, next);
  if (merged) return merged;
  const v = newVma(r);
  linkVma(c, v);
  return v;
}

function layout(c: VmaContext): string[] {
  return [...c.index].map(
    (v) => `${v.start.toString(16)}-${v.end.toString(16)}@${v.pgoff.toString(16)}`,
  );
}

/** vma_modify: merge, else split head/tail and change the middle (as the address space does). */
function modify(c: VmaContext, vma: Vma, start: number, end: number, flags: number): Vma {
  const merged = mergeExistingRange(c, vma, start, end, flags);
  if (merged) return merged;
  if (vma.start < start) splitVma(c, vma, start, true);
  if (vma.end > end) splitVma(c, vma, end, false);
  vma.flags = flags;
  return vma;
}

describe('kernel VMA merge vectors (tools/testing/vma/vma.c)', () => {
  it('simple_merge: a new range filling the hole joins both neighbours', () => {
    const c = ctx();
    add(c, 0, 0x1000, 0);
    add(c, 0x2000, 0x3000, 2);
    mapNew(c, range(0x1000, 0x2000, 1));
    expect(layout(c)).toEqual(['0-3000@0']);
    c.index.validate();
  });

  it('simple_modify: changing flags in the middle splits into three', () => {
    const c = ctx();
    const v = add(c, 0, 0x3000, 0);
    modify(c, v, 0x1000, 0x2000, VM_READ | VM_MAYREAD);
    expect(layout(c)).toEqual(['0-1000@0', '1000-2000@1', '2000-3000@2']);
  });

  it('merge_new: the seven steps', () => {
    const c = ctx();
    add(c, 0, 0x2000, 0); // A
    add(c, 0x3000, 0x4000, 3); // B
    add(c, 0xb000, 0xc000, 0xb); // C
    mapNew(c, range(0x7000, 0x9000, 7)); // D, no merge
    expect(c.index.count).toBe(4);
    mapNew(c, range(0x2000, 0x3000, 2));
    expect(layout(c)[0]).toBe('0-4000@0');
    expect(c.index.count).toBe(3);
    mapNew(c, range(0x4000, 0x5000, 4));
    expect(layout(c)[0]).toBe('0-5000@0');
    mapNew(c, range(0x6000, 0x7000, 6));
    expect(layout(c)[1]).toBe('6000-9000@6');
    expect(c.index.count).toBe(3);
    mapNew(c, range(0x5000, 0x6000, 5));
    expect(layout(c)).toEqual(['0-9000@0', 'b000-c000@b']);
    mapNew(c, range(0xa000, 0xb000, 0xa));
    expect(layout(c)).toEqual(['0-9000@0', 'a000-c000@a']);
    mapNew(c, range(0x9000, 0xa000, 9));
    expect(layout(c)).toEqual(['0-c000@0']);
  });

  it('special flags: VM_IO, VM_DONTEXPAND, VM_PFNMAP, VM_MIXEDMAP never merge', () => {
    for (const special of [VM_IO, VM_DONTEXPAND, VM_PFNMAP, VM_MIXEDMAP]) {
      const c = ctx();
      add(c, 0, 0x3000, 0, null, F | special);
      expect(
        mergeNewRange(
          c,
          range(0x3000, 0x4000, 3, { flags: F | special }),
          c.index.first(),
          undefined,
        ),
      ).toBeNull();
      const v = add(c, 0x3000, 0x5000, 3);
      expect(mergeExistingRange(c, v, 0x3000, 0x5000, F | special)).toBeNull();
    }
  });

  it('merge_existing right partial / right full', () => {
    let c = ctx();
    let vma = add(c, 0x2000, 0x6000, 2, null, VM_READ);
    add(c, 0x6000, 0x9000, 6);
    expect(mergeExistingRange(c, vma, 0x3000, 0x6000, F)).not.toBeNull();
    expect(layout(c)).toEqual(['2000-3000@2', '3000-9000@3']);
    c = ctx();
    vma = add(c, 0x2000, 0x6000, 2, null, VM_READ);
    add(c, 0x6000, 0x9000, 6);
    mergeExistingRange(c, vma, 0x2000, 0x6000, F);
    expect(layout(c)).toEqual(['2000-9000@2']);
  });

  it('merge_existing left partial / left full / both', () => {
    let c = ctx();
    add(c, 0, 0x3000, 0);
    let vma = add(c, 0x3000, 0x7000, 3, null, VM_READ);
    mergeExistingRange(c, vma, 0x3000, 0x6000, F);
    expect(layout(c)).toEqual(['0-6000@0', '6000-7000@6']);
    c = ctx();
    add(c, 0, 0x3000, 0);
    vma = add(c, 0x3000, 0x7000, 3, null, VM_READ);
    mergeExistingRange(c, vma, 0x3000, 0x7000, F);
    expect(layout(c)).toEqual(['0-7000@0']);
    c = ctx();
    add(c, 0, 0x3000, 0);
    vma = add(c, 0x3000, 0x7000, 3, null, VM_READ);
    add(c, 0x7000, 0x9000, 7);
    mergeExistingRange(c, vma, 0x3000, 0x7000, F);
    expect(layout(c)).toEqual(['0-9000@0']);
  });

  it('merge_existing both with anon_vma: prev inherits the middle one', () => {
    const c = ctx();
    const prev = add(c, 0, 0x3000, 0);
    const vma = add(c, 0x3000, 0x7000, 3, null, VM_READ);
    add(c, 0x7000, 0x9000, 7);
    const anon = new AnonVma();
    vma.anonVma = anon;
    expect(mergeExistingRange(c, vma, 0x3000, 0x7000, F)).toBe(prev);
    expect(layout(c)).toEqual(['0-9000@0']);
    expect(prev.anonVma).toBe(anon);
  });

  it('non-mergeable: modifying the inside of a VMA merges with nothing', () => {
    for (const [s, e] of [
      [0x4000, 0x5000],
      [0x5000, 0x6000],
      [0x6000, 0x7000],
      [0x4000, 0x7000],
      [0x4000, 0x6000],
    ] as const) {
      const c = ctx();
      add(c, 0, 0x3000, 0);
      const vma = add(c, 0x3000, 0x8000, 3, null, VM_READ);
      add(c, 0x8000, 0xa000, 8);
      expect(mergeExistingRange(c, vma, s, e, F)).toBeNull();
      expect(c.index.count).toBe(3);
    }
  });

  it('anon_vma_non_mergeable: prev and next with different anon_vmas — only prev merges', () => {
    const c = ctx();
    const prev = add(c, 0, 0x3000, 0);
    const vma = add(c, 0x3000, 0x7000, 3, null, VM_READ);
    const next = add(c, 0x7000, 0x9000, 7);
    prev.anonVma = new AnonVma();
    next.anonVma = new AnonVma();
    mergeExistingRange(c, vma, 0x3000, 0x7000, F);
    expect(layout(c)).toEqual(['0-7000@0', '7000-9000@7']);
    // The same for a new range.
    const d = ctx();
    const p2 = add(d, 0, 0x3000, 0);
    const n2 = add(d, 0x7000, 0x9000, 7);
    p2.anonVma = new AnonVma();
    n2.anonVma = new AnonVma();
    mapNew(d, range(0x3000, 0x7000, 3));
    expect(layout(d)).toEqual(['0-7000@0', '7000-9000@7']);
  });

  // vm_ops->close belongs to the file in this model (MappedFile.options.hasClose),
  // so the vector with close on `next` only (an anonymous VMA with vm_ops) has
  // no equivalent; the two below have.
  describe('with_close (vm_ops->close: may be extended, never deleted)', () => {
    const closing = new MappedFile('/close', '00:00', 0, Number.POSITIVE_INFINITY, {
      hasClose: true,
    });
    it('new range: only prev is extended when next would be deleted', () => {
      const c = ctx();
      add(c, 0, 0x3000, 0, closing);
      add(c, 0x5000, 0x9000, 5, closing);
      mapNew(c, range(0x3000, 0x5000, 3, { file: closing }));
      expect(layout(c)).toEqual(['0-5000@0', '5000-9000@5']);
    });
    it('existing range: the middle VMA with close cannot merge away', () => {
      const c = ctx();
      add(c, 0, 0x3000, 0, closing);
      const vma = add(c, 0x3000, 0x5000, 3, closing, VM_READ);
      add(c, 0x5000, 0x9000, 5, closing);
      expect(mergeExistingRange(c, vma, 0x3000, 0x5000, F)).toBeNull();
    });
  });

  it('merge_extend: growing a VMA into the space before next joins them', () => {
    const c = ctx();
    const v = add(c, 0, 0x1000, 0);
    add(c, 0x3000, 0x4000, 3);
    mergeNewRange(c, range(0x1000, 0x3000, 1), v, c.index.next(v));
    expect(layout(c)).toEqual(['0-4000@0']);
  });

  it('expand_only_mode: only prev is considered', () => {
    const c = ctx();
    add(c, 0, 0x2000, 0);
    const prev = add(c, 0x3000, 0x5000, 3);
    add(c, 0x9000, 0xa000, 9);
    expect(mergeNewRange(c, range(0x5000, 0x9000, 5), prev, c.index.next(prev), true)).toBe(prev);
    expect(layout(c)).toEqual(['0-2000@0', '3000-9000@3', '9000-a000@9']);
  });

  it('mmap_region_basic: four maps, two merges', () => {
    const c = ctx();
    mapNew(c, range(0x300000, 0x303000, 0x300));
    mapNew(c, range(0x250000, 0x253000, 0x250));
    mapNew(c, range(0x303000, 0x306000, 0x303));
    mapNew(c, range(0x24d000, 0x250000, 0x24d));
    expect(layout(c)).toEqual(['24d000-253000@24d', '300000-306000@300']);
  });

  it('anon_vma reuse: a first write borrows a compatible neighbour’s anon_vma', () => {
    const c = ctx();
    const a = add(c, 0, 0x2000, 0);
    const b = add(c, 0x2000, 0x3000, 2, null, VM_READ | VM_MAYREAD | VM_MAYWRITE);
    a.anonVma = new AnonVma();
    anonVmaPrepare(c, b);
    expect(b.anonVma).toBe(a.anonVma);
    // Not contiguous in pgoff: a new anon_vma.
    const d = ctx();
    const x = add(d, 0, 0x2000, 0);
    const y = add(d, 0x2000, 0x3000, 7);
    x.anonVma = new AnonVma();
    anonVmaPrepare(d, y);
    expect(y.anonVma).not.toBe(x.anonVma);
  });

  it('split counts and pgoff of the upper piece', () => {
    const c = ctx();
    const v = add(c, 0x10000, 0x20000, 0x10);
    const upper = splitVma(c, v, 0x18000, false);
    expect(upper.pgoff).toBe(0x18);
    expect(c.counters.splits).toBe(1);
    const lower = splitVma(c, upper, 0x1c000, true);
    expect([lower.start, lower.end, lower.pgoff]).toEqual([0x18000, 0x1c000, 0x18]);
    expect([upper.start, upper.pgoff]).toEqual([0x1c000, 0x1c]);
    expect(() => splitVma(c, v, 0x10000, true)).toThrow(/outside/);
  });
});
