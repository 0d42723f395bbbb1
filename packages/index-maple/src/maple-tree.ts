/**
 * MapleTree: a range tree over integer indices with inclusive ranges, the data
 * structure Linux uses for VMAs since 6.1 (lib/maple_tree.c). Our own code,
 * written from the published design and the kernel's test vectors.
 *
 * - Range leaves of 16 slots; internal nodes of 16 slots, or of 10 slots with
 *   a per-child largest gap in ALLOC_RANGE trees; all leaves at one depth;
 *   non-root nodes at least mt_min_slots full; NULL ranges always coalesced,
 *   and only the right-most leaf may end in NULL.
 * - Every write is classified first (store_root, spanning_store, exact_fit,
 *   new_root, rebalance, split_store, append, slot_store, node_store), its
 *   nodes preallocated by the chosen policy, then executed. Splits push into
 *   a sibling before splitting and split three ways when they must;
 *   rebalance, split and spanning stores rebuild level by level from a "big
 *   node" until a level absorbs the change; replaced nodes are freed.
 * - Gaps propagate upward and stop at the first ancestor that does not change.
 * - `dup` copies the tree by the DFS pre-order structural copy of `__mt_dup`
 *   (6.8+) or by one store per entry (6.1–6.7).
 *
 * Indices are integers in [0, MAPLE_MAX]; MAPLE_MAX (2^53 − 1) stands for
 * ULONG_MAX. Errors are returned as −errno, as the kernel's API does.
 */
import { Counters, EBUSY, EEXIST, EINVAL, ENOMEM } from '@vmalab/core';
import type { NodeType } from './node.js';
import * as node from './node.js';

export { MAPLE_MAX } from './node.js';

// The node layout's constants, bound again in this module. V8 (11.x) does not
// constant-fold a binding imported from another module: each read is a load
// through the module cell with a hole check, and a loop variable that merges
// the imported MAPLE_MAX (a heap number) with computed doubles is boxed, one
// allocation per assignment (find allocated 3× as much with the import). A
// module's own const is folded.
const { ARANGE, GAP_AT, LEAF, M_DEAD, M_GAPOFF, M_PARENT, M_PSLOT, MAPLE_MAX, RANGE } = node;
const { MIN_END, NODE_TYPE_NAMES, SLOTS } = node;

/**
 * XA_ZERO_ENTRY: occupies its range (it is not a gap) but reads as empty —
 * load and find skip it. Linux uses it to block a range in tests and to mark
 * where a failed fork stopped copying.
 */
export const ZERO_ENTRY: unique symbol = Symbol.for('vmalab.maple.XA_ZERO_ENTRY');
export type ZeroEntry = typeof ZERO_ENTRY;

export const STORE_TYPES = [
  'store_root',
  'spanning_store',
  'exact_fit',
  'new_root',
  'rebalance',
  'split_store',
  'append',
  'slot_store',
  'node_store',
] as const;
export type StoreType = (typeof STORE_TYPES)[number];
const ST_ROOT = 0;
const ST_SPANNING = 1;
const ST_EXACT = 2;
const ST_NEW_ROOT = 3;
const ST_REBALANCE = 4;
const ST_SPLIT = 5;
const ST_APPEND = 6;
const ST_SLOT = 7;
const ST_NODE = 8;

/**
 * How many nodes a write asks the slab for before it runs (mas_preallocate):
 * - `worst-case`: 1 + 3h for every write (6.1-era);
 * - `by-store-type`: the per-store-type table of ~6.12 (spanning 3h+1, split
 *   2h+1, rebalance 2h−1, node_store 1 in RCU mode, new_root/store_root 1);
 * - `vacant-height`: the 2025 refinement — splits only up to the lowest
 *   ancestor with a free slot, rebalance and spanning stores only up to the
 *   lowest ancestor with enough data.
 */
export type PreallocPolicy = 'worst-case' | 'by-store-type' | 'vacant-height';
export const PREALLOC_POLICIES: readonly PreallocPolicy[] = [
  'worst-case',
  'by-store-type',
  'vacant-height',
];
/** `mt-dup`: __mt_dup's structural copy (6.8+); `insert`: one store per entry (6.1–6.7). */
export type DupMode = 'mt-dup' | 'insert';
export const DUP_MODES: readonly DupMode[] = ['mt-dup', 'insert'];

export interface MapleTreeOptions {
  /** MT_FLAGS_ALLOC_RANGE: 10-slot internal nodes with per-child gaps. Default false. */
  allocRange?: boolean;
  /** MT_FLAGS_USE_RCU: node_store copies the node, append/slot_store are restricted. Default false. */
  rcu?: boolean;
  /** Default `by-store-type`. */
  prealloc?: PreallocPolicy;
  /** Default `mt-dup`. */
  dup?: DupMode;
  /** Where nodesVisited, slotsScanned, nodesAllocated, nodesFreed and gapUpdates are counted. */
  counters?: Counters;
}

/** Exact work counts of one tree (all writes since creation). */
export class MapleStats {
  /** Writes by store type, indexed like STORE_TYPES. */
  readonly stores: number[] = new Array<number>(STORE_TYPES.length).fill(0);
  /** Nodes preallocated by writes, used by them, and returned unused (mas_destroy). */
  nodesRequested = 0;
  nodesUsed = 0;
  nodesReturned = 0;
  /** Writes that needed more nodes than they preallocated (a model error; always 0). */
  overruns = 0;
  /** Nodes a bulk load (fork before 6.8) needed beyond its estimate, allocated on demand (counted in nodesRequested too). */
  nodesOnDemand = 0;
  /** Nodes allocated by dup. */
  nodesDuplicated = 0;
  /** Nodes that left the tree (replaced, discarded, destroyed). */
  nodesFreed = 0;

  storeCount(type: StoreType): number {
    return this.stores[STORE_TYPES.indexOf(type)] as number;
  }

  /** Store counts by name (only the types that occurred). */
  storeTable(): Record<string, number> {
    const out: Record<string, number> = {};
    STORE_TYPES.forEach((t, i) => {
      const n = this.stores[i] as number;
      if (n > 0) out[t] = n;
    });
    return out;
  }
}

/** A walk from the root: the node at each depth, its offset in its parent, its range. */
class Path {
  // Views of a buffer that may hold several paths: a typed array over 64
  // bytes gets an off-heap backing store, about 3 µs to create here — a
  // tree's three paths and search stack as sixteen of them cost more than a
  // whole fork of 21 VMAs. A tree allocates one buffer for all of them, and
  // iterations take their paths from a pool (takePath).
  readonly node: Int32Array;
  readonly off: Int32Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  /** Offset of the walked index in the deepest node reached. */
  slot = 0;

  constructor(buf: ArrayBuffer = new ArrayBuffer(PATH_BYTES), at = 0) {
    this.node = new Int32Array(buf, at, MAX_DEPTH);
    this.off = new Int32Array(buf, at + 4 * MAX_DEPTH, MAX_DEPTH);
    this.min = new Float64Array(buf, at + 8 * MAX_DEPTH, MAX_DEPTH);
    this.max = new Float64Array(buf, at + 16 * MAX_DEPTH, MAX_DEPTH);
  }

  copyFrom(p: Path, depth: number): void {
    for (let d = 0; d <= depth; d++) {
      this.node[d] = p.node[d] as number;
      this.off[d] = p.off[d] as number;
      this.min[d] = p.min[d] as number;
      this.max[d] = p.max[d] as number;
    }
    this.slot = p.slot;
  }
}

/** The kernel's "big node": the data of one level while it is rebuilt. */
class Big {
  readonly piv: number[] = [];
  readonly slot: unknown[] = [];
  readonly gap: number[] = [];
  n = 0;

  push(piv: number, slot: unknown, gap: number): void {
    const n = this.n++;
    this.piv[n] = piv;
    this.slot[n] = slot;
    this.gap[n] = gap;
  }

  clear(): void {
    const s = this.slot;
    for (let i = 0; i < this.n; i++) s[i] = null;
    this.n = 0;
  }
}

/**
 * The doubles of a leaf write (ma_wr_state's range fields), passed to
 * writeLeaf through this object: V8 boxes a double argument of a call it does
 * not inline, and updates a double field in place.
 */
class WrState {
  first = 0.5;
  last = 0.5;
  /** Range of the slots written over: [rMin, endPiv]. */
  rMin = 0.5;
  endPiv = 0.5;
}

/**
 * An iteration's state (`scanNext`): its own path (the iteration spans other
 * calls), the slot it is at and where that slot starts, and the range of the
 * entry it returned last. Doubles are fields, updated in place.
 */
class Scan {
  /** Taken from the pool when the walk starts, given back when it ends. */
  p: Path | null = null;
  /** 0: not started, 1: in a leaf, 2: done. */
  state = 0;
  seq = 0;
  depth = 0;
  i = 0;
  lo = 0.5;
  first = 0.5;
  last = 0.5;
  readonly from: number;
  readonly to: number;

  constructor(from: number, to: number) {
    this.from = from;
    this.to = to;
  }
}

/** Deepest path a walk records (a tree of 10^6 entries is 6–7 levels). */
const MAX_DEPTH = 64;
/** Bytes of one Path's arrays (two Int32 and two Float64 per level). */
const PATH_BYTES = 24 * MAX_DEPTH;
/** Paths of finished iterations, for the next ones (each iteration needs its own). */
const PATH_POOL: Path[] = [];
function takePath(): Path {
  return PATH_POOL.pop() ?? new Path();
}
function givePath(p: Path): void {
  if (PATH_POOL.length < 16) PATH_POOL.push(p);
}
/**
 * Record sizes per node. The walks index with the shifts written out — node
 * n's pivots at `n << 5`, slots at `n << 4`, metadata at `n << 2` — so the
 * strides are derived from those shifts, not chosen apart from them.
 */
const PV_STRIDE = 1 << 5;
const SL_STRIDE = 1 << 4;
const MT_STRIDE = 1 << 2;
/**
 * Stored at pivot `end` of every node (the kernel leaves that pivot unset: the
 * node's max is its parent's): a pivot scan for an index inside the node stops
 * there without testing `i < end`.
 */
const PIVOT_STOP = Number.POSITIVE_INFINITY;
/** Arena capacity (nodes) of a new tree's first node. */
const MIN_CAP = 8;

/** One tree's slab arenas (see MapleTree). */
interface Arenas {
  pv: Float64Array<ArrayBuffer>;
  sl: unknown[];
  mt: Int32Array<ArrayBuffer>;
  en: Uint8Array<ArrayBuffer>;
  ty: Uint8Array<ArrayBuffer>;
  freeIds: Int32Array<ArrayBuffer>;
  cap: number;
}

/**
 * The slab cache: the arenas of destroyed trees, taken by the next tree that
 * allocates its first node — freed maple nodes stay in the kmem_cache for the
 * next allocation, so a fork after an exit finds a warm slab. Bounded: at
 * most CACHE_MAX_ARENAS arenas of at most CACHE_MAX_NODES nodes.
 */
const SLAB_CACHE: Arenas[] = [];
const CACHE_MAX_ARENAS = 2;
const CACHE_MAX_NODES = 1 << 14;

function isValidIndex(i: number): boolean {
  return Number.isSafeInteger(i) && i >= 0;
}

export class MapleTree<T = unknown> {
  /**
   * The root: a node id (≥ 0), or −1 when the tree has no node — then
   * `rootEntry` is null (empty) or the single entry stored at index 0.
   */
  private rootNode = -1;
  private rootEntry: unknown = null;
  private _height = 0;
  /** MT_FLAGS_ALLOC_RANGE (mt_is_alloc). */
  readonly isAlloc: boolean;
  /** mt_set_in_rcu / mt_clear_in_rcu. */
  rcu: boolean;
  readonly prealloc: PreallocPolicy;
  readonly dupMode: DupMode;
  readonly counters: Counters;
  readonly stats = new MapleStats();
  /** Bumped by every write; cursors re-walk when it changed. */
  seq = 0;
  /**
   * The walk state (the kernel's active ma_state): the leaf the last walk
   * reached and its range, valid while `curSeq === seq`. A read or write
   * whose index lies inside that leaf starts there instead of at the root,
   * as mas_find/mas_prev and vma_iter_store (__mas_set_range on an active
   * state) do; a write recovers the leaf's ancestors by its parent links.
   */
  private curLeaf = -1;
  private curMin = 0;
  private curMax = 0;
  private curSeq = -1;

  /**
   * The node slab: this tree's nodes are records in arenas indexed by node
   * id, as the kernel's are 256-byte slab objects. `pv`: PV_STRIDE doubles
   * per node (15 pivots, then at GAP_AT the 10 gaps of an arange node);
   * `sl`: SL_STRIDE slots per node (entries in a leaf, child ids in an
   * internal node); `en`, `ty`: end and type; `mt`: MT_STRIDE ints (parent
   * id or −1, offset in the parent, offset of the largest gap, freed flag).
   * The arenas grow by half, only when a write starts (before it reads the
   * tree) or a bulk allocation is made, so no write sees them move.
   */
  private pv = new Float64Array(0);
  private sl: unknown[] = [];
  private mt = new Int32Array(0);
  /** Each node's end (offset of its last used slot) and type, a byte each (read on every walk). */
  private en = new Uint8Array(0);
  private ty = new Uint8Array(0);
  /** Ids handed out so far (the arena's high-water mark), and its capacity. */
  private top = 0;
  private cap = 0;
  /** Recycled ids. */
  private freeIds = new Int32Array(0);
  private nfree = 0;

  private readonly internalType: NodeType;
  /** One buffer for the three walk paths below and searchRev's stack. */
  private readonly scratch = new ArrayBuffer(3 * PATH_BYTES + 24 * MAX_DEPTH);
  private readonly lp = new Path(this.scratch, 0);
  private readonly rp = new Path(this.scratch, PATH_BYTES);
  private readonly tp = new Path(this.scratch, 2 * PATH_BYTES);
  private readonly wr = new WrState();
  /**
   * Doubles passed to leafOf, walkTo, descendKey, searchRev and leafGapKey (V8 boxes a
   * double argument of a call it does not inline; a typed array holds it
   * unboxed).
   */
  private readonly key = new Float64Array(3);
  private bigA = new Big();
  private bigB = new Big();
  /** Nodes freed during the current write, recycled when it ends (RCU-style). */
  private readonly graveyard: number[] = [];
  private graves = 0;
  /** searchRev's stack (one frame per level). */
  private readonly sNode = new Int32Array(this.scratch, 3 * PATH_BYTES, MAX_DEPTH);
  private readonly sOff = new Int32Array(this.scratch, 3 * PATH_BYTES + 4 * MAX_DEPTH, MAX_DEPTH);
  private readonly sMin = new Float64Array(this.scratch, 3 * PATH_BYTES + 8 * MAX_DEPTH, MAX_DEPTH);
  private readonly sHi = new Float64Array(this.scratch, 3 * PATH_BYTES + 16 * MAX_DEPTH, MAX_DEPTH);
  /** Nodes the slab will still hand out before failing (fault injection). */
  private allocBudget = Number.POSITIVE_INFINITY;
  /** MA_STATE_BULK: between bulkBegin() and bulkEnd(). */
  private bulk = false;
  private bulkRequested = 0;
  private bulkUsed = 0;
  private requested = 0;
  private used = 0;
  /** Range of the entry returned by the last find/load (for adapters). */
  foundFirst = 0;
  foundLast = 0;

  constructor(options: MapleTreeOptions = {}) {
    this.isAlloc = options.allocRange ?? false;
    this.rcu = options.rcu ?? false;
    this.prealloc = options.prealloc ?? 'by-store-type';
    this.dupMode = options.dup ?? 'mt-dup';
    this.counters = options.counters ?? new Counters();
    this.internalType = this.isAlloc ? ARANGE : RANGE;
  }

  /** Levels of nodes (0: empty or a single entry at index 0 without a node). */
  get height(): number {
    return this._height;
  }

  get isEmpty(): boolean {
    return this.rootNode < 0 && this.rootEntry === null;
  }

  /** Options for a tree with the same flags (mtree_dup requires them). */
  get options(): MapleTreeOptions {
    return {
      allocRange: this.isAlloc,
      rcu: this.rcu,
      prealloc: this.prealloc,
      dup: this.dupMode,
      counters: this.counters,
    };
  }

  /**
   * Fault injection: the slab hands out `n` more nodes, then every
   * allocation fails with ENOMEM; `undefined` lifts the limit.
   */
  failAllocAfter(n: number | undefined): void {
    this.allocBudget = n === undefined ? Number.POSITIVE_INFINITY : n;
  }

  // -------------------------------------------------------------------------
  // Reads

  /** mtree_load: the entry whose range contains `index`. */
  load(index: number): T | undefined {
    const root = this.rootNode;
    if (!(index >= 0 && index <= MAPLE_MAX)) return undefined;
    if (root < 0) {
      const v = this.rootEntry;
      if (v !== null && v !== ZERO_ENTRY && index === 0) {
        this.foundFirst = this.foundLast = 0;
        return v as T;
      }
      return undefined;
    }
    const c = this.counters;
    let n = root;
    let min = 0;
    let max = MAPLE_MAX;
    for (;;) {
      c.nodesVisited++;
      const e = this.en[n] as number;
      const piv = this.pv;
      const pivB = n << 5;
      let i = 0;
      while ((piv[pivB + i] as number) < index) i++;
      c.slotsScanned += i + 1;
      const lo = i === 0 ? min : (piv[pivB + i - 1] as number) + 1;
      const hi = i < e ? (piv[pivB + i] as number) : max;
      const s = this.sl[(n << 4) + i];
      if (this.ty[n] !== LEAF) {
        n = s as number;
        min = lo;
        max = hi;
        continue;
      }
      if (s === null || s === ZERO_ENTRY) return undefined;
      this.foundFirst = lo;
      this.foundLast = hi;
      return s as T;
    }
  }

  /**
   * mt_find: the first entry whose range ends at or after `index` and starts
   * at or before `max` (XA_ZERO_ENTRY skipped). Its range is left in
   * foundFirst/foundLast.
   */
  find(index: number, max: number = MAPLE_MAX): T | undefined {
    if (!(index >= 0 && index <= MAPLE_MAX)) return undefined;
    if (this.rootNode < 0) {
      const v = this.rootEntry;
      if (v !== null && index === 0 && v !== ZERO_ENTRY) {
        this.foundFirst = this.foundLast = 0;
        return v as T;
      }
      return undefined;
    }
    let scanned = 0;
    let from = index;
    let found: unknown;
    const piv = this.pv;
    const sl = this.sl;
    const en = this.en;
    const c = this.counters;
    for (;;) {
      // The leaf holding `from` (leafOf, written out: the walk state's leaf
      // when `from` lies in it, else a walk from the root).
      let n: number;
      let nmin: number;
      let nmax: number;
      if (this.inCursor(from)) {
        c.nodesVisited++;
        n = this.curLeaf;
        nmin = this.curMin;
        nmax = this.curMax;
      } else {
        const leafDepth = this._height - 1;
        n = this.rootNode;
        nmin = 0;
        nmax = MAPLE_MAX;
        for (let d = 0; d < leafDepth; d++) {
          const e = en[n] as number;
          const pivB = n << 5;
          let i = 0;
          while ((piv[pivB + i] as number) < from) i++;
          scanned += i + 1;
          if (i > 0) nmin = (piv[pivB + i - 1] as number) + 1;
          if (i < e) nmax = piv[pivB + i] as number;
          n = sl[(n << 4) + i] as number;
        }
        c.nodesVisited += leafDepth + 1;
        this.setCursor(n, nmin, nmax);
      }
      const e = en[n] as number;
      const pivB = n << 5;
      let i = 0;
      while ((piv[pivB + i] as number) < from) i++;
      scanned += i + 1;
      let lo = i === 0 ? nmin : (piv[pivB + i - 1] as number) + 1;
      for (; i <= e && lo <= max; i++) {
        const hi = i < e ? (piv[pivB + i] as number) : nmax;
        const s = sl[(n << 4) + i];
        if (s !== null && s !== ZERO_ENTRY) {
          this.foundFirst = lo;
          this.foundLast = hi;
          found = s;
          break;
        }
        lo = hi + 1;
      }
      if (found !== undefined || i <= e || nmax >= max || nmax === MAPLE_MAX) break;
      scanned += e + 1;
      from = nmax + 1;
    }
    c.slotsScanned += scanned;
    return found as T | undefined;
  }

  /**
   * The last entry whose range starts at or before `index` and ends at or
   * after `min` (mas_find_rev / vma_prev), XA_ZERO_ENTRY skipped.
   */
  findRev(index: number, min = 0): T | undefined {
    if (!(index >= 0 && index <= MAPLE_MAX)) return undefined;
    if (this.rootNode < 0) {
      const v = this.rootEntry;
      if (v !== null && v !== ZERO_ENTRY && min === 0) {
        this.foundFirst = this.foundLast = 0;
        return v as T;
      }
      return undefined;
    }
    let scanned = 0;
    let from = index;
    let found: unknown;
    for (;;) {
      this.key[0] = from;
      const n = this.leafOf();
      const nmin = this.curMin;
      const nmax = this.curMax;
      const e = this.en[n] as number;
      const piv = this.pv;
      const pivB = n << 5;
      let i = 0;
      while ((piv[pivB + i] as number) < from) i++;
      scanned += i + 1;
      let hi = i < e ? (piv[pivB + i] as number) : nmax;
      let done = false;
      for (; i >= 0; i--) {
        if (hi < min) {
          done = true;
          break;
        }
        const lo = i === 0 ? nmin : (piv[pivB + i - 1] as number) + 1;
        const s = this.sl[(n << 4) + i];
        if (s !== null && s !== ZERO_ENTRY) {
          this.foundFirst = lo;
          this.foundLast = hi;
          found = s;
          break;
        }
        hi = lo - 1;
      }
      if (found !== undefined || done || nmin <= min || nmin === 0) break;
      from = nmin - 1;
    }
    this.counters.slotsScanned += scanned;
    return found as T | undefined;
  }

  /** Drops the walk state (mas_reset: the next call walks from the root). */
  resetWalk(): void {
    this.curSeq = -1;
  }

  /**
   * The leaf holding `index` (root a node): the walk state's when `index`
   * lies in it (one node visited), else by a walk from the root. Either way
   * the walk state is left on it: its range is curMin … curMax. The index
   * is passed in `key[0]` (unboxed, as WrState's doubles are).
   */
  private leafOf(): number {
    const index = this.key[0] as number;
    const c = this.counters;
    if (this.inCursor(index)) {
      c.nodesVisited++;
      return this.curLeaf;
    }
    const leafDepth = this._height - 1;
    let n = this.rootNode;
    let nmin = 0;
    let nmax = MAPLE_MAX;
    let scanned = 0;
    for (let d = 0; d < leafDepth; d++) {
      const e = this.en[n] as number;
      const piv = this.pv;
      const pivB = n << 5;
      let i = 0;
      while ((piv[pivB + i] as number) < index) i++;
      scanned += i + 1;
      if (i > 0) nmin = (piv[pivB + i - 1] as number) + 1;
      if (i < e) nmax = piv[pivB + i] as number;
      n = this.sl[(n << 4) + i] as number;
    }
    c.nodesVisited += leafDepth + 1;
    c.slotsScanned += scanned;
    this.setCursor(n, nmin, nmax);
    return n;
  }

  /** Does the walk state hold, with `index` in its leaf? */
  private inCursor(index: number): boolean {
    return this.curSeq === this.seq && index >= this.curMin && index <= this.curMax;
  }

  private setCursor(leaf: number, min: number, max: number): void {
    this.curLeaf = leaf;
    this.curMin = min;
    this.curMax = max;
    this.curSeq = this.seq;
  }

  /**
   * Entries `[first, last, value]` in index order, from the one containing
   * `from` up to `to` (mas_for_each): one walk from the root to the first
   * leaf, then the leaf's slots in order; the next leaf is reached as
   * mas_next_node does, up the path to the first ancestor with a slot to the
   * right and down its left-most edge. Throws if the tree is written during
   * the iteration.
   */
  entries(from = 0, to: number = MAPLE_MAX): IterableIterator<[number, number, T]> {
    const s = new Scan(from, to);
    const it: IterableIterator<[number, number, T]> = {
      next: () => {
        const v = this.scanNext(s);
        return v === undefined
          ? { done: true, value: undefined }
          : { done: false, value: [s.first, s.last, v] };
      },
      [Symbol.iterator]: () => it,
    };
    return it;
  }

  /** The values of `entries()`: the same walk and counts, without a tuple per entry. */
  values(from = 0, to: number = MAPLE_MAX): IterableIterator<T> {
    const s = new Scan(from, to);
    const it: IterableIterator<T> = {
      next: () => {
        const v = this.scanNext(s);
        return v === undefined ? { done: true, value: undefined } : { done: false, value: v };
      },
      [Symbol.iterator]: () => it,
    };
    return it;
  }

  /**
   * mt_for_each: calls `fn(v)` for each entry whose range meets [from, to], in
   * index order (XA_ZERO_ENTRY skipped), with the entry's range in
   * foundFirst / foundLast during the call. The walk and the counts of
   * `entries()`, with no iterator object and nothing allocated per entry. `fn`
   * must not modify the tree (that throws, as in `entries()`).
   */
  forEach(fn: (v: T) => void, from = 0, to: number = MAPLE_MAX): void {
    const seq = this.seq;
    if (this.rootNode < 0) {
      const v = this.find(from, to);
      if (v !== undefined) fn(v);
      return;
    }
    // scanNext's walk as one loop: a third faster per entry than stepping it.
    const p = takePath(); // fn may iterate too: a path of its own
    try {
      this.forEachFrom(p, fn, from, to, seq);
    } finally {
      givePath(p);
    }
  }

  /** forEach's walk along the path `p`, from the leaf holding `from`. */
  private forEachFrom(p: Path, fn: (v: T) => void, from: number, to: number, seq: number): void {
    const leafDepth = this._height - 1;
    this.descend(p, from, leafDepth);
    let i = p.slot;
    for (;;) {
      const leaf = p.node[leafDepth] as number;
      const lmax = p.max[leafDepth] as number;
      const e = this.en[leaf] as number;
      let lo =
        i === 0 ? (p.min[leafDepth] as number) : (this.pv[(leaf << 5) + i - 1] as number) + 1;
      for (; i <= e; i++) {
        if (lo > to) return;
        const hi = i < e ? (this.pv[(leaf << 5) + i] as number) : lmax;
        const s = this.sl[(leaf << 4) + i];
        if (s !== null && s !== ZERO_ENTRY) {
          this.foundFirst = lo;
          this.foundLast = hi;
          fn(s as T);
          if (this.seq !== seq) throw new Error('MapleTree modified during iteration');
        }
        lo = hi + 1;
      }
      this.counters.slotsScanned += e + 1;
      if (lmax >= to || lmax === MAPLE_MAX) return;
      this.nextLeaf(p, leafDepth);
      i = 0;
    }
  }

  /**
   * One step of an iteration: the next entry (its range in s.first/s.last), or
   * undefined at the end — stored values are never undefined. A hand-written
   * state machine rather than a generator: a generator's resume cost about
   * 70 ns here, four times a whole step.
   */
  private scanNext(s: Scan): T | undefined {
    if (s.state === 1) {
      if (this.seq !== s.seq) throw new Error('MapleTree modified during iteration');
    } else if (s.state === 0) {
      s.seq = this.seq;
      if (this.rootNode < 0) {
        s.state = 2;
        s.first = s.last = 0;
        return this.find(s.from, s.to) as T | undefined;
      }
      const d = this._height - 1;
      const p0 = takePath();
      s.p = p0;
      this.descend(p0, s.from, d);
      const leaf = p0.node[d] as number;
      s.depth = d;
      s.i = p0.slot;
      s.lo = s.i === 0 ? (p0.min[d] as number) : (this.pv[(leaf << 5) + s.i - 1] as number) + 1;
      s.state = 1;
    } else {
      return undefined;
    }
    const p = s.p as Path;
    const d = s.depth;
    const to = s.to;
    for (;;) {
      const leaf = p.node[d] as number;
      const lmax = p.max[d] as number;
      const e = this.en[leaf] as number;
      let lo = s.lo;
      for (let i = s.i; i <= e; i++) {
        if (lo > to) return this.scanEnd(s);
        const hi = i < e ? (this.pv[(leaf << 5) + i] as number) : lmax;
        const v = this.sl[(leaf << 4) + i];
        if (v !== null && v !== ZERO_ENTRY) {
          s.first = lo;
          s.last = hi;
          s.i = i + 1;
          s.lo = hi + 1;
          return v as T;
        }
        lo = hi + 1;
      }
      this.counters.slotsScanned += e + 1;
      if (lmax >= to || lmax === MAPLE_MAX) return this.scanEnd(s);
      this.nextLeaf(p, d);
      s.i = 0;
      s.lo = p.min[d] as number;
    }
  }

  /** The iteration is over: its path goes back to the pool. */
  private scanEnd(s: Scan): undefined {
    s.state = 2;
    if (s.p !== null) givePath(s.p);
    s.p = null;
    return undefined;
  }

  /**
   * Moves the path `p` (to a leaf at `leafDepth` that is not the right-most)
   * to the next leaf (mas_next_node): up to the first ancestor with a slot to
   * the right, then down the left-most edge. Counts each node read.
   */
  private nextLeaf(p: Path, leafDepth: number): void {
    const c = this.counters;
    let d = leafDepth;
    // Up: the first level whose parent has a child after this one.
    while (d > 0 && (p.off[d] as number) >= (this.en[p.node[d - 1] as number] as number)) {
      d--;
      c.nodesVisited++;
    }
    const parent = p.node[d - 1] as number;
    const off = (p.off[d] as number) + 1;
    c.nodesVisited++;
    p.min[d] = (p.max[d] as number) + 1;
    p.max[d] = this.pivotAt(parent, off, p.max[d - 1] as number);
    p.off[d] = off;
    p.node[d] = this.sl[(parent << 4) + off] as number;
    // Down the left-most edge.
    for (let k = d + 1; k <= leafDepth; k++) {
      const n = p.node[k - 1] as number;
      p.off[k] = 0;
      p.min[k] = p.min[k - 1] as number;
      p.max[k] = this.pivotAt(n, 0, p.max[k - 1] as number);
      p.node[k] = this.sl[n << 4] as number;
    }
    c.nodesVisited += leafDepth - d + 1;
    p.slot = 0;
  }

  /** Entries in reverse index order, from the one containing `from` down to `to`. */
  *entriesReverse(from: number = MAPLE_MAX, to = 0): Generator<[number, number, T]> {
    const seq = this.seq;
    let at = from;
    while (at >= to) {
      if (this.seq !== seq) throw new Error('MapleTree modified during iteration');
      const v = this.findRev(at, to);
      if (v === undefined) return;
      const f = this.foundFirst;
      yield [f, this.foundLast, v];
      if (f <= to || f === 0) return;
      at = f - 1;
    }
  }

  /**
   * Every stored range in order, including NULL ranges and XA_ZERO_ENTRY,
   * leaf by leaf (what mt_dump prints at the leaves).
   */
  *ranges(): Generator<[number, number, T | null | ZeroEntry]> {
    const root = this.rootNode;
    if (root < 0) {
      const v = this.rootEntry;
      if (v === null) {
        yield [0, MAPLE_MAX, null];
        return;
      }
      yield [0, 0, v as T];
      yield [1, MAPLE_MAX, null];
      return;
    }
    const stack: Array<[number, number, number]> = [[root, 0, MAPLE_MAX]];
    while (stack.length > 0) {
      const [n, min, max] = stack.pop() as [number, number, number];
      let lo = min;
      if (this.ty[n] === LEAF) {
        for (let i = 0; i <= (this.en[n] as number); i++) {
          const hi = this.pivotAt(n, i, max);
          yield [lo, hi, this.sl[(n << 4) + i] as T | null | ZeroEntry];
          lo = hi + 1;
        }
        continue;
      }
      const kids: Array<[number, number, number]> = [];
      for (let i = 0; i <= (this.en[n] as number); i++) {
        const hi = this.pivotAt(n, i, max);
        kids.push([this.sl[(n << 4) + i] as number, lo, hi]);
        lo = hi + 1;
      }
      for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i] as [number, number, number]);
    }
  }

  // -------------------------------------------------------------------------
  // Writes

  /** mtree_store_range: `[first, last]` = value (null erases). 0 or −EINVAL / −ENOMEM. */
  store(first: number, last: number, value: T | null | ZeroEntry): number {
    if (!isValidIndex(first) || !isValidIndex(last) || first > last) return -EINVAL;
    return this.write(first, last, value ?? null);
  }

  /** mtree_insert_range: like store, but −EEXIST if any index of the range is occupied. */
  insert(first: number, last: number, value: T | ZeroEntry): number {
    if (!isValidIndex(first) || !isValidIndex(last) || first > last || value === null)
      return -EINVAL;
    return this.write(first, last, value, true);
  }

  /** mtree_erase: removes the entry containing `index`; returns it. */
  erase(index: number): T | undefined {
    const v = this.load(index);
    if (v === undefined) return undefined;
    this.write(this.foundFirst, this.foundLast, null);
    return v;
  }

  /** Frees every node (mtree_destroy); the arenas go to the slab cache (or are released). */
  destroy(): void {
    if (this.rootNode >= 0) {
      this.freeSubtree(this.rootNode);
      this.releaseGraveyard();
    }
    this.rootNode = -1;
    this.rootEntry = null;
    this._height = 0;
    if (this.cap > 0 && this.cap <= CACHE_MAX_NODES) {
      // To the slab cache. Every slot is null already: freed nodes' slots are
      // cleared when they return to the slab, and past `end` they always are.
      if (SLAB_CACHE.length >= CACHE_MAX_ARENAS) SLAB_CACHE.shift();
      SLAB_CACHE.push({
        pv: this.pv,
        sl: this.sl,
        mt: this.mt,
        en: this.en,
        ty: this.ty,
        freeIds: this.freeIds,
        cap: this.cap,
      });
    }
    this.pv = new Float64Array(0);
    this.sl = [];
    this.mt = new Int32Array(0);
    this.en = new Uint8Array(0);
    this.ty = new Uint8Array(0);
    this.freeIds = new Int32Array(0);
    this.top = this.cap = this.nfree = 0;
    this.seq++;
  }

  /** True if any entry (XA_ZERO_ENTRY included) intersects [first, last]. */
  private occupied(first: number, last: number): boolean {
    if (this.rootNode < 0) return this.rootEntry !== null && first === 0;
    let at = first;
    for (;;) {
      const p = this.tp;
      this.descend(p, at, this._height - 1);
      const leaf = p.node[this._height - 1] as number;
      const lmax = p.max[this._height - 1] as number;
      let i = p.slot;
      let lo =
        i === 0
          ? (p.min[this._height - 1] as number)
          : (this.pv[(leaf << 5) + i - 1] as number) + 1;
      for (; i <= (this.en[leaf] as number); i++) {
        if (lo > last) return false;
        if (this.sl[(leaf << 4) + i] !== null) return true;
        lo = this.pivotAt(leaf, i, lmax) + 1;
      }
      if (lmax >= last) return false;
      at = lmax + 1;
    }
  }

  /** Walks from the root to `depth`, recording the path. */
  private descend(p: Path, index: number, depth: number): void {
    this.key[0] = index;
    this.descendKey(p, depth);
  }

  /** descend() to the index in `key[0]` (a double passed unboxed). */
  private descendKey(p: Path, depth: number): void {
    const index = this.key[0] as number;
    const pn = p.node;
    const po = p.off;
    const pmin = p.min;
    const pmax = p.max;
    let n = this.rootNode;
    let min = 0;
    let max = MAPLE_MAX;
    let scanned = 0;
    pn[0] = n;
    po[0] = 0;
    pmin[0] = 0;
    pmax[0] = MAPLE_MAX;
    for (let d = 0; ; d++) {
      const e = this.en[n] as number;
      const piv = this.pv;
      const pivB = n << 5;
      let i = 0;
      while ((piv[pivB + i] as number) < index) i++;
      scanned += i + 1;
      if (d === depth) {
        p.slot = i;
        const c = this.counters;
        c.nodesVisited += depth + 1;
        c.slotsScanned += scanned;
        return;
      }
      if (i > 0) min = (piv[pivB + i - 1] as number) + 1;
      if (i < e) max = piv[pivB + i] as number;
      n = this.sl[(n << 4) + i] as number;
      pn[d + 1] = n;
      po[d + 1] = i;
      pmin[d + 1] = min;
      pmax[d + 1] = max;
    }
  }

  /** Fills p.node/p.off above depth `d` from p.node[d] by parent links (mas_ascend). */
  private climb(p: Path, d: number): void {
    let n = p.node[d] as number;
    for (let k = d; k > 0; k--) {
      p.off[k] = this.mt[(n << 2) + M_PSLOT] as number;
      n = this.mt[(n << 2) + M_PARENT] as number;
      p.node[k - 1] = n;
    }
    p.off[0] = 0;
  }

  /**
   * Points `lp` at the leaf holding `key[0]` and its slot: from the walk
   * state when `index` lies in its leaf (one node visited; the ancestors are
   * left unset — found by parent links when a write needs them — and the
   * result is true), else from the root (false).
   */
  private walkTo(): boolean {
    const index = this.key[0] as number;
    const lp = this.lp;
    const d = this._height - 1;
    if (this.inCursor(index)) {
      const n = this.curLeaf;
      const piv = this.pv;
      const pivB = n << 5;
      let i = 0;
      while ((piv[pivB + i] as number) < index) i++;
      lp.slot = i;
      lp.node[d] = n;
      lp.min[d] = this.curMin;
      lp.max[d] = this.curMax;
      const c = this.counters;
      c.nodesVisited++;
      c.slotsScanned += i + 1;
      return true;
    }
    this.descendKey(lp, d);
    return false;
  }

  /** A store; `exclusive` (mas_insert): −EEXIST if any of [first, last] is occupied. */
  private write(first: number, last: number, entry: unknown, exclusive = false): number {
    if (this.rootNode < 0) {
      if (exclusive && this.rootEntry !== null && first === 0) return -EEXIST;
      this.ensure(1);
      return this.storeRoot(first, last, entry);
    }
    const h = this._height;
    // Room for the worst case (a split to the root and a new root), before
    // anything of the tree is read.
    this.ensure(3 * h + 4);
    const leafDepth = h - 1;
    const lp = this.lp;
    // From the cursor the ancestors' ranges are not known: a spanning store
    // or a rebuild, which need them, walks again from the root.
    this.key[0] = first;
    const partial = this.walkTo();
    const leaf = lp.node[leafDepth] as number;
    const lmin = lp.min[leafDepth] as number;
    const lmax = lp.max[leafDepth] as number;

    // mas_is_span_wr: the write runs past this leaf, or a NULL write ends
    // exactly at a leaf boundary that is not the right-most.
    if (last > lmax || (last === lmax && entry === null && lmax !== MAPLE_MAX)) {
      if (exclusive && this.occupied(first, last)) return -EEXIST;
      if (partial) this.descend(lp, first, leafDepth);
      // The right end: the leaf holding `last`, or for a NULL write ending at
      // a leaf boundary the next leaf, so that no leaf but the right-most
      // ends in NULL.
      const rp = this.rp;
      this.descend(rp, last, leafDepth);
      const rmax = rp.max[leafDepth] as number;
      const moved = entry === null && last === rmax && rmax !== MAPLE_MAX;
      if (moved) this.descend(rp, last + 1, leafDepth);
      if (!this.begin(ST_SPANNING, h, leafDepth, true)) return -ENOMEM;
      this.spanningStore(first, last, entry, moved);
      return this.end();
    }

    let off = lp.slot;
    const piv = this.pv;
    const pivB = leaf << 5;
    const e = this.en[leaf] as number;
    let rMin = off === 0 ? lmin : (piv[pivB + off - 1] as number) + 1;
    let offEnd = off;
    while (offEnd < e && (piv[pivB + offEnd] as number) < last) offEnd++;
    let endPiv = offEnd < e ? (piv[pivB + offEnd] as number) : lmax;
    if (exclusive)
      for (let i = off; i <= offEnd; i++) if (this.sl[(leaf << 4) + i] !== null) return -EEXIST;
    if (entry === null) {
      // mas_wr_extend_null: swallow the NULL ranges on both sides.
      if (this.sl[(leaf << 4) + off] === null) first = rMin;
      else if (first === rMin && off > 0 && this.sl[(leaf << 4) + off - 1] === null) {
        off--;
        rMin = off === 0 ? lmin : (piv[pivB + off - 1] as number) + 1;
        first = rMin;
      }
      if (this.sl[(leaf << 4) + offEnd] === null) last = endPiv;
      else if (last === endPiv && offEnd < e && this.sl[(leaf << 4) + offEnd + 1] === null) {
        offEnd++;
        endPiv = offEnd < e ? (piv[pivB + offEnd] as number) : lmax;
        last = endPiv;
      }
    }

    if (off === offEnd && rMin === first && endPiv === last) {
      // exact_fit: replace the pointer in place.
      if (!this.begin(ST_EXACT, h, leafDepth, false)) return -ENOMEM;
      const old = this.sl[(leaf << 4) + off];
      this.sl[(leaf << 4) + off] = entry;
      if (this.isAlloc && (old === null) !== (entry === null)) this.leafChanged(lp, leafDepth);
      const r = this.end();
      this.setCursor(leaf, lmin, lmax);
      return r;
    }
    if (first === 0 && last === MAPLE_MAX) {
      if (!this.begin(ST_NEW_ROOT, h, leafDepth, true)) return -ENOMEM;
      this.newRoot(entry);
      return this.end();
    }

    let newEnd = e + 2 - (offEnd - off);
    if (rMin === first) newEnd--;
    if (endPiv === last) newEnd--;

    let type: number;
    if (newEnd < (MIN_END[LEAF] as number) && leafDepth > 0 && !this.bulk) type = ST_REBALANCE;
    else if (newEnd >= (SLOTS[LEAF] as number)) type = ST_SPLIT;
    else if (!this.rcu && off === e) type = ST_APPEND;
    else if (newEnd === e && (!this.rcu || offEnd - off === 1)) type = ST_SLOT;
    else type = ST_NODE;
    if (!this.begin(type, h, leafDepth, true)) return -ENOMEM;

    if (type === ST_REBALANCE || type === ST_SPLIT) {
      if (partial) this.descend(lp, first, leafDepth);
      // The leaf's new contents, in a big node, rebuilt upward.
      const big = this.bigA;
      big.clear();
      if (off > 0) this.pushNode(big, leaf, 0, off - 1, lmax);
      if (first > rMin) big.push(first - 1, this.sl[(leaf << 4) + off], 0);
      big.push(last, entry, 0);
      if (last < endPiv) big.push(endPiv, this.sl[(leaf << 4) + offEnd], 0);
      if (offEnd < e) this.pushNode(big, leaf, offEnd + 1, e, lmax);
      this.freeNode(leaf);
      this.rp.copyFrom(lp, leafDepth);
      this.rebuild(leafDepth, LEAF, type === ST_SPLIT);
      return this.end();
    }
    const w = this.wr;
    w.first = first;
    w.last = last;
    w.rMin = rMin;
    w.endPiv = endPiv;
    if (type === ST_NODE && this.rcu) {
      // A replacement node, swapped in for readers.
      const n = this.alloc(LEAF);
      this.writeLeaf(n, leaf, off, offEnd, entry);
      this.replaceChild(lp, leafDepth, n);
      this.freeNode(leaf);
    } else {
      this.writeLeaf(leaf, leaf, off, offEnd, entry);
    }
    if (this.isAlloc) this.leafChanged(lp, leafDepth);
    const r = this.end();
    // The leaf changed in place or was replaced in lp: the walk state holds.
    this.setCursor(lp.node[leafDepth] as number, lmin, lmax);
    return r;
  }

  /**
   * Writes `src`'s data with `entry` over [first, last] (covering slots off …
   * offEnd of `src`, whose range is [rMin, endPiv]) into `dst` — a new node,
   * or `src` itself (in place: the slots after the write move by the change
   * in count). The result fits the node (checked by the classification).
   */
  private writeLeaf(dst: number, src: number, off: number, offEnd: number, entry: unknown): void {
    const w = this.wr;
    const first = w.first;
    const last = w.last;
    const rMin = w.rMin;
    const endPiv = w.endPiv;
    const e = this.en[src] as number;
    // Source and destination are records of the same arenas.
    const sPiv = this.pv;
    const sPivB = src << 5;
    const sSlot = this.sl;
    const sSlotB = src << 4;
    const dPiv = sPiv;
    const dPivB = dst << 5;
    const dSlot = sSlot;
    const dSlotB = dst << 4;
    const headV = sSlot[sSlotB + off];
    const tailV = sSlot[sSlotB + offEnd];
    const head = first > rMin ? 1 : 0;
    const tail = last < endPiv ? 1 : 0;
    const from = offEnd + 1; // first old slot after the write
    const to = off + head + 1 + tail; // its new offset
    const newEnd = to + (e - from);
    // The old slots after the write, from..e, move to to..newEnd. The last one
    // ends at the leaf's max: only its slot moves (its pivot is the scan stop
    // written below).
    if (dst !== src) {
      for (let i = 0; i < off; i++) {
        dSlot[dSlotB + i] = sSlot[sSlotB + i];
        dPiv[dPivB + i] = sPiv[sPivB + i] as number;
      }
      for (let i = from, k = to; i < e; i++, k++) {
        dSlot[dSlotB + k] = sSlot[sSlotB + i];
        dPiv[dPivB + k] = sPiv[sPivB + i] as number;
      }
      if (from <= e) dSlot[dSlotB + newEnd] = sSlot[sSlotB + e];
    } else if (to > from) {
      // In place, to the right: from the end down.
      if (from <= e) dSlot[dSlotB + newEnd] = sSlot[sSlotB + e];
      for (let i = e - 1, k = newEnd - 1; i >= from; i--, k--) {
        dSlot[dSlotB + k] = sSlot[sSlotB + i];
        dPiv[dPivB + k] = sPiv[sPivB + i] as number;
      }
    } else if (to < from) {
      // In place, to the left: from the start up, then the vacated slots cleared.
      for (let i = from, k = to; i < e; i++, k++) {
        dSlot[dSlotB + k] = sSlot[sSlotB + i];
        dPiv[dPivB + k] = sPiv[sPivB + i] as number;
      }
      if (from <= e) dSlot[dSlotB + newEnd] = sSlot[sSlotB + e];
      for (let k = newEnd + 1; k <= e; k++) dSlot[dSlotB + k] = null;
    }
    let k = off;
    if (head) {
      dSlot[dSlotB + k] = headV;
      dPiv[dPivB + k++] = first - 1;
    }
    dSlot[dSlotB + k] = entry;
    if (k < 15) dPiv[dPivB + k] = last;
    k++;
    if (tail) {
      dSlot[dSlotB + k] = tailV;
      if (k < 15) dPiv[dPivB + k] = endPiv;
    }
    this.en[dst] = newEnd;
    dPiv[dPivB + newEnd] = PIVOT_STOP;
    this.counters.slotsScanned += newEnd + 1;
  }

  /** The tree is empty or a single entry at index 0: no node yet (mas_store_root). */
  private storeRoot(first: number, last: number, entry: unknown): number {
    const old = this.rootEntry;
    const plain = first === 0 && last === 0;
    if (entry === null || plain) {
      if (!this.begin(ST_ROOT, 0, 0, false)) return -ENOMEM;
      if (plain) this.rootEntry = entry;
      else if (first === 0) this.rootEntry = null;
      return this.end();
    }
    if (!this.begin(ST_ROOT, 0, 0, true)) return -ENOMEM;
    const big = this.bigA;
    big.clear();
    if (old !== null && first > 0) big.push(0, old, 0);
    if (first > (old !== null ? 1 : 0)) big.push(first - 1, null, 0);
    big.push(last, entry, 0);
    if (last < MAPLE_MAX) big.push(MAPLE_MAX, null, 0);
    const n = this.alloc(LEAF);
    this.fill(n, big, 0, big.n, 0, MAPLE_MAX);
    this.rootEntry = null;
    this.setRoot(n);
    this._height = 1;
    return this.end();
  }

  /** A store over [0, MAPLE_MAX]: everything is replaced by one leaf (or nothing). */
  private newRoot(entry: unknown): void {
    this.freeSubtree(this.rootNode);
    this.rootNode = -1;
    if (entry === null) {
      this._height = 0;
      return;
    }
    const n = this.alloc(LEAF);
    this.sl[n << 4] = entry;
    this.en[n] = 0;
    this.pv[n << 5] = PIVOT_STOP;
    this.setRoot(n);
    this._height = 1;
  }

  /**
   * A write whose range crosses leaves. The left leaf's data before `first`,
   * the entry, and the right leaf's data after `last` form the new leaf
   * level; everything strictly between is discarded; rebuild() carries the
   * change up to the common ancestor.
   */
  private spanningStore(first: number, last: number, entry: unknown, moved: boolean): void {
    const leafDepth = this._height - 1;
    const lp = this.lp;
    const rp = this.rp;
    const rNode = rp.node[leafDepth] as number;
    const rmax = rp.max[leafDepth] as number;
    const lNode = lp.node[leafDepth] as number;
    const lmin = lp.min[leafDepth] as number;
    const lmax = lp.max[leafDepth] as number;
    let offL = lp.slot;
    let rMin = offL === 0 ? lmin : (this.pv[(lNode << 5) + offL - 1] as number) + 1;
    let offR = moved ? -1 : rp.slot;
    if (entry === null) {
      if (this.sl[(lNode << 4) + offL] === null) first = rMin;
      else if (first === rMin && offL > 0 && this.sl[(lNode << 4) + offL - 1] === null) {
        offL--;
        rMin = offL === 0 ? lmin : (this.pv[(lNode << 5) + offL - 1] as number) + 1;
        first = rMin;
      }
      if (moved) {
        if (this.sl[rNode << 4] === null) {
          offR = 0;
          last = this.pivotAt(rNode, 0, rmax);
        }
      } else {
        const endPiv = this.pivotAt(rNode, offR, rmax);
        if (this.sl[(rNode << 4) + offR] === null) last = endPiv;
        else if (
          last === endPiv &&
          offR < (this.en[rNode] as number) &&
          this.sl[(rNode << 4) + offR + 1] === null
        ) {
          offR++;
          last = this.pivotAt(rNode, offR, rmax);
        }
      }
    }
    if (first === 0 && last === MAPLE_MAX) {
      this.newRoot(entry);
      return;
    }
    const big = this.bigA;
    big.clear();
    if (offL > 0) this.pushNode(big, lNode, 0, offL - 1, lmax);
    if (first > rMin) big.push(first - 1, this.sl[(lNode << 4) + offL], 0);
    big.push(last, entry, 0);
    if (offR >= 0) {
      const endPiv = this.pivotAt(rNode, offR, rmax);
      if (last < endPiv) big.push(endPiv, this.sl[(rNode << 4) + offR], 0);
    }
    if (offR < (this.en[rNode] as number))
      this.pushNode(big, rNode, offR + 1, this.en[rNode] as number, rmax);
    this.freeNode(lNode);
    this.freeNode(rNode);
    this.rebuild(leafDepth, LEAF, false);
  }

  /**
   * Rebuilds from depth `d` upward. bigA holds the new data replacing the
   * run of nodes lp.node[d] … rp.node[d] (already freed). Each level: absorb
   * a neighbour if the data is too small (rebalance), push into a sibling or
   * split into two or three nodes if it is too big, then form the parent
   * level's data from the parents' other children and the new nodes. Stops at
   * the first level that takes the result without overflowing or
   * underflowing; a root split adds a level, a root with one child is
   * collapsed.
   */
  private rebuild(depth: number, startType: NodeType, split: boolean): void {
    const lp = this.lp;
    const rp = this.rp;
    let d = depth;
    let type: NodeType = startType;
    for (;;) {
      let cur = this.bigA;
      if (d === 0) {
        this.finishRoot(type);
        return;
      }
      const cap = SLOTS[type] as number;
      let lo = lp.min[d] as number;
      let hi = rp.max[d] as number;
      const PL0 = lp.node[d - 1] as number;
      const PR0 = rp.node[d - 1] as number;
      if (cur.n - 1 < (MIN_END[type] as number) && !this.bulk) {
        // Too little data: take in a neighbour (right first).
        const oR = rp.off[d] as number;
        const oL = lp.off[d] as number;
        if (oR < (this.en[PR0] as number)) {
          const s = this.sl[(PR0 << 4) + oR + 1] as number;
          const sMax = this.pivotAt(PR0, oR + 1, rp.max[d - 1] as number);
          this.pushNode(cur, s, 0, this.en[s] as number, sMax);
          this.freeNode(s);
          this.setPath(rp, d, s, oR + 1, hi + 1, sMax);
          hi = sMax;
        } else if (oL > 0) {
          const s = this.sl[(PL0 << 4) + oL - 1] as number;
          const sMin =
            oL - 1 === 0 ? (lp.min[d - 1] as number) : (this.pv[(PL0 << 5) + oL - 2] as number) + 1;
          this.prependNode(s, lo - 1);
          this.freeNode(s);
          this.setPath(lp, d, s, oL - 1, sMin, lo - 1);
          lo = sMin;
        } else if (hi !== MAPLE_MAX) {
          const tp = this.tp;
          this.descend(tp, hi + 1, d);
          const s = tp.node[d] as number;
          const sMax = tp.max[d] as number;
          this.pushNode(cur, s, 0, this.en[s] as number, sMax);
          this.freeNode(s);
          rp.copyFrom(tp, d);
          hi = sMax;
        } else if (lo !== 0) {
          const tp = this.tp;
          this.descend(tp, lo - 1, d);
          const s = tp.node[d] as number;
          this.prependNode(s, lo - 1);
          this.freeNode(s);
          lp.copyFrom(tp, d);
          lo = tp.min[d] as number;
        }
      } else if (split && cur.n > cap && !this.bulk) {
        // split_store: push into a sibling with room before splitting.
        let space = 2 * cap - 2;
        if (type === LEAF) space--;
        if (hi === MAPLE_MAX) space--;
        const oL = lp.off[d] as number;
        const oR = rp.off[d] as number;
        const left = oL > 0 ? (this.sl[(PL0 << 4) + oL - 1] as number) : null;
        const right =
          oR < (this.en[PR0] as number) ? (this.sl[(PR0 << 4) + oR + 1] as number) : null;
        if (left !== null && cur.n + (this.en[left] as number) + 1 < space) {
          const sMin =
            oL - 1 === 0 ? (lp.min[d - 1] as number) : (this.pv[(PL0 << 5) + oL - 2] as number) + 1;
          this.prependNode(left, lo - 1);
          this.freeNode(left);
          this.setPath(lp, d, left, oL - 1, sMin, lo - 1);
          lo = sMin;
          this.counters.bump('maple.push_left');
        } else if (right !== null && cur.n + (this.en[right] as number) + 1 < space) {
          const sMax = this.pivotAt(PR0, oR + 1, rp.max[d - 1] as number);
          this.pushNode(cur, right, 0, this.en[right] as number, sMax);
          this.freeNode(right);
          this.setPath(rp, d, right, oR + 1, hi + 1, sMax);
          hi = sMax;
          this.counters.bump('maple.push_right');
        }
      }

      // Distribute into new nodes.
      cur = this.bigA;
      const nodes = this.distribute(type, lo, hi);

      // The parent level's data.
      const PL = lp.node[d - 1] as number;
      const PR = rp.node[d - 1] as number;
      const oL = lp.off[d] as number;
      const oR = rp.off[d] as number;
      const pmax = rp.max[d - 1] as number;
      const up = this.bigB;
      up.clear();
      if (oL > 0) this.pushNode(up, PL, 0, oL - 1, lp.max[d - 1] as number);
      for (const nn of nodes) up.push(nn.max, nn.node, nn.gap);
      if (oR < (this.en[PR] as number)) this.pushNode(up, PR, oR + 1, this.en[PR] as number, pmax);
      if (PL === PR) {
        for (let i = oL + 1; i < oR; i++) this.freeSubtree(this.sl[(PL << 4) + i] as number);
      } else {
        for (let i = oL + 1; i <= (this.en[PL] as number); i++)
          this.freeSubtree(this.sl[(PL << 4) + i] as number);
        for (let i = 0; i < oR; i++) this.freeSubtree(this.sl[(PR << 4) + i] as number);
      }
      const ptype = this.ty[PL] as NodeType;
      this.freeNode(PL);
      if (PR !== PL) this.freeNode(PR);
      this.bigB = cur;
      this.bigA = up;
      cur.clear();
      d--;
      type = ptype;
      if (
        d > 0 &&
        PL === PR &&
        (this.bulk || up.n - 1 >= (MIN_END[ptype] as number)) &&
        up.n <= (SLOTS[ptype] as number)
      ) {
        // This level takes the change: one replacement node, then gaps.
        const n = this.alloc(ptype);
        const g = this.fill(n, up, 0, up.n, lp.min[d] as number, lp.max[d] as number);
        up.clear();
        this.replaceChild(lp, d, n);
        if (this.isAlloc) this.propagateGap(lp, d, g);
        return;
      }
    }
  }

  private setPath(p: Path, d: number, node: number, off: number, min: number, max: number): void {
    p.node[d] = node;
    p.off[d] = off;
    p.min[d] = min;
    p.max[d] = max;
  }

  /** Appends slots [from, to] of `node` (whose max is `max`) to `big`. */
  private pushNode(big: Big, node: number, from: number, to: number, max: number): void {
    const pv = this.pv;
    const pb = node << 5;
    const sb = node << 4;
    const e = this.en[node] as number;
    const arange = (this.ty[node] as NodeType) === ARANGE;
    for (let i = from; i <= to; i++)
      big.push(
        i < e ? (pv[pb + i] as number) : max,
        this.sl[sb + i],
        arange ? (pv[pb + GAP_AT + i] as number) : 0,
      );
  }

  /** Upper bound of slot `i` of `node`, whose max is `max`. */
  private pivotAt(node: number, i: number, max: number): number {
    return i < (this.en[node] as number) ? (this.pv[(node << 5) + i] as number) : max;
  }

  /** bigA = node's data (node ends at `max`) + bigA. */
  private prependNode(node: number, max: number): void {
    const cur = this.bigA;
    const tmp = this.bigB;
    tmp.clear();
    this.pushNode(tmp, node, 0, this.en[node] as number, max);
    for (let i = 0; i < cur.n; i++)
      tmp.push(cur.piv[i] as number, cur.slot[i], cur.gap[i] as number);
    cur.clear();
    this.bigA = tmp;
    this.bigB = cur;
  }

  /**
   * Splits bigA (data of type `type` covering [lo, hi]) into 1–3 nodes of
   * legal size; a leaf that is not the right-most never ends in NULL.
   */
  private distribute(
    type: NodeType,
    lo: number,
    hi: number,
  ): Array<{ node: number; max: number; gap: number }> {
    const big = this.bigA;
    const n = big.n;
    const cap = SLOTS[type] as number;
    const m = n <= cap ? 1 : n <= 2 * cap - 2 ? 2 : 3;
    if (m === 3 && n > 3 * cap - 3)
      throw new Error(`maple: ${n} slots do not fit three nodes (internal error)`);
    const cuts: number[] = [];
    let at = 0;
    for (let k = 0; k < m - 1; k++) {
      let size = Math.floor((n - at) / (m - k));
      if (this.bulk && m === 2) {
        // Bulk mode: entries arrive in ascending order, so the left node is
        // left as full as possible (the right one fills up next).
        size = Math.min(n - (MIN_END[type] as number) + 1, cap);
        if (type === LEAF && big.slot[size - 1] === null) size--;
      } else if (type === LEAF && big.slot[at + size - 1] === null) {
        // A split must not leave a NULL at the end of the left node.
        size++;
      }
      at += size;
      cuts.push(at);
    }
    cuts.push(n);
    const out: Array<{ node: number; max: number; gap: number }> = [];
    let from = 0;
    let min = lo;
    for (const cut of cuts) {
      const max = cut === n ? hi : (big.piv[cut - 1] as number);
      const node = this.alloc(type);
      const gap = this.fill(node, big, from, cut - from, min, max);
      out.push({ node, max, gap });
      from = cut;
      min = max + 1;
    }
    if (m > 1) this.counters.bump(m === 2 ? 'maple.split2' : 'maple.split3');
    return out;
  }

  /** The root level's data is in bigA: make the new root (collapse, or split and grow). */
  private finishRoot(type: NodeType): void {
    const big = this.bigA;
    if (type !== LEAF && big.n === 1) {
      // One child left: it becomes the root (and so on down).
      let r = big.slot[0] as number;
      big.clear();
      this._height--;
      while (this.ty[r] !== LEAF && (this.en[r] as number) === 0) {
        const child = this.sl[r << 4] as number;
        this.freeNode(r);
        r = child;
        this._height--;
      }
      this.setRoot(r);
      if (this.ty[r] === LEAF && (this.en[r] as number) === 0 && this.sl[r << 4] === null) {
        this.freeNode(r);
        this.rootNode = -1;
        this._height = 0;
      }
      return;
    }
    if (type === LEAF && big.n === 1 && big.slot[0] === null) {
      big.clear();
      this.rootNode = -1;
      this._height = 0;
      return;
    }
    if (big.n <= (SLOTS[type] as number)) {
      const n = this.alloc(type);
      this.fill(n, big, 0, big.n, 0, MAPLE_MAX);
      big.clear();
      this.setRoot(n);
      return;
    }
    // The root splits: a new root above.
    const nodes = this.distribute(type, 0, MAPLE_MAX);
    big.clear();
    for (const nn of nodes) big.push(nn.max, nn.node, nn.gap);
    const r = this.alloc(this.internalType);
    this.fill(r, big, 0, big.n, 0, MAPLE_MAX);
    big.clear();
    this.setRoot(r);
    this._height++;
  }

  /** Copies big[from, from+count) into `n` covering [min, max]; returns n's largest gap. */
  private fill(n: number, big: Big, from: number, count: number, min: number, max: number): number {
    const pv = this.pv;
    const pb = n << 5;
    const sl = this.sl;
    const sb = n << 4;
    const mt = this.mt;
    const last = count - 1;
    for (let i = 0; i < count; i++) {
      sl[sb + i] = big.slot[from + i];
      if (i < last) pv[pb + i] = big.piv[from + i] as number;
    }
    for (let i = count; i < SL_STRIDE; i++) sl[sb + i] = null;
    this.en[n] = last;
    pv[pb + last] = PIVOT_STOP;
    const type = this.ty[n];
    if (type === LEAF) return this.isAlloc ? this.leafGap(n, min, max) : 0;
    for (let i = 0; i < count; i++) {
      const child = sl[sb + i] as number;
      mt[(child << 2) + M_PARENT] = n;
      mt[(child << 2) + M_PSLOT] = i;
    }
    if (type !== ARANGE) return 0;
    const gb = pb + GAP_AT;
    let best = 0;
    for (let i = 0; i < count; i++) {
      const v = big.gap[from + i] as number;
      pv[gb + i] = v;
      if (v > (pv[gb + best] as number)) best = i;
    }
    this.counters.gapUpdates += count;
    mt[(n << 2) + M_GAPOFF] = best;
    return pv[gb + best] as number;
  }

  /** Largest NULL range in a leaf covering [min, max] (leaf gaps are not stored). */
  private leafGap(n: number, min: number, max: number): number {
    const k = this.key;
    k[0] = min;
    k[1] = max;
    return this.leafGapKey(n);
  }

  /**
   * leafGap over the range in key[0] … key[1] (doubles passed unboxed: the
   * hot caller, leafChanged, reads them from its path).
   */
  private leafGapKey(n: number): number {
    let best = 0;
    let lo = this.key[0] as number;
    const max = this.key[1] as number;
    const e = this.en[n] as number;
    const piv = this.pv;
    const pivB = n << 5;
    const slot = this.sl;
    const slotB = n << 4;
    for (let i = 0; i < e; i++) {
      const hi = piv[pivB + i] as number;
      if (slot[slotB + i] === null && hi - lo + 1 > best) best = hi - lo + 1;
      lo = hi + 1;
    }
    // The last slot ends at the leaf's max.
    if (slot[slotB + e] === null && max - lo + 1 > best) best = max - lo + 1;
    this.counters.slotsScanned += e + 1;
    return best;
  }

  /** The leaf at path depth `d` changed: its largest NULL range goes up the path. */
  private leafChanged(p: Path, d: number): void {
    const k = this.key;
    k[0] = p.min[d] as number;
    k[1] = p.max[d] as number;
    this.propagateGap(p, d, this.leafGapKey(p.node[d] as number));
  }

  /**
   * The node at path depth `d` now has largest gap `gap`: record it in the
   * parent and go up while the parent's largest gap changes.
   */
  private propagateGap(p: Path, d: number, gap: number): void {
    const c = this.counters;
    const pv = this.pv;
    const mt = this.mt;
    let v = gap;
    let n = p.node[d] as number;
    for (let k = d; k > 0; k--) {
      // The parent by the node's link: the path above a walk that started
      // from the walk state is not recorded.
      const parent = mt[(n << 2) + M_PARENT] as number;
      const off = mt[(n << 2) + M_PSLOT] as number;
      n = parent;
      const gb = (parent << 5) + GAP_AT;
      const mb = parent << 2;
      if (pv[gb + off] === v) return;
      let gapOff = mt[mb + M_GAPOFF] as number;
      const oldMax = pv[gb + gapOff] as number;
      pv[gb + off] = v;
      c.gapUpdates++;
      if (off === gapOff || v > oldMax) {
        const e = this.en[parent] as number;
        gapOff = 0;
        for (let i = 1; i <= e; i++)
          if ((pv[gb + i] as number) > (pv[gb + gapOff] as number)) gapOff = i;
        mt[mb + M_GAPOFF] = gapOff;
      }
      const newMax = pv[gb + gapOff] as number;
      if (newMax === oldMax) return;
      v = newMax;
    }
  }

  /** Puts `n` where p.node[d] was (in its parent's slot, or as the root). */
  private replaceChild(p: Path, d: number, n: number): void {
    if (d === 0) {
      this.setRoot(n);
    } else {
      // The old node's parent link (the path above may not be recorded).
      const old = p.node[d] as number;
      const parent = this.mt[(old << 2) + M_PARENT] as number;
      const off = this.mt[(old << 2) + M_PSLOT] as number;
      this.sl[(parent << 4) + off] = n;
      this.mt[(n << 2) + M_PARENT] = parent;
      this.mt[(n << 2) + M_PSLOT] = off;
    }
    p.node[d] = n;
  }

  /** `n` becomes the root node. */
  private setRoot(n: number): void {
    this.rootNode = n;
    this.rootEntry = null;
    this.mt[(n << 2) + M_PARENT] = -1;
    this.mt[(n << 2) + M_PSLOT] = 0;
  }

  // -------------------------------------------------------------------------
  // Node accounting and preallocation

  /**
   * Starts a write of store type `type`: counts it and preallocates the
   * nodes the policy asks for. false: the slab failed (−ENOMEM), nothing
   * changed.
   */
  private begin(type: number, h: number, leafDepth: number, mayAlloc: boolean): boolean {
    if (this.bulk) {
      // Bulk mode draws on the mas_expected_entries estimate; what a store
      // needs beyond what is left of it is allocated on demand (and can fail).
      const need = mayAlloc ? this.request(type, h, leafDepth, 'by-store-type') : 0;
      const left = this.bulkRequested - this.bulkUsed;
      if (need > left) {
        const extra = need - left;
        if (extra > this.allocBudget) return false;
        this.allocBudget -= extra;
        this.bulkRequested += extra;
        this.stats.nodesOnDemand += extra;
        this.stats.nodesRequested += extra;
        this.counters.nodesAllocated += extra;
      }
      const s = this.stats;
      s.stores[type] = (s.stores[type] as number) + 1;
      this.requested = this.used = 0;
      return true;
    }
    const want = mayAlloc
      ? this.request(type, h, leafDepth)
      : this.prealloc === 'worst-case'
        ? 1 + 3 * h
        : 0;
    if (want > this.allocBudget) return false;
    this.allocBudget -= want;
    this.requested = want;
    this.used = 0;
    const s = this.stats;
    s.stores[type] = (s.stores[type] as number) + 1;
    s.nodesRequested += want;
    this.counters.nodesAllocated += want;
    return true;
  }

  private end(): number {
    const s = this.stats;
    if (this.bulk) {
      this.bulkUsed += this.used;
      this.requested = this.used = 0;
      this.releaseGraveyard();
      this.seq++;
      return 0;
    }
    const unused = this.requested - this.used;
    if (unused < 0) s.overruns++;
    else {
      s.nodesReturned += unused;
      this.counters.nodesFreed += unused;
    }
    s.nodesUsed += this.used;
    this.requested = this.used = 0;
    this.releaseGraveyard();
    this.seq++;
    return 0;
  }

  private request(type: number, h: number, leafDepth: number, policy = this.prealloc): number {
    if (policy === 'worst-case') return 1 + 3 * h;
    switch (type) {
      case ST_ROOT:
      case ST_NEW_ROOT:
        return 1;
      case ST_NODE:
        return this.rcu ? 1 : 0;
      case ST_SPLIT:
        if (policy !== 'vacant-height') return 2 * h + 1;
        this.climb(this.lp, leafDepth);
        return 2 * (h - this.vacantHeight(leafDepth)) + 1;
      case ST_REBALANCE:
        if (policy !== 'vacant-height') return 2 * h - 1;
        this.climb(this.lp, leafDepth);
        return 2 * (h - this.sufficientHeight(leafDepth, 1)) + 1;
      case ST_SPANNING:
        return policy === 'vacant-height'
          ? 3 * (h - this.spanningHeight(leafDepth)) + 1
          : 3 * h + 1;
      default:
        return 0;
    }
  }

  /**
   * Height (root = 1) of the lowest ancestor of the leaf with a free slot:
   * a split stops there. 0 if every ancestor is full.
   */
  private vacantHeight(leafDepth: number): number {
    const lp = this.lp;
    for (let d = leafDepth - 1; d >= 0; d--) {
      const n = lp.node[d] as number;
      if ((this.en[n] as number) < (SLOTS[this.ty[n] as NodeType] as number) - 1) return d + 1;
    }
    return 0;
  }

  /**
   * Height (root = 1) of the lowest ancestor that can lose `lose` children
   * and stay legal: a rebalance stops there. 0 if none.
   */
  private sufficientHeight(leafDepth: number, lose: number): number {
    const lp = this.lp;
    for (let d = leafDepth - 1; d >= 0; d--) {
      const n = lp.node[d] as number;
      if (
        d === 0
          ? (this.en[n] as number) - lose >= 1
          : (this.en[n] as number) - lose >= (MIN_END[this.ty[n] as NodeType] as number)
      )
        return d + 1;
    }
    return 0;
  }

  /**
   * For a spanning store: the lowest ancestor at or above the common
   * ancestor of both ends that stays legal whether it gains one slot or
   * loses the children inside the range (the whole run replaced by one
   * node). 0 if none.
   */
  private spanningHeight(leafDepth: number): number {
    const lp = this.lp;
    const rp = this.rp;
    let lca = 0;
    while (lca < leafDepth && lp.node[lca + 1] === rp.node[lca + 1]) lca++;
    for (let d = lca; d >= 0; d--) {
      const n = lp.node[d] as number;
      const cap = SLOTS[this.ty[n] as NodeType] as number;
      const min = MIN_END[this.ty[n] as NodeType] as number;
      // At the common ancestor the run of children is replaced by 1–3 nodes;
      // above it a level gains or loses at most one child.
      const width = d === lca ? (rp.off[d + 1] as number) - (lp.off[d + 1] as number) + 1 : 1;
      const most = (this.en[n] as number) + 1 - width + (d === lca ? 3 : 2);
      const least = (this.en[n] as number) + 1 - width + (d === lca ? 1 : 0);
      if (most <= cap && (d === 0 || least - 1 >= min)) return d + 1;
    }
    return 0;
  }

  /** Takes a node from the preallocated set. */
  private alloc(type: NodeType): number {
    this.used++;
    return this.newId(type);
  }

  /** A node record from the slab: a recycled id, else the next unused one. */
  private newId(type: NodeType): number {
    if (this.nfree === 0 && this.top === this.cap) this.grow(1);
    const n = this.nfree > 0 ? (this.freeIds[--this.nfree] as number) : this.top++;
    const mb = n << 2;
    const mt = this.mt;
    this.en[n] = 0;
    this.ty[n] = type;
    this.pv[n << 5] = PIVOT_STOP;
    mt[mb + M_PARENT] = -1;
    mt[mb + M_PSLOT] = 0;
    mt[mb + M_GAPOFF] = 0;
    mt[mb + M_DEAD] = 0;
    return n;
  }

  /**
   * At least `k` node records available without moving the arenas. Called
   * before a write reads the tree, so a write never holds a stale arena.
   */
  private ensure(k: number): void {
    if (this.nfree + (this.cap - this.top) < k) this.grow(k);
  }

  /** Grows the arenas by half (at least `k` more records); the data is copied. */
  private grow(k: number): void {
    if (this.cap === 0 && SLAB_CACHE.length > 0) {
      // A tree's first nodes come from a destroyed tree's arenas, if any.
      const a = SLAB_CACHE.pop() as Arenas;
      this.pv = a.pv;
      this.sl = a.sl;
      this.mt = a.mt;
      this.en = a.en;
      this.ty = a.ty;
      this.freeIds = a.freeIds;
      this.cap = a.cap;
      if (this.cap >= k) return;
    }
    let cap = Math.max(this.cap + (this.cap >> 1), MIN_CAP);
    while (cap - this.top + this.nfree < k) cap += cap >> 1;
    const pv = new Float64Array(cap * PV_STRIDE);
    pv.set(this.pv);
    const mt = new Int32Array(cap * MT_STRIDE);
    mt.set(this.mt);
    const en = new Uint8Array(cap);
    en.set(this.en);
    const ty = new Uint8Array(cap);
    ty.set(this.ty);
    this.en = en;
    this.ty = ty;
    const free = new Int32Array(cap);
    free.set(this.freeIds.subarray(0, this.nfree));
    const sl = this.sl;
    for (let i = this.cap * SL_STRIDE; i < cap * SL_STRIDE; i++) sl.push(null);
    this.pv = pv;
    this.mt = mt;
    this.freeIds = free;
    this.cap = cap;
  }

  private freeNode(n: number): void {
    const mb = n << 2;
    if (this.mt[mb + M_DEAD]) return;
    this.mt[mb + M_DEAD] = 1;
    this.graveyard[this.graves++] = n;
    this.stats.nodesFreed++;
    this.counters.nodesFreed++;
  }

  private freeSubtree(n: number): void {
    if (this.mt[(n << 2) + M_DEAD]) return;
    if (this.ty[n] !== LEAF) {
      const e = this.en[n] as number;
      for (let i = 0; i <= e; i++) this.freeSubtree(this.sl[(n << 4) + i] as number);
    }
    this.freeNode(n);
  }

  /** The nodes freed by the write that ends go back to the slab (RCU grace period over). */
  private releaseGraveyard(): void {
    const g = this.graveyard;
    const k = this.graves;
    const sl = this.sl;
    const en = this.en;
    const free = this.freeIds;
    for (let i = 0; i < k; i++) {
      const n = g[i] as number;
      // Slots past `end` are null already (every writer clears what it vacates).
      const sb = n << 4;
      for (let j = en[n] as number; j >= 0; j--) sl[sb + j] = null;
      free[this.nfree++] = n;
    }
    this.graves = 0;
  }

  // -------------------------------------------------------------------------
  // Gap search

  /**
   * mas_empty_area: the lowest `size`-index NULL range inside [min, max]
   * (inclusive). Returns its first index, −EINVAL for a bad request, −EBUSY
   * if there is none.
   */
  emptyArea(min: number, max: number, size: number): number {
    if (!(min <= max) || !(size > 0) || max - min < size - 1) return -EINVAL;
    const root = this.rootNode;
    if (root < 0) {
      if (this.rootEntry === null) return min;
      const lo = min === 0 ? 1 : min;
      return lo > max || max - lo < size - 1 ? -EBUSY : lo;
    }
    const r = this.searchFwd(root, 0, MAPLE_MAX, min, max, size);
    return r < 0 ? -EBUSY : r;
  }

  /** mas_empty_area_rev: the highest such range; returns its first index. */
  emptyAreaRev(min: number, max: number, size: number): number {
    if (!(min <= max) || !(size > 0) || max - min < size - 1) return -EINVAL;
    const root = this.rootNode;
    if (root < 0) {
      if (this.rootEntry === null) return max - size + 1;
      const lo = min === 0 ? 1 : min;
      return lo > max || max - lo < size - 1 ? -EBUSY : max - size + 1;
    }
    const k = this.key;
    k[0] = min;
    k[1] = max;
    k[2] = size;
    const r = this.searchRev(root);
    return r < 0 ? -EBUSY : r;
  }

  private searchFwd(
    n: number,
    nmin: number,
    nmax: number,
    min: number,
    max: number,
    size: number,
  ): number {
    const c = this.counters;
    c.nodesVisited++;
    const e = this.en[n] as number;
    const piv = this.pv;
    const pivB = n << 5;
    const type = this.ty[n] as NodeType;
    const leaf = type === LEAF;
    const gaps = type === ARANGE;
    const gB = pivB + GAP_AT;
    let lo = nmin;
    for (let i = 0; i <= e; i++) {
      if (lo > max) return -1;
      const hi = i < e ? (piv[pivB + i] as number) : nmax;
      c.slotsScanned++;
      if (hi >= min) {
        if (leaf) {
          if (this.sl[(n << 4) + i] === null) {
            const s = lo > min ? lo : min;
            const t = hi < max ? hi : max;
            if (t - s + 1 >= size) return s;
          }
        } else if (!gaps || (piv[gB + i] as number) >= size) {
          const r = this.searchFwd(this.sl[(n << 4) + i] as number, lo, hi, min, max, size);
          if (r >= 0) return r;
        }
      }
      lo = hi + 1;
    }
    return -1;
  }

  /**
   * The top-down gap walk, iterative: a stack of (node, next slot, node min,
   * next slot's upper bound) per level, so no call passes an address. `nmax`
   * is only read at a leaf (the walk state's range), so it is not stacked.
   */
  private searchRev(root: number): number {
    const k = this.key;
    const min = k[0] as number;
    const max = k[1] as number;
    const size = k[2] as number;
    const c = this.counters;
    const st = this.sNode;
    const so = this.sOff;
    const sm = this.sMin;
    const sh = this.sHi;
    let d = 0;
    let n = root;
    let nmin = 0;
    let nmax = MAPLE_MAX;
    let hi = MAPLE_MAX;
    const piv = this.pv;
    const sl = this.sl;
    const en = this.en;
    const ty = this.ty;
    let i = en[n] as number;
    c.nodesVisited++;
    for (;;) {
      const pivB = n << 5;
      const type = ty[n];
      const gaps = type === ARANGE;
      const gB = pivB + GAP_AT;
      let down = false;
      if (type === LEAF) {
        for (; i >= 0; i--) {
          if (hi < min) return -1;
          const lo = i === 0 ? nmin : (piv[pivB + i - 1] as number) + 1;
          c.slotsScanned++;
          if (lo <= max && sl[(n << 4) + i] === null) {
            const a = lo > min ? lo : min;
            const b = hi < max ? hi : max;
            if (b - a + 1 >= size) {
              // The walk state stays at this leaf, as mas_empty_area_rev's.
              this.setCursor(n, nmin, nmax);
              return b - size + 1;
            }
          }
          hi = lo - 1;
        }
      } else {
        for (; i >= 0; i--) {
          if (hi < min) return -1;
          const lo = i === 0 ? nmin : (piv[pivB + i - 1] as number) + 1;
          c.slotsScanned++;
          if (lo <= max && (!gaps || (piv[gB + i] as number) >= size)) {
            st[d] = n;
            so[d] = i - 1;
            sm[d] = nmin;
            sh[d] = lo - 1;
            d++;
            n = this.sl[(n << 4) + i] as number;
            nmin = lo;
            nmax = hi;
            i = this.en[n] as number;
            c.nodesVisited++;
            down = true;
            break;
          }
          hi = lo - 1;
        }
      }
      if (down) continue;
      if (d === 0) return -1;
      d--;
      n = st[d] as number;
      i = so[d] as number;
      nmin = sm[d] as number;
      hi = sh[d] as number;
    }
  }

  /** mtree_alloc_range: find the lowest fit in [min, max] and insert `value` there. Start, or −errno. */
  allocRange(size: number, min: number, max: number, value: T): number {
    if (!this.isAlloc) return -EINVAL;
    const start = this.emptyArea(min, max, size);
    if (start < 0) return start;
    const r = this.insert(start, start + size - 1, value);
    return r < 0 ? r : start;
  }

  /** mtree_alloc_rrange: the highest fit. */
  allocRrange(size: number, min: number, max: number, value: T): number {
    if (!this.isAlloc) return -EINVAL;
    const start = this.emptyAreaRev(min, max, size);
    if (start < 0) return start;
    const r = this.insert(start, start + size - 1, value);
    return r < 0 ? r : start;
  }

  // -------------------------------------------------------------------------
  // Duplication

  /**
   * mtree_dup: copies this tree into the empty tree `dest` (same flags), by
   * `dest`'s dup mode. The entries are shared (a fork then replaces each by
   * an exact-fit store). 0, −EINVAL (dest not empty or flags differ) or
   * −ENOMEM (dest's slab failed: dest is left empty, this tree untouched).
   */
  dupInto(dest: MapleTree<T>): number {
    if (!dest.isEmpty || dest.isAlloc !== this.isAlloc) return -EINVAL;
    const root = this.rootNode;
    if (root < 0) {
      dest.rootEntry = this.rootEntry;
      dest.seq++;
      return 0;
    }
    return dest.dupMode === 'insert' ? this.dupByInsert(dest) : this.dupStructural(dest, root);
  }

  /** __mt_dup: DFS pre-order; each internal node's children are allocated in one bulk. */
  private dupStructural(dest: MapleTree<T>, root: number): number {
    const copies: number[] = [];
    const fail = (): number => {
      // Free the partial copy (the kernel walks it in reverse).
      for (let i = copies.length - 1; i >= 0; i--) dest.freeNode(copies[i] as number);
      dest.releaseGraveyard();
      return -ENOMEM;
    };
    // The copy has as many nodes as this tree: the destination's slab is
    // sized once (the nodes are still counted by each bulk allocation).
    dest.ensure(this.top - this.nfree);
    if (!dest.bulkAlloc(1)) return fail();
    const top = this.copyNode(dest, root);
    copies.push(top);
    const stack: Array<[number, number]> = [[root, top]];
    while (stack.length > 0) {
      const [src, dst] = stack.pop() as [number, number];
      this.counters.nodesVisited++;
      if (this.ty[src] === LEAF) continue;
      const k = (this.en[src] as number) + 1;
      if (!dest.bulkAlloc(k)) return fail();
      for (let i = 0; i < k; i++) {
        const c = this.copyNode(dest, this.sl[(src << 4) + i] as number);
        dest.mt[(c << 2) + M_PARENT] = dst;
        dest.mt[(c << 2) + M_PSLOT] = i;
        dest.sl[(dst << 4) + i] = c;
        copies.push(c);
      }
      for (let i = k - 1; i >= 0; i--)
        stack.push([this.sl[(src << 4) + i] as number, dest.sl[(dst << 4) + i] as number]);
    }
    dest.setRoot(top);
    dest._height = this._height;
    dest.seq++;
    return 0;
  }

  /** A copy of node `src` in `dest`'s slab (children left for the caller to link). */
  private copyNode(dest: MapleTree<T>, src: number): number {
    const smb = src << 2;
    const type = this.ty[src] as NodeType;
    const n = dest.newId(type);
    const spv = this.pv;
    const dpv = dest.pv;
    const sb = src << 5;
    const db = n << 5;
    for (let i = 0; i < GAP_AT + (SLOTS[ARANGE] as number); i++)
      dpv[db + i] = spv[sb + i] as number;
    const e = this.en[src] as number;
    if (type === LEAF) for (let i = 0; i <= e; i++) dest.sl[(n << 4) + i] = this.sl[(src << 4) + i];
    dest.en[n] = e;
    dpv[db + e] = PIVOT_STOP;
    dest.mt[(n << 2) + M_GAPOFF] = this.mt[smb + M_GAPOFF] as number;
    return n;
  }

  /**
   * 6.1–6.7: one store per entry, in order, in bulk mode (the destination
   * preallocated by mas_expected_entries).
   */
  private dupByInsert(dest: MapleTree<T>): number {
    let n = 0;
    for (const [, , v] of this.ranges()) if (v !== null) n++;
    if (dest.bulkBegin(n) < 0) return -ENOMEM;
    for (const [first, last, v] of this.ranges()) {
      if (v === null) continue;
      if (dest.store(first, last, v) < 0) {
        dest.bulkEnd();
        dest.destroy();
        return -ENOMEM;
      }
    }
    if (dest.bulkEnd() < 0) {
      dest.destroy();
      return -ENOMEM;
    }
    return 0;
  }

  /**
   * mas_expected_entries: bulk mode for `n` stores in ascending order (fork
   * before 6.8). The estimate is preallocated at once — ceil((2n + 1) / 14)
   * leaves, the internal nodes above them (branching 14 or 8 here), and 3
   * for splits — and the stores take no further preallocation; splits leave
   * the left node full and no rebalance happens until bulkEnd(). 0 or
   * −ENOMEM.
   */
  bulkBegin(n: number): number {
    const leaves = Math.ceil((2 * n + 1) / ((SLOTS[LEAF] as number) - 2));
    const want = leaves + Math.ceil(leaves / ((SLOTS[this.internalType] as number) - 2)) + 3;
    if (want > this.allocBudget) return -ENOMEM;
    this.allocBudget -= want;
    this.ensure(want);
    this.bulk = true;
    this.bulkRequested = want;
    this.bulkUsed = 0;
    this.stats.nodesRequested += want;
    this.counters.nodesAllocated += want;
    return 0;
  }

  /**
   * mas_destroy after a bulk load: rebalances the under-full nodes the bulk
   * splits left on the right edge, and returns the unused nodes.
   */
  bulkEnd(): number {
    if (!this.bulk) return 0;
    let result = 0;
    for (let d = this._height - 1; d > 0 && this.rootNode >= 0; d--) {
      if (d > this._height - 1) continue;
      this.ensure(3 * this._height + 4);
      const lp = this.lp;
      this.descend(lp, MAPLE_MAX, d);
      const node = lp.node[d] as number;
      const type = this.ty[node] as NodeType;
      if ((this.en[node] as number) >= (MIN_END[type] as number)) continue;
      // The rebalance's nodes come from what is left of the estimate, the
      // rest on demand.
      if (!this.begin(ST_REBALANCE, this._height, this._height - 1, true)) {
        result = -ENOMEM;
        break;
      }
      this.stats.stores[ST_REBALANCE] = (this.stats.stores[ST_REBALANCE] as number) - 1;
      this.bulk = false;
      this.requested = this.used = 0;
      const big = this.bigA;
      big.clear();
      this.pushNode(big, node, 0, this.en[node] as number, MAPLE_MAX);
      this.freeNode(node);
      this.rp.copyFrom(lp, d);
      this.rebuild(d, type, false);
      this.bulkUsed += this.used;
      this.bulk = true;
      this.requested = this.used = 0;
      this.releaseGraveyard();
    }
    this.bulk = false;
    const unused = this.bulkRequested - this.bulkUsed;
    if (unused < 0) {
      // The estimate ran out: the stores allocated the rest on demand.
      this.stats.nodesOnDemand -= unused;
      this.stats.nodesRequested -= unused;
      this.counters.nodesAllocated -= unused;
    } else {
      this.stats.nodesReturned += unused;
      this.counters.nodesFreed += unused;
    }
    this.stats.nodesUsed += this.bulkUsed;
    this.bulkRequested = this.bulkUsed = 0;
    this.seq++;
    return result;
  }

  private bulkAlloc(k: number): boolean {
    if (k > this.allocBudget) return false;
    this.ensure(k);
    this.allocBudget -= k;
    this.stats.nodesDuplicated += k;
    this.counters.nodesAllocated += k;
    return true;
  }

  // -------------------------------------------------------------------------
  // Introspection

  /** Number of nodes in the tree. */
  get nodeCount(): number {
    let n = 0;
    const walk = (node: number): void => {
      n++;
      if (this.ty[node] !== LEAF) {
        const e = this.en[node] as number;
        for (let i = 0; i <= e; i++) walk(this.sl[(node << 4) + i] as number);
      }
    };
    if (this.rootNode >= 0) walk(this.rootNode);
    return n;
  }

  /** Node counts by type name. */
  nodeCensus(): Record<string, number> {
    const out: Record<string, number> = {};
    const walk = (node: number): void => {
      const type = this.ty[node] as NodeType;
      const name = NODE_TYPE_NAMES[type];
      out[name] = (out[name] ?? 0) + 1;
      if (type !== LEAF) {
        const e = this.en[node] as number;
        for (let i = 0; i <= e; i++) walk(this.sl[(node << 4) + i] as number);
      }
    };
    if (this.rootNode >= 0) walk(this.rootNode);
    return out;
  }

  /** Bytes of the slab's arenas (capacity, live or not): the tree's own memory. */
  get arenaBytes(): number {
    return (
      this.pv.byteLength +
      this.mt.byteLength +
      this.en.byteLength +
      this.ty.byteLength +
      this.freeIds.byteLength +
      this.sl.length * 4
    );
  }

  /**
   * mt_validate: throws an Error naming the first broken invariant (§1.3):
   * pivot order and bounds, node occupancy, leaf depth, NULL coalescing, no
   * NULL at the end of a non-right-most leaf, parent links, stored gaps.
   */
  validate(): void {
    const root = this.rootNode;
    if (root < 0) {
      if (this._height !== 0)
        throw new Error(
          this.rootEntry === null
            ? `maple: empty tree with height ${this._height}`
            : 'maple: root entry without node but height is not 0',
        );
      return;
    }
    if (this.rootEntry !== null) throw new Error('maple: root node and root entry both set');
    const mt = this.mt;
    if (mt[(root << 2) + M_PARENT] !== -1) throw new Error('maple: root has a parent');
    let prevNull = false;
    let leafDepth = -1;
    const check = (n: number, min: number, max: number, depth: number, isRoot: boolean): number => {
      if (!Number.isInteger(n) || n < 0 || n >= this.top)
        throw new Error(`maple: node id ${String(n)} outside the slab at depth ${depth}`);
      const mb = n << 2;
      const type = this.ty[n] as NodeType;
      const end = this.en[n] as number;
      const where = `${NODE_TYPE_NAMES[type]} [${min}, ${max}] at depth ${depth}`;
      if (mt[mb + M_DEAD]) throw new Error(`maple: freed node reachable: ${where}`);
      const cap = SLOTS[type] as number;
      if (end < 0 || end >= cap) throw new Error(`maple: end ${end} out of range in ${where}`);
      if (this.pv[(n << 5) + end] !== PIVOT_STOP)
        throw new Error(`maple: pivot ${end} (the end) is not the scan stop in ${where}`);
      if (!isRoot && end < (MIN_END[type] as number)) {
        throw new Error(
          `maple: node under minimum occupancy (end ${end} < ${MIN_END[type]}) in ${where}`,
        );
      }
      if (type !== LEAF && type !== this.internalType)
        throw new Error(`maple: wrong internal node type in ${where}`);
      const gb = (n << 5) + GAP_AT;
      let lo = min;
      let best = 0;
      for (let i = 0; i <= end; i++) {
        const hi = this.pivotAt(n, i, max);
        if (hi < lo) throw new Error(`maple: pivot ${i} (${hi}) not above ${lo - 1} in ${where}`);
        if (i < end && hi >= max)
          throw new Error(`maple: pivot ${i} (${hi}) reaches the node max in ${where}`);
        const s = this.sl[(n << 4) + i];
        if (type === LEAF) {
          if (s === null && prevNull)
            throw new Error(`maple: adjacent NULL ranges at ${lo} in ${where}`);
          prevNull = s === null;
          if (s === null) best = Math.max(best, hi - lo + 1);
        } else {
          if (typeof s !== 'number')
            throw new Error(`maple: internal slot ${i} is not a node in ${where}`);
          if (mt[(s << 2) + M_PARENT] !== n || mt[(s << 2) + M_PSLOT] !== i)
            throw new Error(`maple: bad parent link of child ${i} in ${where}`);
          const g = check(s, lo, hi, depth + 1, false);
          if (type === ARANGE && this.pv[gb + i] !== g)
            throw new Error(
              `maple: gap[${i}] is ${this.pv[gb + i]}, child's largest gap is ${g} in ${where}`,
            );
          best = Math.max(best, g);
        }
        lo = hi + 1;
      }
      for (let i = end + 1; i < SL_STRIDE; i++) {
        if (this.sl[(n << 4) + i] !== null)
          throw new Error(`maple: stale slot ${i} beyond end in ${where}`);
      }
      if (type === LEAF) {
        if (leafDepth < 0) leafDepth = depth;
        else if (leafDepth !== depth)
          throw new Error(`maple: leaves at depths ${leafDepth} and ${depth}`);
        if (max !== MAPLE_MAX && this.sl[(n << 4) + end] === null)
          throw new Error(`maple: non-right-most leaf ends in NULL: ${where}`);
        if (depth + 1 !== this._height)
          throw new Error(`maple: height ${this._height} but leaf at depth ${depth}`);
      } else if (type === ARANGE && this.pv[gb + (mt[mb + M_GAPOFF] as number)] !== best) {
        throw new Error(
          `maple: gap metadata offset ${mt[mb + M_GAPOFF]} does not name the largest gap in ${where}`,
        );
      }
      return this.isAlloc ? best : 0;
    };
    check(root, 0, MAPLE_MAX, 0, true);
  }

  /** mt_dump: one line per node and per slot, indented by depth. */
  dump(format: (v: unknown) => string = String): string {
    const lines: string[] = [];
    const hex = (x: number) => (x === MAPLE_MAX ? 'MAX' : `0x${x.toString(16)}`);
    if (this.rootNode < 0)
      return this.rootEntry === null
        ? '(empty)'
        : `root entry [0x0, 0x0]: ${format(this.rootEntry)}`;
    const walk = (n: number, min: number, max: number, depth: number): void => {
      const pad = '  '.repeat(depth);
      const type = this.ty[n] as NodeType;
      const end = this.en[n] as number;
      const gb = (n << 5) + GAP_AT;
      const gap =
        type === ARANGE
          ? ` gaps=[${Array.from(this.pv.subarray(gb, gb + end + 1), hex).join(',')}]`
          : '';
      lines.push(`${pad}${NODE_TYPE_NAMES[type]} [${hex(min)}, ${hex(max)}] end=${end}${gap}`);
      let lo = min;
      for (let i = 0; i <= end; i++) {
        const hi = this.pivotAt(n, i, max);
        const s = this.sl[(n << 4) + i];
        if (type === LEAF) {
          const v = s === null ? '(null)' : s === ZERO_ENTRY ? '(zero)' : format(s);
          lines.push(`${pad}  ${i}: [${hex(lo)}, ${hex(hi)}] ${v}`);
        } else walk(s as number, lo, hi, depth + 1);
        lo = hi + 1;
      }
    };
    walk(this.rootNode, 0, MAPLE_MAX, 0);
    return lines.join('\n');
  }
}

export { LEAF, RANGE, ARANGE };
