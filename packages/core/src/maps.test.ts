// Unit tests of core's maps.ts (kept in conformance/; they belong beside maps.ts).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VM_EXEC, VM_MAYSHARE, VM_READ, VM_SHARED, VM_WRITE } from './flags.js';
import { formatMapsLine, type MapsEntry, parseMapsLine, permsOf } from './maps.js';

// Lines copied from a Linux 6.x /proc/PID/maps.
const REAL = [
  '55ffe1cb1000-55ffe1cb2000 r--p 00000000 fe:00 2146410                    /tmp/t',
  '7f39c1a6e000-7f39c1a70000 rw-p 00000000 00:00 0 ',
  '7f39c1a70000-7f39c1a98000 r--p 00000000 fe:00 1575125                    /usr/lib/x86_64-linux-gnu/libc.so.6',
  '7f39c1a98000-7f39c1c20000 r-xp 00028000 fe:00 1575125                    /usr/lib/x86_64-linux-gnu/libc.so.6',
  '55ffe3a4c000-55ffe3a6d000 rw-p 00000000 00:00 0                          [heap]',
  '7ffd0a2b7000-7ffd0a2d8000 rw-p 00000000 00:00 0                          [stack]',
  '7f39c1c6e000-7f39c1c70000 rw-s 00000000 00:01 3072                       /dev/zero (deleted)',
];

describe('/proc/PID/maps lines', () => {
  it('parses real lines and formats them back byte for byte', () => {
    for (const line of REAL) {
      const e = parseMapsLine(line);
      expect(formatMapsLine(e)).toBe(line);
      expect(parseMapsLine(`${line}\n`)).toEqual(e);
    }
  });

  it('puts the path at byte 73 and ends an anonymous line with "0 "', () => {
    const file = formatMapsLine(parseMapsLine(REAL[0] as string));
    expect(file.indexOf('/tmp/t')).toBe(73);
    const anon = formatMapsLine({
      start: 0x7f39c1a6e000,
      end: 0x7f39c1a70000,
      perms: 'rw-p',
      offset: 0,
      dev: '00:00',
      inode: 0,
      path: '',
    });
    expect(anon).toBe('7f39c1a6e000-7f39c1a70000 rw-p 00000000 00:00 0 ');
    expect(anon.endsWith('0 ')).toBe(true);
    // Short addresses are padded to 8 digits; the path column does not move.
    const low = formatMapsLine({
      start: 0x400000,
      end: 0x401000,
      perms: 'r-xp',
      offset: 0x1000,
      dev: '08:02',
      inode: 12,
      path: '/bin/x',
    });
    expect(low.startsWith('00400000-00401000 r-xp 00001000 08:02 12 ')).toBe(true);
    expect(low.indexOf('/bin/x')).toBe(73);
  });

  it('parses the fields', () => {
    expect(parseMapsLine(REAL[0] as string)).toEqual({
      start: 0x55ffe1cb1000,
      end: 0x55ffe1cb2000,
      perms: 'r--p',
      offset: 0,
      dev: 'fe:00',
      inode: 2146410,
      path: '/tmp/t',
    });
    expect(parseMapsLine(REAL[1] as string).path).toBe('');
    expect(parseMapsLine(REAL[3] as string).offset).toBe(0x28000);
    expect(parseMapsLine(REAL[6] as string).path).toBe('/dev/zero (deleted)');
  });

  it('round-trips random entries, including the top of the 47-bit space', () => {
    const entry = fc
      .record({
        startPage: fc.integer({ min: 0, max: 2 ** 35 - 2 }),
        pages: fc.integer({ min: 1, max: 1024 }),
        perms: fc.constantFrom('r--p', 'rw-p', 'r-xp', '---p', 'rw-s', 'rwxs'),
        offsetPage: fc.integer({ min: 0, max: 2 ** 30 }),
        dev: fc.constantFrom('00:00', 'fe:00', '08:01', '103:02'),
        inode: fc.nat(),
        path: fc.constantFrom(
          '',
          '/tmp/t',
          '[heap]',
          '[vdso]',
          '/a b/c d',
          '/usr/lib/ld-linux-x86-64.so.2',
        ),
      })
      .map(
        (r): MapsEntry => ({
          start: r.startPage * 4096,
          end: Math.min(2 ** 47, (r.startPage + r.pages) * 4096),
          perms: r.perms,
          offset: r.offsetPage * 4096,
          dev: r.dev,
          inode: r.path === '' ? 0 : r.inode,
          path: r.path,
        }),
      );
    fc.assert(
      fc.property(entry, (e) => {
        const line = formatMapsLine(e);
        expect(parseMapsLine(line)).toEqual(e);
        if (e.path !== '')
          expect(line.indexOf(e.path)).toBe(Math.max(73, line.length - e.path.length));
      }),
      { numRuns: 500 },
    );
  });

  it('rejects what is not a maps line', () => {
    expect(() => parseMapsLine('hello')).toThrow(/not a \/proc\/PID\/maps line/);
    expect(() => parseMapsLine('1000-1000 rw-p 00000000 00:00 0 ')).toThrow(/end ≤ start/);
    expect(() => parseMapsLine('2000-1000 rw-p 00000000 00:00 0 ')).toThrow(/end ≤ start/);
    expect(() => parseMapsLine('1000-2000 rwzp 00000000 00:00 0 ')).toThrow();
  });

  it('derives perms from VM flags', () => {
    expect(permsOf(VM_READ)).toBe('r--p');
    expect(permsOf(VM_READ | VM_WRITE | VM_EXEC)).toBe('rwxp');
    expect(permsOf(VM_READ | VM_WRITE | VM_SHARED | VM_MAYSHARE)).toBe('rw-s');
    expect(permsOf(VM_READ | VM_MAYSHARE)).toBe('r--s');
    expect(permsOf(0)).toBe('---p');
  });
});
