/**
 * Conformance suites for `VmaIndex` and `GapIndex`.
 *
 * Two halves:
 * - unit cases, each one behaviour of the interface on a hand-built layout;
 * - a model-based property: random operation sequences run against the
 *   strategy and against a sorted array side by side, with `validate()` and a
 *   full comparison of the contents (same `Vma` objects, same bounds, same
 *   order) after every operation. About one inserted VMA in eight is a
 *   VM_GROWSDOWN stack and one in sixteen a VM_SHADOW_STACK, so that a
 *   `'guard'` gap index meets guard gaps (its `findGap` is compared with the
 *   guard-aware `referenceFindGap`, a `'raw'` one with the plain scan).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Counters } from '../counters.js';
import { VM_GROWSDOWN, VM_READ, VM_SHADOW_STACK, VM_WRITE } from '../flags.js';
import type { GapIndex, VmaIndex } from '../interfaces.js';
import { STACK_GUARD_GAP, TASK_SIZE } from '../layout.js';
import type { Vma } from '../vma.js';
import {
  describeVma,
  fail,
  mkVma,
  P,
  range,
  type SuiteOptions,
  withLog,
  ZONE_PAGES,
  ZONES,
  zoneBase,
  zoneOf,
} from './common.js';
import { referenceFindGap } from './reference.js';

export interface VmaIndexSuiteOptions extends SuiteOptions {
  /**
   * Operations per run of the mixed property; with the default 100 runs
   * this is 12 000 random operations per strategy. A second property grows
   * indexes to about a hundred VMAs (`numRuns / 10` runs × `3 × ops`
   * insert-heavy operations).
   * Default: 120.
   */
  ops?: number;
  /**
   * The stack_guard_gap (bytes) the index under test was created with. For a
   * `GapIndex` whose `gapKind` is `'guard'`, `findGap` answers are compared
   * with `referenceFindGap(…, stackGuardGap)`: holes below VM_GROWSDOWN VMAs
   * end at `start − stackGuardGap` (one page below VM_SHADOW_STACK ones).
   * Ignored for `'raw'` gap indexes and plain indexes. The random VMAs live
   * in 2048-page zones, so 4–16 pages make guard gaps matter without
   * swallowing every hole.
   * Default: 256 pages (`STACK_GUARD_GAP`, the kernel's default).
   */
  stackGuardGap?: number;
}

/**
 * Registers the `VmaIndex` conformance tests (a vitest `describe` block named
 * `name`). `create` receives a fresh `Counters` and returns an empty index.
 */
export function describeVmaIndex(
  name: string,
  create: (counters: Counters) => VmaIndex,
  opts: VmaIndexSuiteOptions = {},
): void {
  describe(`VmaIndex conformance: ${name}`, () => {
    indexUnitCases(create);
    indexProperty(create, opts, false);
  });
}

/**
 * Registers the `GapIndex` conformance tests: everything `describeVmaIndex`
 * checks, plus `findGap` unit cases and `findGap` queries in the random
 * sequences, compared with a scan of the holes.
 */
export function describeGapIndex(
  name: string,
  create: (counters: Counters) => GapIndex,
  opts: VmaIndexSuiteOptions = {},
): void {
  describe(`GapIndex conformance: ${name}`, () => {
    indexUnitCases(create);
    gapUnitCases(create, opts.stackGuardGap ?? STACK_GUARD_GAP);
    indexProperty(create, opts, true);
  });
}

// ---------------------------------------------------------------------------
// Unit cases

const A = 0x10000;
const HIGH = TASK_SIZE - 64 * P;

function contents(index: VmaIndex): string[] {
  return [...index].map((v) => v.toString());
}

function build<I extends VmaIndex>(
  create: (c: Counters) => I,
  ranges: ReadonlyArray<readonly [number, number]>,
) {
  const index = create(new Counters());
  const vmas = ranges.map(([s, e]) => mkVma(s, e));
  for (const v of vmas) index.insert(v);
  index.validate();
  return { index, vmas };
}

function indexUnitCases(create: (c: Counters) => VmaIndex): void {
  it('starts empty', () => {
    const index = create(new Counters());
    expect(index.count).toBe(0);
    expect(index.find(0)).toBeUndefined();
    expect(index.find(HIGH)).toBeUndefined();
    expect(index.first()).toBeUndefined();
    expect(index.last()).toBeUndefined();
    expect([...index]).toEqual([]);
    expect(typeof index.name).toBe('string');
    index.validate();
    const copy = index.dup((v) => v.clone());
    expect(copy.count).toBe(0);
    copy.validate();
  });

  it('find returns the first VMA with end > addr', () => {
    const { index, vmas } = build(create, [[A, A + 4 * P]]);
    const v = vmas[0];
    expect(index.find(0)).toBe(v);
    expect(index.find(A - 1)).toBe(v);
    expect(index.find(A)).toBe(v);
    expect(index.find(A + 123)).toBe(v);
    expect(index.find(A + 4 * P - 1)).toBe(v);
    expect(index.find(A + 4 * P)).toBeUndefined();
    expect(index.find(HIGH)).toBeUndefined();
  });

  it('keeps address order whatever the insertion order', () => {
    const { index, vmas } = build(create, [
      [A + 20 * P, A + 30 * P],
      [A, A + P],
      [A + 10 * P, A + 12 * P],
      [A + 40 * P, A + 41 * P],
    ]);
    const [d, a, b, e] = vmas as [Vma, Vma, Vma, Vma];
    expect([...index]).toEqual([a, b, d, e]);
    expect(index.count).toBe(4);
    expect(index.first()).toBe(a);
    expect(index.last()).toBe(e);
    expect(index.next(a)).toBe(b);
    expect(index.next(b)).toBe(d);
    expect(index.next(d)).toBe(e);
    expect(index.next(e)).toBeUndefined();
    expect(index.prev(e)).toBe(d);
    expect(index.prev(d)).toBe(b);
    expect(index.prev(b)).toBe(a);
    expect(index.prev(a)).toBeUndefined();
    // In a hole, find returns the VMA above it.
    expect(index.find(A + P)).toBe(b);
    expect(index.find(A + 15 * P)).toBe(d);
    expect(index.find(A + 35 * P)).toBe(e);
    // Iteration can be restarted and two iterations do not interfere.
    const it1 = index[Symbol.iterator]();
    const it2 = index[Symbol.iterator]();
    expect(it1.next().value).toBe(a);
    expect(it2.next().value).toBe(a);
    expect(it1.next().value).toBe(b);
    expect([...index]).toEqual([a, b, d, e]);
  });

  it('handles adjacent VMAs: find at a boundary returns the upper one', () => {
    const { index, vmas } = build(create, [
      [A + P, A + 2 * P],
      [A, A + P],
      [A + 2 * P, A + 5 * P],
    ]);
    const [b, a, c] = vmas as [Vma, Vma, Vma];
    expect([...index]).toEqual([a, b, c]);
    expect(index.find(A + P - 1)).toBe(a);
    expect(index.find(A + P)).toBe(b);
    expect(index.find(A + 2 * P)).toBe(c);
    expect(index.next(a)).toBe(b);
    expect(index.prev(c)).toBe(b);
  });

  it('throws on an overlapping insert and keeps its contents', () => {
    const { index } = build(create, [
      [A, A + 4 * P],
      [A + 8 * P, A + 12 * P],
    ]);
    const before = contents(index);
    const clashes: Array<[number, number]> = [
      [A, A + 4 * P], // identical
      [A - P, A + P], // over the start
      [A + 3 * P, A + 5 * P], // over the end
      [A + P, A + 2 * P], // inside
      [A - P, A + 13 * P], // around both
      [A + 2 * P, A + 10 * P], // bridging two
    ];
    for (const [s, e] of clashes) {
      expect(() => index.insert(mkVma(s, e)), range(s, e)).toThrow();
      index.validate();
      expect(contents(index)).toEqual(before);
      expect(index.count).toBe(2);
    }
  });

  it('removes the first, a middle and the last VMA', () => {
    const { index, vmas } = build(create, [
      [A, A + P],
      [A + 2 * P, A + 3 * P],
      [A + 4 * P, A + 5 * P],
      [A + 6 * P, A + 7 * P],
    ]);
    const [a, b, c, d] = vmas as [Vma, Vma, Vma, Vma];
    index.remove(b);
    index.validate();
    expect([...index]).toEqual([a, c, d]);
    expect(index.find(A + P)).toBe(c);
    expect(index.next(a)).toBe(c);
    expect(index.prev(c)).toBe(a);
    index.remove(a);
    index.validate();
    expect(index.first()).toBe(c);
    expect(index.prev(c)).toBeUndefined();
    expect(index.find(0)).toBe(c);
    index.remove(d);
    index.validate();
    expect(index.last()).toBe(c);
    expect(index.next(c)).toBeUndefined();
    expect(index.find(A + 5 * P)).toBeUndefined();
    expect(index.count).toBe(1);
    index.remove(c);
    index.validate();
    expect(index.count).toBe(0);
    expect(index.find(0)).toBeUndefined();
    expect(index.first()).toBeUndefined();
    // A removed VMA may be inserted again (munmap, then a new mmap reusing the object).
    index.insert(b);
    index.validate();
    expect([...index]).toEqual([b]);
  });

  it('clear (when implemented) drops every VMA at once, without a tree write; the index is reusable', () => {
    const counters = new Counters();
    const index = create(counters);
    if (!index.clear) return; // optional: mm falls back to one remove per VMA
    const vmas: Vma[] = [];
    for (let i = 0; i < 1000; i++) vmas.push(mkVma(A + 2 * i * P, A + (2 * i + 1) * P));
    for (const v of vmas) index.insert(v);
    index.remove(vmas[500] as Vma); // a removal just before, as munmap then exit
    const before = { ...counters };
    index.clear();
    // exit_mmap erases nothing from the tree: no node allocated, no rotation, no gap update.
    expect(counters.nodesAllocated).toBe(before.nodesAllocated);
    expect(counters.rotations).toBe(before.rotations);
    expect(counters.gapUpdates).toBe(before.gapUpdates);
    expect(index.count).toBe(0);
    expect([...index]).toEqual([]);
    expect(index.find(0)).toBeUndefined();
    expect(index.first()).toBeUndefined();
    expect(index.last()).toBeUndefined();
    index.validate();
    // Its VMAs belong to no index any more: another index takes them.
    const other = create(new Counters());
    for (const v of vmas.slice(0, 10)) other.insert(v);
    other.validate();
    expect(other.count).toBe(10);
    // And the index itself is used again (exec loads the new image into it).
    const fresh = [mkVma(A + P, A + 3 * P), mkVma(HIGH - 2 * P, HIGH)];
    for (const v of fresh) index.insert(v);
    index.insert(vmas[999] as Vma);
    index.validate();
    expect([...index]).toEqual([fresh[0], vmas[999], fresh[1]]);
    expect(index.find(A + 2 * P)).toBe(fresh[0]);
  });

  it('resizes: grow up and down into free space, shrink, touch the neighbours', () => {
    const { index, vmas } = build(create, [
      [A, A + P],
      [A + 10 * P, A + 12 * P],
      [A + 20 * P, A + 21 * P],
    ]);
    const [a, b, c] = vmas as [Vma, Vma, Vma];
    index.resize(b, A + 10 * P, A + 15 * P); // grow up
    index.validate();
    expect([b.start, b.end]).toEqual([A + 10 * P, A + 15 * P]);
    expect(index.find(A + 14 * P)).toBe(b);
    expect(index.find(A + 15 * P)).toBe(c);
    index.resize(b, A + 5 * P, A + 15 * P); // grow down
    index.validate();
    expect(index.find(A + P)).toBe(b);
    expect(index.find(A + 5 * P)).toBe(b);
    index.resize(b, A + 7 * P, A + 9 * P); // shrink both ends
    index.validate();
    expect(index.find(A + 9 * P)).toBe(c);
    expect(index.find(A + 6 * P)).toBe(b);
    index.resize(b, A + P, A + 20 * P); // touch both neighbours
    index.validate();
    expect([...index]).toEqual([a, b, c]);
    expect(index.find(A + P - 1)).toBe(a);
    expect(index.find(A + P)).toBe(b);
    expect(index.find(A + 20 * P - 1)).toBe(b);
    expect(index.find(A + 20 * P)).toBe(c);
    expect(index.next(a)).toBe(b);
    expect(index.prev(c)).toBe(b);
    index.resize(a, A, A + P); // no-op
    index.resize(c, A + 20 * P, HIGH); // grow the last one a long way
    index.validate();
    expect(index.find(HIGH - 1)).toBe(c);
    expect(index.find(HIGH)).toBeUndefined();
    expect(index.count).toBe(3);
  });

  it('works above 2^32 and near 2^47', () => {
    const G4 = 2 ** 32;
    const { index, vmas } = build(create, [
      [TASK_SIZE - P, TASK_SIZE],
      [G4 - P, G4 + P],
      [G4 + 2 * P, G4 + 3 * P],
      [2 ** 46, 2 ** 46 + 2 ** 33],
      [P, 2 * P],
      [0, P],
    ]);
    const [top, across, above, mid, p1, zero] = vmas as [Vma, Vma, Vma, Vma, Vma, Vma];
    expect([...index]).toEqual([zero, p1, across, above, mid, top]);
    expect(index.find(0)).toBe(zero);
    expect(index.find(G4 - P - 1)).toBe(across);
    expect(index.find(G4)).toBe(across);
    expect(index.find(G4 + P)).toBe(above);
    expect(index.find(G4 + 3 * P)).toBe(mid);
    expect(index.find(2 ** 46 + 2 ** 33 - 1)).toBe(mid);
    expect(index.find(2 ** 46 + 2 ** 33)).toBe(top);
    expect(index.find(TASK_SIZE - 1)).toBe(top);
    expect(index.find(TASK_SIZE)).toBeUndefined();
    expect(index.prev(top)).toBe(mid);
    expect(index.last()).toBe(top);
    index.resize(mid, 2 ** 46 - P, 2 ** 46 + 2 ** 34);
    index.validate();
    expect(index.find(2 ** 46 - 1)).toBe(mid);
    index.remove(across);
    index.validate();
    expect(index.find(G4 - P)).toBe(above);
  });

  it('dup copies every VMA in order, calling copy once per VMA in address order', () => {
    const { index, vmas } = build(create, [
      [A + 4 * P, A + 5 * P],
      [A, A + P],
      [A + 2 ** 40, A + 2 ** 40 + P],
    ]);
    const seen: Vma[] = [];
    const made: Vma[] = [];
    const copy = index.dup((v) => {
      seen.push(v);
      const c = v.clone();
      made.push(c);
      return c;
    });
    expect(seen).toEqual([vmas[1], vmas[0], vmas[2]]);
    copy.validate();
    expect(copy.count).toBe(3);
    expect(copy.name).toBe(index.name);
    const got = [...copy];
    expect(got.length).toBe(3);
    for (let i = 0; i < 3; i++) expect(got[i]).toBe(made[i]);
    expect(copy.find(A + P)).toBe(made[1]);
    expect(copy.first()).toBe(made[0]);
    expect(copy.last()).toBe(made[2]);
    expect(copy.next(made[0] as Vma)).toBe(made[1]);
    expect(copy.prev(made[2] as Vma)).toBe(made[1]);
  });

  it('dup drops the VMAs for which copy returns null (VM_DONTCOPY)', () => {
    const { index } = build(create, [
      [A, A + P],
      [A + 2 * P, A + 3 * P],
      [A + 4 * P, A + 5 * P],
      [A + 6 * P, A + 7 * P],
    ]);
    const copy = index.dup((v) =>
      v.start === A + 2 * P || v.start === A + 6 * P ? null : v.clone(),
    );
    copy.validate();
    expect(copy.count).toBe(2);
    expect(contents(copy)).toEqual([range(A, A + P), range(A + 4 * P, A + 5 * P)]);
    expect(copy.find(A + P)?.start).toBe(A + 4 * P);
    expect(copy.find(A + 5 * P)).toBeUndefined();
    const none = index.dup(() => null);
    none.validate();
    expect(none.count).toBe(0);
    expect(none.first()).toBeUndefined();
    expect(index.count).toBe(4);
    index.validate();
  });

  it('dup is independent: mutating the copy leaves the source unchanged, and back', () => {
    const { index, vmas } = build(create, [
      [A, A + P],
      [A + 2 * P, A + 3 * P],
      [A + 4 * P, A + 5 * P],
    ]);
    const before = contents(index);
    const copy = index.dup((v) => v.clone());
    const [c0, c1, c2] = [...copy] as [Vma, Vma, Vma];
    copy.remove(c1);
    copy.resize(c0, A, A + 2 * P);
    copy.resize(c2, A + 3 * P, A + 9 * P);
    copy.insert(mkVma(A + 20 * P, A + 21 * P));
    copy.validate();
    index.validate();
    expect(contents(index)).toEqual(before);
    expect(index.find(A + P)).toBe(vmas[1]);
    expect(index.find(A + 5 * P)).toBeUndefined();
    expect(index.count).toBe(3);
    const copyBefore = contents(copy);
    index.remove(vmas[0] as Vma);
    index.insert(mkVma(A + 30 * P, A + 40 * P));
    index.resize(vmas[2] as Vma, A + 4 * P, A + 8 * P);
    index.validate();
    copy.validate();
    expect(contents(copy)).toEqual(copyBefore);
    expect(copy.find(A + 25 * P)).toBeUndefined();
  });

  it('dup leaves the source untouched when copy throws', () => {
    const { index } = build(create, [
      [A, A + P],
      [A + 2 * P, A + 3 * P],
      [A + 4 * P, A + 5 * P],
    ]);
    const before = contents(index);
    let n = 0;
    expect(() =>
      index.dup((v) => {
        if (++n === 2) throw new Error('ENOMEM in vm_area_dup');
        return v.clone();
      }),
    ).toThrow('ENOMEM in vm_area_dup');
    index.validate();
    expect(contents(index)).toEqual(before);
    const again = index.dup((v) => v.clone());
    again.validate();
    expect(contents(again)).toEqual(before);
  });

  it('holds a thousand VMAs (forcing any node splits) and finds each', () => {
    const index = create(new Counters());
    const vmas: Vma[] = [];
    // Insert in a scrambled order: i * 617 mod 1000 is a permutation.
    for (let k = 0; k < 1000; k++) {
      const i = (k * 617) % 1000;
      const v = mkVma(A + 3 * i * P, A + (3 * i + 2) * P);
      vmas[i] = v;
      index.insert(v);
    }
    index.validate();
    expect(index.count).toBe(1000);
    for (let i = 0; i < 1000; i++) {
      const v = vmas[i] as Vma;
      if (index.find(v.start) !== v) fail(`find(${v.start}) is not ${v}`);
      if (index.find(v.start - P) !== v) fail(`find below ${v} is not it`);
    }
    let i = 0;
    for (const v of index) if (v !== vmas[i++]) fail(`iteration out of order at ${i}`);
    // Remove every other one, then check again.
    for (let k = 0; k < 1000; k += 2) index.remove(vmas[k] as Vma);
    index.validate();
    expect(index.count).toBe(500);
    for (let k = 1; k < 1000; k += 2) {
      const v = vmas[k] as Vma;
      if (index.find(v.start - 2 * P) !== v) fail(`after removals: find below ${v}`);
      if (k + 2 < 1000 && index.next(v) !== vmas[k + 2]) fail(`after removals: next(${v})`);
    }
    const copy = index.dup((v) => v.clone());
    copy.validate();
    expect(copy.count).toBe(500);
  });

  it('counts deterministically, with non-negative integers', () => {
    const run = () => {
      const counters = new Counters();
      const index = create(counters);
      const vmas: Vma[] = [];
      for (let i = 0; i < 200; i++) {
        const s = A + ((i * 37) % 200) * 4 * P;
        const v = mkVma(s, s + 2 * P);
        vmas.push(v);
        index.insert(v);
      }
      for (let i = 0; i < 400; i++) index.find(A + ((i * 53) % 800) * P);
      for (let i = 0; i < 200; i += 3) index.remove(vmas[i] as Vma);
      for (let i = 1; i < 200; i += 3) {
        const v = vmas[i] as Vma;
        index.resize(v, v.start, v.start + P);
      }
      index.dup((v) => v.clone());
      return counters.snapshot();
    };
    const a = run();
    const b = run();
    expect(a).toEqual(b);
    for (const [k, v] of Object.entries(a)) {
      const values = typeof v === 'number' ? [v] : v;
      for (const x of values) if (!(Number.isInteger(x) && x >= 0)) fail(`counter ${k} = ${x}`);
    }
  });
}

function gapUnitCases(create: (c: Counters) => GapIndex, stackGuardGap: number): void {
  it('findGap on an empty index returns the window edge', () => {
    const index = create(new Counters());
    expect(index.findGap(P, A, A + 10 * P, false)).toBe(A);
    expect(index.findGap(P, A, A + 10 * P, true)).toBe(A + 9 * P);
    expect(index.findGap(10 * P, A, A + 10 * P, false)).toBe(A);
    expect(index.findGap(10 * P, A, A + 10 * P, true)).toBe(A);
    expect(index.findGap(11 * P, A, A + 10 * P, false)).toBeUndefined();
    expect(index.findGap(11 * P, A, A + 10 * P, true)).toBeUndefined();
    expect(index.findGap(P, 0, TASK_SIZE, true)).toBe(TASK_SIZE - P);
    expect(index.findGap(P, 0, TASK_SIZE, false)).toBe(0);
  });

  it('findGap returns the lowest / highest fitting hole, clipped to the window', () => {
    const { index } = build(create, [
      [A + 2 * P, A + 4 * P], // hole [A, A+2P) below
      [A + 5 * P, A + 6 * P], // hole of 1 page
      [A + 9 * P, A + 10 * P], // hole of 3 pages
      [A + 20 * P, A + 21 * P], // hole of 10 pages
    ]);
    // bottom-up
    expect(index.findGap(P, A, HIGH, false)).toBe(A);
    expect(index.findGap(P, A + 2 * P, HIGH, false)).toBe(A + 4 * P);
    expect(index.findGap(2 * P, A + P, HIGH, false)).toBe(A + 6 * P);
    expect(index.findGap(3 * P, A, HIGH, false)).toBe(A + 6 * P);
    expect(index.findGap(4 * P, A, HIGH, false)).toBe(A + 10 * P);
    expect(index.findGap(11 * P, A, HIGH, false)).toBe(A + 21 * P);
    expect(index.findGap(3 * P, A + 7 * P, HIGH, false)).toBe(A + 10 * P);
    expect(index.findGap(2 * P, A + 7 * P, A + 9 * P, false)).toBe(A + 7 * P);
    expect(index.findGap(3 * P, A + 7 * P, A + 9 * P, false)).toBeUndefined();
    expect(index.findGap(2 * P, 0, A + 2 * P, false)).toBe(0);
    // top-down
    expect(index.findGap(P, A, HIGH, true)).toBe(HIGH - P);
    expect(index.findGap(P, A, A + 20 * P, true)).toBe(A + 19 * P);
    expect(index.findGap(10 * P, A, A + 20 * P, true)).toBe(A + 10 * P);
    expect(index.findGap(11 * P, A, A + 20 * P, true)).toBeUndefined();
    expect(index.findGap(3 * P, A, A + 10 * P, true)).toBe(A + 6 * P);
    expect(index.findGap(2 * P, A, A + 9 * P, true)).toBe(A + 7 * P);
    expect(index.findGap(2 * P, A, A + 5 * P, true)).toBe(A);
    expect(index.findGap(2 * P, A + P, A + 5 * P, true)).toBeUndefined();
    expect(index.findGap(P, A + 5 * P, A + 6 * P, true)).toBeUndefined();
    expect(index.findGap(P, A + 4 * P, A + 5 * P, true)).toBe(A + 4 * P);
  });

  it('findGap follows removals and resizes', () => {
    const { index, vmas } = build(create, [
      [A, A + P],
      [A + 2 * P, A + 3 * P],
      [A + 4 * P, A + 5 * P],
    ]);
    expect(index.findGap(2 * P, A, A + 5 * P, false)).toBeUndefined();
    index.remove(vmas[1] as Vma);
    expect(index.findGap(3 * P, A, A + 5 * P, false)).toBe(A + P);
    index.resize(vmas[2] as Vma, A + 3 * P, A + 5 * P);
    expect(index.findGap(3 * P, A, A + 5 * P, false)).toBeUndefined();
    expect(index.findGap(2 * P, A, A + 5 * P, true)).toBe(A + P);
    index.validate();
  });

  it('findGap works near 2^47', () => {
    const { index } = build(create, [
      [TASK_SIZE - 2 * P, TASK_SIZE - P],
      [TASK_SIZE - 10 * P, TASK_SIZE - 5 * P],
    ]);
    expect(index.findGap(P, TASK_SIZE - 10 * P, TASK_SIZE, true)).toBe(TASK_SIZE - P);
    expect(index.findGap(2 * P, TASK_SIZE - 10 * P, TASK_SIZE, true)).toBe(TASK_SIZE - 4 * P);
    expect(index.findGap(4 * P, TASK_SIZE - 10 * P, TASK_SIZE, true)).toBeUndefined();
    expect(index.findGap(4 * P, 0, TASK_SIZE, true)).toBe(TASK_SIZE - 14 * P);
    expect(index.findGap(2 * P, TASK_SIZE - 10 * P, TASK_SIZE, false)).toBe(TASK_SIZE - 5 * P);
  });

  it(`findGap and stack guard gaps ('guard' gaps end at vm_start_gap, 'raw' ones at vm_start)`, () => {
    const g = stackGuardGap;
    const index = create(new Counters());
    const guard = index.gapKind === 'guard';
    // [A, A+P), a hole of g + 15 pages, a grows-down stack S of 8 pages, a
    // hole of 4 pages, a shadow stack T of 2 pages.
    const S = A + g + 16 * P;
    const T = S + 12 * P;
    const low = mkVma(A, A + P);
    const stack = mkVma(S, S + 8 * P, VM_GROWSDOWN | VM_READ | VM_WRITE);
    const shadow = mkVma(T, T + 2 * P, VM_SHADOW_STACK | VM_READ);
    for (const v of [stack, shadow, low]) index.insert(v);
    index.validate();
    const below = guard ? S - g : S; // where the hole under the stack ends
    const belowShadow = guard ? T - P : T;
    // top-down in the window [A, S): the highest page under the stack (or its guard)
    expect(index.findGap(P, A, S, true)).toBe(below - P);
    expect(index.findGap(P, A, S + 8 * P, true)).toBe(below - P);
    // bottom-up: the hole [A+P, below) is g + 15 pages raw, 15 pages with guard
    expect(index.findGap(15 * P, A, S, false)).toBe(A + P);
    expect(index.findGap(16 * P, A, S, false)).toBe(guard && g > 0 ? undefined : A + P);
    expect(index.findGap(16 * P, A, HIGH, false)).toBe(guard && g > 0 ? T + 2 * P : A + P);
    // the 4-page hole between the stack and the shadow stack loses one page to the latter
    expect(index.findGap(4 * P, S + 8 * P, HIGH, false)).toBe(guard ? T + 2 * P : S + 8 * P);
    expect(index.findGap(3 * P, S + 8 * P, HIGH, false)).toBe(S + 8 * P);
    expect(index.findGap(P, S + 8 * P, T + 2 * P, true)).toBe(belowShadow - P);
    // growing the stack down moves its guard gap with it
    index.resize(stack, S - 2 * P, S + 8 * P);
    index.validate();
    expect(index.findGap(P, A, S, true)).toBe(below - 3 * P);
    expect(index.findGap(13 * P, A, S, false)).toBe(A + P);
    // a grows-down VMA closer to 0 than the guard gap: nothing fits below it
    index.remove(low);
    index.resize(stack, P, S + 8 * P);
    index.validate();
    expect(index.findGap(P, 0, P, false)).toBe(guard && g > 0 ? undefined : 0);
    expect(index.findGap(P, 0, 2 * P, true)).toBe(guard && g > 0 ? undefined : 0);
  });
}

// ---------------------------------------------------------------------------
// Model-based property

/** One random operation: a kind selector and three raw numbers it interprets. */
type Op = [kind: number, zone: number, a: number, b: number, c: number];

/** The model: the VMA objects in address order with the bounds they should have. */
interface Entry {
  v: Vma;
  start: number;
  end: number;
}

class Model {
  entries: Entry[] = [];

  /** The free range around `addr` inside its zone, or undefined if `addr` is mapped. */
  holeAt(addr: number): [number, number] | undefined {
    const z = zoneOf(addr);
    let lo = zoneBase(z);
    let hi = lo + ZONE_PAGES * P;
    for (const e of this.entries) {
      if (e.start <= addr && addr < e.end) return undefined;
      if (e.end <= addr && e.end > lo) lo = e.end;
      if (e.start > addr && e.start < hi) hi = e.start;
    }
    return [lo, hi];
  }

  insert(v: Vma): void {
    const i = this.entries.findIndex((e) => e.start > v.start);
    const entry = { v, start: v.start, end: v.end };
    if (i < 0) this.entries.push(entry);
    else this.entries.splice(i, 0, entry);
  }

  find(addr: number): Vma | undefined {
    return this.entries.find((e) => e.end > addr)?.v;
  }

  /** The model's VMAs with their bounds as the model believes them. */
  layout(): Vma[] {
    return this.entries.map((e) => {
      const c = e.v.clone();
      c.start = e.start;
      c.end = e.end;
      return c;
    });
  }
}

function compare(index: VmaIndex, model: Model, what: string): void {
  index.validate();
  const es = model.entries;
  if (index.count !== es.length) fail(`${what}: count ${index.count}, expected ${es.length}`);
  let i = 0;
  for (const v of index) {
    const e = es[i];
    if (e === undefined) fail(`${what}: iteration yields more than ${es.length} VMAs`);
    if (v !== e.v) fail(`${what}: VMA #${i} is ${v}, expected the object ${range(e.start, e.end)}`);
    if (v.start !== e.start || v.end !== e.end) {
      fail(`${what}: VMA #${i} has bounds ${v}, expected ${range(e.start, e.end)}`);
    }
    i++;
  }
  if (i !== es.length) fail(`${what}: iteration yields ${i} VMAs, expected ${es.length}`);
  if (index.first() !== es[0]?.v) fail(`${what}: first() is ${describeVma(index.first())}`);
  if (index.last() !== es[es.length - 1]?.v)
    fail(`${what}: last() is ${describeVma(index.last())}`);
}

const opArb = fc.tuple(
  fc.noBias(fc.nat({ max: 99 })),
  fc.nat({ max: ZONES.length - 1 }),
  fc.nat({ max: ZONE_PAGES - 1 }),
  fc.nat({ max: 0xffff }),
  fc.nat({ max: 0xffff }),
);

/**
 * Cumulative thresholds (out of 100) of the operation kinds: find, next/prev,
 * insert, remove, resize, dup; the rest is findGap (find for a plain index).
 */
interface Mix {
  find: number;
  nextPrev: number;
  insert: number;
  remove: number;
  resize: number;
  dup: number;
}
const MIXED: Mix = { find: 15, nextPrev: 22, insert: 55, remove: 70, resize: 90, dup: 94 };
const GROWING: Mix = { find: 10, nextPrev: 15, insert: 65, remove: 72, resize: 88, dup: 90 };

function indexProperty(
  create: (c: Counters) => VmaIndex,
  opts: VmaIndexSuiteOptions,
  gaps: boolean,
): void {
  const ops = opts.ops ?? 120;
  const numRuns = opts.numRuns ?? 100;
  const guardGap = opts.stackGuardGap ?? STACK_GUARD_GAP;
  const params = (runs: number) => ({
    numRuns: runs,
    ...(opts.seed === undefined ? {} : { seed: opts.seed }),
  });
  it(
    `agrees with a sorted-array model on ${numRuns} × ${ops} random operations, validate() after each`,
    () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: ops, maxLength: ops }), (seq) => {
          const log: string[] = [];
          withLog(log, () => runOps(create, seq, gaps, MIXED, log, guardGap));
        }),
        params(numRuns),
      );
    },
    opts.timeout ?? 60_000,
  );
  const bigRuns = Math.max(1, Math.round(numRuns / 10));
  it(
    `agrees with the model while growing to ~100 VMAs (${bigRuns} × ${3 * ops} operations)`,
    () => {
      fc.assert(
        fc.property(fc.array(opArb, { minLength: 3 * ops, maxLength: 3 * ops }), (seq) => {
          const log: string[] = [];
          withLog(log, () => runOps(create, seq, gaps, GROWING, log, guardGap));
        }),
        params(bigRuns),
      );
    },
    opts.timeout ?? 60_000,
  );
}

function runOps(
  create: (c: Counters) => VmaIndex,
  seq: readonly Op[],
  gaps: boolean,
  mix: Mix,
  log: string[],
  stackGuardGap: number,
): void {
  let index = create(new Counters());
  let model = new Model();
  for (const [kind, zone, a, b, c] of seq) {
    const base = zoneBase(zone);
    const n = model.entries.length;
    if (kind < mix.find || (kind >= mix.dup && !gaps)) {
      // find at a page boundary or (one time in four) inside a page
      const addr = base + a * P + (b % 4 === 0 ? c % P : 0);
      log.push(`find(${addr})`);
      const got = index.find(addr);
      const want = model.find(addr);
      if (got !== want) fail(`find(${addr}) = ${describeVma(got)}, expected ${describeVma(want)}`);
    } else if (kind < mix.nextPrev) {
      if (n === 0) continue;
      const e = model.entries[b % n] as Entry;
      log.push(`next/prev(${e.v})`);
      const next = index.next(e.v);
      const prev = index.prev(e.v);
      const wantNext = model.entries[(b % n) + 1]?.v;
      const wantPrev = model.entries[(b % n) - 1]?.v;
      if (next !== wantNext)
        fail(`next(${e.v}) = ${describeVma(next)}, expected ${describeVma(wantNext)}`);
      if (prev !== wantPrev)
        fail(`prev(${e.v}) = ${describeVma(prev)}, expected ${describeVma(wantPrev)}`);
    } else if (kind < mix.insert) {
      let addr = base + a * P;
      let hole = model.holeAt(addr);
      if (hole === undefined) {
        addr = (model.find(addr) as Vma).end;
        if (addr >= base + ZONE_PAGES * P) continue;
        hole = model.holeAt(addr);
        if (hole === undefined) continue;
      }
      const [lo, hi] = hole;
      const room = (hi - lo) / P;
      const len = (1 + (c % Math.min(32, room))) * P;
      const mode = b % 3;
      const start =
        mode === 0 ? lo : mode === 2 ? hi - len : Math.min(Math.max(addr, lo), hi - len);
      // One VMA in eight is a grows-down stack, one in sixteen a shadow stack.
      const stack = (b >> 2) % 16;
      const flags =
        stack < 2
          ? VM_GROWSDOWN | VM_READ | VM_WRITE
          : stack === 2
            ? VM_SHADOW_STACK | VM_READ
            : VM_READ | VM_WRITE;
      const v = mkVma(start, start + len, flags);
      log.push(
        `insert${range(start, start + len)}${stack < 2 ? ' growsdown' : stack === 2 ? ' shadow-stack' : ''}`,
      );
      index.insert(v);
      model.insert(v);
    } else if (kind < mix.remove) {
      if (n === 0) continue;
      const i = b % n;
      const e = model.entries[i] as Entry;
      log.push(`remove(${e.v})`);
      index.remove(e.v);
      model.entries.splice(i, 1);
    } else if (kind < mix.resize) {
      if (n === 0) continue;
      const i = b % n;
      const e = model.entries[i] as Entry;
      const z = zoneOf(e.start);
      const prevEnd = model.entries[i - 1]?.end ?? 0;
      const nextStart = model.entries[i + 1]?.start ?? Number.POSITIVE_INFINITY;
      const lo = Math.max(prevEnd, zoneBase(z));
      const hi = Math.min(nextStart, zoneBase(z) + ZONE_PAGES * P);
      const mode = c % 4;
      let start = e.start;
      let end = e.end;
      if (mode !== 1) start = lo + (a % ((e.end - P - lo) / P + 1)) * P;
      if (mode !== 0) {
        const minEnd = Math.max(start, e.start) + P;
        end = minEnd + ((b >> 2) % ((hi - minEnd) / P + 1)) * P;
      }
      log.push(`resize(${e.v} → ${range(start, end)})`);
      index.resize(e.v, start, end);
      e.start = start;
      e.end = end;
    } else if (kind < mix.dup) {
      // Mostly copy everything; sometimes drop a random subset, rarely all.
      const mode = b % 8 === 0 ? 2 : b % 8 < 3 ? 1 : 0;
      const keep = (i: number) => mode === 0 || (mode === 1 && ((c >> (i % 16)) & 1) === 1);
      log.push(`dup(mode ${mode}, mask ${c})`);
      const seen: Vma[] = [];
      const made: Vma[] = [];
      const copy = index.dup((v) => {
        const i = seen.length;
        seen.push(v);
        if (!keep(i)) return null;
        const cv = v.clone();
        made.push(cv);
        return cv;
      });
      if (seen.length !== n) fail(`dup called copy ${seen.length} times for ${n} VMAs`);
      seen.forEach((v, i) => {
        if (v !== model.entries[i]?.v) fail(`dup called copy out of address order at #${i} (${v})`);
      });
      const copyModel = new Model();
      for (const v of made) copyModel.insert(v);
      compare(copy, copyModel, 'the dup copy');
      // Mutate the copy: the source must not notice.
      const first = copyModel.entries[0];
      if (first !== undefined) {
        copy.remove(first.v);
        copyModel.entries.shift();
      }
      const last = copyModel.entries[copyModel.entries.length - 1];
      if (last !== undefined && last.end - last.start > P) {
        copy.resize(last.v, last.start, last.end - P);
        last.end -= P;
      }
      compare(copy, copyModel, 'the dup copy after changes');
      compare(index, model, 'the dup source after changes to the copy');
      if (a % 4 === 1) {
        log.push('(continue with the copy)');
        index = copy;
        model = copyModel;
      }
    } else {
      const len = (c % 8 === 0 ? 1 + a : 1 + (b % 64)) * P;
      const whole = c % 5 === 0;
      const low = whole ? 0 : base + a * P;
      const high = whole ? TASK_SIZE : Math.min(TASK_SIZE, low + (1 + (b % 512)) * P);
      const topDown = c % 2 === 1;
      log.push(`findGap(${len}, ${low}, ${high}, ${topDown})`);
      const gapIndex = index as GapIndex;
      const got = gapIndex.findGap(len, low, high, topDown);
      const guard = gapIndex.gapKind === 'guard' ? stackGuardGap : undefined;
      const want = referenceFindGap(model.layout(), len, low, high, topDown, guard);
      if (got !== want)
        fail(`findGap(${len}, ${low}, ${high}, ${topDown}) = ${got}, expected ${want}`);
    }
    compare(index, model, log[log.length - 1] ?? '');
  }
}
