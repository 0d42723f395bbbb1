import {
  Counters,
  EFAULT,
  EINVAL,
  ENOMEM,
  MADV_COLD,
  MADV_DONTFORK,
  MADV_DONTNEED,
  MADV_FREE,
  MADV_HUGEPAGE,
  MADV_NORMAL,
  MADV_PAGEOUT,
  MADV_POPULATE_READ,
  MADV_RANDOM,
  MADV_SEQUENTIAL,
  MADV_WILLNEED,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  PROT_READ,
  PROT_WRITE,
  VM_DONTCOPY,
  VM_RAND_READ,
} from '@vmalab/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AddressSpace } from './address-space.js';
import { formatMaps } from './maps.js';
import {
  type Iovec,
  importIovec,
  MADV_COLLAPSE,
  MADV_HWPOISON,
  MAX_RW_COUNT,
  type MadviseLocking,
  madviseLockMode,
  UIO_MAXIOV,
} from './process-madvise.js';
import { makeMm } from './test-util.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const MiB = 1 << 20;

function mm(locking: MadviseLocking, verify = true): AddressSpace {
  return makeMm({ madviseLocking: locking, verify });
}

/** mmap_lock acquisitions (read, write) that `fn` costs. */
function locks(m: AddressSpace, fn: () => void): [number, number] {
  const before = m.counters.snapshot();
  fn();
  const d = Counters.diff(m.counters.snapshot(), before);
  return [d.mmapLockRead as number, d.mmapLockWrite as number];
}

/**
 * MADV_DONTNEED over 256 MiB in 4 KiB pieces (SeongJae Park's benchmark,
 * kernel-facts §7.2): 65536 ranges, passed `vlen` at a time.
 */
function dontneed256MiB(locking: MadviseLocking, vlen: number) {
  const m = mm(locking, false);
  const base = m.mmap(0, 256 * MiB, RW, ANON);
  for (let a = base; a < base + 256 * MiB; a += 2 * MiB) m.fault(a, true);
  let calls = 0;
  let bytes = 0;
  const [read, write] = locks(m, () => {
    for (let a = base; a < base + 256 * MiB; a += vlen * P) {
      const iov: Iovec[] = [];
      for (let i = 0; i < vlen; i++) iov.push({ base: a + i * P, len: P });
      const r = m.processMadvise(iov, MADV_DONTNEED);
      expect(r).toBe(vlen * P);
      bytes += r;
      calls++;
    }
  });
  expect(bytes).toBe(256 * MiB);
  return { calls, read, write };
}

const VLENS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

describe('process_madvise: mmap_lock acquisitions for MADV_DONTNEED over 256 MiB in 4 KiB pieces', () => {
  it('per-call (before 6.15): 65536 read acquisitions whatever the vector length', () => {
    for (const vlen of VLENS) {
      expect(dontneed256MiB('per-call', vlen)).toEqual({
        calls: 65536 / vlen,
        read: 65536,
        write: 0,
      });
    }
  });

  it('batched (6.15+): one read acquisition per call, 65536 / vector length', () => {
    for (const vlen of VLENS) {
      expect(dontneed256MiB('batched', vlen)).toEqual({
        calls: 65536 / vlen,
        read: 65536 / vlen,
        write: 0,
      });
    }
  });

  it('table', () => {
    const rows = VLENS.map((vlen) => [
      vlen,
      dontneed256MiB('per-call', vlen).read,
      dontneed256MiB('batched', vlen).read,
    ]);
    expect(rows).toEqual([
      [1, 65536, 65536],
      [2, 65536, 32768],
      [4, 65536, 16384],
      [8, 65536, 8192],
      [16, 65536, 4096],
      [32, 65536, 2048],
      [64, 65536, 1024],
      [128, 65536, 512],
      [256, 65536, 256],
      [512, 65536, 128],
      [1024, 65536, 64],
    ]);
  });
});

describe('process_madvise: lock mode from the advice', () => {
  it('flag-changing advice takes the write lock, page advice the read lock', () => {
    for (const [advice, mode] of [
      [MADV_DONTFORK, 'write'],
      [MADV_NORMAL, 'write'],
      [MADV_RANDOM, 'write'],
      [MADV_HUGEPAGE, 'write'],
      [MADV_DONTNEED, 'read'],
      [MADV_FREE, 'read'],
      [MADV_COLD, 'read'],
      [MADV_PAGEOUT, 'read'],
      [MADV_WILLNEED, 'read'],
      [MADV_POPULATE_READ, 'read'],
      [MADV_COLLAPSE, 'read'],
      [MADV_HWPOISON, 'none'],
      [12345, 'write'],
    ] as const) {
      expect([advice, madviseLockMode(advice)]).toEqual([advice, mode]);
    }
  });

  it.each([
    1, 2, 3, 16, 1024,
  ])('a vector of %i ranges: batched 1 round trip, per-call one per range', (n) => {
    for (const [advice, wantRead, wantWrite] of [
      [MADV_DONTFORK, 0, 1],
      [MADV_SEQUENTIAL, 0, 1],
      [MADV_DONTNEED, 1, 0],
      [MADV_COLD, 1, 0],
    ] as const) {
      const layouts: string[] = [];
      for (const locking of ['batched', 'per-call'] as const) {
        const m = mm(locking, n < 64);
        const base = m.mmap(0, 2 * n * P, RW, ANON);
        const iov = Array.from({ length: n }, (_, i) => ({ base: base + 2 * i * P, len: P }));
        let r = 0;
        const got = locks(m, () => {
          r = m.processMadvise(iov, advice);
        });
        expect(r).toBe(n * P);
        const k = locking === 'batched' ? 1 : n;
        expect(got).toEqual([wantRead * k, wantWrite * k]);
        layouts.push(formatMaps(m));
      }
      expect(layouts[0]).toBe(layouts[1]);
    }
  });
});

describe('process_madvise: errors as Linux reports them', () => {
  /** Three mapped 4-page regions with 1-page holes between them. */
  function setup(locking: MadviseLocking) {
    const m = mm(locking);
    const base = m.mmap(0, 16 * P, RW, ANON);
    m.munmap(base + 4 * P, P);
    m.munmap(base + 9 * P, P);
    return { m, base };
  }
  const dontcopy = (m: AddressSpace) =>
    m
      .vmas()
      .filter((v) => v.flags & VM_DONTCOPY)
      .map((v) => [v.start, v.end]);

  for (const locking of ['batched', 'per-call'] as const) {
    describe(locking, () => {
      it('EINVAL in the first element: the error, nothing applied', () => {
        const { m, base } = setup(locking);
        expect(
          m.processMadvise(
            [
              { base: base + 1, len: P },
              { base, len: P },
            ],
            MADV_DONTFORK,
          ),
        ).toBe(-EINVAL);
        expect(dontcopy(m)).toEqual([]);
      });

      it('EINVAL in a later element: the bytes before it, those elements applied', () => {
        const { m, base } = setup(locking);
        const r = m.processMadvise(
          [
            { base, len: P },
            { base: base + 2 * P, len: 100 },
            { base: base + 5 * P + 12, len: P },
            { base: base + 10 * P, len: P },
          ],
          MADV_DONTFORK,
        );
        expect(r).toBe(P + 100);
        expect(dontcopy(m)).toEqual([
          [base, base + P],
          [base + 2 * P, base + 3 * P],
        ]);
      });

      it('ENOMEM for a hole: the mapped parts of that element applied, later ones not', () => {
        const { m, base } = setup(locking);
        const r = m.processMadvise(
          [
            { base: base + 10 * P, len: P },
            { base: base + 3 * P, len: 3 * P }, // 3, hole at 4, 5
            { base: base + 12 * P, len: P },
          ],
          MADV_DONTFORK,
        );
        expect(r).toBe(P);
        expect(dontcopy(m)).toEqual([
          [base + 3 * P, base + 4 * P],
          [base + 5 * P, base + 6 * P],
          [base + 10 * P, base + 11 * P],
        ]);
        // The first element over a hole: −ENOMEM, its mapped part applied.
        const { m: m2, base: b2 } = setup(locking);
        expect(m2.processMadvise([{ base: b2 + 8 * P, len: 2 * P }], MADV_RANDOM)).toBe(-ENOMEM);
        expect(
          m2
            .vmas()
            .filter((v) => v.flags & VM_RAND_READ)
            .map((v) => v.start),
        ).toEqual([b2 + 8 * P]);
        // Entirely unmapped: ENOMEM.
        expect(m2.processMadvise([{ base: b2 + 4 * P, len: P }], MADV_DONTNEED)).toBe(-ENOMEM);
      });

      it('EINVAL from a VMA (DONTNEED on mlocked memory) stops the walk', () => {
        const { m, base } = setup(locking);
        expect(m.mlock(base + 5 * P, 4 * P)).toBe(0);
        const r = m.processMadvise(
          [
            { base, len: 4 * P },
            { base: base + 5 * P, len: P },
            { base: base + 10 * P, len: P },
          ],
          MADV_DONTNEED,
        );
        expect(r).toBe(4 * P);
      });

      it('empty elements advise 0 bytes; an all-empty vector returns 0', () => {
        const { m, base } = setup(locking);
        expect(m.processMadvise([{ base, len: 0 }], MADV_DONTFORK)).toBe(0);
        expect(
          m.processMadvise(
            [
              { base, len: 0 },
              { base, len: P },
            ],
            MADV_DONTFORK,
          ),
        ).toBe(P);
        expect(m.processMadvise([], MADV_DONTNEED)).toBe(0);
      });

      it('rejects the call before any element: flags, vector length, lengths, addresses', () => {
        const { m, base } = setup(locking);
        const none = locks(m, () => {
          expect(m.processMadvise([{ base, len: P }], MADV_DONTFORK, 1)).toBe(-EINVAL);
          const long = Array.from({ length: UIO_MAXIOV + 1 }, () => ({ base, len: P }));
          expect(m.processMadvise(long, MADV_DONTFORK)).toBe(-EINVAL);
          expect(
            m.processMadvise(
              [
                { base, len: P },
                { base, len: -1 },
              ],
              MADV_DONTFORK,
            ),
          ).toBe(-EINVAL);
          expect(
            m.processMadvise(
              [
                { base, len: P },
                { base: 2 ** 47 - P, len: 2 * P },
              ],
              MADV_DONTFORK,
            ),
          ).toBe(-EFAULT);
        });
        expect(none).toEqual([0, 0]);
        expect(dontcopy(m)).toEqual([]);
      });
    });
  }

  it('an invalid advice: per-call takes no lock, batched takes the write lock once (get_lock_mode default)', () => {
    for (const [locking, want] of [
      ['per-call', [0, 0]],
      ['batched', [0, 1]],
    ] as const) {
      const { m, base } = setup(locking);
      let r = 0;
      const got = locks(m, () => {
        r = m.processMadvise([{ base, len: P }], 12345);
      });
      expect(got).toEqual(want);
      expect(r).toBe(-EINVAL);
    }
  });

  it('empty vectors: per-call takes no lock, batched one', () => {
    expect(locks(mm('per-call'), () => mm('per-call').processMadvise([], MADV_DONTNEED))).toEqual([
      0, 0,
    ]);
    const b = mm('batched');
    expect(locks(b, () => b.processMadvise([], MADV_DONTNEED))).toEqual([1, 0]);
  });

  it('caps the total at MAX_RW_COUNT, shortening the element that crosses it', () => {
    expect(
      importIovec(
        [
          { base: 0, len: 0x40000000 },
          { base: 0x40000000, len: 0x40000000 },
          { base: 0, len: 5 },
        ],
        2 ** 47,
      ),
    ).toEqual([
      { base: 0, len: 0x40000000 },
      { base: 0x40000000, len: MAX_RW_COUNT - 0x40000000 },
      { base: 0, len: 0 },
    ]);
    const m = mm('batched');
    const base = m.mmap(0, 2 ** 31, RW, ANON);
    expect(
      m.processMadvise(
        [
          { base, len: 2 ** 30 },
          { base: base + 2 ** 30, len: 2 ** 30 },
        ],
        MADV_DONTNEED,
      ),
    ).toBe(MAX_RW_COUNT);
  });
});

describe('process_madvise: both lockings give the same results and layouts', () => {
  it('on random vectors over a fragmented layout', () => {
    const advices = [MADV_DONTNEED, MADV_DONTFORK, MADV_RANDOM, MADV_NORMAL, MADV_COLD, MADV_FREE];
    fc.assert(
      fc.property(
        fc.constantFrom(...advices),
        fc.array(
          fc.record({ page: fc.nat({ max: 40 }), pages: fc.nat({ max: 6 }), odd: fc.boolean() }),
          { maxLength: 12 },
        ),
        (advice, elements) => {
          const out = (['per-call', 'batched'] as const).map((locking) => {
            const m = mm(locking);
            const base = m.mmap(0, 32 * P, RW, ANON);
            m.munmap(base + 7 * P, 2 * P);
            m.mprotect(base + 20 * P, 3 * P, PROT_READ);
            const iov = elements.map((e) => ({
              base: base + e.page * P + (e.odd && e.page % 7 === 3 ? 1 : 0),
              len: e.pages * P,
            }));
            const flags = m.vmas().map((v) => `${v.start}-${v.end}:${v.flags}`);
            return [m.processMadvise(iov, advice), formatMaps(m), flags];
          });
          expect(out[0]).toEqual(out[1]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
