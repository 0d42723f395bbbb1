/**
 * The linear first-fit walk of get_unmapped_area (Linux ≤ 2.4, and the scan
 * every 2.6 free_area_cache refined): look up the first VMA ending above the
 * start of the window, then follow the VMAs in address order, hole by hole,
 * until a hole holds the request. O(#VMAs passed) per call — the cost the
 * free-area cache (2.6) and the gap tree (3.8) were invented to avoid.
 *
 * Why it is shaped this way:
 * - It walks holes, not addresses: the hole between VMAs `prev` and `next`
 *   is `[prev.end, vmStartGap(next))`, clipped to the window, so one check
 *   per hole tells whether the lowest (highest) aligned candidate of that
 *   hole fits. Holes are visited lowest first (bottom-up) or highest first
 *   (top-down), so the first fit is the lowest (highest) valid address.
 * - The top-down walk (2.6.9's flexible layout) steps with `index.prev`; on a
 *   singly linked list that is a walk from the head, which is exactly the
 *   cost a list would impose.
 * - 2.4 knew neither alignment, nor guard gaps, nor start gaps. They are
 *   honoured the way Linux 6.x defines them (kernel-facts §8.2–8.3): a
 *   VM_GROWSDOWN VMA keeps `stackGuardGap` free below it, a shadow stack one
 *   page, and only the VMA directly above the new range counts.
 * - Stateless: `fork()` returns a fresh instance.
 *
 * Two policies (option `policy`):
 * - `'kernel'` (default): Linux 6.x's own answer — core's `vmUnmappedArea` loop
 *   (over-reserving `length + alignMask + startGap`, guard-gap retries) with
 *   this walk as its raw gap search (mas_empty_area / mas_empty_area_rev).
 * - `'first-fit'`: exactly the lowest (bottom-up) or highest (top-down)
 *   valid address, −ENOMEM only when none exists.
 *   The two differ only for requests with an alignment or a start gap and
 *   around guard gaps. The default is the kernel's answer because strategies
 *   are interchangeable: every finder must give the layout Linux gives.
 *
 * Counting: `placements` per call, `gapsExamined` per hole tested,
 * `nodesVisited` per VMA stepped over (the index counts its own lookups too).
 */
import {
  type Counters,
  ENOMEM,
  type MmView,
  modAlign,
  PAGE_SIZE,
  type UnmappedAreaFinder,
  type UnmappedAreaRequest,
  type VmaIndex,
  vmStartGap,
  vmUnmappedArea,
} from '@vmalab/core';

export type LinearPolicy = 'first-fit' | 'kernel';

export interface LinearFinderOptions {
  /** `'first-fit'` (lowest / highest valid address) or `'kernel'` (Linux 6.x's answer). Default: `'kernel'`. */
  policy?: LinearPolicy;
}

/** Guard gaps: the mm to read `stackGuardGap` from, or null for a raw search. */
type Guards = Pick<MmView, 'stackGuardGap'> | null;

export class LinearFinder implements UnmappedAreaFinder {
  readonly name: string = 'linear';
  readonly policy: LinearPolicy;

  constructor(
    readonly counters: Counters,
    options: LinearFinderOptions = {},
  ) {
    this.policy = options.policy ?? 'kernel';
  }

  find(mm: MmView, req: UnmappedAreaRequest): number {
    this.counters.placements++;
    if (this.policy === 'kernel') {
      return vmUnmappedArea(mm, req, (length, low, high, topDown) => {
        const a = topDown
          ? this.walkDown(mm.index, null, length, low, high, 0, 1, 0)
          : this.walkUp(mm.index, null, length, low, high, 0, 1, 0);
        return a < 0 ? undefined : a;
      });
    }
    // start ≡ alignOffset (mod alignMask + 1), and always page aligned.
    const modulus = Math.max(req.alignMask + 1, PAGE_SIZE);
    const offset = req.alignMask === 0 ? 0 : req.alignOffset;
    const low = Math.max(req.low, mm.mmapMinAddr);
    const a = req.topDown
      ? this.walkDown(mm.index, mm, req.length, low, req.high, req.startGap, modulus, offset)
      : this.walkUp(mm.index, mm, req.length, low, req.high, req.startGap, modulus, offset);
    return a < 0 ? -ENOMEM : a;
  }

  fork(): LinearFinder {
    return new LinearFinder(this.counters, { policy: this.policy });
  }

  /**
   * Bottom-up: the lowest `a ≡ offset (mod modulus)` with
   * `[a − startGap, a + length)` free inside `[low, high)` and
   * `a + length ≤ vmStartGap(next VMA)`; −1 when there is none.
   */
  private walkUp(
    index: VmaIndex,
    guards: Guards,
    length: number,
    low: number,
    high: number,
    startGap: number,
    modulus: number,
    offset: number,
  ): number {
    const c = this.counters;
    // The current hole is [lo, top of hole); `next` is the VMA above it. The
    // first VMA ending above `low` is the top of the hole holding `low`.
    let lo = low;
    let next = index.find(lo);
    for (;;) {
      c.gapsExamined++;
      const x = lo + startGap;
      const a = x + modAlign(offset - x, modulus);
      const end = a + length;
      // Later holes start higher, so their candidates end higher still.
      if (end > high) return -1;
      if (next === undefined) return a;
      const top = guards === null ? next.start : vmStartGap(guards, next);
      if (end <= top) return a;
      // Jump past `next` to the hole above it.
      if (next.end > lo) lo = next.end;
      next = index.next(next);
      c.nodesVisited++;
    }
  }

  /**
   * Top-down: the highest `a ≡ offset (mod modulus)` with
   * `[a − startGap, a + length)` free inside `[low, high)` and
   * `a + length ≤ vmStartGap(next VMA)`; −1 when there is none.
   */
  private walkDown(
    index: VmaIndex,
    guards: Guards,
    length: number,
    low: number,
    high: number,
    startGap: number,
    modulus: number,
    offset: number,
  ): number {
    if (high <= low) return -1;
    const c = this.counters;
    // The hole holding high − 1 lies between `prev` and `next`.
    let next = index.find(high - 1);
    let prev = next === undefined ? index.last() : index.prev(next);
    for (;;) {
      c.gapsExamined++;
      let hi = high;
      if (next !== undefined) {
        const top = guards === null ? next.start : vmStartGap(guards, next);
        if (top < hi) hi = top;
      }
      const lo = prev !== undefined && prev.end > low ? prev.end : low;
      const x = hi - length;
      const a = x - modAlign(x - offset, modulus);
      if (a - startGap >= lo) return a;
      if (prev === undefined) return -1;
      // Every lower hole ends at or below prev.start.
      if (Math.min(high, prev.start) - length - startGap < low) return -1;
      next = prev;
      prev = index.prev(prev);
      c.nodesVisited++;
    }
  }
}
