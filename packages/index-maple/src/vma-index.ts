/**
 * The VMA index of Linux 6.1+: `mm->mm_mt`, a maple tree with ALLOC_RANGE
 * (gaps) and, since ~6.3, RCU mode. Each VMA is stored over
 * `[vm_start, vm_end − 1]`; holes are NULL ranges; `map_count` is kept apart.
 *
 * - find_vma = mt_find(addr, ULONG_MAX); vma_next / vma_prev are walks (the
 *   maple tree has no vm_next/vm_prev links: O(log n), not O(1));
 * - insert / remove / resize are stores (vma_iter_store, vma_iter_clear);
 * - findGap = mas_empty_area / mas_empty_area_rev on raw holes (guard gaps
 *   are fixed up by vm_unmapped_area's retry loop in core);
 * - dup = dup_mmap: `__mt_dup` of the whole tree, then one exact-fit store
 *   per copied VMA and a NULL store per VM_DONTCOPY one (6.8+), or — dup
 *   mode `insert` — one store per copied VMA into an empty tree (6.1–6.7).
 */
import type { Counters, GapIndex, Vma } from '@vmalab/core';
import { type DupMode, MAPLE_MAX, MapleTree, type PreallocPolicy } from './maple-tree.js';

export interface MapleVmaIndexOptions {
  /** Default `by-store-type`. */
  prealloc?: PreallocPolicy;
  /** Default `mt-dup`. */
  dup?: DupMode;
  /** MT_FLAGS_USE_RCU (on by default since ~6.3). Default true. */
  rcu?: boolean;
}

function checkRange(op: string, start: number, end: number): void {
  if (
    !(
      Number.isSafeInteger(start) &&
      Number.isSafeInteger(end) &&
      start >= 0 &&
      start < end &&
      end - 1 <= MAPLE_MAX
    )
  ) {
    throw new Error(`maple: ${op}: bad range [${start}, ${end})`);
  }
}

export class MapleVmaIndex implements GapIndex {
  readonly name = 'maple';
  readonly gapKind = 'raw' as const;
  readonly tree: MapleTree<Vma>;
  private _count = 0;
  /** Fault injection for the next dup: the child's slab fails after this many nodes. */
  private dupBudget: number | undefined;

  constructor(
    readonly counters: Counters,
    readonly options: Readonly<MapleVmaIndexOptions> = {},
  ) {
    this.tree = new MapleTree<Vma>({
      allocRange: true,
      rcu: options.rcu ?? true,
      prealloc: options.prealloc ?? 'by-store-type',
      dup: options.dup ?? 'mt-dup',
      counters,
    });
  }

  get count(): number {
    return this._count;
  }

  /**
   * Two NULL stores are deferred, because Linux never makes them:
   * - a shrink's: split (__split_vma) shrinks a VMA and then inserts the new
   *   one over exactly the part it gave up, ONE store (the old entry still
   *   covers that part until the new one overwrites it);
   * - a removal's (`pendRemoved`): a merge on both sides removes the next
   *   VMA and expands the previous one over it, and vma_expand's one store
   *   of the grown range overwrites the removed VMA.
   * Every other call, and `sync()` at the end of the mm operation, first
   * makes the NULL store: a store is never saved across two operations.
   */
  private pendFirst = -1;
  private pendLast = -1;
  private pendRemoved = false;

  private flush(): void {
    if (this.pendFirst < 0) return;
    const f = this.pendFirst;
    const l = this.pendLast;
    this.pendFirst = this.pendLast = -1;
    this.pendRemoved = false;
    const r = this.tree.store(f, l, null);
    if (r < 0) throw new Error(`maple: clearing [${f}, ${l}]: error ${r}`);
  }

  /**
   * A new VMA iterator: the deferred NULL store, if any, is made now, and the
   * tree's walk state is dropped (the next call walks from the root).
   */
  sync(): void {
    this.flush();
    this.tree.resetWalk();
  }

  find(addr: number): Vma | undefined {
    this.flush();
    return this.tree.find(addr);
  }

  next(vma: Vma): Vma | undefined {
    this.flush();
    return this.tree.find(vma.end);
  }

  prev(vma: Vma): Vma | undefined {
    this.flush();
    return vma.start === 0 ? undefined : this.tree.findRev(vma.start - 1);
  }

  first(): Vma | undefined {
    this.flush();
    return this.tree.find(0);
  }

  last(): Vma | undefined {
    this.flush();
    return this.tree.findRev(MAPLE_MAX);
  }

  insert(vma: Vma): void {
    checkRange('insert', vma.start, vma.end);
    if (vma.node === this) throw new Error(`maple: insert ${vma}: already in this index`);
    if (this.pendFirst === vma.start && this.pendLast === vma.end - 1) {
      // The second half of a split: one store over the shrunk VMA's old part.
      this.pendFirst = this.pendLast = -1;
      this.pendRemoved = false;
      this.must(this.tree.store(vma.start, vma.end - 1, vma), 'insert', vma);
      vma.node = this;
      this._count++;
      return;
    }
    this.flush();
    const r = this.tree.insert(vma.start, vma.end - 1, vma);
    if (r < 0)
      throw new Error(`maple: insert ${vma}: ${r === -17 ? 'range is not free' : `error ${r}`}`);
    vma.node = this;
    this._count++;
  }

  remove(vma: Vma): void {
    this.own(vma, 'remove');
    this.flush();
    // Deferred (see pendRemoved): the next operation stores the NULL, or a
    // neighbour's expansion overwrites the range.
    this.pendFirst = vma.start;
    this.pendLast = vma.end - 1;
    this.pendRemoved = true;
    vma.node = null;
    this._count--;
  }

  /**
   * vma_expand / vma_shrink: NULL over what the VMA gives up, then (if it
   * grows) one store of its whole new range.
   */
  resize(vma: Vma, start: number, end: number): void {
    checkRange('resize', start, end);
    this.own(vma, 'resize');
    const t = this.tree;
    const grows = start < vma.start || end > vma.end;
    // A removed VMA inside the grown part is overwritten by the grow's store.
    const absorbs = grows && this.pendRemoved && this.pendFirst >= start && this.pendLast < end;
    if (!absorbs) this.flush();
    if (grows) {
      const clash =
        (start < vma.start && this.occupied(start, Math.min(vma.start, end) - 1)) ||
        (end > vma.end && this.occupied(Math.max(vma.end, start), end - 1));
      if (clash) throw new Error(`maple: resize ${vma} to [${start}, ${end}): space is not free`);
    }
    if (absorbs) this.pendFirst = this.pendLast = -1;
    this.pendRemoved = false;
    const headGone = start > vma.start;
    const tailGone = end < vma.end;
    if (!grows && headGone !== tailGone) {
      // A pure shrink on one side (a split's first half): deferred.
      this.pendFirst = headGone ? vma.start : end;
      this.pendLast = headGone ? start - 1 : vma.end - 1;
    } else {
      if (headGone)
        this.must(t.store(vma.start, Math.min(start, vma.end) - 1, null), 'resize', vma);
      if (tailGone) this.must(t.store(Math.max(end, vma.start), vma.end - 1, null), 'resize', vma);
      if (grows) this.must(t.store(start, end - 1, vma), 'resize', vma);
    }
    vma.start = start;
    vma.end = end;
  }

  /**
   * exit_mmap (6.1+): remove_vma for each VMA along the tree (vma_next), then
   * __mt_destroy frees every node at once — no NULL store per VMA, no
   * rebalancing. A deferred NULL store is dropped with the tree.
   */
  clear(): void {
    this.pendFirst = this.pendLast = -1;
    this.pendRemoved = false;
    this.tree.forEach((v) => {
      if (v.node === this) v.node = null;
    });
    this.tree.destroy();
    this._count = 0;
  }

  [Symbol.iterator](): Iterator<Vma> {
    this.flush();
    return this.tree.values();
  }

  /** The next dup's child tree fails to allocate after `n` nodes (fault injection). */
  failDupAfter(n: number | undefined): void {
    this.dupBudget = n;
  }

  dup(copy: (v: Vma) => Vma | null): MapleVmaIndex {
    this.flush();
    const child = new MapleVmaIndex(this.counters, this.options);
    const ct = child.tree;
    ct.failAllocAfter(this.dupBudget);
    this.dupBudget = undefined;
    const structural = ct.dupMode === 'mt-dup';
    // The child is not visible to anyone yet: no RCU while it is built.
    ct.rcu = false;
    let lastEnd = 0;
    try {
      if (structural) {
        if (this.tree.dupInto(ct) < 0) throw new Error('maple: dup: ENOMEM (__mt_dup)');
      } else if (ct.bulkBegin(this._count) < 0) {
        throw new Error('maple: dup: ENOMEM (mas_expected_entries)');
      }
      // Each VMA's range is exactly [v.start, v.end − 1] (validate() checks it).
      this.tree.forEach((v) => {
        const first = v.start;
        const last = v.end - 1;
        const c = copy(v);
        if (c === null) {
          if (structural && ct.store(first, last, null) < 0) throw new Error('maple: dup: ENOMEM');
          return;
        }
        checkRange('dup', c.start, c.end);
        c.node = child;
        if (structural && c.start === first && c.end - 1 === last) {
          ct.store(first, last, c); // exact fit: needs no node, cannot fail
        } else if (structural) {
          if (ct.store(first, last, null) < 0) throw new Error('maple: dup: ENOMEM');
          if (ct.insert(c.start, c.end - 1, c) < 0)
            throw new Error(`maple: dup: copy ${c} out of place`);
        } else {
          if (c.start < lastEnd) throw new Error(`maple: dup: copy ${c} out of order`);
          if (ct.store(c.start, c.end - 1, c) < 0) throw new Error('maple: dup: ENOMEM');
        }
        lastEnd = c.end;
        child._count++;
      });
      if (ct.bulkEnd() < 0) throw new Error('maple: dup: ENOMEM (bulk rebalance)');
    } catch (e) {
      ct.bulkEnd();
      ct.destroy();
      throw e;
    }
    ct.rcu = this.tree.rcu;
    ct.failAllocAfter(undefined);
    return child;
  }

  findGap(length: number, low: number, high: number, topDown: boolean): number | undefined {
    this.flush();
    if (!(length > 0) || high - low < length) return undefined;
    const r = topDown
      ? this.tree.emptyAreaRev(low, high - 1, length)
      : this.tree.emptyArea(low, high - 1, length);
    return r < 0 ? undefined : r;
  }

  validate(): void {
    this.flush();
    this.tree.validate();
    let n = 0;
    const t = this.tree;
    t.forEach((v) => {
      if (v.start !== t.foundFirst || v.end - 1 !== t.foundLast || v.node !== this) {
        throw new Error(`maple: ${v} is stored over [${t.foundFirst}, ${t.foundLast}]`);
      }
      n++;
    });
    if (n !== this._count)
      throw new Error(`maple: map_count ${this._count} but ${n} VMAs in the tree`);
  }

  /** Is an entry stored in [first, last] — the removed VMA pending its NULL store aside? */
  private occupied(first: number, last: number): boolean {
    const t = this.tree;
    if (t.find(first, last) === undefined) return false;
    if (!this.pendRemoved || t.foundFirst !== this.pendFirst) return true;
    return this.pendLast < last && t.find(this.pendLast + 1, last) !== undefined;
  }

  /** The index marks its VMAs (vma.node), so ownership is checked without a walk. */
  private own(vma: Vma, op: string): void {
    if (vma.node !== this) throw new Error(`maple: ${op}: ${vma} is not in this index`);
  }

  private must(r: number, op: string, vma: Vma): void {
    if (r < 0) throw new Error(`maple: ${op} ${vma}: error ${r}`);
  }
}
