/**
 * The contract between a workload and whoever runs it (the `vmalab bench`
 * matrix, `vmalab reproduce`, tests). A workload is a published experiment
 * behind a kernel change, as a deterministic generator of system calls on an
 * `AddressSpace`: the same parameters and seed give the same calls, the same
 * final layout and the same counters with any strategies.
 */
import type { AddressSpace, AddressSpaceOptions } from '@vmalab/mm';

/** One parameter of a workload (for `vmalab list`, flag parsing and matrix files). */
export interface WorkloadParam {
  readonly name: string;
  readonly type: 'number' | 'enum' | 'boolean';
  /** Allowed values of an enum parameter. */
  readonly values?: readonly string[];
  /** The published value. */
  readonly default: number | string | boolean;
  /** Inclusive bounds of a number parameter. */
  readonly min?: number;
  readonly max?: number;
  readonly description: string;
}

export type WorkloadParams = Readonly<Record<string, number | string | boolean>>;

/** Creates an address space over the strategies of the cell being run. */
export type MmFactory = (extra?: Partial<AddressSpaceOptions>) => AddressSpace;

export interface Workload {
  readonly name: string;
  readonly description: string;
  /** The experiment it reproduces: who, when, which kernel change. */
  readonly source: string;
  readonly params: readonly WorkloadParam[];
  /**
   * A runnable instance. Throws a `WorkloadParamError` naming the parameter
   * for a bad value. `seed` drives every random choice.
   */
  create(params: WorkloadParams, seed: number): WorkloadInstance;
}

export interface WorkloadInstance {
  /** The resolved parameters (defaults filled in). */
  readonly params: WorkloadParams;
  /** What one step is, for reports: 'iteration', 'fork', 'exec', 'pass', 'stack'… */
  readonly unit: string;
  /**
   * Operations per step, to report per-operation counters (e.g. a madvise
   * pass over 256 MiB in 4 KiB pieces is 65 536 operations).
   */
  readonly opsPerStep: number;
  /** Address-space options the experiment needs (e.g. `{ thp: false }`). */
  readonly mmOptions?: Partial<AddressSpaceOptions>;
  /**
   * Builds the untimed initial state. `newMm` creates an address space over
   * the cell's strategies (with `mmOptions`); the returned one is passed to
   * every `step` and to `finish`.
   */
  setup(newMm: MmFactory): AddressSpace;
  /**
   * One timed step. Deterministic given the seed and the number of steps run
   * before it. Every system call's result is checked: an unexpected errno
   * throws (a strategy bug, not a measurement).
   */
  step(mm: AddressSpace): void;
  /**
   * Untimed: after `steps` steps, anything the step leaves behind is cleaned
   * up so the final layout is comparable across cells. Optional.
   */
  finish?(mm: AddressSpace): void;
}

export class WorkloadParamError extends Error {
  constructor(
    readonly workload: string,
    readonly param: string,
    message: string,
  ) {
    super(`workload ${workload}: parameter ${param}: ${message}`);
    this.name = 'WorkloadParamError';
  }
}
