import type { Counters } from './counters.js';
import type { Vma } from './vma.js';

/**
 * The set of VMAs of one address space: ordered, non-overlapping.
 * Linux: the sorted list (≤ 2.4), the rbtree (2.4.10–6.0), the maple tree (6.1+).
 */
export interface VmaIndex extends Iterable<Vma> {
  /** Strategy name, e.g. `list`, `rbtree`, `maple`. */
  readonly name: string;
  /** Number of VMAs (mm->map_count). */
  readonly count: number;
  /** find_vma: the first VMA with `end > addr`, or undefined. */
  find(addr: number): Vma | undefined;
  /** The VMA after / before `vma` in address order. */
  next(vma: Vma): Vma | undefined;
  prev(vma: Vma): Vma | undefined;
  /** Lowest and highest VMA. */
  first(): Vma | undefined;
  last(): Vma | undefined;
  /** Adds a VMA; its range must be free (a violation throws: it is a caller bug). */
  insert(vma: Vma): void;
  /** Removes a VMA that is in the index. */
  remove(vma: Vma): void;
  /**
   * Changes a VMA's bounds to [start, end) (vma_expand/vma_shrink/split);
   * any space it grows into must be free.
   */
  resize(vma: Vma, start: number, end: number): void;
  /**
   * A new index holding `copy(v)` for each VMA, in order (fork's dup_mmap);
   * a `null` from `copy` drops that VMA (VM_DONTCOPY). The source is untouched
   * even when `copy` throws.
   */
  dup(copy: (v: Vma) => Vma | null): VmaIndex;
  /** Checks every invariant; throws an Error naming the one that is broken. */
  validate(): void;
  /**
   * Optional: Linux starts a new VMA iterator here (VMA_ITERATOR,
   * vma_iter_init: a walk state at MAS_START). mm calls it when a
   * write-locked operation ends and where mmap_region starts its own iterator
   * after the gap search. An index may defer a tree store that the next call
   * of the same operation overwrites — Linux never makes it (the maple tree's
   * NULL store of a split's shrink, or of a VMA a merge swallows) — and makes
   * it here at the latest, so no store is saved across two operations; an
   * index that keeps a walk state drops it, so the next call walks from the
   * root as a fresh iterator does.
   */
  sync?(): void;
  /**
   * Optional: removes every VMA at once, as exit_mmap does — it walks the
   * VMAs freeing each (remove_vma) and then destroys the whole tree
   * (__mt_destroy, 6.1+) or simply drops it (mm_rb and the vm_next list
   * before), never erasing VMAs from the tree one by one. Afterwards the
   * index is empty and can be used again (exec builds the new image in it),
   * and its VMAs belong to no index. mm's teardown calls it when present,
   * else `remove` for each VMA.
   */
  clear?(): void;
}

/**
 * An index that tracks free gaps (rb_subtree_gap, maple ALLOC_RANGE).
 *
 * Two kinds, as in Linux: the maple tree (6.1+) keeps `'raw'` gaps — the holes
 * between VMAs — and vm_unmapped_area fixes up stack guard gaps afterwards with
 * a retry loop (core's `vmUnmappedArea`); the gap-augmented rbtree (4.12–6.0)
 * kept `'guard'` gaps — a VM_GROWSDOWN VMA's gap ends at vm_start_gap, its
 * start minus the stack guard gap — and searched them directly. The two give
 * different addresses near stacks (the retry loop can hide holes below a
 * guard gap).
 */
export interface GapIndex extends VmaIndex {
  readonly gapKind: 'raw' | 'guard';
  /**
   * Lowest (bottom-up) or highest (top-down) address `a` such that
   * `[a, a + length)` lies in one gap and `low ≤ a`, `a + length ≤ high`
   * (mas_empty_area / mas_empty_area_rev for raw gaps). For `'guard'` gaps no
   * part of `[a, a + length)` may lie in a grows-down VMA's guard gap.
   * undefined when there is none.
   */
  findGap(length: number, low: number, high: number, topDown: boolean): number | undefined;
}

export function isGapIndex(index: VmaIndex): index is GapIndex {
  return typeof (index as Partial<GapIndex>).findGap === 'function';
}

/** What a finder may read of the address space it serves. */
export interface MmView {
  readonly index: VmaIndex;
  /** mm->mmap_base: top of the top-down area. */
  readonly mmapBase: number;
  /** mm->mmap_legacy_base: TASK_UNMAPPED_BASE (+ random offset). */
  readonly legacyBase: number;
  readonly taskSize: number;
  readonly mmapMinAddr: number;
  readonly stackGuardGap: number;
  /** MMF_TOPDOWN. */
  readonly topDown: boolean;
}

/** vm_unmapped_area_info. */
export interface UnmappedAreaRequest {
  length: number;
  /** Search window [low, high): the mapping must lie inside it. */
  low: number;
  high: number;
  /** Start must be ≡ alignOffset (mod alignMask + 1); alignMask 0 = page alignment only. */
  alignMask: number;
  alignOffset: number;
  /** Extra free space required below the mapping (shadow stacks). */
  startGap: number;
  topDown: boolean;
}

/**
 * get_unmapped_area's search (the part the kernel changed between eras):
 * linear first fit (≤ 2.4), free_area_cache (2.6), gap-tree search (3.8+).
 * The address space handles MAP_FIXED, hints, THP padding and the top-down →
 * bottom-up fallback, and re-checks every answer in verify mode.
 */
export interface UnmappedAreaFinder {
  readonly name: string;
  /** A start address satisfying `req` and the stack guard gaps, or −ENOMEM. */
  find(mm: MmView, req: UnmappedAreaRequest): number;
  /** Hook: `[start, end)` was just unmapped (free_area_cache maintenance). */
  unmapped?(mm: MmView, start: number, end: number): void;
  /** Per-mm state copied for a forked child. */
  fork(): UnmappedAreaFinder;
}

/**
 * Unlinks file VMAs from their files' i_mmap on teardown
 * (free_pgtables → unlink_file_vma / unlink_file_vma_batch_*).
 */
export interface RmapLocker {
  readonly name: string;
  /** Unlinks each file-backed VMA of `vmas` (given in address order; anonymous ones are skipped). */
  unlink(vmas: Iterable<Vma>): void;
}

export type Role = 'index' | 'finder' | 'rmap';

export interface RoleTypes {
  index: VmaIndex;
  finder: UnmappedAreaFinder;
  rmap: RmapLocker;
}

/** Describes one option of a strategy (for `vmalab list` and validation). */
export interface OptionSpec {
  name: string;
  type: 'boolean' | 'number' | 'enum';
  /** Allowed values of an enum option. */
  values?: readonly string[];
  default: boolean | number | string;
  description: string;
}

/**
 * What every strategy package exports as `strategy`. The bench app and
 * third-party strategies use only this.
 */
export interface StrategyDescriptor<R extends Role = Role> {
  readonly role: R;
  readonly name: string;
  readonly description: string;
  /** The Linux versions whose behaviour it models, e.g. `2.0–2.4`. */
  readonly kernels: string;
  readonly options: readonly OptionSpec[];
  create(options: Readonly<Record<string, unknown>>, counters: Counters): RoleTypes[R];
}

/**
 * Validates `options` against a descriptor's specs and fills in defaults.
 * Throws naming the strategy and the offending option.
 */
export function resolveOptions(
  d: Pick<StrategyDescriptor, 'name' | 'options'>,
  options: Readonly<Record<string, unknown>>,
): Record<string, boolean | number | string> {
  const out: Record<string, boolean | number | string> = {};
  const known = new Set(d.options.map((o) => o.name));
  for (const k of Object.keys(options)) {
    if (!known.has(k)) {
      const list = d.options.map((o) => o.name).join(', ') || 'none';
      throw new Error(`strategy '${d.name}': unknown option '${k}' (options: ${list})`);
    }
  }
  for (const spec of d.options) {
    const v = options[spec.name];
    if (v === undefined) {
      out[spec.name] = spec.default;
      continue;
    }
    if (spec.type === 'enum') {
      if (typeof v !== 'string' || !spec.values?.includes(v)) {
        throw new Error(
          `strategy '${d.name}': option '${spec.name}' must be one of ${spec.values?.join(' | ')}, got ${JSON.stringify(v)}`,
        );
      }
    } else if (typeof v !== spec.type) {
      throw new Error(
        `strategy '${d.name}': option '${spec.name}' must be a ${spec.type}, got ${JSON.stringify(v)}`,
      );
    }
    out[spec.name] = v as boolean | number | string;
  }
  return out;
}
