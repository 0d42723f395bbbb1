import { type Counters, resolveOptions, type StrategyDescriptor } from '@vmalab/core';
import { FreeAreaCacheFinder } from './free-area-cache.js';

export {
  FreeAreaCacheFinder,
  type FreeAreaCacheFinderOptions,
  type FreeAreaCacheState,
  HOLE_SIZE_UNKNOWN,
} from './free-area-cache.js';

/** The `free-area-cache` finder strategy: what `vmalab list` shows and the bench app creates. */
export const strategy: StrategyDescriptor<'finder'> = {
  role: 'finder',
  name: 'free-area-cache',
  description:
    'linear walk that starts where the last search ended (mm->free_area_cache), with cached_hole_size',
  kernels: '2.6.x–3.8',
  options: [
    {
      name: 'cachedHoleSize',
      type: 'boolean',
      default: true,
      description:
        "Wander's 2.6.13 cached_hole_size and the hole-boundary unmap hooks of later 2.6; false = Molnar's original 2.6.12 cache, which fragments the address space",
    },
  ],
  create(options: Readonly<Record<string, unknown>>, counters: Counters): FreeAreaCacheFinder {
    const o = resolveOptions(strategy, options);
    return new FreeAreaCacheFinder(counters, { cachedHoleSize: o.cachedHoleSize === true });
  },
};
