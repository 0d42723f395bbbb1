/**
 * process_madvise(2) pieces that do not need the address space: the iovec
 * import and the lock mode per advice (kernel-facts §7).
 *
 * Locking, option `madviseLocking` of the address space:
 * - `per-call` (before 6.15): each element is a full madvise — validate,
 *   take mmap_lock (write for flag-changing advice, read otherwise),
 *   walk, release — so a vector of n ranges costs n round trips;
 * - `batched` (6.15+, SeongJae Park's series): the lock is taken once for
 *   the whole vector, in the mode `get_lock_mode` gives for the one advice;
 *   each element is validated and executed under it.
 */
import {
  EFAULT,
  EINVAL,
  MADV_COLD,
  MADV_DONTNEED,
  MADV_DONTNEED_LOCKED,
  MADV_FREE,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
  MADV_REMOVE,
  MADV_WILLNEED,
} from '@vmalab/core';

/** One `struct iovec`: `iov_base`, `iov_len`. */
export interface Iovec {
  base: number;
  len: number;
}

/** UIO_MAXIOV: the most elements a vector may have. */
export const UIO_MAXIOV = 1024;
/** MAX_RW_COUNT (INT_MAX & PAGE_MASK): the vector's total length is truncated to it. */
export const MAX_RW_COUNT = 0x7ffff000;

/** MADV_COLLAPSE, MADV_GUARD_*, MADV_HWPOISON, MADV_SOFT_OFFLINE (not in core's advice list). */
export const MADV_COLLAPSE = 25;
export const MADV_GUARD_INSTALL = 102;
export const MADV_GUARD_REMOVE = 103;
export const MADV_HWPOISON = 100;
export const MADV_SOFT_OFFLINE = 101;

export type MadviseLocking = 'per-call' | 'batched';
export type MadviseLockMode = 'none' | 'read' | 'write';

/**
 * get_lock_mode (6.18, §7.1): memory-failure advice takes no lock; the
 * page-level advice takes mmap_lock for reading; everything else — every
 * flag-changing advice, and any unknown value — for writing. DONTNEED,
 * DONTNEED_LOCKED and FREE use a per-VMA read lock for a single range of the
 * caller's own mm; a vector takes mmap_lock for reading (the fallback).
 */
export function madviseLockMode(advice: number): MadviseLockMode {
  switch (advice) {
    case MADV_HWPOISON:
    case MADV_SOFT_OFFLINE:
      return 'none';
    case MADV_REMOVE:
    case MADV_WILLNEED:
    case MADV_COLD:
    case MADV_PAGEOUT:
    case MADV_POPULATE_READ:
    case MADV_POPULATE_WRITE:
    case MADV_COLLAPSE:
    case MADV_GUARD_INSTALL:
    case MADV_GUARD_REMOVE:
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
    case MADV_FREE:
      return 'read';
    default:
      return 'write';
  }
}

/**
 * import_iovec: more than UIO_MAXIOV elements or a negative length → EINVAL;
 * an element outside user space (access_ok: base + len > TASK_SIZE) →
 * EFAULT; the total is capped at MAX_RW_COUNT by shortening the element that
 * crosses it (later ones become empty). Nothing is advised on failure.
 */
export function importIovec(iov: readonly Iovec[], taskSize: number): Iovec[] | number {
  if (iov.length > UIO_MAXIOV) return -EINVAL;
  for (const { len } of iov) {
    if (!Number.isSafeInteger(len) || len < 0) return -EINVAL;
  }
  const out: Iovec[] = [];
  let total = 0;
  for (const { base, len } of iov) {
    if (!Number.isSafeInteger(base) || base < 0 || base + len > taskSize) return -EFAULT;
    const l = Math.min(len, MAX_RW_COUNT - total);
    total += l;
    out.push({ base, len: l });
  }
  return out;
}
