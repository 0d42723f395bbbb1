/**
 * Wander's measurements (2.6.12-rc4 vs 2.6.13, kernel-facts §3.4, §12.4),
 * redone on counts rather than time, through a bottom-up (legacy, 32-bit
 * style) AddressSpace:
 * - a leak-style allocate/free pattern in the spirit of his "leakme":
 *   Molnar's cache alone leaves holes behind the cache and fragments the
 *   address space; cached_hole_size brings it back to first fit;
 * - thread creation (test_str02): 8 MiB stacks with a PROT_NONE guard page,
 *   2 VMAs per thread: the cache keeps the walk per placement flat, the
 *   cacheless linear walk grows with the number of threads.
 *
 * Each finder gets its own Counters, so `nodesVisited` is the finder's walk
 * alone: the list index counts its own find_vma walks from the head (O(n) on
 * a list; 2.6 had the rbtree) into the address space's counters.
 */
import {
  Counters,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_STACK,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  Prng,
  type RmapLocker,
  type UnmappedAreaFinder,
} from '@vmalab/core';
import { strategy as linear } from '@vmalab/finder-linear';
import { strategy as list } from '@vmalab/index-list';
import { AddressSpace } from '@vmalab/mm';
import { describe, expect, it } from 'vitest';
import { FreeAreaCacheFinder } from './index.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

const rmap: RmapLocker = {
  name: 'none',
  unlink(vmas) {
    for (const v of vmas) v.file?.iMmap.delete(v);
  },
};

interface Config {
  label: string;
  make: (c: Counters) => UnmappedAreaFinder;
}

const CONFIGS: readonly Config[] = [
  { label: 'free-area-cache, cachedHoleSize: true', make: (c) => new FreeAreaCacheFinder(c) },
  {
    label: 'free-area-cache, cachedHoleSize: false',
    make: (c) => new FreeAreaCacheFinder(c, { cachedHoleSize: false }),
  },
  { label: 'linear (no cache)', make: (c) => linear.create({}, c) },
];

/**
 * A legacy-layout address space (bottom-up from TASK_UNMAPPED_BASE) without
 * THP, as in 2.6. In verify mode mm re-checks every finder answer and
 * validates the index after every call (O(n) each: used where n stays small).
 */
function addressSpace(
  finder: (c: Counters) => UnmappedAreaFinder,
  fc: Counters,
  verify: boolean,
): AddressSpace {
  const c = new Counters();
  return new AddressSpace({
    index: list.create({}, c),
    finder: finder(fc),
    rmap,
    counters: c,
    topDown: false,
    thp: false,
    verify,
  });
}

interface LeakResult {
  maps: number;
  holes: number;
  spanPages: number;
  walkPerPlacement: number;
  hitRate: number;
}

/**
 * leakme-style churn: each round maps a big block (8–64 pages) and a small
 * one (1–4 pages), then unmaps the big one and keeps the small one; at most
 * 32 small blocks stay alive (a random one is unmapped when there are more).
 */
function leakme(cfg: Config, seed: number, rounds: number): LeakResult {
  const fc = new Counters();
  const mm = addressSpace(cfg.make, fc, true);
  const rng = new Prng(seed);
  const live: Array<[number, number]> = [];
  for (let i = 0; i < rounds; i++) {
    const bigLen = rng.range(8, 64) * P;
    const big = mm.mmap(0, bigLen, RW, ANON);
    const smallLen = rng.range(1, 4) * P;
    const small = mm.mmap(0, smallLen, RW, ANON);
    if (big < 0 || small < 0) throw new Error(`${cfg.label}: mmap failed in round ${i}`);
    mm.munmap(big, bigLen);
    live.push([small, smallLen]);
    if (live.length > 32) {
      const [a, len] = live.splice(rng.int(live.length), 1)[0] as [number, number];
      mm.munmap(a, len);
    }
  }
  mm.validate();
  const vmas = mm.vmas();
  let holes = 0;
  for (let i = 1; i < vmas.length; i++) {
    if ((vmas[i]?.start ?? 0) > (vmas[i - 1]?.end ?? 0)) holes++;
  }
  const first = vmas[0];
  const last = vmas[vmas.length - 1];
  return {
    maps: vmas.length,
    holes,
    spanPages: first && last ? (last.end - first.start) / P : 0,
    walkPerPlacement: fc.nodesVisited / fc.placements,
    hitRate: fc.cacheHits / fc.placements,
  };
}

interface ThreadResult {
  /** The finder's nodesVisited for each stack's placement. */
  perStack: number[];
  maps: number;
  hits: number;
  /** Index + finder nodesVisited per thread (its mmap and mprotect), for comparison. */
  totalPerThread: number;
}

/** test_str02-style: `n` thread stacks of 8 MiB, each with a PROT_NONE guard page at the bottom. */
function threads(cfg: Config, n: number): ThreadResult {
  const fc = new Counters();
  const mm = addressSpace(cfg.make, fc, false);
  const perStack: number[] = [];
  for (let i = 0; i < n; i++) {
    const before = fc.nodesVisited;
    const a = mm.mmap(0, 8 * 1024 * 1024, RW, ANON | MAP_STACK);
    if (a < 0) throw new Error(`${cfg.label}: stack ${i} failed`);
    perStack.push(fc.nodesVisited - before);
    if (mm.mprotect(a, P, PROT_NONE) !== 0) throw new Error(`${cfg.label}: guard ${i} failed`);
  }
  mm.validate();
  return {
    perStack,
    maps: mm.mapCount,
    hits: fc.cacheHits,
    totalPerThread: (mm.counters.nodesVisited + fc.nodesVisited) / n,
  };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

function fmt(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

describe("Wander's effect (counts, bottom-up layout)", () => {
  it('leakme: without cached_hole_size the cache fragments the address space', () => {
    const seeds = [1, 2, 3, 4];
    const rounds = 5000;
    const rows: string[] = [
      `leakme-style churn, ${rounds} rounds, live set ≤ 32 small blocks (mean of seeds ${seeds.join(', ')}; per seed in brackets)`,
      '| finder | maps (VMAs) | holes between VMAs | span (pages) | walk / placement | cache hits |',
      '|---|---|---|---|---|---|',
    ];
    const results = CONFIGS.map((cfg) => seeds.map((s) => leakme(cfg, s, rounds)));
    CONFIGS.forEach((cfg, i) => {
      const r = results[i] as LeakResult[];
      const col = (f: (x: LeakResult) => number, pct = false): string => {
        const m = mean(r.map(f));
        const each = r.map((x) => fmt(f(x))).join(', ');
        return pct ? `${(m * 100).toFixed(1)} %` : `${fmt(m)} [${each}]`;
      };
      rows.push(
        `| ${cfg.label} | ${col((x) => x.maps)} | ${col((x) => x.holes)} | ${col((x) => x.spanPages)} | ${col((x) => x.walkPerPlacement)} | ${col((x) => x.hitRate, true)} |`,
      );
    });
    console.log(rows.join('\n'));
    const [withHoles, without] = results as [LeakResult[], LeakResult[], LeakResult[]];
    seeds.forEach((_, i) => {
      const a = withHoles[i] as LeakResult;
      const b = without[i] as LeakResult;
      expect(b.maps).toBeGreaterThanOrEqual(1.5 * a.maps);
      expect(b.holes).toBeGreaterThanOrEqual(1.5 * a.holes);
      expect(b.spanPages).toBeGreaterThanOrEqual(3 * a.spanPages);
    });
    expect(mean(without.map((x) => x.maps))).toBeGreaterThanOrEqual(
      2 * mean(withHoles.map((x) => x.maps)),
    );
  });

  it('thread stacks: the cache keeps the walk per placement flat, the linear walk grows', () => {
    const n = 2000;
    const block = 500;
    const rows: string[] = [
      `${n} thread stacks of 8 MiB + a PROT_NONE guard page; finder nodesVisited per placement`,
      `| finder | ${Array.from({ length: n / block }, (_, i) => `stacks ${i * block}–${(i + 1) * block - 1}`).join(' | ')} | max | cache hits | VMAs | index + finder nodesVisited per thread (mmap + mprotect) |`,
      `|---|${'---|'.repeat(n / block + 4)}`,
    ];
    const results = CONFIGS.map((cfg) => threads(cfg, n));
    CONFIGS.forEach((cfg, i) => {
      const r = results[i] as ThreadResult;
      const blocks = Array.from({ length: n / block }, (_, b) =>
        fmt(mean(r.perStack.slice(b * block, (b + 1) * block))),
      );
      rows.push(
        `| ${cfg.label} | ${blocks.join(' | ')} | ${Math.max(...r.perStack)} | ${r.hits} | ${r.maps} | ${fmt(r.totalPerThread)} |`,
      );
    });
    console.log(rows.join('\n'));
    const [withHoles, without, lin] = results as [ThreadResult, ThreadResult, ThreadResult];
    for (const r of [withHoles, without]) {
      expect(r.maps).toBe(2 * n);
      // Constant-bounded: the stack goes right at the cache.
      expect(Math.max(...r.perStack)).toBeLessThanOrEqual(1);
      expect(r.hits).toBeGreaterThanOrEqual(n - 1);
    }
    // The linear walk steps over every VMA above the base: 2 per earlier thread.
    lin.perStack.forEach((visited, i) => {
      expect(visited).toBe(2 * i);
    });
    const firstBlock = mean(lin.perStack.slice(0, block));
    const lastBlock = mean(lin.perStack.slice(n - block));
    expect(lastBlock).toBeGreaterThan(5 * firstBlock);
  });
});
