import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKLOADS } from '@vmalab/workloads';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MATRIX } from './bench-cli.js';
import {
  expandMatrix,
  expandStrategies,
  findBaseline,
  type MatrixSpec,
  mergeSpecs,
  parseAxisFlag,
  readMatrixFile,
} from './matrix.js';
import { PRESETS, UsageError } from './presets.js';

const labels = async (spec: MatrixSpec) => (await expandStrategies(spec)).map((s) => s.label);

describe('matrix expansion: strategies', () => {
  it('gives one set per preset, every preset by default', async () => {
    expect(await labels({ presets: ['linux-2.4', 'linux-6.8'] })).toEqual([
      'linux-2.4',
      'linux-6.8',
    ]);
    expect(await labels({})).toEqual(PRESETS.map((p) => p.name));
    const [s] = await expandStrategies({ presets: ['linux-6.1'] });
    expect(s?.preset).toBe('linux-6.1');
    expect(s?.index.resolved).toEqual({ prealloc: 'worst-case', dup: 'insert', rcu: false });
    expect(s?.mm).toEqual({ madviseLocking: 'per-call' });
  });

  it('takes the cartesian product of explicit strategies, from Linux 6.15 defaults', async () => {
    const sets = await expandStrategies({
      index: ['maple', 'rbtree'],
      finder: ['gap', 'linear'],
      indexOptions: { gaps: ['raw'] },
    });
    expect(sets.map((s) => s.label)).toEqual([
      'maple/gap/batched',
      'maple/linear/batched',
      'rbtree/gap/batched gaps=raw',
      'rbtree/linear/batched gaps=raw',
    ]);
    expect(sets[0]?.rmap.descriptor.name).toBe('batched');
    expect(sets[2]?.index.resolved.gaps).toBe('raw');
  });

  it('multiplies option axes only for strategies that declare the option', async () => {
    const sets = await expandStrategies({
      presets: ['linux-3.8', 'linux-6.8'],
      indexOptions: { prealloc: ['worst-case', 'by-store-type'] },
    });
    // linux-6.8's maple already uses by-store-type: that set equals the preset's.
    expect(sets.map((s) => s.label)).toEqual([
      'linux-3.8',
      'linux-6.8 prealloc=worst-case',
      'linux-6.8 prealloc=by-store-type',
    ]);
    expect(sets[1]?.index.resolved).toMatchObject({ prealloc: 'worst-case', dup: 'mt-dup' });
  });

  it('replaces a role of each preset, and drops duplicate sets', async () => {
    const sets = await expandStrategies({
      presets: ['linux-6.8', 'linux-6.11'],
      rmap: ['unbatched'],
    });
    // linux-6.11 with unbatched rmap is linux-6.8.
    expect(sets.map((s) => s.label)).toEqual(['linux-6.8 rmap=unbatched']);
  });

  it('names the offending input', async () => {
    const err = async (spec: MatrixSpec) => {
      try {
        await expandStrategies(spec);
      } catch (e) {
        expect(e).toBeInstanceOf(UsageError);
        return (e as Error).message;
      }
      throw new Error('no error');
    };
    expect(await err({ presets: ['linux-9.9'] })).toMatch(/unknown preset 'linux-9.9'/);
    expect(await err({ index: ['splay'] })).toBe(
      "unknown index strategy 'splay' (available: list, rbtree, maple; or a path to a module exporting 'strategy')",
    );
    expect(await err({ index: ['gap'] })).toMatch(/'gap' is a finder strategy, not an index one/);
    expect(await err({ presets: ['linux-6.8'], indexOptions: { fanout: ['16'] } })).toBe(
      "unknown index option 'fanout' (options of maple: prealloc, dup, rcu)",
    );
    expect(await err({ index: ['maple'], indexOptions: { prealloc: ['lots'] } })).toMatch(
      /index 'maple' option 'prealloc' must be one of worst-case \| by-store-type/,
    );
    expect(await err({ index: ['list'] })).toMatch(/finder 'gap' needs an index that tracks gaps/);
    expect(await err({ index: ['./nope/missing.mjs'] })).toMatch(
      /cannot load strategy module '.\/nope\/missing.mjs': ENOENT/,
    );
  });
});

describe('matrix expansion: workloads and cells', () => {
  it('crosses workload cases with strategy sets, params validated and defaults filled in', async () => {
    const m = await expandMatrix(
      {
        presets: ['linux-2.4', 'linux-6.8'],
        workloads: [{ name: 'fork', params: { vmas: [21, 821] }, steps: 3 }, { name: 'exec' }],
      },
      WORKLOADS,
    );
    expect(m.cases.map((c) => c.label)).toEqual(['fork vmas=21', 'fork vmas=821', 'exec']);
    expect(m.cells).toHaveLength(6);
    expect(m.cells.map((c) => `${c.case.label} × ${c.set.label}`)).toEqual([
      'fork vmas=21 × linux-2.4',
      'fork vmas=21 × linux-6.8',
      'fork vmas=821 × linux-2.4',
      'fork vmas=821 × linux-6.8',
      'exec × linux-2.4',
      'exec × linux-6.8',
    ]);
    expect(m.cases[0]?.params).toEqual({ vmas: 21, touch: false });
    expect(m.cases[0]?.steps).toBe(3);
    expect(m.cases[2]?.steps).toBe(100);
    expect(new Set(m.cells.map((c) => c.key)).size).toBe(6);
    expect(m.baseline.label).toBe('linux-2.4');
  });

  it('applies global params to the workloads that declare them, as numbers from flag text', async () => {
    const m = await expandMatrix(
      {
        presets: ['linux-6.8'],
        workloads: [{ name: 'fork' }, { name: 'exec' }],
        params: { vmas: ['1e2', '21'] },
      },
      WORKLOADS,
    );
    expect(m.cases.map((c) => c.label)).toEqual(['fork vmas=100', 'fork vmas=21', 'exec']);
  });

  it('rejects unknown workloads, parameters and values', async () => {
    const err = (spec: MatrixSpec) =>
      expandMatrix({ presets: ['linux-6.8'], ...spec }, WORKLOADS).then(
        () => 'no error',
        (e: Error) => `${e.name}: ${e.message}`,
      );
    expect(await err({ workloads: [{ name: 'forkbomb' }] })).toBe(
      "UsageError: unknown workload 'forkbomb' (available: mmap-churn, thread-stacks, fork, exec, madvise)",
    );
    expect(await err({ workloads: [{ name: 'fork' }], params: { K: [21] } })).toBe(
      "UsageError: unknown workload parameter 'K' (fork: vmas, touch)",
    );
    expect(await err({ workloads: [{ name: 'fork', params: { vmas: [0] } }] })).toBe(
      'UsageError: workload fork: parameter vmas must be at least 1, got 0',
    );
    expect(await err({ workloads: [{ name: 'fork', params: { vmas: ['many'] } }] })).toBe(
      'UsageError: workload fork: parameter vmas must be a number, got "many"',
    );
    expect(await err({ workloads: [{ name: 'exec' }], baseline: 'linux-2.4' })).toMatch(
      /baseline 'linux-2.4' matches none of the strategy sets \(linux-6.8\)/,
    );
    expect(await err({ workloads: [] })).toBe('UsageError: no workload given');
    expect(
      await expandMatrix({ workloads: [{ name: 'exec' }] }, []).catch((e: Error) => e.message),
    ).toMatch(/no workloads are registered/);
  });

  it('finds the baseline by label or by a unique preset / strategy name', async () => {
    const sets = await expandStrategies({
      index: ['maple', 'rbtree'],
      indexOptions: { gaps: ['raw'] },
    });
    expect(findBaseline(sets, 'rbtree').label).toBe('rbtree/gap/batched gaps=raw');
    expect(findBaseline(sets, 'maple/gap/batched').label).toBe('maple/gap/batched');
    expect(() => findBaseline(sets, 'gap')).toThrow(/matches several/);
  });
});

describe('matrix files', () => {
  const file = (name: string, json: unknown) => {
    const p = join(tmpdir(), `vmalab-matrix-${process.pid}-${name}.json`);
    writeFileSync(p, typeof json === 'string' ? json : JSON.stringify(json));
    return p;
  };

  it('reads the shipped default matrix: every preset × every workload', async () => {
    const spec = readMatrixFile(DEFAULT_MATRIX);
    const m = await expandMatrix(spec, WORKLOADS);
    expect(m.sets.map((s) => s.label)).toEqual(PRESETS.map((p) => p.name));
    expect(new Set(m.cases.map((c) => c.workload.name))).toEqual(
      new Set(WORKLOADS.map((w) => w.name)),
    );
    expect(m.baseline.label).toBe('linux-6.8');
  });

  it('names the file and the JSON path of a mistake', () => {
    const err = (json: unknown) => {
      try {
        readMatrixFile(file('bad', json));
      } catch (e) {
        return (e as Error).message.replace(/^.*vmalab-matrix-\d+-bad\.json: /, '');
      }
      return 'no error';
    };
    expect(err('{ nope')).toMatch(/^not valid JSON/);
    expect(err({ presets: ['linux-2.4', 3] })).toBe('$.presets[1]: expected a non-empty string');
    expect(err({ workloads: [{ name: 'fork', steps: 0 }] })).toBe(
      '$.workloads[0].steps: expected a positive integer',
    );
    expect(err({ workloads: [{ name: 'fork', sizes: [1] }] })).toBe(
      '$.workloads[0].sizes: unknown key (keys: name, params, steps)',
    );
    expect(err({ presetz: [] })).toMatch(/^\$\.presetz: unknown key \(keys: description, presets/);
    expect(err({ params: { vmas: [{}] } })).toBe(
      '$.params.vmas[0]: expected a string, number or boolean',
    );
    expect(() => readMatrixFile('/nonexistent/m.json')).toThrow(
      "cannot read matrix file '/nonexistent/m.json': ENOENT",
    );
  });

  it('lets flags replace a file axis, keeping per-workload sizes for named workloads', () => {
    const f: MatrixSpec = {
      presets: ['linux-2.4'],
      workloads: [{ name: 'fork', params: { vmas: [21] }, steps: 5 }, { name: 'exec' }],
      rounds: 3,
    };
    const merged = mergeSpecs(f, { index: ['maple'], workloads: [{ name: 'fork' }], rounds: 2 });
    expect(merged.presets).toBeUndefined();
    expect(merged.index).toEqual(['maple']);
    expect(merged.workloads).toEqual([{ name: 'fork', params: { vmas: [21] }, steps: 5 }]);
    expect(merged.rounds).toBe(2);
    expect(parseAxisFlag('--param', 'vmas=21,821')).toEqual(['vmas', ['21', '821']]);
    expect(() => parseAxisFlag('--param', 'vmas')).toThrow("--param 'vmas': expected NAME=VALUE");
  });
});
