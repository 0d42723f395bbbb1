import {
  Counters,
  ENOMEM,
  type MmView,
  PMD_SIZE,
  TASK_SIZE,
  type UnmappedAreaRequest,
  VM_GROWSDOWN,
  VM_READ,
  VM_SHADOW_STACK,
  Vma,
} from '@vmalab/core';
import { describeUnmappedAreaFinder, ReferenceIndex } from '@vmalab/core/conformance';
import { describe, expect, it } from 'vitest';
import { LinearFinder, strategy } from './index.js';

describeUnmappedAreaFinder(
  'linear (policy kernel, the default)',
  (c) => new LinearFinder(c),
  (c) => new ReferenceIndex(c),
  { exact: 'kernel' },
);
describeUnmappedAreaFinder(
  'linear (strategy.create)',
  (c) => strategy.create({}, c),
  (c) => new ReferenceIndex(c),
  { exact: 'kernel', numRuns: 50 },
);
describeUnmappedAreaFinder(
  'linear (policy first-fit)',
  (c) => new LinearFinder(c, { policy: 'first-fit' }),
  (c) => new ReferenceIndex(c),
  { exact: true },
);

const P = 4096;

/** An mm over a reference index holding `[startPage, endPage, flags?]` VMAs. */
function mmOf(
  vmas: ReadonlyArray<readonly [number, number, number?]>,
  extra: Partial<MmView> = {},
): MmView {
  const index = new ReferenceIndex();
  for (const [s, e, f] of vmas) index.insert(new Vma(s * P, e * P, f ?? VM_READ, null, s));
  return {
    index,
    mmapBase: 0x7f0000000000,
    legacyBase: 0x2aaaaaaab000,
    taskSize: TASK_SIZE,
    mmapMinAddr: 0,
    stackGuardGap: 256 * P,
    topDown: true,
    ...extra,
  };
}

function rq(
  pages: number,
  lowPage: number,
  highPage: number,
  topDown: boolean,
  extra: Partial<UnmappedAreaRequest> = {},
) {
  return {
    length: pages * P,
    low: lowPage * P,
    high: highPage * P,
    topDown,
    alignMask: 0,
    alignOffset: 0,
    startGap: 0,
    ...extra,
  };
}

describe('LinearFinder: exact answers on small layouts', () => {
  // Holes (pages): [0, 10) [12, 13) [15, 20) [30, 31) [33, ∞)
  const layout = [
    [10, 12],
    [13, 15],
    [20, 30],
    [31, 33],
  ] as const;

  it('bottom-up: the first hole that fits', () => {
    const f = new LinearFinder(new Counters());
    const mm = mmOf(layout);
    expect(f.find(mm, rq(1, 11, 100, false))).toBe(12 * P);
    expect(f.find(mm, rq(2, 11, 100, false))).toBe(15 * P);
    expect(f.find(mm, rq(5, 11, 100, false))).toBe(15 * P);
    expect(f.find(mm, rq(6, 11, 100, false))).toBe(33 * P);
    expect(f.find(mm, rq(6, 11, 38, false))).toBe(-ENOMEM);
    expect(f.find(mm, rq(10, 0, 100, false))).toBe(0);
    expect(f.find(mm, rq(1, 16, 100, false))).toBe(16 * P);
  });

  it('top-down: the last hole that fits', () => {
    const f = new LinearFinder(new Counters());
    const mm = mmOf(layout);
    expect(f.find(mm, rq(1, 0, 33, true))).toBe(30 * P);
    expect(f.find(mm, rq(2, 0, 33, true))).toBe(18 * P);
    expect(f.find(mm, rq(5, 0, 33, true))).toBe(15 * P);
    expect(f.find(mm, rq(6, 0, 33, true))).toBe(4 * P);
    expect(f.find(mm, rq(11, 0, 33, true))).toBe(-ENOMEM);
    expect(f.find(mm, rq(2, 0, 40, true))).toBe(38 * P);
    expect(f.find(mm, rq(3, 0, 17, true))).toBe(7 * P);
  });

  it('counts holes examined and VMAs stepped over', () => {
    const c = new Counters();
    const f = new LinearFinder(c);
    const mm = mmOf(layout);
    // Holes [11, 10) (empty: page 11 is below the VMA holding it), [12, 13),
    // [15, 20), [30, 31), [33, ∞): five examined, four VMAs stepped over.
    f.find(mm, rq(6, 11, 100, false));
    expect([c.placements, c.gapsExamined, c.nodesVisited]).toEqual([1, 5, 4]);
    c.reset();
    // Holes [30, 31), [15, 20), [12, 13), [0, 10): four examined, three VMAs stepped over.
    f.find(mm, rq(6, 0, 33, true));
    expect([c.placements, c.gapsExamined, c.nodesVisited]).toEqual([1, 4, 3]);
  });

  it('keeps guard gaps below stacks (VM_GROWSDOWN: stackGuardGap, shadow stack: one page)', () => {
    const f = new LinearFinder(new Counters());
    const mm = mmOf(
      [
        [10, 11],
        [20, 30, VM_GROWSDOWN],
        [40, 41],
        [43, 44, VM_SHADOW_STACK],
      ],
      { stackGuardGap: 4 * P },
    );
    // Below the stack: [11, 16) usable. Below the shadow stack: [41, 42).
    expect(f.find(mm, rq(5, 0, 100, false, { low: 11 * P }))).toBe(11 * P);
    expect(f.find(mm, rq(6, 11, 100, false))).toBe(30 * P);
    expect(f.find(mm, rq(1, 41, 100, false))).toBe(41 * P);
    expect(f.find(mm, rq(2, 41, 100, false))).toBe(44 * P);
    expect(f.find(mm, rq(1, 0, 44, true))).toBe(41 * P);
    expect(f.find(mm, rq(1, 0, 40, true))).toBe(39 * P);
    expect(f.find(mm, rq(1, 0, 20, true))).toBe(15 * P);
    expect(f.find(mm, rq(5, 11, 20, true))).toBe(11 * P);
    expect(f.find(mm, rq(6, 11, 20, true))).toBe(-ENOMEM);
  });

  it('aligns and keeps the start gap (first fit)', () => {
    const f = new LinearFinder(new Counters(), { policy: 'first-fit' });
    const base = 100 * (PMD_SIZE / P); // pages: a 2 MiB boundary
    const mm = mmOf([
      [base, base + 3],
      [base + 8, base + 9],
    ]);
    const thp = { alignMask: PMD_SIZE - 1, alignOffset: 0 };
    expect(f.find(mm, rq(1, base, base + 2000, false, thp))).toBe((base + 512) * P);
    expect(f.find(mm, rq(1, base, base + 2000, true, thp))).toBe((base + 1536) * P);
    const pgoff = { alignMask: PMD_SIZE - 1, alignOffset: 4 * P };
    expect(f.find(mm, rq(2, base, base + 2000, false, pgoff))).toBe((base + 4) * P);
    expect(f.find(mm, rq(5, base, base + 2000, false, pgoff))).toBe((base + 516) * P);
    const shadow = { startGap: P };
    expect(f.find(mm, rq(4, base, base + 2000, false, shadow))).toBe((base + 4) * P);
    expect(f.find(mm, rq(5, base, base + 2000, false, shadow))).toBe((base + 10) * P);
    expect(f.find(mm, rq(4, base, base + 8, true, shadow))).toBe((base + 4) * P);
    expect(f.find(mm, rq(5, base, base + 8, true, shadow))).toBe(-ENOMEM);
  });

  it('raises the window to mmap_min_addr and works next to TASK_SIZE', () => {
    const f = new LinearFinder(new Counters());
    const top = TASK_SIZE / P;
    const mm = mmOf(
      [
        [top - 2, top],
        [top - 10, top - 5],
      ],
      { mmapMinAddr: 0x10000 },
    );
    expect(f.find(mm, rq(1, 0, 100, false))).toBe(0x10000);
    expect(f.find(mm, rq(1, 0, top, true))).toBe((top - 3) * P);
    expect(f.find(mm, rq(4, 0, top, true))).toBe((top - 14) * P);
    expect(f.find(mm, rq(3, top - 10, top, false))).toBe((top - 5) * P);
    expect(f.find(mm, rq(4, top - 10, top, false))).toBe(-ENOMEM);
  });

  it('policy kernel: Linux 6.x skips a hole the guard-gap retry hides', () => {
    const S = 0x7f0000000 / P;
    const mm = mmOf([
      [S - 10, S - 9],
      [S, S + 8, VM_GROWSDOWN],
    ]);
    const r = rq(1, S - 400, S, true);
    expect(new LinearFinder(new Counters(), { policy: 'first-fit' }).find(mm, r)).toBe(
      (S - 11) * P,
    );
    expect(new LinearFinder(new Counters()).find(mm, r)).toBe((S - 257) * P);
  });

  it('fork() returns a new, equally configured instance', () => {
    const f = new LinearFinder(new Counters(), { policy: 'kernel' });
    const g = f.fork();
    expect(g).not.toBe(f);
    expect(g).toBeInstanceOf(LinearFinder);
    expect(g.policy).toBe('kernel');
    expect(g.counters).toBe(f.counters);
  });
});

describe('strategy', () => {
  it('describes the linear finder and validates its options', () => {
    expect([strategy.role, strategy.name]).toEqual(['finder', 'linear']);
    expect((strategy.create({}, new Counters()) as LinearFinder).policy).toBe('kernel');
    expect((strategy.create({ policy: 'kernel' }, new Counters()) as LinearFinder).policy).toBe(
      'kernel',
    );
    expect(() => strategy.create({ policy: 'best-fit' }, new Counters())).toThrow(
      `strategy 'linear': option 'policy' must be one of first-fit | kernel, got "best-fit"`,
    );
    expect(() => strategy.create({ cache: true }, new Counters())).toThrow(
      /unknown option 'cache'/,
    );
  });
});
