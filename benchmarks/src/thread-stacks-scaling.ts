/**
 * Scaling of get_unmapped_area with the number of VMAs (the free_area_cache
 * patch's thread-creation experiment, test_str02): N thread stacks, each an
 * 8 MiB MAP_STACK mmap plus a PROT_NONE guard page (2 VMAs per thread). For
 * each finder the exact cost of one placement — tree/list nodes visited by the
 * finder and the index lookups it makes — is recorded as the count grows.
 * Every configuration must end with the same layout (strategies are
 * interchangeable) before its numbers are reported.
 *
 *   pnpm --filter @vmalab/benchmarks scaling [maxStacks]
 */
import {
  Counters,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_STACK,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  type StrategyDescriptor,
  type UnmappedAreaFinder,
} from '@vmalab/core';
import { strategy as fac } from '@vmalab/finder-free-area-cache';
import { strategy as gap } from '@vmalab/finder-gap';
import { strategy as linear } from '@vmalab/finder-linear';
import { strategy as rbtree } from '@vmalab/index-rbtree';
import { AddressSpace, formatMaps } from '@vmalab/mm';
import { strategy as unbatched } from '@vmalab/rmap-unbatched';

const max = Number(process.argv[2] ?? 30000);
const checkpoints = [1000, 2000, 5000, 10000, 20000, 30000].filter((n) => n <= max);

interface Config {
  label: string;
  finder: StrategyDescriptor<'finder'>;
  finderOptions: Record<string, unknown>;
  gaps: 'off' | 'guard' | 'raw';
}
const configs: Config[] = [
  { label: 'linear (≤ 2.4)', finder: linear, finderOptions: {}, gaps: 'off' },
  { label: 'free-area-cache (2.6)', finder: fac, finderOptions: {}, gaps: 'off' },
  { label: 'gap (3.8+, rbtree)', finder: gap, finderOptions: {}, gaps: 'guard' },
];

function run(c: Config): { perPlacement: Map<number, number>; layout: string } {
  const counters = new Counters();
  const inner = c.finder.create(c.finderOptions, counters);
  let cost = 0;
  // Measures the work of each search: the finder's steps and the index visits it causes.
  const finder: UnmappedAreaFinder = {
    name: inner.name,
    find(mm, req) {
      const before = counters.nodesVisited + counters.gapsExamined;
      const r = inner.find(mm, req);
      cost += counters.nodesVisited + counters.gapsExamined - before;
      return r;
    },
    ...(inner.unmapped ? { unmapped: (mm, s, e) => inner.unmapped?.(mm, s, e) } : {}),
    fork: () => inner.fork(),
  };
  const mm = new AddressSpace({
    index: rbtree.create({ gaps: c.gaps, findCache: 'none' }, counters),
    finder,
    rmap: unbatched.create({}, counters),
    counters,
    // The experiment predates THP: no 2 MiB padding of the 8 MiB stacks.
    thp: false,
  });
  const perPlacement = new Map<number, number>();
  for (let i = 1; i <= max; i++) {
    cost = 0;
    const a = mm.mmap(0, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK);
    if (a < 0) throw new Error(`${c.label}: stack ${i} failed (${a})`);
    if (mm.mprotect(a, 4096, PROT_NONE) !== 0) throw new Error(`${c.label}: guard ${i} failed`);
    if (checkpoints.includes(i)) perPlacement.set(i, cost);
  }
  return { perPlacement, layout: formatMaps(mm) };
}

const results = configs.map((c) => ({ c, r: run(c) }));
const first = results[0]?.r.layout;
for (const { c, r } of results) {
  if (r.layout !== first)
    throw new Error(`${c.label} produced a different layout: not interchangeable`);
}
const header = `| stacks (VMAs) | ${results.map(({ c }) => c.label).join(' | ')} |`;
console.log('Work of one placement (nodes visited + gap searches), exact counts:\n');
console.log(header);
console.log(`|---|${results.map(() => '---:').join('|')}|`);
for (const n of checkpoints) {
  console.log(`| ${n} (${2 * n}) | ${results.map(({ r }) => r.perPlacement.get(n)).join(' | ')} |`);
}
