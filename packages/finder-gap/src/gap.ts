/**
 * vm_unmapped_area over a gap-tracking index (Linux 3.8+): the search prunes
 * by the largest gap recorded in each subtree, so a placement costs O(log n)
 * node visits instead of a walk over every VMA.
 *
 * The index decides which era's answer comes out, because the two eras kept
 * different gaps (kernel-facts §2.2, §8.3):
 * - `'guard'` gaps (rbtree, 4.12–6.0: rb_subtree_gap measured to vm_start_gap):
 *   the gap found is guard-clean, and the answer is taken from it directly —
 *   the rbtree-era unmapped_area[_topdown].
 * - `'raw'` gaps (maple tree, 6.1+: the holes themselves): core's
 *   `vmUnmappedArea` loop searches raw holes and retries around stack guard
 *   gaps — the 6.18 answer, which the kernel-oracle placement fixtures record.
 * Near a grows-down VMA the two differ: the retry lowers the search limit to
 * the guard start and can skip valid holes just below it.
 *
 * Stateless: `fork()` returns a new instance.
 */
import {
  type Counters,
  ENOMEM,
  type GapIndex,
  isGapIndex,
  type MmView,
  modAlign,
  type UnmappedAreaFinder,
  type UnmappedAreaRequest,
  vmUnmappedArea,
} from '@vmalab/core';

export class GapFinder implements UnmappedAreaFinder {
  readonly name = 'gap';

  /** The index of the search in progress, for `raw` (one closure for all calls). */
  private index: GapIndex | null = null;
  private readonly raw = (length: number, low: number, high: number, topDown: boolean) => {
    this.counters.gapsExamined++;
    return (this.index as GapIndex).findGap(length, low, high, topDown);
  };

  constructor(readonly counters: Counters) {}

  find(mm: MmView, req: UnmappedAreaRequest): number {
    const index = mm.index;
    if (!isGapIndex(index)) {
      throw new Error(
        `finder 'gap' needs an index that tracks gaps (a GapIndex such as rbtree with gaps or maple); index '${index.name}' does not`,
      );
    }
    if (index.gapKind === 'raw') {
      this.index = index;
      try {
        return vmUnmappedArea(mm, req, this.raw);
      } finally {
        this.index = null;
      }
    }
    return this.guarded(mm, index, req);
  }

  /** The 3.8–6.0 unmapped_area[_topdown]: one search of guard-adjusted gaps, no retry. */
  private guarded(mm: MmView, index: GapIndex, req: UnmappedAreaRequest): number {
    const length = req.length + req.alignMask + req.startGap;
    const align = req.alignMask + 1;
    const low = Math.max(req.low, mm.mmapMinAddr);
    this.counters.gapsExamined++;
    const found = index.findGap(length, low, req.high, req.topDown);
    if (found === undefined) return -ENOMEM;
    if (req.topDown) {
      const gap = found + length - req.length;
      return gap - modAlign(gap - req.alignOffset, align);
    }
    const gap = found + req.startGap;
    return gap + modAlign(req.alignOffset - gap, align);
  }

  fork(): GapFinder {
    return new GapFinder(this.counters);
  }
}
