/**
 * The maple-tree vectors of lib/test_maple_tree.c as restated in
 * kernel-facts §9.1 (check_alloc_range / check_alloc_rev_range), §9.2
 * (check_empty_area_window) and §9.4 (check_ranges, check_seq,
 * check_spanning_relatives, check_fuzzer #1). Every operation is followed by
 * validate() (mt_validate).
 */
import { EBUSY, EEXIST, EINVAL } from '@vmalab/core';
import { describe, expect, it } from 'vitest';
import {
  MAPLE_MAX,
  MapleTree,
  type MapleTreeOptions,
  PREALLOC_POLICIES,
  type PreallocPolicy,
  ZERO_ENTRY,
} from './index.js';

interface Config {
  allocRange: boolean;
  rcu: boolean;
  prealloc: PreallocPolicy;
}

function configs(allocRange: readonly boolean[] = [false, true]): Config[] {
  const out: Config[] = [];
  for (const a of allocRange)
    for (const rcu of [false, true])
      for (const prealloc of PREALLOC_POLICIES) out.push({ allocRange: a, rcu, prealloc });
  return out;
}

const label = (c: Config) => `allocRange=${c.allocRange} rcu=${c.rcu} prealloc=${c.prealloc}`;

/**
 * A MapleTree whose every operation is followed by validate(), and whose
 * preallocation accounting is checked at the end of each test.
 */
class Checked {
  readonly t: MapleTree<number>;
  constructor(opts: MapleTreeOptions) {
    this.t = new MapleTree<number>(opts);
  }
  private v<R>(r: R): R {
    this.t.validate();
    return r;
  }
  store(first: number, last: number, value: number | null | typeof ZERO_ENTRY): number {
    return this.v(this.t.store(first, last, value));
  }
  insert(first: number, last: number, value: number | typeof ZERO_ENTRY): number {
    return this.v(this.t.insert(first, last, value));
  }
  erase(index: number): number | undefined {
    return this.v(this.t.erase(index));
  }
  load(index: number): number | undefined {
    return this.v(this.t.load(index));
  }
  emptyArea(min: number, max: number, size: number): number {
    return this.v(this.t.emptyArea(min, max, size));
  }
  emptyAreaRev(min: number, max: number, size: number): number {
    return this.v(this.t.emptyAreaRev(min, max, size));
  }
  allocRange(size: number, min: number, max: number, value: number): number {
    return this.v(this.t.allocRange(size, min, max, value));
  }
  allocRrange(size: number, min: number, max: number, value: number): number {
    return this.v(this.t.allocRrange(size, min, max, value));
  }
  /** The accounting invariants of a run of writes. */
  checkStats(): void {
    const s = this.t.stats;
    expect(s.overruns).toBe(0);
    expect(s.nodesRequested).toBe(s.nodesUsed + s.nodesReturned);
  }
}

// ---------------------------------------------------------------------------
// §9.1 check_alloc_range / check_alloc_rev_range (64-bit)

/** MTREE_ALLOC_MAX = 0x2000000000000. */
const MTREE_ALLOC_MAX = Number(0x2000000000000n);
/** ULONG_MAX >> 12 = 0xFFFFFFFFFFFFF. */
const ULONG_MAX_PAGES = Number((2n ** 64n - 1n) >> 12n);
/** kernel-facts: the highest usable index is 0x1FFFFFFFFFFFF = 562949953421311. */
const HIGHEST_USABLE = 562949953421311;

/** /proc/self/maps ranges in bytes, end exclusive. */
const MAPS: ReadonlyArray<readonly [bigint, bigint]> = [
  [0x565234af2000n, 0x565234af4000n],
  [0x565234af4000n, 0x565234af9000n],
  [0x565234af9000n, 0x565234afb000n],
  [0x565234afc000n, 0x565234afd000n],
  [0x565234afd000n, 0x565234afe000n],
  [0x565235def000n, 0x565235e10000n],
  [0x7f36d4bfd000n, 0x7f36d4ee2000n],
  [0x7f36d4ee2000n, 0x7f36d4f04000n],
  [0x7f36d4f04000n, 0x7f36d504c000n],
  [0x7f36d504c000n, 0x7f36d5098000n],
  [0x7f36d5098000n, 0x7f36d5099000n],
  [0x7f36d5099000n, 0x7f36d509d000n],
  [0x7f36d509d000n, 0x7f36d509f000n],
  [0x7f36d509f000n, 0x7f36d50a5000n],
  [0x7f36d50b9000n, 0x7f36d50db000n],
  [0x7f36d50db000n, 0x7f36d50dc000n],
  [0x7f36d50dc000n, 0x7f36d50fa000n],
  [0x7f36d50fa000n, 0x7f36d5102000n],
  [0x7f36d5102000n, 0x7f36d5103000n],
  [0x7f36d5103000n, 0x7f36d5104000n],
  [0x7f36d5104000n, 0x7f36d5105000n],
  [0x7fff5876b000n, 0x7fff5878d000n],
  [0x7fff5878e000n, 0x7fff58791000n],
  [0x7fff58791000n, 0x7fff58793000n],
];

/** Named holes: [start, end) and size, in bytes. */
const HOLES: ReadonlyArray<readonly [bigint, bigint, bigint]> = [
  [0x565234afb000n, 0x565234afc000n, 0x1000n],
  [0x565234afe000n, 0x565235def000n, 0x12f1000n],
  [0x565235e10000n, 0x7f36d4bfd000n, 0x28e49eded000n],
];

const pg = (b: bigint): number => Number(b >> 12n);

function allocFixture(c: Config): Checked {
  const t = new Checked(c);
  expect(t.store(MTREE_ALLOC_MAX, MAPLE_MAX, ZERO_ENTRY)).toBe(0);
  MAPS.forEach(([s, e], i) => {
    expect(t.insert(pg(s), pg(e) - 1, 1000 + i)).toBe(0);
  });
  return t;
}

describe('§9.1 allocation-range fixture (check_alloc_range / check_alloc_rev_range)', () => {
  it('constants are exact safe integers', () => {
    expect(MTREE_ALLOC_MAX).toBe(562949953421312);
    expect(ULONG_MAX_PAGES).toBe(4503599627370495);
    expect(Number.isSafeInteger(ULONG_MAX_PAGES)).toBe(true);
    expect(MTREE_ALLOC_MAX - 1).toBe(HIGHEST_USABLE);
    for (const [s, e] of MAPS) {
      expect(Number.isSafeInteger(pg(s))).toBe(true);
      expect(Number.isSafeInteger(pg(e))).toBe(true);
    }
  });

  for (const c of configs([true])) {
    describe(label(c), () => {
      it('setup: ranges readable, blocked tail reads as empty', () => {
        const t = allocFixture(c);
        MAPS.forEach(([s, e], i) => {
          expect(t.load(pg(s))).toBe(1000 + i);
          expect(t.load(pg(e) - 1)).toBe(1000 + i);
        });
        expect(t.load(MTREE_ALLOC_MAX)).toBeUndefined();
        expect(t.load(MAPLE_MAX)).toBeUndefined();
        expect(t.load(ULONG_MAX_PAGES)).toBeUndefined();
        // XA_ZERO_ENTRY occupies its range.
        expect(t.insert(MTREE_ALLOC_MAX + 5, MTREE_ALLOC_MAX + 5, 1)).toBe(-EEXIST);
        t.checkStats();
      });

      it('forward hole probes', () => {
        const t = allocFixture(c);
        let min = pg(MAPS[0]?.[0] as bigint);
        for (const [hs, he, size] of HOLES) {
          expect(t.emptyArea(min, pg(he), pg(size))).toBe(pg(hs));
          min = pg(he);
        }
      });

      it('reverse hole probes', () => {
        const t = allocFixture(c);
        let min = 0;
        for (const [hs, he, size] of HOLES) {
          const index = t.emptyAreaRev(min, pg(he), pg(size));
          expect(index).toBe(pg(he) - pg(size));
          expect(index).toBe(pg(hs));
          // last + 1 == hole end
          expect(index + pg(size) - 1 + 1).toBe(pg(he));
          min = pg(he);
        }
      });

      it('forward allocations F1–F8 (mtree_alloc_range, stateful)', () => {
        const t = allocFixture(c);
        const rows: Array<[string, number, number, number, number]> = [
          // name, min, max, size, expected (start or -errno)
          ['F1', 0x565234af9, 0x7fff58791, 1, 0x565234afb],
          ['F2', 0, 0x7fff58791, Number(0x1f00n >> 12n), 0],
          ['F3 ascend', 0x7f36d4bfc, 0x7fff587af, 3, 0x7f36d50a5],
          ['F4 fail', 0x7f36d509f, 0x7f36d50db, 0x15, -EBUSY],
          ['F5 fill gap', 0x7f36d509f, 0x7fff587af, 0x10, 0x7f36d50a8],
          ['F6', 0, ULONG_MAX_PAGES, ULONG_MAX_PAGES, -EBUSY],
          ['F7 too large', 0, ULONG_MAX_PAGES, 4503599618982063, -EBUSY],
          ['F8 single', 0x7f36d50b8, 0x7f36d50b8, 1, 0x7f36d50b8],
        ];
        expect(0x7f36d4bfc).toBe(34148797436);
        expect(0x7f36d50a5).toBe(34148798629);
        expect(0x7f36d50a8).toBe(34148798632);
        expect(0x7f36d50b8).toBe(34148798648);
        rows.forEach(([name, min, max, size, want], i) => {
          const before = [...t.t.ranges()];
          const got = t.allocRange(size, min, max, 2000 + i);
          expect(got, name).toBe(want);
          if (want >= 0) {
            for (let x = want; x < want + size; x++) expect(t.load(x), name).toBe(2000 + i);
            if (want > 0) expect(t.load(want - 1), name).not.toBe(2000 + i);
            expect(t.load(want + size), name).not.toBe(2000 + i);
          } else {
            expect([...t.t.ranges()], name).toEqual(before);
          }
        });
        t.checkStats();
      });

      it('reverse allocations R1–R9 (mtree_alloc_rrange, stateful)', () => {
        const t = allocFixture(c);
        const rows: Array<[string, number, number, number, number]> = [
          ['R1', 0x565234af9, 0x7fff58791, 1, 0x7fff5878d],
          ['R2', 0, 0x565234af0, 3, 0x565234aee],
          ['R3', 0, ULONG_MAX_PAGES, 1, 0x1ffffffffffff],
          ['R4', 0, 0x7f36d5109, 4, 0x7f36d5106],
          ['R5 ascend', 0, 34148798628, 19, 34148797418],
          ['R6 too big', 0, ULONG_MAX_PAGES, 562915594369134, -EBUSY],
          ['R7 single', 34148798725, 34148798725, 1, 34148798725],
        ];
        expect(0x7f36d50a4).toBe(34148798628);
        expect(0x7f36d4bea).toBe(34148797418);
        expect(0x7f36d5105).toBe(34148798725);
        expect(0x1ffffffffffff).toBe(HIGHEST_USABLE);
        rows.forEach(([name, min, max, size, want], i) => {
          const before = [...t.t.ranges()];
          const got = t.allocRrange(size, min, max, 3000 + i);
          expect(got, name).toBe(want);
          if (want >= 0) {
            for (let x = want; x < want + size; x++) expect(t.load(x), name).toBe(3000 + i);
          } else {
            expect([...t.t.ranges()], name).toEqual(before);
          }
        });
        // R8: erase the R4 allocation (through index 34148798727) and R7.
        expect(t.erase(34148798727)).toBe(3003);
        expect(t.erase(34148798725)).toBe(3006);
        for (let x = 0x7f36d5105; x <= 0x7f36d5109; x++) expect(t.load(x)).toBeUndefined();
        // R9: the size is exactly the gap [0x7f36d5105, 0x7fff5876a].
        expect(0x7fff5876a - 0x7f36d5105 + 1).toBe(0xc883666);
        expect(0xc883666).toBe(210253414);
        expect(0x7fff5878d).toBe(34359052173);
        expect(t.allocRrange(210253414, 0, 34359052173, 3009)).toBe(34148798725);
        expect(t.load(0x7fff5876a)).toBe(3009);
        expect(t.load(0x7f36d5104)).toBe(1020);
        t.checkStats();
      });
    });
  }
});

// ---------------------------------------------------------------------------
// §9.2 check_empty_area_window

type Dir = 'fwd' | 'rev';
/** [dir, min, max, size, expected index or -errno or null (not asserted)] */
const WINDOW_ROWS: ReadonlyArray<readonly [Dir, number, number, number, number | null]> = [
  ['rev', 5, 90, 10, -EBUSY],
  ['rev', 6, 90, 5, -EBUSY],
  ['rev', 5, 90, 5, 5],
  ['rev', 5, 217, 9, 161],
  ['rev', 100, 218, 3, 216],
  ['rev', 100, 218, 16, -EBUSY],
  ['rev', 167, 200, 4, -EBUSY],
  ['rev', 100, 162, 4, -EBUSY],
  ['fwd', 0, 100, 9, 0],
  ['fwd', 0, 100, 4, 0],
  ['fwd', 0, 100, 11, -EBUSY],
  ['fwd', 5, 100, 6, -EBUSY],
  ['fwd', 0, 8, 10, -EINVAL],
  ['fwd', 100, 165, 3, null],
  ['fwd', 100, 163, 6, -EBUSY],
];

describe('§9.2 search-window edge cases (check_empty_area_window)', () => {
  for (const c of configs()) {
    it(label(c), () => {
      const t = new Checked(c);
      for (let i = 1; i <= 20; i++) expect(t.store(10 * i, 10 * i + 9, i)).toBe(0);
      expect(t.store(160, 169, null)).toBe(0);
      expect([...t.t.ranges()].filter(([, , v]) => v === null)).toEqual([
        [0, 9, null],
        [160, 169, null],
        [210, MAPLE_MAX, null],
      ]);
      for (const [dir, min, max, size, want] of WINDOW_ROWS) {
        const got = dir === 'fwd' ? t.emptyArea(min, max, size) : t.emptyAreaRev(min, max, size);
        if (want !== null) expect(got, `${dir}(${min}, ${max}, ${size})`).toBe(want);
      }
      // The [index, last] pairs of the successful rows.
      expect(t.emptyAreaRev(5, 90, 5) + 5 - 1).toBe(9);
      expect(t.emptyAreaRev(5, 217, 9) + 9 - 1).toBe(169);
      expect(t.emptyAreaRev(100, 218, 3) + 3 - 1).toBe(218);
      expect(t.emptyArea(0, 100, 9) + 9 - 1).toBe(8);
      expect(t.emptyArea(0, 100, 4) + 4 - 1).toBe(3);
      t.checkStats();
    });
  }
});

// ---------------------------------------------------------------------------
// §9.4 check_ranges (plain tree semantics, run under every flag combination)

/** A dense reference over [0, n): value per index (null = empty). */
class DenseRef {
  readonly a: Array<number | null>;
  constructor(n: number) {
    this.a = new Array<number | null>(n).fill(null);
  }
  store(first: number, last: number, v: number | null): void {
    for (let i = first; i <= last; i++) this.a[i] = v;
  }
  /** The whole entry around `index` (runs of one value written by one store are not merged here; callers erase points). */
  eraseAt(index: number): void {
    this.a[index] = null;
  }
}

function checkAgainst(t: Checked, ref: DenseRef): void {
  for (let i = 0; i < ref.a.length; i++) {
    const want = ref.a[i] ?? undefined;
    if (t.t.load(i) !== want) expect(t.t.load(i), `load(${i})`).toBe(want);
  }
}

function seq400(c: Config): Checked {
  const t = new Checked(c);
  for (let i = 0; i <= 400; i++) expect(t.store(i, i, i)).toBe(0);
  for (let i = 0; i <= 400; i++) expect(t.t.load(i)).toBe(i);
  expect(t.load(401)).toBeUndefined();
  return t;
}

describe('§9.4 check_ranges', () => {
  for (const c of configs()) {
    describe(label(c), () => {
      it('insert / store / EEXIST', () => {
        const t = new Checked(c);
        expect(t.insert(10, 15, 10)).toBe(0);
        expect(t.insert(20, 25, 20)).toBe(0);
        expect(t.insert(17, 22, 17)).toBe(-EEXIST);
        expect(t.load(17)).toBeUndefined();
        expect(t.load(20)).toBe(20);
        expect(t.store(17, 22, 17)).toBe(0);
        expect(t.load(16)).toBeUndefined();
        for (let i = 17; i <= 22; i++) expect(t.load(i)).toBe(17);
        expect(t.load(23)).toBe(20);
        expect(t.load(25)).toBe(20);
        expect(t.load(26)).toBeUndefined();
        expect(t.store(9, 1000, 9)).toBe(0);
        expect(t.load(8)).toBeUndefined();
        for (const i of [9, 10, 15, 17, 25, 1000]) expect(t.load(i)).toBe(9);
        expect(t.load(1001)).toBeUndefined();
        expect(t.store(100, 200, 100)).toBe(0);
        expect(t.load(99)).toBe(9);
        expect(t.load(100)).toBe(100);
        expect(t.load(200)).toBe(100);
        expect(t.load(201)).toBe(9);
        expect([...t.t.ranges()]).toEqual([
          [0, 8, null],
          [9, 99, 9],
          [100, 200, 100],
          [201, 1000, 9],
          [1001, MAPLE_MAX, null],
        ]);
        t.checkStats();
      });

      it('seq 400, store [118,128], erase 140–143 and 130–135', () => {
        const t = seq400(c);
        const ref = new DenseRef(402);
        for (let i = 0; i <= 400; i++) ref.store(i, i, i);
        expect(t.store(118, 128, 118)).toBe(0);
        ref.store(118, 128, 118);
        for (let i = 140; i <= 143; i++) {
          expect(t.erase(i)).toBe(i);
          ref.eraseAt(i);
        }
        for (let i = 130; i <= 135; i++) {
          expect(t.erase(i)).toBe(i);
          ref.eraseAt(i);
        }
        expect(t.load(118)).toBe(118);
        expect(t.load(128)).toBe(118);
        expect(t.load(127)).toBe(118);
        expect(t.load(129)).toBe(129);
        expect(t.load(135)).toBeUndefined();
        expect(t.load(140)).toBeUndefined();
        checkAgainst(t, ref);
        t.checkStats();
      });

      it('seq 400, store [353,361] then [347,352]', () => {
        const t = seq400(c);
        expect(t.store(353, 361, 353)).toBe(0);
        expect(t.store(347, 352, 347)).toBe(0);
        expect(t.load(346)).toBe(346);
        for (let i = 347; i <= 352; i++) expect(t.load(i)).toBe(347);
        for (let i = 353; i <= 361; i++) expect(t.load(i)).toBe(353);
        expect(t.load(362)).toBe(362);
        t.checkStats();
      });

      it('seq 400, store [352,364]=NULL then [351,363]', () => {
        const t = seq400(c);
        expect(t.store(352, 364, null)).toBe(0);
        expect(t.store(351, 363, 352)).toBe(0);
        expect(t.load(350)).toBe(350);
        for (let i = 351; i <= 363; i++) expect(t.load(i)).toBe(352);
        expect(t.load(364)).toBeUndefined();
        expect(t.load(365)).toBe(365);
        t.checkStats();
      });

      it('seq 400, store [352,364]=NULL then [351,364]', () => {
        const t = seq400(c);
        expect(t.store(352, 364, null)).toBe(0);
        expect(t.store(351, 364, 352)).toBe(0);
        expect(t.load(350)).toBe(350);
        for (let i = 351; i <= 364; i++) expect(t.load(i)).toBe(352);
        expect(t.load(365)).toBe(365);
        t.checkStats();
      });

      it('501 ranges [5i, 5i+5] and point writes', () => {
        const t = new Checked(c);
        const ref = new DenseRef(2600);
        for (let i = 0; i <= 500; i++) {
          expect(t.store(5 * i, 5 * i + 5, 5 * i)).toBe(0);
          ref.store(5 * i, 5 * i + 5, 5 * i);
        }
        checkAgainst(t, ref);
        const writes: Array<[number, number, number]> = [
          [2400, 2400, 2400],
          [2411, 2411, 2411],
          [2412, 2412, 2412],
          [2396, 2400, 4052020],
          [2402, 2402, 2402],
        ];
        for (const [f, l, v] of writes) {
          expect(t.store(f, l, v)).toBe(0);
          ref.store(f, l, v);
          checkAgainst(t, ref);
        }
        expect(t.load(2396)).toBe(4052020);
        expect(t.load(2401)).toBe(2400);
        expect(t.load(2403)).toBe(2400);
        t.checkStats();
      });

      it('check_spanning_relatives: 1001 ranges [10i, 10i+5], store NULL over [9365, 9955]', () => {
        const t = new Checked(c);
        const ref = new DenseRef(10020);
        for (let i = 0; i <= 1000; i++) {
          expect(t.store(10 * i, 10 * i + 5, i + 1)).toBe(0);
          ref.store(10 * i, 10 * i + 5, i + 1);
        }
        checkAgainst(t, ref);
        expect(t.store(9365, 9955, null)).toBe(0);
        ref.store(9365, 9955, null);
        checkAgainst(t, ref);
        expect(t.load(9364)).toBe(937);
        expect(t.load(9365)).toBeUndefined();
        expect(t.load(9955)).toBeUndefined();
        expect(t.load(9960)).toBe(997);
        // The NULL range was coalesced with the hole after it: [9365, 9959].
        expect([...t.t.ranges()].find(([f, l]) => f <= 9400 && 9400 <= l)).toEqual([
          9365,
          9959,
          null,
        ]);
        t.checkStats();
      });

      it('check_fuzzer #1: insert 88,84,2,4,14,7,12,18 then store [8,18]', () => {
        const t = new Checked(c);
        const ref = new DenseRef(100);
        for (const i of [88, 84, 2, 4, 14, 7, 12, 18]) {
          expect(t.insert(i, i, i)).toBe(0);
          ref.store(i, i, i);
          checkAgainst(t, ref);
        }
        expect(t.store(8, 18, 0x11)).toBe(0);
        ref.store(8, 18, 0x11);
        checkAgainst(t, ref);
        t.checkStats();
      });
    });
  }
});
