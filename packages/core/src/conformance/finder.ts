/**
 * Conformance suite for `UnmappedAreaFinder` (get_unmapped_area's search).
 *
 * Every answer is checked against the layout by definition (`placementProblem`):
 * inside the window (raised to mmap_min_addr), page aligned, aligned as
 * requested, free including `startGap` below it, and ending at or below the
 * guard-adjusted start of the VMA above (VM_GROWSDOWN: `stackGuardGap`,
 * VM_SHADOW_STACK: one page). An −ENOMEM is checked for completeness: no valid
 * placement may exist (found by scanning every hole of the layout).
 *
 * First-fit finders also promise the lowest (bottom-up) or highest (top-down)
 * valid address, and finders that follow Linux 6.x's search loop promise the
 * kernel's answer; `opts.exact` turns those checks on.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Counters } from '../counters.js';
import { ENOMEM } from '../errno.js';
import { VM_GROWSDOWN, VM_READ, VM_SHADOW_STACK, VM_WRITE } from '../flags.js';
import type { MmView, UnmappedAreaFinder, UnmappedAreaRequest, VmaIndex } from '../interfaces.js';
import { PMD_SIZE, TASK_SIZE } from '../layout.js';
import { hex, type Vma } from '../vma.js';
import { fail, mkVma, P, type SuiteOptions, withLog, zoneBase } from './common.js';
import {
  highestPlacement,
  kernelPlacement,
  lowestPlacement,
  placementProblem,
} from './reference.js';

export interface FinderSuiteOptions extends SuiteOptions {
  /**
   * Also require one specific answer, not just a valid one:
   * - `true`: the lowest valid address for bottom-up requests and the highest
   *   for top-down ones (first fit); `'lowest'` / `'highest'`: the same for
   *   bottom-up / top-down requests only;
   * - `'kernel'`: exactly what Linux 6.x answers (`kernelPlacement`: core's
   *   `vmUnmappedArea` loop over the raw holes), −ENOMEM included. The kernel
   *   over-reserves `length + alignMask + startGap` and its guard-gap retry
   *   can skip holes, so this is not always the lowest / highest valid one.
   *
   * Finders that may answer anywhere valid (a free-area cache) leave it off.
   * Default: false.
   */
  exact?: boolean | 'lowest' | 'highest' | 'kernel';
  /**
   * −ENOMEM must mean that no valid placement exists. (Not checked with
   * `exact: 'kernel'`, where the kernel's −ENOMEM is the expected answer.)
   * Default: true.
   */
  complete?: boolean;
  /**
   * The finder over-reserves `length + alignMask` as vm_unmapped_area does,
   * so with an alignment it may miss a hole that fits only at a lucky
   * offset: `exact` and `complete` are then checked only for requests
   * without `alignMask` (validity always is).
   * Default: false.
   */
  alignSlack?: boolean;
  /**
   * Requests per property run (each checked; about half the answers are
   * then mapped, and some VMAs unmapped, as an address space would).
   * Default: 40.
   */
  requests?: number;
}

/**
 * Registers the `UnmappedAreaFinder` conformance tests. `createFinder` and
 * `createIndex` receive the same fresh `Counters` (as an address space would
 * share one); the index holds the layouts the finder is asked about.
 */
export function describeUnmappedAreaFinder(
  name: string,
  createFinder: (counters: Counters) => UnmappedAreaFinder,
  createIndex: (counters: Counters) => VmaIndex,
  opts: FinderSuiteOptions = {},
): void {
  describe(`UnmappedAreaFinder conformance: ${name}`, () => {
    finderUnitCases(createFinder, createIndex, opts);
    finderProperty(createFinder, createIndex, opts);
  });
}

// ---------------------------------------------------------------------------
// Harness: an index, the same layout as a sorted array, and an MmView.

interface MmParams {
  mmapBase?: number;
  legacyBase?: number;
  mmapMinAddr?: number;
  stackGuardGap?: number;
  topDown?: boolean;
}

class Harness {
  readonly index: VmaIndex;
  readonly finder: UnmappedAreaFinder;
  readonly mm: MmView;
  /** The layout, sorted; the VMAs are the ones in `index`. */
  layout: Vma[] = [];

  constructor(
    readonly opts: FinderSuiteOptions,
    finder: UnmappedAreaFinder,
    index: VmaIndex,
    p: MmParams,
  ) {
    this.finder = finder;
    this.index = index;
    this.mm = {
      index,
      mmapBase: p.mmapBase ?? 0x7f0000000000,
      legacyBase: p.legacyBase ?? 0x2aaaaaaab000,
      taskSize: TASK_SIZE,
      mmapMinAddr: p.mmapMinAddr ?? 0x10000,
      stackGuardGap: p.stackGuardGap ?? 256 * P,
      topDown: p.topDown ?? true,
    };
  }

  static create(
    opts: FinderSuiteOptions,
    createFinder: (c: Counters) => UnmappedAreaFinder,
    createIndex: (c: Counters) => VmaIndex,
    p: MmParams = {},
  ): Harness {
    const counters = new Counters();
    return new Harness(opts, createFinder(counters), createIndex(counters), p);
  }

  /** A child address space: the same layout (copied) and `finder`. */
  child(finder: UnmappedAreaFinder): Harness {
    const h = new Harness(
      this.opts,
      finder,
      this.index.dup((v) => v.clone()),
      this.mm,
    );
    h.layout = [...h.index];
    return h;
  }

  map(start: number, end: number, flags = VM_READ | VM_WRITE): Vma {
    const v = mkVma(start, end, flags);
    this.index.insert(v);
    const i = this.layout.findIndex((x) => x.start > start);
    if (i < 0) this.layout.push(v);
    else this.layout.splice(i, 0, v);
    return v;
  }

  unmap(v: Vma): void {
    const { start, end } = v;
    this.index.remove(v);
    this.layout.splice(this.layout.indexOf(v), 1);
    this.finder.unmapped?.(this.mm, start, end);
  }

  describe(req: UnmappedAreaRequest): string {
    const r =
      `length ${hex(req.length)}, window [${hex(req.low)}, ${hex(req.high)}), ` +
      `${req.topDown ? 'top-down' : 'bottom-up'}, alignMask ${hex(req.alignMask)}, ` +
      `alignOffset ${hex(req.alignOffset)}, startGap ${hex(req.startGap)}`;
    const l = this.layout.map((v) => `${v}${flagTag(v)}`).join(' ') || '(empty)';
    return (
      `request {${r}}; mm {mmapMinAddr ${hex(this.mm.mmapMinAddr)}, ` +
      `stackGuardGap ${hex(this.mm.stackGuardGap)}}; layout ${l}`
    );
  }

  /** Asks the finder and checks the answer; returns it. */
  ask(req: UnmappedAreaRequest): number {
    const before = this.layout.map((v) => [v.start, v.end]);
    const a = this.finder.find(this.mm, req);
    const what = (): string =>
      `${this.finder.name}.find answered ${a >= 0 ? hex(a) : a} to ${this.describe(req)}`;
    // The finder may change only its own state.
    this.index.validate();
    let i = 0;
    for (const v of this.index) {
      const b = before[i];
      if (v !== this.layout[i] || b === undefined || v.start !== b[0] || v.end !== b[1]) {
        fail(`${what()}: the finder changed the index (at VMA #${i}, ${v})`);
      }
      i++;
    }
    if (i !== before.length) fail(`${what()}: the finder changed the index's size`);

    const slack = this.opts.alignSlack === true && req.alignMask !== 0;
    const exact = this.opts.exact ?? false;
    if (exact === 'kernel') {
      const want = kernelPlacement(this.layout, this.mm, req);
      if (a !== want) fail(`${what()}: Linux answers ${want >= 0 ? hex(want) : want}`);
    }
    if (a < 0) {
      if (a !== -ENOMEM) fail(`${what()}: a failure must be −ENOMEM`);
      if (this.opts.complete !== false && exact !== 'kernel' && !slack) {
        const ok = lowestPlacement(this.layout, this.mm, req);
        if (ok !== undefined) fail(`${what()}: but ${hex(ok)} is a valid placement`);
      }
      return a;
    }
    const problem = placementProblem(this.layout, this.mm, req, a);
    if (problem !== null) fail(`${what()}: ${problem}`);
    if (!slack && !req.topDown && (exact === true || exact === 'lowest')) {
      const want = lowestPlacement(this.layout, this.mm, req);
      if (a !== want) fail(`${what()}: the lowest valid placement is ${hex(want ?? -1)}`);
    }
    if (!slack && req.topDown && (exact === true || exact === 'highest')) {
      const want = highestPlacement(this.layout, this.mm, req);
      if (a !== want) fail(`${what()}: the highest valid placement is ${hex(want ?? -1)}`);
    }
    return a;
  }
}

function flagTag(v: Vma): string {
  if (v.flags & VM_GROWSDOWN) return 'gd';
  if (v.flags & VM_SHADOW_STACK) return 'ss';
  return '';
}

function req(
  length: number,
  low: number,
  high: number,
  topDown: boolean,
  extra: Partial<UnmappedAreaRequest> = {},
): UnmappedAreaRequest {
  return { length, low, high, topDown, alignMask: 0, alignOffset: 0, startGap: 0, ...extra };
}

// ---------------------------------------------------------------------------
// Unit cases

function finderUnitCases(
  createFinder: (c: Counters) => UnmappedAreaFinder,
  createIndex: (c: Counters) => VmaIndex,
  opts: FinderSuiteOptions,
): void {
  const fresh = (p: MmParams = {}) => Harness.create(opts, createFinder, createIndex, p);
  const exactLow = opts.exact === true || opts.exact === 'lowest';
  const exactHigh = opts.exact === true || opts.exact === 'highest';
  /** Asks, and when the finder is exact, also expects a specific answer. */
  const expectAnswer = (h: Harness, r: UnmappedAreaRequest, want: number) => {
    const got = h.ask(r);
    if ((r.topDown ? exactHigh : exactLow) && !(opts.alignSlack && r.alignMask !== 0)) {
      expect(got, h.describe(r)).toBe(want);
    }
    return got;
  };
  const B = 0x40000000;

  it('has a name', () => {
    expect(typeof fresh().finder.name).toBe('string');
  });

  it('places into an empty address space at the window edge', () => {
    const h = fresh();
    expectAnswer(h, req(P, B, B + 100 * P, false), B);
    expectAnswer(h, req(P, B, B + 100 * P, true), B + 99 * P);
    expectAnswer(h, req(100 * P, B, B + 100 * P, false), B);
    expectAnswer(h, req(100 * P, B, B + 100 * P, true), B);
    expectAnswer(h, req(16 * P, 0x10000, TASK_SIZE, true), TASK_SIZE - 16 * P);
  });

  it('answers −ENOMEM when the window is too small or full', () => {
    const h = fresh();
    expect(h.ask(req(101 * P, B, B + 100 * P, false))).toBe(-ENOMEM);
    expect(h.ask(req(101 * P, B, B + 100 * P, true))).toBe(-ENOMEM);
    h.map(B, B + 50 * P);
    h.map(B + 51 * P, B + 100 * P);
    expect(h.ask(req(2 * P, B, B + 100 * P, false))).toBe(-ENOMEM);
    expect(h.ask(req(2 * P, B, B + 100 * P, true))).toBe(-ENOMEM);
    expectAnswer(h, req(P, B, B + 100 * P, false), B + 50 * P);
    expectAnswer(h, req(P, B, B + 100 * P, true), B + 50 * P);
  });

  it('finds the first / last hole that fits', () => {
    const h = fresh();
    h.map(B, B + P); // hole of 2 pages above
    h.map(B + 3 * P, B + 4 * P); // hole of 5 pages above
    h.map(B + 9 * P, B + 10 * P); // hole of 1 page above
    h.map(B + 11 * P, B + 12 * P);
    const W = [B, B + 12 * P] as const;
    expectAnswer(h, req(P, ...W, false), B + P);
    expectAnswer(h, req(2 * P, ...W, false), B + P);
    expectAnswer(h, req(3 * P, ...W, false), B + 4 * P);
    expectAnswer(h, req(5 * P, ...W, false), B + 4 * P);
    expect(h.ask(req(6 * P, ...W, false))).toBe(-ENOMEM);
    expectAnswer(h, req(P, ...W, true), B + 10 * P);
    expectAnswer(h, req(2 * P, ...W, true), B + 7 * P);
    expectAnswer(h, req(5 * P, ...W, true), B + 4 * P);
    expect(h.ask(req(6 * P, ...W, true))).toBe(-ENOMEM);
    // The window cuts holes.
    expectAnswer(h, req(2 * P, B + 5 * P, B + 12 * P, false), B + 5 * P);
    expectAnswer(h, req(2 * P, B, B + 6 * P, true), B + 4 * P);
    expect(h.ask(req(3 * P, B, B + 6 * P, true))).toBe(-ENOMEM);
  });

  it('keeps the stack guard gap below VM_GROWSDOWN VMAs', () => {
    const h = fresh({ stackGuardGap: 4 * P });
    const S = B + 100 * P;
    h.map(S - 10 * P, S - 9 * P);
    h.map(S, S + 8 * P, VM_READ | VM_WRITE | VM_GROWSDOWN);
    h.map(S + 20 * P, S + 21 * P);
    // Hole [S−9P, S), of which [S−9P, S−4P) is usable.
    expectAnswer(h, req(5 * P, S - 9 * P, S + 30 * P, false), S - 9 * P);
    expectAnswer(h, req(6 * P, S - 9 * P, S + 30 * P, false), S + 8 * P);
    expectAnswer(h, req(2 * P, S - 20 * P, S, true), S - 6 * P);
    expectAnswer(h, req(5 * P, S - 20 * P, S, true), S - 9 * P);
    expect(h.ask(req(5 * P, S - 8 * P, S, false))).toBe(-ENOMEM);
    expect(h.ask(req(P, S - 4 * P, S, true))).toBe(-ENOMEM);
  });

  it('keeps one page below a shadow stack, and no gap when a VMA shields the stack', () => {
    const h = fresh({ stackGuardGap: 16 * P });
    const S = B + 100 * P;
    h.map(S - 4 * P, S - 3 * P);
    h.map(S, S + P, VM_READ | VM_WRITE | VM_SHADOW_STACK);
    expectAnswer(h, req(2 * P, S - 3 * P, S + 10 * P, false), S - 3 * P);
    expectAnswer(h, req(3 * P, S - 3 * P, S + 10 * P, false), S + P);
    expectAnswer(h, req(P, S - 3 * P, S, true), S - 2 * P);
    // A plain VMA directly below a stack takes the stack's gap; the hole below it is whole.
    const g = fresh({ stackGuardGap: 16 * P });
    g.map(S - 2 * P, S - P);
    g.map(S, S + 8 * P, VM_READ | VM_WRITE | VM_GROWSDOWN);
    expectAnswer(g, req(4 * P, S - 40 * P, S, true), S - 6 * P);
    expect(g.ask(req(P, S - P, S + 8 * P, false))).toBe(-ENOMEM);
    // The guard gap is clamped at address 0.
    const z = fresh({ stackGuardGap: 256 * P, mmapMinAddr: 0 });
    z.map(8 * P, 9 * P, VM_READ | VM_WRITE | VM_GROWSDOWN);
    expect(z.ask(req(P, 0, 8 * P, false))).toBe(-ENOMEM);
    expectAnswer(z, req(P, 0, 16 * P, false), 9 * P);
  });

  it('aligns: start ≡ alignOffset (mod alignMask + 1)', () => {
    const h = fresh();
    const M = PMD_SIZE;
    const base = 64 * M;
    h.map(base, base + 3 * P);
    const align = { alignMask: M - 1, alignOffset: 5 * P };
    expectAnswer(h, req(4 * P, base, base + 4 * M, false, align), base + 5 * P);
    expectAnswer(h, req(4 * P, base, base + 4 * M, true, align), base + 3 * M + 5 * P);
    expectAnswer(h, req(M, base, base + 4 * M, false, align), base + 5 * P);
    expectAnswer(h, req(M, base, base + 4 * M, true, align), base + 2 * M + 5 * P);
    // alignOffset above the modulus counts modulo it (pgoff << PAGE_SHIFT of a big file).
    expectAnswer(
      h,
      req(P, base, base + 4 * M, false, { alignMask: M - 1, alignOffset: 7 * M + 2 * P }),
      base + M + 2 * P,
    );
    // A hole that fits the length but not at the required offset.
    const g = fresh();
    g.map(base, base + P);
    g.map(base + 4 * P, base + M);
    const q = req(2 * P, base, base + 2 * M, false, { alignMask: 0x3fff, alignOffset: 0 });
    expectAnswer(g, q, base + M);
    const r = req(2 * P, base, base + 2 * M, false, { alignMask: 0x3fff, alignOffset: 2 * P });
    expectAnswer(g, r, base + 2 * P);
    expect(g.ask({ ...q, high: base + M })).toBe(-ENOMEM);
  });

  it('keeps startGap free below the mapping', () => {
    const h = fresh();
    h.map(B, B + P);
    h.map(B + 2 * P, B + 3 * P); // hole of one page
    h.map(B + 5 * P, B + 6 * P); // hole of two pages
    const sg = { startGap: P };
    expectAnswer(h, req(P, B, B + 20 * P, false, sg), B + 4 * P);
    expectAnswer(h, req(P, B, B + 6 * P, true, sg), B + 4 * P);
    expectAnswer(h, req(P, B, B + 5 * P, true, sg), B + 4 * P);
    expect(h.ask(req(P, B, B + 4 * P, true, sg))).toBe(-ENOMEM);
    expectAnswer(h, req(P, B + 4 * P, B + 20 * P, false, sg), B + 7 * P);
  });

  it('stays at or above mmap_min_addr', () => {
    const h = fresh({ mmapMinAddr: 0x10000 });
    expectAnswer(h, req(P, 0, 0x100000, false), 0x10000);
    expect(h.ask(req(P, 0, 0x10000, true))).toBe(-ENOMEM);
    expectAnswer(h, req(P, 0, 0x11000, true), 0x10000);
  });

  it('works above 2^32 and up to TASK_SIZE', () => {
    const h = fresh({ stackGuardGap: 256 * P });
    const top = TASK_SIZE;
    h.map(top - 4 * P, top - 2 * P);
    h.map(top - 300 * P, top - 200 * P, VM_READ | VM_WRITE | VM_GROWSDOWN);
    h.map(2 ** 32 - P, 2 ** 32 + P);
    expectAnswer(h, req(2 * P, top - 300 * P, top, true), top - 2 * P);
    expectAnswer(h, req(3 * P, top - 300 * P, top, true), top - 7 * P);
    // Below the stack, [top − 600P, top − 556P) is usable: 44 pages.
    expectAnswer(h, req(3 * P, top - 600 * P, top, false), top - 600 * P);
    expectAnswer(h, req(44 * P, top - 600 * P, top, false), top - 600 * P);
    expectAnswer(h, req(45 * P, top - 600 * P, top, false), top - 200 * P);
    expect(h.ask(req(46 * P, top - 600 * P, top - 300 * P, false))).toBe(-ENOMEM);
    expectAnswer(h, req(P, 2 ** 32 - 2 * P, 2 ** 32 + 2 * P, false), 2 ** 32 - 2 * P);
    expectAnswer(h, req(P, 2 ** 32 - 2 * P, 2 ** 32 + 2 * P, true), 2 ** 32 + P);
    expect(h.ask(req(2 * P, 2 ** 32 - 2 * P, 2 ** 32 + 2 * P, true))).toBe(-ENOMEM);
  });

  it('fork() returns an independent finder', () => {
    const parent = fresh();
    const W = [B, B + 2000 * P] as const;
    // Warm the parent's state up.
    for (let i = 0; i < 20; i++) {
      const a = parent.ask(req((1 + (i % 5)) * P, ...W, i % 2 === 0));
      if (a >= 0) parent.map(a, a + (1 + (i % 5)) * P);
    }
    for (let i = 0; i < parent.layout.length; i += 3) parent.unmap(parent.layout[i] as Vma);
    const control = parent.child(parent.finder.fork());
    const child = parent.child(parent.finder.fork());
    expect(child.finder.name).toBe(parent.finder.name);
    // The child works on its own copy of the layout and changes its state.
    for (let i = 0; i < 30; i++) {
      const a = child.ask(req((1 + (i % 7)) * P, ...W, i % 3 !== 0));
      if (a >= 0) child.map(a, a + (1 + (i % 7)) * P);
      if (i % 4 === 0 && child.layout.length > 0) child.unmap(child.layout[0] as Vma);
    }
    // The parent and a control copy taken at fork time must still agree.
    const run = (h: Harness) => {
      const out: number[] = [];
      for (let i = 0; i < 20; i++) {
        const len = (1 + ((i * 3) % 4)) * P;
        const a = h.ask(req(len, ...W, i % 2 === 1));
        out.push(a);
        if (a >= 0) h.map(a, a + len);
        const mid = h.layout[Math.floor(h.layout.length / 2)];
        if (i % 5 === 4 && mid !== undefined) h.unmap(mid);
      }
      return out;
    };
    const fromControl = run(control);
    const fromParent = run(parent);
    expect(fromParent).toEqual(fromControl);
  });
}

// ---------------------------------------------------------------------------
// Property

type Kind = 'plain' | 'growsdown' | 'shadow';
const kindFlags: Record<Kind, number> = {
  plain: VM_READ | VM_WRITE,
  growsdown: VM_READ | VM_WRITE | VM_GROWSDOWN,
  shadow: VM_READ | VM_SHADOW_STACK,
};

const layoutArb = fc.record({
  zone: fc.nat({ max: 2 }),
  guard: fc.constantFrom(0, P, 16 * P, 256 * P),
  minAddr: fc.constantFrom(0, P, 0x10000),
  lead: fc.nat({ max: 64 }),
  vmas: fc.array(
    fc.tuple(
      fc.oneof(fc.constant(0), fc.nat({ max: 4 }), fc.nat({ max: 40 }), fc.nat({ max: 400 })),
      fc.integer({ min: 1, max: 16 }),
      fc.constantFrom<Kind>(
        'plain',
        'plain',
        'plain',
        'plain',
        'plain',
        'growsdown',
        'growsdown',
        'shadow',
      ),
    ),
    { maxLength: 60 },
  ),
});

const reqArb = fc.record({
  topDown: fc.boolean(),
  pages: fc.oneof(
    fc.integer({ min: 1, max: 8 }),
    fc.integer({ min: 1, max: 64 }),
    fc.integer({ min: 1, max: 1024 }),
  ),
  window: fc.nat({ max: 4 }),
  w1: fc.nat({ max: 0xffff }),
  w2: fc.nat({ max: 0xffff }),
  alignMask: fc.constantFrom(0, 0, 0, 0, 0x3fff, 0xffff, PMD_SIZE - 1),
  alignPages: fc.oneof(fc.nat({ max: 15 }), fc.nat({ max: 4096 })),
  startGap: fc.constantFrom(0, 0, 0, 0, 0, P, 4 * P),
  action: fc.nat({ max: 9 }),
  pick: fc.nat({ max: 0xffff }),
});

function finderProperty(
  createFinder: (c: Counters) => UnmappedAreaFinder,
  createIndex: (c: Counters) => VmaIndex,
  opts: FinderSuiteOptions,
): void {
  const numRuns = opts.numRuns ?? 250;
  const n = opts.requests ?? 40;
  it(
    `answers validly${opts.exact ? ' and exactly' : ''} on ${numRuns} random layouts × ${n} requests, ENOMEM only when nothing fits`,
    () => {
      fc.assert(
        fc.property(layoutArb, fc.array(reqArb, { minLength: n, maxLength: n }), (lay, reqs) => {
          // Lay the VMAs out from a base in the chosen zone; the top zone ends at TASK_SIZE.
          const span = lay.vmas.reduce((s, [hole, len]) => s + (hole + len) * P, 0);
          let base = zoneBase(lay.zone) + lay.lead * P;
          if (lay.zone === 2) base = TASK_SIZE - span - lay.lead * P;
          const end = base + span;
          const h = Harness.create(opts, createFinder, createIndex, {
            stackGuardGap: lay.guard,
            mmapMinAddr: lay.minAddr,
            mmapBase: Math.min(TASK_SIZE, end + 64 * P),
            legacyBase: Math.max(0, base - 64 * P),
            topDown: lay.zone !== 0,
          });
          let at = base;
          for (const [hole, len, kind] of lay.vmas) {
            at += hole * P;
            h.map(at, at + len * P, kindFlags[kind]);
            at += len * P;
          }
          const log: string[] = [];
          withLog(log, () => {
            for (const r of reqs) {
              const request = makeRequest(r, h, base, end);
              log.push(h.describe(request).replace(/; layout.*/, ''));
              const a = h.ask(request);
              if (a >= 0 && r.action < 5) {
                const flags =
                  request.startGap > 0
                    ? kindFlags.shadow
                    : r.action === 4
                      ? kindFlags.growsdown
                      : kindFlags.plain;
                h.map(a, a + request.length, flags);
                log.push(`mapped [${hex(a)}, ${hex(a + request.length)})`);
              } else if (r.action >= 5 && r.action < 8 && h.layout.length > 0) {
                const v = h.layout[r.pick % h.layout.length] as Vma;
                log.push(`unmapped ${v}`);
                h.unmap(v);
              }
            }
          });
        }),
        { numRuns, ...(opts.seed === undefined ? {} : { seed: opts.seed }) },
      );
    },
    opts.timeout ?? 60_000,
  );
}

type RandomRequest = typeof reqArb extends fc.Arbitrary<infer T> ? T : never;

function makeRequest(r: RandomRequest, h: Harness, base: number, end: number): UnmappedAreaRequest {
  const length = r.pages * P;
  const extra = { alignMask: r.alignMask, alignOffset: r.alignPages * P, startGap: r.startGap };
  let low: number;
  let high: number;
  if (r.window === 0) {
    // The windows an address space uses.
    if (r.topDown) {
      low = Math.max(P, h.mm.mmapMinAddr);
      high = h.mm.mmapBase;
    } else {
      low = h.mm.legacyBase;
      high = TASK_SIZE;
    }
  } else {
    // A random window around the layout.
    const lo = Math.max(0, base - 64 * P);
    const hi = Math.min(TASK_SIZE, end + 64 * P);
    const pages = (hi - lo) / P;
    low = lo + (r.w1 % pages) * P;
    high = Math.min(hi, low + (1 + (r.w2 % (r.window === 1 ? 64 : pages))) * P);
  }
  return { length, low, high, topDown: r.topDown, ...extra };
}
