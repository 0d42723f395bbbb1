// Unit tests of core's flags.ts (kept in conformance/; they belong beside flags.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_NAMES,
  MAP_PRIVATE,
  PROT_NAMES,
  parseFlagNames,
  VM_ACCOUNT,
  VM_FLAG_TABLE,
  VM_GROWSDOWN,
  VM_MAYEXEC,
  VM_MAYREAD,
  VM_MAYWRITE,
  VM_READ,
  VM_WRITE,
  vmFlagsFromSmaps,
  vmFlagsToSmaps,
  vmFlagsToString,
} from './flags.js';

const ALL = VM_FLAG_TABLE.reduce((a, [f]) => a | f, 0);

describe('VM flags', () => {
  it('has distinct single-bit flags with distinct mnemonics, in bit order', () => {
    const bits = VM_FLAG_TABLE.map(([f]) => f);
    expect(new Set(bits).size).toBe(bits.length);
    for (const f of bits) expect(f > 0 && (f & (f - 1)) === 0).toBe(true);
    expect([...bits].sort((a, b) => a - b)).toEqual(bits);
    expect(new Set(VM_FLAG_TABLE.map(([, m]) => m)).size).toBe(bits.length);
  });

  it('prints smaps VmFlags like the kernel', () => {
    const f = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;
    expect(vmFlagsToSmaps(f)).toBe('rd wr mr mw me ac');
    expect(vmFlagsToSmaps(VM_READ | VM_WRITE | VM_GROWSDOWN | VM_ACCOUNT)).toBe('rd wr gd ac');
    expect(vmFlagsToSmaps(0)).toBe('');
    expect(vmFlagsToString(VM_READ | VM_GROWSDOWN)).toBe('VM_READ|VM_GROWSDOWN');
    expect(vmFlagsToString(0)).toBe('0');
  });

  it('round-trips every flag set through the smaps text', () => {
    for (const [f] of VM_FLAG_TABLE)
      expect(vmFlagsFromSmaps(vmFlagsToSmaps(f))).toEqual({ flags: f, unknown: [] });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: ALL }), (raw) => {
        const flags = raw & ALL;
        expect(vmFlagsFromSmaps(vmFlagsToSmaps(flags))).toEqual({ flags, unknown: [] });
      }),
      { numRuns: 500 },
    );
  });

  it('reports unknown smaps mnemonics instead of dropping them', () => {
    expect(vmFlagsFromSmaps('  rd ex mr mw me ar sl \n')).toEqual({
      flags: vmFlagsFromSmaps('rd ex mr mw me').flags,
      unknown: ['ar', 'sl'],
    });
    expect(vmFlagsFromSmaps('')).toEqual({ flags: 0, unknown: [] });
  });

  it('parses symbolic mmap flags, numbers, and rejects unknown names', () => {
    expect(parseFlagNames(['MAP_PRIVATE', 'MAP_ANONYMOUS'], MAP_NAMES)).toBe(
      MAP_PRIVATE | MAP_ANONYMOUS,
    );
    expect(parseFlagNames(['MAP_FIXED', '0x20'], MAP_NAMES)).toBe(MAP_FIXED | MAP_ANONYMOUS);
    expect(parseFlagNames(['3'], PROT_NAMES)).toBe(3);
    expect(parseFlagNames([], PROT_NAMES)).toBe(0);
    expect(() => parseFlagNames(['MAP_BOGUS'], MAP_NAMES)).toThrow("unknown flag name 'MAP_BOGUS'");
  });
});
