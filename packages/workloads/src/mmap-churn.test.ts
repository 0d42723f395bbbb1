import { describe, expect, it } from 'vitest';
import { mmapChurn } from './mmap-churn.js';
import { cell, finishCalls, n, run, stepCalls, stepCost } from './test-util.js';
import { WorkloadParamError } from './workload.js';

describe('mmap-churn', () => {
  it('setup maps exactly 1024 mappings of 1–32 KiB; N steps are N munmaps and N mmaps', () => {
    const steps = 2000;
    const r = run(mmapChurn, {}, 1, steps, 'maple+gap');
    expect(r.setupCalls.get('mmap')).toBe(1024);
    expect(r.setupCalls.get('munmap')).toBeUndefined();
    expect(stepCalls(r, 'munmap')).toBe(steps);
    expect(stepCalls(r, 'mmap')).toBe(steps);
    expect(stepCalls(r, 'mprotect')).toBe(0);
    // Each call takes mmap_lock for writing once, and nothing for reading.
    const d = stepCost(r);
    expect(n(d, 'mmapLockWrite')).toBe(2 * steps);
    expect(n(d, 'mmapLockRead')).toBe(0);
    expect(n(d, 'placements')).toBe(steps);
    // "finally unmap all": 1024 munmaps, nothing left.
    expect(finishCalls(r, 'munmap')).toBe(1024);
    expect(r.finalLayout).toBe('');
  });

  it('adjacent mappings merge: the live set is far fewer VMAs than mappings, and munmaps split', () => {
    const r = run(mmapChurn, {}, 1, 2000, 'maple+gap');
    const setupVmas = r.layout.split('\n').length - 1;
    expect(setupVmas).toBeGreaterThan(1);
    expect(setupVmas).toBeLessThan(1024);
    expect(n(stepCost(r), 'splits')).toBeGreaterThan(1000);
  });

  it('sizes follow minKiB/maxKiB', () => {
    const r = run(
      mmapChurn,
      { mappings: 16, minKiB: 64, maxKiB: 64 },
      1,
      10,
      'list+linear',
      {},
      true,
    );
    const lens = (r.mm.log ?? [])
      .filter((l) => l.startsWith('mmap('))
      .map((l) => Number(JSON.parse(`[${l.slice(5, l.indexOf(')'))}]`)[1]));
    expect(lens).toHaveLength(26);
    expect(new Set(lens)).toEqual(new Set([65536]));
  });

  it('rejects maxKiB < minKiB, naming maxKiB', () => {
    expect(() => mmapChurn.create({ minKiB: 8, maxKiB: 4 }, 1)).toThrow(WorkloadParamError);
    expect(() => mmapChurn.create({ minKiB: 8, maxKiB: 4 }, 1)).toThrow(
      'workload mmap-churn: parameter maxKiB: must be ≥ minKiB (8), got 4',
    );
  });

  it('an unexpected errno throws, naming the call', () => {
    // At max_map_count 1 the merged mappings cannot be split by a munmap.
    const inst = mmapChurn.create({}, 1);
    const { newMm } = cell('maple+gap');
    const mm = inst.setup((extra) => newMm({ ...extra, maxMapCount: 1 }));
    expect(mm.mapCount).toBe(1);
    expect(() => {
      for (let i = 0; i < 100; i++) inst.step(mm);
    }).toThrow(/^workload mmap-churn: munmap\(0x[0-9a-f]+, \d+\) returned -ENOMEM$/);
  });
});
