import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compileKernelProgram,
  isSkipped,
  KERNEL_PROGRAMS,
  kernelBaseline,
  parseKernelOutput,
  runKernelProgram,
} from './kernel.js';

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
});
