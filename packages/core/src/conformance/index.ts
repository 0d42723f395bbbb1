/**
 * `@vmalab/core/conformance`: the suites every strategy runs, for vitest and
 * fast-check (optional peer dependencies of @vmalab/core), and the reference
 * implementations they compare against.
 *
 * ```ts
 * import { describeVmaIndex } from '@vmalab/core/conformance';
 * import { ListIndex } from './list.js';
 *
 * describeVmaIndex('list', (counters) => new ListIndex(counters));
 * ```
 */
export type { SuiteOptions } from './common.js';
export { describeUnmappedAreaFinder, type FinderSuiteOptions } from './finder.js';
export {
  type Hole,
  highestPlacement,
  holesOf,
  KernelReferenceFinder,
  kernelPlacement,
  lowestPlacement,
  placementProblem,
  ReferenceFinder,
  ReferenceIndex,
  ReferenceRmapLocker,
  referenceFindGap,
} from './reference.js';
export { describeRmapLocker, type RmapSuiteOptions } from './rmap.js';
export { describeGapIndex, describeVmaIndex, type VmaIndexSuiteOptions } from './vma-index.js';
