import {
  type Counters,
  resolveOptions,
  STACK_GUARD_GAP,
  type StrategyDescriptor,
} from '@vmalab/core';
import { createRbTreeIndex, type FindCache, type GapMode, type RbTreeIndex } from './rbtree.js';

export {
  type CreateRbTreeOptions,
  createRbTreeIndex,
  type FindCache,
  type GapMode,
  GapRbTreeIndex,
  type GapRbTreeIndexOptions,
  RbNode,
  RbTreeIndex,
  type RbTreeIndexOptions,
} from './rbtree.js';

/** The `rbtree` index strategy: what `vmalab list` shows and the bench app creates. */
export const strategy: StrategyDescriptor<'index'> = {
  role: 'index',
  name: 'rbtree',
  description:
    'red-black tree of VMAs (mm_rb) with vm_next/vm_prev links, rb_subtree_gap augmentation and mmap_cache/vmacache',
  kernels: '2.4.10–6.0',
  options: [
    {
      name: 'gaps',
      type: 'enum',
      values: ['guard', 'raw', 'off'],
      default: 'guard',
      description:
        "rb_subtree_gap: 'guard' = stack-guard adjusted (4.12–6.0), 'raw' = plain holes (3.8–4.11), 'off' = none (2.4.10–3.7); with gaps the index has findGap",
    },
    {
      name: 'stackGuardGap',
      type: 'number',
      default: STACK_GUARD_GAP,
      description: "stack_guard_gap in bytes (a multiple of 4096), used by gaps 'guard'",
    },
    {
      name: 'findCache',
      type: 'enum',
      values: ['none', 'mmap_cache', 'vmacache'],
      default: 'vmacache',
      description:
        "find_vma cache: 'mmap_cache' = one entry (≤ 3.14), 'vmacache' = 4 entries + sequence number (3.15–6.0)",
    },
  ],
  create(options: Readonly<Record<string, unknown>>, counters: Counters): RbTreeIndex {
    const o = resolveOptions(strategy, options);
    return createRbTreeIndex(counters, {
      gaps: o.gaps as GapMode,
      stackGuardGap: o.stackGuardGap as number,
      findCache: o.findCache as FindCache,
    });
  },
};
