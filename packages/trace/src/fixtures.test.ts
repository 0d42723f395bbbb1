/**
 * Real programs recorded on Linux 6.18 (tools/record.mjs): replaying each log
 * from its exec snapshot must reproduce its exit snapshot, up to the effects
 * no trace shows — stack growth by faults and VMA splits decided by
 * anon_vma (first writes) — which `compareLayouts` sorts out. In these
 * recordings neither occurred: the layouts are equal.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Counters } from '@vmalab/core';
import { parseSnapshot } from '@vmalab/mm';
import { describe, expect, it } from 'vitest';
import { compareLayouts } from './compare.js';
import { replayFile } from './io.js';
import { mapleGap } from './test-util.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

/**
 * Per fixture: the documented differences from the exit snapshot, and the
 * divergences in processes exec'd during the trace without a snapshot (gcc's
 * cc1 and as: the kernel's exec mappings and their mmap_base are unknown, so
 * their placements differ; they are counted apart and do not touch gcc's
 * own address space).
 */
const EXPECTED: Record<
  string,
  { lines: number; differences: string[]; unknownRecorded: number; unknownReplace: number }
> = {
  ls: { lines: 42, differences: [], unknownRecorded: 0, unknownReplace: 0 },
  python3: { lines: 200, differences: [], unknownRecorded: 0, unknownReplace: 0 },
  'node-workers': { lines: 1934, differences: [], unknownRecorded: 0, unknownReplace: 0 },
  gcc: { lines: 174, differences: [], unknownRecorded: 46, unknownReplace: 4 },
  threads: { lines: 13865, differences: [], unknownRecorded: 0, unknownReplace: 0 },
};

describe.each(Object.entries(EXPECTED))('fixture %s', (name, want) => {
  const initial = parseSnapshot(readFileSync(join(FIXTURES, `${name}.exec.maps`), 'utf8'));
  const exit = readFileSync(join(FIXTURES, `${name}.exit.maps`), 'utf8');
  const meta = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as { pid: number };

  it.each([
    'recorded',
    'replace',
  ] as const)('%s mode reproduces the exit snapshot', async (mode) => {
    const r = await replayFile(join(FIXTURES, `${name}.strace.gz`), {
      mode,
      strategies: mapleGap,
      counters: new Counters(),
      initial,
    });
    expect(r.lines).toBe(want.lines);
    expect(r.pid).toBe(meta.pid);
    expect(r.exited).toBe(true);
    expect(r.divergences).toEqual([]);
    expect(r.divergenceCount).toBe(0);
    expect(r.unknownLayoutDivergences).toBe(
      mode === 'recorded' ? want.unknownRecorded : want.unknownReplace,
    );
    const cmp = compareLayouts(r.maps, exit);
    expect(
      cmp.differences.map((d) => `${d.kind}: ${d.kernel.join(', ')} | ${d.replay.join(', ')}`),
    ).toEqual(want.differences);
  });
});

describe('compareLayouts', () => {
  const k = [
    '555555554000-555555558000 r--p 00000000 fe:00 1 /bin/x',
    '7ffff7000000-7ffff7002000 rw-p 00000000 00:00 0 ',
    '7ffff7002000-7ffff7004000 rw-p 00000000 00:00 0 ',
    '7ffffffdd000-7ffffffff000 rw-p 00000000 00:00 0 [stack]',
  ].join('\n');

  it('sorts differences into stack growth, anon_vma splits and the rest', () => {
    const r = [
      '555555554000-555555558000 r--p 00000000 00:00 0 /bin/x',
      '7ffff7000000-7ffff7004000 rw-p 00000000 00:00 0 ',
      '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]',
    ].join('\n');
    expect(compareLayouts(r, k).differences.map((d) => d.kind)).toEqual(['stack', 'split']);
    const bad = r.replace('r--p', 'r-xp');
    expect(compareLayouts(bad, k).differences.map((d) => d.kind)).toEqual([
      'stack',
      'split',
      'other',
    ]);
    expect(compareLayouts(k, k).equal).toBe(true);
  });
});
