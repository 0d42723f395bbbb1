/**
 * Test helpers: address-space factories over chosen strategies (what the
 * bench app's cells do), an address space that records the system calls a
 * workload makes, and a runner that returns what a determinism check needs.
 * Not part of the build (tsconfig.build.json excludes it).
 */
import { Counters, type CountersSnapshot, type Vma } from '@vmalab/core';
import { strategy as fac } from '@vmalab/finder-free-area-cache';
import { strategy as gap } from '@vmalab/finder-gap';
import { strategy as linear } from '@vmalab/finder-linear';
import { strategy as list } from '@vmalab/index-list';
import { strategy as maple } from '@vmalab/index-maple';
import { strategy as rbtree } from '@vmalab/index-rbtree';
import {
  AddressSpace,
  type AddressSpaceOptions,
  type ExecImage,
  type ForkOptions,
  formatMaps,
  type Iovec,
  type MadviseLocking,
  type MmapFile,
} from '@vmalab/mm';
import { strategy as batched } from '@vmalab/rmap-batched';
import { strategy as unbatched } from '@vmalab/rmap-unbatched';
import type { MmFactory, Workload, WorkloadParams } from './workload.js';

/** index + finder combinations. */
export type Combo =
  | 'list+linear'
  | 'maple+gap'
  | 'maple-insert+gap'
  | 'rbtree-raw+gap'
  | 'rbtree-guard+gap'
  | 'rbtree+free-area-cache';

/**
 * The kernel-exact combinations: they must give identical layouts. The 2.6
 * free-area-cache finder places differently once holes appear (its cache
 * skips them — the fragmentation Wander fixed), so it is only smoke-tested.
 */
export const EXACT: readonly Combo[] = ['list+linear', 'maple+gap', 'rbtree-raw+gap'];

export interface CellOptions {
  rmap?: 'batched' | 'unbatched';
  madviseLocking?: MadviseLocking;
  /** mm's verify mode (validate after every call); off by default for speed. */
  verify?: boolean;
}

/** Counts (and optionally logs) the system calls made on it. */
export class RecordingMm extends AddressSpace {
  readonly calls = new Map<string, number>();
  readonly log: string[] | null;

  constructor(o: AddressSpaceOptions, log: boolean) {
    super(o);
    this.log = log ? [] : null;
  }

  private note(name: string, args: readonly unknown[], result: unknown): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    if (this.log) {
      const r = typeof result === 'number' ? result.toString(16) : String(result);
      this.log.push(`${name}(${args.map((a) => JSON.stringify(a)).join(',')})=${r}`);
    }
  }

  count(name: string): number {
    return this.calls.get(name) ?? 0;
  }

  override mmap(
    addr: number,
    len: number,
    prot: number,
    flags: number,
    file: MmapFile | null = null,
  ): number {
    const r = super.mmap(addr, len, prot, flags, file);
    this.note('mmap', [addr, len, prot, flags, file ? file.offset : null], r);
    return r;
  }
  override munmap(addr: number, len: number): number {
    const r = super.munmap(addr, len);
    this.note('munmap', [addr, len], r);
    return r;
  }
  override mprotect(start: number, len: number, prot: number): number {
    const r = super.mprotect(start, len, prot);
    this.note('mprotect', [start, len, prot], r);
    return r;
  }
  override madvise(start: number, len: number, advice: number): number {
    const r = super.madvise(start, len, advice);
    this.note('madvise', [start, len, advice], r);
    return r;
  }
  override processMadvise(iov: readonly Iovec[], advice: number, flags = 0): number {
    const r = super.processMadvise(iov, advice, flags);
    this.note('process_madvise', [iov.length, iov[0]?.base ?? 0, advice, flags], r);
    return r;
  }
  override fork(options: ForkOptions = {}): AddressSpace | number {
    const r = super.fork(options);
    this.note('fork', [], typeof r === 'number' ? r : r.mapCount);
    return r;
  }
  override exec(image: ExecImage): number {
    const r = super.exec(image);
    this.note('exec', [], r);
    return r;
  }
  override exit(): void {
    super.exit();
    this.note('exit', [], 0);
  }
}

/** A factory over `combo` (and the cell options), as the bench app would pass to `setup`. */
export function cell(
  combo: Combo,
  o: CellOptions = {},
  log = false,
): { newMm: MmFactory; counters: Counters } {
  const counters = new Counters();
  const newMm: MmFactory = (extra = {}) => {
    const [index, finder] = combo.split('+') as [string, string];
    return new RecordingMm(
      {
        index:
          index === 'list'
            ? list.create({}, counters)
            : index === 'maple'
              ? maple.create({}, counters)
              : index === 'maple-insert'
                ? maple.create({ dup: 'insert' }, counters)
                : rbtree.create({ gaps: index === 'rbtree-guard' ? 'guard' : 'raw' }, counters),
        finder:
          finder === 'linear'
            ? linear.create({}, counters)
            : finder === 'gap'
              ? gap.create({}, counters)
              : fac.create({}, counters),
        rmap: (o.rmap === 'unbatched' ? unbatched : batched).create({}, counters),
        counters,
        verify: o.verify ?? false,
        ...(o.madviseLocking ? { madviseLocking: o.madviseLocking } : {}),
        ...extra,
      },
      log,
    );
  };
  return { newMm, counters };
}

export interface RunResult {
  mm: RecordingMm;
  counters: Counters;
  /** System calls made by setup, and by setup + the steps, by name. */
  setupCalls: ReadonlyMap<string, number>;
  stepsCalls: ReadonlyMap<string, number>;
  /** formatMaps after the steps (before finish), and the VMAs then. */
  layout: string;
  vmas: Vma[];
  /** Counters after setup, after the steps, after finish. */
  afterSetup: CountersSnapshot;
  afterSteps: CountersSnapshot;
  afterFinish: CountersSnapshot;
  /** formatMaps after finish. */
  finalLayout: string;
}

/** setup, `steps` steps, finish — over `combo`. */
export function run(
  w: Workload,
  params: WorkloadParams,
  seed: number,
  steps: number,
  combo: Combo = 'maple+gap',
  o: CellOptions = {},
  log = false,
): RunResult {
  const inst = w.create(params, seed);
  const { newMm, counters } = cell(combo, o, log);
  const mm = inst.setup(newMm) as RecordingMm;
  const afterSetup = counters.snapshot();
  const setupCalls = new Map(mm.calls);
  for (let i = 0; i < steps; i++) inst.step(mm);
  const afterSteps = counters.snapshot();
  const stepsCalls = new Map(mm.calls);
  const layout = formatMaps(mm);
  const vmas = mm.vmas();
  inst.finish?.(mm);
  mm.validate();
  return {
    mm,
    counters,
    setupCalls,
    stepsCalls,
    layout,
    vmas,
    afterSetup,
    afterSteps,
    afterFinish: counters.snapshot(),
    finalLayout: formatMaps(mm),
  };
}

/** System calls of the steps alone, by name. */
export function stepCalls(r: RunResult, name: string): number {
  return (r.stepsCalls.get(name) ?? 0) - (r.setupCalls.get(name) ?? 0);
}

/** System calls of finish alone, by name. */
export function finishCalls(r: RunResult, name: string): number {
  return r.mm.count(name) - (r.stepsCalls.get(name) ?? 0);
}

/** Counter deltas of the steps alone. */
export function stepCost(r: RunResult): CountersSnapshot {
  return Counters.diff(r.afterSteps, r.afterSetup);
}

/** A numeric counter of a snapshot. */
export function n(s: CountersSnapshot, name: string): number {
  const v = s[name];
  if (typeof v !== 'number') throw new Error(`counter ${name} is not a number`);
  return v;
}
