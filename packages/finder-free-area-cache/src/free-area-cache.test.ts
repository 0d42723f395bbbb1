import {
  Counters,
  ENOMEM,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  type MmView,
  PROT_READ,
  PROT_WRITE,
  type RmapLocker,
  TASK_SIZE,
  TASK_UNMAPPED_BASE,
  type UnmappedAreaRequest,
  VM_GROWSDOWN,
  VM_READ,
  Vma,
} from '@vmalab/core';
import { describeUnmappedAreaFinder, ReferenceIndex } from '@vmalab/core/conformance';
import { strategy as list } from '@vmalab/index-list';
import { AddressSpace } from '@vmalab/mm';
import { describe, expect, it } from 'vitest';
import { FreeAreaCacheFinder, HOLE_SIZE_UNKNOWN, strategy } from './index.js';

describeUnmappedAreaFinder(
  'free-area-cache (cachedHoleSize: true, the default)',
  (c) => new FreeAreaCacheFinder(c),
  (c) => new ReferenceIndex(c),
);
describeUnmappedAreaFinder(
  'free-area-cache (cachedHoleSize: false)',
  (c) => new FreeAreaCacheFinder(c, { cachedHoleSize: false }),
  (c) => new ReferenceIndex(c),
);
describeUnmappedAreaFinder(
  'free-area-cache (strategy.create over the list index)',
  (c) => strategy.create({}, c),
  (c) => list.create({}, c),
  { numRuns: 50 },
);

const P = 4096;
const BASE = 100; // TASK_UNMAPPED_BASE, in pages
const TOP = 1000; // mmap_base of the top-down mm, in pages

/** A bottom-up (legacy layout) or top-down mm over a reference index; addresses in pages. */
function mmOf(topDown: boolean, extra: Partial<MmView> = {}): MmView {
  return {
    index: new ReferenceIndex(),
    mmapBase: topDown ? TOP * P : BASE * P,
    legacyBase: BASE * P,
    taskSize: TASK_SIZE,
    mmapMinAddr: 0,
    stackGuardGap: 4 * P,
    topDown,
    ...extra,
  };
}

function map(mm: MmView, startPage: number, endPage: number, flags = VM_READ): Vma {
  const v = new Vma(startPage * P, endPage * P, flags, null, startPage);
  mm.index.insert(v);
  return v;
}

/** munmap of a whole VMA as mm does it: out of the index, then the hook. */
function unmap(mm: MmView, f: FreeAreaCacheFinder, v: Vma): void {
  mm.index.remove(v);
  f.unmapped(mm, v.start, v.end);
}

/** The request mm makes: bottom-up [TASK_UNMAPPED_BASE, high), top-down [PAGE, mmap_base). */
function rq(
  pages: number,
  topDown: boolean,
  extra: Partial<UnmappedAreaRequest> = {},
): UnmappedAreaRequest {
  return {
    length: pages * P,
    low: topDown ? P : BASE * P,
    high: topDown ? TOP * P : 200 * P,
    topDown,
    alignMask: 0,
    alignOffset: 0,
    startGap: 0,
    ...extra,
  };
}

/** Asks `f` and returns the answer in pages (−ENOMEM as is). */
function ask(f: FreeAreaCacheFinder, mm: MmView, req: UnmappedAreaRequest): number {
  const a = f.find(mm, req);
  return a < 0 ? a : a / P;
}

/** The state in pages. */
function state(f: FreeAreaCacheFinder): [number | undefined, number] {
  const { freeAreaCache, cachedHoleSize } = f.state;
  return [
    freeAreaCache === undefined ? undefined : freeAreaCache / P,
    cachedHoleSize === HOLE_SIZE_UNKNOWN ? HOLE_SIZE_UNKNOWN : cachedHoleSize / P,
  ];
}

function counts(c: Counters): number[] {
  return [c.placements, c.gapsExamined, c.nodesVisited, c.cacheHits, c.cacheMisses];
}

describe('bottom-up (arch_get_unmapped_area, §3.2)', () => {
  it('starts at the cache, records the holes it passes, rescans from the base when one may fit', () => {
    const c = new Counters();
    const f = new FreeAreaCacheFinder(c);
    const mm = mmOf(false);
    expect(state(f)).toEqual([undefined, HOLE_SIZE_UNKNOWN]);
    // Holes (pages): [102, 105) of 3 and [110, 112) of 2 above the base.
    map(mm, 100, 102);
    map(mm, 105, 110);
    map(mm, 112, 120);
    // mm_init's hole size ~0: the first request rescans from the base and
    // measures both holes on its way to 120.
    expect(ask(f, mm, rq(4, false))).toBe(120);
    expect(state(f)).toEqual([124, 3]);
    // Four holes examined ([100, 100) is empty), three VMAs stepped over, a miss.
    expect(counts(c)).toEqual([1, 4, 3, 0, 1]);
    map(mm, 120, 124);
    // 5 > 3: no hole below the cache fits, so start at the cache: a hit.
    c.reset();
    expect(ask(f, mm, rq(5, false))).toBe(124);
    expect(state(f)).toEqual([129, 3]);
    expect(counts(c)).toEqual([1, 1, 0, 1, 0]);
    map(mm, 124, 129);
    // 2 ≤ 3: a hole below may fit: rescan from the base, hole size reset to 0.
    c.reset();
    expect(ask(f, mm, rq(2, false))).toBe(102);
    expect(state(f)).toEqual([104, 0]);
    expect(counts(c)).toEqual([1, 2, 1, 0, 1]);
    map(mm, 102, 104);
    // Continues at the cache: the rest of that hole.
    expect(ask(f, mm, rq(1, false))).toBe(104);
    map(mm, 104, 105);
    // From the cache on, the 2-page hole above it.
    c.reset();
    expect(ask(f, mm, rq(2, false))).toBe(110);
    expect(state(f)).toEqual([112, 0]);
    expect(counts(c)).toEqual([1, 2, 1, 0, 1]);
  });

  it("cachedHoleSize: false (Molnar's cache) leaves holes below the cache behind", () => {
    const c = new Counters();
    const f = new FreeAreaCacheFinder(c, { cachedHoleSize: false });
    const mm = mmOf(false);
    map(mm, 100, 102);
    map(mm, 105, 110);
    map(mm, 112, 120);
    // The cache starts at TASK_UNMAPPED_BASE.
    expect(ask(f, mm, rq(4, false))).toBe(120);
    expect(state(f)).toEqual([124, HOLE_SIZE_UNKNOWN]);
    map(mm, 120, 124);
    expect(ask(f, mm, rq(5, false))).toBe(124);
    map(mm, 124, 129);
    // The 3-page hole at 102 would do, but the search starts at the cache.
    expect(ask(f, mm, rq(2, false))).toBe(129);
    map(mm, 129, 131);
    // Running off the top of the window: restart once from the base.
    c.reset();
    expect(ask(f, mm, rq(3, false, { high: 133 * P }))).toBe(102);
    expect(state(f)).toEqual([105, HOLE_SIZE_UNKNOWN]);
    expect(counts(c)).toEqual([1, 3, 1, 0, 1]);
    // −ENOMEM only after the restart has covered the whole window.
    c.reset();
    // From the cache: holes at 105, 110, 120, 124, 129, 131; then from the
    // base: 100, 102, 110, 120, 124, 129, 131.
    expect(ask(f, mm, rq(4, false, { high: 133 * P }))).toBe(-ENOMEM);
    expect(counts(c)).toEqual([1, 13, 11, 0, 1]);
    expect(state(f)).toEqual([105, HOLE_SIZE_UNKNOWN]);
  });

  it('rounds the candidate inside the hole for alignment and stops holes at guard gaps', () => {
    const f = new FreeAreaCacheFinder(new Counters());
    const mm = mmOf(false);
    expect(ask(f, mm, rq(1, false))).toBe(100);
    map(mm, 100, 101);
    // From the cache (101), rounded up to a 4-page boundary.
    expect(ask(f, mm, rq(1, false, { alignMask: 4 * P - 1 }))).toBe(104);
    expect(state(f)).toEqual([105, 0]);
    map(mm, 104, 105);
    // A stack at 120 keeps its guard gap [116, 120) free: the hole at the
    // cache holds 11 pages, not 12 (and is remembered).
    map(mm, 120, 130, VM_READ | VM_GROWSDOWN);
    expect(ask(f, mm, rq(12, false))).toBe(130);
    expect(state(f)).toEqual([142, 11]);
    // 11 ≤ 11: rescan from the base, which measures [101, 104) on the way.
    expect(ask(f, mm, rq(11, false))).toBe(105);
    expect(state(f)).toEqual([116, 3]);
    map(mm, 105, 116);
    // A start gap (shadow stack): one free page below the mapping, in the
    // 3-page hole found by the rescan.
    expect(ask(f, mm, rq(1, false, { startGap: P }))).toBe(102);
    expect(state(f)).toEqual([103, 0]);
  });
});

describe('bottom-up unmap hook (arch_unmap_area)', () => {
  /** Four 10-page mappings from the base; cache 140, hole size 0. */
  function fourMaps(f: FreeAreaCacheFinder): { mm: MmView; v: Vma[] } {
    const mm = mmOf(false);
    const v: Vma[] = [];
    for (let i = 0; i < 4; i++) {
      const a = ask(f, mm, rq(10, false));
      v.push(map(mm, a, a + 10));
    }
    expect(v.map((x) => x.start / P)).toEqual([100, 110, 120, 130]);
    expect(state(f)).toEqual([140, f.tracksHoles ? 0 : HOLE_SIZE_UNKNOWN]);
    return { mm, v };
  }

  it("moves the cache down to the hole's lower boundary and forgets the hole size", () => {
    const f = new FreeAreaCacheFinder(new Counters());
    const { mm, v } = fourMaps(f);
    // A hole at [110, 120): prev->vm_end = 110.
    unmap(mm, f, v[1] as Vma);
    expect(state(f)).toEqual([110, HOLE_SIZE_UNKNOWN]);
    // Its neighbour goes too: the hole [110, 130) still starts at 110.
    unmap(mm, f, v[2] as Vma);
    expect(state(f)).toEqual([110, HOLE_SIZE_UNKNOWN]);
    // Unknown hole size: any request rescans from the base (and fills the hole).
    const c = f.counters;
    c.reset();
    expect(ask(f, mm, rq(5, false))).toBe(110);
    expect(state(f)).toEqual([115, 0]);
    expect([c.cacheHits, c.cacheMisses]).toEqual([0, 1]);
  });

  it('uses the hole boundary, not the freed area: a hole below the freed VMA counts', () => {
    const f = new FreeAreaCacheFinder(new Counters());
    const { mm, v } = fourMaps(f);
    unmap(mm, f, v[3] as Vma); // [130, 140): cache 130
    expect(state(f)).toEqual([130, HOLE_SIZE_UNKNOWN]);
    mm.index.remove(v[1] as Vma); // a hole [110, 120) the finder was not told about
    unmap(mm, f, v[2] as Vma); // the hole is now [110, 140)
    expect(state(f)[0]).toBe(110);
    // 2.6.12 (cachedHoleSize: false) moved the cache to the freed area itself.
    const g = new FreeAreaCacheFinder(new Counters(), { cachedHoleSize: false });
    const m = fourMaps(g);
    unmap(m.mm, g, m.v[3] as Vma);
    m.mm.index.remove(m.v[1] as Vma);
    unmap(m.mm, g, m.v[2] as Vma);
    expect(state(g)).toEqual([120, HOLE_SIZE_UNKNOWN]);
  });

  it('ignores holes at or above the cache and below TASK_UNMAPPED_BASE; no VMA below = the base', () => {
    const f = new FreeAreaCacheFinder(new Counters());
    const { mm, v } = fourMaps(f);
    const low = map(mm, 50, 60); // below the base
    // A hole [200, 210) above the cache: no change.
    const high = map(mm, 200, 210);
    unmap(mm, f, high);
    expect(state(f)).toEqual([140, 0]);
    // The first map goes: prev->vm_end = 60 < TASK_UNMAPPED_BASE, ignored.
    unmap(mm, f, v[0] as Vma);
    expect(state(f)).toEqual([140, 0]);
    // Without any VMA below, the boundary is the base itself.
    mm.index.remove(low);
    unmap(mm, f, v[1] as Vma);
    expect(state(f)).toEqual([100, HOLE_SIZE_UNKNOWN]);
  });

  it('works out the boundary when MAP_FIXED already mapped over the range', () => {
    const f = new FreeAreaCacheFinder(new Counters());
    const { mm, v } = fourMaps(f);
    // mm links the new VMA before calling the hook; the kernel saw the hole first.
    mm.index.remove(v[2] as Vma);
    map(mm, 120, 130);
    f.unmapped(mm, 120 * P, 130 * P);
    expect(state(f)).toEqual([120, HOLE_SIZE_UNKNOWN]);
    // The new range merged with the VMA below it (which then ended at 130).
    const g = new FreeAreaCacheFinder(new Counters());
    const m = fourMaps(g);
    m.mm.index.remove(m.v[3] as Vma);
    m.mm.index.resize(m.v[2] as Vma, 120 * P, 140 * P);
    g.unmapped(m.mm, 130 * P, 140 * P);
    expect(state(g)).toEqual([130, HOLE_SIZE_UNKNOWN]);
  });
});

describe('top-down (arch_get_unmapped_area_topdown, §3.3)', () => {
  it('tries the range below the cache first, then walks down from mmap_base', () => {
    const c = new Counters();
    const f = new FreeAreaCacheFinder(c);
    const mm = mmOf(true);
    // mm_init's ~0: reset to mmap_base, then the fast try at [990, 1000).
    expect(ask(f, mm, rq(10, true))).toBe(990);
    expect(state(f)).toEqual([990, 0]);
    expect(counts(c)).toEqual([1, 1, 0, 1, 0]);
    map(mm, 990, 1000);
    expect(ask(f, mm, rq(5, true))).toBe(985);
    map(mm, 985, 990);
    map(mm, 970, 980); // placed by someone else (MAP_FIXED)
    // [975, 985) is taken: walk from the top; the 5-page hole [980, 985) is
    // rejected and remembered.
    c.reset();
    expect(ask(f, mm, rq(10, true))).toBe(960);
    expect(state(f)).toEqual([960, 5]);
    // Fast try + holes [990, 990), [980, 985), [1, 970); two VMAs stepped over.
    expect(counts(c)).toEqual([1, 4, 2, 0, 1]);
    map(mm, 960, 970);
    // 5 ≤ 5: the cache goes back to mmap_base; the walk finds the hole.
    c.reset();
    expect(ask(f, mm, rq(5, true))).toBe(980);
    expect(state(f)).toEqual([980, 0]);
    expect(counts(c)).toEqual([1, 3, 1, 0, 1]);
  });

  it('a remembered hole above the cache sends a small request back to mmap_base', () => {
    for (const cachedHoleSize of [true, false]) {
      const f = new FreeAreaCacheFinder(new Counters(), { cachedHoleSize });
      const mm = mmOf(true);
      map(mm, 990, 1000);
      map(mm, 970, 985); // a 5-page hole [985, 990) below the top
      expect(ask(f, mm, rq(10, true))).toBe(960);
      map(mm, 960, 970);
      if (cachedHoleSize) {
        expect(state(f)).toEqual([960, 5]);
        // 3 ≤ 5: back to mmap_base; the walk fills the hole.
        expect(ask(f, mm, rq(3, true))).toBe(987);
      } else {
        // Molnar's cache: the fast try below the cache wins; the hole stays.
        expect(state(f)).toEqual([960, HOLE_SIZE_UNKNOWN]);
        expect(ask(f, mm, rq(3, true))).toBe(957);
      }
    }
  });

  it('keeps the stack guard gap in the fast try', () => {
    const f = new FreeAreaCacheFinder(new Counters());
    const mm = mmOf(true);
    map(mm, 1000, 1010, VM_READ | VM_GROWSDOWN); // the stack right above mmap_base
    expect(ask(f, mm, rq(10, true))).toBe(986);
    expect(state(f)).toEqual([986, 0]);
  });

  it('fails over to bottom-up as the kernel did: state reset to (mmap_base, ~0)', () => {
    const c = new Counters();
    const f = new FreeAreaCacheFinder(c);
    const mm = mmOf(true);
    expect(ask(f, mm, rq(10, true))).toBe(990);
    map(mm, 990, 1000);
    expect(state(f)).toEqual([990, 0]);
    expect(ask(f, mm, rq(TOP, true))).toBe(-ENOMEM);
    expect(state(f)).toEqual([TOP, HOLE_SIZE_UNKNOWN]);
    // mm's fallback call: bottom-up from TASK_UNMAPPED_BASE, on the kernel's
    // temporary state; the per-mm state stays as the kernel left it.
    const up = { ...rq(TOP, false), low: 2000 * P, high: TASK_SIZE };
    expect(ask(f, mm, up)).toBe(2000);
    expect(state(f)).toEqual([TOP, HOLE_SIZE_UNKNOWN]);
  });
});

describe('top-down unmap hook (arch_unmap_area_topdown)', () => {
  it('moves the cache up to the start of the VMA above the hole, clamped to mmap_base', () => {
    const f = new FreeAreaCacheFinder(new Counters());
    const mm = mmOf(true);
    const stack = map(mm, 1200, 1300, VM_READ | VM_GROWSDOWN);
    const v: Vma[] = [];
    for (let i = 0; i < 3; i++) {
      const a = ask(f, mm, rq(10, true));
      v.push(map(mm, a, a + 10));
    }
    expect(v.map((x) => x.start / P)).toEqual([990, 980, 970]);
    expect(state(f)).toEqual([970, 0]);
    // The hole [970, 980)'s top (next->vm_start = 980) is above the cache.
    unmap(mm, f, v[2] as Vma);
    expect(state(f)).toEqual([980, 0]);
    // Hole [980, 990) is above the cache: up to 990. The hole size is untouched.
    unmap(mm, f, v[1] as Vma);
    expect(state(f)).toEqual([990, 0]);
    // A hole whose top is not above the cache changes nothing.
    const w = map(mm, 500, 510);
    unmap(mm, f, w);
    expect(state(f)).toEqual([990, 0]);
    // The top VMA goes: the VMA above the hole is the stack (1200), clamped to mmap_base.
    unmap(mm, f, v[0] as Vma);
    expect(state(f)).toEqual([TOP, 0]);
    expect(stack.start).toBe(1200 * P);
    // Without any VMA above the hole: mmap_base.
    const g = new FreeAreaCacheFinder(new Counters());
    const m = mmOf(true);
    const x = map(m, 900, 950);
    expect(ask(g, m, rq(10, true))).toBe(990);
    expect(ask(g, m, rq(100, true))).toBe(800);
    expect(state(g)).toEqual([800, 50]);
    unmap(m, g, x);
    expect(state(g)).toEqual([TOP, 50]);
  });

  it("2.6.12 (cachedHoleSize: false) used the freed area's end, not the hole's top", () => {
    for (const cachedHoleSize of [true, false]) {
      const f = new FreeAreaCacheFinder(new Counters(), { cachedHoleSize });
      const mm = mmOf(true);
      map(mm, 990, 1000);
      const u = map(mm, 950, 960);
      expect(ask(f, mm, rq(50, true))).toBe(900);
      map(mm, 900, 950);
      unmap(mm, f, u); // the hole is now [950, 990)
      expect(state(f)[0]).toBe(cachedHoleSize ? 990 : 960);
    }
  });
});

describe('fork', () => {
  it('copies the per-mm state into an independent finder', () => {
    const c = new Counters();
    const f = new FreeAreaCacheFinder(c);
    const mm = mmOf(false);
    map(mm, 100, 102);
    map(mm, 105, 110);
    expect(ask(f, mm, rq(8, false))).toBe(110);
    const g = f.fork();
    expect(g).not.toBe(f);
    expect(g.state).toEqual(f.state);
    expect(g.counters).toBe(c);
    expect(g.tracksHoles).toBe(true);
    // The child's placements and unmaps leave the parent's state alone.
    expect(ask(g, mm, rq(2, false))).toBe(102);
    expect(state(g)).toEqual([104, 0]);
    mm.index.remove(mm.index.find(105 * P) as Vma);
    g.unmapped(mm, 105 * P, 110 * P);
    expect(state(g)).toEqual([102, HOLE_SIZE_UNKNOWN]);
    expect(state(f)).toEqual([118, 3]);
    expect(new FreeAreaCacheFinder(c, { cachedHoleSize: false }).fork().tracksHoles).toBe(false);
    // A finder that never saw an mm forks as such.
    expect(new FreeAreaCacheFinder(c).fork().state.freeAreaCache).toBeUndefined();
  });
});

describe('inside an AddressSpace', () => {
  const rmap: RmapLocker = {
    name: 'none',
    unlink(vmas) {
      for (const v of vmas) v.file?.iMmap.delete(v);
    },
  };
  const anon = [PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS] as const;

  it('top-down layout: the fallback maps from TASK_UNMAPPED_BASE and leaves the cache at mmap_base', () => {
    const c = new Counters();
    const f = new FreeAreaCacheFinder(c);
    const mmapBase = 64 * 1024 * 1024;
    const mm = new AddressSpace({
      index: list.create({}, c),
      finder: f,
      rmap,
      counters: c,
      mmapBase,
      thp: false,
      verify: true,
    });
    const a = mm.mmap(0, 2 * P, ...anon);
    expect(a).toBe(mmapBase - 2 * P);
    expect(f.state).toEqual({ freeAreaCache: a, cachedHoleSize: 0 });
    // 128 MiB do not fit below mmap_base: mm falls back to bottom-up.
    expect(mm.mmap(0, 128 * 1024 * 1024, ...anon)).toBe(TASK_UNMAPPED_BASE);
    expect(f.state).toEqual({ freeAreaCache: mmapBase, cachedHoleSize: HOLE_SIZE_UNKNOWN });
    // Next request: the unknown hole size resets to mmap_base; the fast try fails, the walk does not.
    expect(mm.mmap(0, P, ...anon)).toBe(a - P);
    // munmap calls the hook: the VMA above the hole is the fallback mapping,
    // far above mmap_base: clamped to mmap_base.
    expect(mm.munmap(a - P, 3 * P)).toBe(0);
    expect(f.state.freeAreaCache).toBe(mmapBase);
  });

  it('bottom-up layout: munmap moves the cache down, MAP_FIXED over a mapping too', () => {
    const c = new Counters();
    const f = new FreeAreaCacheFinder(c);
    const mm = new AddressSpace({
      index: list.create({}, c),
      finder: f,
      rmap,
      counters: c,
      topDown: false,
      thp: false,
      verify: true,
    });
    const B = TASK_UNMAPPED_BASE;
    expect(mm.mmap(0, 4 * P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)).toBe(B);
    expect(mm.mmap(0, 4 * P, ...anon)).toBe(B + 4 * P);
    expect(mm.mmap(0, 4 * P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)).toBe(B + 8 * P);
    expect(f.state).toEqual({ freeAreaCache: B + 12 * P, cachedHoleSize: 0 });
    expect(mm.munmap(B + 5 * P, 2 * P)).toBe(0);
    expect(f.state).toEqual({ freeAreaCache: B + 5 * P, cachedHoleSize: HOLE_SIZE_UNKNOWN });
    expect(mm.mmap(0, 2 * P, ...anon)).toBe(B + 5 * P);
    expect(f.state).toEqual({ freeAreaCache: B + 7 * P, cachedHoleSize: 0 });
    // MAP_FIXED over [B, B + 4P): the old VMA was unmapped first (no VMA below: the base).
    expect(mm.mmap(B, 4 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED)).toBe(
      B,
    );
    expect(f.state).toEqual({ freeAreaCache: B, cachedHoleSize: HOLE_SIZE_UNKNOWN });
  });
});

describe('strategy', () => {
  it('describes the free-area-cache finder and validates its options', () => {
    expect([strategy.role, strategy.name, strategy.kernels]).toEqual([
      'finder',
      'free-area-cache',
      '2.6.x–3.8',
    ]);
    expect(strategy.options.map((o) => [o.name, o.type, o.default])).toEqual([
      ['cachedHoleSize', 'boolean', true],
    ]);
    const c = new Counters();
    expect((strategy.create({}, c) as FreeAreaCacheFinder).tracksHoles).toBe(true);
    expect((strategy.create({ cachedHoleSize: false }, c) as FreeAreaCacheFinder).tracksHoles).toBe(
      false,
    );
    expect(strategy.create({}, c).name).toBe('free-area-cache');
    expect(() => strategy.create({ cachedHoleSize: 'yes' }, c)).toThrow(
      `strategy 'free-area-cache': option 'cachedHoleSize' must be a boolean, got "yes"`,
    );
    expect(() => strategy.create({ policy: 'kernel' }, c)).toThrow(/unknown option 'policy'/);
  });
});
