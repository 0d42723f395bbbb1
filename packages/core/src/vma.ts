import { RwSem } from './rwsem.js';

/**
 * The identity of a mapped file (`struct file` + its `address_space`).
 * Each file has its own `i_mmap_rwsem` and the set of VMAs that map it (the
 * kernel's i_mmap interval tree; here a Set, since no experiment queries it
 * by offset).
 */
export class MappedFile {
  readonly iMmapRwsem: RwSem;
  /** VMAs linked into this file's i_mmap (rmap). */
  readonly iMmap = new Set<Vma>();

  constructor(
    /** Path as /proc/PID/maps prints it, e.g. `/usr/lib/libc.so.6` or `/dev/zero (deleted)`. */
    readonly path: string,
    /** Device as maps prints it, `fe:00`; `00:00` when unknown. */
    readonly dev = '00:00',
    /** Inode number; 0 when unknown. */
    readonly inode = 0,
    /** Size in bytes (writes beyond it raise SIGBUS); Infinity when unknown. */
    public size = Number.POSITIVE_INFINITY,
    readonly options: {
      /** Shared anonymous memory (shmem object created by mmap). */
      shmem?: boolean;
      /** The file was opened for writing (MAP_SHARED + PROT_WRITE allowed). */
      writable?: boolean;
      /**
       * The filesystem aligns mappings for THP (`thp_get_unmapped_area`, as
       * ext4 does): placed so that address ≡ offset (mod 2 MiB).
       */
      thpAlign?: boolean;
      /** vm_ops->close exists: merges may extend but never delete such VMAs. */
      hasClose?: boolean;
    } = {},
  ) {
    this.iMmapRwsem = new RwSem(`i_mmap_rwsem:${path}`);
  }

  get shmem(): boolean {
    return this.options.shmem === true;
  }
  get writable(): boolean {
    return this.options.writable !== false;
  }
}

let anonVmaIds = 0;

/** An anon_vma: the reverse-map root that private pages of a VMA hang off. */
export class AnonVma {
  readonly id = ++anonVmaIds;
}

/**
 * One mapping, `[start, end)` in bytes, page aligned.
 *
 * Every field is set in the constructor in a fixed order so that all VMAs share
 * one hidden class. `node` belongs to the index that holds the VMA (a tree
 * node, a list cell…); nobody else reads it.
 */
export class Vma {
  /** Page offset into `file`; anonymous private: start >> 12 at creation. */
  pgoff: number;
  /** Set on the first write fault; decides merge compatibility. */
  anonVma: AnonVma | null = null;
  /**
   * The anon_vma chain is not singular: the VMA was forked from a parent that
   * had pages (`vma_had_uncowed_parents`). Such VMAs do not lend their
   * anon_vma to neighbours and do not merge with anon_vma-less neighbours.
   */
  anonForked = false;
  /** Special name printed in maps: `[heap]`, `[stack]`, `[vdso]`… or null. */
  name: string | null = null;
  /** Owned by the index holding this VMA. */
  node: unknown = null;

  constructor(
    public start: number,
    public end: number,
    public flags: number,
    public file: MappedFile | null,
    pgoff: number,
  ) {
    this.pgoff = pgoff;
  }

  get pages(): number {
    return (this.end - this.start) / 4096;
  }

  /** A field-for-field copy (vm_area_dup), not linked anywhere. */
  clone(): Vma {
    const v = new Vma(this.start, this.end, this.flags, this.file, this.pgoff);
    v.anonVma = this.anonVma;
    v.anonForked = this.anonForked;
    v.name = this.name;
    return v;
  }

  toString(): string {
    return `[${hex(this.start)}, ${hex(this.end)})`;
  }
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
