/**
 * Kernel baseline: the same workload as a small C program on the real kernel
 * (`benchmarks/kernel/*.c`), so that a simulated time can be shown beside a
 * real one from the same machine. The program is compiled with `gcc -O2`
 * once per source hash into a directory under `os.tmpdir()`, run with
 * positional arguments, and its single JSON output line is parsed.
 *
 * Absence of Linux, of gcc or of the C sources is not an error here: the
 * result is `{ skipped: reason }` (one line), and the caller decides whether
 * that is fatal (exit code 2 when the user asked for `--kernel` explicitly).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bootstrapCI, median } from '@vmalab/core/stats';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

/** `benchmarks/kernel` of the repository (apps/bench/src → ../../../benchmarks/kernel). */
export const KERNEL_SOURCE_DIR = resolve(here, '..', '..', '..', 'benchmarks', 'kernel');

export type KernelParams = Readonly<Record<string, number | string | boolean>>;

/** How one workload maps onto its C program's positional arguments. */
interface KernelProgram {
  /** `benchmarks/kernel/<source>.c` */
  readonly source: string;
  /** What one step (one `iteration` of the program) is. */
  readonly unit: string;
  /** Steps to run when the caller does not say: about a second on a 2-core VM. */
  readonly defaultIterations: number;
  /** Arguments after ITERATIONS and SEED, from the workload's parameters. */
  extraArgs(p: KernelParams): string[];
  /** Why these parameters have no C equivalent, if they have none. */
  unsupported?(p: KernelParams): string | undefined;
  /** The most steps the program can run for these parameters. */
  maxIterations?(p: KernelParams): number;
  /**
   * The program takes CYCLES after its extra arguments: it repeats setup,
   * ITERATIONS timed steps and cleanup, each cycle from the same seed. For a
   * workload whose steps change as it goes (mmap-churn fragments), so that a
   * case's steps from a fresh start can be timed as the simulation times
   * them: in cycles, over a long enough run.
   */
  cycles?: boolean;
}

/** A number parameter (numbers or decimal strings, as flag parsers give them), else the workload's default. */
function num(p: KernelParams, name: string, fallback: number): number {
  const v = p[name];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return fallback;
}

/**
 * Workload name → C program; parameter names and defaults are those of
 * @vmalab/workloads. `exec` runs /bin/true whatever the workload's `image`:
 * a real python3 start-up is dominated by the interpreter, not by exec.
 */
export const KERNEL_PROGRAMS: Readonly<Record<string, KernelProgram>> = {
  'mmap-churn': {
    source: 'mmap-churn',
    unit: 'iteration',
    defaultIterations: 200_000,
    extraArgs: (p) => [
      String(num(p, 'mappings', 1024)),
      String(num(p, 'minKiB', 1)),
      String(num(p, 'maxKiB', 32)),
    ],
    cycles: true,
  },
  'thread-stacks': {
    source: 'thread-stacks',
    unit: 'stack',
    defaultIterations: 2_000,
    extraArgs: () => [],
    unsupported: (p) =>
      p.mode === 'leak'
        ? "thread-stacks mode 'leak' has no C program (only mode 'stacks')"
        : p.layout === 'bottom-up'
          ? 'thread-stacks layout bottom-up cannot be chosen for the real kernel here (it uses its own top-down layout)'
          : undefined,
    // The workload starts over after `stacks` stacks; the program does not.
    maxIterations: (p) => num(p, 'stacks', 2000),
  },
  fork: {
    source: 'fork',
    unit: 'fork',
    defaultIterations: 300,
    extraArgs: (p) => [
      String(num(p, 'vmas', 1621)),
      p.touch === true || p.touch === 'true' ? '1' : '0',
    ],
  },
  exec: {
    source: 'exec',
    unit: 'exec',
    defaultIterations: 300,
    extraArgs: () => [],
  },
  madvise: {
    source: 'madvise',
    unit: 'pass',
    defaultIterations: 3,
    extraArgs: (p) => [String(num(p, 'vector', 1024)), String(num(p, 'sizeMiB', 256))],
  },
};

/** The JSON line a program prints (fields beyond these are kept in `raw`). */
export interface KernelRun {
  program: string;
  unit: string;
  iterations: number;
  elapsedNs: number;
  nsPerStep: number;
  /** The program's whole output object. */
  raw: Record<string, unknown>;
  /** The arguments it ran with, for the report. */
  argv: string[];
}

export interface KernelBaseline extends KernelRun {
  workload: string;
  /** `uname -r`-like: `os.release()` of the machine it ran on. */
  kernel: string;
}

export type Skipped = { skipped: string };

/** Why the kernel baseline cannot run here, or undefined when it can. */
export async function kernelUnavailable(): Promise<string | undefined> {
  if (process.platform !== 'linux') {
    return `kernel baseline skipped: needs Linux (this is ${process.platform})`;
  }
  try {
    await run('gcc', ['--version'], { timeout: 10_000 });
  } catch {
    return 'kernel baseline skipped: gcc not found on PATH (install gcc to compare with the real kernel)';
  }
  if (!existsSync(join(KERNEL_SOURCE_DIR, 'common.h'))) {
    return `kernel baseline skipped: C sources not found in ${KERNEL_SOURCE_DIR}`;
  }
  return undefined;
}

/**
 * Compiles `benchmarks/kernel/<name>.c` (with `common.h`) unless a binary
 * for the same sources is cached; returns the binary's path. The cache key
 * is a hash of both sources and the flags; a concurrent compile of the same
 * key is harmless (write to a unique name, then rename).
 */
export async function compileKernelProgram(name: string): Promise<string> {
  const src = join(KERNEL_SOURCE_DIR, `${name}.c`);
  const flags = ['-O2', '-Wall', '-std=gnu11'];
  const hash = createHash('sha256')
    .update(await readFile(src))
    .update(await readFile(join(KERNEL_SOURCE_DIR, 'common.h')))
    .update(flags.join(' '))
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), 'vmalab-kernel');
  const bin = join(dir, `${name}-${hash}`);
  if (existsSync(bin)) return bin;
  await mkdir(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.${Date.now()}.tmp`;
  try {
    await run('gcc', [...flags, '-o', tmp, src], { timeout: 60_000 });
    await rename(tmp, bin);
  } catch (e) {
    await rm(tmp, { force: true });
    const err = e as { stderr?: string; message: string };
    throw new Error(`gcc failed on ${src}: ${(err.stderr ?? err.message).trim()}`);
  }
  return bin;
}

/** Parses the last JSON line of a program's stdout. */
export function parseKernelOutput(stdout: string, argv: string[] = []): KernelRun {
  const line = stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (line === undefined) throw new Error(`kernel program printed no JSON line: ${stdout.trim()}`);
  const raw = JSON.parse(line) as Record<string, unknown>;
  if (typeof raw.error === 'string') throw new KernelProgramError(String(raw.program), raw.error);
  const iterations = Number(raw.iterations);
  const elapsedNs = Number(raw.elapsed_ns);
  if (!Number.isFinite(iterations) || !Number.isFinite(elapsedNs)) {
    throw new Error(`kernel program output lacks iterations/elapsed_ns: ${line}`);
  }
  return {
    program: String(raw.program),
    unit: String(raw.unit ?? 'iteration'),
    iterations,
    elapsedNs,
    nsPerStep: iterations > 0 ? elapsedNs / iterations : 0,
    raw,
    argv,
  };
}

/** The program ran but the kernel refused something (e.g. process_madvise on self). */
export class KernelProgramError extends Error {
  override name = 'KernelProgramError';
  constructor(
    readonly program: string,
    what: string,
  ) {
    super(`${program}: ${what}`);
  }
}

/** Compiles (cached) and runs one program with its positional arguments. */
export async function runKernelProgram(
  name: string,
  args: readonly string[],
  timeoutMs = 300_000,
): Promise<KernelRun> {
  const bin = await compileKernelProgram(name);
  let stdout: string;
  try {
    ({ stdout } = await run(bin, [...args], { timeout: timeoutMs, maxBuffer: 1 << 24 }));
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    // A JSON "error" line (exit code 1 or 3) says what the kernel refused.
    if (err.stdout?.includes('"error"')) return parseKernelOutput(err.stdout, [...args]);
    throw new Error(`${name} ${args.join(' ')} failed: ${(err.stderr || err.message).trim()}`);
  }
  return parseKernelOutput(stdout, [...args]);
}

/**
 * Runs `workload` with `params` (a WorkloadInstance's resolved `params`) as a
 * C program on this machine's kernel. `iterations` = steps to time (default:
 * about a second's worth). `steps` = the simulated case's steps: a program
 * with `cycles` then times cycles of exactly that many steps, each from a
 * fresh setup, `iterations` in all (rounded up to whole cycles); the others
 * ignore it (their steps are alike from first to last). `seed` is passed on
 * (the programs use their own PRNG, so the shape matches the workload, not
 * the exact random sequence).
 *
 * Returns `{ skipped }` — one line for the user — when there is no Linux, no
 * gcc, no C program for the workload, or the kernel refuses the experiment.
 */
export async function kernelBaseline(
  workload: string,
  params: KernelParams = {},
  options: { iterations?: number; steps?: number; seed?: number; timeoutMs?: number } = {},
): Promise<KernelBaseline | Skipped> {
  const program = KERNEL_PROGRAMS[workload];
  if (!program) {
    return {
      skipped: `kernel baseline skipped: no C program for workload '${workload}' (have: ${Object.keys(KERNEL_PROGRAMS).join(', ')})`,
    };
  }
  const why = await kernelUnavailable();
  if (why) return { skipped: why };
  const unsupported = program.unsupported?.(params);
  if (unsupported) return { skipped: `kernel baseline skipped: ${unsupported}` };
  const total = Math.max(1, Math.floor(options.iterations ?? program.defaultIterations));
  const steps = options.steps === undefined ? undefined : Math.max(1, Math.floor(options.steps));
  // Cycles of the case's steps, about `total` steps in all; or `total` steps in one go.
  const cycled = program.cycles === true && steps !== undefined && steps < total;
  const iterations = cycled
    ? (steps as number)
    : Math.min(total, program.maxIterations?.(params) ?? Number.POSITIVE_INFINITY);
  const args = [String(iterations), String(options.seed ?? 1), ...program.extraArgs(params)];
  if (cycled) args.push(String(Math.ceil(total / iterations)));
  try {
    const r = await runKernelProgram(program.source, args, options.timeoutMs);
    return { ...r, workload, kernel: release() };
  } catch (e) {
    if (e instanceof KernelProgramError) {
      return { skipped: `kernel baseline skipped: the kernel refused ${e.message}` };
    }
    throw e;
  }
}

/** Type guard for the skipped case. */
export function isSkipped<T extends object>(r: T | Skipped): r is Skipped {
  return 'skipped' in r;
}

/**
 * The kernel baseline of one workload case over a run: the program ran once
 * per round, right after that round's simulated cells, so that each round's
 * simulated time has a real time measured in the same spell of the machine.
 * Everything that depends on the clock is under `timing`.
 */
export interface KernelRounds {
  workload: string;
  program: string;
  unit: string;
  /** `os.release()` of the machine it ran on. */
  kernel: string;
  /** Steps each run timed (in all its cycles). */
  iterations: number;
  /** Cycles of setup + timed steps each run made (1 but for mmap-churn's). */
  cycles: number;
  argv: string[];
  timing: {
    /** ns per step, one per round, in round order. */
    nsPerStep: number[];
    /** Median of `nsPerStep`. */
    median: number;
    /** Bootstrap 95 % CI of that median. */
    ci: [number, number];
    /** Each run's whole output line. */
    raw: Record<string, unknown>[];
  };
}

/**
 * One case's per-round kernel runs as a `KernelRounds`, or the first
 * `{ skipped }` if a run was skipped. Undefined for no runs.
 */
export function combineKernelRuns(
  runs: readonly (KernelBaseline | Skipped)[],
  seed: number,
): KernelRounds | Skipped | undefined {
  const first = runs[0];
  if (first === undefined) return undefined;
  for (const r of runs) if (isSkipped(r)) return r;
  const ok = runs as readonly KernelBaseline[];
  const k = first as KernelBaseline;
  const ns = ok.map((r) => r.nsPerStep);
  const est = bootstrapCI(ns, median, { seed });
  return {
    workload: k.workload,
    program: k.program,
    unit: k.unit,
    kernel: k.kernel,
    iterations: k.iterations,
    cycles: typeof k.raw.cycles === 'number' && k.raw.cycles > 1 ? k.raw.cycles : 1,
    argv: k.argv,
    timing: { nsPerStep: ns, median: est.value, ci: [est.lo, est.hi], raw: ok.map((r) => r.raw) },
  };
}

/**
 * How many times the kernel's rate a cell simulates, paired by round:
 * kernel ns per step of round r ÷ the cell's median ns per step in round r.
 * The median of those ratios and its bootstrap 95 % CI; `perRound` in round
 * order. Rounds missing on either side are left out.
 */
export function pairedRate(
  kernelNsPerStep: readonly number[],
  simNsPerStep: readonly number[],
  seed: number,
): { median: number; ci: [number, number]; perRound: number[] } {
  const n = Math.min(kernelNsPerStep.length, simNsPerStep.length);
  const perRound: number[] = [];
  for (let r = 0; r < n; r++) {
    perRound.push((kernelNsPerStep[r] as number) / (simNsPerStep[r] as number));
  }
  if (n === 0) return { median: Number.NaN, ci: [Number.NaN, Number.NaN], perRound };
  const est = bootstrapCI(perRound, median, { seed });
  return { median: est.value, ci: [est.lo, est.hi], perRound };
}
