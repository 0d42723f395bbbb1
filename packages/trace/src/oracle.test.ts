/**
 * The kernel-oracle sequences run again under strace (tools/record-oracle.mjs):
 * replaying the strace lines must give, after every call, exactly the layout
 * the kernel printed — start, end, permissions, offset, path and VmFlags —
 * in recorded mode. `write` sequences are not among them: their writes are
 * page faults, which strace cannot show.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Counters, MappedFile, parseMapsLine, vmFlagsToSmaps } from '@vmalab/core';
import { AddressSpace, formatMaps, loadMaps } from '@vmalab/mm';
import { describe, expect, it } from 'vitest';
import { replayText } from './io.js';
import { mapleGap } from './test-util.js';

const here = dirname(fileURLToPath(import.meta.url));
const TRACES = join(here, '..', 'fixtures', 'oracle');
const ORACLE = join(here, '..', '..', '..', 'tools', 'kernel-oracle', 'fixtures');

interface Fixture {
  mode: string;
  arena: { start: string; end: string };
  maxMapCount: number;
  outsideCount: number;
  files: { path: string; size: number }[];
  initial: [string, string][];
  steps: { maps: [string, string][] }[];
}

const norm = (line: string, flags: string) => {
  const e = parseMapsLine(line);
  return `${e.start.toString(16)}-${e.end.toString(16)} ${e.perms} ${e.offset.toString(16)} ${e.path} | ${flags.trim()}`;
};

const names = readdirSync(TRACES)
  .filter((f) => f.endsWith('.strace.gz'))
  .map((f) => f.replace('.strace.gz', ''))
  .sort();

describe('kernel-oracle sequences under strace', () => {
  it('covers nowrite, placement and limit', () => {
    const modes = new Set(names.map((n) => n.split('-')[0]));
    expect([...modes].sort()).toEqual(['limit', 'nowrite', 'placement']);
    expect(names.length).toBe(36);
  });

  it.each(names)('%s replays to the recorded layout after every call', (name) => {
    const fx = JSON.parse(
      gunzipSync(readFileSync(join(ORACLE, `${name}.json.gz`))).toString('utf8'),
    ) as Fixture;
    const lines = gunzipSync(readFileSync(join(TRACES, `${name}.strace.gz`))).toString('utf8');
    const placement = fx.mode === 'placement';
    const arenaStart = Number(fx.arena.start);
    const arenaEnd = Number(fx.arena.end);
    const files = new Map(
      fx.files.map((f) => [
        f.path,
        new MappedFile(f.path, '00:00', 0, f.size, { writable: true, thpAlign: true }),
      ]),
    );
    const counters = new Counters();
    // Arena modes know only the arena: load it into a space whose
    // max_map_count leaves out the VMAs outside (as mm's fixture replay does).
    const root = new AddressSpace({
      ...mapleGap(counters),
      counters,
      maxMapCount: placement ? fx.maxMapCount : fx.maxMapCount - fx.outsideCount,
    });
    if (!placement)
      loadMaps(
        root,
        fx.initial.map(([line, vmFlags]) => ({ line, vmFlags })),
      );
    const mismatches: string[] = [];
    let step = 0;
    const res = replayText(lines, {
      rootMm: root,
      strategies: mapleGap,
      counters,
      ...(placement ? { initial: fx.initial.map(([line, vmFlags]) => ({ line, vmFlags })) } : {}),
      fileFor: (p) => files.get(p) ?? new MappedFile(p),
      onCall: ({ mm, line }) => {
        const want = (fx.steps[step++]?.maps ?? []).map(([l, f]) => norm(l, f));
        const text = formatMaps(mm).trim().split('\n');
        const got = [...mm.index]
          .map((v, i) => [v, text[i] as string] as const)
          .filter(([v]) => placement || (v.end > arenaStart && v.start < arenaEnd))
          .map(([v, l]) => norm(l, vmFlagsToSmaps(v.flags)));
        if (mismatches.length === 0 && JSON.stringify(got) !== JSON.stringify(want)) {
          mismatches.push(`line ${line}: ${JSON.stringify({ want, got }, null, 1)}`);
        }
      },
    });
    expect(step).toBe(fx.steps.length);
    expect(res.divergences).toEqual([]);
    expect(mismatches).toEqual([]);
  });
});
