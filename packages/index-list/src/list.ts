/**
 * The VMA list of Linux 1.x – 2.4.9: `mm->mmap`, a list of VMAs sorted by
 * address and linked through `vm_next`, with `mm->map_count` and the
 * one-entry `mm->mmap_cache` in front of `find_vma`.
 *
 * Why it is shaped this way:
 * - Linux had a *singly* linked list (`vm_prev` arrived only in 2.6.36, long
 *   after the rbtree). So by default `prev()` and `last()` walk from the head
 *   and `remove()` walks to the predecessor, as `find_vma_prev` and
 *   `do_munmap` did, and each step is counted. `prevLinks: true` adds the
 *   back links and a tail pointer of later kernels, to separate the cost of
 *   the walk in `find` from that of reaching a predecessor.
 * - 2.2 and 2.4.0–2.4.9 also built an AVL tree once `map_count` reached 32;
 *   it is not modelled: this is the list alone, the structure whose O(n)
 *   walks the AVL tree and then the rbtree were added to avoid.
 * - `mmap_cache` holds the last `find` result; a hit needs
 *   `vm_start ≤ addr < vm_end`. Linux cleared it whenever VMAs were unlinked
 *   (`do_munmap`), so `remove` and `resize` clear it; `insert` leaves it.
 * - The core `Vma` class cannot carry `vm_next`, so each VMA gets one `Cell`
 *   (its `vma.node`). Every cell has the same fields, set in the constructor
 *   in one order, so all cells share one hidden class; `prev` exists on every
 *   cell and stays null without `prevLinks` (monomorphic, and visibly unused).
 * - Iteration is a hand-written iterator object, not a generator.
 *
 * Counting: `nodesVisited` = cells dereferenced (reached from the head, a
 * link or the cache does not count); `comparisons` = address comparisons;
 * `cacheHits`/`cacheMisses` when `mmapCache` is on; `nodesAllocated` /
 * `nodesFreed` = cells.
 */
import { type Counters, hex, isPageAligned, type Vma, type VmaIndex } from '@vmalab/core';

export interface ListIndexOptions {
  /** Keep the one-entry find_vma cache (`mm->mmap_cache`). Default: true. */
  mmapCache?: boolean;
  /** Keep back links and a tail pointer (`vm_prev`, 2.6.36+). Default: false. */
  prevLinks?: boolean;
}

/** One list cell: the `vm_next` (and optional `vm_prev`) of one VMA. */
class Cell {
  vma: Vma;
  next: Cell | null;
  prev: Cell | null;
  /** The list this cell is linked into; null once unlinked. */
  owner: ListIndex | null;

  constructor(vma: Vma, next: Cell | null, prev: Cell | null, owner: ListIndex) {
    this.vma = vma;
    this.next = next;
    this.prev = prev;
    this.owner = owner;
  }
}

function linkedCell(vma: Vma): Cell | null {
  const node = vma.node;
  return node instanceof Cell && node.owner !== null ? node : null;
}

export class ListIndex implements VmaIndex {
  readonly name: string = 'list';
  readonly mmapCache: boolean;
  readonly prevLinks: boolean;
  /** mm->mmap */
  private head: Cell | null = null;
  /** Last cell; maintained only with `prevLinks`. */
  private tail: Cell | null = null;
  /** mm->mmap_cache */
  private cache: Cell | null = null;
  /** mm->map_count */
  private n = 0;

  constructor(
    readonly counters: Counters,
    options: ListIndexOptions = {},
  ) {
    this.mmapCache = options.mmapCache ?? true;
    this.prevLinks = options.prevLinks ?? false;
  }

  get count(): number {
    return this.n;
  }

  /** find_vma: the mmap_cache first, then a walk from the head. */
  find(addr: number): Vma | undefined {
    const c = this.counters;
    if (this.mmapCache) {
      const hit = this.cache;
      if (hit !== null) {
        c.comparisons++;
        if (hit.vma.end > addr) {
          c.comparisons++;
          if (hit.vma.start <= addr) {
            c.cacheHits++;
            return hit.vma;
          }
        }
      }
      c.cacheMisses++;
    }
    for (let cell = this.head; cell !== null; cell = cell.next) {
      c.nodesVisited++;
      c.comparisons++;
      if (cell.vma.end > addr) {
        if (this.mmapCache) this.cache = cell;
        return cell.vma;
      }
    }
    return undefined;
  }

  next(vma: Vma): Vma | undefined {
    const next = this.cellOf(vma, 'next').next;
    if (next === null) return undefined;
    this.counters.nodesVisited++;
    return next.vma;
  }

  prev(vma: Vma): Vma | undefined {
    const cell = this.cellOf(vma, 'prev');
    const p = this.prevLinks ? cell.prev : this.walkToPredecessor(cell);
    if (p === null) return undefined;
    if (this.prevLinks) this.counters.nodesVisited++;
    return p.vma;
  }

  first(): Vma | undefined {
    if (this.head === null) return undefined;
    this.counters.nodesVisited++;
    return this.head.vma;
  }

  last(): Vma | undefined {
    if (this.prevLinks) {
      if (this.tail === null) return undefined;
      this.counters.nodesVisited++;
      return this.tail.vma;
    }
    let cell = this.head;
    if (cell === null) return undefined;
    this.counters.nodesVisited++;
    while (cell.next !== null) {
      cell = cell.next;
      this.counters.nodesVisited++;
    }
    return cell.vma;
  }

  /** insert_vm_struct: walk to the first cell ending above `vma.start`, link in front of it. */
  insert(vma: Vma): void {
    checkRange('insert', vma.start, vma.end);
    if (linkedCell(vma) !== null) throw new Error(`list: insert: ${vma} is already in an index`);
    const c = this.counters;
    let prev: Cell | null = null;
    let cur = this.head;
    while (cur !== null) {
      c.nodesVisited++;
      c.comparisons++;
      if (cur.vma.end > vma.start) break;
      prev = cur;
      cur = cur.next;
    }
    if (cur !== null) {
      c.comparisons++;
      if (cur.vma.start < vma.end) throw new Error(`list: insert: ${vma} overlaps ${cur.vma}`);
    }
    const cell = new Cell(vma, cur, this.prevLinks ? prev : null, this);
    if (prev === null) this.head = cell;
    else prev.next = cell;
    if (this.prevLinks) {
      if (cur === null) this.tail = cell;
      else cur.prev = cell;
    }
    vma.node = cell;
    this.n++;
    c.nodesAllocated++;
  }

  /** Unlinks `vma` (do_munmap's unlink, which also killed mmap_cache). */
  remove(vma: Vma): void {
    const cell = this.cellOf(vma, 'remove');
    const prev = this.prevLinks ? cell.prev : this.walkToPredecessor(cell);
    const next = cell.next;
    if (prev === null) this.head = next;
    else prev.next = next;
    if (this.prevLinks) {
      if (next === null) this.tail = prev;
      else next.prev = prev;
    }
    cell.next = null;
    cell.prev = null;
    cell.owner = null;
    vma.node = null;
    this.cache = null;
    this.n--;
    this.counters.nodesFreed++;
  }

  /**
   * exit_mmap: the list is dropped whole (mm->mmap = NULL) and each cell is
   * freed on a walk along vm_next — one visit per VMA, no unlinking.
   */
  clear(): void {
    let visited = 0;
    for (let cell = this.head; cell !== null; ) {
      const next = cell.next;
      visited++;
      cell.next = null;
      cell.prev = null;
      cell.owner = null;
      cell.vma.node = null;
      cell = next;
    }
    this.head = this.tail = this.cache = null;
    this.n = 0;
    this.counters.nodesVisited += visited;
    this.counters.nodesFreed += visited;
  }

  /**
   * Changes the bounds in place. The VMA must stay between its neighbours
   * (it cannot change places in the list), as every kernel resize does.
   */
  resize(vma: Vma, start: number, end: number): void {
    checkRange('resize', start, end);
    const cell = this.cellOf(vma, 'resize');
    const c = this.counters;
    const next = cell.next;
    if (next !== null) {
      c.comparisons++;
      if (end > next.vma.start) {
        throw new Error(`list: resize: ${range(start, end)} overlaps ${next.vma}`);
      }
    }
    if (start < vma.start) {
      const prev = this.prevLinks ? cell.prev : this.walkToPredecessor(cell);
      if (prev !== null) {
        c.comparisons++;
        if (prev.vma.end > start) {
          throw new Error(`list: resize: ${range(start, end)} overlaps ${prev.vma}`);
        }
      }
    }
    vma.start = start;
    vma.end = end;
    this.cache = null;
  }

  [Symbol.iterator](): Iterator<Vma> {
    let cell = this.head;
    const counters = this.counters;
    return {
      next(): IteratorResult<Vma> {
        if (cell === null) return { done: true, value: undefined };
        counters.nodesVisited++;
        const vma = cell.vma;
        cell = cell.next;
        return { done: false, value: vma };
      },
    };
  }

  /**
   * dup_mmap's walk: copy each VMA in list order and append it to the new
   * list (the new list is built through its tail, so this is O(n)). Nothing
   * is committed until every copy succeeded.
   */
  dup(copy: (v: Vma) => Vma | null): ListIndex {
    const out = new ListIndex(this.counters, {
      mmapCache: this.mmapCache,
      prevLinks: this.prevLinks,
    });
    const c = this.counters;
    let head: Cell | null = null;
    let tail: Cell | null = null;
    let n = 0;
    try {
      for (let cell = this.head; cell !== null; cell = cell.next) {
        c.nodesVisited++;
        const v = copy(cell.vma);
        if (v === null) continue;
        if (linkedCell(v) !== null) {
          throw new Error(`list: dup: copy returned ${v}, which is already in an index`);
        }
        const nc: Cell = new Cell(v, null, this.prevLinks ? tail : null, out);
        v.node = nc;
        if (tail === null) head = nc;
        else tail.next = nc;
        tail = nc;
        n++;
        c.nodesAllocated++;
      }
    } catch (e) {
      for (let nc: Cell | null = head; nc !== null; nc = nc.next) {
        nc.vma.node = null;
        nc.owner = null;
      }
      throw e;
    }
    out.head = head;
    out.tail = this.prevLinks ? tail : null;
    out.n = n;
    return out;
  }

  validate(): void {
    let seen = 0;
    let prev: Cell | null = null;
    let cacheFound = this.cache === null;
    for (let cell = this.head; cell !== null; cell = cell.next) {
      if (++seen > this.n) throw new Error(`list: more cells than map_count ${this.n} (a cycle?)`);
      const v = cell.vma;
      if (cell.owner !== this) throw new Error(`list: the cell of ${v} belongs to another list`);
      if (v.node !== cell) throw new Error(`list: ${v}.node is not its cell`);
      if (!(v.start < v.end)) throw new Error(`list: empty or inverted VMA ${v}`);
      if (!isPageAligned(v.start) || !isPageAligned(v.end)) {
        throw new Error(`list: VMA ${v} is not page aligned`);
      }
      if (prev !== null && prev.vma.end > v.start) {
        throw new Error(`list: not sorted / overlapping: ${prev.vma} then ${v}`);
      }
      if (cell.prev !== (this.prevLinks ? prev : null)) {
        throw new Error(`list: bad back link at ${v} (prevLinks ${this.prevLinks})`);
      }
      if (cell === this.cache) cacheFound = true;
      prev = cell;
    }
    if (seen !== this.n) throw new Error(`list: map_count ${this.n}, but ${seen} cells`);
    if (this.tail !== (this.prevLinks ? prev : null)) throw new Error('list: bad tail pointer');
    if (!cacheFound) {
      throw new Error(`list: mmap_cache points to ${this.cache?.vma}, which is not in the list`);
    }
    if (!this.mmapCache && this.cache !== null) {
      throw new Error('list: mmap_cache set while disabled');
    }
  }

  private cellOf(vma: Vma, op: string): Cell {
    const node = vma.node;
    if (!(node instanceof Cell) || node.owner !== this) {
      throw new Error(`list: ${op}: ${vma} is not in this index`);
    }
    return node;
  }

  /** find_vma_prev's walk: from the head to the cell before `target` (null if it is the first). */
  private walkToPredecessor(target: Cell): Cell | null {
    const c = this.counters;
    const addr = target.vma.start;
    let prev: Cell | null = null;
    let cur = this.head;
    while (cur !== null) {
      c.nodesVisited++;
      c.comparisons++;
      if (cur.vma.end > addr) break;
      prev = cur;
      cur = cur.next;
    }
    if (cur !== target) {
      throw new Error(`list: ${target.vma} is not where its address says (list corrupted)`);
    }
    return prev;
  }
}

function range(start: number, end: number): string {
  return `[${hex(start)}, ${hex(end)})`;
}

function checkRange(op: string, start: number, end: number): void {
  if (!(start < end) || start < 0 || !isPageAligned(start) || !isPageAligned(end)) {
    throw new Error(`list: ${op}: bad range ${range(start, end)}`);
  }
}
