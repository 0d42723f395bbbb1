/**
 * unlink_file_vma, one VMA at a time: for every file-backed VMA of the
 * teardown walk, take its file's `i_mmap_rwsem` for write, remove the VMA
 * from the file's i_mmap, release the lock. Anonymous VMAs have no i_mmap
 * and are skipped.
 *
 * This is what `free_pgtables` did until Linux 6.11 (and what the kernel
 * still does for single-VMA removals): an ELF object mapped as five VMAs of
 * one file costs five lock round trips, and concurrent `execve`/exit of the
 * same binaries contend on libc's and ld.so's `i_mmap_rwsem`. The batched
 * locker (`@vmalab/rmap-batched`) is the fix; this package is the baseline.
 *
 * Counting: `counters.rmapBatch(1)` per file VMA, so `iMmapLockWrite` equals
 * the number of file VMAs and `rmapBatchHistogram[1]` holds all of them.
 */
import type { Counters, RmapLocker, Vma } from '@vmalab/core';

export class UnbatchedRmapLocker implements RmapLocker {
  readonly name: string = 'unbatched';

  constructor(readonly counters: Counters) {}

  unlink(vmas: Iterable<Vma>): void {
    for (const vma of vmas) {
      const file = vma.file;
      if (file === null) continue;
      const sem = file.iMmapRwsem;
      sem.downWrite();
      file.iMmap.delete(vma);
      sem.upWrite();
      this.counters.rmapBatch(1);
    }
  }
}
