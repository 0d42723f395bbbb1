/**
 * vm_unmapped_area as Linux 6.1+ runs it (mm/vma.c unmapped_area and
 * unmapped_area_topdown, kernel-facts §8.3): a raw search for a free range
 * of `length + alignMask + startGap`, then the stack-guard fix-up loop.
 *
 * The raw search is what the strategies differ in (a list walk, a gap tree,
 * a maple tree); the loop is kernel policy, shared here so that every finder
 * returns the kernel's address. Note what the loop implies: when the highest
 * hole sits under a grows-down VMA, the search limit drops to that VMA's
 * guard start and the search runs again — so a 1 MiB guard gap can hide
 * valid holes that lie just below it (observed on 6.18 and reproduced by the
 * placement fixtures).
 */
import { ENOMEM } from './errno.js';
import { VM_SHADOW_STACK, VM_STARTGAP_FLAGS } from './flags.js';
import type { MmView, UnmappedAreaRequest } from './interfaces.js';
import { modAlign, PAGE_SIZE } from './layout.js';
import type { Vma } from './vma.js';

/**
 * A raw free-range search (mas_empty_area / mas_empty_area_rev): the lowest
 * (bottom-up) or highest (top-down) `a` such that [a, a + length) holds no VMA
 * and low ≤ a, a + length ≤ high; undefined when none. Guard gaps ignored.
 */
export type RawGapSearch = (
  length: number,
  low: number,
  high: number,
  topDown: boolean,
) => number | undefined;

/** vm_start_gap: where a VMA's guard gap begins (its start for ordinary VMAs). */
export function vmStartGap(mm: Pick<MmView, 'stackGuardGap'>, v: Vma): number {
  if (v.flags & VM_STARTGAP_FLAGS) {
    const gap = v.flags & VM_SHADOW_STACK ? PAGE_SIZE : mm.stackGuardGap;
    return v.start > gap ? v.start - gap : 0;
  }
  return v.start;
}

/** Runs the 6.18 search loop over `raw`; returns an address or −ENOMEM. */
export function vmUnmappedArea(mm: MmView, req: UnmappedAreaRequest, raw: RawGapSearch): number {
  const length = req.length + req.alignMask + req.startGap;
  const align = req.alignMask + 1;
  let low = Math.max(req.low, mm.mmapMinAddr);
  let high = req.high;
  if (!req.topDown) {
    for (;;) {
      const found = raw(length, low, high, false);
      if (found === undefined) return -ENOMEM;
      let gap = found + req.startGap;
      gap += modAlign(req.alignOffset - gap, align);
      // The VMA after the free range that holds `found`.
      const next = mm.index.find(found);
      if (next && next.flags & VM_STARTGAP_FLAGS) {
        if (vmStartGap(mm, next) < gap + length - 1) {
          low = next.end;
          continue;
        }
      }
      // (vm_end_gap of the previous VMA only differs for VM_GROWSUP, absent on x86.)
      return gap;
    }
  }
  for (;;) {
    const found = raw(length, low, high, true);
    if (found === undefined) return -ENOMEM;
    const gapEnd = found + length;
    let gap = gapEnd - req.length;
    gap -= modAlign(gap - req.alignOffset, align);
    const next = mm.index.find(gapEnd - 1);
    if (next && next.flags & VM_STARTGAP_FLAGS) {
      const guard = vmStartGap(mm, next);
      if (guard < gapEnd) {
        high = guard;
        if (high < low) return -ENOMEM;
        continue;
      }
    }
    return gap;
  }
}
