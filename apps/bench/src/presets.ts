/**
 * Presets: historical configurations by name (DESIGN.md §3). Each names one
 * strategy per role; strategies come only through their `strategy`
 * descriptors. Presets whose strategies have not landed yet are absent.
 */
import type {
  Counters,
  RmapLocker,
  StrategyDescriptor,
  UnmappedAreaFinder,
  VmaIndex,
} from '@vmalab/core';
import { strategy as freeAreaCache } from '@vmalab/finder-free-area-cache';
import { strategy as gap } from '@vmalab/finder-gap';
import { strategy as linear } from '@vmalab/finder-linear';
import { strategy as list } from '@vmalab/index-list';
import { strategy as maple } from '@vmalab/index-maple';
import { strategy as rbtree } from '@vmalab/index-rbtree';
import type { AddressSpaceOptions } from '@vmalab/mm';
import { strategy as batched } from '@vmalab/rmap-batched';
import { strategy as unbatched } from '@vmalab/rmap-unbatched';

export const STRATEGIES: readonly StrategyDescriptor[] = [
  list,
  rbtree,
  maple,
  linear,
  freeAreaCache,
  gap,
  unbatched,
  batched,
];

export interface Preset {
  name: string;
  description: string;
  index: [StrategyDescriptor<'index'>, Record<string, unknown>];
  finder: [StrategyDescriptor<'finder'>, Record<string, unknown>];
  rmap: [StrategyDescriptor<'rmap'>, Record<string, unknown>];
  /** Address-space options of the era (spread into `new AddressSpace`). */
  mm?: Pick<AddressSpaceOptions, 'madviseLocking'>;
}

/** process_madvise took mmap_lock once per iovec element before 6.15. */
const PER_CALL: NonNullable<Preset['mm']> = { madviseLocking: 'per-call' };

export const PRESETS: readonly Preset[] = [
  {
    name: 'linux-2.4',
    description:
      'sorted VMA list with mmap_cache, linear walk for free space, one i_mmap lock per file VMA',
    index: [list, { mmapCache: true }],
    finder: [linear, {}],
    rmap: [unbatched, {}],
    mm: PER_CALL,
  },
  {
    name: 'linux-2.6',
    description:
      'red-black tree with mmap_cache, free_area_cache + cached_hole_size, one i_mmap lock per file VMA',
    index: [rbtree, { gaps: 'off', findCache: 'mmap_cache' }],
    finder: [freeAreaCache, { cachedHoleSize: true }],
    rmap: [unbatched, {}],
    mm: PER_CALL,
  },
  {
    name: 'linux-3.8',
    description:
      'red-black tree augmented with rb_subtree_gap, gap-tree search (vm_unmapped_area), mmap_cache',
    index: [rbtree, { gaps: 'raw', findCache: 'mmap_cache' }],
    finder: [gap, {}],
    rmap: [unbatched, {}],
    mm: PER_CALL,
  },
  {
    name: 'linux-6.1',
    description:
      'maple tree (1 + 3h nodes preallocated per write, no RCU mode), VMAs inserted one by one on fork, vm_unmapped_area with the guard-gap retry loop',
    index: [maple, { prealloc: 'worst-case', dup: 'insert', rcu: false }],
    finder: [gap, {}],
    rmap: [unbatched, {}],
    mm: PER_CALL,
  },
  {
    name: 'linux-6.8',
    description: 'maple tree in RCU mode, preallocation by store type, __mt_dup on fork',
    index: [maple, { prealloc: 'by-store-type', dup: 'mt-dup', rcu: true }],
    finder: [gap, {}],
    rmap: [unbatched, {}],
    mm: PER_CALL,
  },
  {
    name: 'linux-6.11',
    description:
      'linux-6.8 + batched file rmap unlink on teardown (one i_mmap lock per run of up to 8 same-file VMAs)',
    index: [maple, { prealloc: 'by-store-type', dup: 'mt-dup', rcu: true }],
    finder: [gap, {}],
    rmap: [batched, {}],
    mm: PER_CALL,
  },
  {
    name: 'linux-6.15',
    description: 'linux-6.11 + process_madvise takes mmap_lock once per vector, not per element',
    index: [maple, { prealloc: 'by-store-type', dup: 'mt-dup', rcu: true }],
    finder: [gap, {}],
    rmap: [batched, {}],
    mm: { madviseLocking: 'batched' },
  },
];

export function findPreset(name: string): Preset {
  const p = PRESETS.find((x) => x.name === name);
  if (!p) {
    throw new UsageError(
      `unknown preset '${name}' (available: ${PRESETS.map((x) => x.name).join(', ')})`,
    );
  }
  return p;
}

export function instantiate(
  p: Preset,
  counters: Counters,
): { index: VmaIndex; finder: UnmappedAreaFinder; rmap: RmapLocker } {
  return {
    index: p.index[0].create(p.index[1], counters),
    finder: p.finder[0].create(p.finder[1], counters),
    rmap: p.rmap[0].create(p.rmap[1], counters),
  };
}

/** A mistake in the command line or its inputs: reported without a stack trace, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
