import {
  Counters,
  ENOMEM,
  type MmView,
  type UnmappedAreaRequest,
  VM_GROWSDOWN,
  VM_READ,
  Vma,
} from '@vmalab/core';
import {
  describeUnmappedAreaFinder,
  highestPlacement,
  lowestPlacement,
  ReferenceIndex,
  referenceFindGap,
} from '@vmalab/core/conformance';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GapFinder, strategy } from './index.js';

const P = 4096;

/** A reference index that keeps rbtree-era guard-adjusted gaps. */
class GuardIndex extends ReferenceIndex {
  override readonly gapKind = 'guard' as unknown as 'raw';
  constructor(
    counters: Counters,
    readonly guard: number,
  ) {
    super(counters);
  }
  override findGap(
    length: number,
    low: number,
    high: number,
    topDown: boolean,
  ): number | undefined {
    return referenceFindGap([...this], length, low, high, topDown, this.guard);
  }
}

describeUnmappedAreaFinder(
  'gap over raw gaps (maple era)',
  (c) => new GapFinder(c),
  (c) => new ReferenceIndex(c),
  { exact: 'kernel' },
);
describeUnmappedAreaFinder(
  'gap via strategy.create',
  (c) => strategy.create({}, c),
  (c) => new ReferenceIndex(c),
  { exact: 'kernel', numRuns: 50 },
);

function mmOf(index: ReferenceIndex, guard: number, vmas: [number, number, number][]): MmView {
  for (const [s, e, f] of vmas) index.insert(new Vma(s * P, e * P, f, null, s));
  return {
    index,
    mmapBase: 0,
    legacyBase: 0,
    taskSize: 2 ** 47 - P,
    mmapMinAddr: P,
    stackGuardGap: guard,
    topDown: true,
  };
}

function req(length: number, low: number, high: number, topDown: boolean): UnmappedAreaRequest {
  return {
    length: length * P,
    low: low * P,
    high: high * P,
    alignMask: 0,
    alignOffset: 0,
    startGap: 0,
    topDown,
  };
}

describe('GapFinder', () => {
  it('the two eras differ next to a stack: the 6.x retry hides the hole the rbtree finds', () => {
    // A hole of 20 pages under a plain VMA, then a stack whose 256-page guard
    // gap swallows the small hole right below it.
    const layout: [number, number, number][] = [
      [1000, 1010, VM_READ],
      [1030, 1040, VM_READ],
      [1050, 1060, VM_READ | VM_GROWSDOWN],
    ];
    const guard = 256 * P;
    const raw = mmOf(new ReferenceIndex(), guard, layout);
    const rb = mmOf(new GuardIndex(new Counters(), guard), guard, layout);
    const r = req(5, 1, 1050, true);
    // rbtree era: the highest guard-clean fit ends at the plain VMA at 1030.
    expect(new GapFinder(new Counters()).find(rb, r)).toBe(1025 * P);
    // maple era: [1040, 1050) is found first, the stack's guard lowers the
    // limit to 1050 − 256 = 794, and the valid hole [1010, 1030) is skipped.
    expect(new GapFinder(new Counters()).find(raw, r)).toBe(789 * P);
  });

  it('guard gaps: without alignment the answer is the lowest / highest valid address', () => {
    const guard = 8 * P;
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 8 }), fc.boolean()),
          {
            maxLength: 20,
          },
        ),
        fc.integer({ min: 1, max: 16 }),
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 260 }),
        fc.boolean(),
        (spec, length, low, span, topDown) => {
          const layout: [number, number, number][] = [];
          let at = 16;
          for (const [gap, len, stack] of spec) {
            layout.push([at + gap, at + gap + len, VM_READ | (stack ? VM_GROWSDOWN : 0)]);
            at += gap + len;
          }
          const mm = mmOf(new GuardIndex(new Counters(), guard), guard, layout);
          const r = req(length, low + 1, low + 1 + span, topDown);
          const vmas = [...mm.index];
          const want =
            (topDown ? highestPlacement(vmas, mm, r) : lowestPlacement(vmas, mm, r)) ?? -ENOMEM;
          expect(new GapFinder(new Counters()).find(mm, r)).toBe(want);
        },
      ),
      { numRuns: 2000, seed: 38 },
    );
  });

  it('refuses an index that tracks no gaps, naming it', () => {
    const mm = mmOf(new ReferenceIndex(), P, []);
    const noGaps = {
      ...mm,
      index: { ...mm.index, name: 'list', findGap: undefined },
    } as unknown as MmView;
    expect(() => new GapFinder(new Counters()).find(noGaps, req(1, 1, 10, true))).toThrow(
      /index 'list' does not/,
    );
  });

  it('counts one gap search per attempt, retries included', () => {
    const c = new Counters();
    const layout: [number, number, number][] = [
      [1040, 1050, VM_READ],
      [1050, 1060, VM_READ | VM_GROWSDOWN],
    ];
    const mm = mmOf(new ReferenceIndex(c), 256 * P, layout);
    new GapFinder(c).find(mm, req(5, 1, 1061, true));
    expect(c.gapsExamined).toBe(1);
    const mm2 = mmOf(new ReferenceIndex(), 256 * P, [[1050, 1060, VM_READ | VM_GROWSDOWN]]);
    const c2 = new Counters();
    new GapFinder(c2).find(mm2, req(5, 1, 1061, true));
    expect(c2.gapsExamined).toBe(2);
  });
});
