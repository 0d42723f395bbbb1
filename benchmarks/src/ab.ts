/**
 * Same-process A/B of two source trees: a base git revision's packages
 * against the working tree's, running one workload over one preset's
 * strategies, alternating A and B run by run.
 *
 *   pnpm --filter @vmalab/benchmarks ab -- --base HEAD~3 --preset linux-6.8 --workload mmap-churn
 *   pnpm --filter @vmalab/benchmarks ab -- --base main --preset linux-3.8 --workload fork --param vmas=1621 --steps 200
 *
 * Why: on a noisy 2-vCPU VM two benchmark processes started a minute apart can
 * differ by 1.5× with identical code. Here both trees are loaded into one
 * process (the base is exported with `git archive` to `benchmarks/.ab/REV/`
 * and its `@vmalab/*` imports rewritten to relative paths), each run builds a
 * fresh address space and times `--steps` steps, and the ratio is taken per
 * pair of neighbouring runs, so that a slow spell hits both sides. Reported:
 * each side's median time per step, the median of the per-pair ratios with a
 * bootstrap 95% interval, a Mann–Whitney verdict, and the exact counters per
 * step wherever the two sides differ (the work changed, not just its speed).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { CountersSnapshot, StrategyDescriptor } from '@vmalab/core';
import {
  bootstrapCI,
  compareSamples,
  formatDelta,
  formatNs,
  median,
  sig3,
} from '@vmalab/core/stats';
import { rewriteImports } from './ab-tree.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STRATEGY_PACKAGES = [
  'index-list',
  'index-rbtree',
  'index-maple',
  'finder-linear',
  'finder-free-area-cache',
  'finder-gap',
  'rmap-unbatched',
  'rmap-batched',
];

class UsageError extends Error {}

interface Side {
  label: string;
  // biome-ignore lint/suspicious/noExplicitAny: the two trees' modules are loaded by path
  core: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  mm: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  workloads: any;
  strategies: Map<string, StrategyDescriptor>;
}

function git(...args: string[]): string {
  return execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' }).trim();
}

/** `packages/` of `rev`, exported once to benchmarks/.ab/SHA with its imports made relative. */
function exportBase(rev: string): { dir: string; sha: string } {
  let sha: string;
  try {
    sha = git('rev-parse', '--short=12', '--verify', `${rev}^{commit}`);
  } catch {
    throw new UsageError(`--base ${rev}: not a commit of this repository`);
  }
  const dir = join(ROOT, 'benchmarks', '.ab', sha);
  if (existsSync(join(dir, '.done'))) return { dir, sha };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The packages without their recorded test fixtures.
  const tar = execFileSync(
    'git',
    ['-C', ROOT, 'archive', sha, '--', 'packages', ':(exclude,glob)packages/*/fixtures/**'],
    { maxBuffer: 1 << 30 },
  );
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  rewriteImports(join(dir, 'packages'));
  writeFileSync(join(dir, '.done'), `${sha}\n`);
  return { dir, sha };
}

async function loadSide(label: string, pkgs: string): Promise<Side> {
  const load = async (p: string) => {
    const entry = join(pkgs, p, 'src', 'index.ts');
    if (!existsSync(entry)) throw new UsageError(`${label}: no ${join(p, 'src', 'index.ts')}`);
    return import(pathToFileURL(entry).href);
  };
  const strategies = new Map<string, StrategyDescriptor>();
  for (const p of STRATEGY_PACKAGES) {
    if (!existsSync(join(pkgs, p))) continue;
    const s = (await load(p)).strategy as StrategyDescriptor | undefined;
    if (s) strategies.set(`${s.role}:${s.name}`, s);
  }
  return {
    label,
    core: await load('core'),
    mm: await load('mm'),
    workloads: await load('workloads'),
    strategies,
  };
}

interface Preset {
  name: string;
  index: [StrategyDescriptor, Record<string, unknown>];
  finder: [StrategyDescriptor, Record<string, unknown>];
  rmap: [StrategyDescriptor, Record<string, unknown>];
  mm: Record<string, unknown>;
}

interface Run {
  nsPerStep: number;
  perStep: Record<string, number>;
}

function runOnce(
  side: Side,
  preset: Preset,
  workload: string,
  params: Record<string, number | string>,
  steps: number,
  seed: number,
): Run {
  const strategy = (role: 'index' | 'finder' | 'rmap') => {
    const [d, options] = preset[role];
    const s = side.strategies.get(`${role}:${d.name}`);
    if (!s) throw new UsageError(`${side.label}: no ${role} strategy '${d.name}'`);
    return [s, options] as const;
  };
  const [ix, io] = strategy('index');
  const [fx, fo] = strategy('finder');
  const [rx, ro] = strategy('rmap');
  const w = side.workloads.findWorkload(workload);
  if (!w) throw new UsageError(`${side.label}: no workload '${workload}'`);
  const counters = new side.core.Counters();
  let inst: ReturnType<typeof w.create>;
  try {
    inst = w.create(params, seed);
  } catch (e) {
    if ((e as Error).name === 'WorkloadParamError') throw new UsageError((e as Error).message);
    throw e;
  }
  const mm = inst.setup(
    (extra: object) =>
      new side.mm.AddressSpace({
        ...inst.mmOptions,
        ...extra,
        ...preset.mm,
        index: ix.create(io, counters),
        finder: fx.create(fo, counters),
        rmap: rx.create(ro, counters),
        counters,
      }),
  );
  const before = counters.snapshot() as CountersSnapshot;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) inst.step(mm);
  const ns = Number(process.hrtime.bigint() - t0);
  const after = counters.snapshot() as CountersSnapshot;
  const perStep: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    if (typeof v === 'number') perStep[k] = (v - ((before[k] as number) ?? 0)) / steps;
  }
  return { nsPerStep: ns / steps, perStep };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      base: { type: 'string', default: 'HEAD' },
      preset: { type: 'string', default: 'linux-6.8' },
      workload: { type: 'string', default: 'mmap-churn' },
      param: { type: 'string', multiple: true, default: [] },
      steps: { type: 'string', default: '100000' },
      runs: { type: 'string', default: '10' },
      seed: { type: 'string', default: '1' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      `${readFileSync(fileURLToPath(import.meta.url), 'utf8')
        .split('*/')[0]
        ?.replace(/^\/\*\*\n/, '')
        .replace(/^ \* ?/gm, '')}\n`,
    );
    return;
  }
  const count = (flag: string, text: string, min: number): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`--${flag} ${text}: need an integer ≥ ${min}`);
    return n;
  };
  const steps = count('steps', values.steps, 1);
  const runs = count('runs', values.runs, 2);
  const seed = count('seed', values.seed, 0);
  const params: Record<string, number | string> = {};
  for (const p of values.param) {
    const m = /^([\w-]+)=(.+)$/.exec(p);
    if (!m) throw new UsageError(`--param ${p}: expected NAME=VALUE`);
    const v = m[2] as string;
    params[m[1] as string] = Number.isNaN(Number(v)) ? v : Number(v);
  }

  const presets = await import(
    pathToFileURL(join(ROOT, 'apps', 'bench', 'src', 'presets.ts')).href
  );
  let preset: Preset;
  try {
    preset = presets.findPreset(values.preset) as Preset;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { dir, sha } = exportBase(values.base);
  const a = await loadSide(`base ${sha}`, join(dir, 'packages'));
  const b = await loadSide('working tree', join(ROOT, 'packages'));
  const once = (s: Side) => runOnce(s, preset, values.workload, params, steps, seed);

  process.stderr.write(
    `A/B ${values.workload} × ${preset.name}: ${a.label} vs ${b.label}, ${steps} steps × ${runs} runs per side\n`,
  );
  once(a); // warm-up: both sides compiled before anything is timed
  once(b);
  const ra: Run[] = [];
  const rb: Run[] = [];
  for (let r = 0; r < runs; r++) {
    // Alternate which side goes first, so neither always runs after the other.
    if (r % 2 === 0) {
      ra.push(once(a));
      rb.push(once(b));
    } else {
      rb.push(once(b));
      ra.push(once(a));
    }
    process.stderr.write(`  run ${r + 1}/${runs}\r`);
  }
  process.stderr.write('\n');
  const ta = ra.map((r) => r.nsPerStep);
  const tb = rb.map((r) => r.nsPerStep);
  const paired = bootstrapCI(
    tb.map((t, i) => t / (ta[i] as number)),
    median,
  );
  const width = Math.max(a.label.length, b.label.length);
  const line = (label: string, t: number[]) =>
    `  ${label.padEnd(width)}  ${formatNs(median(t)).padStart(9)} per step  (runs ${formatNs(Math.min(...t))} … ${formatNs(Math.max(...t))})`;
  const out = [
    `${values.workload} × ${preset.name}, ${steps} steps per run, ${runs} runs per side, alternating`,
    line(a.label, ta),
    line(b.label, tb),
    `  working / base: ${paired.value.toFixed(3)} [${paired.lo.toFixed(3)}, ${paired.hi.toFixed(3)}] (median of per-pair ratios, bootstrap 95%); ${formatDelta(compareSamples(tb, ta), { withP: true })}`,
  ];
  const ca = (ra[0] as Run).perStep;
  const cb = (rb[0] as Run).perStep;
  const changed = Object.keys({ ...ca, ...cb }).filter((k) => (ca[k] ?? 0) !== (cb[k] ?? 0));
  out.push(
    changed.length === 0
      ? '  counters per step: identical'
      : `  counters per step that differ: ${changed
          .map((k) => `${k} ${sig3(ca[k] ?? 0)} → ${sig3(cb[k] ?? 0)}`)
          .join(', ')}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

main(process.argv.slice(2).filter((x) => x !== '--')).catch((e: unknown) => {
  if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`ab: ${(e as Error).message}\n`);
    process.exit(2);
  }
  throw e;
});
