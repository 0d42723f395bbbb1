/**
 * `mmap-churn`: the maple-tree regression report (Nov 2023, kernel-facts
 * §12.1). 1024 anonymous private read-write mappings of `1024 × (rand() % 32
 * + 1)` bytes, then iterations of {munmap mapping k = rand() % 1024, mmap a
 * new one of a new random size, store it at k}; finally unmap all. Adjacent
 * mappings merge, so the live set is a few hundred VMAs and most munmaps
 * split a merged VMA — the `__split_vma` path the report's profiles show.
 *
 * One step is one iteration: one munmap and one mmap (opsPerStep 2).
 * The slot arrays are typed arrays (addresses < 2^47 are exact in a double).
 */
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, Prng } from '@vmalab/core';
import type { AddressSpace as Mm } from '@vmalab/mm';
import {
  callText,
  checkSeed,
  num,
  type Resolved,
  resolveParams,
  WorkloadSyscallError,
} from './params.js';
import {
  type MmFactory,
  type Workload,
  type WorkloadInstance,
  type WorkloadParam,
  WorkloadParamError,
  type WorkloadParams,
} from './workload.js';

const NAME = 'mmap-churn';
const PROT = PROT_READ | PROT_WRITE;
const FLAGS = MAP_PRIVATE | MAP_ANONYMOUS;

const PARAMS: readonly WorkloadParam[] = [
  {
    name: 'mappings',
    type: 'number',
    default: 1024,
    min: 1,
    max: 65530,
    description: 'live mappings (slots); each iteration replaces a random one',
  },
  {
    name: 'minKiB',
    type: 'number',
    default: 1,
    min: 1,
    max: 65536,
    description: 'smallest mapping, in KiB (size = 1024 × uniform[minKiB, maxKiB] bytes)',
  },
  {
    name: 'maxKiB',
    type: 'number',
    default: 32,
    min: 1,
    max: 65536,
    description: 'largest mapping, in KiB (≥ minKiB)',
  },
];

class MmapChurn implements WorkloadInstance {
  readonly unit = 'iteration';
  readonly opsPerStep = 2;
  private readonly n: number;
  private readonly minKiB: number;
  private readonly spanKiB: number;
  private readonly addrs: Float64Array;
  private readonly sizes: Float64Array;
  private prng: Prng;

  constructor(
    readonly params: Resolved,
    private readonly seed: number,
  ) {
    this.n = num(params, 'mappings');
    this.minKiB = num(params, 'minKiB');
    this.spanKiB = num(params, 'maxKiB') - this.minKiB + 1;
    this.addrs = new Float64Array(this.n);
    this.sizes = new Float64Array(this.n);
    this.prng = new Prng(seed);
  }

  private size(): number {
    return 1024 * (this.minKiB + this.prng.int(this.spanKiB));
  }

  private map(mm: Mm, k: number): void {
    const len = this.size();
    const a = mm.mmap(0, len, PROT, FLAGS);
    if (a < 0) throw new WorkloadSyscallError(NAME, callText('mmap', 0, len, PROT, FLAGS), a);
    this.addrs[k] = a;
    this.sizes[k] = len;
  }

  private unmap(mm: Mm, k: number): void {
    const a = this.addrs[k] as number;
    const len = this.sizes[k] as number;
    const r = mm.munmap(a, len);
    if (r !== 0) throw new WorkloadSyscallError(NAME, callText('munmap', a, len), r);
  }

  setup(newMm: MmFactory): Mm {
    this.prng = new Prng(this.seed);
    const mm = newMm();
    for (let k = 0; k < this.n; k++) this.map(mm, k);
    return mm;
  }

  step(mm: Mm): void {
    const k = this.prng.int(this.n);
    this.unmap(mm, k);
    this.map(mm, k);
  }

  /** "finally unmap all": the address space is empty afterwards. */
  finish(mm: Mm): void {
    for (let k = 0; k < this.n; k++) this.unmap(mm, k);
  }
}

export const mmapChurn: Workload = {
  name: NAME,
  description:
    'anonymous mappings of 1–32 KiB, then {munmap a random one, mmap a new random size} per iteration',
  source:
    'maple-tree regression report (Nov 2023): 1024 maps, 10^7 iterations, v6.0 ~20 s vs v6.1 ~56 s (kernel-facts §12.1)',
  params: PARAMS,
  create(given: WorkloadParams, seed: number): WorkloadInstance {
    const p = resolveParams(NAME, PARAMS, given);
    checkSeed(NAME, seed);
    if (num(p, 'maxKiB') < num(p, 'minKiB')) {
      throw new WorkloadParamError(
        NAME,
        'maxKiB',
        `must be ≥ minKiB (${num(p, 'minKiB')}), got ${num(p, 'maxKiB')}`,
      );
    }
    return new MmapChurn(p, seed);
  },
};
