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
 * A node is a record in its tree's slab (see MapleTree): 32 doubles of
 * pivots and gaps — 256 bytes, the kernel's node size — plus 16 slots, its
 * end and type (a byte each) and 4 ints of metadata. Pivot `i` of node `n`
 * is at `n × 32 + i`; an arange node's gap `i` at `n × 32 + GAP_AT + i`.
 */
export const GAP_AT = 16;
/* Metadata fields: offsets in a node's 4-int metadata record. */
/** Parent node id, −1 for the root. */
export const M_PARENT = 0;
/** Offset in the parent (the kernel encodes it in the parent pointer). */
export const M_PSLOT = 1;
/** Offset of the largest gap (ma_meta gap, arange nodes only). */
export const M_GAPOFF = 2;
/** Freed in the current write (or later); never reachable from a live tree. */
export const M_DEAD = 3;
