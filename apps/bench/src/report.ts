/**
 * Reports of a run: the JSON document (schema `vmalab-bench/1`, the format of
 * saved runs), a table for the terminal, Markdown and CSV.
 *
 * Everything that depends on the clock lives under keys named `timing` (the
 * run's and each cell's); the rest of a document — matrix, cells, counters —
 * is the same, byte for byte, for the same matrix and seed.
 */
import { execFileSync } from 'node:child_process';
import { arch, cpus, platform, release } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatCount, formatDelta, formatNs, geomean, median } from '@vmalab/core/stats';
import Table from 'cli-table3';
import {
  combineKernelRuns,
  type KernelBaseline,
  type KernelRounds,
  pairedRate,
  type Skipped,
} from './kernel.js';
import type { OptionValue, StrategyChoice } from './matrix.js';
import type { CellResult, RunResult } from './runner.js';

export const SCHEMA = 'vmalab-bench/1';

export interface Environment {
  cpu: string;
  cores: number;
  node: string;
  v8: string;
  platform: string;
  arch: string;
  /** vmalab's git commit, if known. */
  commit?: string;
  /** Uncommitted changes in the work tree at run time. */
  dirty?: boolean;
}

export interface StrategyJson {
  name: string;
  /** Options with defaults filled in. */
  options: Record<string, OptionValue>;
  module?: string;
}

export interface DeltaJson {
  baseline: string;
  /** median(cell) / median(baseline), both over the rounds' throughputs. */
  ratio: number;
  ci: [number, number];
  /** Mann–Whitney U, two-sided. */
  p: number;
  n: [number, number];
  significant: boolean;
  /** `−17.2% (p=0.008 n=5)` or `~`. */
  text: string;
}

export interface CellJson {
  id: number;
  /** Canonical identity: matches cells across runs (`--compare`, `vmalab compare`). */
  key: string;
  workload: string;
  /** Every workload parameter (defaults filled in). */
  params: Record<string, OptionValue>;
  /** The case: `fork K=821`. */
  case: string;
  strategies: {
    label: string;
    preset?: string;
    index: StrategyJson;
    finder: StrategyJson;
    rmap: StrategyJson;
    mm: Record<string, OptionValue>;
  };
  /** Layout-check class (runner.ts). */
  placement: string;
  unit: string;
  opsPerStep: number;
  steps: number;
  counters: {
    /** Over the check run's `steps` steps. */
    total: Record<string, number | number[]>;
    perOp: Record<string, number | number[]>;
  };
  timing: {
    unit: 'ns/op';
    /** Median over rounds of the round's throughput (`rounds[].mean`). */
    median: number;
    /** Bootstrap 95 % CI of that median. */
    ci: [number, number];
    /**
     * Per round: the median of its batches' ns/op, its throughput (total time
     * over total operations, GC pauses included) and the batches' ns/op.
     */
    rounds: { median: number; mean: number; samples: number[] }[];
    vsBaseline?: DeltaJson;
  };
}

/** One case's `--kernel` baseline and each cell's rate against it. */
export interface KernelGroupJson {
  case: string;
  kernel: KernelRounds | Skipped;
  /** Per cell: kernel ns per step ÷ simulated ns per step, paired by round. */
  rates?: {
    cell: number;
    strategies: string;
    timing: {
      /** The cell's time per step as throughput: median over rounds of the round's mean. */
      simNsPerStep: number;
      median: number;
      ci: [number, number];
      perRound: number[];
    };
  }[];
}

export interface RunJson {
  schema: typeof SCHEMA;
  name?: string;
  matrix: {
    description?: string;
    source: string;
    baseline: string;
    strategySets: string[];
    cases: { case: string; workload: string; params: Record<string, OptionValue>; steps: number }[];
  };
  config: {
    rounds: number;
    timeMs: number;
    warmupMs: number;
    seed: number;
    statistic: string;
    ciLevel: number;
  };
  environment: Environment;
  cells: CellJson[];
  /** Per-case extras: the --kernel baseline (kernel.ts), when it ran. */
  groups?: KernelGroupJson[];
  timing: { startedAt: string; durationMs: number };
}

const here = dirname(fileURLToPath(import.meta.url));

export function environment(): Environment {
  const env: Environment = {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    node: process.versions.node,
    v8: process.versions.v8,
    platform: `${platform()} ${release()}`,
    arch: arch(),
  };
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, {
        cwd: here,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    env.commit = git(['rev-parse', 'HEAD']).trim();
    env.dirty = git(['status', '--porcelain', '--untracked-files=no']).trim() !== '';
  } catch {
    // Not a git checkout (an installed package): no commit.
  }
  return env;
}

function strategyJson(c: StrategyChoice): StrategyJson {
  return {
    name: c.descriptor.name,
    options: c.resolved,
    ...(c.module === undefined ? {} : { module: c.module }),
  };
}

function cellJson(r: CellResult, baselineLabel: string): CellJson {
  const { cell } = r;
  const d = r.vsBaseline;
  return {
    id: cell.id,
    key: cell.key,
    workload: cell.case.workload.name,
    params: { ...cell.case.params },
    case: cell.case.label,
    strategies: {
      label: cell.set.label,
      ...(cell.set.preset === undefined ? {} : { preset: cell.set.preset }),
      index: strategyJson(cell.set.index),
      finder: strategyJson(cell.set.finder),
      rmap: strategyJson(cell.set.rmap),
      mm: { ...cell.set.mm },
    },
    placement: r.placement,
    unit: r.unit,
    opsPerStep: r.opsPerStep,
    steps: r.steps,
    counters: { total: r.counters, perOp: r.perOp },
    timing: {
      unit: 'ns/op',
      median: r.time.value,
      ci: [r.time.lo, r.time.hi],
      rounds: r.rounds.map((x) => ({ median: x.median, mean: x.mean, samples: x.samples })),
      ...(d
        ? {
            vsBaseline: {
              baseline: baselineLabel,
              ratio: d.ratio.value,
              ci: [d.ratio.lo, d.ratio.hi] as [number, number],
              p: d.p,
              n: [d.na, d.nb] as [number, number],
              significant: d.significant,
              text: formatDelta(d),
            },
          }
        : {}),
    },
  };
}

export function toJson(
  run: RunResult,
  source: string,
  env: Environment = environment(),
  name?: string,
): RunJson {
  const m = run.matrix;
  const cells = run.cases.flatMap((c) => c.cells.map((r) => cellJson(r, m.baseline.label)));
  const seed = run.options.seed;
  const groups: KernelGroupJson[] = [];
  for (const c of run.cases) {
    const runs = Array.isArray(c.kernel) ? (c.kernel as (KernelBaseline | Skipped)[]) : [];
    const kernel = combineKernelRuns(runs, seed);
    if (kernel === undefined) continue;
    const g: KernelGroupJson = { case: c.case.label, kernel };
    if (!('skipped' in kernel)) {
      g.rates = cells
        .filter((x) => x.case === c.case.label)
        .map((x) => {
          // Throughput on both sides: the kernel's is its elapsed time over its steps.
          const sim = x.timing.rounds.map((r) => r.mean * x.opsPerStep);
          return {
            cell: x.id,
            strategies: x.strategies.label,
            timing: {
              simNsPerStep: median(sim),
              ...pairedRate(kernel.timing.nsPerStep, sim, seed),
            },
          };
        });
    }
    groups.push(g);
  }
  return {
    schema: SCHEMA,
    ...(name === undefined ? {} : { name }),
    matrix: {
      ...(m.description === undefined ? {} : { description: m.description }),
      source,
      baseline: m.baseline.label,
      strategySets: m.sets.map((s) => s.label),
      cases: m.cases.map((c) => ({
        case: c.label,
        workload: c.workload.name,
        params: { ...c.params },
        steps: c.steps,
      })),
    },
    config: {
      rounds: run.options.rounds,
      timeMs: run.options.timeMs,
      warmupMs: run.options.warmupMs,
      seed: run.options.seed,
      statistic: 'median over rounds of the round throughput (total ns / total ops)',
      ciLevel: 0.95,
    },
    environment: env,
    cells,
    ...(groups.length ? { groups } : {}),
    timing: { startedAt: run.startedAt, durationMs: run.durationMs },
  };
}

// ---------------------------------------------------------------------------
// Tables

/** Counters shown in tables, in this order, when they differ between the cells of a case. */
const COUNTER_COLUMNS: [string, string][] = [
  ['nodesVisited', 'nodes visited'],
  ['nodesAllocated', 'nodes alloc'],
  ['slotsScanned', 'slots scanned'],
  ['comparisons', 'compares'],
  ['gapsExamined', 'gaps examined'],
  ['rotations', 'rotations'],
  ['gapUpdates', 'gap updates'],
  ['cacheMisses', 'cache misses'],
  ['mmapLockWrite', 'mmap_lock W'],
  ['mmapLockRead', 'mmap_lock R'],
  ['iMmapLockWrite', 'i_mmap locks'],
];
const MAX_COUNTER_COLUMNS = 5;

function counterColumns(cells: readonly CellJson[]): [string, string][] {
  return COUNTER_COLUMNS.filter(([k]) => {
    const vals = cells.map((c) => c.counters.perOp[k]);
    return vals.some((v) => v !== vals[0]);
  }).slice(0, MAX_COUNTER_COLUMNS);
}

interface Section {
  title: string;
  head: string[];
  rows: string[][];
}

function caseSections(doc: RunJson): Section[] {
  const out: Section[] = [];
  for (const c of doc.matrix.cases) {
    const cells = doc.cells.filter((x) => x.case === c.case);
    const first = cells[0];
    if (!first) continue;
    const cols = counterColumns(cells);
    const op =
      first.opsPerStep === 1 ? `op = 1 ${first.unit}` : `op = 1/${first.opsPerStep} ${first.unit}`;
    out.push({
      title: `${c.case} (${op}; ${c.steps} steps × ${doc.config.rounds} rounds)`,
      head: [
        'strategies',
        'time/op',
        '95% CI',
        `vs ${doc.matrix.baseline}`,
        ...cols.map(([, h]) => `${h}/op`),
      ],
      rows: cells.map((x) => [
        x.strategies.label,
        formatNs(x.timing.median),
        `${formatNs(x.timing.ci[0])} … ${formatNs(x.timing.ci[1])}`,
        x.timing.vsBaseline ? x.timing.vsBaseline.text : 'baseline',
        ...cols.map(([k]) => formatCount(x.counters.perOp[k] as number)),
      ]),
    });
  }
  return out;
}

/** Geomean of each strategy set's ratios to the baseline over the cases. */
function summarySection(doc: RunJson): Section | undefined {
  if (doc.matrix.strategySets.length < 2 || doc.matrix.cases.length < 2) return undefined;
  const rows = doc.matrix.strategySets.map((label) => {
    if (label === doc.matrix.baseline) return [label, 'baseline', ''];
    const ds = doc.cells
      .filter((c) => c.strategies.label === label)
      .flatMap((c) => (c.timing.vsBaseline ? [c.timing.vsBaseline] : []));
    const g = geomean(ds.map((d) => d.ratio));
    const sig = ds.filter((d) => d.significant);
    return [
      label,
      `${g < 1 ? '−' : '+'}${Math.abs((g - 1) * 100).toFixed(1)}%`,
      `${sig.filter((d) => d.ratio < 1).length} faster, ${sig.filter((d) => d.ratio > 1).length} slower, ${ds.length - sig.length} ~`,
    ];
  });
  return {
    title: `geomean over ${doc.matrix.cases.length} cases, time/op vs ${doc.matrix.baseline}`,
    head: ['strategies', 'geomean', 'significant'],
    rows,
  };
}

function sectionsOf(doc: RunJson): Section[] {
  const s = caseSections(doc);
  const sum = summarySection(doc);
  return sum ? [...s, sum] : s;
}

export function renderTable(sections: readonly Section[]): string {
  let out = '';
  for (const s of sections) {
    const t = new Table({
      head: s.head,
      style: { head: [], border: [], compact: true },
      colAligns: s.head.map((_, i) => (i === 0 ? 'left' : 'right')),
    });
    for (const r of s.rows) t.push(r);
    out += `${s.title}\n${t.toString()}\n\n`;
  }
  return out;
}

export function renderMarkdown(sections: readonly Section[]): string {
  const esc = (x: string) => x.replace(/\|/g, '\\|');
  let out = '';
  for (const s of sections) {
    out += `**${esc(s.title)}**\n\n| ${s.head.map(esc).join(' | ')} |\n|${s.head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|\n`;
    for (const r of s.rows) out += `| ${r.map(esc).join(' | ')} |\n`;
    out += '\n';
  }
  return out;
}

export function formatTable(doc: RunJson): string {
  return renderTable(sectionsOf(doc));
}

export function formatMarkdown(doc: RunJson): string {
  const env = doc.environment;
  return `${renderMarkdown(sectionsOf(doc))}<sub>${env.cpu} × ${env.cores}, Node ${env.node}, ${env.platform}${env.commit ? `, vmalab ${env.commit.slice(0, 12)}${env.dirty ? '+dirty' : ''}` : ''}; ${doc.config.rounds} rounds, seed ${doc.config.seed}</sub>\n`;
}

function csvField(v: unknown): string {
  const s = v === undefined ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per cell: identity, time (ns/op) and CI, ratio to the baseline, every scalar counter per op. */
export function formatCsv(doc: RunJson): string {
  const counterNames = [
    ...new Set(
      doc.cells.flatMap((c) =>
        Object.entries(c.counters.perOp)
          .filter(([, v]) => typeof v === 'number')
          .map(([k]) => k),
      ),
    ),
  ];
  const head = [
    'workload',
    'case',
    'strategies',
    'index',
    'finder',
    'rmap',
    'unit',
    'ops_per_step',
    'steps',
    'median_ns_per_op',
    'ci_lo_ns',
    'ci_hi_ns',
    'ratio_vs_baseline',
    'ratio_ci_lo',
    'ratio_ci_hi',
    'p',
    'delta',
    ...counterNames.map((k) => `${k}_per_op`),
  ];
  const rows = doc.cells.map((c) => {
    const d = c.timing.vsBaseline;
    return [
      c.workload,
      c.case,
      c.strategies.label,
      c.strategies.index.name,
      c.strategies.finder.name,
      c.strategies.rmap.name,
      c.unit,
      c.opsPerStep,
      c.steps,
      c.timing.median,
      c.timing.ci[0],
      c.timing.ci[1],
      d?.ratio ?? 1,
      d?.ci[0] ?? 1,
      d?.ci[1] ?? 1,
      d?.p ?? '',
      d ? d.text : 'baseline',
      ...counterNames.map((k) => c.counters.perOp[k]),
    ];
  });
  return `${[head, ...rows].map((r) => r.map(csvField).join(',')).join('\n')}\n`;
}

/** A unit's plural: `iterations`, `passes`. */
function plural(unit: string): string {
  return /(s|sh|ch|x)$/.test(unit) ? `${unit}es` : `${unit}s`;
}

/**
 * `--kernel`: for each workload case, the real kernel's time per step beside
 * each strategy set's simulated time per step, and how many times the
 * kernel's rate the simulation runs: the median over rounds of the ratio of
 * the kernel run to the simulated round it followed, with its 95 % CI.
 */
export function formatKernelComparison(doc: RunJson): string {
  const lines: string[] = [
    '',
    'simulated vs real kernel (time per step as throughput, GC included; rate = kernel time / simulated time, paired by round)',
  ];
  for (const g of doc.groups ?? []) {
    const k = g.kernel;
    if ('skipped' in k) {
      lines.push(`${g.case}: ${k.skipped}`);
      continue;
    }
    const t = k.timing;
    const n = t.nsPerStep.length;
    lines.push(
      `${g.case}: kernel ${k.kernel} (${k.program}, ${k.cycles > 1 ? `${k.cycles} cycles of ${k.iterations / k.cycles}` : k.iterations} ${plural(k.unit)} × ${n} run${n === 1 ? '' : 's'}, one after each round): ${formatNs(t.median)} per ${k.unit} [${formatNs(t.ci[0])} … ${formatNs(t.ci[1])}]`,
    );
    for (const r of g.rates ?? []) {
      const c = doc.cells.find((x) => x.id === r.cell);
      if (!c) continue;
      const rt = r.timing;
      const sim = rt.simNsPerStep;
      lines.push(
        `  ${r.strategies.padEnd(12)} ${formatNs(sim).padStart(10)} per ${c.unit}   ${rt.median.toFixed(2)}× the kernel's rate [${rt.ci[0].toFixed(2)} … ${rt.ci[1].toFixed(2)}]`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
