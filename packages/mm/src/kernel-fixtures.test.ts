/**
 * The real kernel decides: every fixture recorded by tools/kernel-oracle on
 * Linux 6.18 is replayed through the address space, and after every call the
 * result (address or errno) and the layout — start, end, perms, offset, path
 * and VmFlags — must equal what the kernel printed.
 */
import { Counters } from '@vmalab/core';
import { strategy as gap } from '@vmalab/finder-gap';
import { strategy as linear } from '@vmalab/finder-linear';
import { strategy as list } from '@vmalab/index-list';
import { strategy as maple } from '@vmalab/index-maple';
import { strategy as rbtree } from '@vmalab/index-rbtree';
import { strategy as unbatched } from '@vmalab/rmap-unbatched';
import { describe, expect, it } from 'vitest';
import { loadFixtures, replayFixture } from './testing/fixtures.js';

const fixtures = loadFixtures();

describe('kernel-oracle fixtures (list index, linear finder, unbatched rmap)', () => {
  it('covers every recorded mode with at least 40 × 200 calls', () => {
    const modes = new Set(fixtures.map((f) => f.mode));
    expect([...modes].sort()).toEqual(['limit', 'nowrite', 'placement', 'write']);
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
    expect(fixtures.every((f) => f.steps.length >= 200)).toBe(true);
  });

  it.each(
    fixtures.map((f) => [f.name, f] as const),
  )('%s matches the kernel after every call', (_, fx) => {
    const r = replayFixture(fx, () => {
      const counters = new Counters();
      return {
        counters,
        index: list.create({}, counters),
        finder: linear.create({}, counters),
        rmap: unbatched.create({}, counters),
      };
    });
    expect(r.mismatch).toBeNull();
    expect(r.matched).toBe(fx.steps.length);
  });
});

function rbtreeWithGapFinder(gaps: 'raw' | 'guard') {
  return () => {
    const counters = new Counters();
    return {
      counters,
      index: rbtree.create({ gaps }, counters),
      finder: gap.create({}, counters),
      rmap: unbatched.create({}, counters),
    };
  };
}

describe('kernel-oracle fixtures (rbtree index with raw gaps, gap finder)', () => {
  it.each(
    fixtures.map((f) => [f.name, f] as const),
  )('%s matches the kernel after every call', (_, fx) => {
    const r = replayFixture(fx, rbtreeWithGapFinder('raw'));
    expect(r.mismatch).toBeNull();
  });
});

describe('kernel-oracle fixtures (maple index, gap finder: the 6.18 configuration)', () => {
  for (const prealloc of ['by-store-type', 'worst-case'] as const) {
    it.each(
      fixtures.map((f) => [f.name, f] as const),
    )(`%s matches the kernel after every call (prealloc ${prealloc})`, (_, fx) => {
      const r = replayFixture(fx, () => {
        const counters = new Counters();
        return {
          counters,
          index: maple.create({ prealloc }, counters),
          finder: gap.create({}, counters),
          rmap: unbatched.create({}, counters),
        };
      });
      expect(r.mismatch).toBeNull();
      expect(r.matched).toBe(fx.steps.length);
    });
  }
});

describe('kernel-oracle fixtures (rbtree index with guard gaps: the 4.12–6.0 search)', () => {
  // The rbtree era searched guard-adjusted gaps and took the highest
  // guard-clean hole; 6.18 searches raw holes and, when the one it finds sits
  // under a stack, lowers its limit to the guard start — skipping valid holes
  // in between. So this configuration must agree with the kernel everywhere
  // except at such placements, where its answer is *higher* than the kernel's.
  const results = fixtures.map((fx) => ({
    fx,
    r: replayFixture(fx, rbtreeWithGapFinder('guard')),
  }));

  it('agrees with every arena fixture (no placement decisions there)', () => {
    for (const { fx, r } of results)
      if (fx.mode !== 'placement') expect(r.mismatch, fx.name).toBeNull();
  });

  it('diverges only at mmap(NULL) placements next to a stack, choosing a higher hole than 6.18', () => {
    const diverged = results.filter(({ r }) => r.divergence);
    expect(diverged.length).toBeGreaterThan(0); // the fixtures do exercise the difference
    for (const { fx, r } of diverged) {
      const d = r.divergence as NonNullable<typeof r.divergence>;
      expect(fx.mode).toBe('placement');
      expect(d.op.call).toBe('mmap');
      expect(Number(d.op.addr)).toBe(0);
      expect(Number(d.simulated)).toBeGreaterThan(Number(d.kernel));
    }
  });
});
