/**
 * VM_* flags of a VMA. Bit values are vmalab's own (all fit in 31 bits so that
 * bitwise operators stay in V8's small-integer range); the order of the table
 * below is the kernel's bit order, which is the order `/proc/PID/smaps`
 * prints the `VmFlags:` mnemonics in.
 */
export const VM_READ = 1 << 0;
export const VM_WRITE = 1 << 1;
export const VM_EXEC = 1 << 2;
export const VM_SHARED = 1 << 3;
export const VM_MAYREAD = 1 << 4;
export const VM_MAYWRITE = 1 << 5;
export const VM_MAYEXEC = 1 << 6;
export const VM_MAYSHARE = 1 << 7;
export const VM_GROWSDOWN = 1 << 8;
export const VM_UFFD_MISSING = 1 << 9;
export const VM_PFNMAP = 1 << 10;
export const VM_UFFD_WP = 1 << 11;
export const VM_LOCKED = 1 << 12;
export const VM_IO = 1 << 13;
export const VM_SEQ_READ = 1 << 14;
export const VM_RAND_READ = 1 << 15;
export const VM_DONTCOPY = 1 << 16;
export const VM_DONTEXPAND = 1 << 17;
export const VM_LOCKONFAULT = 1 << 18;
export const VM_ACCOUNT = 1 << 19;
export const VM_NORESERVE = 1 << 20;
export const VM_HUGETLB = 1 << 21;
export const VM_SYNC = 1 << 22;
export const VM_WIPEONFORK = 1 << 23;
export const VM_DONTDUMP = 1 << 24;
export const VM_SOFTDIRTY = 1 << 25;
export const VM_MIXEDMAP = 1 << 26;
export const VM_HUGEPAGE = 1 << 27;
export const VM_NOHUGEPAGE = 1 << 28;
export const VM_MERGEABLE = 1 << 29;
export const VM_SHADOW_STACK = 1 << 30;

/** Mappings that never merge (`VM_SPECIAL`). */
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
/** The permission bits that mprotect replaces. */
export const VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC;
/** Both mlock flavours. */
export const VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;
/** VMAs with a guard gap below them (`VM_STARTGAP_FLAGS`). */
export const VM_STARTGAP_FLAGS = VM_GROWSDOWN | VM_SHADOW_STACK;

/** [flag, smaps mnemonic, name], in the kernel's bit order. */
export const VM_FLAG_TABLE: ReadonlyArray<readonly [number, string, string]> = [
  [VM_READ, 'rd', 'VM_READ'],
  [VM_WRITE, 'wr', 'VM_WRITE'],
  [VM_EXEC, 'ex', 'VM_EXEC'],
  [VM_SHARED, 'sh', 'VM_SHARED'],
  [VM_MAYREAD, 'mr', 'VM_MAYREAD'],
  [VM_MAYWRITE, 'mw', 'VM_MAYWRITE'],
  [VM_MAYEXEC, 'me', 'VM_MAYEXEC'],
  [VM_MAYSHARE, 'ms', 'VM_MAYSHARE'],
  [VM_GROWSDOWN, 'gd', 'VM_GROWSDOWN'],
  [VM_UFFD_MISSING, 'um', 'VM_UFFD_MISSING'],
  [VM_PFNMAP, 'pf', 'VM_PFNMAP'],
  [VM_UFFD_WP, 'uw', 'VM_UFFD_WP'],
  [VM_LOCKED, 'lo', 'VM_LOCKED'],
  [VM_IO, 'io', 'VM_IO'],
  [VM_SEQ_READ, 'sr', 'VM_SEQ_READ'],
  [VM_RAND_READ, 'rr', 'VM_RAND_READ'],
  [VM_DONTCOPY, 'dc', 'VM_DONTCOPY'],
  [VM_DONTEXPAND, 'de', 'VM_DONTEXPAND'],
  [VM_LOCKONFAULT, 'lf', 'VM_LOCKONFAULT'],
  [VM_ACCOUNT, 'ac', 'VM_ACCOUNT'],
  [VM_NORESERVE, 'nr', 'VM_NORESERVE'],
  [VM_HUGETLB, 'ht', 'VM_HUGETLB'],
  [VM_SYNC, 'sf', 'VM_SYNC'],
  [VM_WIPEONFORK, 'wf', 'VM_WIPEONFORK'],
  [VM_DONTDUMP, 'dd', 'VM_DONTDUMP'],
  [VM_SOFTDIRTY, 'sd', 'VM_SOFTDIRTY'],
  [VM_MIXEDMAP, 'mm', 'VM_MIXEDMAP'],
  [VM_HUGEPAGE, 'hg', 'VM_HUGEPAGE'],
  [VM_NOHUGEPAGE, 'nh', 'VM_NOHUGEPAGE'],
  [VM_MERGEABLE, 'mg', 'VM_MERGEABLE'],
  [VM_SHADOW_STACK, 'ss', 'VM_SHADOW_STACK'],
];

const byMnemonic = new Map(VM_FLAG_TABLE.map(([f, m]) => [m, f]));

/** Flags → the `VmFlags:` text of /proc/PID/smaps, e.g. `rd wr mr mw me ac`. */
export function vmFlagsToSmaps(flags: number): string {
  const out: string[] = [];
  for (const [f, m] of VM_FLAG_TABLE) if (flags & f) out.push(m);
  return out.join(' ');
}

/**
 * The `VmFlags:` text → flags. Unknown mnemonics (architecture bits such as
 * `ar`, `sl` for sealed) are returned in `unknown` rather than dropped silently.
 */
export function vmFlagsFromSmaps(text: string): { flags: number; unknown: string[] } {
  let flags = 0;
  const unknown: string[] = [];
  for (const m of text.trim().split(/\s+/)) {
    if (m === '') continue;
    const f = byMnemonic.get(m);
    if (f === undefined) unknown.push(m);
    else flags |= f;
  }
  return { flags, unknown };
}

/** Flags → `VM_READ|VM_WRITE|…`, for error messages and dumps. */
export function vmFlagsToString(flags: number): string {
  const out: string[] = [];
  for (const [f, , name] of VM_FLAG_TABLE) if (flags & f) out.push(name);
  return out.length ? out.join('|') : '0';
}

// mmap(2) prot and flags, with Linux x86-64 values.
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const PROT_GROWSDOWN = 0x01000000;
export const PROT_GROWSUP = 0x02000000;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_32BIT = 0x40;
export const MAP_GROWSDOWN = 0x100;
export const MAP_DENYWRITE = 0x800;
export const MAP_EXECUTABLE = 0x1000;
export const MAP_LOCKED = 0x2000;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_NONBLOCK = 0x10000;
export const MAP_STACK = 0x20000;
export const MAP_HUGETLB = 0x40000;
export const MAP_SYNC = 0x80000;
export const MAP_FIXED_NOREPLACE = 0x100000;

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;

export const MLOCK_ONFAULT = 1;

export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
export const MADV_FREE = 8;
export const MADV_REMOVE = 9;
export const MADV_DONTFORK = 10;
export const MADV_DOFORK = 11;
export const MADV_MERGEABLE = 12;
export const MADV_UNMERGEABLE = 13;
export const MADV_HUGEPAGE = 14;
export const MADV_NOHUGEPAGE = 15;
export const MADV_DONTDUMP = 16;
export const MADV_DODUMP = 17;
export const MADV_WIPEONFORK = 18;
export const MADV_KEEPONFORK = 19;
export const MADV_COLD = 20;
export const MADV_PAGEOUT = 21;
export const MADV_POPULATE_READ = 22;
export const MADV_POPULATE_WRITE = 23;
export const MADV_DONTNEED_LOCKED = 24;

/** Symbolic names of the constants above, for traces, fixtures and messages. */
export const PROT_NAMES: Readonly<Record<string, number>> = {
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  PROT_EXEC,
  PROT_GROWSDOWN,
  PROT_GROWSUP,
};
export const MAP_NAMES: Readonly<Record<string, number>> = {
  MAP_SHARED,
  MAP_PRIVATE,
  MAP_SHARED_VALIDATE,
  MAP_FIXED,
  MAP_ANONYMOUS,
  MAP_32BIT,
  MAP_GROWSDOWN,
  MAP_DENYWRITE,
  MAP_EXECUTABLE,
  MAP_LOCKED,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_NONBLOCK,
  MAP_STACK,
  MAP_HUGETLB,
  MAP_SYNC,
  MAP_FIXED_NOREPLACE,
};
export const MREMAP_NAMES: Readonly<Record<string, number>> = {
  MREMAP_MAYMOVE,
  MREMAP_FIXED,
  MREMAP_DONTUNMAP,
};
export const MADV_NAMES: Readonly<Record<string, number>> = {
  MADV_NORMAL,
  MADV_RANDOM,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_REMOVE,
  MADV_DONTFORK,
  MADV_DOFORK,
  MADV_MERGEABLE,
  MADV_UNMERGEABLE,
  MADV_HUGEPAGE,
  MADV_NOHUGEPAGE,
  MADV_DONTDUMP,
  MADV_DODUMP,
  MADV_WIPEONFORK,
  MADV_KEEPONFORK,
  MADV_COLD,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_POPULATE_WRITE,
  MADV_DONTNEED_LOCKED,
};

/**
 * `['MAP_PRIVATE', 'MAP_ANONYMOUS']` → number. Throws, naming the word, on an
 * unknown name. A plain decimal or hex number is accepted as itself.
 */
export function parseFlagNames(
  names: readonly string[],
  table: Readonly<Record<string, number>>,
): number {
  let v = 0;
  for (const n of names) {
    const known = table[n];
    if (known !== undefined) v |= known;
    else if (/^(0x[0-9a-f]+|\d+)$/i.test(n)) v |= Number(n);
    else throw new Error(`unknown flag name '${n}'`);
  }
  return v;
}
