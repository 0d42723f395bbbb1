/**
 * An address space with Linux 6.18 semantics over pluggable strategies: one
 * VmaIndex, one UnmappedAreaFinder, one RmapLocker. System calls return the
 * kernel's result: a non-negative value or −errno, and every failed call
 * leaves the address space valid — unchanged except where Linux itself keeps
 * partial effects (documented on each call).
 *
 * Specification: kernel-facts.md §5 (merge, split, limits), §7 (madvise), §8
 * (layout, guard gaps, THP), §11 (what the 6.18 kernel was observed to do).
 */
import {
  Counters,
  DEFAULT_MAX_MAP_COUNT,
  defaultMmapBase,
  EACCES,
  EAGAIN,
  EEXIST,
  EFAULT,
  EINVAL,
  ENODEV,
  ENOMEM,
  EOPNOTSUPP,
  EPERM,
  hex,
  isPageAligned,
  MADV_COLD,
  MADV_DODUMP,
  MADV_DOFORK,
  MADV_DONTDUMP,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_DONTNEED_LOCKED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_KEEPONFORK,
  MADV_MERGEABLE,
  MADV_NOHUGEPAGE,
  MADV_NORMAL,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
  MADV_RANDOM,
  MADV_REMOVE,
  MADV_SEQUENTIAL,
  MADV_UNMERGEABLE,
  MADV_WILLNEED,
  MADV_WIPEONFORK,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_LOCKED,
  MAP_NONBLOCK,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_SHARED_VALIDATE,
  MAP_STACK,
  MAP_SYNC,
  MAP_TYPE,
  MappedFile,
  MLOCK_ONFAULT,
  MMAP_MIN_ADDR,
  type MmView,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PAGE_SIZE,
  PROT_EXEC,
  PROT_GROWSDOWN,
  PROT_GROWSUP,
  PROT_READ,
  PROT_WRITE,
  pageDown,
  pageUp,
  type RmapLocker,
  RwSem,
  STACK_GUARD_GAP,
  STACK_RLIMIT,
  TASK_SIZE,
  TASK_UNMAPPED_BASE,
  type UnmappedAreaFinder,
  VM_ACCESS_FLAGS,
  VM_ACCOUNT,
  VM_DONTCOPY,
  VM_DONTDUMP,
  VM_DONTEXPAND,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_HUGEPAGE,
  VM_HUGETLB,
  VM_IO,
  VM_LOCKED,
  VM_LOCKED_MASK,
  VM_LOCKONFAULT,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_MERGEABLE,
  VM_MIXEDMAP,
  VM_NOHUGEPAGE,
  VM_NORESERVE,
  VM_PFNMAP,
  VM_RAND_READ,
  VM_READ,
  VM_SEQ_READ,
  VM_SHARED,
  VM_SOFTDIRTY,
  VM_SPECIAL,
  VM_SYNC,
  VM_WIPEONFORK,
  VM_WRITE,
  type Vma,
  type VmaIndex,
  vmStartGap,
} from '@vmalab/core';
import { type ExecImage, resolveImage } from './exec.js';
import { DupMmap, type ForkOptions, isAllocationFailure } from './fork.js';
import { loadMaps } from './maps.js';
import { getUnmappedArea, type PlacementContext } from './placement.js';
import {
  type Iovec,
  importIovec,
  type MadviseLocking,
  madviseLockMode,
} from './process-madvise.js';
import { freePgtables } from './teardown.js';
import {
  anonVmaPrepare,
  linkVma,
  type MergeRange,
  mergeExistingRange,
  mergeNewRange,
  newVma,
  splitVma,
  type VmaContext,
} from './vma-ops.js';

export interface AddressSpaceOptions {
  index: VmaIndex;
  finder: UnmappedAreaFinder;
  rmap: RmapLocker;
  /** Shared with the strategies; a fresh one when omitted. */
  counters?: Counters;
  /** Top-down (default) or legacy bottom-up layout (`vm.legacy_va_layout`). */
  topDown?: boolean;
  /** mm->mmap_base; default: the x86-64 formula without randomisation. */
  mmapBase?: number;
  /** mm->mmap_legacy_base; default TASK_UNMAPPED_BASE. */
  legacyBase?: number;
  taskSize?: number;
  mmapMinAddr?: number;
  maxMapCount?: number;
  stackGuardGap?: number;
  stackRlimit?: number;
  /** CONFIG_TRANSPARENT_HUGEPAGE: THP alignment, MADV_(NO)HUGEPAGE valid. Default true. */
  thp?: boolean;
  /** CONFIG_KSM: MADV_(UN)MERGEABLE valid. Default true. */
  ksm?: boolean;
  /** Re-check every finder answer and validate the index after every call. */
  verify?: boolean;
  /**
   * process_madvise locking: `'batched'` (6.15+: one mmap_lock round trip
   * per vector) or `'per-call'` (before 6.15: one per element). Default
   * `'batched'`.
   */
  madviseLocking?: MadviseLocking;
}

/** What a fault did: resolved, or the signal the process would get. */
export type FaultResult = 'ok' | 'SIGSEGV' | 'SIGBUS';

/** A file mapping argument of mmap: which file, opened how. */
export interface MmapFile {
  file: MappedFile;
  /** Byte offset into the file (page aligned). */
  offset: number;
}

const LEGACY_MAP_MASK =
  MAP_SHARED |
  MAP_PRIVATE |
  MAP_FIXED |
  MAP_ANONYMOUS |
  0x800 /* MAP_DENYWRITE */ |
  0x1000 /* MAP_EXECUTABLE */ |
  0x4000000 /* MAP_UNINITIALIZED */ |
  MAP_GROWSDOWN |
  MAP_LOCKED |
  MAP_NORESERVE |
  MAP_POPULATE |
  MAP_NONBLOCK |
  MAP_STACK |
  0x40000; /* MAP_HUGETLB */

const PAGE = PAGE_SIZE;

export class AddressSpace implements MmView, PlacementContext, VmaContext {
  readonly index: VmaIndex;
  readonly finder: UnmappedAreaFinder;
  readonly rmap: RmapLocker;
  readonly counters: Counters;
  readonly mmapLock = new RwSem('mmap_lock');
  readonly topDown: boolean;
  mmapBase: number;
  legacyBase: number;
  readonly taskSize: number;
  readonly mmapMinAddr: number;
  maxMapCount: number;
  readonly stackGuardGap: number;
  readonly stackRlimit: number;
  readonly thp: boolean;
  readonly ksm: boolean;
  verify: boolean;
  readonly madviseLocking: MadviseLocking;
  /** mm->start_brk and mm->brk (0 until set). */
  startBrk = 0;
  brkAddr = 0;
  /** mm->start_stack (0 = no [stack]). */
  startStack = 0;
  private shmemInodes = 0;

  constructor(o: AddressSpaceOptions) {
    this.index = o.index;
    this.finder = o.finder;
    this.rmap = o.rmap;
    this.counters = o.counters ?? new Counters();
    this.topDown = o.topDown ?? true;
    this.taskSize = o.taskSize ?? TASK_SIZE;
    this.stackGuardGap = o.stackGuardGap ?? STACK_GUARD_GAP;
    this.stackRlimit = o.stackRlimit ?? STACK_RLIMIT;
    this.mmapBase =
      o.mmapBase ??
      defaultMmapBase({
        taskSize: this.taskSize,
        stackRlimit: this.stackRlimit,
        stackGuardGap: this.stackGuardGap,
      });
    this.legacyBase = o.legacyBase ?? TASK_UNMAPPED_BASE;
    if (!this.topDown && o.mmapBase === undefined) this.mmapBase = this.legacyBase;
    this.mmapMinAddr = o.mmapMinAddr ?? MMAP_MIN_ADDR;
    this.maxMapCount = o.maxMapCount ?? DEFAULT_MAX_MAP_COUNT;
    this.thp = o.thp ?? true;
    this.ksm = o.ksm ?? true;
    this.verify = o.verify ?? false;
    this.madviseLocking = o.madviseLocking ?? 'batched';
    if (this.madviseLocking !== 'batched' && this.madviseLocking !== 'per-call') {
      throw new Error(
        `mm: madviseLocking must be 'batched' or 'per-call', got ${JSON.stringify(this.madviseLocking)}`,
      );
    }
  }

  /** mm->map_count. */
  get mapCount(): number {
    return this.index.count;
  }

  /** The VMAs in address order. */
  vmas(): Vma[] {
    return [...this.index];
  }

  // ------------------------------------------------------------------ locking

  private lockWrite(): void {
    this.mmapLock.downWrite();
    this.counters.mmapLockWrite++;
  }
  private unlockWrite(): void {
    this.index.sync?.();
    this.mmapLock.upWrite();
    if (this.verify) this.validate();
  }
  private lockRead(): void {
    this.mmapLock.downRead();
    this.counters.mmapLockRead++;
  }
  private unlockRead(): void {
    this.mmapLock.upRead();
    if (this.verify) this.validate();
  }

  /** What mmap populates after dropping mmap_lock (mm_populate's length), set by doMmap. */
  private populateLen = 0;

  /** Runs `fn` under mmap_lock held for writing. */
  private writeLocked<T>(fn: () => T): T {
    this.lockWrite();
    try {
      return fn();
    } finally {
      this.unlockWrite();
    }
  }

  // ------------------------------------------------------------------ lookups

  /** find_vma_intersection: the first VMA overlapping [start, end). */
  private intersecting(start: number, end: number): Vma | undefined {
    const v = this.index.find(start);
    return v && v.start < end ? v : undefined;
  }

  /** vma_lookup: the VMA containing addr. */
  lookup(addr: number): Vma | undefined {
    const v = this.index.find(addr);
    return v && v.start <= addr ? v : undefined;
  }

  /** The last VMA starting below addr (find_vma_prev's prev for an address in a hole). */
  private prevOf(addr: number): Vma | undefined {
    const v = this.index.find(addr);
    if (!v) return this.index.last();
    if (v.start < addr) return v;
    return this.index.prev(v);
  }

  // ------------------------------------------------------------------ mmap

  /**
   * mmap(2). `file` null = anonymous (MAP_ANONYMOUS). Returns the address or
   * −errno. MAP_FIXED over existing mappings unmaps them first; if that fails
   * on max_map_count (a split at the limit), nothing changes.
   */
  mmap(
    addr: number,
    len: number,
    prot: number,
    flags: number,
    file: MmapFile | null = null,
  ): number {
    this.lockWrite();
    this.populateLen = 0;
    let ret: number;
    try {
      ret = this.doMmap(addr, len, prot, flags, file);
    } finally {
      this.unlockWrite();
    }
    const populate = this.populateLen;
    if (ret >= 0 && populate) this.mmPopulate(ret, populate);
    return ret;
  }

  private doMmap(
    addrIn: number,
    lenIn: number,
    prot: number,
    flagsIn: number,
    f: MmapFile | null,
  ): number {
    let flags = flagsIn;
    let addr = addrIn;
    const file = f && !(flags & MAP_ANONYMOUS) ? f.file : null;
    const offset = file && f ? f.offset : 0;
    if (lenIn === 0) return -EINVAL;
    if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;
    if (!(flags & MAP_FIXED)) addr = this.roundHintToMin(addr);
    const len = pageUp(lenIn);
    if (len > 2 ** 53) return -ENOMEM;
    if (file && offset % PAGE !== 0) return -EINVAL; // mmap_pgoff's offset_in_page check
    let pgoff = offset / PAGE;
    if (this.mapCount > this.maxMapCount) return -ENOMEM;

    let vmFlags =
      calcVmProtBits(prot) | calcVmFlagBits(flags) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;

    addr = getUnmappedArea(this, file, addr, len, pgoff, flags, vmFlags);
    if (addr < 0) return addr;
    if (flags & MAP_FIXED) {
      if (!isPageAligned(addr)) return -EINVAL;
      if (addr > this.taskSize - len) return -ENOMEM;
    }
    if (flags & MAP_FIXED_NOREPLACE && this.intersecting(addr, addr + len)) return -EEXIST;

    if (file) {
      const type = flags & MAP_TYPE;
      if (type === MAP_SHARED || type === MAP_SHARED_VALIDATE) {
        if (type === MAP_SHARED) flags &= LEGACY_MAP_MASK;
        if (flags & ~(LEGACY_MAP_MASK | MAP_FIXED_NOREPLACE | MAP_SYNC)) return -EOPNOTSUPP;
        if (prot & PROT_WRITE && !file.writable) return -EACCES;
        vmFlags |= VM_SHARED | VM_MAYSHARE;
        if (!file.writable) vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
      } else if (type !== MAP_PRIVATE) {
        return -EINVAL;
      }
      if (vmFlags & VM_GROWSDOWN) return -EINVAL;
      if (file.shmem === false && file.path === '') return -ENODEV;
    } else {
      const type = flags & MAP_TYPE;
      if (type === MAP_SHARED || type === MAP_SHARED_VALIDATE) {
        if (vmFlags & VM_GROWSDOWN) return -EINVAL;
        pgoff = 0;
        vmFlags |= VM_SHARED | VM_MAYSHARE;
      } else if (type === MAP_PRIVATE) {
        pgoff = addr / PAGE;
      } else {
        return -EINVAL;
      }
    }
    if (flags & MAP_NORESERVE) vmFlags |= VM_NORESERVE; // overcommit is not OVERCOMMIT_NEVER

    const ret = this.mmapRegion(file, addr, len, vmFlags, pgoff);
    if (
      ret >= 0 &&
      (vmFlags & VM_LOCKED || (flags & (MAP_POPULATE | MAP_NONBLOCK)) === MAP_POPULATE)
    ) {
      this.populateLen = len;
    }
    return ret;
  }

  private roundHintToMin(hint: number): number {
    const h = pageDown(hint);
    if (h !== 0 && h < this.mmapMinAddr) return pageUp(this.mmapMinAddr);
    return h;
  }

  /**
   * __mmap_region: gather (split) what the range overlaps, account, merge
   * with a neighbour or insert a new VMA, then free the old VMAs.
   */
  private mmapRegion(
    file: MappedFile | null,
    addr: number,
    len: number,
    vmFlagsIn: number,
    pgoff: number,
  ): number {
    let vmFlags = vmFlagsIn;
    const end = addr + len;
    // __mmap_region's own VMA iterator (the gap search had another).
    this.index.sync?.();
    const gathered = this.gatherMunmap(addr, end);
    if (typeof gathered === 'number') return gathered;
    const { detached, prev, next } = gathered;
    // accountable_mapping: private writable memory is charged (VM_ACCOUNT).
    if ((vmFlags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE) vmFlags |= VM_ACCOUNT;
    // The old VMAs leave the tree; the new one takes their place.
    for (const v of detached) this.index.remove(v);

    const r: MergeRange = {
      start: addr,
      end,
      flags: vmFlags,
      file,
      pgoff,
      anonVma: null,
      anonForked: false,
    };
    let vma: Vma | null = null;
    // A shared anonymous mapping gets its own shmem object: never mergeable.
    if (prev || next) {
      if (file || !(vmFlags & VM_SHARED)) vma = mergeNewRange(this, r, prev, next);
    }
    if (!vma) {
      if (!file && vmFlags & VM_SHARED) {
        r.file = new MappedFile('/dev/zero (deleted)', '00:01', ++this.shmemInodes, len, {
          shmem: true,
          writable: true,
        });
      }
      vma = newVma(r);
      linkVma(this, vma);
    }
    this.completeMunmap(detached, addr, end);
    if (vma.flags & VM_LOCKED && vma.flags & VM_SPECIAL) vma.flags &= ~VM_LOCKED_MASK;
    return addr;
  }

  // ------------------------------------------------------------------ munmap

  /**
   * vms_gather_munmap_vmas: split the VMAs at the range's edges and collect
   * those inside. Fails with ENOMEM before changing anything when a hole
   * would be punched at max_map_count; an edge trim is allowed at the limit.
   */
  private gatherMunmap(
    start: number,
    end: number,
  ): { detached: Vma[]; prev: Vma | undefined; next: Vma | undefined } | number {
    // vma_find(vmi, end): the first VMA ending above start; if it starts at
    // or after end nothing overlaps and it is the range's next neighbour.
    let vma = this.index.find(start);
    if (!vma || vma.start >= end) {
      return { detached: [], prev: vma ? this.index.prev(vma) : this.index.last(), next: vma };
    }
    if (start > vma.start) {
      if (end < vma.end && this.mapCount >= this.maxMapCount) return -ENOMEM;
      splitVma(this, vma, start, true);
    }
    const prev = this.index.prev(vma);
    const detached: Vma[] = [];
    while (vma && vma.start < end) {
      if (vma.end > end) splitVma(this, vma, end, false);
      detached.push(vma);
      vma = this.index.next(vma);
    }
    return { detached, prev, next: vma };
  }

  /** vms_complete_munmap_vmas: free_pgtables (grouped rmap unlink) and remove_vma. */
  private completeMunmap(detached: Vma[], start: number, end: number): void {
    if (detached.length === 0) return;
    freePgtables(detached, this.rmap);
    this.counters.vmaFreed += detached.length;
    this.finder.unmapped?.(this, start, end);
  }

  /** do_vmi_munmap over [start, end) after the range checks. */
  private doMunmap(start: number, end: number): number {
    const g = this.gatherMunmap(start, end);
    if (typeof g === 'number') return g;
    for (const v of g.detached) this.index.remove(v);
    this.completeMunmap(g.detached, start, end);
    return 0;
  }

  /** munmap(2). A range with nothing mapped succeeds. */
  munmap(addr: number, len: number): number {
    this.lockWrite();
    try {
      if (!isPageAligned(addr) || addr > this.taskSize || len > this.taskSize - addr)
        return -EINVAL;
      const end = addr + pageUp(len);
      if (end === addr) return -EINVAL;
      return this.doMunmap(addr, end);
    } finally {
      this.unlockWrite();
    }
  }

  // ------------------------------------------------------------------ modify

  /**
   * vma_modify: [start, end) of `vma` gets `flags`. Merge first; else split
   * off the head and the tail (each split checked against max_map_count; a
   * failed second split keeps the first). Returns the VMA covering the range
   * (its flags not yet changed) or −errno.
   */
  private modifyFlags(vma: Vma, start: number, end: number, flags: number): Vma | number {
    const merged = mergeExistingRange(this, vma, start, end, flags);
    if (merged) return merged;
    if (vma.start < start) {
      if (this.mapCount >= this.maxMapCount) return -ENOMEM;
      splitVma(this, vma, start, true);
    }
    if (vma.end > end) {
      if (this.mapCount >= this.maxMapCount) return -ENOMEM;
      splitVma(this, vma, end, false);
    }
    return vma;
  }

  /**
   * mprotect(2). Applies VMA by VMA; a hole stops it with ENOMEM after the
   * VMAs before the hole were changed (as Linux).
   */
  mprotect(start: number, lenIn: number, protIn: number): number {
    const grows = protIn & (PROT_GROWSDOWN | PROT_GROWSUP);
    const prot = protIn & ~(PROT_GROWSDOWN | PROT_GROWSUP);
    if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) return -EINVAL;
    if (!isPageAligned(start)) return -EINVAL;
    if (!lenIn) return 0;
    const len = pageUp(lenIn);
    const end = start + len;
    if (end <= start || end > 2 ** 64) return -ENOMEM;
    if (prot & ~((PROT_READ | PROT_WRITE | PROT_EXEC | 0x8) /* PROT_SEM */)) return -EINVAL;
    return this.writeLocked(() => {
      let vma = this.intersecting(start, end);
      if (!vma) return -ENOMEM;
      let nstart = start;
      if (grows & PROT_GROWSDOWN) {
        if (vma.start >= end) return -ENOMEM;
        nstart = vma.start;
        if (!(vma.flags & VM_GROWSDOWN)) return -EINVAL;
      } else if (grows & PROT_GROWSUP) {
        return -EINVAL; // no VM_GROWSUP on x86
      } else if (vma.start > start) {
        return -ENOMEM;
      }
      let tmp = vma.start;
      let error = 0;
      while (vma && vma.start < end) {
        if (vma.start !== tmp) {
          error = -ENOMEM;
          break;
        }
        const newflags = calcVmProtBits(prot) | (vma.flags & ~VM_ACCESS_FLAGS);
        // newflags >> 4 puts VM_MAY* where VM_* are.
        if (newflags & ~(newflags >> 4) & VM_ACCESS_FLAGS) {
          error = -EACCES;
          break;
        }
        tmp = Math.min(vma.end, end);
        const r = this.mprotectFixup(vma, nstart, tmp, newflags);
        if (typeof r === 'number') {
          error = r;
          break;
        }
        tmp = r.end;
        nstart = tmp;
        vma = this.index.next(r);
      }
      if (!error && tmp < end) error = -ENOMEM;
      return error;
    });
  }

  private mprotectFixup(vma: Vma, start: number, end: number, newflagsIn: number): Vma | number {
    let newflags = newflagsIn;
    const oldflags = vma.flags;
    if (newflags === oldflags) return vma;
    if (newflags & VM_WRITE) {
      if (!(oldflags & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE))) {
        newflags |= VM_ACCOUNT;
      }
    } else if (oldflags & VM_ACCOUNT && vma.file === null && !vma.anonVma) {
      // A never-written anonymous VMA gives its commit charge back.
      newflags &= ~VM_ACCOUNT;
    }
    const r = this.modifyFlags(vma, start, end, newflags);
    if (typeof r === 'number') return r;
    r.flags = newflags;
    // A private locked VMA becoming writable is COW-populated at once.
    if ((oldflags & (VM_WRITE | VM_SHARED | VM_LOCKED)) === VM_LOCKED && newflags & VM_WRITE) {
      this.populateRange(r, start, end);
    }
    return r;
  }

  // ------------------------------------------------------------------ mlock

  /** mlock(2): VM_LOCKED, then populate (private writable memory gets its anon_vma). */
  mlock(start: number, len: number): number {
    return this.doMlock(start, len, VM_LOCKED);
  }

  /** mlock2(2): with MLOCK_ONFAULT nothing is populated. */
  mlock2(start: number, len: number, flags: number): number {
    if (flags & ~MLOCK_ONFAULT) return -EINVAL;
    return this.doMlock(start, len, flags & MLOCK_ONFAULT ? VM_LOCKED | VM_LOCKONFAULT : VM_LOCKED);
  }

  /** munlock(2). */
  munlock(start: number, len: number): number {
    const s = pageDown(start);
    const l = pageUp(len + (start - s));
    return this.writeLocked(() => this.applyLockFlags(s, l, 0));
  }

  private doMlock(start: number, len: number, flags: number): number {
    const s = pageDown(start);
    const l = pageUp(len + (start - s));
    const err = this.writeLocked(() => this.applyLockFlags(s, l, flags));
    if (err) return err;
    return this.mmPopulateStrict(s, l);
  }

  /** apply_vma_lock_flags: like mprotect's walk, holes → ENOMEM. */
  private applyLockFlags(start: number, len: number, flags: number): number {
    const end = start + len;
    if (end < start) return -EINVAL;
    if (end === start) return 0;
    let vma = this.lookup(start);
    if (!vma) return -ENOMEM;
    let nstart = start;
    let tmp = vma.start;
    while (vma && vma.start < end) {
      if (vma.start !== tmp) return -ENOMEM;
      const newflags = (vma.flags & ~VM_LOCKED_MASK) | flags;
      tmp = Math.min(vma.end, end);
      let r: Vma | number = vma;
      if (newflags !== vma.flags && !(vma.flags & (VM_SPECIAL | VM_HUGETLB))) {
        r = this.modifyFlags(vma, nstart, tmp, newflags);
        if (typeof r === 'number') return r;
        r.flags = newflags;
      }
      tmp = r.end;
      nstart = tmp;
      vma = this.index.next(r);
    }
    return tmp < end ? -ENOMEM : 0;
  }

  // ------------------------------------------------------------------ populate

  /** populate_vma_page_range: writable private memory is write-faulted (anon_vma). */
  private populateRange(vma: Vma, start: number, end: number): number {
    if (vma.flags & VM_LOCKONFAULT) return 0;
    if (!(vma.flags & (VM_READ | VM_WRITE | VM_EXEC))) return -EFAULT;
    // Pages past the end of the file fault with SIGBUS: gup reports EFAULT.
    const eof = vma.file ? pageUp(vma.file.size) : Number.POSITIVE_INFINITY;
    const offsetOf = (addr: number): number => vma.pgoff * PAGE + (addr - vma.start);
    if (offsetOf(start) >= eof) return -EFAULT;
    if ((vma.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE) anonVmaPrepare(this, vma);
    return offsetOf(end) > eof ? -EFAULT : 0;
  }

  /** __mm_populate(ignore_errors): the populate of mmap(MAP_POPULATE / MAP_LOCKED). */
  private mmPopulate(start: number, len: number): void {
    this.populateWalk(start, start + len, true);
  }

  /** __mm_populate for mlock: errors are reported (EFAULT → ENOMEM, ENOMEM → EAGAIN). */
  private mmPopulateStrict(start: number, len: number): number {
    const r = this.populateWalk(start, start + len, false);
    if (r === -EFAULT) return -ENOMEM;
    if (r === -ENOMEM) return -EAGAIN;
    return r;
  }

  private populateWalk(start: number, end: number, ignoreErrors: boolean): number {
    this.lockRead();
    try {
      let n = start;
      while (n < end) {
        const vma = this.intersecting(n, end);
        if (!vma) break;
        const nend = Math.min(end, vma.end);
        if (!(vma.flags & (VM_IO | VM_PFNMAP))) {
          const r = this.populateRange(vma, Math.max(n, vma.start), nend);
          if (r < 0 && !ignoreErrors) return r;
        }
        n = nend;
      }
      return 0;
    } finally {
      this.unlockRead();
    }
  }

  // ------------------------------------------------------------------ madvise

  /**
   * madvise(2). Flag-changing advice (kernel-facts §11) splits and re-merges
   * under the write lock; DONTNEED, FREE, COLD, WILLNEED… change no VMA and
   * take the read lock. Over holes the advice is applied to every mapped part
   * and ENOMEM is returned at the end.
   */
  madvise(start: number, lenIn: number, advice: number): number {
    const end = this.madviseEnd(start, lenIn, advice);
    if (end < 0) return end;
    if (end === start) return 0;
    const write = adviceChangesFlags(advice);
    if (write) this.lockWrite();
    else this.lockRead();
    try {
      return this.madviseWalk(start, end, advice);
    } finally {
      if (write) this.unlockWrite();
      else this.unlockRead();
    }
  }

  /** is_valid_madvise: the range's end, or −EINVAL (unaligned start, overflow, bad advice). */
  private madviseEnd(start: number, lenIn: number, advice: number): number {
    if (!isPageAligned(start) || start < 0) return -EINVAL;
    if (!this.adviceValid(advice)) return -EINVAL;
    const len = pageUp(lenIn);
    if (lenIn && !len) return -EINVAL;
    const end = start + len;
    if (end < start) return -EINVAL;
    return end;
  }

  /**
   * process_madvise(2) on this address space (a self-targeted pidfd): one
   * advice over a vector of ranges. Returns the bytes advised (the sum of
   * the `len`s of the elements that succeeded), or — when the first element
   * fails — its −errno; an element that fails stops the walk with the ones
   * before it applied (and, for ENOMEM over a hole, its own mapped parts, as
   * madvise does). `flags` must be 0; more than 1024 elements or a negative
   * length is EINVAL, an element outside user space EFAULT, before anything
   * is applied.
   *
   * Locking follows `madviseLocking`: `'per-call'` runs a full madvise per
   * element (one mmap_lock round trip each, none for empty or invalid
   * elements); `'batched'` takes mmap_lock once for the vector, in the mode
   * the advice needs (write for flag-changing advice and unknown values,
   * read for DONTNEED, FREE, COLD, PAGEOUT, WILLNEED, POPULATE…).
   */
  processMadvise(iov: readonly Iovec[], advice: number, flags = 0): number {
    if (flags !== 0) return -EINVAL;
    const vec = importIovec(iov, this.taskSize);
    if (typeof vec === 'number') return vec;
    let advised = 0;
    let ret = 0;
    if (this.madviseLocking === 'per-call') {
      for (const { base, len } of vec) {
        ret = this.madvise(base, len, advice);
        if (ret < 0) break;
        advised += len;
      }
      return advised > 0 ? advised : ret;
    }
    const mode = madviseLockMode(advice);
    if (mode === 'write') this.lockWrite();
    else if (mode === 'read') this.lockRead();
    try {
      for (const { base, len } of vec) {
        const end = this.madviseEnd(base, len, advice);
        if (end < 0) ret = end;
        else if (end === base) ret = 0;
        else ret = this.madviseWalk(base, end, advice);
        if (ret < 0) break;
        advised += len;
      }
    } finally {
      if (mode === 'write') this.unlockWrite();
      else if (mode === 'read') this.unlockRead();
    }
    return advised > 0 ? advised : ret;
  }

  private adviceValid(a: number): boolean {
    switch (a) {
      case MADV_NORMAL:
      case MADV_RANDOM:
      case MADV_SEQUENTIAL:
      case MADV_WILLNEED:
      case MADV_DONTNEED:
      case MADV_DONTNEED_LOCKED:
      case MADV_FREE:
      case MADV_REMOVE:
      case MADV_DONTFORK:
      case MADV_DOFORK:
      case MADV_COLD:
      case MADV_PAGEOUT:
      case MADV_POPULATE_READ:
      case MADV_POPULATE_WRITE:
      case MADV_DONTDUMP:
      case MADV_DODUMP:
      case MADV_WIPEONFORK:
      case MADV_KEEPONFORK:
        return true;
      case MADV_MERGEABLE:
      case MADV_UNMERGEABLE:
        return this.ksm;
      case MADV_HUGEPAGE:
      case MADV_NOHUGEPAGE:
        return this.thp;
      default:
        return false;
    }
  }

  /** madvise_walk_vmas. */
  private madviseWalk(startIn: number, end: number, advice: number): number {
    let start = startIn;
    let unmappedError = 0;
    let vma = this.index.find(start);
    for (;;) {
      if (!vma) return -ENOMEM;
      if (start < vma.start) {
        unmappedError = -ENOMEM;
        start = vma.start;
        if (start >= end) break;
      }
      const tmp = Math.min(vma.end, end);
      const r = this.madviseVma(vma, start, tmp, advice);
      if (typeof r === 'number') return r;
      start = Math.max(tmp, r.end);
      if (start >= end) break;
      vma = this.index.find(start);
    }
    return unmappedError;
  }

  /** madvise_vma_behavior for one VMA piece; returns the VMA now covering it. */
  private madviseVma(vma: Vma, start: number, end: number, advice: number): Vma | number {
    const f = vma.flags;
    switch (advice) {
      case MADV_REMOVE:
        if (f & VM_LOCKED) return -EINVAL;
        if (!vma.file) return -EINVAL;
        if ((f & (VM_SHARED | VM_MAYWRITE)) !== (VM_SHARED | VM_MAYWRITE)) return -EACCES;
        return vma;
      case MADV_WILLNEED:
        return vma;
      case MADV_COLD:
      case MADV_PAGEOUT:
        if (f & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB)) return -EINVAL;
        return vma;
      case MADV_DONTNEED:
      case MADV_DONTNEED_LOCKED:
      case MADV_FREE: {
        const forbidden = VM_PFNMAP | (advice === MADV_DONTNEED_LOCKED ? 0 : VM_LOCKED);
        if (f & forbidden) return -EINVAL;
        if (advice === MADV_FREE && vma.file) return -EINVAL;
        return vma;
      }
      case MADV_POPULATE_READ:
      case MADV_POPULATE_WRITE:
        if (f & (VM_IO | VM_PFNMAP)) return -EINVAL;
        if (advice === MADV_POPULATE_WRITE) {
          if (!(f & VM_WRITE)) return -EFAULT;
          if (!(f & VM_SHARED)) anonVmaPrepare(this, vma);
        } else if (!(f & (VM_READ | VM_WRITE | VM_EXEC))) {
          return -EFAULT;
        }
        return vma;
    }
    let nf = f;
    switch (advice) {
      case MADV_NORMAL:
        nf &= ~(VM_RAND_READ | VM_SEQ_READ);
        break;
      case MADV_SEQUENTIAL:
        nf = (nf & ~VM_RAND_READ) | VM_SEQ_READ;
        break;
      case MADV_RANDOM:
        nf = (nf & ~VM_SEQ_READ) | VM_RAND_READ;
        break;
      case MADV_DONTFORK:
        nf |= VM_DONTCOPY;
        break;
      case MADV_DOFORK:
        if (f & VM_IO) return -EINVAL;
        nf &= ~VM_DONTCOPY;
        break;
      case MADV_WIPEONFORK:
        if (vma.file || f & VM_SHARED) return -EINVAL;
        nf |= VM_WIPEONFORK;
        break;
      case MADV_KEEPONFORK:
        nf &= ~VM_WIPEONFORK;
        break;
      case MADV_DONTDUMP:
        nf |= VM_DONTDUMP;
        break;
      case MADV_DODUMP:
        if (f & VM_SPECIAL) return -EINVAL;
        nf &= ~VM_DONTDUMP;
        break;
      case MADV_MERGEABLE:
        // ksm_madvise ignores the advice where KSM cannot work.
        if (
          f &
          (VM_MERGEABLE |
            VM_SHARED |
            VM_MAYSHARE |
            VM_PFNMAP |
            VM_IO |
            VM_DONTEXPAND |
            VM_HUGETLB |
            VM_MIXEDMAP)
        ) {
          return vma;
        }
        nf |= VM_MERGEABLE;
        break;
      case MADV_UNMERGEABLE:
        nf &= ~VM_MERGEABLE;
        break;
      case MADV_HUGEPAGE:
        nf = (nf & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
        break;
      case MADV_NOHUGEPAGE:
        nf = (nf & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
        break;
    }
    if (nf === f) return vma;
    const r = this.modifyFlags(vma, start, end, nf);
    // madvise() reports a failed split as EAGAIN: kernel resources were short.
    if (typeof r === 'number') return r === -ENOMEM ? -EAGAIN : r;
    r.flags = nf;
    return r;
  }

  // ------------------------------------------------------------------ mremap

  /**
   * mremap(2), 6.18: shrink in place, grow in place (merging with a
   * compatible next VMA), move (MAYMOVE), move to a fixed address (FIXED,
   * which unmaps the destination first), DONTUNMAP (the source stays, empty),
   * and the 6.17+ multi-VMA move for FIXED with equal sizes.
   */
  mremap(addr: number, oldLenIn: number, newLenIn: number, flags: number, newAddr = 0): number {
    if (flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) return -EINVAL;
    if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) return -EINVAL;
    if (flags & MREMAP_DONTUNMAP && (!(flags & MREMAP_MAYMOVE) || oldLenIn !== newLenIn))
      return -EINVAL;
    if (!isPageAligned(addr)) return -EINVAL;
    const oldLen = pageUp(oldLenIn);
    const newLen = pageUp(newLenIn);
    if (!newLen) return -EINVAL;
    const impliesNew = (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0;
    if (impliesNew) {
      if (!isPageAligned(newAddr)) return -EINVAL;
      if (newLen > this.taskSize || newAddr > this.taskSize - newLen) return -EINVAL;
      // The source and destination ranges may not overlap.
      if (newAddr < addr + oldLen && addr < newAddr + newLen) return -EINVAL;
    }
    return this.writeLocked(() => {
      if (flags & MREMAP_FIXED && oldLen === newLen)
        return this.remapMove(addr, oldLen, newAddr, flags);
      const vma = this.lookup(addr);
      const err = this.checkPrepVma(vma, addr, oldLen, newLen, flags);
      if (err) return err;
      const v = vma as Vma;
      if (impliesNew) return this.mremapTo(v, addr, oldLen, newLen, newAddr, flags);
      if (oldLen === newLen) return addr;
      if (oldLen > newLen) {
        const r = this.doMunmap(addr + newLen, addr + oldLen);
        return r < 0 ? r : addr;
      }
      return this.expandVma(v, addr, oldLen, newLen, flags);
    });
  }

  private checkPrepVma(
    vma: Vma | undefined,
    addr: number,
    oldLen: number,
    newLen: number,
    flags: number,
  ): number {
    if (!vma) return -EFAULT;
    const impliesNew = (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0;
    const willMapNew = impliesNew || newLen > oldLen;
    if (!willMapNew) return 0;
    if (!oldLen && !(vma.flags & (VM_SHARED | VM_MAYSHARE))) return -EINVAL;
    if (flags & MREMAP_DONTUNMAP && vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) return -EINVAL;
    if (oldLen > vma.end - addr) return -EFAULT;
    if (newLen === oldLen) return 0;
    if (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) return -EFAULT;
    return 0;
  }

  /** Grow: in place when [end, end + delta) is free, else move if allowed. */
  private expandVma(vma: Vma, addr: number, oldLen: number, newLen: number, flags: number): number {
    const delta = newLen - oldLen;
    if (addr + oldLen === vma.end && this.vmaExpandable(vma, delta)) {
      const next = this.index.next(vma);
      const merged = mergeNewRange(
        this,
        {
          start: vma.end,
          end: vma.end + delta,
          flags: vma.flags,
          file: vma.file,
          pgoff: vma.pgoff + (vma.end - vma.start) / PAGE,
          anonVma: vma.anonVma,
          anonForked: vma.anonForked,
        },
        vma,
        next,
      );
      if (!merged) return -ENOMEM;
      if (merged.flags & VM_LOCKED) this.populateRange(merged, addr + oldLen, addr + newLen);
      return addr;
    }
    if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
    const pgoff = vma.pgoff + (addr - vma.start) / PAGE;
    const dest = getUnmappedArea(
      this,
      vma.file,
      0,
      newLen,
      pgoff,
      vma.flags & VM_MAYSHARE ? MAP_SHARED : 0,
      vma.flags,
    );
    if (dest < 0) return dest;
    return this.moveVma(vma, addr, oldLen, newLen, dest, flags);
  }

  /** vma_expandable: the space after the VMA is free and inside TASK_SIZE. */
  private vmaExpandable(vma: Vma, delta: number): boolean {
    const end = vma.end + delta;
    if (this.intersecting(vma.end, end)) return false;
    return end - vma.start <= this.taskSize && vma.start <= this.taskSize - (end - vma.start);
  }

  /** mremap_to: FIXED (unmap the destination first) or DONTUNMAP moves. */
  private mremapTo(
    vmaIn: Vma,
    addr: number,
    oldLenIn: number,
    newLen: number,
    newAddr: number,
    flags: number,
  ): number {
    let oldLen = oldLenIn;
    let vma: Vma | undefined = vmaIn;
    if (this.mapCount + 2 >= this.maxMapCount - 3) return -ENOMEM;
    if (flags & MREMAP_FIXED) {
      const r = this.doMunmap(newAddr, newAddr + newLen);
      if (r) return r;
    }
    if (oldLen > newLen) {
      const r = this.doMunmap(addr + newLen, addr + oldLen);
      if (r) return r;
      oldLen = newLen;
    }
    vma = this.lookup(addr);
    if (!vma) return -EFAULT;
    const pgoff = vma.pgoff + (addr - vma.start) / PAGE;
    let mapFlags = flags & MREMAP_FIXED ? MAP_FIXED : 0;
    if (vma.flags & VM_MAYSHARE) mapFlags |= MAP_SHARED;
    const dest = getUnmappedArea(this, vma.file, newAddr, newLen, pgoff, mapFlags, vma.flags);
    if (dest < 0) return dest;
    return this.moveVma(vma, addr, oldLen, newLen, flags & MREMAP_FIXED ? newAddr : dest, flags);
  }

  /**
   * move_vma: copy_vma at the destination (which may merge there; a
   * never-written anonymous VMA takes the new address as its pgoff), then
   * unmap the source — or, with DONTUNMAP, leave it in place without its
   * pages, lock flags and accounting.
   */
  private moveVma(
    vma: Vma,
    oldAddr: number,
    oldLen: number,
    newLen: number,
    newAddr: number,
    flags: number,
  ): number {
    if (this.mapCount >= this.maxMapCount - 3) return -ENOMEM;
    let pgoff = vma.pgoff + (oldAddr - vma.start) / PAGE;
    // copy_vma: an anonymous VMA that was never faulted follows its new address.
    if (vma.file === null && !vma.anonVma) pgoff = newAddr / PAGE;
    const r: MergeRange = {
      start: newAddr,
      end: newAddr + newLen,
      flags: vma.flags,
      file: vma.file,
      pgoff,
      anonVma: vma.anonVma,
      anonForked: vma.anonForked,
    };
    const next = this.index.find(newAddr);
    const prev = next ? this.index.prev(next) : this.index.last();
    let moved = mergeNewRange(this, r, prev, next);
    if (!moved) {
      moved = newVma(r);
      moved.name = vma.name;
      linkVma(this, moved);
    }
    if (flags & MREMAP_DONTUNMAP) {
      // dontunmap_complete: the source keeps its range and its charge but
      // loses its lock flags; if it was moved whole, its anon_vma goes too.
      const src = this.lookup(oldAddr);
      if (src) {
        src.flags &= ~VM_LOCKED_MASK;
        if (src !== moved && src.start === oldAddr && src.end === oldAddr + oldLen) {
          src.anonVma = null;
          src.anonForked = false;
        }
      }
      return newAddr;
    }
    const err = this.doMunmap(oldAddr, oldAddr + oldLen);
    if (err) return err;
    return newAddr;
  }

  /**
   * remap_move (6.17+): MREMAP_FIXED with equal sizes moves every VMA in
   * [addr, addr + len), keeping the gaps between them (vma_multi_allowed is
   * true for anonymous, shmem and THP-placed file VMAs; userfaultfd-armed ones,
   * which would refuse, are not modelled).
   */
  private remapMove(addr: number, len: number, newAddr: number, flags: number): number {
    const end = addr + len;
    let target = newAddr;
    let res = -EFAULT;
    let seen = false;
    let lastEnd = 0;
    let vma = this.intersecting(addr, end);
    while (vma) {
      const a = Math.max(vma.start, addr);
      const l = Math.min(end, vma.end) - a;
      if (!seen && addr < vma.start) return -EFAULT;
      const offset = seen ? vma.start - lastEnd : 0;
      lastEnd = vma.end;
      const multiAllowed = true;
      if (!multiAllowed) {
        if (seen) return -EFAULT;
        if (vma.end < end) return -EFAULT;
      }
      const err = this.checkPrepVma(vma, a, l, l, flags);
      if (err) return err;
      const r = this.mremapTo(vma, a, l, l, target + offset, flags);
      if (r < 0) return r;
      if (!seen) res = r;
      seen = true;
      target = r + l;
      vma = this.intersecting(lastEnd, end);
    }
    return res;
  }

  // ------------------------------------------------------------------ brk

  /**
   * brk(2). Returns the new break, or the old one when the request is
   * refused (Linux reports failure that way). The heap VMA is created at the
   * first growth and extended in place while possible.
   */
  brk(brkIn: number): number {
    return this.writeLocked(() => {
      const origbrk = this.brkAddr;
      const minBrk = this.startBrk;
      if (brkIn < minBrk) return origbrk;
      const newbrk = pageUp(brkIn);
      const oldbrk = pageUp(this.brkAddr);
      if (oldbrk === newbrk) {
        this.brkAddr = brkIn;
        return brkIn;
      }
      if (brkIn <= this.brkAddr) {
        const brkvma = this.intersecting(newbrk, oldbrk);
        if (!brkvma || brkvma.start >= oldbrk) return origbrk;
        this.brkAddr = brkIn;
        if (this.doMunmap(newbrk, oldbrk)) {
          this.brkAddr = origbrk;
          return origbrk;
        }
        return brkIn;
      }
      // check_brk_limits: the range must fit below TASK_SIZE.
      if (newbrk - oldbrk > this.taskSize || oldbrk > this.taskSize - (newbrk - oldbrk))
        return origbrk;
      const next = this.intersecting(oldbrk, newbrk + PAGE + this.stackGuardGap);
      if (next && newbrk + PAGE > vmStartGap(this, next)) return origbrk;
      const prev = this.prevOf(oldbrk);
      const brkvma = prev && prev.start >= this.startBrk ? prev : undefined;
      if (this.doBrkFlags(brkvma, oldbrk, newbrk - oldbrk) < 0) return origbrk;
      this.brkAddr = brkIn;
      return brkIn;
    });
  }

  /** do_brk_flags: extend the heap VMA or create it. */
  private doBrkFlags(vma: Vma | undefined, addr: number, len: number): number {
    const flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;
    if (this.mapCount > this.maxMapCount) return -ENOMEM;
    const r: MergeRange = {
      start: addr,
      end: addr + len,
      flags,
      file: null,
      pgoff: addr / PAGE,
      anonVma: null,
      anonForked: false,
    };
    if (vma && vma.end === addr && mergeNewRange(this, r, vma, undefined, true)) return 0;
    linkVma(this, newVma(r));
    return 0;
  }

  // ------------------------------------------------------------------ faults

  /**
   * A page fault at `addr` (a load, or a store when `write`). A store to
   * private memory gives the VMA its anon_vma — reusing a compatible
   * neighbour's — which changes how it merges from then on. A fault just
   * below a VM_GROWSDOWN VMA grows it (within RLIMIT_STACK and the guard gap).
   */
  fault(addr: number, write: boolean): FaultResult {
    this.lockRead();
    try {
      let vma = this.index.find(addr);
      if (!vma) return 'SIGSEGV';
      if (vma.start > addr) {
        if (!(vma.flags & VM_GROWSDOWN)) return 'SIGSEGV';
        if (this.expandDownwards(vma, pageDown(addr)) < 0) return 'SIGSEGV';
        vma = this.lookup(addr) as Vma;
      }
      if (write ? !(vma.flags & VM_WRITE) : !(vma.flags & (VM_READ | VM_WRITE | VM_EXEC))) {
        return 'SIGSEGV';
      }
      if (vma.file) {
        const off = vma.pgoff * PAGE + (pageDown(addr) - vma.start);
        if (off >= pageUp(vma.file.size)) return 'SIGBUS';
      }
      if (write && !(vma.flags & VM_SHARED)) anonVmaPrepare(this, vma);
      return 'ok';
    } finally {
      this.unlockRead();
    }
  }

  /** expand_downwards. */
  private expandDownwards(vma: Vma, address: number): number {
    if (address < this.mmapMinAddr) return -EPERM;
    const prev = this.index.prev(vma);
    if (
      prev &&
      !(prev.flags & VM_GROWSDOWN) &&
      prev.flags & (VM_READ | VM_WRITE | VM_EXEC) &&
      address - prev.end < this.stackGuardGap
    ) {
      return -ENOMEM;
    }
    anonVmaPrepare(this, vma);
    const grow = (vma.start - address) / PAGE;
    if (grow > vma.pgoff) return -ENOMEM;
    if (vma.end - address > this.stackRlimit) return -ENOMEM;
    this.index.resize(vma, address, vma.end);
    vma.pgoff -= grow;
    return 0;
  }

  // ------------------------------------------------------------------ fork, exec, exit

  /**
   * exit_mmap: every VMA is unmapped under mmap_lock held for reading, then
   * free_pgtables unlinks the file VMAs group by group through the rmap
   * locker and the VMAs are freed, under mmap_lock held for writing (one
   * read and one write acquisition). The address space is empty afterwards
   * and can be reused by `exec`.
   */
  exit(): void {
    this.lockRead();
    this.unlockRead();
    this.lockWrite();
    try {
      this.teardown();
    } finally {
      this.unlockWrite();
    }
  }

  /** free_pgtables + remove_vma over the whole address space. */
  private teardown(): void {
    const vmas = [...this.index];
    const first = vmas[0];
    const last = vmas[vmas.length - 1];
    if (first && last) {
      freePgtables(vmas, this.rmap);
      // exit_mmap frees the VMAs and drops the tree whole (__mt_destroy);
      // an index without `clear` gets one removal per VMA.
      if (this.index.clear) this.index.clear();
      else for (const v of vmas) this.index.remove(v);
      this.counters.vmaFreed += vmas.length;
      this.finder.unmapped?.(this, first.start, last.end);
    }
    this.startBrk = 0;
    this.brkAddr = 0;
    this.startStack = 0;
  }

  /**
   * execve(2): tear the old address space down (as `exit`, through
   * free_pgtables and the rmap locker) and build the new one from `image`
   * — an `ImageSpec` or a `/proc/PID/maps` snapshot (`SnapshotLine[]`). The
   * image is checked before the old space is touched (a bad one throws a
   * SnapshotError and changes nothing). The new VMAs are installed as
   * recorded, under one mmap_lock write acquisition, each file VMA linked
   * into its file's i_mmap with one i_mmap write lock (vma_link_file); the
   * loader's own mmap/mprotect calls are not replayed. mmap_base becomes the
   * spec's, else the end of ld.so. Returns 0.
   */
  exec(image: ExecImage): number {
    const { lines, source, mmapBase } = resolveImage(image);
    this.exit();
    this.lockWrite();
    try {
      loadMaps(this, lines, source);
      for (const v of this.index) {
        this.counters.vmaAllocated++;
        const file = v.file;
        if (file) {
          file.iMmapRwsem.downWrite();
          this.counters.iMmapLockWrite++;
          file.iMmapRwsem.upWrite();
        }
      }
      if (mmapBase !== undefined) this.mmapBase = mmapBase;
    } finally {
      this.unlockWrite();
    }
    return 0;
  }

  /**
   * fork(2)'s dup_mmap: a child address space with a copy of every VMA but
   * the VM_DONTCOPY ones (see fork.ts), built under both mm's mmap_lock held
   * for writing. The child shares this space's counters and rmap locker and
   * gets its own index (`index.dup`) and finder (`finder.fork()`).
   *
   * Returns the child, or −ENOMEM when an allocation failed (injected with
   * `options.failAllocation`, or by the index, e.g. maple's
   * `failDupAfter`): the copies made so far are torn down as the child's
   * exit_mmap would (free_pgtables through the rmap locker, one read and one
   * write acquisition of the child's mmap_lock), nothing of the child is
   * left in any file's i_mmap, and this address space is unchanged. Errors
   * other than allocation failures are rethrown after the same cleanup.
   */
  fork(options: ForkOptions = {}): AddressSpace | number {
    this.lockWrite();
    try {
      // The child's mmap_write_lock_nested, taken before the copy.
      this.counters.mmapLockWrite++;
      const dup = new DupMmap(this.counters, options);
      let index: VmaIndex;
      try {
        index = this.index.dup(dup.copy);
      } catch (e) {
        // exit_mmap of the half-built child: read + write lock, free_pgtables
        // up to the failure point (XA_ZERO_ENTRY), remove_vma.
        this.counters.mmapLockRead++;
        this.counters.mmapLockWrite++;
        freePgtables(dup.copied, this.rmap);
        this.counters.vmaFreed += dup.copied.length;
        if (isAllocationFailure(e)) return -ENOMEM;
        throw e;
      }
      if (index.count !== dup.copied.length) {
        throw new Error(
          `mm: fork: index ${index.name} holds ${index.count} VMAs, ${dup.copied.length} were copied`,
        );
      }
      const child = new AddressSpace({
        index,
        finder: this.finder.fork(),
        rmap: this.rmap,
        counters: this.counters,
        topDown: this.topDown,
        mmapBase: this.mmapBase,
        legacyBase: this.legacyBase,
        taskSize: this.taskSize,
        mmapMinAddr: this.mmapMinAddr,
        maxMapCount: this.maxMapCount,
        stackGuardGap: this.stackGuardGap,
        stackRlimit: this.stackRlimit,
        thp: this.thp,
        ksm: this.ksm,
        verify: this.verify,
        madviseLocking: this.madviseLocking,
      });
      child.mmapLock.downWrite();
      child.mmapLock.upWrite();
      child.startBrk = this.startBrk;
      child.brkAddr = this.brkAddr;
      child.startStack = this.startStack;
      child.shmemInodes = this.shmemInodes;
      if (child.verify) child.validate();
      return child;
    } finally {
      this.unlockWrite();
    }
  }

  // ------------------------------------------------------------------ checks

  /** Validates the index and the address space's own invariants; throws naming the broken one. */
  validate(): void {
    this.index.validate();
    let prev: Vma | undefined;
    let n = 0;
    for (const v of this.index) {
      n++;
      if (!(v.start < v.end) || !isPageAligned(v.start) || !isPageAligned(v.end)) {
        throw new Error(`mm: VMA ${v} is empty or not page aligned`);
      }
      if (prev && prev.end > v.start) throw new Error(`mm: VMAs ${prev} and ${v} overlap`);
      if (v.end > this.taskSize && v.name !== '[vsyscall]') {
        throw new Error(`mm: VMA ${v} ends above TASK_SIZE ${hex(this.taskSize)}`);
      }
      if (v.file && !v.file.iMmap.has(v)) throw new Error(`mm: file VMA ${v} missing from i_mmap`);
      if (v.flags & VM_SOFTDIRTY) throw new Error(`mm: VM_SOFTDIRTY set on ${v} (not configured)`);
      prev = v;
    }
    if (n !== this.index.count)
      throw new Error(`mm: index count ${this.index.count} but ${n} VMAs`);
  }
}

/** calc_vm_prot_bits. */
export function calcVmProtBits(prot: number): number {
  return (
    (prot & PROT_READ ? VM_READ : 0) |
    (prot & PROT_WRITE ? VM_WRITE : 0) |
    (prot & PROT_EXEC ? VM_EXEC : 0)
  );
}

/** calc_vm_flag_bits: MAP_GROWSDOWN, MAP_LOCKED, MAP_SYNC, MAP_STACK → VM_NOHUGEPAGE. */
export function calcVmFlagBits(flags: number): number {
  return (
    (flags & MAP_GROWSDOWN ? VM_GROWSDOWN : 0) |
    (flags & MAP_LOCKED ? VM_LOCKED : 0) |
    (flags & MAP_SYNC ? VM_SYNC : 0) |
    (flags & MAP_STACK ? VM_NOHUGEPAGE : 0)
  );
}

/** Advice that changes VMA flags (takes mmap_lock for writing, may split). */
export function adviceChangesFlags(advice: number): boolean {
  switch (advice) {
    case MADV_NORMAL:
    case MADV_RANDOM:
    case MADV_SEQUENTIAL:
    case MADV_DONTFORK:
    case MADV_DOFORK:
    case MADV_DONTDUMP:
    case MADV_DODUMP:
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
    case MADV_MERGEABLE:
    case MADV_UNMERGEABLE:
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE:
      return true;
    default:
      return false;
  }
}
