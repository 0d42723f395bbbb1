import { Command, CommanderError } from 'commander';
import { beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from './presets.js';
import { EXPERIMENTS, REPRODUCE_SCHEMA, registerReproduce } from './reproduce.js';

/** What cli.ts's main does with the command: UsageError and commander errors → exit 2. */
async function run(args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const program = new Command('vmalab').exitOverride();
  const toOut = (s: string) => {
    out += s;
  };
  const toErr = (s: string) => {
    err += s;
  };
  program.configureOutput({ writeOut: toOut, writeErr: toErr });
  registerReproduce(program, { out: toOut, err: toErr });
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out, err, code: 0 };
  } catch (e) {
    if (e instanceof CommanderError) return { out, err, code: e.exitCode === 0 ? 0 : 2 };
    if (e instanceof UsageError) return { out, err: `${err}vmalab: ${e.message}\n`, code: 2 };
    throw e;
  }
}

type Snapshot = Record<string, number | number[]>;
interface CellJson {
  label: string;
  preset: string;
  params: Record<string, number | string | boolean>;
  steps: number;
  counters: Snapshot;
  inspected?: Record<string, number>;
}
interface ReportJson {
  name: string;
  tables: { title: string; headers: string[]; rows: string[][] }[];
  findings: string[];
  leftOut: string;
  data: { cells: CellJson[]; published: unknown };
}

const n = (s: Snapshot, k: string): number => {
  const v = s[k];
  return typeof v === 'number' ? v : 0;
};

describe('vmalab reproduce', () => {
  let json: { schema: string; experiments: ReportJson[] };
  const byName = (name: string): ReportJson => {
    const r = json.experiments.find((e) => e.name === name);
    if (!r) throw new Error(`no report ${name}`);
    return r;
  };
  const cell = (r: ReportJson, label: string, pred: (c: CellJson) => boolean = () => true) => {
    const c = r.data.cells.find((x) => x.label === label && pred(x));
    if (!c) throw new Error(`${r.name}: no cell ${label}`);
    return c;
  };

  beforeAll(async () => {
    const r = await run(['reproduce', '--quick', '--json']);
    expect(r.code).toBe(0);
    json = JSON.parse(r.out);
  });

  it('registers the command with its experiments in the help', async () => {
    const program = new Command('vmalab');
    registerReproduce(program, { out: () => {}, err: () => {} });
    const cmd = program.commands.find((c) => c.name() === 'reproduce');
    expect(cmd).toBeDefined();
    const help = await run(['reproduce', '--help']);
    expect(help.code).toBe(0);
    for (const e of EXPERIMENTS) expect(help.out).toContain(e);
  });

  it('runs all five with --json, published beside simulated', () => {
    expect(json.schema).toBe(REPRODUCE_SCHEMA);
    expect(json.experiments.map((e) => e.name)).toEqual([...EXPERIMENTS]);
    for (const e of json.experiments) {
      expect(e.tables.length).toBeGreaterThanOrEqual(2);
      expect(e.leftOut.length).toBeGreaterThan(100);
      expect(e.data.published).toBeDefined();
    }
  });

  it('mmap-churn: the same VMA work in every preset; 6.1 preallocates far more nodes than 6.8', () => {
    const r = byName('mmap-churn');
    const [a, b, c] = ['linux-3.8', 'linux-6.1', 'linux-6.8'].map((p) => cell(r, p));
    expect(n(a!.counters, 'splits')).toBe(n(b!.counters, 'splits'));
    expect(n(b!.counters, 'splits')).toBe(n(c!.counters, 'splits'));
    expect(n(a!.counters, 'merges')).toBe(n(c!.counters, 'merges'));
    expect(n(b!.counters, 'nodesAllocated')).toBeGreaterThan(5 * n(c!.counters, 'nodesAllocated'));
    expect(n(c!.counters, 'mmapLockWrite')).toBe(2 * c!.steps);
  });

  it('mt-dup: both modes copy every VMA; __mt_dup allocates no more nodes than inserting', () => {
    const r = byName('mt-dup');
    for (const k of [21, 121, 821]) {
      const ins = cell(r, 'insert', (x) => x.params.vmas === k);
      const dup = cell(r, 'mt-dup', (x) => x.params.vmas === k);
      expect(n(ins.counters, 'vmaAllocated')).toBe(k * ins.steps);
      expect(n(dup.counters, 'vmaAllocated')).toBe(k * dup.steps);
      expect(n(dup.counters, 'nodesAllocated') / dup.steps).toBeLessThanOrEqual(
        n(ins.counters, 'nodesAllocated') / ins.steps,
      );
      expect(n(dup.counters, 'slotsScanned') / dup.steps).toBeLessThan(
        n(ins.counters, 'slotsScanned') / ins.steps,
      );
    }
    expect(r.tables[0]?.rows.map((row) => row[0])).toEqual(['21', '121', '821']);
    // Published forks per 10 s ÷ 10, beside the simulated columns.
    expect(r.tables[0]?.rows[0]?.slice(1, 4)).toEqual(['11210', '11456', '+2.2%']);
  });

  it('free-area-cache: the linear walk grows with N, the cache and the gap tree stay flat', () => {
    const r = byName('free-area-cache');
    const visits = (label: string, stacks: number) => {
      const c = cell(r, label, (x) => x.params.stacks === stacks && x.params.mode === 'stacks');
      return n(c.counters, 'nodesVisited') / c.steps;
    };
    expect(visits('linear', 1000) / visits('linear', 250)).toBeGreaterThan(2.5);
    expect(visits('free-area-cache', 1000) / visits('free-area-cache', 250)).toBeLessThan(1.6);
    expect(visits('gap', 1000) / visits('gap', 250)).toBeLessThan(1.6);
    const leak = r.data.cells.filter((x) => x.params.mode === 'leakme');
    expect(leak).toHaveLength(3);
    // no cache / Molnar's cache / cache + cached_hole_size: the middle one fragments.
    const [none, molnar, wander] = leak.map((c) => c.inspected?.holes ?? 0);
    expect(molnar).toBeGreaterThan(2 * Math.max(none ?? 0, wander ?? 0));
    expect(r.tables.map((t) => t.title).join('\n')).toMatch(/Wander/);
  });

  it('unlink-batch: fewer i_mmap acquisitions per exec when batched, runs of 5 in the histogram', () => {
    const r = byName('unlink-batch');
    const un = cell(r, 'linux-6.8 (unbatched)');
    const ba = cell(r, 'linux-6.11 (batched)');
    expect(n(ba.counters, 'iMmapLockWrite')).toBeLessThan(n(un.counters, 'iMmapLockWrite'));
    const hu = un.counters.rmapBatchHistogram as number[];
    const hb = ba.counters.rmapBatchHistogram as number[];
    // Unbatched: every acquisition covers one VMA.
    expect(hu.slice(2).every((x) => x === 0)).toBe(true);
    expect(hb[5] ?? 0).toBeGreaterThan(0);
    // The same VMAs are unlinked either way.
    const covered = (h: number[]) => h.reduce((s, x, i) => s + x * i, 0);
    expect(covered(hb)).toBe(covered(hu));
    expect(r.tables[0]?.rows[0]?.[1]).toBe('799,579');
  });

  it('process-madvise: batched locking takes mmap_lock 65536 / len times per pass', () => {
    const r = byName('process-madvise');
    const locks = (c: CellJson) =>
      (n(c.counters, 'mmapLockRead') + n(c.counters, 'mmapLockWrite')) / c.steps;
    for (const v of [0, 1, 8, 1024]) {
      const perCall = cell(r, 'per-call', (x) => x.params.vector === v);
      const batched = cell(r, 'batched', (x) => x.params.vector === v);
      expect(locks(perCall)).toBe(65536);
      expect(locks(batched)).toBe(v === 0 ? 65536 : 65536 / v);
    }
    expect(r.tables[0]?.rows.map((row) => row[3])).toEqual(['0.829', '0.822', '0.752', '0.757']);
  });

  it('prints each table as text, with what the model leaves out', async () => {
    const r = await run(['reproduce', 'process-madvise', '--quick']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('== process-madvise');
    expect(r.out).toMatch(/pub\. before.*sim\. per-call/);
    expect(r.out).toContain('146 ms');
    expect(r.out).toContain('What the model leaves out:');
    expect(r.out).toContain('--quick');
  });

  it('exits 2 on an unknown experiment, listing the five', async () => {
    const r = await run(['reproduce', 'maple']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain("unknown experiment 'maple'");
    for (const e of EXPERIMENTS) expect(r.err).toContain(e);
    const bad = await run(['reproduce', 'mt-dup', '--scale', '-1']);
    expect(bad.code).toBe(2);
  });
});
