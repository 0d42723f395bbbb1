import { describe, expect, it } from 'vitest';
import { findWorkload, WORKLOADS, WorkloadParamError, type WorkloadParams } from './index.js';
import { EXACT, run } from './test-util.js';

/** Small parameters per workload (every test of this file runs each several times). */
const SMALL: Record<string, { params: WorkloadParams; steps: number }> = {
  'mmap-churn': { params: { mappings: 64 }, steps: 300 },
  'thread-stacks': { params: { stacks: 40 }, steps: 100 },
  'thread-stacks/leak': { params: { stacks: 40, mode: 'leak' }, steps: 100 },
  'thread-stacks/bottom-up': { params: { stacks: 40, layout: 'bottom-up' }, steps: 100 },
  fork: { params: { vmas: 121, touch: true }, steps: 3 },
  exec: { params: {}, steps: 3 },
  madvise: { params: { sizeMiB: 2, vector: 16 }, steps: 2 },
  'madvise/plain': { params: { sizeMiB: 2, vector: 0 }, steps: 2 },
};
const cases = Object.entries(SMALL).map(([key, c]) => {
  const w = findWorkload(key.split('/')[0] as string);
  if (!w) throw new Error(`no workload ${key}`);
  return { key, w, ...c };
});

describe('registry', () => {
  it('has the five workloads of DESIGN.md §4, findable by name', () => {
    expect(WORKLOADS.map((w) => w.name)).toEqual([
      'mmap-churn',
      'thread-stacks',
      'fork',
      'exec',
      'madvise',
    ]);
    for (const w of WORKLOADS) expect(findWorkload(w.name)).toBe(w);
    expect(findWorkload('nope')).toBeUndefined();
  });

  it.each(
    WORKLOADS.map((w) => [w.name, w] as const),
  )('%s: documented, defaults valid and within range', (_, w) => {
    expect(w.description.length).toBeGreaterThan(20);
    expect(w.source.length).toBeGreaterThan(20);
    for (const p of w.params) {
      expect(p.description.length).toBeGreaterThan(10);
      if (p.type === 'number') {
        expect(typeof p.default).toBe('number');
        expect(p.default as number).toBeGreaterThanOrEqual(p.min as number);
        expect(p.default as number).toBeLessThanOrEqual(p.max as number);
      } else if (p.type === 'enum') {
        expect(p.values).toContain(p.default);
      } else {
        expect(typeof p.default).toBe('boolean');
      }
    }
    const inst = w.create({}, 1);
    expect(inst.params).toEqual(Object.fromEntries(w.params.map((p) => [p.name, p.default])));
    expect(inst.opsPerStep).toBeGreaterThan(0);
    expect(inst.unit).toMatch(/^[a-z]+$/);
  });
});

describe('parameter validation', () => {
  it.each(
    WORKLOADS.map((w) => [w.name, w] as const),
  )('%s: unknown names, wrong types, out of range, bad seed', (_, w) => {
    const err = (params: WorkloadParams, seed = 1): WorkloadParamError => {
      try {
        w.create(params, seed);
      } catch (e) {
        expect(e).toBeInstanceOf(WorkloadParamError);
        return e as WorkloadParamError;
      }
      throw new Error('no error');
    };
    const unknown = err({ bogus: 1 });
    expect(unknown.param).toBe('bogus');
    expect(unknown.message).toBe(
      `workload ${w.name}: parameter bogus: unknown parameter (parameters: ${w.params.map((p) => p.name).join(', ')})`,
    );
    expect(err({}, 1.5).param).toBe('seed');
    for (const p of w.params) {
      if (p.type === 'number') {
        const low = err({ [p.name]: (p.min as number) - 1 });
        expect(low.param).toBe(p.name);
        expect(low.message).toContain(`must be an integer in [${p.min}, ${p.max}]`);
        expect(err({ [p.name]: (p.max as number) + 1 }).param).toBe(p.name);
        expect(err({ [p.name]: 'many' }).param).toBe(p.name);
        expect(err({ [p.name]: (p.default as number) + 0.5 }).param).toBe(p.name);
        // A flag parser's string is accepted.
        expect(w.create({ [p.name]: String(p.default) }, 1).params[p.name]).toBe(p.default);
      } else if (p.type === 'enum') {
        const e = err({ [p.name]: 'nope' });
        expect(e.message).toContain(
          `must be one of ${(p.values ?? []).map((v) => `'${v}'`).join(', ')}, got "nope"`,
        );
        expect(err({ [p.name]: true }).param).toBe(p.name);
      } else {
        expect(err({ [p.name]: 1 }).param).toBe(p.name);
        expect(w.create({ [p.name]: 'true' }, 1).params[p.name]).toBe(true);
      }
    }
  });
});

describe('determinism', () => {
  it.each(
    cases.map((c) => [c.key, c] as const),
  )('%s: the same params and seed give the same calls, layout and counters', (_, c) => {
    const a = run(c.w, c.params, 42, c.steps, 'maple+gap', {}, true);
    const b = run(c.w, c.params, 42, c.steps, 'maple+gap', {}, true);
    expect(a.mm.log?.length).toBeGreaterThan(0);
    expect(b.mm.log).toEqual(a.mm.log);
    expect(b.layout).toBe(a.layout);
    expect(b.finalLayout).toBe(a.finalLayout);
    expect(b.afterSetup).toEqual(a.afterSetup);
    expect(b.afterSteps).toEqual(a.afterSteps);
    expect(b.afterFinish).toEqual(a.afterFinish);
  });

  it('a different seed gives different calls where the workload is random', () => {
    for (const key of ['mmap-churn', 'thread-stacks/leak']) {
      const c = cases.find((x) => x.key === key);
      if (!c) throw new Error(key);
      const a = run(c.w, c.params, 1, c.steps, 'maple+gap', {}, true);
      const b = run(c.w, c.params, 2, c.steps, 'maple+gap', {}, true);
      expect(b.mm.log).not.toEqual(a.mm.log);
    }
  });

  it('one instance set up twice starts over (the PRNG is reseeded by setup)', () => {
    const c = cases.find((x) => x.key === 'mmap-churn');
    if (!c) throw new Error('mmap-churn');
    const inst = c.w.create(c.params, 7);
    const layouts: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = run({ ...c.w, create: () => inst }, {}, 7, c.steps);
      layouts.push(r.layout);
    }
    expect(layouts[1]).toBe(layouts[0]);
  });
});

describe('interchangeable strategies', () => {
  it.each(
    cases.map((c) => [c.key, c] as const),
  )(`%s: identical calls, results and layouts over ${EXACT.join(', ')} (verify mode)`, (_, c) => {
    const runs = EXACT.map((combo) =>
      run(c.w, c.params, 3, c.steps, combo, { verify: true }, true),
    );
    const [first, ...rest] = runs;
    if (!first) throw new Error('no runs');
    for (const r of rest) {
      expect(r.mm.log).toEqual(first.mm.log);
      expect(r.layout).toBe(first.layout);
      expect(r.finalLayout).toBe(first.finalLayout);
    }
  });

  it.each(
    cases.map((c) => [c.key, c] as const),
  )('%s: also runs over maple (per-VMA-insert dup), rbtree guard gaps and the 2.6 free-area-cache finder', (_, c) => {
    const ref = run(c.w, c.params, 3, c.steps, 'maple+gap');
    for (const combo of ['maple-insert+gap', 'rbtree-guard+gap'] as const) {
      expect(run(c.w, c.params, 3, c.steps, combo).layout).toBe(ref.layout);
    }
    // Free-area-cache places differently once holes appear: no layout equality.
    const f = run(c.w, c.params, 3, c.steps, 'rbtree+free-area-cache', { verify: true });
    expect(f.mm.mapCount).toBe(ref.mm.mapCount);
  });
});
