/**
 * /proc/PID/maps: printing an address space byte for byte as Linux does, and
 * loading a snapshot (plus optional smaps VmFlags) as an initial layout.
 */
import {
  AnonVma,
  formatMapsLine,
  MappedFile,
  type MapsEntry,
  PAGE_SIZE,
  parseMapsLine,
  permsOf,
  VM_ACCOUNT,
  VM_DONTEXPAND,
  VM_EXEC,
  VM_GROWSDOWN,
  VM_IO,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYSHARE,
  VM_MAYWRITE,
  VM_PFNMAP,
  VM_READ,
  VM_SHARED,
  VM_WRITE,
  Vma,
  vmFlagsFromSmaps,
} from '@vmalab/core';
import type { AddressSpace } from './address-space.js';

/** The maps entry Linux prints for one VMA of `mm`. */
export function mapsEntryOf(mm: AddressSpace, v: Vma): MapsEntry {
  let path = '';
  if (v.file) path = v.file.path;
  else if (v.name) path = v.name;
  // vma_is_initial_heap (6.6+): strictly overlapping [start_brk, brk), so a
  // .bss ending exactly at start_brk is not the heap.
  else if (mm.brkAddr && v.start < mm.brkAddr && v.end > mm.startBrk) path = '[heap]';
  else if (mm.startStack && v.start <= mm.startStack && v.end >= mm.startStack) path = '[stack]';
  return {
    start: v.start,
    end: v.end,
    perms: permsOf(v.flags),
    offset: v.file ? v.pgoff * PAGE_SIZE : 0,
    dev: v.file ? v.file.dev : '00:00',
    inode: v.file ? v.file.inode : 0,
    path,
  };
}

/** The whole layout in /proc/PID/maps format, one line per VMA, newline terminated. */
export function formatMaps(mm: AddressSpace): string {
  let out = '';
  for (const v of mm.index) out += `${formatMapsLine(mapsEntryOf(mm, v))}\n`;
  return out;
}

/** One line of a snapshot: the maps line and, if known, its smaps VmFlags text. */
export interface SnapshotLine {
  line: string;
  vmFlags?: string;
}

export interface LoadMapsOptions {
  /**
   * Give private VMAs that carry VM_ACCOUNT (writable now or once, like RELRO)
   * an anon_vma, as if written — true of nearly every such VMA in a running
   * process, and what makes them merge as the kernel does. Default true.
   */
  assumeWritten?: boolean;
}

/** Thrown for a malformed snapshot; says which line and what is wrong. */
export class SnapshotError extends Error {
  constructor(
    readonly source: string,
    readonly lineNo: number,
    message: string,
  ) {
    super(`${source}:${lineNo}: ${message}`);
    this.name = 'SnapshotError';
  }
}

const SPECIAL_FLAGS: Readonly<Record<string, number>> = {
  '[vvar]': VM_READ | VM_MAYREAD | VM_PFNMAP | VM_IO | VM_DONTEXPAND,
  '[vvar_vclock]': VM_READ | VM_MAYREAD | VM_PFNMAP | VM_IO | VM_DONTEXPAND,
  '[vdso]': VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_DONTEXPAND,
};

/**
 * Loads a /proc/PID/maps snapshot into an empty address space. Flags come
 * from the smaps `VmFlags` when given, otherwise from the permissions (plus
 * the VM_MAY* bits, VM_ACCOUNT for private writable memory, VM_GROWSDOWN for
 * `[stack]`). Files are identified by device, inode and path. `[heap]` sets
 * the brk, `[stack]` the start of the stack. `[vsyscall]` is skipped (not a
 * VMA). Anonymous VMAs get pgoff = start >> 12, the value they had at
 * creation unless they were moved.
 */
export function loadMaps(
  mm: AddressSpace,
  lines: readonly SnapshotLine[],
  source = 'snapshot',
  options: LoadMapsOptions = {},
): void {
  if (mm.index.count !== 0) throw new Error('loadMaps: the address space is not empty');
  const assumeWritten = options.assumeWritten ?? true;
  const files = new Map<string, MappedFile>();
  let lineNo = 0;
  for (const { line, vmFlags } of lines) {
    lineNo++;
    if (line.trim() === '') continue;
    let e: MapsEntry;
    try {
      e = parseMapsLine(line);
    } catch (err) {
      throw new SnapshotError(source, lineNo, (err as Error).message);
    }
    if (e.path === '[vsyscall]') continue;
    if (e.start % PAGE_SIZE || e.end % PAGE_SIZE) {
      throw new SnapshotError(source, lineNo, 'addresses are not page aligned');
    }
    const last = mm.index.last();
    if (last && last.end > e.start) {
      throw new SnapshotError(source, lineNo, `overlaps or precedes the previous line (${last})`);
    }
    let flags: number;
    if (vmFlags !== undefined) {
      const parsed = vmFlagsFromSmaps(vmFlags);
      flags = parsed.flags;
    } else {
      flags = flagsFromPerms(e.perms);
      const special = SPECIAL_FLAGS[e.path];
      if (special !== undefined) flags = special;
      if (e.path === '[stack]') flags |= VM_GROWSDOWN;
    }
    const isFile = e.path !== '' && !e.path.startsWith('[');
    let file: MappedFile | null = null;
    if (isFile) {
      const key = `${e.dev} ${e.inode} ${e.path}`;
      file = files.get(key) ?? null;
      if (!file) {
        const shmem =
          e.path.startsWith('/dev/zero') || e.path.startsWith('/SYSV') || e.dev === '00:01';
        file = new MappedFile(e.path, e.dev, e.inode, Number.POSITIVE_INFINITY, {
          shmem,
          writable: true,
          thpAlign: !shmem,
        });
        files.set(key, file);
      }
    }
    const v = new Vma(
      e.start,
      e.end,
      flags,
      file,
      file ? e.offset / PAGE_SIZE : e.start / PAGE_SIZE,
    );
    if (e.path.startsWith('[') && e.path !== '[heap]' && e.path !== '[stack]') v.name = e.path;
    if (assumeWritten && flags & VM_ACCOUNT && !(flags & VM_SHARED)) {
      // Charged private memory of a running process has been written: it has
      // an anon_vma, shared with the piece it was split from (same object,
      // contiguous offset) — which decides how it merges from now on.
      const prev = mm.index.last();
      const sameObject =
        prev?.anonVma &&
        prev.end === v.start &&
        prev.file === v.file &&
        prev.pgoff + (prev.end - prev.start) / PAGE_SIZE === v.pgoff;
      v.anonVma = sameObject && prev?.anonVma ? prev.anonVma : new AnonVma();
    }
    mm.index.insert(v);
    file?.iMmap.add(v);
    if (e.path === '[heap]') {
      mm.startBrk = mm.startBrk || e.start;
      mm.brkAddr = e.end;
    }
    if (e.path === '[stack]') mm.startStack = e.end - PAGE_SIZE;
  }
}

function flagsFromPerms(perms: string): number {
  let f = VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (perms[0] === 'r') f |= VM_READ;
  if (perms[1] === 'w') f |= VM_WRITE;
  if (perms[2] === 'x') f |= VM_EXEC;
  if (perms[3] === 's') f |= VM_SHARED | VM_MAYSHARE;
  else if (f & VM_WRITE) f |= VM_ACCOUNT;
  return f;
}
