import { type Counters, resolveOptions, type StrategyDescriptor } from '@vmalab/core';
import { GapFinder } from './gap.js';

export { GapFinder } from './gap.js';

export const strategy: StrategyDescriptor<'finder'> = {
  role: 'finder',
  name: 'gap',
  description:
    'vm_unmapped_area over a gap-tracking index: guard-gap search (rbtree era) or raw-gap search with the guard retry loop (maple era)',
  kernels: '3.8–today',
  options: [],
  create(options: Readonly<Record<string, unknown>>, counters: Counters) {
    resolveOptions(strategy, options);
    return new GapFinder(counters);
  },
};
