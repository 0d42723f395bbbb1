/**
 * `vmalab bench` and `vmalab compare`: flags → matrix spec → run → reports.
 */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { replayWorkload, TraceError } from '@vmalab/trace';
import * as workloads from '@vmalab/workloads';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { kernelBaseline, kernelUnavailable, type Skipped } from './kernel.js';
import {
  expandMatrix,
  type MatrixSpec,
  mergeSpecs,
  type OptionAxes,
  parseAxisFlag,
  parseList,
  readMatrixFile,
} from './matrix.js';
import { UsageError } from './presets.js';
import { progressReporter } from './progress.js';
import {
  formatCsv,
  formatKernelComparison,
  formatMarkdown,
  formatTable,
  toJson,
} from './report.js';
import { type RunOptions, runMatrix } from './runner.js';
import {
  compareRuns,
  environmentWarning,
  formatComparison,
  loadRun,
  RUNS_DIR,
  resolveRun,
  saveRun,
} from './store.js';

const here = dirname(fileURLToPath(import.meta.url));
/** benchmarks/matrices in the repository (absent from an installed package). */
export const MATRICES_DIR = resolve(here, '..', '..', '..', 'benchmarks', 'matrices');
export const DEFAULT_MATRIX = join(MATRICES_DIR, 'default.json');

export const DEFAULTS = { rounds: 5, time: 100, warmup: 20, seed: 1 } as const;

/** The registry of @vmalab/workloads (empty until workloads are exported). */
export function workloadRegistry(): readonly workloads.Workload[] {
  return (workloads as { WORKLOADS?: readonly workloads.Workload[] }).WORKLOADS ?? [];
}

export interface CliContext {
  out: (s: string) => void;
  err: (s: string) => void;
  cwd: string;
  progress: boolean;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`'${v}' is not a positive integer`);
  return n;
}
function nonNegative(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`'${v}' is not a number ≥ 0`);
  return n;
}
function integer(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`'${v}' is not an integer`);
  return n;
}
const collect = (v: string, prev: string[] = []) => [...prev, v];

/** `--matrix default` = benchmarks/matrices/default.json; anything with a slash or `.json` is a path. */
export function matrixPath(ref: string, cwd: string): string {
  if (!ref.includes('/') && !ref.endsWith('.json')) return join(MATRICES_DIR, `${ref}.json`);
  return isAbsolute(ref) ? ref : resolve(cwd, ref);
}

interface BenchFlags {
  matrix?: string;
  preset?: string;
  index?: string;
  finder?: string;
  rmap?: string;
  indexOpt?: string[];
  finderOpt?: string[];
  rmapOpt?: string[];
  workload?: string;
  param?: string[];
  steps?: number;
  rounds?: number;
  time?: number;
  warmup?: number;
  seed?: number;
  baseline?: string;
  json?: boolean;
  csv?: boolean;
  md?: boolean;
  save?: string;
  compare?: string;
  kernel?: boolean;
  trace?: string;
  initial?: string;
  progress: boolean;
}

function axes(flag: string, texts: string[] | undefined): OptionAxes | undefined {
  if (!texts) return undefined;
  const out: OptionAxes = {};
  for (const t of texts) {
    const [name, values] = parseAxisFlag(flag, t);
    out[name] = values;
  }
  return out;
}

export function specFromFlags(o: BenchFlags, cwd: string): MatrixSpec {
  const spec: MatrixSpec = { baseDir: cwd };
  if (o.preset !== undefined) spec.presets = parseList('--preset', o.preset);
  if (o.index !== undefined) spec.index = parseList('--index', o.index);
  if (o.finder !== undefined) spec.finder = parseList('--finder', o.finder);
  if (o.rmap !== undefined) spec.rmap = parseList('--rmap', o.rmap);
  const io = axes('--index-opt', o.indexOpt);
  if (io) spec.indexOptions = io;
  const fo = axes('--finder-opt', o.finderOpt);
  if (fo) spec.finderOptions = fo;
  const ro = axes('--rmap-opt', o.rmapOpt);
  if (ro) spec.rmapOptions = ro;
  if (o.workload !== undefined) {
    spec.workloads =
      o.workload === 'all' ? 'all' : parseList('--workload', o.workload).map((name) => ({ name }));
  }
  const params = axes('--param', o.param);
  if (params) spec.params = params;
  for (const k of ['steps', 'rounds', 'time', 'warmup', 'seed', 'baseline'] as const) {
    if (o[k] !== undefined) (spec as Record<string, unknown>)[k] = o[k];
  }
  return spec;
}

export interface BenchHooks {
  /** See RunOptions.kernelBaseline: the `--kernel` flag (kernel.ts) plugs in here. */
  kernelBaseline?: RunOptions['kernelBaseline'];
}

export function registerBench(program: Command, ctx: CliContext, hooks: BenchHooks = {}): Command {
  return program
    .command('bench')
    .description(
      'Run a benchmark matrix — strategy sets (presets, or index × finder × rmap with option axes) × workloads (with parameter axes) — and report time per operation (median of rounds, 95% bootstrap CI), A/B deltas against a baseline (benchstat style: −17.2% (p=0.008 n=5), or ~ when not significant) and the exact counters per operation. Before anything is timed, every cell of a workload case must end with the same /proc/PID/maps layout (within a placement class; see README).',
    )
    .option(
      '-m, --matrix <file>',
      'matrix file (JSON; a bare name is benchmarks/matrices/NAME.json); flags override its axes. Default: benchmarks/matrices/default.json',
    )
    .option('-p, --preset <list>', 'presets, comma-separated (vmalab list shows them)')
    .option('--index <list>', 'index strategies: names or paths to modules exporting `strategy`')
    .option('--finder <list>', 'unmapped-area finders: names or module paths')
    .option('--rmap <list>', 'rmap lockers: names or module paths')
    .option(
      '--index-opt <name=values>',
      'index option axis, repeatable (prealloc=worst-case,by-store-type)',
      collect,
    )
    .option('--finder-opt <name=values>', 'finder option axis, repeatable', collect)
    .option('--rmap-opt <name=values>', 'rmap option axis, repeatable', collect)
    .option('-w, --workload <list>', "workloads, comma-separated, or 'all'")
    .option('--param <name=values>', 'workload parameter axis, repeatable (vmas=21,821)', collect)
    .option(
      '--steps <n>',
      'steps per cycle: counted, checked and timed (default: per workload in the matrix, else 100)',
      positiveInt,
    )
    .option(
      '--rounds <n>',
      `timing rounds per cell, order rotated each round (default ${DEFAULTS.rounds})`,
      positiveInt,
    )
    .option(
      '--time <ms>',
      `minimum measured time per cell and round (default ${DEFAULTS.time})`,
      nonNegative,
    )
    .option(
      '--warmup <ms>',
      `warm-up time per cell and round (default ${DEFAULTS.warmup}; before its first round a cell also runs 400 ms untimed while JIT compilation settles; 0: no warm-up at all)`,
      nonNegative,
    )
    .option('--seed <n>', `workload seed (default ${DEFAULTS.seed})`, integer)
    .option(
      '--baseline <set>',
      'strategy set the others are compared with (a label or preset; default the first)',
    )
    .addOption(
      new Option('--json', 'print the run as JSON (schema vmalab-bench/1, raw samples)').conflicts([
        'csv',
        'md',
      ]),
    )
    .addOption(new Option('--csv', 'print one CSV row per cell').conflicts(['json', 'md']))
    .addOption(new Option('--md', 'print Markdown tables').conflicts(['json', 'csv']))
    .option(
      '--save <name>',
      `also save the run as ${RUNS_DIR}/NAME.json (in the current directory)`,
    )
    .option('--compare <run>', 'compare with a saved run (NAME or FILE) after this one')
    .option(
      '--trace <file>',
      "an strace log (plain or gzip): adds workload 'replay', the program's calls replayed through each strategy set (use with -w replay)",
    )
    .option('--initial <maps>', "the traced program's /proc/PID/maps after exec, for --trace")
    .option(
      '--kernel',
      "also run each workload case as a C program (benchmarks/kernel/) on this machine's kernel, once after each round, and report simulated vs real time per step, paired by round (needs Linux and gcc)",
    )
    .option('--no-progress', 'no progress display on stderr')
    .addHelpText(
      'after',
      `
Examples:
  vmalab bench                                   the default matrix: every preset × every workload
  vmalab bench --workload fork --param vmas=21,821,1621 --preset linux-6.1,linux-6.8
  vmalab bench --preset linux-6.8 --index-opt prealloc=worst-case,by-store-type -w mmap-churn
  vmalab bench --index maple,rbtree --index-opt gaps=raw --finder gap -w thread-stacks
  vmalab bench --index ./my-index.js,maple -w mmap-churn --baseline maple
  vmalab bench --save before   …change code…   vmalab bench --compare before
  vmalab bench --json > run.json && vmalab compare before run.json
  vmalab bench --matrix benchmarks/matrices/default.json --rounds 10 --md
  vmalab bench -w mmap-churn -p linux-3.8,linux-6.8 --kernel --steps 200000
                                                 simulated vs real kernel, 200000 iterations each

Without --preset/--index/--finder/--rmap the matrix file's strategy sets are used
(the default matrix: every preset). --index/--finder/--rmap without --preset start
from Linux 6.15's maple/gap/batched; with --preset they replace that role of each preset.

--kernel runs each case's C program once after each round. mmap-churn's program times
cycles of the case's steps, each from a fresh setup, as the simulated cells do (the setup
is untimed on both sides), about 200,000 steps per run; the other programs' steps are
alike from first to last and run a fixed count. Both sides are throughput.`,
    )
    .action(async (o: BenchFlags) => {
      const flags = specFromFlags(o, ctx.cwd);
      let file: MatrixSpec = {};
      let source = 'flags';
      if (o.matrix !== undefined) {
        const path = matrixPath(o.matrix, ctx.cwd);
        file = readMatrixFile(path);
        source = path;
      } else if (existsSync(DEFAULT_MATRIX)) {
        file = readMatrixFile(DEFAULT_MATRIX);
        source = DEFAULT_MATRIX;
      }
      const spec = mergeSpecs(file, flags);
      let registry = workloadRegistry();
      if (o.trace !== undefined) {
        try {
          const w = replayWorkload(resolve(ctx.cwd, o.trace), {
            ...(o.initial === undefined ? {} : { initial: resolve(ctx.cwd, o.initial) }),
          });
          registry = [...registry, w];
        } catch (e) {
          if (e instanceof TraceError) throw new UsageError(e.message);
          if ((e as NodeJS.ErrnoException).code === 'ENOENT')
            throw new UsageError(
              `cannot read ${(e as NodeJS.ErrnoException).path ?? o.trace}: ENOENT`,
            );
          throw e;
        }
      } else if (o.initial !== undefined) throw new UsageError('--initial needs --trace');
      const matrix = await expandMatrix(spec, registry);
      if (o.save !== undefined) resolveRun(o.save, ctx.cwd); // validate the name before running
      const before = o.compare !== undefined ? loadRun(o.compare, ctx.cwd) : undefined;
      let kernelHook = hooks.kernelBaseline;
      if (o.kernel && !kernelHook) {
        const why = await kernelUnavailable();
        if (why !== undefined) throw new UsageError(why);
        const seed = spec.seed ?? DEFAULTS.seed;
        // One run per round; a case the kernel cannot run is said once.
        const skipped = new Map<unknown, Skipped>();
        kernelHook = async (c) => {
          const before = skipped.get(c);
          if (before) return before;
          // mmap-churn: cycles of the case's steps from a fresh start, as the cells run.
          const k = await kernelBaseline(c.workload.name, c.params, { seed, steps: c.steps });
          if ('skipped' in k) {
            skipped.set(c, k);
            ctx.err(`vmalab: ${c.label}: ${k.skipped}\n`);
          }
          return k;
        };
      }
      const progress = progressReporter(process.stderr, ctx.progress && o.progress);
      let run: Awaited<ReturnType<typeof runMatrix>>;
      try {
        run = await runMatrix(matrix, {
          rounds: spec.rounds ?? DEFAULTS.rounds,
          timeMs: spec.time ?? DEFAULTS.time,
          warmupMs: spec.warmup ?? DEFAULTS.warmup,
          seed: spec.seed ?? DEFAULTS.seed,
          onEvent: progress.onEvent,
          ...(kernelHook ? { kernelBaseline: kernelHook } : {}),
        });
      } finally {
        progress.stop();
      }
      const doc = toJson(run, source, undefined, o.save);
      if (o.json) ctx.out(`${JSON.stringify(doc, null, 2)}\n`);
      else if (o.csv) ctx.out(formatCsv(doc));
      else if (o.md) ctx.out(formatMarkdown(doc));
      else ctx.out(formatTable(doc));
      if (!o.json && !o.csv && doc.groups) ctx.out(formatKernelComparison(doc));
      if (o.save !== undefined) {
        const path = saveRun(doc, o.save, ctx.cwd);
        ctx.err(`vmalab: saved the run as ${path}\n`);
      }
      if (before) {
        const c = compareRuns(before, doc, doc.config.seed);
        const warn = environmentWarning(c, o.compare ?? 'before', 'this run');
        if (warn) ctx.err(`vmalab: ${warn}\n`);
        const text = formatComparison(c, o.compare ?? 'before', 'this run', o.md ? 'md' : 'table');
        // With --json/--csv stdout is machine-readable: the comparison goes to stderr.
        (o.json || o.csv ? ctx.err : ctx.out)(`\ncompared with ${o.compare}:\n${text}`);
      }
    });
}

export function registerCompare(program: Command, ctx: CliContext): Command {
  return program
    .command('compare')
    .description(
      'Compare two saved runs (names under .vmalab/runs/ or JSON files from --json/--save) side by side: per matched cell the time per operation of each and the delta (B vs A, benchstat style), the geomean over matched cells only, and the cells found in one run only. Warns on stderr when the runs come from different CPUs, Node versions or commits.',
    )
    .argument('<a>', 'the old run: NAME or FILE')
    .argument('<b>', 'the new run: NAME or FILE')
    .option('--md', 'print Markdown tables')
    .option('--json', 'print the comparison as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  vmalab bench --save main\n  vmalab bench --save mine\n  vmalab compare main mine\n  vmalab compare runs/old.json runs/new.json --md',
    )
    .action((a: string, b: string, o: { md?: boolean; json?: boolean }) => {
      const ra = loadRun(a, ctx.cwd);
      const rb = loadRun(b, ctx.cwd);
      if (ra === rb) throw new UsageError('compare needs two runs');
      const c = compareRuns(ra, rb, rb.config?.seed ?? 1);
      const warn = environmentWarning(c, a, b);
      if (warn) ctx.err(`vmalab: ${warn}\n`);
      if (o.json) {
        ctx.out(
          `${JSON.stringify(
            {
              a,
              b,
              geomean: Number.isFinite(c.geomean) ? c.geomean : null,
              environmentDiffs: c.envDiffs,
              matched: c.matched.map((m) => ({
                key: m.key,
                case: m.case,
                strategies: m.label,
                a: m.a.timing.median,
                b: m.b.timing.median,
                ratio: m.delta.ratio.value,
                ci: [m.delta.ratio.lo, m.delta.ratio.hi],
                p: m.delta.p,
                significant: m.delta.significant,
              })),
              onlyA: c.onlyA.map((x) => x.key),
              onlyB: c.onlyB.map((x) => x.key),
            },
            null,
            2,
          )}\n`,
        );
        return;
      }
      ctx.out(formatComparison(c, a, b, o.md ? 'md' : 'table'));
    });
}
