/**
 * The real kernel decides: every fixture recorded by tools/kernel-oracle on
 * Linux 6.18 is replayed through the address space, and after every call the
 * result (address or errno) and the layout — start, end, perms, offset, path
 * and VmFlags — must equal what the kernel printed.
 */
import { Counters } from '@vmalab/core';
import { strategy as linear } from '@vmalab/finder-linear';
import { strategy as list } from '@vmalab/index-list';
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
