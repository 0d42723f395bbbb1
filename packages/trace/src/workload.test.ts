import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Counters } from '@vmalab/core';
import { AddressSpace, type AddressSpaceOptions } from '@vmalab/mm';
import { describe, expect, it } from 'vitest';
import { TraceError } from './parser.js';
import { mapleGap } from './test-util.js';
import { replayWorkload } from './workload.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

describe('replayWorkload', () => {
  it('is a Workload: each step replays the whole log over the cell strategies', () => {
    const w = replayWorkload(join(FIXTURES, 'python3.strace.gz'), {
      initial: join(FIXTURES, 'python3.exec.maps'),
    });
    expect(w.name).toBe('replay');
    expect(w.params.map((p) => p.name)).toEqual(['mode']);
    const counters = new Counters();
    const newMm = (extra: Partial<AddressSpaceOptions> = {}) =>
      new AddressSpace({ ...mapleGap(counters), counters, ...extra });
    for (const mode of ['recorded', 'replace']) {
      const inst = w.create({ mode }, 1) as ReturnType<typeof w.create> & {
        lastResult: {
          divergenceCount: number;
          vmaCount: number;
          calls: Record<string, number>;
        } | null;
      };
      expect(inst.unit).toBe('replay');
      expect(inst.opsPerStep).toBe(199);
      const mm = inst.setup(newMm);
      const before = counters.mmapLockWrite;
      inst.step(mm);
      inst.step(mm);
      // the same work twice, and the root's address space is torn down at exit_group
      expect(inst.lastResult?.divergenceCount).toBe(0);
      expect(inst.lastResult?.vmaCount).toBe(49);
      expect(mm.mapCount).toBe(0);
      expect(counters.mmapLockWrite).toBeGreaterThan(before);
    }
    expect(() => w.create({ mode: 'sideways' }, 1)).toThrow(/parameter mode/);
  });

  it('a malformed log fails when the workload is built', () => {
    expect(() => replayWorkload(join(FIXTURES, 'ls.exec.maps'))).toThrow(TraceError);
  });
});
