/** x86-64 address-space constants (4 KiB pages, 47-bit user space by default). */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
export const PAGE_MASK = -PAGE_SIZE; // as a number: use pageDown/pageUp rather than `&` on addresses
export const PMD_SIZE = 2 * 1024 * 1024;
/** DEFAULT_MAP_WINDOW: (1 << 47) − PAGE_SIZE. */
export const TASK_SIZE = 2 ** 47 - PAGE_SIZE;
/** PAGE_ALIGN(TASK_SIZE / 3): the legacy bottom-up mmap base without randomisation. */
export const TASK_UNMAPPED_BASE = pageUp(Math.floor(TASK_SIZE / 3));
/** Default vm.mmap_min_addr. */
export const MMAP_MIN_ADDR = 4096;
/** Default vm.max_map_count: USHRT_MAX − 5. */
export const DEFAULT_MAX_MAP_COUNT = 65530;
/** Default stack_guard_gap: 256 pages. */
export const STACK_GUARD_GAP = 256 * PAGE_SIZE;
/** Default RLIMIT_STACK. */
export const STACK_RLIMIT = 8 * 1024 * 1024;

// Addresses exceed 2^32, so they are never combined with `&`/`|`. Nor with
// `%`: on a number that is not a small integer V8 calls fmod. For a power-of-two
// divisor `x - Math.trunc(x / a) * a` is exactly `x % a` for every finite x:
// the division and the multiplication only move the exponent, and the
// subtraction is exact (Sterbenz). These helpers are on every syscall's path.

/** `x % a` for a power-of-two `a`, without fmod. */
function rem(x: number, a: number): number {
  return x - Math.trunc(x / a) * a;
}
export function pageDown(addr: number): number {
  return addr - rem(addr, PAGE_SIZE);
}
export function pageUp(addr: number): number {
  const r = rem(addr, PAGE_SIZE);
  return r === 0 ? addr : addr + (PAGE_SIZE - r);
}
export function isPageAligned(addr: number): boolean {
  return rem(addr, PAGE_SIZE) === 0;
}
/** `(x + align − 1) & ~(align − 1)` for a power-of-two `align`. */
export function alignUp(x: number, align: number): number {
  const r = rem(x, align);
  return r === 0 ? x : x + (align - r);
}
export function alignDown(x: number, align: number): number {
  return x - rem(x, align);
}
/** `(a − b) & (align − 1)`, i.e. the non-negative remainder, for power-of-two align. */
export function modAlign(x: number, align: number): number {
  const r = rem(x, align);
  return r < 0 ? r + align : r;
}

/**
 * mmap_base of the top-down layout (arch/x86/mm/mmap.c): TASK_SIZE minus the
 * stack rlimit, the maximum stack randomisation (0x3fffff pages) and the guard
 * gap, clamped to [128 MiB, TASK_SIZE/6*5], minus the mmap random offset.
 */
export function defaultMmapBase(
  opts: { taskSize?: number; stackRlimit?: number; stackGuardGap?: number; random?: number } = {},
): number {
  const taskSize = opts.taskSize ?? TASK_SIZE;
  const pad = 0x3fffff * PAGE_SIZE + (opts.stackGuardGap ?? STACK_GUARD_GAP);
  let gap = (opts.stackRlimit ?? STACK_RLIMIT) + pad;
  const gapMin = 128 * 1024 * 1024;
  const gapMax = Math.floor(taskSize / 6) * 5;
  if (gap < gapMin) gap = gapMin;
  else if (gap > gapMax) gap = gapMax;
  return pageUp(taskSize - gap - (opts.random ?? 0));
}
