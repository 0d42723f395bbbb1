/**
 * The 2.4-era find_vma cache, measured: a churn of munmap/mmap pairs (the
 * shape of the maple-tree regression report, scaled down) through the address
 * space over the sorted list, with and without `mmap_cache`, side by side in
 * one process. Both variants must produce the same final layout before
 * anything is timed; the report gives medians, the ratio, and the exact
 * counters per iteration (which do not depend on the machine).
 *
 *   pnpm bench            (all benchmarks)
 *   pnpm --filter @vmalab/benchmarks bench
 */
import { Counters, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, Prng } from '@vmalab/core';
import { strategy as linear } from '@vmalab/finder-linear';
import { strategy as list } from '@vmalab/index-list';
import { AddressSpace, formatMaps } from '@vmalab/mm';
import { strategy as unbatched } from '@vmalab/rmap-unbatched';
import { Bench } from 'tinybench';

const MAPS = 256;
const ITERS = 2000;

function churn(mmapCache: boolean, seed: number): { mm: AddressSpace; counters: Counters } {
  const counters = new Counters();
  const mm = new AddressSpace({
    index: list.create({ mmapCache }, counters),
    finder: linear.create({}, counters),
    rmap: unbatched.create({}, counters),
    counters,
  });
  const rng = new Prng(seed);
  const size = () => Math.ceil((1024 * (rng.int(32) + 1)) / 4096) * 4096;
  const live: { addr: number; len: number }[] = [];
  const map = () => {
    const len = size();
    const addr = mm.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    if (addr < 0) throw new Error(`mmap failed: ${addr}`);
    mm.fault(addr, true); // the program writes its buffer
    return { addr, len };
  };
  for (let i = 0; i < MAPS; i++) live.push(map());
  for (let i = 0; i < ITERS; i++) {
    const k = rng.int(MAPS);
    const m = live[k] as { addr: number; len: number };
    mm.munmap(m.addr, m.len);
    live[k] = map();
  }
  return { mm, counters };
}

// Equal results first: a strategy is only timed if it is interchangeable.
const a = churn(true, 1);
const b = churn(false, 1);
if (formatMaps(a.mm) !== formatMaps(b.mm))
  throw new Error('mmap_cache changed the layout: not interchangeable');

const bench = new Bench({ time: 1000, warmupTime: 200 });
bench.add('list + mmap_cache', () => {
  churn(true, 7);
});
bench.add('list, no cache', () => {
  churn(false, 7);
});
await bench.run();

const rows = bench.tasks.map((t) => {
  const r = t.result;
  if (!r || r.error) throw new Error(`${t.name}: ${r?.error ?? 'no result'}`);
  return {
    name: t.name,
    p50: r.latency.p50 ?? r.latency.mean,
    rme: r.latency.rme,
    n: r.latency.samples.length,
  };
});
const per = (c: Counters) => (k: 'nodesVisited' | 'cacheHits' | 'cacheMisses') =>
  (c[k] / ITERS).toFixed(1);
const [withCache, without] = rows as [(typeof rows)[0], (typeof rows)[0]];
const fmt = (ms: number) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(1)} µs`);
console.log(
  `${MAPS} maps, ${ITERS} munmap+mmap iterations per run (median of n runs, ± relative margin of error)\n`,
);
for (const r of rows)
  console.log(`${r.name.padEnd(20)} ${fmt(r.p50).padStart(10)} ±${r.rme.toFixed(1)}%  n=${r.n}`);
console.log(`\nratio (no cache / cache): ${(without.p50 / withCache.p50).toFixed(2)}×`);
console.log('\ncounters per iteration (exact):');
console.log(
  `  with cache:    nodesVisited ${per(a.counters)('nodesVisited')}, hits ${per(a.counters)('cacheHits')}, misses ${per(a.counters)('cacheMisses')}`,
);
console.log(`  without cache: nodesVisited ${per(b.counters)('nodesVisited')}`);
