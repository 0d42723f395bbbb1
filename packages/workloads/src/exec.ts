/**
 * `exec`: the unlink batching patch (Mateusz Guzik, May 2024, Linux 6.11;
 * kernel-facts §6.4, §12.2) — execs of a dynamically linked program, whose
 * teardown unlinks each ELF object's ~5 consecutive same-file VMAs from the
 * file's i_mmap: one i_mmap_rwsem round trip per VMA before the patch, one
 * per run of ≤ 8 after.
 *
 * The process runs the recorded python3 image (42 VMAs, 32 of them file
 * VMAs of 8 files). One step is one `execve` of the same image into it:
 * `AddressSpace.exec` tears the old image down as exit_mmap does
 * (free_pgtables through the rmap locker) and installs the new one (each
 * file VMA linked under one i_mmap write lock). The loader's own mmap and
 * mprotect calls are not replayed (mm's exec model).
 */

import type { AddressSpace } from '@vmalab/mm';
import { imageSpecToSnapshot, PYTHON3_IMAGE, type SnapshotLine } from '@vmalab/mm';
import { checkSeed, type Resolved, resolveParams, str, WorkloadSyscallError } from './params.js';
import type {
  MmFactory,
  Workload,
  WorkloadInstance,
  WorkloadParam,
  WorkloadParams,
} from './workload.js';

const NAME = 'exec';

/** The images `exec` can run, by name. */
export const EXEC_IMAGES = { python3: PYTHON3_IMAGE } as const;

const PARAMS: readonly WorkloadParam[] = [
  {
    name: 'image',
    type: 'enum',
    values: Object.keys(EXEC_IMAGES),
    default: 'python3',
    description:
      "the program exec'd: 'python3' = python3 -S recorded on Linux 6.18 (42 VMAs; binary, ld.so, libc, libm, libz, libexpat × 5 VMAs)",
  },
];

class Exec implements WorkloadInstance {
  readonly unit = 'exec';
  readonly opsPerStep = 1;
  /** The image as maps lines, converted once (untimed); exec gives the same layout as from the spec. */
  private readonly lines: readonly SnapshotLine[];

  constructor(readonly params: Resolved) {
    this.lines = imageSpecToSnapshot(EXEC_IMAGES[str(params, 'image') as keyof typeof EXEC_IMAGES]);
  }

  private exec(mm: AddressSpace): void {
    const r = mm.exec(this.lines);
    if (r !== 0) throw new WorkloadSyscallError(NAME, `execve(${str(this.params, 'image')})`, r);
  }

  setup(newMm: MmFactory): AddressSpace {
    const mm = newMm();
    this.exec(mm);
    return mm;
  }

  step(mm: AddressSpace): void {
    this.exec(mm);
  }
}

export const exec: Workload = {
  name: NAME,
  description:
    'execve of a dynamically linked program (python3) over itself: teardown of the old image through the rmap locker, then the new image',
  source:
    'batched unlink_file_vma (Guzik, May 2024, Linux 6.11): ~50 k → ~52 k execs/s; i_mmap acquisitions covering 5 VMAs: 326 442 (kernel-facts §6.4, §12.2)',
  params: PARAMS,
  create(given: WorkloadParams, seed: number): WorkloadInstance {
    const p = resolveParams(NAME, PARAMS, given);
    checkSeed(NAME, seed);
    return new Exec(p);
  },
};
