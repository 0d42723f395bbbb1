/**
 * Maple tree nodes and the node "slab".
 *
 * Three node types, as in Linux's lib/maple_tree.c (64-bit):
 *   LEAF   maple_leaf_64    16 slots, 15 pivots
 *   RANGE  maple_range_64   16 slots, 15 pivots (internal node, plain tree)
 *   ARANGE maple_arange_64  10 slots,  9 pivots, 10 gaps (internal node, ALLOC_RANGE tree)
 *
 * Pivot `i` is the inclusive upper bound of slot `i`; the last used slot
 * (`end`) ends at the node's max, which the node does not store: it is the
 * parent's pivot (the root's max is MAPLE_MAX). A walk carries min and max
 * down, as the kernel's ma_state does.
 */

/** Stands for ULONG_MAX: the largest index (2^53 − 1, exact in a double). */
export const MAPLE_MAX = Number.MAX_SAFE_INTEGER;

export const LEAF = 0;
export const RANGE = 1;
export const ARANGE = 2;
export type NodeType = typeof LEAF | typeof RANGE | typeof ARANGE;

export const NODE_TYPE_NAMES = ['maple_leaf_64', 'maple_range_64', 'maple_arange_64'] as const;
/** mt_slots[]. */
export const SLOTS: readonly number[] = [16, 16, 10];
/** mt_min_slots[]: a non-root node's data end (offset of its last slot) is at least this. */
export const MIN_END: readonly number[] = [6, 6, 4];
/** Bytes of a node in Linux (slab object size), for the memory report. */
export const KERNEL_NODE_BYTES = 256;

/**
 * Templates for the node arrays: packed (hole-free, so element loads need no
 * hole check) and of exact length; slice() copies both properties.
 */
function packed<T>(n: number, v: T): T[] {
  const a: T[] = [];
  for (let i = 0; i < n; i++) a.push(v);
  return a.slice();
}
const PIVOTS = SLOTS.map((n) => packed(n - 1, 0.5));
const SLOTS_NULL = SLOTS.map((n) => packed<unknown>(n, null));
const GAPS = packed(SLOTS[ARANGE] as number, 0.5);

export class MapleNode {
  type: NodeType;
  /** Offset of the last used slot (ma_meta end). */
  end = 0;
  parent: MapleNode | null = null;
  /** This node's offset in its parent (the kernel encodes it in the parent pointer). */
  pslot = 0;
  /** Plain arrays of doubles (V8 keeps them unboxed and on-heap, next to the node). */
  readonly pivot: number[];
  readonly slot: unknown[];
  /** Per-child largest gap (ARANGE only). */
  readonly gap: number[] | null;
  /** Offset of the largest gap (ma_meta gap, ARANGE only). */
  gapOff = 0;
  /** Freed in the current write (or later); never reachable from a live tree. */
  dead = false;

  constructor(type: NodeType) {
    this.type = type;
    this.pivot = (PIVOTS[type] as number[]).slice();
    this.slot = (SLOTS_NULL[type] as unknown[]).slice();
    this.gap = type === ARANGE ? GAPS.slice() : null;
  }

  get isLeaf(): boolean {
    return this.type === LEAF;
  }

  /** Upper bound of slot `i` given the node's max. */
  pivotAt(i: number, max: number): number {
    return i < this.end ? (this.pivot[i] as number) : max;
  }
}

/**
 * The maple_node slab: free nodes per type, reused. Every allocation and free
 * is counted by the tree that makes it; the slab only recycles objects so a
 * write that replaces nodes (RCU mode) does not churn the JS heap.
 */
const FREE: MapleNode[][] = [[], [], []];
const FREE_CAP = 1 << 14;

export function newNode(type: NodeType): MapleNode {
  const list = FREE[type] as MapleNode[];
  const n = list.pop();
  if (n === undefined) return new MapleNode(type);
  n.dead = false;
  n.parent = null;
  n.pslot = 0;
  n.end = 0;
  n.gapOff = 0;
  return n;
}

export function recycleNode(n: MapleNode): void {
  const list = FREE[n.type] as MapleNode[];
  // Slots past `end` are null already (every writer clears what it vacates).
  const slot = n.slot;
  for (let i = n.end; i >= 0; i--) slot[i] = null;
  n.parent = null;
  if (list.length < FREE_CAP) list.push(n);
}
