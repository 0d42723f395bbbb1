import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { buildProgram, main } from './cli.js';
import { DEFAULT_SNAPSHOT, runDemo } from './demo.js';
import { findPreset } from './presets.js';

async function run(args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
    out += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => {
    err += String(s);
    return true;
  });
  try {
    const code = await main(args);
    return { out, err, code };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('vmalab demo', () => {
  it('creates the stacks 2 MiB aligned, reuses the freed one for the THP map, and counts', () => {
    const r = runDemo(findPreset('linux-2.4'), DEFAULT_SNAPSHOT, 8);
    expect(r.log.filter((l) => /guard page mprotect → 0$/.test(l))).toHaveLength(8);
    expect(
      r.log.some((l) => /mmap 2 MiB anonymous → 0x[0-9a-f]+ \(2 MiB aligned: true\)/.test(l)),
    ).toBe(true);
    // 37 snapshot VMAs + 8 stacks × 2 − 2 (freed stack) + 1 (2 MiB map); the heap grows in place.
    expect(r.after.trim().split('\n')).toHaveLength(37 + 16 - 2 + 1);
    expect(r.counters.splits).toBe(8);
    expect(r.counters.placements).toBeGreaterThan(0);
    expect(r.after).toContain('[heap]');
  });

  it('kernel-exact presets give the same layout; the 2.6 free_area_cache places elsewhere (validly)', () => {
    const [l24, l26, l38, l61, l68, l611, l615] = [
      'linux-2.4',
      'linux-2.6',
      'linux-3.8',
      'linux-6.1',
      'linux-6.8',
      'linux-6.11',
      'linux-6.15',
    ].map((p) => runDemo(findPreset(p), DEFAULT_SNAPSHOT, 8));
    expect(l38?.after).toBe(l24?.after);
    expect(l61?.after).toBe(l24?.after);
    expect(l68?.after).toBe(l24?.after);
    expect(l611?.after).toBe(l24?.after);
    expect(l615?.after).toBe(l24?.after);
    // The munmap of a stack unlinks no file VMA: the batched locker changes no count here.
    expect(l611?.counters.iMmapLockWrite).toBe(l68?.counters.iMmapLockWrite);
    // The cache's fast try takes [cache − len, cache) below the freed stack's
    // neighbour instead of the highest hole: a different, valid layout (mm
    // verifies every finder answer in the demo).
    expect(l26?.after).not.toBe(l24?.after);
    expect(l26?.after.split('\n')).toHaveLength(l24?.after.split('\n').length ?? 0);
    // The tree presets do far less work than the list.
    expect(l38?.counters.nodesVisited).toBeLessThan((l24?.counters.nodesVisited ?? 0) / 4);
  });

  it('prints JSON with --json', async () => {
    const r = await run(['demo', '--stacks', '2', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.preset).toBe('linux-2.4');
    expect(j.log).toHaveLength(2 + 3);
    expect(j.counters.splits).toBe(2);
  });

  it('names the offending input and exits 2 on user mistakes, without a stack trace', async () => {
    const bad = await run(['demo', '--preset', 'linux-9.9']);
    expect(bad.code).toBe(2);
    expect(bad.err).toBe(
      "vmalab: unknown preset 'linux-9.9' (available: linux-2.4, linux-2.6, linux-3.8, linux-6.1, linux-6.8, linux-6.11, linux-6.15)\n",
    );
    const missing = await run(['demo', '--snapshot', '/nonexistent/maps']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("cannot read snapshot '/nonexistent/maps': ENOENT");
    const f = join(tmpdir(), `vmalab-bad-${process.pid}.maps`);
    writeFileSync(
      f,
      '00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon\nnot a maps line\n',
    );
    const malformed = await run(['demo', '--snapshot', f]);
    expect(malformed.code).toBe(2);
    expect(malformed.err).toMatch(/vmalab-bad-\d+\.maps:2: not a \/proc\/PID\/maps line/);
    expect(malformed.err).not.toContain('    at ');
    const n = await run(['demo', '--stacks', 'many']);
    expect(n.code).toBe(2);
    expect(n.err).toContain("'many' is not a positive integer");
  });
});

describe('vmalab list and help', () => {
  it('lists every strategy with its options, and the presets', async () => {
    const r = await run(['list']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/index\s+list\s+Linux/);
    expect(r.out).toMatch(/finder\s+linear/);
    expect(r.out).toMatch(/rmap\s+unbatched/);
    expect(r.out).toMatch(/rmap\s+batched\s+Linux 6\.11–/);
    expect(r.out).toContain('option batchSize (number), default 8');
    expect(r.out).toContain('linux-6.15');
    expect(r.out).toContain('option mmapCache (boolean), default true');
    expect(r.out).toContain('linux-2.4');
  });

  it('--help teaches the commands', () => {
    let out = '';
    const p = buildProgram(() => {});
    p.configureOutput({
      writeOut: (s) => {
        out += s;
      },
    });
    expect(() => p.parse(['--help'], { from: 'user' })).toThrow();
    expect(out).toContain('demo');
    expect(out).toContain('list');
  });
});

describe('presets', () => {
  it('name one strategy per role and the process_madvise locking of their era', () => {
    const rows = [
      'linux-2.4',
      'linux-2.6',
      'linux-3.8',
      'linux-6.1',
      'linux-6.8',
      'linux-6.11',
      'linux-6.15',
    ].map((name) => {
      const p = findPreset(name);
      return [name, p.index[0].name, p.finder[0].name, p.rmap[0].name, p.mm?.madviseLocking];
    });
    expect(rows).toEqual([
      ['linux-2.4', 'list', 'linear', 'unbatched', 'per-call'],
      ['linux-2.6', 'rbtree', 'free-area-cache', 'unbatched', 'per-call'],
      ['linux-3.8', 'rbtree', 'gap', 'unbatched', 'per-call'],
      ['linux-6.1', 'maple', 'gap', 'unbatched', 'per-call'],
      ['linux-6.8', 'maple', 'gap', 'unbatched', 'per-call'],
      ['linux-6.11', 'maple', 'gap', 'batched', 'per-call'],
      ['linux-6.15', 'maple', 'gap', 'batched', 'batched'],
    ]);
    expect(findPreset('linux-6.11').index).toEqual(findPreset('linux-6.8').index);
  });
});
