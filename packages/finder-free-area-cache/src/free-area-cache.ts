/**
 * get_unmapped_area of Linux 2.6.x – 3.8: the linear walk of 2.4 made to
 * start where the previous search ended, with the per-mm `free_area_cache`
 * (Ingo Molnar, 2.5/2.6) and `cached_hole_size` (Wolfgang Wander, 2.6.13),
 * for both layouts (kernel-facts §3.2, §3.3; 2.6.20 mm/mmap.c
 * arch_get_unmapped_area, arch_get_unmapped_area_topdown, arch_unmap_area,
 * arch_unmap_area_topdown).
 *
 * The per-mm state is two numbers, `freeAreaCache` and `cachedHoleSize`, and
 * they mean what the mm's layout (`mm.topDown`) says, as in the kernel, whose
 * `mm->get_unmapped_area` / `mm->unmap_area` pair was picked per layout:
 * - bottom-up: the cache is where the next search starts (the end of the last
 *   mapping placed); the hole size is the largest hole known *below* it. A
 *   request that may fit such a hole (`length ≤ cachedHoleSize`) rescans from
 *   the base instead, re-measuring from 0. A search that started at the cache
 *   and runs off the top restarts once from the base.
 * - top-down: the cache is the address *below which* the next search starts.
 *   One fast try at `[cache − length, cache)`, then a walk down from the top of
 *   the window (mmap_base) hole by hole, remembering the largest hole rejected;
 *   `length ≤ cachedHoleSize` resets the cache to mmap_base first.
 *
 * Why it is shaped this way:
 * - It walks holes, not addresses, exactly like `@vmalab/finder-linear`: the
 *   hole between VMAs `prev` and `next` is `[prev.end, vmStartGap(next))`, so
 *   one check per hole decides whether its lowest (highest) aligned candidate
 *   fits. 2.6 knew no alignment, start gap or stack guard gap; they are
 *   honoured by rounding the candidate inside the hole (up bottom-up, down
 *   top-down) and by ending holes at the guard-gap start of a stack.
 * - The window is the request's: the base is `req.low` (mm passes
 *   TASK_UNMAPPED_BASE = `mm.legacyBase` raised to mmap_min_addr) and the top
 *   `req.high` (TASK_SIZE bottom-up, mmap_base top-down). A cache outside the
 *   window is clamped into it.
 * - Completeness: every −ENOMEM follows a full pass over the window (the
 *   restart from the base bottom-up, the walk from the top top-down), so
 *   −ENOMEM means that nothing fits, as the 2.6 algorithm also guaranteed.
 * - The top-down → bottom-up fallback is mm's second call. The kernel ran the
 *   bottom-up search with the cache set to TASK_UNMAPPED_BASE and the hole
 *   size to ~0, then reset both to (mmap_base, ~0) whatever that search did:
 *   its net effect is the reset. So a failing top-down search resets the state
 *   at once, and a bottom-up request on a top-down mm runs on that temporary
 *   (base, ~0) state and leaves the per-mm state as it found it. (The same
 *   holds for a top-down request on a bottom-up mm, which Linux never made.)
 * - Hole sizes are the holes' own (usable) sizes. Bottom-up that is the
 *   kernel's measure; top-down the kernel measured `vm_start − addr` from the
 *   failed candidate, a lower bound on the free space below the blocking VMA,
 *   while §3.3 speaks of the size of the gap just rejected, which is used.
 * - `fork()` copies the state, as core's contract asks (the conformance suite
 *   checks that a fork answers exactly like its parent). 2.6's dup_mmap
 *   instead started the child at (mmap_base, ~0): its first search rescanned.
 * - `cachedHoleSize: false` is 2.6.12 as Wander measured it: no hole size,
 *   and the unmap hooks used the freed area's own address (`area->vm_start`
 *   bottom-up, `area->vm_end` top-down) — "the free_area_cache also is set to
 *   the location of the last munmap-ed area" (Wander). Later 2.6 (2.6.20)
 *   passes the boundary of the whole hole instead (Ken Chen's coalescing fix
 *   of May 2005, from
 *   detach_vmas_to_be_unmapped: `prev->vm_end` bottom-up, `next->vm_start`
 *   top-down, mmap_base without such a VMA), which `unmapped` works out from
 *   the index because mm calls it after the VMAs are gone.
 *
 * Counting: `placements` per call; `gapsExamined` per candidate tested (each
 * hole of a walk, and the top-down fast try); `nodesVisited` per VMA a walk
 * steps over (the index counts its own lookups into the same counters);
 * `cacheHits` when the first candidate taken from the cache fits (bottom-up:
 * the search started at free_area_cache and its first hole fitted; top-down:
 * the fast try fitted); `cacheMisses` for every other call (a walk past a
 * VMA, a rescan or restart from the base, −ENOMEM). hits + misses = placements.
 */
import {
  type Counters,
  ENOMEM,
  type MmView,
  modAlign,
  PAGE_SIZE,
  type UnmappedAreaFinder,
  type UnmappedAreaRequest,
  vmStartGap,
} from '@vmalab/core';

/** `cached_hole_size = ~0UL`: "unknown", larger than any request. */
export const HOLE_SIZE_UNKNOWN = Number.POSITIVE_INFINITY;

export interface FreeAreaCacheFinderOptions {
  /**
   * Wander's 2.6.13 `cached_hole_size` (and the hole-boundary unmap hooks of later 2.6);
   * false = Molnar's original cache of 2.6.12. Default: true.
   */
  cachedHoleSize?: boolean;
}

/** The per-mm state: mm->free_area_cache and mm->cached_hole_size. */
export interface FreeAreaCacheState {
  /** undefined until the finder first sees its mm. */
  readonly freeAreaCache: number | undefined;
  /** Bytes; `HOLE_SIZE_UNKNOWN` (Infinity) for ~0UL. */
  readonly cachedHoleSize: number;
}

/** The window and shape of one request, normalised once per call. */
interface Shape {
  length: number;
  low: number;
  high: number;
  startGap: number;
  /** start ≡ offset (mod modulus), modulus ≥ PAGE_SIZE. */
  modulus: number;
  offset: number;
}

/** Not yet initialised from an mm (addresses are never negative). */
const UNSET = -1;

export class FreeAreaCacheFinder implements UnmappedAreaFinder {
  readonly name: string = 'free-area-cache';
  /** `cached_hole_size` and the hole-boundary unmap hooks are used (later 2.6), or not (2.6.12). */
  readonly tracksHoles: boolean;
  /** mm->free_area_cache. */
  private cache = UNSET;
  /** mm->cached_hole_size; mm_init starts it at ~0UL. */
  private holeSize = HOLE_SIZE_UNKNOWN;

  constructor(
    readonly counters: Counters,
    options: FreeAreaCacheFinderOptions = {},
  ) {
    this.tracksHoles = options.cachedHoleSize ?? true;
  }

  /** The per-mm state, for tests and inspection. */
  get state(): FreeAreaCacheState {
    return {
      freeAreaCache: this.cache === UNSET ? undefined : this.cache,
      cachedHoleSize: this.holeSize,
    };
  }

  find(mm: MmView, req: UnmappedAreaRequest): number {
    this.counters.placements++;
    this.init(mm);
    const s: Shape = {
      length: req.length,
      low: Math.max(req.low, mm.mmapMinAddr),
      high: req.high,
      startGap: req.startGap,
      modulus: Math.max(req.alignMask + 1, PAGE_SIZE),
      offset: req.alignMask === 0 ? 0 : req.alignOffset,
    };
    if (req.topDown === mm.topDown) {
      return req.topDown ? this.searchDown(mm, s) : this.searchUp(mm, s);
    }
    // The other layout's search (bottom-up: the fallback after a top-down
    // failure) on the kernel's temporary state, whose effects the kernel
    // overwrote afterwards.
    const cache = this.cache;
    const holeSize = this.holeSize;
    this.cache = req.topDown ? mm.mmapBase : mm.legacyBase;
    this.holeSize = HOLE_SIZE_UNKNOWN;
    const a = req.topDown ? this.searchDown(mm, s) : this.searchUp(mm, s);
    this.cache = cache;
    this.holeSize = holeSize;
    return a;
  }

  /**
   * The unmap hook (mm->unmap_area), called after `[start, end)` left the
   * index. Later 2.6: the boundary of the hole that now exists — bottom-up the
   * end of the VMA below it, top-down the start of the VMA above it (the
   * layout's base when there is none). 2.6.12: the freed area's own start /
   * end. When MAP_FIXED replaced mappings, the new VMA already covers
   * `[start, end)` (and may have merged with a neighbour, which then ended /
   * started exactly at the range); the kernel saw the hole before mapping.
   */
  unmapped(mm: MmView, start: number, end: number): void {
    this.init(mm);
    const index = mm.index;
    if (mm.topDown) {
      // arch_unmap_area_topdown: a new hole above the cache moves it up.
      let addr = end;
      if (this.tracksHoles) {
        const next = index.find(end);
        addr = next === undefined ? mm.mmapBase : next.start < end ? end : next.start;
      }
      if (addr > this.cache) this.cache = addr;
      // Never allocate above the base.
      if (this.cache > mm.mmapBase) this.cache = mm.mmapBase;
      return;
    }
    // arch_unmap_area: a new hole at or above the base, below the cache,
    // moves the cache down to it and makes the hole size unknown (~0), so the
    // next request of any size rescans from the base.
    let addr = start;
    if (this.tracksHoles) {
      const v = index.find(start);
      if (v !== undefined && v.start < start) {
        addr = start;
      } else {
        const prev = v === undefined ? index.last() : index.prev(v);
        addr = prev === undefined ? mm.legacyBase : prev.end;
      }
    }
    if (addr >= mm.legacyBase && addr < this.cache) {
      this.cache = addr;
      if (this.tracksHoles) this.holeSize = HOLE_SIZE_UNKNOWN;
    }
  }

  /** A child's finder with a copy of this per-mm state. */
  fork(): FreeAreaCacheFinder {
    const f = new FreeAreaCacheFinder(this.counters, { cachedHoleSize: this.tracksHoles });
    f.cache = this.cache;
    f.holeSize = this.holeSize;
    return f;
  }

  /** The layout's starting cache: mmap_base top-down, TASK_UNMAPPED_BASE bottom-up. */
  private init(mm: MmView): void {
    if (this.cache === UNSET) this.cache = mm.topDown ? mm.mmapBase : mm.legacyBase;
  }

  /** arch_get_unmapped_area (§3.2) after the hint: returns an address or −ENOMEM. */
  private searchUp(mm: MmView, s: Shape): number {
    const c = this.counters;
    // A hole below the cache may fit: rescan from the base and re-measure.
    const fromCache = !this.tracksHoles || s.length > this.holeSize;
    if (!fromCache) this.holeSize = 0;
    const start = fromCache && this.cache > s.low ? this.cache : s.low;
    const examined = c.gapsExamined;
    let a = this.walkUp(mm, s, start);
    let first = c.gapsExamined - examined === 1;
    if (a < 0 && start > s.low) {
      // Ran off the top: search once more from the base, in case holes were missed.
      if (this.tracksHoles) this.holeSize = 0;
      a = this.walkUp(mm, s, s.low);
      first = false;
    }
    if (fromCache && first && a >= 0) c.cacheHits++;
    else c.cacheMisses++;
    if (a < 0) return -ENOMEM;
    this.cache = a + s.length;
    return a;
  }

  /**
   * First fit upwards from `from`: the lowest candidate ≥ `from` whose
   * `[a − startGap, a + length)` is free, inside the window and below the
   * guard gap of the VMA above; −1 when none. Records each hole passed over
   * in the hole size (the largest hole below where the search ends).
   */
  private walkUp(mm: MmView, s: Shape, from: number): number {
    const c = this.counters;
    const index = mm.index;
    // The current hole is [lo, top of hole); `next` is the VMA above it (the
    // one holding `lo` when `lo` lies inside a VMA: the hole is then empty).
    let lo = from;
    let next = index.find(lo);
    for (;;) {
      c.gapsExamined++;
      const x = lo + s.startGap;
      const a = x + modAlign(s.offset - x, s.modulus);
      const end = a + s.length;
      // Later holes start higher, so their candidates end higher still.
      if (end > s.high) return -1;
      if (next === undefined) return a;
      const top = vmStartGap(mm, next);
      if (end <= top) return a;
      if (this.tracksHoles && top - lo > this.holeSize) this.holeSize = top - lo;
      if (next.end > lo) lo = next.end;
      next = index.next(next);
      c.nodesVisited++;
    }
  }

  /** arch_get_unmapped_area_topdown (§3.3) after the hint: an address or −ENOMEM. */
  private searchDown(mm: MmView, s: Shape): number {
    const c = this.counters;
    // A hole above the cache may fit: try again from mmap_base.
    if (this.tracksHoles && s.length <= this.holeSize) {
      this.holeSize = 0;
      this.cache = mm.mmapBase;
    }
    // Fast try: the range that ends at the cache.
    c.gapsExamined++;
    const x = Math.min(this.cache, s.high) - s.length;
    const fast = x - modAlign(x - s.offset, s.modulus);
    if (fast - s.startGap >= s.low && this.isFree(mm, fast - s.startGap, fast + s.length)) {
      c.cacheHits++;
      this.cache = fast;
      return fast;
    }
    c.cacheMisses++;
    const a = this.walkDown(mm, s);
    if (a >= 0) {
      this.cache = a;
      return a;
    }
    // Nothing fits: the kernel falls back to bottom-up (mm's next call) and
    // then leaves the cache at mmap_base with the hole size unknown.
    this.cache = mm.mmapBase;
    this.holeSize = HOLE_SIZE_UNKNOWN;
    return -ENOMEM;
  }

  /** `[from, to)` holds no VMA and ends at or below the guard gap of the VMA above. */
  private isFree(mm: MmView, from: number, to: number): boolean {
    const v = mm.index.find(from);
    return v === undefined || to <= vmStartGap(mm, v);
  }

  /**
   * First fit downwards from the top of the window: the highest candidate
   * whose `[a − startGap, a + length)` is free, inside the window and below
   * the guard gap of the VMA above; −1 when none. Records each hole rejected.
   */
  private walkDown(mm: MmView, s: Shape): number {
    const { low, high, length, startGap } = s;
    if (high <= low) return -1;
    const c = this.counters;
    const index = mm.index;
    // The hole holding high − 1 lies between `prev` and `next`.
    let next = index.find(high - 1);
    let prev = next === undefined ? index.last() : index.prev(next);
    for (;;) {
      c.gapsExamined++;
      let hi = high;
      if (next !== undefined) {
        const top = vmStartGap(mm, next);
        if (top < hi) hi = top;
      }
      const lo = prev !== undefined && prev.end > low ? prev.end : low;
      const x = hi - length;
      const a = x - modAlign(x - s.offset, s.modulus);
      if (a - startGap >= lo) return a;
      // Remember the largest hole rejected (above where the search ends).
      if (this.tracksHoles && hi - lo > this.holeSize) this.holeSize = hi - lo;
      if (prev === undefined) return -1;
      // Every lower hole ends at or below prev.start.
      if (Math.min(high, prev.start) - length - startGap < low) return -1;
      next = prev;
      prev = index.prev(prev);
      c.nodesVisited++;
    }
  }
}
