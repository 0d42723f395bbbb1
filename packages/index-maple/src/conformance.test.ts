import { describeGapIndex } from '@vmalab/core/conformance';
import { MapleVmaIndex } from './index.js';

describeGapIndex('maple (by-store-type, mt-dup, rcu)', (c) => new MapleVmaIndex(c));
describeGapIndex(
  'maple (worst-case, insert dup, no rcu)',
  (c) => new MapleVmaIndex(c, { prealloc: 'worst-case', dup: 'insert', rcu: false }),
);
describeGapIndex(
  'maple (vacant-height)',
  (c) => new MapleVmaIndex(c, { prealloc: 'vacant-height' }),
);
