// The VmaIndex conformance suite for the gap-free tree (2.4.10–3.7) with each
// find cache, and for the strategy descriptor's default and explicit options.
import type { GapIndex } from '@vmalab/core';
import { describeGapIndex, describeVmaIndex } from '@vmalab/core/conformance';
import { type FindCache, RbTreeIndex, strategy } from './index.js';

for (const findCache of ['none', 'mmap_cache', 'vmacache'] as readonly FindCache[]) {
  describeVmaIndex(
    `rbtree (gaps off, findCache ${findCache})`,
    (c) => new RbTreeIndex(c, { findCache }),
  );
}
describeVmaIndex('rbtree (strategy.create, gaps off)', (c) => strategy.create({ gaps: 'off' }, c));
// Defaults: guard gaps of 256 pages, vmacache.
describeGapIndex('rbtree (strategy.create defaults)', (c) => strategy.create({}, c) as GapIndex);
describeGapIndex(
  'rbtree (strategy.create, guard of 4 pages)',
  (c) => strategy.create({ stackGuardGap: 4 * 4096, findCache: 'none' }, c) as GapIndex,
  { stackGuardGap: 4 * 4096 },
);
