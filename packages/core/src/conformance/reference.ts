/**
 * Trivially correct reference implementations and oracles, used by the
 * conformance suites and reusable by any test.
 *
 * Everything here is written to be obviously right rather than fast: a plain
 * sorted array, linear scans, no caching. Nothing here imports vitest or
 * fast-check, so tests and tools may use it on its own.
 */
import { Counters } from '../counters.js';
import { ENOMEM } from '../errno.js';
import type {
  GapIndex,
  MmView,
  RmapLocker,
  UnmappedAreaFinder,
  UnmappedAreaRequest,
} from '../interfaces.js';
import { isPageAligned, modAlign, PAGE_SIZE } from '../layout.js';
import { vmStartGap, vmUnmappedArea } from '../unmapped-area.js';
import { hex, type Vma } from '../vma.js';

/**
 * A `GapIndex` over a sorted array. Every operation is a linear scan; `resize`
 * re-sorts. It counts nothing (its `counters` are accepted for symmetry).
 */
export class ReferenceIndex implements GapIndex {
  readonly gapKind = 'raw' as const;
  readonly name: string = 'reference';
  private vmas: Vma[] = [];

  constructor(readonly counters: Counters = new Counters()) {}

  /** An index holding `vmas` (which must be sorted and disjoint) as they are. */
  static from(vmas: readonly Vma[], counters?: Counters): ReferenceIndex {
    const out = new ReferenceIndex(counters);
    out.vmas = [...vmas];
    out.validate();
    return out;
  }

  get count(): number {
    return this.vmas.length;
  }

  [Symbol.iterator](): Iterator<Vma> {
    return this.vmas.slice()[Symbol.iterator]();
  }

  find(addr: number): Vma | undefined {
    return this.vmas.find((v) => v.end > addr);
  }

  next(vma: Vma): Vma | undefined {
    return this.vmas[this.indexOf(vma) + 1];
  }

  prev(vma: Vma): Vma | undefined {
    const i = this.indexOf(vma);
    return i === 0 ? undefined : this.vmas[i - 1];
  }

  first(): Vma | undefined {
    return this.vmas[0];
  }

  last(): Vma | undefined {
    return this.vmas[this.vmas.length - 1];
  }

  insert(vma: Vma): void {
    if (this.vmas.includes(vma)) {
      throw new Error(`reference: insert: ${vma} is already in the index`);
    }
    checkBounds('insert', vma.start, vma.end);
    const clash = this.vmas.find((v) => v.start < vma.end && vma.start < v.end);
    if (clash) throw new Error(`reference: insert: ${vma} overlaps ${clash}`);
    this.vmas.push(vma);
    this.vmas.sort((a, b) => a.start - b.start);
  }

  remove(vma: Vma): void {
    this.vmas.splice(this.indexOf(vma), 1);
  }

  resize(vma: Vma, start: number, end: number): void {
    this.indexOf(vma);
    checkBounds('resize', start, end);
    const clash = this.vmas.find((v) => v !== vma && v.start < end && start < v.end);
    if (clash) throw new Error(`reference: resize: [${hex(start)}, ${hex(end)}) overlaps ${clash}`);
    vma.start = start;
    vma.end = end;
    this.vmas.sort((a, b) => a.start - b.start);
  }

  dup(copy: (v: Vma) => Vma | null): ReferenceIndex {
    const copies: Vma[] = [];
    for (const v of this.vmas) {
      const c = copy(v);
      if (c !== null) copies.push(c);
    }
    const out = new ReferenceIndex(this.counters);
    out.vmas = copies;
    return out;
  }

  validate(): void {
    let prev: Vma | undefined;
    for (const v of this.vmas) {
      if (!(v.start < v.end)) throw new Error(`reference: empty or inverted VMA ${v}`);
      if (!isPageAligned(v.start) || !isPageAligned(v.end)) {
        throw new Error(`reference: VMA ${v} is not page aligned`);
      }
      if (prev && prev.end > v.start) {
        throw new Error(`reference: ${prev} and ${v} overlap or are unsorted`);
      }
      prev = v;
    }
  }

  findGap(length: number, low: number, high: number, topDown: boolean): number | undefined {
    return referenceFindGap(this.vmas, length, low, high, topDown);
  }

  private indexOf(vma: Vma): number {
    const i = this.vmas.indexOf(vma);
    if (i < 0) throw new Error(`reference: ${vma} is not in the index`);
    return i;
  }
}

function checkBounds(op: string, start: number, end: number): void {
  if (!(start < end) || start < 0 || !isPageAligned(start) || !isPageAligned(end)) {
    throw new Error(`reference: ${op}: bad range [${hex(start)}, ${hex(end)})`);
  }
}

/** One raw hole between two consecutive VMAs: `[lo, hi)`, `prev`/`next` undefined at the ends. */
export interface Hole {
  lo: number;
  hi: number;
  prev: Vma | undefined;
  next: Vma | undefined;
}

/** The holes of a sorted, non-overlapping VMA list, lowest first; the last one ends at +∞. */
export function holesOf(vmas: readonly Vma[]): Hole[] {
  const out: Hole[] = [];
  let prev: Vma | undefined;
  for (const v of vmas) {
    out.push({ lo: prev ? prev.end : 0, hi: v.start, prev, next: v });
    prev = v;
  }
  out.push({ lo: prev ? prev.end : 0, hi: Number.POSITIVE_INFINITY, prev, next: undefined });
  return out;
}

/**
 * `GapIndex.findGap` by scanning every hole. With `stackGuardGap` the gaps are
 * `'guard'` gaps: a hole below a grows-down VMA ends at its vm_start_gap.
 */
export function referenceFindGap(
  vmas: readonly Vma[],
  length: number,
  low: number,
  high: number,
  topDown: boolean,
  stackGuardGap?: number,
): number | undefined {
  let found: number | undefined;
  for (const h of holesOf(vmas)) {
    const top =
      stackGuardGap !== undefined && h.next
        ? Math.max(h.lo, vmStartGap({ stackGuardGap }, h.next))
        : h.hi;
    const lo = Math.max(h.lo, low);
    const hi = Math.min(top, high);
    if (hi - lo < length) continue;
    if (!topDown) return lo;
    found = hi - length;
  }
  return found;
}

/** The alignment modulus of a request: `alignMask + 1`, at least a page. */
function modulusOf(req: UnmappedAreaRequest): number {
  return Math.max(req.alignMask + 1, PAGE_SIZE);
}
function offsetOf(req: UnmappedAreaRequest): number {
  return req.alignMask === 0 ? 0 : req.alignOffset;
}

/**
 * Why `addr` is not a valid answer to `req` on the layout `vmas` (sorted), or
 * null when it is. Valid means, straight from the definition:
 * - page aligned and `≡ alignOffset (mod alignMask + 1)`;
 * - `[addr − startGap, addr + length)` inside `[max(low, mmapMinAddr), high)`;
 * - no VMA intersects `[addr − startGap, addr + length)`;
 * - the next VMA above keeps its guard gap: `addr + length ≤ vmStartGap(next)`.
 *
 * Only the immediately following VMA's guard gap counts, as in the kernel (a
 * VMA between the mapping and a stack shields it from that stack's gap).
 */
export function placementProblem(
  vmas: readonly Vma[],
  mm: Pick<MmView, 'mmapMinAddr' | 'stackGuardGap'>,
  req: UnmappedAreaRequest,
  addr: number,
): string | null {
  if (!Number.isInteger(addr) || addr < 0) return `${addr} is not a non-negative integer`;
  if (!isPageAligned(addr)) return `${hex(addr)} is not page aligned`;
  const m = modulusOf(req);
  if (modAlign(addr - offsetOf(req), m) !== 0) {
    return `${hex(addr)} is not ≡ ${hex(offsetOf(req))} mod ${hex(m)}`;
  }
  const low = Math.max(req.low, mm.mmapMinAddr);
  const from = addr - req.startGap;
  const to = addr + req.length;
  if (from < low)
    return `${hex(addr)} − startGap ${hex(req.startGap)} is below the window's low ${hex(low)}`;
  if (to > req.high)
    return `${hex(addr)} + length ${hex(req.length)} is above the window's high ${hex(req.high)}`;
  for (const v of vmas) {
    if (v.start < to && from < v.end) {
      return `[${hex(from)}, ${hex(to)}) overlaps the VMA ${v}`;
    }
    if (v.start >= to) {
      const g = vmStartGap(mm, v);
      if (g < to)
        return `[${hex(addr)}, ${hex(to)}) ends inside the guard gap of ${v} (from ${hex(g)})`;
      break;
    }
  }
  return null;
}

/** The hole-local window `[lo, hi)` where a request's `[addr − startGap, addr + length)` must lie. */
function usable(
  h: Hole,
  mm: Pick<MmView, 'mmapMinAddr' | 'stackGuardGap'>,
  req: UnmappedAreaRequest,
) {
  return {
    lo: Math.max(h.lo, req.low, mm.mmapMinAddr),
    hi: Math.min(h.next ? vmStartGap(mm, h.next) : Number.POSITIVE_INFINITY, req.high),
  };
}

/** The lowest valid answer to `req` on `vmas` (sorted), or undefined when none exists. */
export function lowestPlacement(
  vmas: readonly Vma[],
  mm: Pick<MmView, 'mmapMinAddr' | 'stackGuardGap'>,
  req: UnmappedAreaRequest,
): number | undefined {
  const m = modulusOf(req);
  const off = offsetOf(req);
  for (const h of holesOf(vmas)) {
    const { lo, hi } = usable(h, mm, req);
    const x = lo + req.startGap;
    const a = x + modAlign(off - x, m);
    if (a + req.length <= hi) return a;
  }
  return undefined;
}

/** The highest valid answer to `req` on `vmas` (sorted), or undefined when none exists. */
export function highestPlacement(
  vmas: readonly Vma[],
  mm: Pick<MmView, 'mmapMinAddr' | 'stackGuardGap'>,
  req: UnmappedAreaRequest,
): number | undefined {
  const m = modulusOf(req);
  const off = offsetOf(req);
  let found: number | undefined;
  for (const h of holesOf(vmas)) {
    const { lo, hi } = usable(h, mm, req);
    if (hi === Number.POSITIVE_INFINITY) continue; // high is finite, so this cannot happen
    const x = hi - req.length;
    const a = x - modAlign(x - off, m);
    if (x >= 0 && a - req.startGap >= lo) found = a;
  }
  return found;
}

/**
 * What Linux 6.x answers (core's `vmUnmappedArea`, the kernel's search loop,
 * over a raw hole scan of `vmas`): valid, but not always the lowest / highest
 * valid address — it over-reserves `length + alignMask + startGap`, and its
 * guard-gap retry can skip holes. −ENOMEM as a number.
 */
export function kernelPlacement(
  vmas: readonly Vma[],
  mm: MmView,
  req: UnmappedAreaRequest,
): number {
  const view: MmView = { ...mm, index: ReferenceIndex.from(vmas) };
  return vmUnmappedArea(view, req, (length, low, high, topDown) =>
    referenceFindGap(vmas, length, low, high, topDown),
  );
}

/**
 * A finder that answers with the lowest (bottom-up) or highest (top-down)
 * valid address by scanning every hole of `mm.index`. Stateless.
 */
export class ReferenceFinder implements UnmappedAreaFinder {
  readonly name: string = 'reference';

  constructor(readonly counters: Counters = new Counters()) {}

  find(mm: MmView, req: UnmappedAreaRequest): number {
    const vmas = [...mm.index];
    const a = req.topDown ? highestPlacement(vmas, mm, req) : lowestPlacement(vmas, mm, req);
    return a ?? -ENOMEM;
  }

  fork(): ReferenceFinder {
    return new ReferenceFinder(this.counters);
  }
}

/** A finder that answers what Linux 6.x answers (`kernelPlacement`). Stateless. */
export class KernelReferenceFinder implements UnmappedAreaFinder {
  readonly name: string = 'reference-kernel';

  constructor(readonly counters: Counters = new Counters()) {}

  find(mm: MmView, req: UnmappedAreaRequest): number {
    return kernelPlacement([...mm.index], mm, req);
  }

  fork(): KernelReferenceFinder {
    return new KernelReferenceFinder(this.counters);
  }
}

/** unlink_file_vma for each file VMA: one i_mmap write-lock round trip per VMA. */
export class ReferenceRmapLocker implements RmapLocker {
  readonly name: string = 'reference';

  constructor(readonly counters: Counters = new Counters()) {}

  unlink(vmas: Iterable<Vma>): void {
    for (const v of vmas) {
      if (v.file === null) continue;
      v.file.iMmapRwsem.downWrite();
      v.file.iMmap.delete(v);
      v.file.iMmapRwsem.upWrite();
      this.counters.rmapBatch(1);
    }
  }
}
