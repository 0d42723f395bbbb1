/**
 * Property: the address space gives the same results and the same layout
 * whatever strategies it runs on. Random system-call sequences are applied to
 * one address space over real strategies (list + linear, rbtree with raw gaps
 * + gap, the maple tree of 6.8 and of 6.1 + gap; unbatched rmap) and one over
 * the trivially correct references of
 * @vmalab/core/conformance; after every call the results, the layouts (bounds,
 * flags, pgoff, file, anon_vma presence) and the map counts must be equal, and
 * both address spaces validate (verify mode). Failed mmap and munmap calls must
 * leave the layout untouched.
 */
import {
  Counters,
  MADV_NAMES,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MAP_GROWSDOWN,
  MAP_LOCKED,
  MAP_NORESERVE,
  MAP_POPULATE,
  MAP_PRIVATE,
  MAP_SHARED,
  MAP_STACK,
  MappedFile,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  PROT_EXEC,
  PROT_READ,
  PROT_WRITE,
} from '@vmalab/core';
import {
  KernelReferenceFinder,
  ReferenceIndex,
  ReferenceRmapLocker,
} from '@vmalab/core/conformance';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AddressSpace } from './address-space.js';
import { type IndexKind, mmWith } from './testing/images.js';

const P = 4096;
const PAGES = 96;
const BASE = 0x7f5500000000;
const ADVICE = Object.values(MADV_NAMES);

type Op =
  | { k: 'mmap'; page: number; len: number; prot: number; flags: number; file: number; off: number }
  | { k: 'munmap' | 'mlock' | 'munlock'; page: number; len: number }
  | { k: 'mprotect'; page: number; len: number; prot: number }
  | { k: 'madvise'; page: number; len: number; advice: number }
  | { k: 'mremap'; page: number; len: number; newLen: number; flags: number; dest: number }
  | { k: 'fault'; page: number; write: boolean };

const page = fc.integer({ min: 0, max: PAGES - 1 });
const len = fc.integer({ min: 1, max: 12 });
const prot = fc.constantFrom(
  0,
  PROT_READ,
  PROT_READ | PROT_WRITE,
  PROT_READ | PROT_EXEC,
  PROT_WRITE,
);
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      k: fc.constant('mmap' as const),
      page,
      len,
      prot,
      flags: fc.constantFrom(
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
        MAP_PRIVATE | MAP_ANONYMOUS,
        MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED,
        MAP_PRIVATE | MAP_FIXED,
        MAP_SHARED | MAP_FIXED,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_STACK,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_POPULATE,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_LOCKED,
        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
      ),
      file: fc.integer({ min: 0, max: 1 }),
      off: fc.integer({ min: 0, max: PAGES }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('munmap' as const), page, len }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('mprotect' as const), page, len, prot }) },
  {
    weight: 3,
    arbitrary: fc.record({
      k: fc.constant('madvise' as const),
      page,
      len,
      advice: fc.constantFrom(...ADVICE),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('mremap' as const),
      page,
      len,
      newLen: len,
      flags: fc.constantFrom(
        0,
        MREMAP_MAYMOVE,
        MREMAP_MAYMOVE | MREMAP_FIXED,
        MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
      ),
      dest: page,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constantFrom('mlock' as const, 'munlock' as const), page, len }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ k: fc.constant('fault' as const), page, write: fc.boolean() }),
  },
);

function apply(mm: AddressSpace, files: MappedFile[], o: Op): number | string {
  const a = BASE + o.page * P;
  switch (o.k) {
    case 'mmap': {
      const f =
        o.flags & MAP_ANONYMOUS ? null : { file: files[o.file] as MappedFile, offset: o.off * P };
      const addr = o.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) ? a : 0;
      return mm.mmap(addr, o.len * P, o.prot, o.flags, f);
    }
    case 'munmap':
      return mm.munmap(a, o.len * P);
    case 'mprotect':
      return mm.mprotect(a, o.len * P, o.prot);
    case 'madvise':
      return mm.madvise(a, o.len * P, o.advice);
    case 'mlock':
      return mm.mlock(a, o.len * P);
    case 'munlock':
      return mm.munlock(a, o.len * P);
    case 'mremap':
      return mm.mremap(
        a,
        o.len * P,
        (o.flags & MREMAP_DONTUNMAP ? o.len : o.newLen) * P,
        o.flags,
        BASE + o.dest * P,
      );
    case 'fault':
      return mm.fault(a, o.write);
  }
}

function shape(mm: AddressSpace): string[] {
  return mm
    .vmas()
    .map(
      (v) =>
        `${v.start.toString(16)}-${v.end.toString(16)} f=${v.flags.toString(16)} pg=${v.pgoff.toString(16)} ${v.file?.path ?? '-'} anon=${v.anonVma ? 1 : 0}`,
    );
}

function pair(
  maxMapCount: number,
  kind: IndexKind,
): [AddressSpace, AddressSpace, MappedFile[], MappedFile[]] {
  const mk = () => [
    new MappedFile('/f0', 'fe:00', 1, 64 * P),
    new MappedFile('/f1', 'fe:00', 2, 1 << 30),
  ];
  const common = { mmapBase: BASE + PAGES * P, maxMapCount, stackGuardGap: 8 * P, verify: true };
  const a = mmWith('unbatched', kind, common);
  const c = new Counters();
  const b = new AddressSpace({
    index: new ReferenceIndex(c),
    finder: new KernelReferenceFinder(c),
    rmap: new ReferenceRmapLocker(c),
    counters: c,
    ...common,
  });
  return [a, b, mk(), mk()];
}

describe('address space: strategies are interchangeable (property)', () => {
  // list + linear (the reference pair), and the gap-tree eras whose answers
  // are also kernel-exact: rbtree with raw gaps, the maple tree of 6.8
  // (RCU, walk state, deferred stores synced per call) and of 6.1.
  const cases: [IndexKind, string, number][] = [
    ['list', 'list + linear', 120],
    ['rbtree', 'rbtree (raw gaps) + gap', 60],
    ['maple', 'maple (6.8: by-store-type, rcu) + gap', 60],
    ['maple-insert', 'maple (6.1: worst-case, no rcu) + gap', 40],
  ];
  for (const [kind, label, runs] of cases) {
    it(`${label} + unbatched agree with the references on ${runs} runs × 100 random calls`, () => {
      fc.assert(
        fc.property(
          fc.array(op, { minLength: 100, maxLength: 100 }),
          fc.integer({ min: 8, max: 40 }),
          (ops, limit) => {
            const [a, b, fa, fb] = pair(limit, kind);
            for (const o of ops) {
              const before = shape(a);
              const ra = apply(a, fa, o);
              const rb = apply(b, fb, o);
              expect(ra, JSON.stringify(o)).toEqual(rb);
              expect(shape(a)).toEqual(shape(b));
              if ((o.k === 'mmap' || o.k === 'munmap') && typeof ra === 'number' && ra < 0) {
                expect(shape(a), `failed ${o.k} changed the layout`).toEqual(before);
              }
            }
          },
        ),
        { numRuns: runs, seed: 20261122 },
      );
    });
  }
});
