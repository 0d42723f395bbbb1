import { describe, expect, it } from 'vitest';
import { exec } from './exec.js';
import { n, run, stepCalls, stepCost } from './test-util.js';

describe('exec', () => {
  it.each([
    // rmap, i_mmap round trips of one teardown, its histogram of VMAs per round trip
    ['unbatched', 32, [0, 32]],
    ['batched', 8, [0, 2, 0, 0, 0, 6]],
  ] as const)('%s: each exec tears down 42 VMAs with %i i_mmap acquisitions and links 32', (rmap, teardown, histogram) => {
    const steps = 4;
    const r = run(exec, {}, 1, steps, 'list+linear', { rmap });
    expect(r.setupCalls.get('exec')).toBe(1);
    expect(stepCalls(r, 'exec')).toBe(steps);
    const d = stepCost(r);
    // Teardown (8 or 32) + one i_mmap write lock per new file VMA (32).
    expect(n(d, 'iMmapLockWrite')).toBe(steps * (teardown + 32));
    expect(d.rmapBatchHistogram).toEqual(histogram.map((x) => steps * x));
    expect([n(d, 'mmapLockRead'), n(d, 'mmapLockWrite')]).toEqual([steps, 2 * steps]);
    expect([n(d, 'vmaFreed'), n(d, 'vmaAllocated')]).toEqual([42 * steps, 42 * steps]);
    expect(r.vmas).toHaveLength(42);
    // Every exec installs the same layout.
    expect(r.layout).toBe(run(exec, {}, 1, 0, 'list+linear').layout);
    expect(r.mm.mmapBase).toBe(0x7f37334c0000);
  });
});
