import {
  EAGAIN,
  EEXIST,
  EFAULT,
  EINVAL,
  ENOMEM,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_NOHUGEPAGE,
  MADV_WIPEONFORK,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_STACK,
  MappedFile,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  VM_ACCOUNT,
  VM_DONTCOPY,
  VM_NOHUGEPAGE,
  vmFlagsToSmaps,
} from '@vmalab/core';
import { describe, expect, it } from 'vitest';
import { formatMaps } from './maps.js';
import { layoutOf, makeMm } from './test-util.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const FIX = ANON | MAP_FIXED;
const BASE = 0x7f0000000000;

describe('mmap / munmap basics (kernel-facts §5.6, §5.7, §9.8)', () => {
  it('adjacent anonymous maps merge; MAP_STACK ones do not (VM_NOHUGEPAGE)', () => {
    const mm = makeMm();
    expect(mm.mmap(BASE, 2 * P, RW, FIX)).toBe(BASE);
    expect(mm.mmap(BASE + 2 * P, 2 * P, RW, FIX)).toBe(BASE + 2 * P);
    expect(layoutOf(mm)).toEqual(['7f0000000000-7f0000004000']);
    mm.mmap(BASE + 4 * P, P, RW, FIX | MAP_STACK);
    expect(mm.mapCount).toBe(2);
    expect((mm.vmas()[1]?.flags ?? 0) & VM_NOHUGEPAGE).toBe(VM_NOHUGEPAGE);
  });

  it('munmap: unmapped range → 0, unaligned → EINVAL, len 0 → EINVAL', () => {
    const mm = makeMm();
    expect(mm.munmap(BASE, P)).toBe(0);
    expect(mm.munmap(BASE + 1, P)).toBe(-EINVAL);
    expect(mm.munmap(BASE, 0)).toBe(-EINVAL);
  });

  it('MAP_FIXED_NOREPLACE over an existing page → EEXIST; MAP_FIXED replaces', () => {
    const mm = makeMm();
    mm.mmap(BASE, 4 * P, RW, FIX);
    expect(mm.mmap(BASE + P, P, RW, ANON | MAP_FIXED_NOREPLACE)).toBe(-EEXIST);
    expect(mm.mmap(BASE + P, P, PROT_READ, FIX)).toBe(BASE + P);
    expect(layoutOf(mm)).toEqual([
      '7f0000000000-7f0000001000',
      '7f0000001000-7f0000002000',
      '7f0000002000-7f0000004000',
    ]);
  });

  it('partial munmap splits; a hole in the middle gives two VMAs with the right pgoff', () => {
    const mm = makeMm();
    mm.mmap(BASE, 8 * P, RW, FIX);
    mm.munmap(BASE + 2 * P, 2 * P);
    const [a, b] = mm.vmas();
    expect([a?.end, b?.start, b?.pgoff]).toEqual([BASE + 2 * P, BASE + 4 * P, (BASE + 4 * P) / P]);
  });

  it('private writable maps are charged (VM_ACCOUNT), MAP_SHARED and read-only ones are not', () => {
    const mm = makeMm();
    mm.mmap(BASE, P, RW, FIX);
    mm.mmap(BASE + 2 * P, P, PROT_READ, FIX);
    mm.mmap(BASE + 4 * P, P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
    expect(mm.vmas().map((v) => vmFlagsToSmaps(v.flags))).toEqual([
      'rd wr mr mw me ac',
      'rd mr mw me',
      'rd wr sh mr mw me ms',
    ]);
  });

  it('a shared anonymous mapping is its own shmem object and never merges', () => {
    const mm = makeMm();
    mm.mmap(BASE, P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
    mm.mmap(BASE + P, P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
    expect(mm.mapCount).toBe(2);
    expect(formatMaps(mm).split('\n')[0]).toContain('/dev/zero (deleted)');
  });
});

describe('VM_ACCOUNT and anon_vma change merging (kernel-facts §11)', () => {
  it('mprotect RW→R drops VM_ACCOUNT only from a never-written anonymous VMA', () => {
    const mm = makeMm();
    mm.mmap(BASE, 2 * P, RW, FIX);
    mm.mmap(BASE + 4 * P, 2 * P, RW, FIX);
    expect(mm.fault(BASE + 4 * P, true)).toBe('ok');
    mm.mprotect(BASE, 2 * P, PROT_READ);
    mm.mprotect(BASE + 4 * P, 2 * P, PROT_READ);
    const [a, b] = mm.vmas().map((v) => v.flags);
    expect((a as number) & VM_ACCOUNT).toBe(0);
    expect((b as number) & VM_ACCOUNT).toBe(VM_ACCOUNT);
  });

  it('two separately written VMAs never merge; one mapped between them joins the left only', () => {
    const mm = makeMm();
    mm.mmap(BASE, P, RW, FIX);
    mm.mmap(BASE + 2 * P, P, RW, FIX);
    mm.fault(BASE, true);
    mm.fault(BASE + 2 * P, true);
    mm.mmap(BASE + P, P, RW, FIX);
    expect(layoutOf(mm)).toEqual(['7f0000000000-7f0000002000', '7f0000002000-7f0000003000']);
  });

  it('MAP_POPULATE on private writable memory gives it an anon_vma', () => {
    const mm = makeMm();
    mm.mmap(BASE, P, RW, FIX | MAP_POPULATE);
    expect(mm.vmas()[0]?.anonVma).not.toBeNull();
  });

  it('mremap: a never-written VMA takes its new pgoff and merges; a written one does not', () => {
    const mm = makeMm();
    mm.mmap(BASE + 0x100 * P, P, RW, FIX);
    mm.mmap(BASE, P, RW, FIX);
    expect(mm.mremap(BASE + 0x100 * P, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, BASE + P)).toBe(
      BASE + P,
    );
    expect(layoutOf(mm)).toEqual(['7f0000000000-7f0000002000']);
    mm.mmap(BASE + 0x200 * P, P, RW, FIX);
    mm.fault(BASE + 0x200 * P, true);
    mm.mremap(BASE + 0x200 * P, P, P, MREMAP_MAYMOVE | MREMAP_FIXED, BASE + 2 * P);
    expect(mm.mapCount).toBe(2);
  });
});

describe('madvise (kernel-facts §7, §11)', () => {
  it('flag-changing advice splits and re-merges; DONTNEED does not split', () => {
    const mm = makeMm();
    mm.mmap(BASE, 4 * P, RW, FIX);
    expect(mm.madvise(BASE + P, P, MADV_DONTFORK)).toBe(0);
    expect(mm.mapCount).toBe(3);
    expect((mm.vmas()[1]?.flags ?? 0) & VM_DONTCOPY).toBe(VM_DONTCOPY);
    expect(mm.madvise(BASE + P, P, 11 /* MADV_DOFORK */)).toBe(0);
    expect(mm.mapCount).toBe(1);
    expect(mm.madvise(BASE, 4 * P, MADV_DONTNEED)).toBe(0);
    expect(mm.mapCount).toBe(1);
  });

  it('over a hole: applied to every mapped part, then ENOMEM', () => {
    const mm = makeMm();
    mm.mmap(BASE, P, RW, FIX);
    mm.mmap(BASE + 2 * P, P, RW, FIX);
    expect(mm.madvise(BASE, 3 * P, MADV_NOHUGEPAGE)).toBe(-ENOMEM);
    expect(mm.vmas().every((v) => v.flags & VM_NOHUGEPAGE)).toBe(true);
  });

  it('mprotect over a hole changes only the part before it, then ENOMEM', () => {
    const mm = makeMm();
    mm.mmap(BASE, P, RW, FIX);
    mm.mmap(BASE + 2 * P, P, RW, FIX);
    expect(mm.mprotect(BASE, 3 * P, PROT_READ)).toBe(-ENOMEM);
    expect(mm.vmas().map((v) => vmFlagsToSmaps(v.flags))).toEqual([
      'rd mr mw me',
      'rd wr mr mw me ac',
    ]);
  });

  it('MADV_FREE and MADV_WIPEONFORK on a file mapping → EINVAL; unknown advice → EINVAL', () => {
    const mm = makeMm();
    const f = new MappedFile('/tmp/f', 'fe:00', 12, 1 << 20);
    mm.mmap(BASE, P, RW, MAP_PRIVATE | MAP_FIXED, { file: f, offset: 0 });
    expect(mm.madvise(BASE, P, MADV_FREE)).toBe(-EINVAL);
    expect(mm.madvise(BASE, P, MADV_WIPEONFORK)).toBe(-EINVAL);
    expect(mm.madvise(BASE, P, 9999)).toBe(-EINVAL);
  });
});

describe('max_map_count (kernel-facts §5.5)', () => {
  it('mprotect of every odd page stops at the limit, keeping the failed call’s first split', () => {
    const M = 100;
    const mm = makeMm({ maxMapCount: M });
    mm.mmap(BASE, 1000 * P, RW, FIX);
    let failedAt = -1;
    for (let page = 1; page < 1000; page += 2) {
      if (mm.mprotect(BASE + page * P, P, PROT_READ) !== 0) {
        failedAt = page;
        break;
      }
    }
    // 49 successes (1 + 2k VMAs ≤ M − 2), then the 50th keeps one split: count = M.
    expect(failedAt).toBe(99);
    expect(mm.mapCount).toBe(M);
  });

  it('at the limit: hole punch refused, edge trims and whole-VMA unmaps allowed, madvise → EAGAIN', () => {
    const M = 10;
    const mm = makeMm({ maxMapCount: M });
    for (let i = 0; i < M; i++) mm.mmap(BASE + i * 4 * P, 3 * P, RW, FIX);
    expect(mm.mapCount).toBe(M);
    expect(mm.munmap(BASE + P, P)).toBe(-ENOMEM);
    expect(mm.mprotect(BASE + P, P, PROT_READ)).toBe(-ENOMEM);
    expect(mm.madvise(BASE + P, P, MADV_DONTFORK)).toBe(-EAGAIN);
    expect(mm.munmap(BASE + 2 * P, P)).toBe(0);
    expect(mm.mapCount).toBe(M);
    expect(mm.munmap(BASE, 2 * P)).toBe(0);
    expect(mm.mapCount).toBe(M - 1);
  });

  it('mmap is allowed once at the limit (count = max + 1), then refused', () => {
    const M = 10;
    const mm = makeMm({ maxMapCount: M });
    for (let i = 0; i < M; i++) mm.mmap(BASE + i * 4 * P, P, RW, FIX);
    expect(mm.mmap(BASE + 100 * P, P, PROT_READ, FIX)).toBe(BASE + 100 * P);
    expect(mm.mapCount).toBe(M + 1);
    expect(mm.mmap(BASE + 200 * P, P, PROT_READ, FIX)).toBe(-ENOMEM);
    // Even one that would have merged.
    expect(mm.mmap(BASE + 101 * P, P, PROT_READ, FIX)).toBe(-ENOMEM);
  });
});

describe('placement (kernel-facts §8.4: the observed THP table)', () => {
  it('reproduces the 6.18 sequence of addresses', () => {
    const libc = new MappedFile('/usr/lib/libc.so.6', 'fe:00', 1, Number.POSITIVE_INFINITY);
    const mm = makeMm({ mmapBase: 0x7fd4212b0000 });
    mm.mmap(0x7fd4210bd000, 0x7fd4212aa000 - 0x7fd4210bd000, PROT_READ, MAP_PRIVATE | MAP_FIXED, {
      file: libc,
      offset: 0,
    });
    mm.mmap(0x7fd4212ab000, 5 * P, RW, FIX);
    const M = 1 << 20;
    const map = (len: number, flags = ANON, addr = 0) => mm.mmap(addr, len, RW, flags);
    expect(map(4 * 1024)).toBe(0x7fd4212aa000);
    expect(map(2 * M)).toBe(0x7fd420e00000);
    expect(map(2 * M)).toBe(0x7fd420c00000);
    expect(map(2 * M + 4096)).toBe(0x7fd4209ff000);
    expect(map(4 * M)).toBe(0x7fd420400000);
    expect(map(3 * M)).toBe(0x7fd420100000);
    expect(map(2 * M, ANON | MAP_STACK)).toBe(0x7fd41fe00000);
    expect(map(2 * M)).toBe(0x7fd41fc00000);
    expect(map(2 * M, MAP_SHARED | MAP_ANONYMOUS)).toBe(0x7fd41fa00000);
    expect(map(2 * M, ANON, 0x7fd410001000)).toBe(0x7fd410001000);
  });

  it('a hint is rounded down to a page and used only if the whole range is free', () => {
    const mm = makeMm({ mmapBase: BASE + 0x1000 * P });
    mm.mmap(BASE + 10 * P, P, RW, FIX);
    expect(mm.mmap(BASE + 5 * P + 123, P, RW, ANON)).toBe(BASE + 5 * P);
    expect(mm.mmap(BASE + 9 * P, 2 * P, RW, ANON)).not.toBe(BASE + 9 * P);
  });

  it('no new mapping may end inside the guard gap below a grows-down VMA', () => {
    const mm = makeMm({ mmapBase: BASE + 0x1000 * P });
    const stack = BASE + 0x1000 * P - 4 * P;
    mm.mmap(stack, 4 * P, RW, FIX | MAP_GROWSDOWN);
    const a = mm.mmap(0, P, RW, ANON);
    expect(a + P).toBeLessThanOrEqual(stack - mm.stackGuardGap);
  });
});

describe('brk', () => {
  it('grows the heap in place, shrinks it, refuses to go below start_brk', () => {
    const mm = makeMm();
    mm.startBrk = mm.brkAddr = 0x555555560000;
    expect(mm.brk(0x555555560000 + 3 * P + 5)).toBe(0x555555560000 + 3 * P + 5);
    expect(layoutOf(mm)).toEqual(['555555560000-555555564000']);
    expect(mm.brk(0x555555560000 + 10 * P)).toBe(0x555555560000 + 10 * P);
    expect(mm.mapCount).toBe(1);
    expect(formatMaps(mm)).toContain('[heap]');
    expect(mm.brk(0x555555560000 + P)).toBe(0x555555560000 + P);
    expect(layoutOf(mm)).toEqual(['555555560000-555555561000']);
    expect(mm.brk(0x555555500000)).toBe(0x555555560000 + P);
  });
});

describe('faults', () => {
  it('a write to read-only or unmapped memory is SIGSEGV; past the end of a file SIGBUS', () => {
    const mm = makeMm();
    const f = new MappedFile('/tmp/small', 'fe:00', 3, 100);
    mm.mmap(BASE, P, PROT_READ, FIX);
    expect(mm.fault(BASE, true)).toBe('SIGSEGV');
    expect(mm.fault(BASE + 5 * P, false)).toBe('SIGSEGV');
    mm.mmap(BASE + 8 * P, 2 * P, RW, MAP_SHARED | MAP_FIXED, { file: f, offset: 0 });
    expect(mm.fault(BASE + 8 * P, true)).toBe('ok');
    expect(mm.fault(BASE + 9 * P, true)).toBe('SIGBUS');
    mm.mmap(BASE + 20 * P, P, PROT_NONE, FIX);
    expect(mm.fault(BASE + 20 * P, false)).toBe('SIGSEGV');
  });

  it('a fault below a grows-down VMA grows it (not into the guard gap of a neighbour)', () => {
    const mm = makeMm();
    const top = BASE + 0x1000 * P;
    mm.mmap(top - 4 * P, 4 * P, RW, FIX | MAP_GROWSDOWN);
    expect(mm.fault(top - 10 * P, true)).toBe('ok');
    expect(mm.vmas()[0]?.start).toBe(top - 10 * P);
    mm.mmap(top - 0x200 * P, P, RW, FIX);
    expect(mm.fault(top - 0x180 * P, true)).toBe('SIGSEGV');
  });
});

describe('mremap errors', () => {
  it('EFAULT for an unmapped source, EINVAL for bad flags, ENOMEM when growth needs a move', () => {
    const mm = makeMm();
    expect(mm.mremap(BASE, P, 2 * P, 0)).toBe(-EFAULT);
    expect(mm.mremap(BASE, P, P, MREMAP_FIXED, BASE + P)).toBe(-EINVAL);
    mm.mmap(BASE, P, RW, FIX);
    mm.mmap(BASE + P, P, PROT_READ, FIX);
    expect(mm.mremap(BASE, P, 2 * P, 0)).toBe(-ENOMEM);
  });
});

describe('/proc/PID/maps format', () => {
  it('prints byte for byte: path at column 73, anonymous lines end with "0 "', () => {
    const mm = makeMm();
    const f = new MappedFile('/tmp/t', 'fe:00', 2146410, 1 << 20);
    mm.mmap(0x55ffe1cb1000, P, PROT_READ, MAP_PRIVATE | MAP_FIXED, { file: f, offset: 0 });
    mm.mmap(0x7f39c1a6e000, 2 * P, RW, FIX | MAP_GROWSDOWN);
    expect(formatMaps(mm)).toBe(
      '55ffe1cb1000-55ffe1cb2000 r--p 00000000 fe:00 2146410                    /tmp/t\n' +
        '7f39c1a6e000-7f39c1a70000 rw-p 00000000 00:00 0 \n',
    );
  });
});
