// The GapIndex conformance suite for every gap kind × find cache, with a small
// stack guard gap so that the random layouts' grows-down VMAs matter.
import { describeGapIndex } from '@vmalab/core/conformance';
import { type FindCache, type GapRbTreeIndex as Gap, GapRbTreeIndex } from './index.js';

const P = 4096;
const caches: readonly FindCache[] = ['none', 'mmap_cache', 'vmacache'];

for (const gaps of ['guard', 'raw'] as const) {
  for (const findCache of caches) {
    const stackGuardGap = (gaps === 'guard' ? 8 : 16) * P;
    describeGapIndex(
      `rbtree (gaps ${gaps}, findCache ${findCache})`,
      (c): Gap => new GapRbTreeIndex(c, { gaps, findCache, stackGuardGap }),
      { stackGuardGap },
    );
  }
}
