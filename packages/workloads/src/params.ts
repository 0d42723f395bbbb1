/**
 * Parameter resolution shared by every workload: defaults filled in, unknown
 * names rejected, each value checked against its `WorkloadParam` — always
 * with a `WorkloadParamError` that names the parameter and says what is
 * allowed. Also the syscall-result check every step uses.
 */
import { errnoName, hex } from '@vmalab/core';
import { type WorkloadParam, WorkloadParamError, type WorkloadParams } from './workload.js';

/** What `resolveParams` returns: every parameter present, with its declared type. */
export type Resolved = Readonly<Record<string, number | string | boolean>>;

function allowed(p: WorkloadParam): string {
  switch (p.type) {
    case 'number':
      return `an integer in [${p.min ?? '-∞'}, ${p.max ?? '∞'}]`;
    case 'enum':
      return `one of ${(p.values ?? []).map((v) => `'${v}'`).join(', ')}`;
    case 'boolean':
      return 'true or false';
  }
}

/**
 * Resolves `given` against `specs`. A number parameter also accepts a
 * decimal string (`'1024'`) and a boolean one `'true'`/`'false'`, as flag
 * parsers produce them; every number parameter is an integer.
 */
export function resolveParams(
  workload: string,
  specs: readonly WorkloadParam[],
  given: WorkloadParams,
): Resolved {
  const byName = new Map(specs.map((p) => [p.name, p]));
  for (const name of Object.keys(given)) {
    if (!byName.has(name)) {
      const names = specs.map((p) => p.name).join(', ') || 'none';
      throw new WorkloadParamError(workload, name, `unknown parameter (parameters: ${names})`);
    }
  }
  const out: Record<string, number | string | boolean> = {};
  for (const p of specs) {
    const raw = given[p.name];
    if (raw === undefined) {
      out[p.name] = p.default;
      continue;
    }
    const bad = (): WorkloadParamError =>
      new WorkloadParamError(workload, p.name, `must be ${allowed(p)}, got ${JSON.stringify(raw)}`);
    switch (p.type) {
      case 'number': {
        const v = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw bad();
        if ((p.min !== undefined && v < p.min) || (p.max !== undefined && v > p.max)) throw bad();
        out[p.name] = v;
        break;
      }
      case 'enum': {
        const v = String(raw);
        if (typeof raw === 'boolean' || !(p.values ?? []).includes(v)) throw bad();
        out[p.name] = v;
        break;
      }
      case 'boolean': {
        const v = raw === 'true' ? true : raw === 'false' ? false : raw;
        if (typeof v !== 'boolean') throw bad();
        out[p.name] = v;
        break;
      }
    }
  }
  return out;
}

/** The seed must be a safe integer (the PRNG uses its low 32 bits). */
export function checkSeed(workload: string, seed: number): void {
  if (!Number.isSafeInteger(seed)) {
    throw new WorkloadParamError(workload, 'seed', `must be an integer, got ${String(seed)}`);
  }
}

/** Reads a resolved number parameter. */
export function num(p: Resolved, name: string): number {
  return p[name] as number;
}

/** Reads a resolved enum parameter. */
export function str(p: Resolved, name: string): string {
  return p[name] as string;
}

/** Reads a resolved boolean parameter. */
export function bool(p: Resolved, name: string): boolean {
  return p[name] as boolean;
}

/**
 * Thrown when a system call of a step returns an unexpected result: a
 * strategy bug (or an impossible parameter combination), never a
 * measurement.
 */
export class WorkloadSyscallError extends Error {
  constructor(
    readonly workload: string,
    readonly call: string,
    readonly result: number,
  ) {
    super(
      `workload ${workload}: ${call} returned ${result < 0 ? `-${errnoName(result)}` : String(result)}`,
    );
    this.name = 'WorkloadSyscallError';
  }
}

/** `name(0x1000, 8192, …)` — the arguments of a failed call, addresses in hex. */
export function callText(name: string, ...args: readonly number[]): string {
  return `${name}(${args.map((a) => (a >= 0x10000 ? hex(a) : String(a))).join(', ')})`;
}
