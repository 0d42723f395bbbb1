/**
 * unlink_file_vma_batch (Mateusz Guzik, Linux 6.11; kernel-facts §6.4): the
 * teardown walk hands VMAs to a small batch instead of locking per VMA.
 *
 * - `add(vma)`: an anonymous VMA is skipped and does not flush. If the batch
 *   is non-empty and either full (8 VMAs) or of another file than `vma`, it
 *   is flushed first; then `vma` is appended.
 * - flush: take the first VMA's `i_mmap_rwsem` for write once, remove every
 *   batched VMA from the file's i_mmap, release, empty the batch.
 * - `final()`: flush what is left.
 *
 * One `unlink(vmas)` call is one batch lifetime (`_init` … `_final`):
 * free_pgtables calls it once per PMD-gathering group, so a batch never
 * spans two groups. An ELF object mapped as five consecutive VMAs of one
 * file costs one round trip instead of five.
 *
 * Counting: `counters.rmapBatch(n)` per flush of n VMAs, so
 * `iMmapLockWrite` is the number of round trips and `rmapBatchHistogram`
 * the distribution the patch measured with bpftrace.
 *
 * The batch is a preallocated dense array reused across calls (the kernel's
 * is on the stack): no allocation per unlink.
 */
import type { Counters, RmapLocker, Vma } from '@vmalab/core';

/** The kernel's batch size: `struct unlink_vma_file_batch { int count; struct vm_area_struct *vmas[8]; }`. */
export const UNLINK_BATCH_SIZE = 8;

export interface BatchedRmapLockerOptions {
  /** VMAs per batch. Default 8 (the kernel's). */
  batchSize?: number;
}

export class BatchedRmapLocker implements RmapLocker {
  readonly name: string = 'batched';
  readonly batchSize: number;
  private readonly vmas: Vma[];
  private count = 0;

  constructor(
    readonly counters: Counters,
    options: Readonly<BatchedRmapLockerOptions> = {},
  ) {
    const size = options.batchSize ?? UNLINK_BATCH_SIZE;
    if (!Number.isInteger(size) || size < 1) {
      throw new Error(`rmap batched: batchSize must be a positive integer, got ${size}`);
    }
    this.batchSize = size;
    this.vmas = [];
  }

  unlink(vmas: Iterable<Vma>): void {
    this.count = 0; // unlink_file_vma_batch_init
    try {
      for (const vma of vmas) this.add(vma);
      this.flush(); // unlink_file_vma_batch_final
    } finally {
      // Drop references even if the caller's iterator threw.
      this.vmas.length = 0;
      this.count = 0;
    }
  }

  /** unlink_file_vma_batch_add. */
  private add(vma: Vma): void {
    const file = vma.file;
    if (file === null) return;
    if (this.count > 0 && (this.count === this.batchSize || this.vmas[0]?.file !== file)) {
      this.flush();
    }
    this.vmas[this.count++] = vma;
  }

  /** unlink_file_vma_batch_process: one lock round trip for the whole batch. */
  private flush(): void {
    const n = this.count;
    if (n === 0) return;
    const file = (this.vmas[0] as Vma).file;
    if (file === null) throw new Error('rmap batched: an anonymous VMA in the batch');
    const sem = file.iMmapRwsem;
    sem.downWrite();
    for (let i = 0; i < n; i++) file.iMmap.delete(this.vmas[i] as Vma);
    sem.upWrite();
    this.counters.rmapBatch(n);
    this.count = 0;
  }
}

/**
 * The acquisitions the batched locker needs for one `unlink(vmas)` call —
 * a reference model for tests: one per maximal run (≤ `batchSize`) of
 * same-file VMAs, anonymous ones skipped. Returns the batch sizes in order.
 */
export function batchRuns(vmas: Iterable<Vma>, batchSize = UNLINK_BATCH_SIZE): number[] {
  const runs: number[] = [];
  let file: unknown = null;
  let n = 0;
  for (const v of vmas) {
    if (v.file === null) continue;
    if (n > 0 && (n === batchSize || v.file !== file)) {
      runs.push(n);
      n = 0;
    }
    if (n === 0) file = v.file;
    n++;
  }
  if (n > 0) runs.push(n);
  return runs;
}
