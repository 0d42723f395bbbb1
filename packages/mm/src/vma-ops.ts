/**
 * The VMA primitives of mm/vma.c (6.12–6.18): split, merge of a new range,
 * merge of an existing range, anon_vma reuse. They keep three things in step:
 * the index, each file's i_mmap set, and the counters.
 *
 * Merge rules (kernel-facts §5.1, §5.3): flags equal (ignoring VM_SOFTDIRTY),
 * same file, contiguous pgoff, compatible anon_vma, nothing VM_SPECIAL, and a
 * VMA whose vm_ops has a close hook is never deleted by a merge.
 */
import {
  AnonVma,
  type Counters,
  type MappedFile,
  PAGE_SIZE,
  VM_ACCESS_FLAGS,
  VM_SOFTDIRTY,
  VM_SPECIAL,
  Vma,
  type VmaIndex,
} from '@vmalab/core';

export interface VmaContext {
  readonly index: VmaIndex;
  readonly counters: Counters;
}

/** Takes and releases a file's i_mmap_rwsem for writing (vma_prepare/vma_complete, vma_link_file). */
export function iMmapLock(ctx: VmaContext, file: MappedFile): void {
  file.iMmapRwsem.downWrite();
  ctx.counters.iMmapLockWrite++;
  file.iMmapRwsem.upWrite();
}

/** Inserts a new VMA into the index and its file's i_mmap (vma_link). */
export function linkVma(ctx: VmaContext, vma: Vma): void {
  ctx.index.insert(vma);
  ctx.counters.vmaAllocated++;
  if (vma.file) {
    iMmapLock(ctx, vma.file);
    vma.file.iMmap.add(vma);
  }
}

/** Removes a VMA that a merge swallowed (its file link goes under the same lock as the merge). */
function dropMerged(ctx: VmaContext, vma: Vma): void {
  ctx.index.remove(vma);
  vma.file?.iMmap.delete(vma);
  ctx.counters.vmaFreed++;
}

function pages(bytes: number): number {
  return bytes / PAGE_SIZE;
}

/**
 * __split_vma: splits `vma` at `addr` (strictly inside it). With `newBelow`
 * the new VMA is the lower piece; otherwise the upper one, whose pgoff
 * advances. Returns the new VMA. The caller checks max_map_count.
 */
export function splitVma(ctx: VmaContext, vma: Vma, addr: number, newBelow: boolean): Vma {
  if (!(addr > vma.start && addr < vma.end)) {
    throw new Error(`split of ${vma} at 0x${addr.toString(16)} outside the VMA`);
  }
  const created = vma.clone();
  if (vma.file) iMmapLock(ctx, vma.file);
  if (newBelow) {
    created.end = addr;
    const delta = pages(addr - vma.start);
    ctx.index.resize(vma, addr, vma.end);
    vma.pgoff += delta;
  } else {
    created.start = addr;
    created.pgoff = vma.pgoff + pages(addr - vma.start);
    ctx.index.resize(vma, vma.start, addr);
  }
  ctx.index.insert(created);
  vma.file?.iMmap.add(created);
  ctx.counters.splits++;
  ctx.counters.vmaAllocated++;
  return created;
}

/** is_mergeable_vma: the attributes (not position, not anon_vma) match. */
function attrsMatch(v: Vma, flags: number, file: MappedFile | null): boolean {
  return ((v.flags ^ flags) & ~VM_SOFTDIRTY) === 0 && v.file === file;
}

/** can_merge_remove_vma: a merge may delete this VMA (no vm_ops->close). */
function canRemove(v: Vma): boolean {
  return v.file?.options.hasClose !== true;
}

/**
 * is_mergeable_anon_vma (6.13+): the range's anon_vma `src` may join `tgt`
 * when one side has none (unless the side that has one was forked from a
 * parent: its chain is not singular), or both share the same one.
 */
function anonCompatible(src: AnonVma | null, srcForked: boolean, tgt: Vma): boolean {
  const t = tgt.anonVma;
  if (!t && src) return !srcForked;
  if (t && !src) return !tgt.anonForked;
  return src === t;
}

/** are_anon_vmas_compatible(prev, next) for a merge on both sides. */
function anonPairCompatible(a: Vma, b: Vma): boolean {
  return !a.anonVma || !b.anonVma || a.anonVma === b.anonVma;
}

/** The attributes of a range being mapped or changed (struct vma_merge_struct). */
export interface MergeRange {
  start: number;
  end: number;
  flags: number;
  file: MappedFile | null;
  pgoff: number;
  anonVma: AnonVma | null;
  /** The range's VMA had a non-singular anon_vma chain. */
  anonForked: boolean;
}

/**
 * vma_merge_new_range: [start, end) is free; try to extend `prev` (ending at
 * start) and/or `next` (starting at end) over it. Returns the VMA that now
 * covers the range, or null when no merge was possible.
 * `justExpand` (brk's fast path): only prev is considered.
 */
export function mergeNewRange(
  ctx: VmaContext,
  r: MergeRange,
  prev: Vma | undefined,
  next: Vma | undefined,
  justExpand = false,
): Vma | null {
  if (r.flags & VM_SPECIAL || (!prev && !next)) return null;
  const left =
    prev !== undefined &&
    prev.end === r.start &&
    attrsMatch(prev, r.flags, r.file) &&
    anonCompatible(r.anonVma, r.anonForked, prev) &&
    prev.pgoff + pages(prev.end - prev.start) === r.pgoff;
  const right =
    !justExpand &&
    next !== undefined &&
    next.start === r.end &&
    attrsMatch(next, r.flags, r.file) &&
    anonCompatible(r.anonVma, r.anonForked, next) &&
    r.pgoff + pages(r.end - r.start) === next.pgoff &&
    (!left || anonPairCompatible(prev as Vma, next));
  if (left) {
    const p = prev as Vma;
    let end = r.end;
    if (p.file) iMmapLock(ctx, p.file);
    if (right && canRemove(next as Vma)) {
      const n = next as Vma;
      end = n.end;
      p.anonVma ??= n.anonVma;
      dropMerged(ctx, n);
    }
    ctx.index.resize(p, p.start, end);
    p.anonVma ??= r.anonVma;
    ctx.counters.merges++;
    return p;
  }
  if (right) {
    const n = next as Vma;
    if (n.file) iMmapLock(ctx, n.file);
    ctx.index.resize(n, r.start, n.end);
    n.pgoff = r.pgoff;
    n.anonVma ??= r.anonVma;
    ctx.counters.merges++;
    return n;
  }
  return null;
}

/**
 * vma_merge_existing_range: [start, end) lies inside `middle`, whose
 * attributes are about to become `flags`. Merge it into the previous and/or
 * next VMA when legal. Returns the VMA now covering [start, end), or null.
 */
export function mergeExistingRange(
  ctx: VmaContext,
  middle: Vma,
  start: number,
  end: number,
  flags: number,
): Vma | null {
  const leftSide = start === middle.start;
  const rightSide = end === middle.end;
  if (flags & VM_SPECIAL || (!leftSide && !rightSide)) return null;
  const prev = leftSide ? ctx.index.prev(middle) : undefined;
  const next = rightSide ? ctx.index.next(middle) : undefined;
  if (!prev && !next) return null;
  const pgoff = middle.pgoff + pages(start - middle.start);
  const src = middle.anonVma;
  const srcForked = middle.anonForked;
  const mergeLeft =
    prev !== undefined &&
    prev.end === start &&
    attrsMatch(prev, flags, middle.file) &&
    anonCompatible(src, srcForked, prev) &&
    prev.pgoff + pages(prev.end - prev.start) === pgoff;
  let mergeRight =
    next !== undefined &&
    next.start === end &&
    attrsMatch(next, flags, middle.file) &&
    anonCompatible(src, srcForked, next) &&
    pgoff + pages(end - start) === next.pgoff &&
    (!mergeLeft || anonPairCompatible(prev as Vma, next));
  if (!mergeLeft && !mergeRight) return null;
  const deleteMiddle = leftSide && rightSide;
  // Deleting middle would skip its close hook: no sensible merge remains.
  if (deleteMiddle && !canRemove(middle)) return null;
  if (mergeLeft && mergeRight && !canRemove(next as Vma)) mergeRight = false;
  if (middle.file) iMmapLock(ctx, middle.file);
  ctx.counters.merges++;

  if (mergeLeft) {
    const p = prev as Vma;
    if (mergeRight) {
      // prev absorbs middle and next.
      const n = next as Vma;
      p.anonVma ??= n.anonVma ?? middle.anonVma;
      dropMerged(ctx, middle);
      dropMerged(ctx, n);
      ctx.index.resize(p, p.start, n.end);
    } else if (deleteMiddle) {
      p.anonVma ??= middle.anonVma;
      dropMerged(ctx, middle);
      ctx.index.resize(p, p.start, end);
    } else {
      // prev grows over the head of middle; middle shrinks from the front.
      p.anonVma ??= middle.anonVma;
      ctx.index.resize(middle, end, middle.end);
      middle.pgoff += pages(end - start);
      ctx.index.resize(p, p.start, end);
    }
    return p;
  }
  const n = next as Vma;
  n.anonVma ??= middle.anonVma;
  if (deleteMiddle) {
    dropMerged(ctx, middle);
  } else {
    // middle keeps its head; next grows down over the tail.
    ctx.index.resize(middle, middle.start, start);
  }
  ctx.index.resize(n, start, n.end);
  n.pgoff = pgoff;
  return n;
}

/**
 * anon_vma_compatible + reusable_anon_vma: a VMA getting its first anon_vma
 * borrows its neighbour's when the two could merge but for their access
 * flags, and the neighbour's chain is singular (find_mergeable_anon_vma).
 */
function anonReusable(a: Vma, b: Vma, owner: Vma): AnonVma | null {
  const compatible =
    a.end === b.start &&
    a.file === b.file &&
    ((a.flags ^ b.flags) & ~(VM_ACCESS_FLAGS | VM_SOFTDIRTY)) === 0 &&
    b.pgoff === a.pgoff + pages(b.start - a.start);
  return compatible && owner.anonVma && !owner.anonForked ? owner.anonVma : null;
}

/** anon_vma_prepare: gives `vma` an anon_vma (next's, prev's, or a new one). */
export function anonVmaPrepare(ctx: VmaContext, vma: Vma): void {
  if (vma.anonVma) return;
  const next = ctx.index.next(vma);
  let anon = next ? anonReusable(vma, next, next) : null;
  if (!anon) {
    const prev = ctx.index.prev(vma);
    anon = prev ? anonReusable(prev, vma, prev) : null;
  }
  vma.anonVma = anon ?? new AnonVma();
}

/** A VMA for [start, end) with the given attributes (vm_area_alloc + init). */
export function newVma(r: MergeRange): Vma {
  const v = new Vma(r.start, r.end, r.flags, r.file, r.pgoff);
  v.anonVma = r.anonVma;
  v.anonForked = r.anonForked;
  return v;
}
