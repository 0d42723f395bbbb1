/**
 * Runs a matrix, one workload case (a group of cells) at a time:
 *
 * 1. Check run, per cell, untimed: a fresh workload instance, `setup`,
 *    `steps` steps, `finish`, with the cell's strategies. Counters are read
 *    after setup and after the steps; their difference over
 *    `steps × opsPerStep` is the exact cost per operation. The
 *    `/proc/PID/maps` text after the steps and after `finish` is kept for the
 *    layout check (both: some workloads' `finish` unmaps everything).
 * 2. Layout check: strategies are interchangeable, so every cell of a case in
 *    the same placement class (below) must end with the same layout. A
 *    difference is a `LayoutMismatchError` naming the two cells and the first
 *    differing line: nothing is timed.
 * 3. Timing, `rounds` rounds; in each round the cells run in an order
 *    rotated by one from the round before. A cell's round is one tinybench
 *    task: warm-up, then whole cycles of (fresh instance + setup, untimed;
 *    `steps` steps, timed in batches). A sample is one batch's time per
 *    operation; the round's value is the median of its samples. The cell's
 *    time is the median of its round values, with a bootstrap CI over the
 *    rounds; a ratio against the baseline compares round values (bootstrap
 *    CI of the ratio of medians, Mann–Whitney p), as benchstat compares runs.
 *
 * Placement classes. The address a finder returns is part of the layout.
 * Finders that answer as Linux 6.18 does — `linear` with policy `kernel`,
 * `gap` over an index with raw gaps (maple, rbtree gaps=raw) — form one class,
 * `linux-6.18`, and must all agree. Every other finder places by its own era's
 * rules, validly but elsewhere (`free-area-cache` = 2.6's cache, `gap` over
 * guard gaps = 4.12–6.0, `linear` first-fit), so each such finder (with its
 * options) is its own class, checked only against cells of the same class. A
 * user finder module is its own class too, unless its descriptor says
 * `placement: 'linux-6.18'` (or names another class).
 */
import { Counters, type CountersSnapshot, isGapIndex, type VmaIndex } from '@vmalab/core';
import { bootstrapCI, compareSamples, type Delta, type Estimate, median } from '@vmalab/core/stats';
import { AddressSpace, type AddressSpaceOptions, formatMaps } from '@vmalab/mm';
import type { MmFactory, WorkloadInstance } from '@vmalab/workloads';
import { Bench, hrtimeNow } from 'tinybench';
import type { Cell, Matrix, StrategySet, WorkloadCase } from './matrix.js';
import { canonical } from './matrix.js';

export const KERNEL_EXACT = 'linux-6.18';

export interface RunOptions {
  rounds: number;
  /** Minimum measured time per cell and round (ms); whole cycles of `steps` steps are run. */
  timeMs: number;
  /** Warm-up time per cell and round (ms). */
  warmupMs: number;
  seed: number;
  /** Progress events (the display lives in progress.ts). */
  onEvent?: (e: RunEvent) => void;
  /**
   * HOOK for `--kernel` (apps/bench/src/kernel.ts): called once per round of
   * each workload case, right after that round's cells are timed, so that a
   * real run sits beside each simulated round. What the calls return is
   * stored, in round order, as `kernel` on the case's results. Not called
   * when absent.
   */
  kernelBaseline?: (c: WorkloadCase, round: number) => unknown | Promise<unknown>;
}

export type RunEvent =
  | { type: 'start'; cells: number; rounds: number }
  | { type: 'check'; case: WorkloadCase }
  | { type: 'round'; cell: Cell; round: number; meanNs: number; done: number; total: number }
  | { type: 'kernel'; case: WorkloadCase; round: number }
  | { type: 'cell'; result: CellResult; done: number; total: number };

export interface Round {
  /** ns per operation, one per batch, in the order run. */
  samples: number[];
  median: number;
  /**
   * ns per operation over the whole round: its total time over its total
   * operations (throughput). Unlike the median of the batches it keeps the
   * batches a GC pause fell into.
   */
  mean: number;
}

export interface CellResult {
  cell: Cell;
  placement: string;
  unit: string;
  opsPerStep: number;
  steps: number;
  /** Counter totals over the check run's steps. */
  counters: CountersSnapshot;
  /** Totals / (steps × opsPerStep); histograms divided element-wise. */
  perOp: CountersSnapshot;
  rounds: Round[];
  /** Median over rounds of the round's throughput (ns per op), with its bootstrap CI. */
  time: Estimate;
  /** This cell against the baseline cell of its case (absent for the baseline itself). */
  vsBaseline?: Delta;
}

export interface CaseResult {
  case: WorkloadCase;
  cells: CellResult[];
  baseline: CellResult | undefined;
  kernel?: unknown;
}

export interface RunResult {
  matrix: Matrix;
  options: Omit<RunOptions, 'onEvent' | 'kernelBaseline'>;
  cases: CaseResult[];
  startedAt: string;
  durationMs: number;
}

/** Two cells of a case disagree on the final layout. */
export class LayoutMismatchError extends Error {
  override name = 'LayoutMismatchError';
}

/** A strategy or workload failed during a cell's check run. */
export class CellFailedError extends Error {
  override name = 'CellFailedError';
}

/** What one sample should last at least: batches of steps below it are merged. */
const TARGET_SAMPLE_MS = 0.1;
/** Upper bound on cycles per round, whatever `timeMs` asks. */
const MAX_CYCLES = 10_000;
/**
 * Before its first round a cell runs its workload (setup and steps) for this
 * long by the wall clock, untimed, when warm-up is on: V8 needed 300–500 ms of
 * mmap-churn on linux-6.8 before its code was optimized, and with only the
 * 20 ms warm-up the first round ran at 1.5–6× the later ones. (Wall clock, not
 * tinybench's warm-up: that counts timed steps only, and a fork cell's setup
 * is most of its time.)
 */
const FIRST_ROUND_WARMUP_MS = 400;

export function placementClass(set: StrategySet): string {
  const f = set.finder;
  const declared = (f.descriptor as { placement?: unknown }).placement;
  if (typeof declared === 'string') return declared;
  const opts = Object.entries(f.resolved)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  const own = opts ? `${f.descriptor.name} ${opts}` : f.descriptor.name;
  if (f.module) return `${own} (${f.module})`;
  if (f.descriptor.name === 'linear') return f.resolved.policy === 'kernel' ? KERNEL_EXACT : own;
  if (f.descriptor.name === 'gap') {
    const probe = set.index.descriptor.create(set.index.resolved, new Counters()) as VmaIndex;
    const kind = isGapIndex(probe) ? probe.gapKind : undefined;
    return kind === 'raw' || set.index.module ? KERNEL_EXACT : `gap over ${kind ?? 'no'} gaps`;
  }
  return own;
}

/** An `MmFactory` over a set's strategies: fresh strategy instances per address space. */
export function mmFactory(
  set: StrategySet,
  counters: Counters,
  inst: Pick<WorkloadInstance, 'mmOptions'>,
): MmFactory {
  return (extra?: Partial<AddressSpaceOptions>) =>
    new AddressSpace({
      ...inst.mmOptions,
      ...extra,
      ...set.mm,
      index: set.index.descriptor.create(
        set.index.resolved,
        counters,
      ) as AddressSpaceOptions['index'],
      finder: set.finder.descriptor.create(
        set.finder.resolved,
        counters,
      ) as AddressSpaceOptions['finder'],
      rmap: set.rmap.descriptor.create(set.rmap.resolved, counters) as AddressSpaceOptions['rmap'],
      counters,
    });
}

/** A fresh instance of the cell's workload, set up on a new address space of its strategies. */
function startCell(cell: Cell, seed: number, counters: Counters) {
  const inst = cell.case.workload.create(cell.case.params, seed);
  return { inst, mm: inst.setup(mmFactory(cell.set, counters, inst)) };
}

interface CheckResult {
  /** /proc/PID/maps after the steps and after `finish`. */
  layouts: [string, string];
  counters: CountersSnapshot;
  perOp: CountersSnapshot;
  unit: string;
  opsPerStep: number;
  /** Wall time of the steps (ms), to size batches and cycles. */
  stepsMs: number;
}

export function checkRun(cell: Cell, seed: number): CheckResult {
  const { steps } = cell.case;
  const counters = new Counters();
  try {
    const { inst, mm } = startCell(cell, seed, counters);
    const before = counters.snapshot();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) inst.step(mm);
    const stepsMs = performance.now() - t0;
    const total = Counters.diff(counters.snapshot(), before);
    const afterSteps = formatMaps(mm);
    inst.finish?.(mm);
    const ops = steps * inst.opsPerStep;
    const perOp: CountersSnapshot = {};
    for (const [k, v] of Object.entries(total)) {
      perOp[k] = typeof v === 'number' ? v / ops : v.map((x) => x / ops);
    }
    return {
      layouts: [afterSteps, formatMaps(mm)],
      counters: total,
      perOp,
      unit: inst.unit,
      opsPerStep: inst.opsPerStep,
      stepsMs,
    };
  } catch (e) {
    throw new CellFailedError(
      `${cell.case.label} × ${cell.set.label}: ${(e as Error).message} (in the untimed check run; a strategy or workload bug)`,
      { cause: e },
    );
  }
}

/** Throws a `LayoutMismatchError` if two cells of one placement class end differently. */
export function checkLayouts(
  cells: readonly { cell: Cell; placement: string; layouts: readonly string[] }[],
): void {
  const first = new Map<string, { cell: Cell; layouts: readonly string[] }>();
  for (const c of cells) {
    const ref = first.get(c.placement);
    if (!ref) {
      first.set(c.placement, c);
      continue;
    }
    for (const [n, when] of ['after the steps', 'after finish'].entries()) {
      const la = ref.layouts[n] ?? '';
      const lb = c.layouts[n] ?? '';
      if (la === lb) continue;
      const a = la.split('\n');
      const b = lb.split('\n');
      let i = 0;
      while (i < Math.max(a.length, b.length) && a[i] === b[i]) i++;
      throw new LayoutMismatchError(
        `${c.cell.case.label}: '${ref.cell.set.label}' and '${c.cell.set.label}' end with different layouts ${when} (placement class ${c.placement}); first difference at maps line ${i + 1}: ${JSON.stringify(a[i] || '(end)')} vs ${JSON.stringify(b[i] || '(end)')}`,
      );
    }
  }
}

interface Timer {
  cell: Cell;
  batch: number;
  cycles: number;
  /** Estimated ms per step, updated after every round. */
  stepMs: number;
  opsPerStep: number;
  rounds: Round[];
}

function sizeTimer(t: Timer, timeMs: number, steps: number): void {
  const stepMs = Math.max(t.stepMs, 1e-6);
  t.batch = Math.min(steps, Math.max(1, Math.ceil(TARGET_SAMPLE_MS / stepMs)));
  t.cycles = Math.min(MAX_CYCLES, Math.max(1, Math.round(timeMs / (stepMs * steps))));
}

/** Runs the cell's workload — fresh instances, setup and steps — for `ms` ms of wall clock. */
function preWarm(cell: Cell, seed: number, ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const { inst, mm } = startCell(cell, seed, new Counters());
    for (let i = 0; i < cell.case.steps && performance.now() < end; i++) inst.step(mm);
  }
}

/** One round of one cell: a tinybench task over whole cycles of the workload. */
function timeRound(t: Timer, seed: number, warmupMs: number): Round {
  const { steps } = t.cell.case;
  const counters = new Counters();
  let inst: WorkloadInstance | undefined;
  let mm: AddressSpace | undefined;
  let pos = steps;
  let k = 0;
  let last = 0;
  let sumNs = 0;
  let sumSteps = 0;
  const samples: number[] = [];
  const fresh = () => {
    ({ inst, mm } = startCell(t.cell, seed, counters));
    pos = 0;
  };
  const batchesPerCycle = Math.ceil(steps / t.batch);
  const bench = new Bench({
    now: hrtimeNow,
    throws: true,
    warmup: warmupMs > 0,
    warmupTime: warmupMs,
    warmupIterations: 1,
    time: 0,
    iterations: t.cycles * batchesPerCycle,
  });
  const opsPerStep = t.opsPerStep;
  bench.add(
    t.cell.set.label,
    () => {
      // tinybench calls the function once when it is added (to detect async
      // functions): nothing is set up yet then.
      if (!inst || !mm) return;
      const t0 = hrtimeNow();
      for (let i = 0; i < k; i++) inst.step(mm);
      last = (hrtimeNow() - t0) / k;
      return { overriddenDuration: last };
    },
    {
      beforeAll: () => {
        pos = steps;
      },
      beforeEach: () => {
        if (pos >= steps) fresh();
        k = Math.min(t.batch, steps - pos);
      },
      afterEach(mode) {
        pos += k;
        if (mode === 'run') {
          samples.push(round3((last * 1e6) / opsPerStep));
          sumNs += last * 1e6 * k;
          sumSteps += k;
        }
      },
    },
  );
  bench.runSync();
  return {
    samples,
    median: median(samples),
    mean: sumSteps > 0 ? round3(sumNs / sumSteps / opsPerStep) : Number.NaN,
  };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Runs the whole matrix. */
export async function runMatrix(matrix: Matrix, opts: RunOptions): Promise<RunResult> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const emit = opts.onEvent ?? (() => {});
  const total = matrix.cells.length * opts.rounds;
  emit({ type: 'start', cells: matrix.cells.length, rounds: opts.rounds });
  let doneRounds = 0;
  let doneCells = 0;
  const cases: CaseResult[] = [];
  for (const c of matrix.cases) {
    emit({ type: 'check', case: c });
    const cells = matrix.cells.filter((x) => x.case === c);
    const checks = cells.map((cell) => ({
      cell,
      placement: placementClass(cell.set),
      ...checkRun(cell, opts.seed),
    }));
    checkLayouts(checks);

    const timers: Timer[] = checks.map((ch) => {
      const t: Timer = {
        cell: ch.cell,
        batch: 1,
        cycles: 1,
        stepMs: ch.stepsMs / c.steps,
        opsPerStep: ch.opsPerStep,
        rounds: [],
      };
      sizeTimer(t, opts.timeMs, c.steps);
      return t;
    });
    const kernelRuns: unknown[] = [];
    for (let r = 0; r < opts.rounds; r++) {
      for (let i = 0; i < timers.length; i++) {
        const t = timers[(i + r) % timers.length] as Timer;
        if (r === 0 && opts.warmupMs > 0) preWarm(t.cell, opts.seed, FIRST_ROUND_WARMUP_MS);
        const round = timeRound(t, opts.seed, opts.warmupMs);
        t.rounds.push(round);
        t.stepMs = (round.mean * t.opsPerStep) / 1e6;
        sizeTimer(t, opts.timeMs, c.steps);
        doneRounds++;
        emit({
          type: 'round',
          cell: t.cell,
          round: r,
          meanNs: round.mean,
          done: doneRounds,
          total,
        });
        // Let a progress display repaint between rounds.
        await new Promise((res) => setImmediate(res));
      }
      if (opts.kernelBaseline) {
        emit({ type: 'kernel', case: c, round: r });
        kernelRuns.push(await opts.kernelBaseline(c, r));
      }
    }

    const results: CellResult[] = checks.map((ch, i) => {
      const t = timers[i] as Timer;
      const values = t.rounds.map((x) => x.mean);
      return {
        cell: ch.cell,
        placement: ch.placement,
        unit: ch.unit,
        opsPerStep: ch.opsPerStep,
        steps: c.steps,
        counters: ch.counters,
        perOp: ch.perOp,
        rounds: t.rounds,
        time: bootstrapCI(values, median, { seed: opts.seed }),
      };
    });
    const baseline = results.find((x) => x.cell.set === matrix.baseline);
    if (baseline) {
      const b = baseline.rounds.map((x) => x.mean);
      for (const x of results) {
        if (x === baseline) continue;
        x.vsBaseline = compareSamples(
          x.rounds.map((y) => y.mean),
          b,
          { seed: opts.seed },
        );
      }
    }
    for (const x of results) {
      doneCells++;
      emit({ type: 'cell', result: x, done: doneCells, total: matrix.cells.length });
    }
    const kr: CaseResult = { case: c, cells: results, baseline };
    if (opts.kernelBaseline) kr.kernel = kernelRuns;
    cases.push(kr);
  }
  return {
    matrix,
    options: {
      rounds: opts.rounds,
      timeMs: opts.timeMs,
      warmupMs: opts.warmupMs,
      seed: opts.seed,
    },
    cases,
    startedAt,
    durationMs: Math.round(performance.now() - t0),
  };
}

/** Identity of a counter snapshot, for tests and determinism checks. */
export function countersKey(s: CountersSnapshot): string {
  return canonical(s);
}
