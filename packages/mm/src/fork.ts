/**
 * dup_mmap (kernel-facts §1.12, §6.2): the per-VMA work of fork. The index
 * copies its own structure (`VmaIndex.dup`: the maple tree's `__mt_dup`, or
 * one insert per VMA) and calls back here for each VMA in address order:
 *
 * - `VM_DONTCOPY` → dropped (the child's tree gets a NULL over its range);
 * - otherwise vm_area_dup (an allocation that can fail), the copy loses
 *   `VM_LOCKED`/`VM_LOCKONFAULT` (mlock is not inherited), and
 *   - `VM_WIPEONFORK`: no anon_vma (a clean slate: no pages copied),
 *   - else, if the parent has an anon_vma, anon_vma_fork (another allocation
 *     that can fail): the child gets a new anon_vma chained to the parent's,
 *     so its chain is not singular (`anonForked`);
 * - map_count++; a file VMA is linked into its file's i_mmap right after the
 *   parent's, under one i_mmap write lock **per VMA** (not batched, as in
 *   Linux).
 *
 * On failure the kernel stores XA_ZERO_ENTRY over the failed VMA's range and
 * the child's exit_mmap stops there, never touching the parent's VMAs that
 * the __mt_dup copy still points at beyond it. Here the equivalent: the
 * copies made so far are recorded in order, the index discards the partial
 * tree (its `dup` contract), and the address space tears the recorded copies
 * down through free_pgtables — so they leave every file's i_mmap again.
 */
import {
  AnonVma,
  type Counters,
  VM_DONTCOPY,
  VM_LOCKED_MASK,
  VM_WIPEONFORK,
  type Vma,
} from '@vmalab/core';

/**
 * The anon_vma a forked child VMA gets (anon_vma_fork): a new one whose
 * parent is the parent VMA's and whose root is the root of that chain.
 */
export class ForkedAnonVma extends AnonVma {
  readonly root: AnonVma;
  constructor(readonly parent: AnonVma) {
    super();
    this.root = parent instanceof ForkedAnonVma ? parent.root : parent;
  }
}

/** An allocation of dup_mmap that can fail (GFP_KERNEL, injected). */
export type ForkAllocation = 'vm_area_dup' | 'anon_vma_fork';

export interface ForkOptions {
  /**
   * Fault injection: the allocation with this number (0-based, counted over
   * the walk: vm_area_dup for every copied VMA, then anon_vma_fork for each
   * that has an anon_vma and is not VM_WIPEONFORK) fails with ENOMEM.
   * Default: none fails. The index's own allocations (maple nodes) fail
   * through its own hook, e.g. `MapleVmaIndex.failDupAfter(n)`.
   */
  failAllocation?: number;
}

/** Thrown inside the dup walk when an injected allocation fails. */
export class ForkAllocationError extends Error {
  constructor(
    readonly allocation: ForkAllocation,
    readonly vma: Vma,
    readonly position: number,
  ) {
    super(`dup_mmap: ENOMEM in ${allocation} for ${vma} (allocation ${position})`);
    this.name = 'ForkAllocationError';
  }
}

/**
 * An allocation failure: the injected one, or an index reporting ENOMEM
 * from its own node allocation (maple: `maple: dup: ENOMEM …`).
 */
export function isAllocationFailure(e: unknown): boolean {
  return e instanceof ForkAllocationError || (e instanceof Error && /\bENOMEM\b/.test(e.message));
}

/** The per-VMA copy step of one dup_mmap, with the copies it made so far. */
export class DupMmap {
  /** The child VMAs created so far, in address order (linked into i_mmap). */
  readonly copied: Vma[] = [];
  private allocations = 0;

  constructor(
    private readonly counters: Counters,
    private readonly options: Readonly<ForkOptions> = {},
  ) {}

  private allocate(what: ForkAllocation, vma: Vma): void {
    const n = this.allocations++;
    if (n === this.options.failAllocation) throw new ForkAllocationError(what, vma, n);
  }

  /** The `copy` callback of `VmaIndex.dup`. */
  readonly copy = (parent: Vma): Vma | null => {
    if (parent.flags & VM_DONTCOPY) return null;
    this.allocate('vm_area_dup', parent);
    const child = parent.clone();
    if (child.flags & VM_WIPEONFORK) {
      child.anonVma = null;
      child.anonForked = false;
    } else if (parent.anonVma) {
      this.allocate('anon_vma_fork', parent);
      child.anonVma = new ForkedAnonVma(parent.anonVma);
      child.anonForked = true;
    }
    child.flags &= ~VM_LOCKED_MASK;
    this.counters.vmaAllocated++;
    const file = child.file;
    if (file) {
      // One i_mmap write lock per file VMA (vma_interval_tree_insert_after).
      file.iMmapRwsem.downWrite();
      file.iMmap.add(child);
      file.iMmapRwsem.upWrite();
      this.counters.iMmapLockWrite++;
    }
    this.copied.push(child);
    return child;
  };
}
