import { describe, expect, it } from 'vitest';
import { Counters } from '../counters.js';
import { ENOMEM } from '../errno.js';
import { VM_GROWSDOWN, VM_READ, VM_SHADOW_STACK } from '../flags.js';
import type { UnmappedAreaRequest } from '../interfaces.js';
import { PAGE_SIZE as P } from '../layout.js';
import { Prng } from '../prng.js';
import { Vma } from '../vma.js';
import {
  describeGapIndex,
  describeRmapLocker,
  describeUnmappedAreaFinder,
  describeVmaIndex,
  highestPlacement,
  KernelReferenceFinder,
  kernelPlacement,
  lowestPlacement,
  placementProblem,
  ReferenceFinder,
  ReferenceIndex,
  ReferenceRmapLocker,
} from './index.js';

// The suites run against the references themselves: the references must pass
// their own conformance tests.
describeVmaIndex('reference', (c) => new ReferenceIndex(c));
describeGapIndex('reference', (c) => new ReferenceIndex(c));
describeUnmappedAreaFinder(
  'reference',
  (c) => new ReferenceFinder(c),
  (c) => new ReferenceIndex(c),
  { exact: true },
);
describeUnmappedAreaFinder(
  'reference (kernel policy)',
  (c) => new KernelReferenceFinder(c),
  (c) => new ReferenceIndex(c),
  { exact: 'kernel' },
);
describeRmapLocker('reference', (c) => new ReferenceRmapLocker(c), {
  expectedAcquisitions: (vmas) => vmas.filter((v) => v.file !== null).length,
  expectedHistogram: (vmas) => [0, vmas.filter((v) => v.file !== null).length],
});

describe('placement oracles', () => {
  // The hole-based oracles against exhaustive enumeration of every page of a
  // small address space: "valid" is placementProblem's definition, and the
  // lowest / highest placements must be the extremes of that set.
  it('agree with a page-by-page search on random small layouts', () => {
    const rng = new Prng(20240611);
    const SPACE = 256; // pages
    for (let round = 0; round < 400; round++) {
      const vmas: Vma[] = [];
      let at = rng.int(6);
      while (at < SPACE - 1) {
        const len = 1 + rng.int(6);
        if (at + len > SPACE) break;
        const kind = rng.int(8);
        const flags = kind === 0 ? VM_GROWSDOWN : kind === 1 ? VM_SHADOW_STACK : VM_READ;
        vmas.push(new Vma(at * P, (at + len) * P, flags, null, at));
        at += len + rng.int(12);
      }
      const mm = {
        mmapMinAddr: rng.pick([0, P, 16 * P]),
        stackGuardGap: rng.pick([0, P, 3 * P, 256 * P]),
      };
      for (let q = 0; q < 20; q++) {
        const low = rng.int(SPACE) * P;
        const req: UnmappedAreaRequest = {
          length: (1 + rng.int(8)) * P,
          low,
          high: Math.min(SPACE * P, low + (1 + rng.int(SPACE)) * P),
          topDown: rng.chance(0.5),
          alignMask: rng.pick([0, 0, 0x1fff, 0x7fff]),
          alignOffset: rng.int(16) * P,
          startGap: rng.pick([0, 0, P, 2 * P]),
        };
        const valid: number[] = [];
        for (let p = 0; p < SPACE; p++)
          if (placementProblem(vmas, mm, req, p * P) === null) valid.push(p * P);
        expect(lowestPlacement(vmas, mm, req)).toBe(valid[0]);
        expect(highestPlacement(vmas, mm, req)).toBe(valid[valid.length - 1]);
      }
    }
  });

  it('placementProblem names the broken rule', () => {
    const stack = new Vma(20 * P, 30 * P, VM_GROWSDOWN, null, 20);
    const vmas = [new Vma(4 * P, 6 * P, VM_READ, null, 4), stack];
    const mm = { mmapMinAddr: P, stackGuardGap: 4 * P };
    const r: UnmappedAreaRequest = {
      length: 2 * P,
      low: 0,
      high: 40 * P,
      topDown: false,
      alignMask: 0x3fff,
      alignOffset: 0,
      startGap: 0,
    };
    expect(placementProblem(vmas, mm, r, 8 * P)).toBeNull();
    expect(placementProblem(vmas, mm, r, 8 * P + 1)).toMatch(/page aligned/);
    expect(placementProblem(vmas, mm, r, 9 * P)).toMatch(/≡/);
    expect(placementProblem(vmas, mm, r, 0)).toMatch(/below the window/);
    expect(placementProblem(vmas, mm, r, 40 * P)).toMatch(/above the window/);
    expect(placementProblem(vmas, mm, r, 4 * P)).toMatch(/overlaps/);
    expect(placementProblem(vmas, mm, r, 16 * P)).toMatch(/guard gap/);
    expect(placementProblem(vmas, mm, { ...r, startGap: 3 * P }, 8 * P)).toMatch(/overlaps/);
  });

  it('kernelPlacement differs from the exact answer where Linux does', () => {
    // A plain VMA X just below a stack shields the hole under X from the
    // stack's 256-page guard gap, but the kernel's retry lowers the search
    // limit to the guard start and so skips that hole.
    const S = 0x7f0000000000;
    const vmas = [
      new Vma(S - 10 * P, S - 9 * P, VM_READ, null, 0),
      new Vma(S, S + 8 * P, VM_GROWSDOWN, null, 0),
    ];
    const index = ReferenceIndex.from(vmas);
    const mm = {
      index,
      mmapBase: S,
      legacyBase: 0x10000,
      taskSize: S + 8 * P,
      mmapMinAddr: 0x10000,
      stackGuardGap: 256 * P,
      topDown: true,
    };
    const r = {
      length: P,
      low: S - 400 * P,
      high: S,
      alignMask: 0,
      alignOffset: 0,
      startGap: 0,
      topDown: true,
    };
    expect(highestPlacement(vmas, mm, r)).toBe(S - 11 * P);
    expect(kernelPlacement(vmas, mm, r)).toBe(S - 257 * P);
    // With an alignment the kernel over-reserves length + alignMask.
    const hole = [
      new Vma(0x100000, 0x102000, VM_READ, null, 0),
      new Vma(0x104000, 0x105000, VM_READ, null, 0),
    ];
    const q = {
      length: 2 * P,
      low: 0x100000,
      high: 0x105000,
      alignMask: 0x1fff,
      alignOffset: 0,
      startGap: 0,
      topDown: false,
    };
    expect(lowestPlacement(hole, mm, q)).toBe(0x102000);
    expect(kernelPlacement(hole, { ...mm, index: ReferenceIndex.from(hole) }, q)).toBe(-ENOMEM);
  });

  it('ReferenceFinder answers −ENOMEM when nothing fits', () => {
    const index = new ReferenceIndex(new Counters());
    index.insert(new Vma(0x10000, 0x20000, VM_READ, null, 0x10));
    const mm = {
      index,
      mmapBase: 0x20000,
      legacyBase: 0x10000,
      taskSize: 0x20000,
      mmapMinAddr: 0x10000,
      stackGuardGap: 0,
      topDown: true,
    };
    const r = { length: P, low: 0, high: 0x20000, alignMask: 0, alignOffset: 0, startGap: 0 };
    expect(new ReferenceFinder().find(mm, { ...r, topDown: true })).toBe(-ENOMEM);
    expect(new ReferenceFinder().find(mm, { ...r, topDown: false })).toBe(-ENOMEM);
  });
});
