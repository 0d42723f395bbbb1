import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { main } from './cli.js';
import {
  combineKernelRuns,
  compileKernelProgram,
  isSkipped,
  KERNEL_PROGRAMS,
  type KernelBaseline,
  kernelBaseline,
  pairedRate,
  parseKernelOutput,
  runKernelProgram,
} from './kernel.js';
import { formatKernelComparison, type RunJson } from './report.js';

function hasGcc(): boolean {
  if (process.platform !== 'linux') return false;
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const gcc = hasGcc();

function fakeRun(nsPerStep: number): KernelBaseline {
  return {
    workload: 'mmap-churn',
    program: 'mmap-churn',
    unit: 'iteration',
    kernel: '6.18',
    iterations: 10,
    elapsedNs: nsPerStep * 10,
    nsPerStep,
    raw: { elapsed_ns: nsPerStep * 10 },
    argv: ['10', '1'],
  };
}

describe('kernel baseline over rounds', () => {
  it('combines one run per round: ns per step in round order, their median and a CI around it', () => {
    const k = combineKernelRuns([fakeRun(500), fakeRun(700), fakeRun(600)], 1);
    if (k === undefined || isSkipped(k)) throw new Error('expected runs');
    expect(k.timing.nsPerStep).toEqual([500, 700, 600]);
    expect(k.timing.median).toBe(600);
    expect(k.timing.ci[0]).toBeGreaterThanOrEqual(500);
    expect(k.timing.ci[0]).toBeLessThanOrEqual(600);
    expect(k.timing.ci[1]).toBeGreaterThanOrEqual(600);
    expect(k.timing.ci[1]).toBeLessThanOrEqual(700);
    expect(k.timing.raw).toHaveLength(3);
    expect(k).toMatchObject({ program: 'mmap-churn', iterations: 10, cycles: 1, kernel: '6.18' });
  });

  it('is skipped if any run was, and absent without runs', () => {
    expect(combineKernelRuns([], 1)).toBeUndefined();
    expect(combineKernelRuns([fakeRun(1), { skipped: 'no gcc' }], 1)).toEqual({
      skipped: 'no gcc',
    });
  });

  it('names the kernel runs with the unit in the plural', () => {
    const k = combineKernelRuns([{ ...fakeRun(4e6), unit: 'pass', iterations: 3 }], 1);
    if (k === undefined || isSkipped(k)) throw new Error('expected runs');
    const doc = {
      groups: [{ case: 'madvise', kernel: k, rates: [] }],
      cells: [],
    } as unknown as RunJson;
    expect(formatKernelComparison(doc)).toContain(
      '(mmap-churn, 3 passes × 1 run, one after each round): 4.00 ms per pass',
    );
  });

  it('pairs the rate by round: a slow spell on both sides cancels', () => {
    // Round 2 ran in a spell twice as slow for both: the paired ratio stays 3.
    const r = pairedRate([600, 1200, 600], [200, 400, 200], 1);
    expect(r.perRound).toEqual([3, 3, 3]);
    expect(r.median).toBe(3);
    expect(r.ci).toEqual([3, 3]);
    // Unequal lengths: only the rounds both sides have.
    expect(pairedRate([600, 900], [200], 1).perRound).toEqual([3]);
    expect(Number.isNaN(pairedRate([], [200], 1).median)).toBe(true);
  });
});

describe('kernel baseline output parsing', () => {
  it('parses the last JSON line and derives ns per step', () => {
    const r = parseKernelOutput(
      'noise\n{"program":"mmap-churn","unit":"iteration","iterations":4,"elapsed_ns":1000}\n',
    );
    expect(r).toMatchObject({
      program: 'mmap-churn',
      iterations: 4,
      elapsedNs: 1000,
      nsPerStep: 250,
    });
  });

  it('rejects output without a JSON line or without timings', () => {
    expect(() => parseKernelOutput('hello')).toThrow(/no JSON line/);
    expect(() => parseKernelOutput('{"program":"x"}')).toThrow(/iterations/);
  });

  it('reports a workload without a C program as skipped, naming the ones there are', async () => {
    const r = await kernelBaseline('replay', {});
    expect(isSkipped(r)).toBe(true);
    if (isSkipped(r)) expect(r.skipped).toContain('mmap-churn');
  });

  it('skips parameters without a C equivalent', async () => {
    const r = await kernelBaseline('thread-stacks', { mode: 'leak', stacks: 10 });
    expect(isSkipped(r) && r.skipped).toMatch(/mode 'leak'/);
  });

  it('has a C program for every workload it maps', () => {
    for (const p of Object.values(KERNEL_PROGRAMS)) {
      expect(existsSync(new URL(`../../../benchmarks/kernel/${p.source}.c`, import.meta.url))).toBe(
        true,
      );
    }
  });
});

describe.skipIf(!gcc)('kernel baseline on this machine (gcc present)', () => {
  it('compiles mmap-churn.c once (cached by source hash) and runs it', async () => {
    const a = await compileKernelProgram('mmap-churn');
    const b = await compileKernelProgram('mmap-churn');
    expect(b).toBe(a);
    const r = await runKernelProgram('mmap-churn', ['50', '7', '64', '1', '32']);
    expect(r).toMatchObject({ program: 'mmap-churn', unit: 'iteration', iterations: 50 });
    expect(r.raw.maps).toBe(64);
    expect(r.elapsedNs).toBeGreaterThan(0);
    expect(r.nsPerStep).toBeCloseTo(r.elapsedNs / 50);
  });

  it('kernelBaseline maps the workload parameters onto the program', async () => {
    const r = await kernelBaseline(
      'mmap-churn',
      { mappings: 128, minKiB: 2, maxKiB: 8 },
      {
        iterations: 100,
        seed: 3,
      },
    );
    if (isSkipped(r)) throw new Error(r.skipped);
    expect(r.workload).toBe('mmap-churn');
    expect(r.argv).toEqual(['100', '3', '128', '2', '8']);
    expect(r.iterations).toBe(100);
    expect(r.nsPerStep).toBeGreaterThan(0);
  });

  it('times mmap-churn in cycles of the steps of a case from a fresh setup; other programs ignore steps', async () => {
    const r = await kernelBaseline(
      'mmap-churn',
      { mappings: 64 },
      { iterations: 100, steps: 30, seed: 3 },
    );
    if (isSkipped(r)) throw new Error(r.skipped);
    // ceil(100 / 30) = 4 cycles of 30 steps: 120 timed steps in all.
    expect(r.argv).toEqual(['30', '3', '64', '1', '32', '4']);
    expect(r.raw.cycles).toBe(4);
    expect(r.iterations).toBe(120);
    expect(r.nsPerStep).toBeCloseTo(r.elapsedNs / 120);
    // As many steps as the run, or more: one go, no CYCLES argument.
    const one = await kernelBaseline('mmap-churn', { mappings: 64 }, { iterations: 50, steps: 80 });
    if (isSkipped(one)) throw new Error(one.skipped);
    expect(one.argv).toEqual(['50', '1', '64', '1', '32']);
    expect(one.raw.cycles).toBe(1);
    const fork = await kernelBaseline('fork', { vmas: 50 }, { iterations: 3, steps: 1 });
    if (isSkipped(fork)) throw new Error(fork.skipped);
    expect(fork.argv[0]).toBe('3');
  });

  it('runs the other programs with tiny sizes', async () => {
    const fork = await kernelBaseline('fork', { vmas: 200 }, { iterations: 3 });
    if (isSkipped(fork)) throw new Error(fork.skipped);
    expect(fork.raw.vmas).toBe(200);
    // The workload starts over after `stacks` stacks: the program runs at most that many.
    const stacks = await kernelBaseline('thread-stacks', { stacks: 50 }, { iterations: 80 });
    if (isSkipped(stacks)) throw new Error(stacks.skipped);
    expect(stacks.iterations).toBe(50);
    expect(stacks.raw.vmas_after).toBe(Number(stacks.raw.vmas_before) + 100);
    const madv = await kernelBaseline('madvise', { vector: 8, sizeMiB: 1 }, { iterations: 1 });
    // process_madvise(MADV_DONTNEED) on self: accepted on 6.x kernels; a refusal is reported.
    if (!isSkipped(madv)) expect(madv.raw.calls).toBe(256 / 8);
    else expect(madv.skipped).toMatch(/process_madvise|pidfd_open/);
    const exec = await kernelBaseline('exec', {}, { iterations: 2 });
    if (isSkipped(exec)) throw new Error(exec.skipped);
    expect(exec.iterations).toBe(2);
  });
  it('vmalab bench --kernel runs the program once per round, mmap-churn in cycles of the case steps', async () => {
    let out = '';
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      out += String(s);
      return true;
    });
    const code = await main(
      [
        'bench',
        '-w',
        'mmap-churn',
        '--param',
        'mappings=16',
        '--steps',
        '30',
        '--rounds',
        '2',
        '--time',
        '1',
        '--warmup',
        '0',
        '-p',
        'linux-6.8',
        '--kernel',
        '--json',
      ],
      { progress: false, err: () => {} },
    ).finally(() => spy.mockRestore());
    expect(code).toBe(0);
    const doc = JSON.parse(out) as RunJson;
    const k = doc.groups?.[0]?.kernel;
    if (!k || 'skipped' in k) throw new Error(`no kernel baseline: ${JSON.stringify(k)}`);
    // Cycles of the case's 30 steps from a fresh setup, about 200,000 steps per run.
    expect(k.argv).toEqual(['30', '1', '16', '1', '32', String(Math.ceil(200_000 / 30))]);
    expect(k.iterations).toBe(30 * Math.ceil(200_000 / 30));
    expect(k.cycles).toBe(Math.ceil(200_000 / 30));
    expect(k.timing.nsPerStep).toHaveLength(2);
    expect(doc.groups?.[0]?.rates?.[0]?.timing.perRound).toHaveLength(2);
  });
});
