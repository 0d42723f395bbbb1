import { type Counters, resolveOptions, type StrategyDescriptor } from '@vmalab/core';
import { LinearFinder, type LinearPolicy } from './linear.js';

export { LinearFinder, type LinearFinderOptions, type LinearPolicy } from './linear.js';

/** The `linear` finder strategy: what `vmalab list` shows and the bench app creates. */
export const strategy: StrategyDescriptor<'finder'> = {
  role: 'finder',
  name: 'linear',
  description:
    'linear first-fit walk over the VMAs in address order (get_unmapped_area without any cache)',
  kernels: '1.0–2.4',
  options: [
    {
      name: 'policy',
      type: 'enum',
      values: ['first-fit', 'kernel'],
      default: 'kernel',
      description:
        "'first-fit': the lowest (bottom-up) / highest (top-down) valid address; 'kernel': Linux 6.x's vm_unmapped_area answer over this walk",
    },
  ],
  create(options: Readonly<Record<string, unknown>>, counters: Counters): LinearFinder {
    const o = resolveOptions(strategy, options);
    return new LinearFinder(counters, { policy: o.policy as LinearPolicy });
  },
};
