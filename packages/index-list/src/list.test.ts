import { Counters, Vma } from '@vmalab/core';
import { describeVmaIndex } from '@vmalab/core/conformance';
import { describe, expect, it } from 'vitest';
import { ListIndex, strategy } from './index.js';

describeVmaIndex('list', (c) => new ListIndex(c));
describeVmaIndex('list (no mmap_cache)', (c) => new ListIndex(c, { mmapCache: false }));
describeVmaIndex('list (prevLinks)', (c) => new ListIndex(c, { prevLinks: true }));
describeVmaIndex('list (strategy.create)', (c) => strategy.create({}, c));

const P = 4096;
const mk = (startPage: number, endPage: number) =>
  new Vma(startPage * P, endPage * P, 0, null, startPage);

/** A, B, C at pages [1, 3), [5, 8), [10, 12); counters reset after the inserts. */
function abc(options: { mmapCache?: boolean; prevLinks?: boolean } = {}) {
  const counters = new Counters();
  const index = new ListIndex(counters, options);
  const [a, b, c] = [mk(1, 3), mk(5, 8), mk(10, 12)];
  for (const v of [a, b, c]) index.insert(v);
  counters.reset();
  return { counters, index, a, b, c };
}

/** [cacheHits, cacheMisses, nodesVisited, comparisons] */
const tally = (c: Counters) => [c.cacheHits, c.cacheMisses, c.nodesVisited, c.comparisons];

describe('ListIndex: mmap_cache', () => {
  it('counts hits, misses, cells walked and comparisons exactly', () => {
    const { counters, index, a, b, c } = abc();
    expect(index.find(6 * P)).toBe(b); // cold cache: miss, walk A, B
    expect(tally(counters)).toEqual([0, 1, 2, 2]);
    expect(index.find(5 * P)).toBe(b); // hit: vm_end > addr, vm_start ≤ addr
    expect(tally(counters)).toEqual([1, 1, 2, 4]);
    expect(index.find(2 * P)).toBe(a); // cache B fails on vm_start; walk A
    expect(tally(counters)).toEqual([1, 2, 3, 7]);
    expect(index.find(4 * P)).toBe(b); // in the hole below B: cache A fails on vm_end; walk A, B
    expect(tally(counters)).toEqual([1, 3, 5, 10]);
    expect(index.find(12 * P)).toBeUndefined(); // past the end: walk A, B, C; cache stays B
    expect(tally(counters)).toEqual([1, 4, 8, 14]);
    expect(index.find(7 * P)).toBe(b);
    expect(tally(counters)).toEqual([2, 4, 8, 16]);
    const d = mk(13, 14);
    index.insert(d); // walk A, B, C; an insert keeps the cache
    expect(tally(counters)).toEqual([2, 4, 11, 19]);
    expect(index.find(7 * P)).toBe(b);
    expect(tally(counters)).toEqual([3, 4, 11, 21]);
    index.resize(c, 10 * P, 13 * P); // one comparison with D; clears the cache
    expect(tally(counters)).toEqual([3, 4, 11, 22]);
    expect(index.find(7 * P)).toBe(b);
    expect(tally(counters)).toEqual([3, 5, 13, 24]);
    index.remove(a); // the walk to A's predecessor is one cell; clears the cache
    expect(tally(counters)).toEqual([3, 5, 14, 25]);
    expect(index.find(7 * P)).toBe(b);
    expect(tally(counters)).toEqual([3, 6, 15, 26]);
    expect([counters.nodesAllocated, counters.nodesFreed]).toEqual([1, 1]);
    index.validate();
  });

  it('without the cache every find walks, and hits/misses stay 0', () => {
    const { counters, index, a, b, c } = abc({ mmapCache: false });
    const steps: Array<[number, number[]]> = [
      [6, [0, 0, 2, 2]],
      [5, [0, 0, 4, 4]],
      [2, [0, 0, 5, 5]],
      [4, [0, 0, 7, 7]],
      [12, [0, 0, 10, 10]],
      [7, [0, 0, 12, 12]],
    ];
    for (const [page, want] of steps) {
      index.find(page * P);
      expect(tally(counters)).toEqual(want);
    }
    index.remove(a);
    expect(index.find(7 * P)).toBe(b);
    expect(index.find(9 * P)).toBe(c);
    expect(tally(counters)).toEqual([0, 0, 16, 16]); // remove: 1 cell; finds: B, then B and C
  });

  it('a loop over one VMA misses once, then hits', () => {
    const { counters, index, b } = abc();
    for (let i = 0; i < 100; i++) expect(index.find(5 * P + (i % 3) * P)).toBe(b);
    expect([counters.cacheHits, counters.cacheMisses]).toEqual([99, 1]);
  });

  it('a removal or resize of any VMA invalidates the cache', () => {
    const { counters, index, a, b, c } = abc();
    index.find(6 * P);
    index.resize(a, P, 2 * P); // a different VMA
    index.find(6 * P);
    expect([counters.cacheHits, counters.cacheMisses]).toEqual([0, 2]);
    index.remove(c);
    expect(index.find(6 * P)).toBe(b);
    expect([counters.cacheHits, counters.cacheMisses]).toEqual([0, 3]);
    index.validate();
  });
});

describe('ListIndex: links', () => {
  it('singly linked (Linux ≤ 2.4): prev and last walk from the head', () => {
    const { counters, index, a, b, c } = abc();
    expect(index.prev(c)).toBe(b); // A, B, then C itself
    expect(counters.nodesVisited).toBe(3);
    expect(index.prev(a)).toBeUndefined();
    expect(counters.nodesVisited).toBe(4);
    expect(index.last()).toBe(c);
    expect(counters.nodesVisited).toBe(7);
    expect(index.next(a)).toBe(b);
    expect(counters.nodesVisited).toBe(8);
    expect(index.first()).toBe(a);
    expect(counters.nodesVisited).toBe(9);
  });

  it('prevLinks: prev and last cost one cell', () => {
    const { counters, index, a, b, c } = abc({ prevLinks: true });
    expect(index.prev(c)).toBe(b);
    expect(index.prev(a)).toBeUndefined();
    expect(index.last()).toBe(c);
    expect(counters.nodesVisited).toBe(2);
    index.remove(c);
    expect(index.last()).toBe(b);
    index.validate();
  });

  it('dup walks the list once and allocates one cell per copied VMA', () => {
    const { counters, index } = abc();
    const copy = index.dup((v) => (v.start === 5 * P ? null : v.clone()));
    expect(counters.nodesVisited).toBe(3);
    expect(counters.nodesAllocated).toBe(2);
    expect(copy).toBeInstanceOf(ListIndex);
    expect(copy.mmapCache).toBe(true);
    copy.validate();
  });
});

describe('ListIndex: misuse and validate()', () => {
  it('rejects VMAs that are not in this list, or already in one', () => {
    const { index, a } = abc();
    const other = new ListIndex(new Counters());
    const stray = mk(20, 21);
    expect(() => index.remove(stray)).toThrow(/not in this index/);
    expect(() => other.remove(a)).toThrow(/not in this index/);
    expect(() => other.insert(a)).toThrow(/already in an index/);
    expect(() => index.next(stray)).toThrow(/not in this index/);
    expect(() => index.insert(new Vma(P, P, 0, null, 1))).toThrow(/bad range/);
    expect(() => index.insert(new Vma(P + 1, 2 * P, 0, null, 1))).toThrow(/bad range/);
    expect(() => index.resize(a, 2 * P, P)).toThrow(/bad range/);
    expect(() => index.dup((v) => v)).toThrow(/already in an index/);
    index.validate();
    expect(index.count).toBe(3);
    // A removed VMA can go into another list.
    index.remove(a);
    other.insert(a);
    other.validate();
    index.validate();
  });

  it('names the broken invariant', () => {
    type Scene = ReturnType<typeof abc>;
    const internals = (x: Scene) => x.index as unknown as { n: number; cache: unknown };
    const cases: Array<[(x: Scene) => void, RegExp]> = [
      [(x) => Object.assign(x.b, { end: x.b.start }), /empty or inverted/],
      [(x) => Object.assign(x.b, { start: 2 * P }), /not sorted/],
      [(x) => Object.assign(x.b, { end: 5 * P + 100 }), /not page aligned/],
      [(x) => Object.assign(x.b, { node: null }), /node is not its cell/],
      [(x) => Object.assign(internals(x), { n: 4 }), /map_count 4, but 3 cells/],
      [(x) => Object.assign(internals(x), { n: 2 }), /more cells than map_count/],
      [
        (x) => Object.assign(internals(x), { cache: x.index.dup((v) => v.clone()).first()?.node }),
        /mmap_cache/,
      ],
    ];
    for (const [corrupt, message] of cases) {
      const x = abc();
      x.index.validate();
      corrupt(x);
      expect(() => x.index.validate()).toThrow(message);
    }
  });
});

describe('strategy', () => {
  it('describes the list', () => {
    expect(strategy.role).toBe('index');
    expect(strategy.name).toBe('list');
    expect(strategy.options.map((o) => [o.name, o.default])).toEqual([
      ['mmapCache', true],
      ['prevLinks', false],
    ]);
  });

  it('creates indexes with resolved options, and rejects bad ones', () => {
    const def = strategy.create({}, new Counters()) as ListIndex;
    expect([def.name, def.mmapCache, def.prevLinks]).toEqual(['list', true, false]);
    const custom = strategy.create(
      { mmapCache: false, prevLinks: true },
      new Counters(),
    ) as ListIndex;
    expect([custom.mmapCache, custom.prevLinks]).toEqual([false, true]);
    expect(() => strategy.create({ cache: true }, new Counters())).toThrow(
      "strategy 'list': unknown option 'cache' (options: mmapCache, prevLinks)",
    );
    expect(() => strategy.create({ mmapCache: 1 }, new Counters())).toThrow(/must be a boolean/);
  });
});
