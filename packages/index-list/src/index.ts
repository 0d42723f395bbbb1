import { type Counters, resolveOptions, type StrategyDescriptor } from '@vmalab/core';
import { ListIndex } from './list.js';

export { ListIndex, type ListIndexOptions } from './list.js';

/** The `list` index strategy: what `vmalab list` shows and the bench app creates. */
export const strategy: StrategyDescriptor<'index'> = {
  role: 'index',
  name: 'list',
  description: 'sorted linked list of VMAs (mm->mmap) with the one-entry mmap_cache of find_vma',
  kernels: '1.0–2.4.9',
  options: [
    {
      name: 'mmapCache',
      type: 'boolean',
      default: true,
      description: 'one-entry find_vma cache (mm->mmap_cache), cleared on unlink',
    },
    {
      name: 'prevLinks',
      type: 'boolean',
      default: false,
      description:
        'back links and a tail pointer (vm_prev, 2.6.36+) instead of walking from the head',
    },
  ],
  create(options: Readonly<Record<string, unknown>>, counters: Counters): ListIndex {
    const o = resolveOptions(strategy, options);
    return new ListIndex(counters, {
      mmapCache: o.mmapCache === true,
      prevLinks: o.prevLinks === true,
    });
  },
};
