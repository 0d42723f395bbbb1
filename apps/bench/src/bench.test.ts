import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WORKLOADS } from '@vmalab/workloads';
import { describe, expect, it, vi } from 'vitest';
import { main } from './cli.js';
import { expandMatrix } from './matrix.js';
import { formatKernelComparison, type RunJson, toJson } from './report.js';
import { LayoutMismatchError, runMatrix } from './runner.js';
import { compareRuns, environmentWarning, formatComparison } from './store.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const src = (pkg: string) => join(repo, 'packages', pkg, 'src', 'index.ts');

async function run(
  args: string[],
  cwd: string,
): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    const code = await main(args, {
      cwd,
      progress: false,
      err: (s) => {
        err += s;
      },
    });
    return { out, err, code };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/** A tiny, fast matrix: timing budgets of a millisecond. */
const TINY = [
  '--workload',
  'mmap-churn',
  '--param',
  'mappings=16',
  '--steps',
  '20',
  '--rounds',
  '2',
  '--time',
  '1',
  '--warmup',
  '0',
];

/** Everything but the clock-dependent parts (keys named `timing`). */
function withoutTiming(doc: RunJson): unknown {
  return JSON.parse(JSON.stringify(doc, (k, v) => (k === 'timing' ? undefined : v)));
}

describe('vmalab bench', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'vmalab-bench-'));

  it('prints JSON with the documented fields; counters are identical across runs with the same seed', async () => {
    const args = ['bench', ...TINY, '--preset', 'linux-2.4,linux-2.6,linux-6.8', '--json'];
    const r1 = await run(args, cwd);
    expect(r1.err).toBe('');
    expect(r1.code).toBe(0);
    const a = JSON.parse(r1.out) as RunJson;
    expect(a.schema).toBe('vmalab-bench/1');
    expect(Object.keys(a)).toEqual([
      'schema',
      'matrix',
      'config',
      'environment',
      'cells',
      'timing',
    ]);
    expect(a.matrix.baseline).toBe('linux-2.4');
    expect(a.matrix.strategySets).toEqual(['linux-2.4', 'linux-2.6', 'linux-6.8']);
    expect(a.config).toMatchObject({ rounds: 2, timeMs: 1, warmupMs: 0, seed: 1 });
    expect(Object.keys(a.environment)).toEqual(
      expect.arrayContaining(['cpu', 'cores', 'node', 'v8', 'platform', 'arch']),
    );
    expect(a.environment.node).toBe(process.versions.node);
    expect(a.cells).toHaveLength(3);
    const [base, l26, l68] = a.cells;
    expect(base).toMatchObject({
      workload: 'mmap-churn',
      case: 'mmap-churn mappings=16',
      params: { mappings: 16, minKiB: 1, maxKiB: 32 },
      unit: 'iteration',
      opsPerStep: 2,
      steps: 20,
      placement: 'linux-6.18',
      strategies: {
        label: 'linux-2.4',
        preset: 'linux-2.4',
        index: { name: 'list', options: { mmapCache: true, prevLinks: false } },
        finder: { name: 'linear', options: { policy: 'kernel' } },
        rmap: { name: 'unbatched', options: {} },
        mm: { madviseLocking: 'per-call' },
      },
    });
    expect(l26?.placement).toBe('free-area-cache cachedHoleSize=true');
    // Per op = total over steps × opsPerStep (20 iterations of munmap + mmap).
    expect(base?.counters.total.placements).toBeGreaterThanOrEqual(20);
    expect(base?.counters.perOp.placements).toBe((base?.counters.total.placements as number) / 40);
    expect(base?.timing.rounds).toHaveLength(2);
    expect(base?.timing.rounds[0]?.samples.length).toBeGreaterThan(0);
    expect(base?.timing.unit).toBe('ns/op');
    expect(base?.timing.median).toBeGreaterThan(0);
    expect(base?.timing.ci[0]).toBeLessThanOrEqual(base?.timing.median ?? 0);
    expect(base?.timing.vsBaseline).toBeUndefined();
    expect(l68?.timing.vsBaseline).toMatchObject({ baseline: 'linux-2.4', n: [2, 2] });
    // 2 rounds a side can never be significant (smallest p = 1/3).
    expect(l68?.timing.vsBaseline?.text).toBe('~');
    // The maple tree allocates nodes; the list does not visit fewer nodes.
    expect(l68?.counters.perOp.nodesAllocated).toBeGreaterThan(
      base?.counters.perOp.nodesAllocated as number,
    );

    const r2 = await run(args, cwd);
    const b = JSON.parse(r2.out) as RunJson;
    expect(JSON.stringify(withoutTiming(b))).toBe(JSON.stringify(withoutTiming(a)));
  });

  it('prints a table, Markdown and CSV', async () => {
    const table = await run(['bench', ...TINY, '--preset', 'linux-2.4,linux-6.8'], cwd);
    expect(table.code).toBe(0);
    expect(table.out).toContain('mmap-churn mappings=16 (op = 1/2 iteration; 20 steps × 2 rounds)');
    expect(table.out).toMatch(/│ linux-2\.4\s+│ .* baseline │/);
    expect(table.out).toMatch(/nodes visited\/op/);
    const md = await run(['bench', ...TINY, '--preset', 'linux-2.4,linux-6.8', '--md'], cwd);
    expect(md.out).toMatch(/^\*\*mmap-churn mappings=16/);
    expect(md.out).toContain('| strategies | time/op | 95% CI | vs linux-2.4 |');
    const csv = await run(['bench', ...TINY, '--preset', 'linux-6.8', '--csv'], cwd);
    const [head, row] = csv.out.trim().split('\n');
    expect(head).toMatch(
      /^workload,case,strategies,index,finder,rmap,unit,ops_per_step,steps,median_ns_per_op,/,
    );
    expect(head).toContain('nodesVisited_per_op');
    expect(row).toMatch(
      /^mmap-churn,mmap-churn mappings=16,linux-6\.8,maple,gap,unbatched,iteration,2,20,/,
    );
  });

  it('saves runs and compares them: matched cells, geomean over matched only', async () => {
    const s1 = await run(
      ['bench', ...TINY, '--preset', 'linux-2.4,linux-6.8', '--save', 'one'],
      cwd,
    );
    expect(s1.code).toBe(0);
    expect(s1.err).toContain(join('.vmalab', 'runs', 'one.json'));
    expect(existsSync(join(cwd, '.vmalab', 'runs', 'one.json'))).toBe(true);
    const s2 = await run(
      ['bench', ...TINY, '--preset', 'linux-6.8,linux-6.15', '--save', 'two', '--compare', 'one'],
      cwd,
    );
    expect(s2.code).toBe(0);
    expect(s2.out).toContain('compared with one:');
    expect(s2.out).toContain('geomean over 1 matched cell:');
    expect(s2.out).toMatch(/only in one \(1, not in the geomean/);
    expect(s2.out).toMatch(/only in this run \(1/);

    const c = await run(['compare', 'one', 'two'], cwd);
    expect(c.code).toBe(0);
    expect(c.err).toBe('');
    expect(c.out).toMatch(/│ strategies │ +one │ +two │ +delta │/);
    expect(c.out).toMatch(/│ linux-6\.8/);
    expect(c.out).not.toMatch(/│ linux-2\.4/);
    const j = await run(
      ['compare', 'one', join(cwd, '.vmalab', 'runs', 'two.json'), '--json'],
      cwd,
    );
    const cj = JSON.parse(j.out);
    expect(cj.matched).toHaveLength(1);
    expect(cj.onlyA).toHaveLength(1);
    expect(cj.onlyB).toHaveLength(1);
    const m = cj.matched[0];
    expect(cj.geomean).toBeCloseTo(m.b / m.a, 12);
  });

  it('geomean uses matched cells only, and warns when environments differ', () => {
    const one = JSON.parse(
      readFileSync(join(cwd, '.vmalab', 'runs', 'one.json'), 'utf8'),
    ) as RunJson;
    const scaled = (doc: RunJson, by: number, env: Partial<RunJson['environment']>): RunJson => ({
      ...doc,
      environment: { ...doc.environment, ...env },
      cells: doc.cells.map((c) => ({
        ...c,
        timing: {
          ...c.timing,
          median: c.timing.median * by,
          rounds: c.timing.rounds.map((r) => ({ ...r, median: r.median * by })),
        },
      })),
    });
    const other = scaled(one, 2, { cpu: 'Imaginary CPU', node: '99.0.0' });
    // An unmatched cell with an absurd time must not move the geomean.
    const extra = { ...other.cells[0], key: 'unmatched' } as RunJson['cells'][number];
    extra.timing = { ...extra.timing, median: 1e12 };
    other.cells.push(extra);
    const c = compareRuns(one, other);
    expect(c.matched).toHaveLength(2);
    expect(c.onlyB).toHaveLength(1);
    expect(c.geomean).toBeCloseTo(2, 12);
    expect(c.envDiffs).toEqual([
      `CPU ${one.environment.cpu} vs Imaginary CPU`,
      `Node ${one.environment.node} vs 99.0.0`,
    ]);
    expect(environmentWarning(c, 'a', 'b')).toMatch(
      /^warning: a and b ran in different environments \(CPU .* vs Imaginary CPU; Node .* vs 99\.0\.0\): timing differences may come from the machine/,
    );
    expect(environmentWarning(compareRuns(one, one), 'a', 'a')).toBeUndefined();
    expect(formatComparison(c, 'a', 'b')).toContain('geomean over 2 matched cells: +100%');
  });

  it('exits 2 naming the input on user mistakes, without a stack trace', async () => {
    const cases: [string[], string][] = [
      [['bench', '--preset', 'linux-9.9', '-w', 'exec'], "unknown preset 'linux-9.9'"],
      [['bench', '--index', 'splay', '-w', 'exec'], "unknown index strategy 'splay'"],
      [
        ['bench', '--preset', 'linux-6.8', '--index-opt', 'fanout=3', '-w', 'exec'],
        "unknown index option 'fanout'",
      ],
      [['bench', '-w', 'forkbomb'], "unknown workload 'forkbomb'"],
      [
        ['bench', '-w', 'fork', '--param', 'K=21'],
        "unknown workload parameter 'K' (fork: vmas, touch)",
      ],
      [['bench', '-w', 'fork', '--param', 'vmas'], "--param 'vmas': expected NAME=VALUE"],
      [['bench', '--matrix', 'nonexistent'], "cannot read matrix file '"],
      [
        ['bench', '--index', './missing.mjs', '-w', 'exec'],
        "cannot load strategy module './missing.mjs': ENOENT",
      ],
      [['bench', '--save', '../x', '-w', 'exec'], "--save '../x': a run name is"],
      [['bench', '--compare', 'never-saved', '-w', 'exec'], "cannot read run 'never-saved'"],
      [['bench', '--rounds', '0'], "'0' is not a positive integer"],
      [['compare', 'one'], "missing required argument 'b'"],
    ];
    for (const [args, msg] of cases) {
      const r = await run(args, cwd);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toContain(msg);
      expect(r.err).not.toContain('    at ');
    }
    const bad = join(cwd, 'bad.json');
    writeFileSync(bad, JSON.stringify({ workloads: [{ name: 'fork', params: { vmas: [null] } }] }));
    const r = await run(['bench', '--matrix', bad], cwd);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `vmalab: ${bad}: $.workloads[0].params.vmas[0]: expected a string, number or boolean\n`,
    );
  });

  it('runs a user strategy module (a wrapped list index) in the same matrix', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmalab-user-'));
    writeFileSync(
      join(dir, 'my-index.mjs'),
      `import { strategy as list } from ${JSON.stringify(src('index-list'))};
export const strategy = {
  ...list,
  name: 'my-list',
  description: 'the list index, counting its creations',
  create(options, counters) {
    counters.bump('myListCreated');
    return list.create(options, counters);
  },
};
`,
    );
    const r = await run(
      ['bench', ...TINY, '--index', './my-index.mjs,list', '--finder', 'linear', '--json'],
      dir,
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as RunJson;
    expect(doc.cells.map((c) => c.strategies.label)).toEqual([
      'my-list/linear/batched',
      'list/linear/batched',
    ]);
    const [mine, list] = doc.cells;
    expect(mine?.strategies.index.module).toBe(join(dir, 'my-index.mjs'));
    // Same layout (the check passed) and the same work as the list it wraps.
    expect(mine?.counters.perOp.nodesVisited).toBe(list?.counters.perOp.nodesVisited);
    expect(mine?.timing.vsBaseline).toBeUndefined();
    expect(list?.timing.vsBaseline?.baseline).toBe('my-list/linear/batched');

    writeFileSync(
      join(dir, 'not-a-strategy.mjs'),
      'export const strategy = { role: "index", name: "x" };\n',
    );
    const bad = await run(['bench', '--index', './not-a-strategy.mjs', '-w', 'exec'], dir);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe(
      "vmalab: strategy module './not-a-strategy.mjs': its strategy.create must be a function\n",
    );
    const role = await run(['bench', '--finder', './my-index.mjs', '-w', 'exec'], dir);
    expect(role.err).toContain("is a index strategy ('my-list'), not an finder one");
  });

  it('refuses to time strategies that end with different layouts (exit 3)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmalab-broken-'));
    // A finder that claims to be kernel-exact but answers one page lower.
    writeFileSync(
      join(dir, 'off-by-a-page.mjs'),
      `import { strategy as linear } from ${JSON.stringify(src('finder-linear'))};
export const strategy = {
  ...linear,
  name: 'off-by-a-page',
  placement: 'linux-6.18',
  create(options, counters) {
    const f = linear.create(options, counters);
    const wrap = (inner) => ({
      name: 'off-by-a-page',
      find: (mm, req) => { const a = inner.find(mm, req); return a > 0 && req.topDown ? a - 4096 : a; },
      unmapped: inner.unmapped ? (mm, s, e) => inner.unmapped(mm, s, e) : undefined,
      fork: () => wrap(inner.fork()),
    });
    return wrap(f);
  },
};
`,
    );
    const m = await expandMatrix(
      {
        baseDir: dir,
        finder: ['linear', './off-by-a-page.mjs'],
        index: ['list'],
        workloads: [{ name: 'mmap-churn', params: { mappings: [8] }, steps: 5 }],
      },
      WORKLOADS,
    );
    const err = await runMatrix(m, { rounds: 1, timeMs: 1, warmupMs: 0, seed: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(LayoutMismatchError);
    expect(err.message).toMatch(
      /^mmap-churn mappings=8: 'list\/linear\/batched' and 'list\/off-by-a-page\/batched' end with different layouts after the steps \(placement class linux-6\.18\); first difference at maps line \d+: "[0-9a-f]+-[0-9a-f]+ rw-p .*" vs "[0-9a-f]+-[0-9a-f]+ rw-p .*"$/,
    );
    const r = await run(
      [
        'bench',
        '--index',
        'list',
        '--finder',
        `linear,./off-by-a-page.mjs`,
        '-w',
        'mmap-churn',
        '--param',
        'mappings=8',
        '--steps',
        '5',
      ],
      dir,
    );
    expect(r.code).toBe(3);
    expect(r.err).toMatch(
      /^vmalab: mmap-churn mappings=8: 'list\/linear\/batched' and 'list\/off-by-a-page\/batched' end with different layouts/,
    );
    expect(r.out).toBe('');
  });

  it('warms each cell up before its first round, untimed, unless the warm-up is 0', async () => {
    const churn = WORKLOADS.find((w) => w.name === 'mmap-churn');
    if (!churn) throw new Error('no mmap-churn');
    let created = 0;
    const counted = {
      ...churn,
      create: (params: Parameters<typeof churn.create>[0], seed: number) => {
        created++;
        return churn.create(params, seed);
      },
    };
    const m = await expandMatrix(
      {
        presets: ['linux-6.8'],
        workloads: [{ name: 'mmap-churn', params: { mappings: [16] }, steps: 20 }],
      },
      [counted],
    );
    const opts = { rounds: 2, timeMs: 1, seed: 1 };
    const cold = await runMatrix(m, { ...opts, warmupMs: 0 });
    const coldCreated = created;
    created = 0;
    const warm = await runMatrix(m, { ...opts, warmupMs: 1 });
    // The 400 ms pre-warm-up runs many whole cycles of 20 steps: fresh instances.
    expect(created).toBeGreaterThan(coldCreated + 10);
    // It counts nothing: the counters are those of the check run alone.
    expect(warm.cases[0]?.cells[0]?.counters).toEqual(cold.cases[0]?.cells[0]?.counters);
  });

  it('runs the kernel baseline once after each round and pairs the rates by round', async () => {
    const m = await expandMatrix(
      {
        presets: ['linux-3.8', 'linux-6.8'],
        workloads: [{ name: 'mmap-churn', params: { mappings: [16] }, steps: 20 }],
      },
      WORKLOADS,
    );
    const calls: number[] = [];
    const events: string[] = [];
    const res = await runMatrix(m, {
      rounds: 3,
      timeMs: 1,
      warmupMs: 0,
      seed: 1,
      onEvent: (e) => events.push(e.type),
      kernelBaseline: (_c, round) => {
        calls.push(round);
        return {
          workload: 'mmap-churn',
          program: 'mmap-churn',
          unit: 'iteration',
          kernel: 'test',
          iterations: 20,
          elapsedNs: 20_000 * (round + 1),
          nsPerStep: 1000 * (round + 1),
          raw: { cycles: 4 },
          argv: [],
        };
      },
    });
    expect(calls).toEqual([0, 1, 2]);
    // Each kernel run comes after the round's two cells.
    expect(events.filter((t) => t === 'round' || t === 'kernel')).toEqual([
      'round',
      'round',
      'kernel',
      'round',
      'round',
      'kernel',
      'round',
      'round',
      'kernel',
    ]);
    const doc = toJson(res, 'test');
    const g = doc.groups?.[0];
    if (!g || 'skipped' in g.kernel) throw new Error('expected a kernel group');
    expect(g.kernel.timing.nsPerStep).toEqual([1000, 2000, 3000]);
    expect(g.rates?.map((r) => r.strategies)).toEqual(['linux-3.8', 'linux-6.8']);
    for (const r of g.rates ?? []) {
      const cell = doc.cells.find((c) => c.id === r.cell);
      if (!cell) throw new Error('rate of an unknown cell');
      // Throughput on both sides: the round's mean, not its median batch.
      expect(r.timing.perRound).toEqual(
        cell.timing.rounds.map((x, i) => (1000 * (i + 1)) / (x.mean * cell.opsPerStep)),
      );
      // A round's throughput is a weighted mean of its batches: within them.
      for (const x of cell.timing.rounds) {
        expect(x.mean).toBeGreaterThanOrEqual(Math.min(...x.samples) - 1e-3);
        expect(x.mean).toBeLessThanOrEqual(Math.max(...x.samples) + 1e-3);
      }
    }
    expect(formatKernelComparison(doc)).toMatch(
      /mmap-churn mappings=16: kernel test \(mmap-churn, 4 cycles of 5 iterations × 3 runs, one after each round\): 2\.00 µs per iteration \[.*\]\n {2}linux-3\.8 .* per iteration {3}[\d.]+× the kernel's rate \[[\d.]+ … [\d.]+\]\n/,
    );
  });

  it('keeps cells of other placement classes apart: linux-2.6 places elsewhere, validly', async () => {
    const r = await run(
      [
        'bench',
        ...['--workload', 'thread-stacks', '--param', 'stacks=8', '--steps', '20'],
        ...['--rounds', '1', '--time', '1', '--warmup', '0', '--preset', 'linux-2.6,linux-6.8'],
        '--json',
      ],
      cwd,
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as RunJson;
    expect(doc.cells.map((c) => c.placement)).toEqual([
      'free-area-cache cachedHoleSize=true',
      'linux-6.18',
    ]);
  });
});

describe('vmalab list', () => {
  it('shows the workloads with their parameters', async () => {
    const r = await run(['list'], process.cwd());
    expect(r.code).toBe(0);
    expect(r.out).toContain('\nworkloads:\n');
    expect(r.out).toMatch(/ {2}fork +\S/);
    expect(r.out).toMatch(/param vmas \(number, 1…65530\), default 1621: /);
    expect(r.out).toMatch(/param mode \(enum: stacks \| leak \| leakme\), default stacks: /);
    expect(r.out.indexOf('workloads:')).toBeLessThan(r.out.indexOf('presets:'));
  });
});
