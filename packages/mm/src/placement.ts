/**
 * get_unmapped_area as x86-64 Linux 6.18 does it (mm/mmap.c
 * __get_unmapped_area, arch/x86/kernel/sys_x86_64.c, mm/huge_memory.c):
 * the parts common to every era live here — MAP_FIXED, hints, THP padding,
 * the top-down → bottom-up fallback — and the search itself
 * (vm_unmapped_area) is the pluggable UnmappedAreaFinder.
 */
import {
  EINVAL,
  ENOMEM,
  hex,
  isPageAligned,
  MAP_FIXED,
  MAP_SHARED,
  type MappedFile,
  type MmView,
  modAlign,
  PAGE_SIZE,
  PMD_SIZE,
  pageDown,
  pageUp,
  type UnmappedAreaFinder,
  type UnmappedAreaRequest,
  VM_SHADOW_STACK,
  vmStartGap,
} from '@vmalab/core';

export interface PlacementContext extends MmView {
  readonly finder: UnmappedAreaFinder;
  /** Transparent huge pages compiled in (THP alignment of anonymous mappings). */
  readonly thp: boolean;
  /** Re-check every finder answer against the index and throw naming the finder. */
  readonly verify: boolean;
  readonly counters: { placements: number };
}

/** The finder call plus, in verify mode, a full check of its answer. */
function unmappedArea(mm: PlacementContext, req: UnmappedAreaRequest): number {
  const r = req.low >= mm.mmapMinAddr ? req : { ...req, low: mm.mmapMinAddr };
  mm.counters.placements++;
  const addr = mm.finder.find(mm, r);
  if (mm.verify && addr >= 0) checkAnswer(mm, r, addr);
  return addr;
}

function checkAnswer(mm: PlacementContext, req: UnmappedAreaRequest, addr: number): void {
  const fail = (why: string): never => {
    throw new Error(
      `finder '${mm.finder.name}' returned ${hex(addr)} for length ${hex(req.length)} in [${hex(req.low)}, ${hex(req.high)}) ${req.topDown ? 'top-down' : 'bottom-up'}: ${why}`,
    );
  };
  if (!isPageAligned(addr)) fail('not page aligned');
  if (addr - req.startGap < req.low || addr + req.length > req.high) fail('outside the window');
  if (req.alignMask && modAlign(addr - req.alignOffset, req.alignMask + 1) !== 0)
    fail('misaligned');
  const next = mm.index.find(addr - req.startGap);
  if (next && next.start < addr + req.length) fail(`overlaps ${next}`);
  if (next && vmStartGap(mm, next) < addr + req.length) fail(`inside the guard gap of ${next}`);
}

/** A hint is used when [a, a + len) ends below `end` and below the next VMA's guard gap. */
function hintFits(mm: PlacementContext, a: number, len: number, end: number): boolean {
  if (end - len < a) return false;
  const v = mm.index.find(a);
  return !v || a + len <= vmStartGap(mm, v);
}

/** vm_unmapped_area_info for a window of the layout. */
function searchIn(
  mm: PlacementContext,
  file: MappedFile | null,
  len: number,
  pgoff: number,
  vmFlags: number,
  low: number,
  high: number,
  topDown: boolean,
): number {
  return unmappedArea(mm, {
    length: len,
    low,
    high,
    alignMask: 0,
    alignOffset: file ? pgoff * PAGE_SIZE : 0,
    startGap: vmFlags & VM_SHADOW_STACK ? PAGE_SIZE : 0,
    topDown,
  });
}

/** x86 arch_get_unmapped_area (bottom-up, legacy layout and top-down fallback). */
function bottomUp(
  mm: PlacementContext,
  file: MappedFile | null,
  addr: number,
  len: number,
  pgoff: number,
  flags: number,
  vmFlags: number,
): number {
  if (flags & MAP_FIXED) return addr;
  if (len > mm.taskSize) return -ENOMEM;
  if (addr && hintFits(mm, pageUp(addr), len, mm.taskSize)) return pageUp(addr);
  return searchIn(mm, file, len, pgoff, vmFlags, mm.legacyBase, mm.taskSize, false);
}

/** x86 arch_get_unmapped_area_topdown. */
function topDown(
  mm: PlacementContext,
  file: MappedFile | null,
  addr: number,
  len: number,
  pgoff: number,
  flags: number,
  vmFlags: number,
): number {
  if (len > mm.taskSize) return -ENOMEM;
  if (flags & MAP_FIXED) return addr;
  // mmap_address_hint_valid: the hint fits below TASK_SIZE (one window; no 5-level paging).
  if (addr && hintFits(mm, pageDown(addr), len, mm.taskSize)) return pageDown(addr);
  const found = searchIn(mm, file, len, pgoff, vmFlags, PAGE_SIZE, mm.mmapBase, true);
  if (found >= 0) return found;
  // A failed mmap very likely kills the program: fall back to bottom-up.
  return bottomUp(mm, file, pageDown(addr), len, pgoff, flags, vmFlags);
}

/** mm_get_unmapped_area_vmflags: the layout's allocator. */
function layoutArea(
  mm: PlacementContext,
  file: MappedFile | null,
  addr: number,
  len: number,
  pgoff: number,
  flags: number,
  vmFlags: number,
): number {
  return mm.topDown
    ? topDown(mm, file, addr, len, pgoff, flags, vmFlags)
    : bottomUp(mm, file, addr, len, pgoff, flags, vmFlags);
}

/**
 * __thp_get_unmapped_area: search `len + 2 MiB`, then move the start to the
 * first address ≡ file offset (mod 2 MiB) — or, top-down when the padded
 * area is already aligned, to the upper slot so the mapping stays adjacent to
 * the one above. 0 when not applicable or when the padded search failed.
 */
function thpArea(
  mm: PlacementContext,
  file: MappedFile | null,
  addr: number,
  len: number,
  pgoff: number,
  flags: number,
  vmFlags: number,
): number {
  const off = pgoff * PAGE_SIZE;
  const offEnd = off + len;
  const offAlign = Math.ceil(off / PMD_SIZE) * PMD_SIZE;
  if (offEnd <= offAlign || offEnd - offAlign < PMD_SIZE) return 0;
  const lenPad = len + PMD_SIZE;
  const ret = layoutArea(mm, file, addr, lenPad, pgoff, flags, vmFlags);
  if (ret < 0) return 0;
  if (ret === addr) return addr;
  const offSub = modAlign(off - ret, PMD_SIZE);
  if (mm.topDown && offSub === 0) return ret + PMD_SIZE;
  return ret + offSub;
}

/**
 * __get_unmapped_area. `file` is the mapping's file (null for anonymous
 * memory, including a new MAP_SHARED anonymous mapping, whose shmem object
 * does not exist yet). Returns an address or −errno.
 */
export function getUnmappedArea(
  mm: PlacementContext,
  file: MappedFile | null,
  addr: number,
  len: number,
  pgoff: number,
  flags: number,
  vmFlags: number,
): number {
  if (len > mm.taskSize) return -ENOMEM;
  let res: number;
  if (file?.options.thpAlign) {
    // thp_get_unmapped_area (ext4 and other THP-capable filesystems).
    res = thpArea(mm, file, addr, len, pgoff, flags, vmFlags);
    if (res === 0) res = layoutArea(mm, file, addr, len, pgoff, flags, vmFlags);
  } else if (!file && !(flags & MAP_SHARED) && mm.thp && !addr && modAlign(len, PMD_SIZE) === 0) {
    // Anonymous private mappings of whole PMDs are THP aligned (6.7+, 6.12 rule).
    res = thpArea(mm, null, 0, len, 0, flags, vmFlags);
    if (res === 0) res = layoutArea(mm, null, 0, len, 0, flags, vmFlags);
  } else {
    // Plain search; shmem objects (shared anonymous memory) are only aligned
    // when shmem THP is enabled, which the default 'never' is not.
    res = layoutArea(mm, file, addr, len, file ? pgoff : 0, flags, vmFlags);
  }
  if (res < 0) return res;
  if (res > mm.taskSize - len) return -ENOMEM;
  if (!isPageAligned(res)) return -EINVAL;
  return res;
}
