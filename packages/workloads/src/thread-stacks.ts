/**
 * `thread-stacks`: the free_area_cache experiments (Molnar, 2.5/2.6; Wander's
 * `cached_hole_size`, 2005; kernel-facts §3.4, §12.4). A thread stack is an
 * 8 MiB `MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK` read-write mapping plus a
 * `PROT_NONE` guard page at its lowest page (glibc's pthread_create), so two
 * VMAs per thread: the guard never merges with the neighbouring stack.
 *
 * Modes:
 * - `stacks` (test_str02): each step creates one more stack, so step n
 *   places stack n among 2(n − 1) VMAs — the per-stack cost as N grows. When
 *   `stacks` stacks exist, the next step first unmaps them all (they are one
 *   contiguous range: one munmap) and the count starts again at 1.
 * - `leak` (the allocate/free churn behind `cached_hole_size`): `stacks`
 *   stacks are created in setup; each step is one thread exiting and one
 *   starting — munmap a random live stack, create a new one.
 *
 * The experiment predates THP: `thp: false`, so no 2 MiB padding of the
 * 8 MiB stacks (as benchmarks/src/thread-stacks-scaling.ts).
 */
import {
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_STACK,
  PAGE_SIZE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  Prng,
} from '@vmalab/core';
import type { AddressSpace, AddressSpaceOptions } from '@vmalab/mm';
import {
  callText,
  checkSeed,
  num,
  type Resolved,
  resolveParams,
  str,
  WorkloadSyscallError,
} from './params.js';
import type {
  MmFactory,
  Workload,
  WorkloadInstance,
  WorkloadParam,
  WorkloadParams,
} from './workload.js';

const NAME = 'thread-stacks';
/** glibc's default thread stack (RLIMIT_STACK 8 MiB). */
export const THREAD_STACK_SIZE = 8 << 20;
const PROT = PROT_READ | PROT_WRITE;
const FLAGS = MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK;
/**
 * The most stacks an empty address space holds: stack k's guard split needs
 * map_count 2k − 1 < max_map_count (65 530).
 */
export const MAX_THREAD_STACKS = 32765;
/** Stack counts of the published scaling runs (Wander: 20 000; the issue: up to 30 000). */
export const THREAD_STACK_COUNTS: readonly number[] = [1000, 2000, 5000, 10000, 20000, 30000];

const PARAMS: readonly WorkloadParam[] = [
  {
    name: 'mode',
    type: 'enum',
    values: ['stacks', 'leak', 'leakme'],
    default: 'stacks',
    description:
      "'stacks': one new stack per step up to `stacks`, then start over (test_str02); 'leak': `stacks` live stacks, one random exit + one creation per step; 'leakme': Wander's pattern — map a big block (8–64 pages) and a small one (1–4), unmap the big one, keep at most `stacks` small ones (run it with stacks=32 and layout=bottom-up, as he did)",
  },
  {
    name: 'stacks',
    type: 'number',
    default: 1000,
    min: 1,
    max: MAX_THREAD_STACKS,
    description: "'stacks': stacks per cycle; 'leak': live stacks; 'leakme': live small blocks",
  },
  {
    name: 'layout',
    type: 'enum',
    values: ['top-down', 'bottom-up'],
    default: 'top-down',
    description:
      "mmap layout: 'top-down' (x86-64 default) or 'bottom-up' from TASK_UNMAPPED_BASE (legacy_va_layout, the 2.6 32-bit experiments)",
  },
];

class ThreadStacks implements WorkloadInstance {
  readonly unit = 'stack';
  readonly opsPerStep: number;
  readonly mmOptions: Partial<AddressSpaceOptions>;
  private readonly leak: boolean;
  private readonly leakme: boolean;
  /** leakme: the live small blocks' lengths (addresses in `addrs`). */
  private readonly lens: Float64Array;
  private readonly max: number;
  /** Live stacks' addresses; `live` of them are in use. */
  private readonly addrs: Float64Array;
  private live = 0;
  private prng: Prng;

  constructor(
    readonly params: Resolved,
    private readonly seed: number,
  ) {
    this.leak = str(params, 'mode') === 'leak';
    this.leakme = str(params, 'mode') === 'leakme';
    this.max = num(params, 'stacks');
    this.opsPerStep = this.leak || this.leakme ? 3 : 2;
    this.lens = new Float64Array(this.leakme ? this.max : 0);
    this.mmOptions = { thp: false, topDown: str(params, 'layout') === 'top-down' };
    this.addrs = new Float64Array(this.max);
    this.prng = new Prng(seed);
  }

  /** pthread_create's stack: mmap + guard page. */
  private create(mm: AddressSpace): number {
    const a = mm.mmap(0, THREAD_STACK_SIZE, PROT, FLAGS);
    if (a < 0) {
      throw new WorkloadSyscallError(NAME, callText('mmap', 0, THREAD_STACK_SIZE, PROT, FLAGS), a);
    }
    const r = mm.mprotect(a, PAGE_SIZE, PROT_NONE);
    if (r !== 0) throw new WorkloadSyscallError(NAME, callText('mprotect', a, PAGE_SIZE, 0), r);
    return a;
  }

  private unmap(mm: AddressSpace, a: number, len: number): void {
    const r = mm.munmap(a, len);
    if (r !== 0) throw new WorkloadSyscallError(NAME, callText('munmap', a, len), r);
  }

  /** Unmaps every live stack: one munmap when they are contiguous, else one each (creation order). */
  private unmapAll(mm: AddressSpace): void {
    let lo = Number.POSITIVE_INFINITY;
    let hi = 0;
    for (let i = 0; i < this.live; i++) {
      const a = this.addrs[i] as number;
      if (a < lo) lo = a;
      if (a + THREAD_STACK_SIZE > hi) hi = a + THREAD_STACK_SIZE;
    }
    if (this.live > 0 && hi - lo === this.live * THREAD_STACK_SIZE) {
      this.unmap(mm, lo, hi - lo);
    } else {
      for (let i = 0; i < this.live; i++) {
        this.unmap(mm, this.addrs[i] as number, THREAD_STACK_SIZE);
      }
    }
    this.live = 0;
  }

  setup(newMm: MmFactory): AddressSpace {
    this.prng = new Prng(this.seed);
    this.live = 0;
    const mm = newMm(this.mmOptions);
    if (this.leak) {
      for (; this.live < this.max; this.live++) this.addrs[this.live] = this.create(mm);
    }
    return mm;
  }

  /** mmap(NULL, len, RW, MAP_PRIVATE|MAP_ANONYMOUS). */
  private anon(mm: AddressSpace, len: number): number {
    const a = mm.mmap(0, len, PROT, MAP_PRIVATE | MAP_ANONYMOUS);
    if (a < 0)
      throw new WorkloadSyscallError(
        NAME,
        callText('mmap', 0, len, PROT, MAP_PRIVATE | MAP_ANONYMOUS),
        a,
      );
    return a;
  }

  step(mm: AddressSpace): void {
    if (this.leakme) {
      const bigLen = this.prng.range(8, 64) * PAGE_SIZE;
      const big = this.anon(mm, bigLen);
      const smallLen = this.prng.range(1, 4) * PAGE_SIZE;
      const small = this.anon(mm, smallLen);
      this.unmap(mm, big, bigLen);
      if (this.live === this.max) {
        // Too many kept: one random small block goes.
        const k = this.prng.int(this.max);
        this.unmap(mm, this.addrs[k] as number, this.lens[k] as number);
        this.addrs[k] = small;
        this.lens[k] = smallLen;
      } else {
        this.addrs[this.live] = small;
        this.lens[this.live++] = smallLen;
      }
      return;
    }
    if (this.leak) {
      const k = this.prng.int(this.max);
      this.unmap(mm, this.addrs[k] as number, THREAD_STACK_SIZE);
      this.addrs[k] = this.create(mm);
      return;
    }
    if (this.live === this.max) this.unmapAll(mm);
    this.addrs[this.live++] = this.create(mm);
  }

  /** Every live stack is unmapped: the address space is empty afterwards. */
  finish(mm: AddressSpace): void {
    if (this.leakme) {
      for (let i = 0; i < this.live; i++)
        this.unmap(mm, this.addrs[i] as number, this.lens[i] as number);
      this.live = 0;
      return;
    }
    this.unmapAll(mm);
  }
}

export const threadStacks: Workload = {
  name: NAME,
  description:
    'thread stacks: mmap 8 MiB MAP_STACK + mprotect(PROT_NONE) of the lowest page, 2 VMAs per thread',
  source:
    'free_area_cache (Molnar, 2.5/2.6) and cached_hole_size (Wander, 2.6.13): test_str02, 20 000 threads in 0.7 s with the cache, 30+ s without (kernel-facts §3.4, §12.4)',
  params: PARAMS,
  create(given: WorkloadParams, seed: number): WorkloadInstance {
    const p = resolveParams(NAME, PARAMS, given);
    checkSeed(NAME, seed);
    return new ThreadStacks(p, seed);
  },
};
