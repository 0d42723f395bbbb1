import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { UsageError } from './presets.js';
import { registerReplay } from './replay.js';

const FIXTURES = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'packages',
  'trace',
  'fixtures',
);

async function run(args: string[]): Promise<{ out: string; err: string; error: unknown }> {
  let out = '';
  let err = '';
  const program = new Command('vmalab').exitOverride().configureOutput({
    writeOut: (s) => {
      out += s;
    },
    writeErr: (s) => {
      err += s;
    },
  });
  registerReplay(program, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    cwd: FIXTURES,
  });
  try {
    await program.parseAsync(['replay', ...args], { from: 'user' });
    return { out, err, error: null };
  } catch (error) {
    return { out, err, error };
  }
}

describe('vmalab replay', () => {
  it('--format maps prints the final layout of the first process', async () => {
    const r = await run(['ls.strace.gz', '--initial', 'ls.exec.maps']);
    expect(r.error).toBeNull();
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(48);
    expect(lines[0]).toMatch(/^555555554000-555555558000 r--p 00000000 fe:00 \d+ +\/usr\/bin\/ls$/);
    expect(r.out).toContain('[heap]');
  });

  it('--format json carries the layout, counters and divergences', async () => {
    const r = await run([
      'gcc.strace.gz',
      '--initial',
      'gcc.exec.maps',
      '--format',
      'json',
      '--preset',
      'linux-6.8',
    ]);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({
      schema: 1,
      mode: 'recorded',
      strategies: 'preset linux-6.8 (maple + gap + unbatched)',
      divergenceCount: 0,
      unknownLayoutDivergences: 46,
      calls: { vfork: 2, execve: 11 },
    });
    expect(doc.maps).toHaveLength(doc.vmaCount);
    expect(doc.counters.mmapLockWrite).toBeGreaterThan(0);
  });

  it('--format summary: calls by type, divergences, VMA count over time, locks', async () => {
    const r = await run([
      'threads.strace.gz',
      '--initial',
      'threads.exec.maps',
      '--format',
      'summary',
    ]);
    expect(r.out).toContain('calls by type:');
    expect(r.out).toMatch(/clone3\s+2,000/);
    expect(r.out).toContain('divergences: 0');
    expect(r.out).toMatch(/VMA count of pid \d+ over time: min \d+, max \d+, final 337/);
    expect(r.out).toContain('mmap_lock write');
  });

  it('--mode replace with explicit strategies; --each prints every step', async () => {
    const r = await run([
      'ls.strace.gz',
      '--initial',
      'ls.exec.maps',
      '--mode',
      'replace',
      '--index',
      'rbtree:gaps=raw',
      '--finder',
      'gap',
      '--rmap',
      'unbatched',
      '--each',
    ]);
    expect(r.error).toBeNull();
    expect(r.out.match(/^# ls\.strace\.gz:\d+ pid \d+: /gm)?.length).toBe(39);
  });

  it('bad input: FILE:LINE as a usage error (exit code 2), or --lenient counts it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmalab-replay-'));
    const file = join(dir, 'cut.log');
    writeFileSync(
      file,
      '1 mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n1 munmap(0x7f00',
    );
    const r = await run([file]);
    expect(r.error).toBeInstanceOf(UsageError);
    expect((r.error as Error).message).toBe(`${file}:2: missing ')' (truncated line?)`);
    expect(r.out).toBe('');
    const l = await run([file, '--lenient', '--format', 'json']);
    expect(JSON.parse(l.out)).toMatchObject({ malformed: 1, calls: { mmap: 1 } });
  });

  it('rejects bad flags', async () => {
    expect((await run(['ls.strace.gz', '--preset', 'linux-9'])).error).toBeInstanceOf(UsageError);
    expect(
      (await run(['ls.strace.gz', '--preset', 'linux-6.8', '--index', 'list'])).error,
    ).toBeInstanceOf(UsageError);
    expect((await run(['ls.strace.gz', '--index', 'nope'])).error).toBeInstanceOf(UsageError);
    expect((await run(['ls.strace.gz', '--mode', 'other'])).error).toBeInstanceOf(CommanderError);
    expect((await run(['missing.log'])).error).toBeInstanceOf(UsageError);
  });
});
