/**
 * free_pgtables (mm/memory.c, 6.x; kernel-facts §6.3): after the pages of a
 * teardown were unmapped, walk the VMAs in address order and free their page
 * tables. Neighbours whose start lies within one PMD (2 MiB) of the previous
 * VMA's end may share a page-table page, so they are gathered into one group
 * and their tables freed with one free_pgd_range. While gathering, each
 * VMA's file rmap is detached through the unlink batch — which is finalized
 * at the end of the group, so a batch never spans two groups.
 *
 * Here a group is one `RmapLocker.unlink(group)` call: the batched locker
 * (6.11+) takes one i_mmap lock per run of ≤ 8 same-file VMAs inside it, the
 * unbatched one one per file VMA. munmap, exit and exec all tear down
 * through this function; fork's failure path tears the partial child down
 * through it too.
 *
 * Hugetlb VMAs are never gathered: each is its own group, unlinked alone
 * (the pre-2025 special case; vmalab maps no hugetlb files today).
 */
import { PMD_SIZE, type RmapLocker, VM_HUGETLB, type Vma } from '@vmalab/core';

/** What one free_pgtables walk did. */
export interface FreePgtablesResult {
  /** VMAs walked. */
  vmas: number;
  /** PMD-gathering groups (free_pgd_range calls); each is one unlink batch lifetime. */
  groups: number;
}

/**
 * Splits address-ordered VMAs into free_pgtables groups: a VMA joins the
 * current group when `vma.start ≤ previous.end + PMD_SIZE` and neither is
 * hugetlb. Throws if the VMAs are not in address order.
 */
export function pgtableGroups(vmas: Iterable<Vma>): Vma[][] {
  const groups: Vma[][] = [];
  let group: Vma[] = [];
  let prev: Vma | undefined;
  for (const v of vmas) {
    if (prev && !joinsGroup(prev, v)) {
      groups.push(group);
      group = [];
    }
    group.push(v);
    prev = v;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/** Does `v` (after `prev`) share prev's free_pgtables group? Throws if out of order. */
function joinsGroup(prev: Vma, v: Vma): boolean {
  if (v.start < prev.end) {
    throw new Error(`free_pgtables: ${v} is not after ${prev} (VMAs out of address order)`);
  }
  return v.start <= prev.end + PMD_SIZE && !(v.flags & VM_HUGETLB) && !(prev.flags & VM_HUGETLB);
}

/** Is an address-ordered array one group (the common munmap)? Then it is unlinked as it is. */
function oneGroup(vmas: readonly Vma[]): boolean {
  for (let i = 1; i < vmas.length; i++)
    if (!joinsGroup(vmas[i - 1] as Vma, vmas[i] as Vma)) return false;
  return true;
}

/**
 * free_pgtables over `vmas` (address order): one `rmap.unlink` per group.
 * Anonymous VMAs go to the locker too (it skips them without flushing, as
 * unlink_file_vma_batch_add does).
 */
export function freePgtables(vmas: Iterable<Vma>, rmap: RmapLocker): FreePgtablesResult {
  if (Array.isArray(vmas) && vmas.length > 0 && oneGroup(vmas)) {
    rmap.unlink(vmas);
    return { vmas: vmas.length, groups: 1 };
  }
  const groups = pgtableGroups(vmas);
  let n = 0;
  for (const g of groups) {
    rmap.unlink(g);
    n += g.length;
  }
  return { vmas: n, groups: groups.length };
}
