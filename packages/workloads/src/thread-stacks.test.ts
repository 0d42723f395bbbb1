import { Counters, PAGE_SIZE, VM_NOHUGEPAGE, type Vma } from '@vmalab/core';
import { strategy as fac } from '@vmalab/finder-free-area-cache';
import { strategy as linear } from '@vmalab/finder-linear';
import { strategy as list } from '@vmalab/index-list';
import { AddressSpace } from '@vmalab/mm';
import { strategy as unbatched } from '@vmalab/rmap-unbatched';
import { describe, expect, it } from 'vitest';
import { cell, finishCalls, n, run, stepCalls, stepCost } from './test-util.js';
import { MAX_THREAD_STACKS, THREAD_STACK_SIZE, threadStacks } from './thread-stacks.js';

describe('thread-stacks, mode stacks (test_str02)', () => {
  it.each([
    'top-down',
    'bottom-up',
  ])('%s: N steps are N stacks: N mmaps + N mprotects, 2N VMAs, one contiguous range', (layout) => {
    const N = 50;
    const r = run(threadStacks, { stacks: N, layout }, 1, N, 'rbtree-raw+gap', {}, true);
    expect(r.setupCalls.size).toBe(0);
    expect(stepCalls(r, 'mmap')).toBe(N);
    expect(stepCalls(r, 'mprotect')).toBe(N);
    expect(stepCalls(r, 'munmap')).toBe(0);
    const d = stepCost(r);
    if (layout === 'top-down') {
      // Each new stack lies below the previous one's guard page: nothing merges.
      expect([n(d, 'merges'), n(d, 'splits')]).toEqual([0, N]);
    } else {
      // Bottom-up, each new stack merges with the previous stack's rw part
      // above its guard, and its own guard mprotect splits it out again.
      expect([n(d, 'merges'), n(d, 'splits')]).toEqual([N - 1, 2 * N - 1]);
    }
    expect(n(d, 'mmapLockWrite')).toBe(2 * N);
    const vmas = r.layout.trimEnd().split('\n');
    expect(vmas).toHaveLength(2 * N);
    // Alternating guard page and 8 MiB − 4 KiB of stack, adjacent.
    expect(vmas.filter((l) => / ---p /.test(l))).toHaveLength(N);
    expect(vmas.filter((l) => / rw-p /.test(l))).toHaveLength(N);
    const stacks = r.vmas;
    const lo = stacks[0]?.start as number;
    expect(stacks[stacks.length - 1]?.end).toBe(lo + N * THREAD_STACK_SIZE);
    expect(stacks.every((v) => v.flags & VM_NOHUGEPAGE)).toBe(true);
    if (layout === 'top-down') expect(lo + N * THREAD_STACK_SIZE).toBe(r.mm.mmapBase);
    else expect(lo).toBe(r.mm.legacyBase); // TASK_UNMAPPED_BASE (TASK_SIZE / 3 on x86-64)
    // Guard pages are each stack's lowest page.
    expect(stacks.filter((_, i) => i % 2 === 0).every((v) => v.end - v.start === PAGE_SIZE)).toBe(
      true,
    );
    // finish unmaps the contiguous stacks with one call.
    expect(finishCalls(r, 'munmap')).toBe(1);
    expect(r.finalLayout).toBe('');
  });

  it('the step after the N-th unmaps all N (one munmap) and starts again', () => {
    const N = 20;
    const r = run(threadStacks, { stacks: N }, 1, 2 * N + 3, 'maple+gap');
    expect(stepCalls(r, 'munmap')).toBe(2);
    expect(stepCalls(r, 'mmap')).toBe(2 * N + 3);
    expect(r.vmas).toHaveLength(2 * 3);
    expect(n(stepCost(r), 'vmaFreed')).toBe(2 * (2 * N));
  });

  it('mmOptions: no THP padding; the layout parameter chooses top-down or bottom-up', () => {
    expect(threadStacks.create({}, 1).mmOptions).toEqual({ thp: false, topDown: true });
    expect(threadStacks.create({ layout: 'bottom-up' }, 1).mmOptions).toEqual({
      thp: false,
      topDown: false,
    });
    expect(threadStacks.create({}, 1).opsPerStep).toBe(2);
    expect(threadStacks.create({ mode: 'leak' }, 1).opsPerStep).toBe(3);
  });

  it(`${MAX_THREAD_STACKS} stacks fit under max_map_count; one more guard mprotect fails with ENOMEM`, () => {
    // Scaled down: max_map_count 21 holds 10 stacks (the 11th guard split needs map_count < 21).
    const inst = threadStacks.create({ stacks: 11 }, 1);
    const { newMm } = cell('maple+gap');
    const mm = inst.setup((extra) => newMm({ ...extra, maxMapCount: 21 }));
    for (let i = 0; i < 10; i++) inst.step(mm);
    expect(mm.mapCount).toBe(20);
    expect(() => inst.step(mm)).toThrow(
      /^workload thread-stacks: mprotect\(0x[0-9a-f]+, 4096, 0\) returned -ENOMEM$/,
    );
    expect(2 * MAX_THREAD_STACKS - 1).toBeLessThan(65530);
    expect(2 * (MAX_THREAD_STACKS + 1) - 1).toBeGreaterThanOrEqual(65530);
  });
});

describe('thread-stacks, mode leak (allocate/free churn)', () => {
  it('setup creates `stacks` stacks; each step is one munmap, one mmap, one mprotect', () => {
    const N = 30;
    const steps = 200;
    const r = run(threadStacks, { stacks: N, mode: 'leak' }, 5, steps, 'list+linear');
    expect(r.setupCalls.get('mmap')).toBe(N);
    expect(r.setupCalls.get('mprotect')).toBe(N);
    expect(stepCalls(r, 'munmap')).toBe(steps);
    expect(stepCalls(r, 'mmap')).toBe(steps);
    expect(stepCalls(r, 'mprotect')).toBe(steps);
    expect(n(stepCost(r), 'mmapLockWrite')).toBe(3 * steps);
    expect(r.vmas).toHaveLength(2 * N);
    expect(finishCalls(r, 'munmap')).toBe(1);
    expect(r.finalLayout).toBe('');
  });
});

describe('thread-stacks leakme (Wander, 2.6.13)', () => {
  /** Holes between VMAs after `steps` leakme steps, bottom-up, with the given finder. */
  const holes = (finder: 'cache' | 'no-hole-size' | 'linear', steps: number) => {
    const w = threadStacks.create({ mode: 'leakme', stacks: 32, layout: 'bottom-up' }, 7);
    const counters = new Counters();
    const mm = w.setup(
      (extra = {}) =>
        new AddressSpace({
          index: list.create({}, counters),
          finder:
            finder === 'linear'
              ? linear.create({}, counters)
              : fac.create({ cachedHoleSize: finder === 'cache' }, counters),
          rmap: unbatched.create({}, counters),
          counters,
          ...extra,
        }),
    );
    for (let i = 0; i < steps; i++) w.step(mm);
    const vmas = mm.vmas();
    let h = 0;
    for (let i = 1; i < vmas.length; i++)
      if ((vmas[i] as Vma).start > (vmas[i - 1] as Vma).end) h++;
    w.finish?.(mm);
    expect(mm.mapCount).toBe(0);
    return { holes: h, maps: vmas.length };
  };

  it('fragments without cached_hole_size, as Wander measured; first fit with it', () => {
    const withSize = holes('cache', 2000);
    const without = holes('no-hole-size', 2000);
    const firstFit = holes('linear', 2000);
    expect(withSize.maps).toBeLessThanOrEqual(32);
    // seed 7: 8 holes with the hole size, 28 without, 8 for first fit (Wander: 11 / 96 / 7 maps).
    expect(without.holes).toBeGreaterThanOrEqual(3 * Math.max(1, withSize.holes));
    expect(withSize.holes).toBeLessThanOrEqual(firstFit.holes + 2);
  });

  it('makes 2 mmaps and 1 munmap per step, plus one munmap once 32 small blocks are kept', () => {
    const r = run(threadStacks, { mode: 'leakme', stacks: 32, layout: 'bottom-up' }, 3, 100);
    expect(stepCalls(r, 'mmap')).toBe(200);
    expect(stepCalls(r, 'munmap')).toBe(100 + (100 - 32));
  });
});
