import { describe, expect, it } from 'vitest';
import { FORK_VMA_COUNTS, fork, forkFileVmas, forkVmaIsFile } from './fork.js';
import { cell, n, run, stepCalls, stepCost } from './test-util.js';

describe('fork', () => {
  it('the published VMA counts; file VMAs of the pattern', () => {
    expect(FORK_VMA_COUNTS).toEqual([
      21, 121, 221, 421, 821, 1621, 3221, 6421, 12821, 25621, 51221,
    ]);
    for (const k of [0, 1, 2, 3, 4, 5, 21, 122, 123]) {
      let f = 0;
      for (let i = 0; i < k; i++) if (forkVmaIsFile(i)) f++;
      expect(forkFileVmas(k)).toBe(f);
    }
    expect(forkFileVmas(21)).toBe(10);
  });

  it.each([
    21, 121, 221,
  ])('K = %i: no merges, child map_count = K, i_mmap write locks per fork = file VMAs', (K) => {
    const inst = fork.create({ vmas: K }, 1);
    const { newMm, counters } = cell('maple+gap', { rmap: 'unbatched', verify: true });
    const mm = inst.setup(newMm);
    expect(mm.mapCount).toBe(K);
    const files = mm.vmas().filter((v) => v.file).length;
    expect(files).toBe(forkFileVmas(K));
    const before = counters.iMmapLockWrite;
    const child = mm.fork();
    if (typeof child === 'number') throw new Error(`fork: ${child}`);
    expect(child.mapCount).toBe(K);
    expect(counters.iMmapLockWrite - before).toBe(files);
    child.exit();
    expect(child.mapCount).toBe(0);
  });

  it.each([
    ['unbatched', (f: number) => f],
    ['batched', (f: number) => Math.ceil(f / 8)],
  ] as const)('per step (fork + child exit), %s rmap: exact counters', (rmap, exitLocks) => {
    const K = 121;
    const steps = 5;
    const F = forkFileVmas(K); // 60
    const r = run(fork, { vmas: K }, 1, steps, 'maple+gap', { rmap });
    expect(stepCalls(r, 'fork')).toBe(steps);
    const d = stepCost(r);
    expect(n(d, 'vmaAllocated')).toBe(steps * K);
    expect(n(d, 'vmaFreed')).toBe(steps * K);
    // dup_mmap: one i_mmap write lock per file VMA; exit: the rmap locker's
    // (all K VMAs are adjacent: one free_pgtables group; anonymous ones do
    // not break a batch).
    expect(n(d, 'iMmapLockWrite')).toBe(steps * (F + exitLocks(F)));
    // Parent write + child nested write, then the child's exit_mmap read + write.
    expect(n(d, 'mmapLockWrite')).toBe(steps * 3);
    expect(n(d, 'mmapLockRead')).toBe(steps);
    // The parent is unchanged.
    expect(r.layout).toBe(run(fork, { vmas: K }, 1, 0, 'maple+gap').layout);
  });

  it('touch: writable VMAs get an anon_vma, so the child chains are forked', () => {
    const inst = fork.create({ vmas: 8, touch: true }, 1);
    const mm = inst.setup(cell('list+linear', { verify: true }).newMm);
    expect(mm.vmas().map((v) => v.anonVma !== null)).toEqual([
      // address order: VMA 7 (file rw) … VMA 0 (anon rw)
      true,
      false,
      false,
      true,
      true,
      false,
      false,
      true,
    ]);
    const child = mm.fork();
    if (typeof child === 'number') throw new Error(`fork: ${child}`);
    expect(child.vmas().filter((v) => v.anonForked)).toHaveLength(4);
  });

  it('published sizes up to 6421 VMAs set up and fork with every kernel-exact strategy', () => {
    for (const combo of ['list+linear', 'maple+gap', 'rbtree-raw+gap'] as const) {
      const r = run(fork, { vmas: 6421 }, 1, 1, combo);
      expect(r.vmas).toHaveLength(6421);
    }
  });
});
