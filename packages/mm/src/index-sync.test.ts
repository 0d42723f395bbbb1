/**
 * An index may defer a store within one operation (the maple adapter's NULL
 * stores that Linux never makes), but never across two: mm calls
 * `index.sync()` when it drops mmap_lock after writing.
 */
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '@vmalab/core';
import type { MapleVmaIndex } from '@vmalab/index-maple';
import { describe, expect, it } from 'vitest';
import { mmWith } from './testing/images.js';

const P = 4096;
const A = 0x7f0000000000;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;

/** A maple address space with three one-page VMAs that do not merge (alternating protections). */
function threeVmas() {
  const mm = mmWith('unbatched', 'maple');
  const tree = (mm.index as MapleVmaIndex).tree;
  const stores = () => tree.stats.stores.reduce((a, b) => a + b, 0);
  expect(mm.mmap(A, P, PROT_READ, ANON)).toBe(A);
  expect(mm.mmap(A + P, P, PROT_READ | PROT_WRITE, ANON)).toBe(A + P);
  expect(mm.mmap(A + 2 * P, P, PROT_READ, ANON)).toBe(A + 2 * P);
  return { mm, stores };
}

describe('index.sync at the end of a write-locked operation', () => {
  it('maple: munmap makes its NULL store before it returns; mmap over the hole is a store of its own', () => {
    const { mm, stores } = threeVmas();
    let before = stores();
    expect(mm.munmap(A + P, P)).toBe(0);
    expect(stores() - before).toBe(1); // the removal's NULL store, made inside munmap
    // The same range mapped again with its neighbours' protection: a merge on
    // both sides in one operation, one store (vma_expand over the hole).
    before = stores();
    expect(mm.mmap(A + P, P, PROT_READ, ANON)).toBe(A + P);
    expect(stores() - before).toBe(1);
    expect(mm.mapCount).toBe(1);
    mm.validate();
  });

  it('maple: MAP_FIXED over exactly one VMA replaces it with one store', () => {
    const { mm, stores } = threeVmas();
    const before = stores();
    // PROT_NONE: merges with neither neighbour; the new VMA overwrites the old one.
    expect(mm.mmap(A + P, P, 0, ANON)).toBe(A + P);
    expect(stores() - before).toBe(1);
    expect(mm.mapCount).toBe(3);
    mm.validate();
  });
});
