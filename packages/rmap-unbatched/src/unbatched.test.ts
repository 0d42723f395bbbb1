import { Counters, MappedFile, VM_EXEC, VM_READ, VM_WRITE, Vma } from '@vmalab/core';
import { describeRmapLocker } from '@vmalab/core/conformance';
import { describe, expect, it } from 'vitest';
import { strategy, UnbatchedRmapLocker } from './index.js';

const fileVmas = (vmas: readonly Vma[]) => vmas.filter((v) => v.file !== null).length;

describeRmapLocker('unbatched', (c) => new UnbatchedRmapLocker(c), {
  expectedAcquisitions: fileVmas,
  expectedHistogram: (vmas) => [0, fileVmas(vmas)],
});
describeRmapLocker('unbatched (strategy.create)', (c) => strategy.create({}, c), {
  expectedAcquisitions: fileVmas,
});

const P = 4096;

/** A dynamically linked program's teardown: binary, heap, libc, ld.so, stack (kernel-facts §6.4). */
function program() {
  const bin = new MappedFile('/usr/bin/true', 'fe:00', 11);
  const libc = new MappedFile('/usr/lib/x86_64-linux-gnu/libc.so.6', 'fe:00', 12);
  const ld = new MappedFile('/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', 'fe:00', 13);
  const perms = [VM_READ, VM_READ | VM_EXEC, VM_READ, VM_READ, VM_READ | VM_WRITE];
  const vmas: Vma[] = [];
  let at = 0x555555554000;
  const image = (file: MappedFile) => {
    perms.forEach((flags, i) => {
      const v = new Vma(at, at + P, flags, file, i);
      file.iMmap.add(v);
      vmas.push(v);
      at += P;
    });
  };
  image(bin);
  vmas.push(new Vma(at + 16 * P, at + 48 * P, VM_READ | VM_WRITE, null, 0)); // [heap]
  at = 0x7ffff7d80000;
  image(libc);
  vmas.push(new Vma(at, at + 4 * P, VM_READ | VM_WRITE, null, 0)); // anonymous after libc
  at += 8 * P;
  image(ld);
  vmas.push(new Vma(0x7ffffffde000, 0x7ffffffff000, VM_READ | VM_WRITE, null, 0)); // [stack]
  return { files: [bin, libc, ld], vmas };
}

describe('UnbatchedRmapLocker', () => {
  it('takes one i_mmap lock per file VMA: 15 for binary + libc + ld.so', () => {
    const counters = new Counters();
    const { files, vmas } = program();
    new UnbatchedRmapLocker(counters).unlink(vmas);
    expect(counters.iMmapLockWrite).toBe(15);
    expect(counters.rmapBatchHistogram).toEqual([0, 15]);
    for (const f of files) {
      expect(f.iMmapRwsem.writeAcquisitions).toBe(5);
      expect(f.iMmapRwsem.held).toBe(false);
      expect(f.iMmap.size).toBe(0);
    }
  });

  it('unlinks in the order given, locking around each removal', () => {
    const file = new MappedFile('/lib/x.so');
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
    const a = new Vma(0x1000, 0x2000, VM_READ, file, 0);
    const b = new Vma(0x2000, 0x3000, VM_READ, file, 1);
    const iMmap = file.iMmap;
    const del = iMmap.delete.bind(iMmap);
    iMmap.delete = (v: Vma) => {
      order.push(`delete ${v.start.toString(16)}${sem.held ? '' : ' UNLOCKED'}`);
      return del(v);
    };
    iMmap.add(a);
    iMmap.add(b);
    new UnbatchedRmapLocker(new Counters()).unlink([a, b]);
    expect(order).toEqual(['lock', 'delete 1000', 'unlock', 'lock', 'delete 2000', 'unlock']);
  });
});

describe('strategy', () => {
  it('describes the unbatched locker', () => {
    expect([strategy.role, strategy.name, strategy.options.length]).toEqual([
      'rmap',
      'unbatched',
      0,
    ]);
    expect(strategy.create({}, new Counters())).toBeInstanceOf(UnbatchedRmapLocker);
    expect(() => strategy.create({ batch: 8 }, new Counters())).toThrow(
      "strategy 'unbatched': unknown option 'batch' (options: none)",
    );
  });
});
