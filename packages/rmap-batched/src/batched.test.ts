import { Counters, MappedFile, VM_EXEC, VM_READ, VM_WRITE, Vma } from '@vmalab/core';
import { describeRmapLocker } from '@vmalab/core/conformance';
import { describe, expect, it } from 'vitest';
import { BatchedRmapLocker, batchRuns, strategy } from './index.js';

/** Histogram of a list of batch sizes: h[n] = batches of n VMAs. */
function histogram(runs: readonly number[]): number[] {
  const h: number[] = [];
  for (const n of runs) {
    while (h.length <= n) h.push(0);
    h[n] = (h[n] ?? 0) + 1;
  }
  return h;
}

describeRmapLocker('batched', (c) => new BatchedRmapLocker(c), {
  expectedAcquisitions: (vmas) => batchRuns(vmas).length,
  expectedHistogram: (vmas) => histogram(batchRuns(vmas)),
});
describeRmapLocker('batched (strategy.create)', (c) => strategy.create({}, c), {
  expectedAcquisitions: (vmas) => batchRuns(vmas).length,
});
describeRmapLocker(
  'batched, batchSize 1 (= unbatched)',
  (c) => strategy.create({ batchSize: 1 }, c),
  {
    expectedAcquisitions: (vmas) => vmas.filter((v) => v.file !== null).length,
  },
);
describeRmapLocker('batched, batchSize 3', (c) => new BatchedRmapLocker(c, { batchSize: 3 }), {
  expectedAcquisitions: (vmas) => batchRuns(vmas, 3).length,
  expectedHistogram: (vmas) => histogram(batchRuns(vmas, 3)),
});

const P = 4096;
const ELF = [VM_READ, VM_READ | VM_EXEC, VM_READ, VM_READ, VM_READ | VM_WRITE];

class Layout {
  readonly vmas: Vma[] = [];
  private at = 0x7f0000000000;
  file(f: MappedFile, n = 1): this {
    for (let i = 0; i < n; i++) {
      const v = new Vma(this.at, this.at + P, ELF[i % 5] as number, f, i);
      f.iMmap.add(v);
      this.vmas.push(v);
      this.at += P;
    }
    return this;
  }
  anon(n = 1): this {
    for (let i = 0; i < n; i++) {
      this.vmas.push(new Vma(this.at, this.at + P, VM_READ | VM_WRITE, null, this.at / P));
      this.at += P;
    }
    return this;
  }
}

const libc = () => new MappedFile('/usr/lib/x86_64-linux-gnu/libc.so.6', 'fe:00', 339380);
const ld = () => new MappedFile('/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 'fe:00', 338944);

function unlinkWith(locker: 'batched' | 'unbatched-equivalent', vmas: Vma[]): Counters {
  const counters = new Counters();
  new BatchedRmapLocker(counters, { batchSize: locker === 'batched' ? 8 : 1 }).unlink(vmas);
  return counters;
}

describe('BatchedRmapLocker', () => {
  it('ld.so and libc of 5 VMAs each: 2 acquisitions (10 one at a time)', () => {
    const c = libc();
    const l = ld();
    const { vmas } = new Layout().file(c, 5).anon().file(l, 5);
    const counters = new Counters();
    new BatchedRmapLocker(counters).unlink(vmas);
    expect(counters.iMmapLockWrite).toBe(2);
    expect(counters.rmapBatchHistogram).toEqual([0, 0, 0, 0, 0, 2]);
    expect([c.iMmapRwsem.writeAcquisitions, l.iMmapRwsem.writeAcquisitions]).toEqual([1, 1]);
    expect(c.iMmap.size + l.iMmap.size).toBe(0);
    expect(
      unlinkWith('unbatched-equivalent', new Layout().file(libc(), 5).file(ld(), 5).vmas)
        .iMmapLockWrite,
    ).toBe(10);
  });

  it('interleaved anonymous VMAs do not break a batch', () => {
    const c = libc();
    const { vmas } = new Layout().file(c, 2).anon().file(c, 1).anon(3).file(c, 2);
    const counters = unlinkWith('batched', vmas);
    expect(counters.iMmapLockWrite).toBe(1);
    expect(counters.rmapBatchHistogram).toEqual([0, 0, 0, 0, 0, 1]);
  });

  it('a 9th same-file VMA starts a new batch', () => {
    const c = libc();
    const eight = unlinkWith('batched', new Layout().file(c, 8).vmas);
    expect([eight.iMmapLockWrite, eight.rmapBatchHistogram]).toEqual([
      1,
      [0, 0, 0, 0, 0, 0, 0, 0, 1],
    ]);
    const nine = unlinkWith('batched', new Layout().file(c, 9).vmas);
    expect([nine.iMmapLockWrite, nine.rmapBatchHistogram]).toEqual([
      2,
      [0, 1, 0, 0, 0, 0, 0, 0, 1],
    ]);
    const seventeen = unlinkWith('batched', new Layout().file(c, 17).vmas);
    expect(seventeen.iMmapLockWrite).toBe(3);
    expect(c.iMmap.size).toBe(0);
  });

  it('a VMA of a different file flushes; returning to the first file starts another batch', () => {
    const a = libc();
    const b = ld();
    const counters = unlinkWith('batched', new Layout().file(a, 2).file(b, 1).file(a, 2).vmas);
    expect(counters.iMmapLockWrite).toBe(3);
    expect(counters.rmapBatchHistogram).toEqual([0, 1, 2]);
    expect([a.iMmapRwsem.writeAcquisitions, b.iMmapRwsem.writeAcquisitions]).toEqual([2, 1]);
  });

  it('locks once around all removals of a batch', () => {
    const file = libc();
    const order: string[] = [];
    const sem = file.iMmapRwsem;
    const [down, up] = [sem.downWrite.bind(sem), sem.upWrite.bind(sem)];
    sem.downWrite = () => {
      order.push('lock');
      down();
    };
    sem.upWrite = () => {
      order.push('unlock');
      up();
    };
    const { vmas } = new Layout().file(file, 3);
    const iMmap = file.iMmap;
    const del = iMmap.delete.bind(iMmap);
    iMmap.delete = (v: Vma) => {
      order.push(`delete ${v.pgoff}${sem.held ? '' : ' UNLOCKED'}`);
      return del(v);
    };
    new BatchedRmapLocker(new Counters()).unlink(vmas);
    expect(order).toEqual(['lock', 'delete 0', 'delete 1', 'delete 2', 'unlock']);
  });

  it('a batch never outlives its unlink call (free_pgtables finalizes it per group)', () => {
    const c = libc();
    const first = new Layout().file(c, 3).vmas;
    const counters = new Counters();
    const locker = new BatchedRmapLocker(counters);
    locker.unlink(first.slice(0, 2));
    locker.unlink(first.slice(2));
    expect(counters.rmapBatchHistogram).toEqual([0, 1, 1]);
  });

  it('holds no lock and keeps nothing when the walk throws', () => {
    const c = libc();
    const { vmas } = new Layout().file(c, 3);
    const counters = new Counters();
    const locker = new BatchedRmapLocker(counters);
    function* broken() {
      yield vmas[0] as Vma;
      throw new Error('walk failed');
    }
    expect(() => locker.unlink(broken())).toThrow('walk failed');
    expect(c.iMmapRwsem.held).toBe(false);
    expect(counters.iMmapLockWrite).toBe(0);
    locker.unlink(vmas.slice(1));
    expect(counters.rmapBatchHistogram).toEqual([0, 0, 1]);
    expect(c.iMmap.size).toBe(1);
  });
});

describe('batchRuns', () => {
  it('is the reference model of the batches', () => {
    const a = libc();
    const b = ld();
    const { vmas } = new Layout().file(a, 10).anon().file(b, 5).anon().file(a, 1);
    expect(batchRuns(vmas)).toEqual([8, 2, 5, 1]);
    expect(batchRuns(vmas, 4)).toEqual([4, 4, 2, 4, 1, 1]);
    expect(batchRuns([])).toEqual([]);
  });
});

describe('strategy', () => {
  it('describes the batched locker', () => {
    expect([strategy.role, strategy.name, strategy.kernels]).toEqual(['rmap', 'batched', '6.11–']);
    expect(strategy.options.map((o) => [o.name, o.default])).toEqual([['batchSize', 8]]);
    const l = strategy.create({}, new Counters());
    expect(l).toBeInstanceOf(BatchedRmapLocker);
    expect((l as BatchedRmapLocker).batchSize).toBe(8);
    expect(() => strategy.create({ batch: 8 }, new Counters())).toThrow(
      "strategy 'batched': unknown option 'batch' (options: batchSize)",
    );
    expect(() => strategy.create({ batchSize: 0 }, new Counters())).toThrow(
      "strategy 'batched': option 'batchSize' must be a positive integer, got 0",
    );
    expect(() => strategy.create({ batchSize: '8' }, new Counters())).toThrow(
      "option 'batchSize' must be a number",
    );
  });
});
