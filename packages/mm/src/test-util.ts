/** Test helper: an address space over the reference strategies (list + linear + unbatched). */
import { Counters } from '@vmalab/core';
import { strategy as linear } from '@vmalab/finder-linear';
import { strategy as list } from '@vmalab/index-list';
import { strategy as unbatched } from '@vmalab/rmap-unbatched';
import { AddressSpace, type AddressSpaceOptions } from './address-space.js';

export function makeMm(opts: Partial<AddressSpaceOptions> = {}): AddressSpace {
  const counters = opts.counters ?? new Counters();
  return new AddressSpace({
    index: list.create({}, counters),
    finder: linear.create({}, counters),
    rmap: unbatched.create({}, counters),
    counters,
    verify: true,
    ...opts,
  });
}

/** `start-end@pgoff perms` per VMA, hex, for compact assertions. */
export function layoutOf(mm: AddressSpace): string[] {
  return mm.vmas().map((v) => `${v.start.toString(16)}-${v.end.toString(16)}`);
}
