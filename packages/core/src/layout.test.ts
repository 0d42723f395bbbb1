import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  alignDown,
  alignUp,
  isPageAligned,
  modAlign,
  PAGE_SIZE,
  pageDown,
  pageUp,
} from './layout.js';

// The helpers avoid `%` (fmod in V8 for non-small integers); they must give
// exactly what the `%` forms give, for every finite double and power-of-two
// modulus (up to the sign of a zero: `z` maps −0 to +0).
const z = (x: number) => x + 0;
const pageUpRef = (x: number) => (x % PAGE_SIZE === 0 ? x : x + (PAGE_SIZE - (x % PAGE_SIZE)));
const alignUpRef = (x: number, a: number) => (x % a === 0 ? x : x + (a - (x % a)));
const modAlignRef = (x: number, a: number) => (x % a < 0 ? (x % a) + a : x % a);

const addr = fc.oneof(
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: 0 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const pow2 = fc.integer({ min: 0, max: 60 }).map((k) => 2 ** k);

describe('layout helpers', () => {
  it('equal the % forms for any finite number', () => {
    fc.assert(
      fc.property(addr, pow2, (x, a) => {
        expect(z(pageDown(x))).toBe(z(x - (x % PAGE_SIZE)));
        expect(z(pageUp(x))).toBe(z(pageUpRef(x)));
        expect(isPageAligned(x)).toBe(x % PAGE_SIZE === 0);
        expect(z(alignUp(x, a))).toBe(z(alignUpRef(x, a)));
        expect(z(alignDown(x, a))).toBe(z(x - (x % a)));
        expect(z(modAlign(x, a))).toBe(z(modAlignRef(x, a)));
      }),
      { numRuns: 5000 },
    );
  });

  it('edge values', () => {
    for (const x of [
      0,
      1,
      4095,
      4096,
      4097,
      2 ** 47 - 1,
      2 ** 53 - 1,
      2 ** 53,
      2 ** 64,
      -1,
      -4096,
      -4097,
    ]) {
      expect(z(pageDown(x))).toBe(z(x - (x % PAGE_SIZE)));
      expect(z(pageUp(x))).toBe(z(pageUpRef(x)));
      expect(isPageAligned(x)).toBe(x % PAGE_SIZE === 0);
    }
    expect(z(modAlign(-3 * PAGE_SIZE, 16 * PAGE_SIZE))).toBe(z(13 * PAGE_SIZE));
  });
});
