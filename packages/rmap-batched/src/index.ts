import type { Counters, StrategyDescriptor } from '@vmalab/core';
import { resolveOptions } from '@vmalab/core';
import { BatchedRmapLocker } from './batched.js';

export type { BatchedRmapLockerOptions } from './batched.js';
export { BatchedRmapLocker, batchRuns, UNLINK_BATCH_SIZE } from './batched.js';

/** The `batched` rmap strategy: what `vmalab list` shows and the bench app creates. */
export const strategy: StrategyDescriptor<'rmap'> = {
  role: 'rmap',
  name: 'batched',
  description:
    'unlink_file_vma_batch: one i_mmap_rwsem write-lock round trip per run of up to 8 same-file VMAs',
  kernels: '6.11–',
  options: [
    {
      name: 'batchSize',
      type: 'number',
      default: 8,
      description: 'VMAs per batch (the kernel uses 8)',
    },
  ],
  create(options: Readonly<Record<string, unknown>>, counters: Counters): BatchedRmapLocker {
    const o = resolveOptions(strategy, options);
    const batchSize = o.batchSize as number;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new Error(
        `strategy 'batched': option 'batchSize' must be a positive integer, got ${batchSize}`,
      );
    }
    return new BatchedRmapLocker(counters, { batchSize });
  },
};
