import type { Counters, StrategyDescriptor } from '@vmalab/core';
import { resolveOptions } from '@vmalab/core';
import { UnbatchedRmapLocker } from './unbatched.js';

export { UnbatchedRmapLocker } from './unbatched.js';

/** The `unbatched` rmap strategy: what `vmalab list` shows and the bench app creates. */
export const strategy: StrategyDescriptor<'rmap'> = {
  role: 'rmap',
  name: 'unbatched',
  description: 'unlink_file_vma: one i_mmap_rwsem write-lock round trip per file VMA',
  kernels: '2.4–6.10',
  options: [],
  create(options: Readonly<Record<string, unknown>>, counters: Counters): UnbatchedRmapLocker {
    resolveOptions(strategy, options);
    return new UnbatchedRmapLocker(counters);
  },
};
