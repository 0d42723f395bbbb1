import { describe, expect, it } from 'vitest';
import { MADVISE_VECTORS, madvise } from './madvise.js';
import { n, run, stepCalls, stepCost } from './test-util.js';

describe('madvise', () => {
  it('defaults: 256 MiB, vector 1024: 65 536 pieces per pass', () => {
    const inst = madvise.create({}, 1);
    expect(inst.params).toEqual({ vector: 1024, sizeMiB: 256 });
    expect(inst.opsPerStep).toBe(65536);
    expect(inst.unit).toBe('pass');
  });

  it.each([
    [0, 'batched'],
    [0, 'per-call'],
    [1, 'batched'],
    [1024, 'batched'],
    [1024, 'per-call'],
  ] as const)('256 MiB, vector %i, %s locking: mmap_lock read acquisitions per pass', (vector, locking) => {
    const r = run(madvise, { vector }, 1, 1, 'maple+gap', { madviseLocking: locking });
    const d = stepCost(r);
    const expected = vector === 0 || locking === 'per-call' ? 65536 : 65536 / vector;
    expect(n(d, 'mmapLockRead')).toBe(expected);
    expect(n(d, 'mmapLockWrite')).toBe(0);
    expect(stepCalls(r, vector === 0 ? 'madvise' : 'process_madvise')).toBe(
      vector === 0 ? 65536 : 65536 / vector,
    );
    // The populated region stays one VMA.
    expect(r.vmas).toHaveLength(1);
    expect(r.vmas[0]?.anonVma).not.toBeNull();
  });

  it.each(
    MADVISE_VECTORS.map((v) => [v] as const),
  )('4 MiB, vector %i: 1024 pieces per pass', (vector) => {
    const steps = 2;
    for (const locking of ['batched', 'per-call'] as const) {
      const r = run(madvise, { vector, sizeMiB: 4 }, 1, steps, 'list+linear', {
        madviseLocking: locking,
      });
      const perPass = vector === 0 || locking === 'per-call' ? 1024 : 1024 / vector;
      expect(n(stepCost(r), 'mmapLockRead')).toBe(steps * perPass);
      // per-call process_madvise runs one full madvise per element.
      expect(stepCalls(r, 'madvise')).toBe(
        vector === 0 || locking === 'per-call' ? steps * 1024 : 0,
      );
      expect(stepCalls(r, 'process_madvise')).toBe(vector === 0 ? 0 : steps * (1024 / vector));
    }
  });

  it('1 MiB with vector 1024: one short vector of 256 pieces', () => {
    const r = run(madvise, { vector: 1024, sizeMiB: 1 }, 1, 1, 'maple+gap');
    expect(n(stepCost(r), 'mmapLockRead')).toBe(1);
    expect(madvise.create({ sizeMiB: 1 }, 1).opsPerStep).toBe(256);
  });

  it('vector must be 0 or a power of two ≤ 1024', () => {
    expect(() => madvise.create({ vector: 3 }, 1)).toThrow(
      'workload madvise: parameter vector: must be 0 or a power of two ≤ 1024 (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024), got 3',
    );
    expect(() => madvise.create({ vector: 2048 }, 1)).toThrow(
      /parameter vector: must be an integer in \[0, 1024\]/,
    );
  });
});
