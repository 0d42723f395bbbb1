// Unit tests of core's rwsem.ts (kept in conformance/; they belong beside rwsem.ts).
import { describe, expect, it } from 'vitest';
import { RwSem } from './rwsem.js';

describe('RwSem', () => {
  it('counts read and write acquisitions', () => {
    const s = new RwSem('mmap_lock');
    s.downRead();
    s.downRead();
    expect(s.held).toBe(true);
    s.upRead();
    s.upRead();
    expect(s.held).toBe(false);
    s.downWrite();
    expect(s.held).toBe(true);
    s.upWrite();
    expect(s.held).toBe(false);
    expect(s.readAcquisitions).toBe(2);
    expect(s.writeAcquisitions).toBe(1);
    expect(s.acquisitions).toBe(3);
  });

  it('rejects bad nesting, naming the lock', () => {
    const s = new RwSem('i_mmap_rwsem:/lib/libc.so.6');
    s.downWrite();
    expect(() => s.downWrite()).toThrow(
      /i_mmap_rwsem:\/lib\/libc\.so\.6: write lock taken while held/,
    );
    expect(() => s.downRead()).toThrow(/read lock taken while write-locked/);
    s.upWrite();
    expect(() => s.upWrite()).toThrow(/write unlock without lock/);
    expect(() => s.upRead()).toThrow(/read unlock without lock/);
    s.downRead();
    expect(() => s.downWrite()).toThrow(/write lock taken while held/);
    s.upRead();
    // Failed attempts are not counted as acquisitions.
    expect(s.writeAcquisitions).toBe(1);
    expect(s.readAcquisitions).toBe(1);
    expect(s.held).toBe(false);
  });
});
