import { type Counters, resolveOptions, type StrategyDescriptor } from '@vmalab/core';
import { DUP_MODES, type DupMode, PREALLOC_POLICIES, type PreallocPolicy } from './maple-tree.js';
import { MapleVmaIndex } from './vma-index.js';

export * from './maple-tree.js';
export { KERNEL_NODE_BYTES, MIN_END, NODE_TYPE_NAMES, SLOTS } from './node.js';
export { MapleVmaIndex, type MapleVmaIndexOptions } from './vma-index.js';

/** The `maple` index strategy: what `vmalab list` shows and the bench app creates. */
export const strategy: StrategyDescriptor<'index'> = {
  role: 'index',
  name: 'maple',
  description:
    'maple tree of VMAs (mm_mt): 16-slot range leaves, 10-slot gap-tracking internal nodes, classified writes with node preallocation, __mt_dup for fork',
  kernels: '6.1–',
  options: [
    {
      name: 'prealloc',
      type: 'enum',
      values: PREALLOC_POLICIES,
      default: 'by-store-type',
      description:
        "nodes preallocated per write: 'worst-case' = 1 + 3h (6.1), 'by-store-type' = the per-store-type table (~6.5–6.15), 'vacant-height' = only up to the lowest ancestor with room (2025)",
    },
    {
      name: 'dup',
      type: 'enum',
      values: DUP_MODES,
      default: 'mt-dup',
      description:
        "fork: 'mt-dup' = __mt_dup structural copy + exact-fit stores (6.8+), 'insert' = one store per VMA (6.1–6.7)",
    },
    {
      name: 'rcu',
      type: 'boolean',
      default: true,
      description:
        'MT_FLAGS_USE_RCU (on since ~6.3): node_store copies the node, in-place append/slot_store restricted',
    },
  ],
  create(options: Readonly<Record<string, unknown>>, counters: Counters): MapleVmaIndex {
    const o = resolveOptions(strategy, options);
    return new MapleVmaIndex(counters, {
      prealloc: o.prealloc as PreallocPolicy,
      dup: o.dup as DupMode,
      rcu: o.rcu as boolean,
    });
  },
};
