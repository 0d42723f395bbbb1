/**
 * Exact, deterministic cost counters. Strategies increment the fields that
 * describe their own work; the address space increments the VMA-level ones.
 * The same seed gives the same counts on any machine, so tests assert on them
 * and benchmarks report them beside wall time.
 *
 * Plain numeric fields on one object (one hidden class): counting is an
 * integer increment on the hot path.
 */
export class Counters {
  // --- data-structure work (indexes, finders)
  /** Tree/list nodes visited by lookups, walks and updates. */
  nodesVisited = 0;
  /** Nodes allocated / freed by an index. */
  nodesAllocated = 0;
  nodesFreed = 0;
  /** Slots or entries scanned inside nodes (B-tree slots, list cells). */
  slotsScanned = 0;
  /** Key comparisons. */
  comparisons = 0;
  /** Tree rotations. */
  rotations = 0;
  /** Augmented values (subtree gaps) recomputed. */
  gapUpdates = 0;
  /** find_vma caches (mmap_cache, vmacache). */
  cacheHits = 0;
  cacheMisses = 0;
  /** Candidate holes examined by an unmapped-area finder. */
  gapsExamined = 0;
  /** get_unmapped_area searches. */
  placements = 0;

  // --- VMA-level work (the address space)
  vmaAllocated = 0;
  vmaFreed = 0;
  merges = 0;
  splits = 0;

  // --- locks
  /** mmap_lock acquisitions. */
  mmapLockRead = 0;
  mmapLockWrite = 0;
  /** i_mmap_rwsem write acquisitions (rmap lockers, file VMA link/unlink). */
  iMmapLockWrite = 0;
  /**
   * Histogram of VMAs unlinked per i_mmap acquisition by an RmapLocker:
   * `rmapBatchHistogram[n]` = acquisitions that covered n VMAs.
   */
  rmapBatchHistogram: number[] = [];

  /** Strategy-specific counters (e.g. maple store types), by name. */
  readonly custom = new Map<string, number>();

  bump(name: string, by = 1): void {
    this.custom.set(name, (this.custom.get(name) ?? 0) + by);
  }

  /** Records one rmap lock round trip that covered `n` VMAs. */
  rmapBatch(n: number): void {
    this.iMmapLockWrite++;
    const h = this.rmapBatchHistogram;
    while (h.length <= n) h.push(0);
    h[n] = (h[n] ?? 0) + 1;
  }

  reset(): void {
    Object.assign(this, new Counters(), { custom: this.custom });
    this.custom.clear();
  }

  /** A plain-object copy: numeric fields, the histogram and custom counters. */
  snapshot(): CountersSnapshot {
    const out: Record<string, number | number[]> = {};
    for (const [k, v] of Object.entries(this)) {
      if (typeof v === 'number') out[k] = v;
    }
    out.rmapBatchHistogram = [...this.rmapBatchHistogram];
    for (const [k, v] of this.custom) out[k] = v;
    return out as CountersSnapshot;
  }

  /** `after − before`, field by field. */
  static diff(after: CountersSnapshot, before: CountersSnapshot): CountersSnapshot {
    const out: Record<string, number | number[]> = {};
    for (const [k, v] of Object.entries(after)) {
      const b = before[k];
      if (typeof v === 'number') out[k] = v - (typeof b === 'number' ? b : 0);
      else out[k] = v.map((x, i) => x - (Array.isArray(b) ? (b[i] ?? 0) : 0));
    }
    return out as CountersSnapshot;
  }
}

export type CountersSnapshot = Record<string, number | number[]>;
