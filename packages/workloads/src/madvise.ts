/**
 * `madvise`: the process_madvise series (SeongJae Park, Feb 2025, Linux
 * 6.15; kernel-facts §7, §12.5) — MADV_DONTNEED over a populated 256 MiB
 * anonymous region in 4 KiB pieces, either one madvise() per piece (vector
 * 0) or process_madvise() with `vector` iovecs per call.
 *
 * One step is one pass over the region: 65 536 pieces (opsPerStep), in
 * 65 536 madvise calls or 65 536 / vector process_madvise calls. Whether a
 * vector takes mmap_lock once (6.15+) or once per element is the address
 * space's `madviseLocking` option — a strategy axis of the cell, not a
 * workload parameter. The iovec arrays are built in setup (untimed) and
 * reused by every pass.
 *
 * mm does not model pages: a pass after the first advises memory that the
 * real kernel would find already empty; the VMA-level work (lookups, lock
 * round trips) is the same every pass.
 */
import {
  MADV_DONTNEED,
  MAP_ANONYMOUS,
  MAP_POPULATE,
  MAP_PRIVATE,
  PAGE_SIZE,
  PROT_READ,
  PROT_WRITE,
} from '@vmalab/core';
import { type AddressSpace, type Iovec, UIO_MAXIOV } from '@vmalab/mm';
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

const NAME = 'madvise';
/** The batch sizes of the published table (0 = plain madvise). */
export const MADVISE_VECTORS: readonly number[] = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
const PROT = PROT_READ | PROT_WRITE;
const FLAGS = MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;

const PARAMS: readonly WorkloadParam[] = [
  {
    name: 'vector',
    type: 'number',
    default: 1024,
    min: 0,
    max: UIO_MAXIOV,
    description:
      'iovecs per process_madvise call: 0 = one madvise per piece, else a power of two ≤ 1024',
  },
  {
    name: 'sizeMiB',
    type: 'number',
    default: 256,
    min: 1,
    max: 4096,
    description:
      'the populated anonymous region, in MiB (one pass = sizeMiB × 256 pieces of 4 KiB)',
  },
];

class Madvise implements WorkloadInstance {
  readonly unit = 'pass';
  readonly opsPerStep: number;
  private readonly vector: number;
  private readonly bytes: number;
  private base = 0;
  private vectors: Iovec[][] = [];

  constructor(readonly params: Resolved) {
    this.vector = num(params, 'vector');
    this.bytes = num(params, 'sizeMiB') * 1048576;
    this.opsPerStep = this.bytes / PAGE_SIZE;
  }

  setup(newMm: MmFactory): AddressSpace {
    const mm = newMm();
    const a = mm.mmap(0, this.bytes, PROT, FLAGS);
    if (a < 0)
      throw new WorkloadSyscallError(NAME, callText('mmap', 0, this.bytes, PROT, FLAGS), a);
    this.base = a;
    this.vectors = [];
    if (this.vector > 0) {
      for (let off = 0; off < this.bytes; off += this.vector * PAGE_SIZE) {
        const v: Iovec[] = [];
        for (let i = 0; i < this.vector && off + i * PAGE_SIZE < this.bytes; i++) {
          v.push({ base: a + off + i * PAGE_SIZE, len: PAGE_SIZE });
        }
        this.vectors.push(v);
      }
    }
    return mm;
  }

  step(mm: AddressSpace): void {
    if (this.vector === 0) {
      const end = this.base + this.bytes;
      for (let p = this.base; p < end; p += PAGE_SIZE) {
        const r = mm.madvise(p, PAGE_SIZE, MADV_DONTNEED);
        if (r !== 0) {
          throw new WorkloadSyscallError(NAME, callText('madvise', p, PAGE_SIZE, MADV_DONTNEED), r);
        }
      }
      return;
    }
    for (const v of this.vectors) {
      const r = mm.processMadvise(v, MADV_DONTNEED);
      if (r !== v.length * PAGE_SIZE) {
        const first = (v[0] as Iovec).base;
        throw new WorkloadSyscallError(
          NAME,
          `process_madvise([${v.length} × 4 KiB from 0x${first.toString(16)}], MADV_DONTNEED)`,
          r,
        );
      }
    }
  }
}

export const madvise: Workload = {
  name: NAME,
  description:
    'MADV_DONTNEED over a populated 256 MiB anonymous region in 4 KiB pieces, by madvise or by process_madvise vectors',
  source:
    'process_madvise with one mmap_lock per vector (SeongJae Park, Feb 2025, Linux 6.15): −20 % at vector 2, −28 % at 512 (kernel-facts §12.5)',
  params: PARAMS,
  create(given: WorkloadParams, seed: number): WorkloadInstance {
    const p = resolveParams(NAME, PARAMS, given);
    checkSeed(NAME, seed);
    const v = num(p, 'vector');
    if (v !== 0 && (v & (v - 1)) !== 0) {
      throw new WorkloadParamError(
        NAME,
        'vector',
        `must be 0 or a power of two ≤ ${UIO_MAXIOV} (${MADVISE_VECTORS.join(', ')}), got ${v}`,
      );
    }
    return new Madvise(p);
  },
};
