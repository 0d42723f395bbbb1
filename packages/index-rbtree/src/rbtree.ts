/**
 * The VMA red-black tree of Linux 2.4.10 – 6.0: `mm->mm_rb` keyed by address,
 * plus the address-ordered `vm_next` / `vm_prev` list threaded through the same
 * nodes, optionally augmented with `rb_subtree_gap` (3.8+) so that
 * `vm_unmapped_area` finds a hole in O(log n), and with `mmap_cache` (≤ 3.14)
 * or the per-thread `vmacache` (3.15 – 6.0) in front of `find_vma`.
 *
 * Kernel names, once: `find` = find_vma, `insert` = find_vma_links +
 * __vma_link (list, then tree), `remove` = __vma_unlink / vma_rb_erase,
 * `resize` = the bound changes of vma_adjust, `dup` = dup_mmap, `findGap` =
 * unmapped_area / unmapped_area_topdown, `propagate` / `copy` / `rotate` =
 * the vma_gap_callbacks that RB_DECLARE_CALLBACKS generates from
 * vma_compute_subtree_gap (`computeSubtreeGap` here).
 *
 * Why the hot code is shaped as it is (V8; each point was measured with
 * `node --cpu-prof` on the churn and find benchmarks):
 * - One node class, `RbNode`, for every node *and* the sentinel `NIL`. Every
 *   field is assigned in the constructor, in one order, and never deleted, so
 *   all nodes share one hidden class and every property access in the hot
 *   loops is monomorphic. The fields a descent reads (`left`, `right`, `end`,
 *   `start`) come first, then what a gap walk reads.
 * - The numeric fields are ordinary (tagged) class fields on purpose. Core's
 *   `Vma` holds its bounds as heap numbers, and a tagged `start`/`end` simply
 *   shares them: creating a node allocates one object. `declare`d fields
 *   assigned only from the constructor would get V8's "double" representation
 *   instead — one mutable box per field, allocated with every node and one
 *   more pointer to chase per read; that layout measured 15–25 % slower on
 *   find and churn at 10^5–10^6 VMAs. Gaps below 2^31 bytes are small
 *   integers, stored inline.
 * - A sentinel instead of `null` (as vscode's intervalTree.ts): children,
 *   parent and neighbour links are always an `RbNode`, so field types stay
 *   precise and the loops need no null tests. `NIL.subtreeGap` is −1, below
 *   every real gap, so `child.subtreeGap >= length` prunes empty children
 *   without a branch; `NIL.end` is 0, so the first VMA's hole starts at
 *   address 0 with no special case. Nothing ever writes to `NIL`
 *   (`validate()` checks it), which is why erase carries the parent of the
 *   removed position in a local instead of in `NIL.parent` as CLRS does.
 * - The bounds are cached in the node (`start`, `end`), beside the
 *   augmentation, so a descent reads one object per level instead of two
 *   (node → vma). `resize` is the only way bounds change, and `validate()`
 *   checks that the cache matches the VMA.
 * - Insert descends first and allocates the node once, with its final links:
 *   where a leaf hangs gives its list neighbours (as a left child it comes
 *   between `parent.prev` and `parent`). The overlap test reads the start of
 *   the one possible overlap (the successor) instead of one per level.
 * - One gap walk per update: a new leaf's successor is one of its ancestors,
 *   and a removed node's successor takes its place, is its ancestor or is its
 *   only child, so a single upward walk — not allowed to stop before it has
 *   passed the successor — recomputes both the own-gap change and the
 *   structural one (the kernel walks twice: vma_gap_update(next), then the
 *   node's own).
 * - The colour is bit 0 of `meta`, a small integer (bitwise operators are
 *   used only there and on VM_* flags, never on addresses: addresses exceed
 *   2^32 and `|`/`&`/`>>` truncate to 32 bits). Page alignment is tested with
 *   `Math.floor(x / 4096) === x / 4096` (exact for integers below 2^53, and
 *   cheaper than `%` on a double, which is a call to fmod).
 * - Every traversal is an iterative loop (`find`, the insert descent, the
 *   gap search with its climb through parent pointers, iteration along
 *   `next`); no closures or generators on hot paths. Only `validate`
 *   recurses, to depth O(log n).
 * - Counters are summed in locals and added once per operation, so a
 *   descent does not write to the shared `Counters` object at every level.
 * - The `find_vma` caches live in a packed array of fixed length 4 (never
 *   holey, never read past its end).
 *
 * The gap-free tree (`RbTreeIndex`) and the gap tree (`GapRbTreeIndex`) are
 * two classes because `isGapIndex` looks for a `findGap` method; they share
 * every method, and in a process that uses only one of them every access
 * stays monomorphic.
 */
import {
  type Counters,
  type GapIndex,
  hex,
  PAGE_SIZE,
  STACK_GUARD_GAP,
  VM_SHADOW_STACK,
  VM_STARTGAP_FLAGS,
  Vma,
  type VmaIndex,
} from '@vmalab/core';

/** How gaps are tracked: `'guard'` (4.12–6.0), `'raw'` (3.8–4.11), `'off'` (2.4.10–3.7). */
export type GapMode = 'guard' | 'raw' | 'off';
/** Which `find_vma` cache sits in front of the tree. */
export type FindCache = 'none' | 'mmap_cache' | 'vmacache';

export interface RbTreeIndexOptions {
  /**
   * `find_vma` cache: `'mmap_cache'` (one entry, ≤ 3.14), `'vmacache'` (four
   * entries and a sequence number, 3.15–6.0) or `'none'`. Default:
   * `'vmacache'`.
   */
  findCache?: FindCache;
}

export interface GapRbTreeIndexOptions extends RbTreeIndexOptions {
  /** `'guard'` (4.12–6.0, default) or `'raw'` (3.8–4.11) gaps. */
  gaps?: 'guard' | 'raw';
  /** stack_guard_gap in bytes, for `'guard'` gaps. Default: 256 pages (1 MiB). */
  stackGuardGap?: number;
}

export interface CreateRbTreeOptions extends RbTreeIndexOptions {
  /** Default: `'guard'`. */
  gaps?: GapMode;
  /** Default: 256 pages (1 MiB). */
  stackGuardGap?: number;
}

const GAPS_OFF = 0;
const GAPS_RAW = 1;
const GAPS_GUARD = 2;

const CACHE_NONE = 0;
const CACHE_MMAP = 1;
const CACHE_VMACACHE = 2;

const BLACK = 0;
const RED = 1;

/** Highest address accepted: every address is an exact integer. */
const MAX_ADDR = Number.MAX_SAFE_INTEGER;

/**
 * One tree node: the `vm_rb`, `vm_next`, `vm_prev` and `rb_subtree_gap` of one
 * VMA (`vma.node` points here). Also the class of the sentinel `NIL`.
 */
export class RbNode {
  // Hot fields first: a descent reads left/right/end/start, a gap walk
  // parent/subtreeGap/gap and the children's subtreeGap.
  left: RbNode;
  right: RbNode;
  /** Cached `vma.end` / `vma.start` (the key). */
  end: number;
  start: number;
  /** rb_subtree_gap: the largest `gap` in this subtree; −1 on `NIL`. */
  subtreeGap: number;
  parent: RbNode;
  /** Own gap: the free space below this VMA, down to the previous VMA's end (or 0). */
  gap: number;
  /** vm_prev / vm_next: the neighbours in address order (`NIL` at the ends). */
  prev: RbNode;
  next: RbNode;
  /** Bit 0: colour (1 = red). */
  meta: number;
  vma: Vma;
  /** The index this node is linked into; null once removed (and on `NIL`). */
  owner: RbTreeIndex | null;

  /** A red leaf under `parent`; `nil` undefined builds the sentinel itself. */
  constructor(
    vma: Vma,
    start: number,
    end: number,
    owner: RbTreeIndex | null,
    nil: RbNode | undefined,
    parent: RbNode | undefined,
    prev: RbNode | undefined,
    next: RbNode | undefined,
  ) {
    const z = nil ?? this;
    this.left = z;
    this.right = z;
    this.end = end;
    this.start = start;
    this.subtreeGap = -1;
    this.parent = parent ?? z;
    this.gap = 0;
    this.prev = prev ?? z;
    this.next = next ?? z;
    this.meta = nil === undefined ? BLACK : RED;
    this.vma = vma;
    this.owner = owner;
  }
}

/** The sentinel: black, empty, linked to itself, never written to. */
const NIL = new RbNode(
  new Vma(0, 0, 0, null, 0),
  0,
  0,
  null,
  undefined,
  undefined,
  undefined,
  undefined,
);

function isRed(n: RbNode): boolean {
  return (n.meta & 1) === RED;
}
function setBlack(n: RbNode): void {
  n.meta &= ~1;
}
function setRed(n: RbNode): void {
  n.meta |= RED;
}

function pageAligned(x: number): boolean {
  const q = x / PAGE_SIZE;
  return Math.floor(q) === q;
}

function range(start: number, end: number): string {
  return `[${hex(start)}, ${hex(end)})`;
}

function checkRange(op: string, start: number, end: number): void {
  if (!(start >= 0 && start < end && end <= MAX_ADDR) || !pageAligned(start) || !pageAligned(end)) {
    throw new Error(`rbtree: ${op}: bad range ${range(start, end)}`);
  }
}

/**
 * vma_compute_gap without counting: the free space between the previous
 * VMA's end (0 for the first VMA) and this VMA's start — guard-adjusted
 * (vm_start_gap) in `GAPS_GUARD` mode — clamped at 0. (vm_end_gap of the
 * previous VMA only differs for VM_GROWSUP, which x86-64 does not have.)
 */
function computeGap(node: RbNode, mode: number, guardGap: number): number {
  const prevEnd = node.prev.end;
  let top = node.start;
  if (mode === GAPS_GUARD) {
    const f = node.vma.flags;
    if ((f & VM_STARTGAP_FLAGS) !== 0) {
      const g = (f & VM_SHADOW_STACK) !== 0 ? PAGE_SIZE : guardGap;
      top = top > g ? top - g : 0;
    }
  }
  return top > prevEnd ? top - prevEnd : 0;
}

/** The augmentation's one compute function: max(own gap, left and right subtree gaps). */
function computeSubtreeGap(node: RbNode): number {
  let max = node.gap;
  const l = node.left.subtreeGap;
  if (l > max) max = l;
  const r = node.right.subtreeGap;
  if (r > max) max = r;
  return max;
}

function cacheModeOf(v: unknown): number {
  if (v === undefined || v === 'vmacache') return CACHE_VMACACHE;
  if (v === 'mmap_cache') return CACHE_MMAP;
  if (v === 'none') return CACHE_NONE;
  throw new Error(
    `rbtree: option 'findCache' must be one of none | mmap_cache | vmacache, got ${JSON.stringify(v)}`,
  );
}

const CACHE_NAMES: readonly FindCache[] = ['none', 'mmap_cache', 'vmacache'];

/**
 * The rbtree without gap tracking (Linux 2.4.10 – 3.7). `GapRbTreeIndex`
 * adds the gaps and `findGap`.
 */
export class RbTreeIndex implements VmaIndex {
  readonly name: string = 'rbtree';
  readonly counters: Counters;
  /** mm->mm_rb */
  protected root: RbNode = NIL;
  /** mm->mmap (the lowest VMA) and the highest VMA (its end is highest_vm_end). */
  protected head: RbNode = NIL;
  protected tail: RbNode = NIL;
  /** mm->map_count */
  protected n = 0;
  /** GAPS_OFF, GAPS_RAW or GAPS_GUARD; set once by the constructor(s). */
  protected gapMode = GAPS_OFF;
  /** stack_guard_gap (bytes), used in GAPS_GUARD mode. */
  protected guardGap = 0;
  private readonly cacheMode: number;
  /** mmap_cache in slot 0, or the task's vmacache (VMACACHE_SIZE = 4). */
  private readonly cache: RbNode[] = [NIL, NIL, NIL, NIL];
  /** mm->vmacache_seqnum: bumped on remove and resize. */
  private seq = 0;
  /** current->vmacache.seqnum: a mismatch flushes the four slots on the next lookup. */
  private cacheSeq = 0;

  constructor(counters: Counters, options: RbTreeIndexOptions = {}) {
    this.counters = counters;
    this.cacheMode = cacheModeOf(options.findCache);
  }

  get count(): number {
    return this.n;
  }

  /** The `find_vma` cache in front of the tree. */
  get findCache(): FindCache {
    return CACHE_NAMES[this.cacheMode] as FindCache;
  }

  /** How gaps are tracked. */
  get gaps(): GapMode {
    return this.gapMode === GAPS_GUARD ? 'guard' : this.gapMode === GAPS_RAW ? 'raw' : 'off';
  }

  // -------------------------------------------------------------------------
  // Lookups

  /** find_vma: the cache first, then the tree walk (which caches its answer). */
  find(addr: number): Vma | undefined {
    const mode = this.cacheMode;
    if (mode !== CACHE_NONE) {
      const hit = mode === CACHE_VMACACHE ? this.vmacacheFind(addr) : this.mmapCacheFind(addr);
      if (hit !== NIL) return hit.vma;
    }
    const node = this.lookup(addr);
    if (node === NIL) return undefined;
    if (mode === CACHE_VMACACHE) {
      // vmacache_update: the slot is VMACACHE_HASH(addr) = (addr >> PAGE_SHIFT) & 3,
      // computed without 32-bit operators, nor `%` (fmod on a page number above 2^31).
      const pfn = Math.floor(addr / PAGE_SIZE);
      this.cache[pfn - Math.floor(pfn / 4) * 4] = node;
    } else if (mode === CACHE_MMAP) {
      this.cache[0] = node;
    }
    return node.vma;
  }

  /** The tree walk of find_vma: first node with `end > addr`, stopping early on containment. */
  protected lookup(addr: number): RbNode {
    let node = this.root;
    let best = NIL;
    let visited = 0;
    let cmps = 0;
    while (node !== NIL) {
      visited++;
      cmps++;
      if (node.end > addr) {
        best = node;
        cmps++;
        if (node.start <= addr) break;
        node = node.left;
      } else {
        node = node.right;
      }
    }
    const c = this.counters;
    c.nodesVisited += visited;
    c.comparisons += cmps;
    return best;
  }

  /** mmap_cache (≤ 3.14): a hit needs `vm_end > addr && vm_start <= addr`. */
  private mmapCacheFind(addr: number): RbNode {
    const c = this.counters;
    const s = this.cache[0] as RbNode;
    if (s !== NIL) {
      c.comparisons++;
      if (s.end > addr) {
        c.comparisons++;
        if (s.start <= addr) {
          c.cacheHits++;
          return s;
        }
      }
    }
    c.cacheMisses++;
    return NIL;
  }

  /** vmacache_find (3.15–6.0): flush on a stale sequence number, else scan all four slots. */
  private vmacacheFind(addr: number): RbNode {
    const c = this.counters;
    const slots = this.cache;
    if (this.cacheSeq !== this.seq) {
      this.cacheSeq = this.seq;
      slots[0] = NIL;
      slots[1] = NIL;
      slots[2] = NIL;
      slots[3] = NIL;
      c.cacheMisses++;
      return NIL;
    }
    let cmps = 0;
    for (let i = 0; i < 4; i++) {
      const s = slots[i] as RbNode;
      if (s === NIL) continue;
      cmps++;
      if (s.start <= addr) {
        cmps++;
        if (s.end > addr) {
          c.comparisons += cmps;
          c.cacheHits++;
          return s;
        }
      }
    }
    c.comparisons += cmps;
    c.cacheMisses++;
    return NIL;
  }

  /** A removal or resize: mmap_cache is cleared, the vmacache sequence number bumped. */
  private invalidateCache(): void {
    if (this.cacheMode === CACHE_MMAP) this.cache[0] = NIL;
    else if (this.cacheMode === CACHE_VMACACHE) this.seq++;
  }

  next(vma: Vma): Vma | undefined {
    const next = this.nodeOf(vma, 'next').next;
    if (next === NIL) return undefined;
    this.counters.nodesVisited++;
    return next.vma;
  }

  prev(vma: Vma): Vma | undefined {
    const prev = this.nodeOf(vma, 'prev').prev;
    if (prev === NIL) return undefined;
    this.counters.nodesVisited++;
    return prev.vma;
  }

  first(): Vma | undefined {
    if (this.head === NIL) return undefined;
    this.counters.nodesVisited++;
    return this.head.vma;
  }

  last(): Vma | undefined {
    if (this.tail === NIL) return undefined;
    this.counters.nodesVisited++;
    return this.tail.vma;
  }

  [Symbol.iterator](): Iterator<Vma> {
    return new RbIterator(this.head, this.counters);
  }

  // -------------------------------------------------------------------------
  // Updates

  /** vma_link: find_vma_links' descent (which also finds vm_prev), then link list and tree. */
  insert(vma: Vma): void {
    const start = vma.start;
    const end = vma.end;
    checkRange('insert', start, end);
    const old = vma.node;
    if (old instanceof RbNode && old.owner !== null) {
      throw new Error(`rbtree: insert: ${vma} is already in an index`);
    }
    const parent = this.descend(start, end, 'insert');
    const goLeft = parent !== NIL && parent.end > start;
    const prev = goLeft ? parent.prev : parent;
    const next = goLeft ? parent : parent === NIL ? NIL : parent.next;
    let node: RbNode;
    if (old instanceof RbNode) {
      // The node is embedded in the VMA, as vm_rb is in vm_area_struct: a VMA
      // removed and inserted again (vma_adjust, mremap, the churn of a
      // benchmark) reuses it and allocates nothing.
      node = old;
      node.left = NIL;
      node.right = NIL;
      node.end = end;
      node.start = start;
      node.subtreeGap = -1;
      node.parent = parent;
      node.gap = 0;
      node.prev = prev;
      node.next = next;
      node.meta = RED;
      node.owner = this;
    } else {
      node = new RbNode(vma, start, end, this, NIL, parent, prev, next);
      vma.node = node;
      this.counters.nodesAllocated++;
    }
    this.attach(node, goLeft);
  }

  /** Removes `vma` (vma_rb_erase + list unlink + vmacache_invalidate). */
  remove(vma: Vma): void {
    const node = this.nodeOf(vma, 'remove');
    this.unlink(node);
    // Detached but kept in the VMA (embedded, like vm_rb): a later insert of
    // this VMA reuses it, and it is freed with the VMA — so nothing is
    // counted as freed here, and `nodesAllocated` counts first insertions.
    node.owner = null;
    this.invalidateCache();
  }

  /**
   * exit_mmap (2.6 – 6.0): mm_rb is dropped whole and the VMAs are freed on a
   * walk along vm_next — one visit per VMA, no rb_erase, no rebalancing, no
   * gap updates. The nodes stay in their VMAs, unowned, as after `remove`.
   */
  clear(): void {
    let visited = 0;
    for (let node = this.head; node !== NIL; ) {
      visited++;
      node.owner = null;
      const next = node.next;
      // Links cleared, as unlink's are (GC: no chain from a promoted node).
      node.parent = node.left = node.right = node.prev = node.next = NIL;
      node = next;
    }
    this.root = this.head = this.tail = NIL;
    this.n = 0;
    this.counters.nodesVisited += visited;
    this.invalidateCache();
  }

  /**
   * vma_adjust's bound changes. When the VMA stays between its neighbours (the
   * only case the kernel has) the node stays where it is: a new start changes
   * its own gap, a new end changes the next VMA's gap, and each change is
   * propagated up. Otherwise (a VMA moved past a neighbour, which the
   * interface allows) it is unlinked and linked again.
   */
  resize(vma: Vma, start: number, end: number): void {
    checkRange('resize', start, end);
    const node = this.nodeOf(vma, 'resize');
    const prev = node.prev;
    const next = node.next;
    const c = this.counters;
    let fits = true;
    if (prev !== NIL) {
      c.comparisons++;
      fits = prev.end <= start;
    }
    if (fits && next !== NIL) {
      c.comparisons++;
      fits = end <= next.start;
    }
    if (fits) {
      const oldStart = node.start;
      const oldEnd = node.end;
      node.start = start;
      node.end = end;
      vma.start = start;
      vma.end = end;
      if (this.gapMode !== GAPS_OFF) {
        if (start !== oldStart) this.updateGap(node);
        if (end !== oldEnd && next !== NIL) this.updateGap(next);
      }
    } else {
      this.move(node, start, end);
    }
    this.invalidateCache();
  }

  /**
   * dup_mmap: one walk along the list calling `copy` for each VMA (nothing is
   * linked until every copy succeeded, so a throwing `copy` leaves no trace),
   * then each copy linked at the right edge of the new tree as the kernel
   * does (`__vma_link_rb` with `rb_link = &prev->vm_rb.rb_right`): the gap
   * walk and the rebalancing of an insert, without its descent.
   */
  dup(copy: (v: Vma) => Vma | null): RbTreeIndex {
    const copies: Vma[] = [];
    let visited = 0;
    let lastEnd = -1;
    try {
      for (let node = this.head; node !== NIL; node = node.next) {
        visited++;
        const v = copy(node.vma);
        if (v === null) continue;
        const existing = v.node;
        if (existing instanceof RbNode && existing.owner !== null) {
          throw new Error(`rbtree: dup: copy returned ${v}, which is already in an index`);
        }
        checkRange('dup', v.start, v.end);
        if (v.start < lastEnd) {
          throw new Error(`rbtree: dup: copies out of order or overlapping at ${v}`);
        }
        lastEnd = v.end;
        copies.push(v);
      }
    } finally {
      this.counters.nodesVisited += visited;
    }
    const out = this.spawn();
    out.linkAtEnd(copies);
    return out;
  }

  /** An empty index with the same options (for `dup`). */
  protected spawn(): RbTreeIndex {
    return new RbTreeIndex(this.counters, { findCache: this.findCache });
  }

  // -------------------------------------------------------------------------
  // Tree and list maintenance

  /**
   * find_vma_links' descent for a new range: the node under which it is to
   * hang (NIL for an empty tree). Throws, changing nothing, on an overlap.
   * Where it hangs also gives its neighbours: as the left child of `parent`
   * it comes between `parent.prev` and `parent`, as the right child between
   * `parent` and `parent.next`.
   */
  private descend(start: number, end: number, op: string): RbNode {
    let cur = this.root;
    let parent = NIL;
    let above = NIL; // the lowest node seen with end > start: the only possible overlap
    let visited = 0;
    while (cur !== NIL) {
      visited++;
      parent = cur;
      if (cur.end > start) {
        above = cur;
        cur = cur.left;
      } else {
        cur = cur.right;
      }
    }
    const c = this.counters;
    c.nodesVisited += visited;
    c.comparisons += visited;
    if (above !== NIL) {
      // find_vma_links tests vm_start < end at every left turn; testing the
      // successor alone is equivalent (VMAs are sorted and disjoint) and
      // reads one start instead of one per left turn.
      c.comparisons++;
      if (above.start < end) {
        throw new Error(`rbtree: ${op}: ${range(start, end)} overlaps ${above.vma}`);
      }
    }
    return parent;
  }

  /**
   * Links `node` — red, NIL children, `parent`/`prev`/`next` set by `descend`'s
   * rule — into the list (__vma_link_list) and the tree (__vma_link_rb), then
   * fixes the gaps and the colours.
   */
  private attach(node: RbNode, goLeft: boolean): void {
    const parent = node.parent;
    const prev = node.prev;
    const next = node.next;
    if (prev === NIL) this.head = node;
    else prev.next = node;
    if (next === NIL) this.tail = node;
    else next.prev = node;
    if (parent === NIL) this.root = node;
    else if (goLeft) parent.left = node;
    else parent.right = node;
    this.n++;
    if (this.gapMode !== GAPS_OFF) {
      // The new leaf's own gap, and its successor's (whose predecessor it now
      // is; else highest_vm_end = this.tail.end). The successor of a leaf is
      // one of its ancestors, so one walk up from the leaf fixes both: it may
      // not stop before it has passed the successor.
      const mode = this.gapMode;
      node.gap = computeGap(node, mode, this.guardGap);
      if (next !== NIL) next.gap = computeGap(next, mode, this.guardGap);
      this.counters.gapUpdates += next === NIL ? 1 : 2;
      this.propagateThrough(node, next);
    }
    this.insertFixup(node);
  }

  /** Unlinks a node from the tree and the list; the successor's gap grows. */
  private unlink(node: RbNode): void {
    const prev = node.prev;
    const next = node.next;
    if (prev === NIL) this.head = next;
    else prev.next = next;
    if (next === NIL) this.tail = prev;
    else next.prev = prev;
    this.n--;
    if (this.gapMode !== GAPS_OFF && next !== NIL) {
      // The successor's hole now reaches down to `prev`; erase's walk carries it up.
      next.gap = computeGap(next, this.gapMode, this.guardGap);
      this.counters.gapUpdates++;
    }
    this.erase(node, next);
    // Nothing reads a removed node's links (`attach` sets them all again),
    // but they are cleared: a removed node that the GC has promoted would
    // otherwise keep its young neighbours alive through the next scavenges,
    // and those theirs — on mmap-churn 2 KB promoted per iteration, and
    // scavenges of 18 ms.
    node.parent = node.left = node.right = node.prev = node.next = NIL;
  }

  /** The rare resize that changes places: check the target range, then unlink and relink. */
  private move(node: RbNode, start: number, end: number): void {
    let other = this.lookup(start);
    if (other === node) other = node.next;
    if (other !== NIL) {
      this.counters.comparisons++;
      if (other.start < end) {
        throw new Error(`rbtree: resize: ${range(start, end)} overlaps ${other.vma}`);
      }
    }
    this.unlink(node);
    node.start = start;
    node.end = end;
    node.vma.start = start;
    node.vma.end = end;
    const parent = this.descend(start, end, 'resize');
    const goLeft = parent !== NIL && parent.end > start;
    node.parent = parent;
    node.prev = goLeft ? parent.prev : parent;
    node.next = goLeft ? parent : parent === NIL ? NIL : parent.next;
    node.left = NIL;
    node.right = NIL;
    node.meta = RED;
    node.subtreeGap = -1;
    this.attach(node, goLeft);
  }

  /** vma_gap_update: recompute a node's own gap, then propagate. */
  private updateGap(node: RbNode): void {
    node.gap = computeGap(node, this.gapMode, this.guardGap);
    this.counters.gapUpdates++;
    this.propagate(node, NIL);
  }

  /** Augment callback `propagate`: recompute upwards until `stop` or an unchanged value. */
  private propagate(node: RbNode, stop: RbNode): void {
    this.walkUp(node, stop, NIL);
  }

  /**
   * `propagate` to the root that does not stop early before it has recomputed
   * `mustPass` (an ancestor of `node`, or NIL): used when two nodes on one
   * path changed their own gaps.
   */
  private propagateThrough(node: RbNode, mustPass: RbNode): void {
    this.walkUp(node, NIL, mustPass);
  }

  /**
   * The propagate walk. The first node (whose children or own gap changed)
   * and `mustPass` (whose own gap changed) are recomputed from their children;
   * above them only one child changed, from `was` to `now`, so the new value
   * follows from the node's own stored value without reading the sibling
   * (each read is a likely cache miss in a large tree):
   * - the child grew: max(stored, now);
   * - the child shrank from below the stored maximum: unchanged;
   * - the child shrank from the maximum itself: recompute from the children.
   * The values, and so the stopping point and the count of nodes recomputed,
   * are exactly those of recomputing every node (rbtree_augmented.h).
   */
  private walkUp(start: RbNode, stop: RbNode, mustPass: RbNode): void {
    if (start === stop) return;
    let updates = 1;
    let node = start;
    let forced = mustPass !== NIL;
    let was = node.subtreeGap;
    let now = computeSubtreeGap(node);
    for (;;) {
      if (was === now && !forced) break;
      node.subtreeGap = now;
      if (node === mustPass) forced = false;
      node = node.parent;
      if (node === stop) break;
      updates++;
      const stored = node.subtreeGap;
      let v: number;
      if (node === mustPass) v = computeSubtreeGap(node);
      else if (now >= was) v = now > stored ? now : stored;
      else v = was < stored ? stored : computeSubtreeGap(node);
      was = stored;
      now = v;
    }
    this.counters.gapUpdates += updates;
  }

  /** Left rotation at `x`, with the augment `rotate` callback. */
  private rotateLeft(x: RbNode): void {
    const y = x.right;
    const b = y.left;
    x.right = b;
    if (b !== NIL) b.parent = x;
    const p = x.parent;
    y.parent = p;
    if (p === NIL) this.root = y;
    else if (p.left === x) p.left = y;
    else p.right = y;
    y.left = x;
    x.parent = y;
    this.counters.rotations++;
    if (this.gapMode !== GAPS_OFF) {
      y.subtreeGap = x.subtreeGap;
      x.subtreeGap = computeSubtreeGap(x);
      this.counters.gapUpdates++;
    }
  }

  /** Right rotation at `x`, with the augment `rotate` callback. */
  private rotateRight(x: RbNode): void {
    const y = x.left;
    const b = y.right;
    x.left = b;
    if (b !== NIL) b.parent = x;
    const p = x.parent;
    y.parent = p;
    if (p === NIL) this.root = y;
    else if (p.right === x) p.right = y;
    else p.left = y;
    y.right = x;
    x.parent = y;
    this.counters.rotations++;
    if (this.gapMode !== GAPS_OFF) {
      y.subtreeGap = x.subtreeGap;
      x.subtreeGap = computeSubtreeGap(x);
      this.counters.gapUpdates++;
    }
  }

  /** __rb_insert: restore the colour rules after linking the red node `z`. */
  private insertFixup(z: RbNode): void {
    let node = z;
    let parent = node.parent;
    while (isRed(parent)) {
      const g = parent.parent;
      if (parent === g.left) {
        const uncle = g.right;
        if (isRed(uncle)) {
          setBlack(parent);
          setBlack(uncle);
          setRed(g);
          node = g;
          parent = node.parent;
          continue;
        }
        if (node === parent.right) {
          this.rotateLeft(parent);
          node = parent;
          parent = node.parent;
        }
        setBlack(parent);
        setRed(g);
        this.rotateRight(g);
        break;
      }
      const uncle = g.left;
      if (isRed(uncle)) {
        setBlack(parent);
        setBlack(uncle);
        setRed(g);
        node = g;
        parent = node.parent;
        continue;
      }
      if (node === parent.left) {
        this.rotateRight(parent);
        node = parent;
        parent = node.parent;
      }
      setBlack(parent);
      setRed(g);
      this.rotateLeft(g);
      break;
    }
    setBlack(this.root);
  }

  /** Puts `v` (possibly NIL) where `u` hangs. */
  private transplant(u: RbNode, v: RbNode): void {
    const p = u.parent;
    if (p === NIL) this.root = v;
    else if (p.left === u) p.left = v;
    else p.right = v;
    if (v !== NIL) v.parent = p;
  }

  /**
   * __rb_erase_augmented, then the colour fix-up. With two children the
   * successor (found through `next`, not by walking down) takes the node's
   * place and colour; the augment `copy` callback gives it the node's
   * subtree gap, `propagate` fixes the successor's old parent up to it and
   * then everything above. `next` (z's successor, whose own gap the caller
   * has just recomputed, or NIL) is recomputed by the same final walk: it is
   * the node that takes z's place, an ancestor of z, or z's only (right)
   * child.
   */
  private erase(z: RbNode, next: RbNode): void {
    const aug = this.gapMode !== GAPS_OFF;
    let x: RbNode;
    let parent: RbNode;
    let removedBlack: boolean;
    let from: RbNode;
    let mustPass: RbNode;
    if (z.left === NIL || z.right === NIL) {
      x = z.left === NIL ? z.right : z.left;
      parent = z.parent;
      this.transplant(z, x);
      removedBlack = !isRed(z);
      // An only right child is a red leaf and z's successor: walk from it
      // through `parent`. Otherwise the successor is an ancestor (or NIL).
      const rightChild = x !== NIL && x === next;
      from = rightChild ? x : parent;
      mustPass = rightChild ? parent : next;
    } else {
      const y = z.next;
      removedBlack = !isRed(y);
      x = y.right;
      if (aug) y.subtreeGap = z.subtreeGap;
      if (y === z.right) {
        parent = y;
      } else {
        parent = y.parent;
        parent.left = x;
        if (x !== NIL) x.parent = parent;
        const r = z.right;
        y.right = r;
        r.parent = y;
        if (aug) this.propagate(parent, y);
      }
      const l = z.left;
      y.left = l;
      l.parent = y;
      this.transplant(z, y);
      y.meta = z.meta;
      from = y;
      mustPass = NIL; // y is z's successor: walking from it covers it
    }
    if (aug) this.propagateThrough(from, mustPass);
    if (removedBlack) {
      if (isRed(x)) setBlack(x);
      else this.eraseFixup(x, parent);
    }
  }

  /** ____rb_erase_color: `x` (NIL or black) under `parent` is one black short. */
  private eraseFixup(xIn: RbNode, parentIn: RbNode): void {
    let x = xIn;
    let parent = parentIn;
    while (x !== this.root && !isRed(x)) {
      if (x === parent.left) {
        let w = parent.right;
        if (isRed(w)) {
          setBlack(w);
          setRed(parent);
          this.rotateLeft(parent);
          w = parent.right;
        }
        if (!isRed(w.left) && !isRed(w.right)) {
          setRed(w);
          x = parent;
          parent = x.parent;
          continue;
        }
        if (!isRed(w.right)) {
          setBlack(w.left);
          setRed(w);
          this.rotateRight(w);
          w = parent.right;
        }
        w.meta = (w.meta & ~1) | (parent.meta & 1);
        setBlack(parent);
        setBlack(w.right);
        this.rotateLeft(parent);
        return;
      }
      let w = parent.left;
      if (isRed(w)) {
        setBlack(w);
        setRed(parent);
        this.rotateRight(parent);
        w = parent.left;
      }
      if (!isRed(w.left) && !isRed(w.right)) {
        setRed(w);
        x = parent;
        parent = x.parent;
        continue;
      }
      if (!isRed(w.left)) {
        setBlack(w.right);
        setRed(w);
        this.rotateLeft(w);
        w = parent.left;
      }
      w.meta = (w.meta & ~1) | (parent.meta & 1);
      setBlack(parent);
      setBlack(w.left);
      this.rotateRight(parent);
      return;
    }
    if (x !== NIL) setBlack(x);
  }

  /**
   * dup_mmap's linking of the copies (sorted, disjoint, unlinked) into this
   * empty index: each hangs as the right child of the previous one — the
   * tree's maximum, which has no right child — with `__vma_link_list` and
   * `__vma_link_rb`: no descent, its own gap (the highest VMA's), the gap walk
   * and the insert fix-up with its rotations, exactly as an insert at the
   * right edge.
   */
  private linkAtEnd(vmas: readonly Vma[]): void {
    for (let i = 0; i < vmas.length; i++) {
      const v = vmas[i] as Vma;
      const tail = this.tail;
      const node = new RbNode(v, v.start, v.end, this, NIL, tail, tail, NIL);
      v.node = node;
      this.attach(node, false);
    }
    this.counters.nodesAllocated += vmas.length;
  }

  protected nodeOf(vma: Vma, op: string): RbNode {
    const node = vma.node;
    if (!(node instanceof RbNode) || node.owner !== this) {
      throw new Error(`rbtree: ${op}: ${vma} is not in this index`);
    }
    return node;
  }

  // -------------------------------------------------------------------------
  // Checking and debugging

  /**
   * Checks every invariant and throws naming the broken one: the sentinel is
   * untouched; the root is black and has no parent; parent pointers; no red
   * node has a red child; equal black height on every path; a height within
   * 2·log2(n+1); non-empty, page-aligned, sorted, non-overlapping VMAs whose
   * node caches their bounds; `vma.node`/owner; the neighbour links, head and
   * tail; `count`; every own gap and subtree gap (with gaps on); the caches.
   */
  validate(): void {
    if (
      NIL.meta !== BLACK ||
      NIL.left !== NIL ||
      NIL.right !== NIL ||
      NIL.parent !== NIL ||
      NIL.prev !== NIL ||
      NIL.next !== NIL ||
      NIL.start !== 0 ||
      NIL.end !== 0 ||
      NIL.gap !== 0 ||
      NIL.subtreeGap !== -1 ||
      NIL.owner !== null
    ) {
      throw new Error('rbtree: sentinel: NIL was written to');
    }
    const root = this.root;
    if (root !== NIL) {
      if (root.parent !== NIL)
        throw new Error(`rbtree: parent pointers: the root ${root.vma} has a parent`);
      if (isRed(root)) throw new Error(`rbtree: colour: the root ${root.vma} is red`);
    }
    const st: ValidateState = {
      seen: 0,
      last: NIL,
      maxDepth: 2 * Math.log2(this.n + 1),
    };
    this.check(root, NIL, 1, st);
    if (st.seen !== this.n)
      throw new Error(`rbtree: count: map_count ${this.n}, but ${st.seen} nodes`);
    if (this.tail !== st.last) {
      throw new Error(`rbtree: neighbour links: tail is ${this.tail.vma}, expected ${st.last.vma}`);
    }
    if (st.last === NIL && this.head !== NIL)
      throw new Error('rbtree: neighbour links: head set in an empty tree');
    if (st.last !== NIL && st.last.next !== NIL) {
      throw new Error(`rbtree: neighbour links: the last VMA ${st.last.vma} has a next`);
    }
    this.checkCache();
  }

  /** Recursive part of `validate`: returns the black height of `node`'s subtree. */
  private check(node: RbNode, parent: RbNode, depth: number, st: ValidateState): number {
    if (node === NIL) return 1;
    const v = node.vma;
    if (++st.seen > this.n)
      throw new Error(`rbtree: count: more nodes than map_count ${this.n} (a cycle?)`);
    if (depth > st.maxDepth) {
      throw new Error(`rbtree: height: ${v} at depth ${depth} > 2·log2(n+1) with n = ${this.n}`);
    }
    if (node.parent !== parent) {
      throw new Error(
        `rbtree: parent pointers: ${v} points to ${node.parent.vma}, expected ${parent.vma}`,
      );
    }
    if (node.owner !== this)
      throw new Error(`rbtree: owner: the node of ${v} belongs to another index`);
    if (v.node !== node) throw new Error(`rbtree: ${v}.node is not its tree node`);
    if (isRed(node) && (isRed(node.left) || isRed(node.right))) {
      throw new Error(`rbtree: colour: red node ${v} has a red child`);
    }
    const lh = this.check(node.left, node, depth + 1, st);
    // In-order visit.
    if (node.start !== v.start || node.end !== v.end) {
      throw new Error(
        `rbtree: bounds: the node caches ${range(node.start, node.end)} but the VMA is ${v} (changed outside resize?)`,
      );
    }
    if (!(v.start < v.end)) throw new Error(`rbtree: order: empty or inverted VMA ${v}`);
    if (!pageAligned(v.start) || !pageAligned(v.end))
      throw new Error(`rbtree: VMA ${v} is not page aligned`);
    const last = st.last;
    if (last !== NIL && last.end > node.start) {
      throw new Error(`rbtree: order: ${last.vma} then ${v} are unsorted or overlap`);
    }
    if (node.prev !== last) {
      throw new Error(
        `rbtree: neighbour links: prev of ${v} is ${node.prev.vma}, expected ${last.vma}`,
      );
    }
    if (last === NIL ? this.head !== node : last.next !== node) {
      throw new Error(`rbtree: neighbour links: next of ${last.vma} is not ${v}`);
    }
    if (this.gapMode !== GAPS_OFF) {
      const want = computeGap(node, this.gapMode, this.guardGap);
      if (node.gap !== want)
        throw new Error(`rbtree: gap: own gap of ${v} is ${node.gap}, expected ${want}`);
    }
    st.last = node;
    const rh = this.check(node.right, node, depth + 1, st);
    if (lh !== rh) {
      throw new Error(`rbtree: black height: ${lh} on the left of ${v}, ${rh} on the right`);
    }
    if (this.gapMode !== GAPS_OFF) {
      const want = computeSubtreeGap(node);
      if (node.subtreeGap !== want) {
        throw new Error(`rbtree: subtree gap: ${v} has ${node.subtreeGap}, expected ${want}`);
      }
    }
    return lh + (isRed(node) ? 0 : 1);
  }

  private checkCache(): void {
    const slots = this.cache;
    for (let i = 0; i < 4; i++) {
      const s = slots[i] as RbNode;
      if (s === NIL) continue;
      if (this.cacheMode === CACHE_NONE || (this.cacheMode === CACHE_MMAP && i > 0)) {
        throw new Error(`rbtree: cache: slot ${i} is set with findCache '${this.findCache}'`);
      }
      // A stale vmacache (sequence mismatch) may point anywhere: it is flushed before use.
      if (this.cacheMode === CACHE_VMACACHE && this.cacheSeq !== this.seq) continue;
      if (s.owner !== this) {
        throw new Error(`rbtree: cache: slot ${i} holds ${s.vma}, which is not in this index`);
      }
    }
  }

  /** Height of the tree (0 when empty); O(n). */
  height(): number {
    let max = 0;
    const stack: RbNode[] = [];
    const depths: number[] = [];
    if (this.root !== NIL) {
      stack.push(this.root);
      depths.push(1);
    }
    while (stack.length > 0) {
      const node = stack.pop() as RbNode;
      const d = depths.pop() as number;
      if (d > max) max = d;
      if (node.left !== NIL) {
        stack.push(node.left);
        depths.push(d + 1);
      }
      if (node.right !== NIL) {
        stack.push(node.right);
        depths.push(d + 1);
      }
    }
    return max;
  }

  /**
   * The tree, one node per line, right subtree above and left below (turn the
   * page 90° clockwise): colour, range, own gap and subtree gap in pages.
   */
  dump(): string {
    const lines: string[] = [];
    const gaps = this.gapMode !== GAPS_OFF;
    const walk = (node: RbNode, depth: number): void => {
      if (node === NIL) return;
      walk(node.right, depth + 1);
      const g = gaps ? ` gap ${node.gap / PAGE_SIZE} max ${node.subtreeGap / PAGE_SIZE}` : '';
      lines.push(
        `${'    '.repeat(depth)}${isRed(node) ? 'R' : 'B'} ${range(node.start, node.end)}${g}`,
      );
      walk(node.left, depth + 1);
    };
    walk(this.root, 0);
    return lines.join('\n');
  }
}

interface ValidateState {
  seen: number;
  last: RbNode;
  maxDepth: number;
}

/** Iteration along vm_next. */
class RbIterator implements Iterator<Vma> {
  private node: RbNode;
  private readonly counters: Counters;

  constructor(node: RbNode, counters: Counters) {
    this.node = node;
    this.counters = counters;
  }

  next(): IteratorResult<Vma> {
    const node = this.node;
    if (node === NIL) return { done: true, value: undefined };
    this.counters.nodesVisited++;
    this.node = node.next;
    return { done: false, value: node.vma };
  }
}

/**
 * The gap-augmented rbtree (Linux 3.8 – 6.0): every node keeps its own gap
 * and `rb_subtree_gap`, and `findGap` is vm_unmapped_area's pruned descent.
 */
export class GapRbTreeIndex extends RbTreeIndex implements GapIndex {
  readonly gapKind: 'raw' | 'guard';

  constructor(counters: Counters, options: GapRbTreeIndexOptions = {}) {
    super(counters, options);
    const gaps = options.gaps ?? 'guard';
    if (gaps !== 'guard' && gaps !== 'raw') {
      throw new Error(
        `rbtree: option 'gaps' must be guard | raw here, got ${JSON.stringify(gaps)}`,
      );
    }
    const guard = options.stackGuardGap ?? STACK_GUARD_GAP;
    if (!(Number.isSafeInteger(guard) && guard >= 0 && pageAligned(guard))) {
      throw new Error(
        `rbtree: option 'stackGuardGap' must be a non-negative multiple of ${PAGE_SIZE}, got ${guard}`,
      );
    }
    this.gapKind = gaps;
    this.gapMode = gaps === 'guard' ? GAPS_GUARD : GAPS_RAW;
    this.guardGap = guard;
  }

  /** stack_guard_gap in bytes (used by `'guard'` gaps). */
  get stackGuardGap(): number {
    return this.guardGap;
  }

  override dup(copy: (v: Vma) => Vma | null): GapRbTreeIndex {
    return super.dup(copy) as GapRbTreeIndex;
  }

  protected override spawn(): GapRbTreeIndex {
    return new GapRbTreeIndex(this.counters, {
      gaps: this.gapKind,
      stackGuardGap: this.guardGap,
      findCache: this.findCache,
    });
  }

  /**
   * vm_unmapped_area's search (unmapped_area / unmapped_area_topdown without
   * the alignment over-reservation, which is the caller's): the lowest or
   * highest `a` with `[a, a + length)` inside one gap and inside
   * `[low, high)`. Counts `nodesVisited` for every node on the search path
   * and `gapsExamined` for every hole tested.
   */
  findGap(length: number, low: number, high: number, topDown: boolean): number | undefined {
    if (high - length < low) return undefined;
    return topDown ? this.gapTopDown(length, low, high) : this.gapBottomUp(length, low, high);
  }

  /**
   * In-order search for the lowest fitting hole: go left while the left
   * subtree has a big enough gap and may reach the window (its holes end at or
   * below this node's start), else test the own hole, else go right, else
   * climb to the first ancestor entered from its left. The free space above
   * the highest VMA (`highest_vm_end`) is tested last.
   */
  private gapBottomUp(length: number, low: number, high: number): number | undefined {
    const lowLimit = low + length; // a fitting hole ends at or above this
    const highLimit = high - length; // and starts at or below this
    let node = this.root;
    let visited = 0;
    let holes = 0;
    let found = -1;
    if (node !== NIL && node.subtreeGap >= length) {
      visited++;
      search: for (;;) {
        let left = node.left;
        while (left.subtreeGap >= length && node.start >= lowLimit) {
          node = left;
          visited++;
          left = node.left;
        }
        for (;;) {
          holes++;
          const holeStart = node.prev.end;
          if (holeStart > highLimit) {
            // Every later hole starts higher still, the top one included.
            found = -2;
            break search;
          }
          const holeEnd = holeStart + node.gap;
          const lo = holeStart > low ? holeStart : low;
          const hi = holeEnd < high ? holeEnd : high;
          if (hi - lo >= length) {
            found = lo;
            break search;
          }
          const right = node.right;
          if (right.subtreeGap >= length) {
            node = right;
            visited++;
            continue search;
          }
          for (;;) {
            const parent = node.parent;
            if (parent === NIL) break search;
            visited++;
            const fromLeft = parent.left === node;
            node = parent;
            if (fromLeft) break;
          }
        }
      }
    }
    if (found === -1) {
      holes++;
      const topStart = this.tail.end;
      const lo = topStart > low ? topStart : low;
      if (high - lo >= length) found = lo;
    }
    const c = this.counters;
    c.nodesVisited += visited;
    c.gapsExamined += holes;
    return found >= 0 ? found : undefined;
  }

  /**
   * The mirror image: the top hole first, then the highest fitting hole —
   * right subtree first while it may reach the window (its holes start at or
   * above this node's end), own hole, left subtree, climb.
   */
  private gapTopDown(length: number, low: number, high: number): number | undefined {
    const lowLimit = low + length;
    const highLimit = high - length;
    const c = this.counters;
    const topStart = this.tail.end;
    if (high - (topStart > low ? topStart : low) >= length) {
      c.gapsExamined++;
      return highLimit;
    }
    let node = this.root;
    let visited = 0;
    let holes = 1;
    let found = -1;
    if (node !== NIL && node.subtreeGap >= length) {
      visited++;
      search: for (;;) {
        let right = node.right;
        while (right.subtreeGap >= length && node.end <= highLimit) {
          node = right;
          visited++;
          right = node.right;
        }
        for (;;) {
          holes++;
          const holeStart = node.prev.end;
          const holeEnd = holeStart + node.gap;
          if (holeEnd < lowLimit) break search; // every earlier hole ends lower still
          const lo = holeStart > low ? holeStart : low;
          const hi = holeEnd < high ? holeEnd : high;
          if (hi - lo >= length) {
            found = hi - length;
            break search;
          }
          const left = node.left;
          if (left.subtreeGap >= length) {
            node = left;
            visited++;
            continue search;
          }
          for (;;) {
            const parent = node.parent;
            if (parent === NIL) break search;
            visited++;
            const fromRight = parent.right === node;
            node = parent;
            if (fromRight) break;
          }
        }
      }
    }
    c.nodesVisited += visited;
    c.gapsExamined += holes;
    return found >= 0 ? found : undefined;
  }
}

/** An rbtree index for any gap mode: `RbTreeIndex` with `'off'`, else `GapRbTreeIndex`. */
export function createRbTreeIndex(
  counters: Counters,
  options: CreateRbTreeOptions & { gaps: 'off' },
): RbTreeIndex;
export function createRbTreeIndex(
  counters: Counters,
  options?: CreateRbTreeOptions & { gaps?: 'guard' | 'raw' },
): GapRbTreeIndex;
export function createRbTreeIndex(counters: Counters, options?: CreateRbTreeOptions): RbTreeIndex;
export function createRbTreeIndex(
  counters: Counters,
  options: CreateRbTreeOptions = {},
): RbTreeIndex {
  const gaps = options.gaps ?? 'guard';
  const findCache = options.findCache ?? 'vmacache';
  if (gaps === 'off') return new RbTreeIndex(counters, { findCache });
  return new GapRbTreeIndex(counters, {
    gaps,
    findCache,
    stackGuardGap: options.stackGuardGap ?? STACK_GUARD_GAP,
  });
}
