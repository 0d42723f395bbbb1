/**
 * `fork`: the `__mt_dup` series (Peng Zhang, Oct 2023; kernel-facts §1.12,
 * §12.3) — byte-unixbench "spawn" modified to vary the number of VMAs: fork
 * a process with K VMAs, the child exits.
 *
 * The K VMAs are one page each, adjacent, from mmap_base downwards, in a
 * repeating pattern of four so that no two neighbours merge:
 *
 *   i mod 4 = 0: anonymous rw-p    1: anonymous r--p
 *             2: file r--p         3: file rw-p (MAP_PRIVATE)
 *
 * (the file is one `MappedFile`, offset i pages). The file VMAs are what
 * fork links into i_mmap, one i_mmap write lock each, and what the child's
 * exit unlinks through the rmap locker. They are placed with
 * MAP_FIXED_NOREPLACE so that building 51 221 VMAs costs no placement search
 * with any finder (setup is untimed; the step is fork + exit).
 *
 * With `touch`, every writable VMA is write-faulted in setup (it gets an
 * anon_vma, so fork also runs anon_vma_fork for it): the published
 * measurements distinguish untouched VMAs from written ones.
 */
import {
  hex,
  MAP_ANONYMOUS,
  MAP_FIXED_NOREPLACE,
  MAP_PRIVATE,
  MappedFile,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
} from '@vmalab/core';
import type { AddressSpace } from '@vmalab/mm';
import {
  bool,
  callText,
  checkSeed,
  num,
  type Resolved,
  resolveParams,
  WorkloadSyscallError,
} from './params.js';
import type {
  MmFactory,
  Workload,
  WorkloadInstance,
  WorkloadParam,
  WorkloadParams,
} from './workload.js';

const NAME = 'fork';
/** The VMA counts of the published table (cover letter v7). */
export const FORK_VMA_COUNTS: readonly number[] = [
  21, 121, 221, 421, 821, 1621, 3221, 6421, 12821, 25621, 51221,
];

const PARAMS: readonly WorkloadParam[] = [
  {
    name: 'vmas',
    type: 'number',
    default: 1621,
    min: 1,
    max: 65530,
    description: `VMAs of the forked process (published: ${FORK_VMA_COUNTS.join(', ')})`,
  },
  {
    name: 'touch',
    type: 'boolean',
    default: false,
    description: 'write-fault every writable VMA in setup (anon_vma, so fork runs anon_vma_fork)',
  },
];

/** Is VMA i (in the pattern above) file-backed? */
export function forkVmaIsFile(i: number): boolean {
  return i % 4 >= 2;
}

/** File VMAs among the first `k` of the pattern: what fork takes i_mmap write locks for. */
export function forkFileVmas(k: number): number {
  return 2 * Math.floor(k / 4) + Math.max(0, (k % 4) - 2);
}

class Fork implements WorkloadInstance {
  readonly unit = 'fork';
  readonly opsPerStep = 1;
  private readonly k: number;
  private readonly touch: boolean;

  constructor(readonly params: Resolved) {
    this.k = num(params, 'vmas');
    this.touch = bool(params, 'touch');
  }

  setup(newMm: MmFactory): AddressSpace {
    const mm = newMm();
    const file = new MappedFile('/vmalab/fork-spawn.data', 'fe:00', 4096);
    const top = mm.mmapBase;
    for (let i = 0; i < this.k; i++) {
      const addr = top - (i + 1) * PAGE_SIZE;
      const isFile = forkVmaIsFile(i);
      const p = i % 4 === 0 || i % 4 === 3 ? PROT_READ | PROT_WRITE : PROT_READ;
      const flags = MAP_PRIVATE | MAP_FIXED_NOREPLACE | (isFile ? 0 : MAP_ANONYMOUS);
      const a = mm.mmap(addr, PAGE_SIZE, p, flags, isFile ? { file, offset: i * PAGE_SIZE } : null);
      if (a !== addr) {
        throw new WorkloadSyscallError(NAME, callText('mmap', addr, PAGE_SIZE, p, flags), a);
      }
      if (this.touch && p & PROT_WRITE) {
        const f = mm.fault(addr, true);
        if (f !== 'ok') throw new Error(`workload ${NAME}: write fault at ${hex(addr)} gave ${f}`);
      }
    }
    if (mm.mapCount !== this.k) {
      throw new Error(`workload ${NAME}: setup made ${mm.mapCount} VMAs, expected ${this.k}`);
    }
    return mm;
  }

  step(mm: AddressSpace): void {
    const child = mm.fork();
    if (typeof child === 'number') throw new WorkloadSyscallError(NAME, 'fork()', child);
    child.exit();
  }
}

export const fork: Workload = {
  name: NAME,
  description:
    'fork of a process with K non-mergeable VMAs (alternating protections, half file-backed) and exit of the child',
  source:
    '__mt_dup series (Peng Zhang, Oct 2023, Linux 6.8): forks per 10 s +2.19 % at 21 VMAs to +53.74 % at 25 621 (kernel-facts §1.12, §12.3)',
  params: PARAMS,
  create(given: WorkloadParams, seed: number): WorkloadInstance {
    const p = resolveParams(NAME, PARAMS, given);
    checkSeed(NAME, seed);
    return new Fork(p);
  },
};
