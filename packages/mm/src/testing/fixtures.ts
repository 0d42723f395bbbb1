/**
 * Replays tools/kernel-oracle fixtures (recorded on the real kernel) through an
 * AddressSpace and reports the first step where the simulation and the kernel
 * disagree. Used by the tests; exported for other packages' tests (the same
 * fixtures must match with every strategy).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  errnoName,
  MADV_NAMES,
  MAP_NAMES,
  MappedFile,
  MREMAP_NAMES,
  PROT_NAMES,
  parseFlagNames,
  parseMapsLine,
  vmFlagsToSmaps,
} from '@vmalab/core';
import type { AddressSpace, AddressSpaceOptions } from '../address-space.js';
import { AddressSpace as AS } from '../address-space.js';
import { loadMaps, mapsEntryOf } from '../maps.js';

export interface FixtureOp {
  call: string;
  addr?: string;
  len?: string;
  prot?: string[];
  flags?: string[];
  file?: number | null;
  offset?: string;
  oldLen?: string;
  newLen?: string;
  newAddr?: string | null;
  advice?: string;
}
export interface FixtureStep {
  op: FixtureOp;
  ret: string | number;
  errno: string | null;
  maps: [string, string][];
}
export interface Fixture {
  format: number;
  kernel: string;
  mode: string;
  seed: number;
  pageSize: number;
  arena: { start: string; end: string };
  maxMapCount: number;
  outsideCount: number;
  files: { path: string; size: number }[];
  initial: [string, string][];
  steps: FixtureStep[];
  /** File name, set by the loader. */
  name: string;
}

const here = dirname(fileURLToPath(import.meta.url));
/** tools/kernel-oracle/fixtures of this repository. */
export const FIXTURE_DIR = resolve(here, '../../../../tools/kernel-oracle/fixtures');

export function loadFixtures(dir = FIXTURE_DIR): Fixture[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json.gz'))
    .sort()
    .map((f) => ({
      ...(JSON.parse(gunzipSync(readFileSync(join(dir, f))).toString('utf8')) as Fixture),
      name: f,
    }));
}

const num = (s: string | number | null | undefined): number =>
  s === null || s === undefined ? 0 : typeof s === 'number' ? s : Number(s);

/** A comparable line: start-end perms offset path | VmFlags (device and inode left out). */
function norm(line: string, flags: string): string {
  const e = parseMapsLine(line);
  return `${e.start.toString(16)}-${e.end.toString(16)} ${e.perms} ${e.offset.toString(16)} ${e.path} | ${flags.trim()}`;
}

export interface ReplayResult {
  steps: number;
  matched: number;
  /** The first mismatch, described for a human; null when everything matched. */
  mismatch: string | null;
  /** Where the first mismatch happened: the step, its op, and the two results. */
  divergence?: { step: number; op: FixtureOp; kernel: string; simulated: string };
}

/**
 * Replays one fixture. `strategies` builds the index/finder/rmap triple; the
 * layout parameters come from the fixture.
 */
export function replayFixture(
  fx: Fixture,
  strategies: () => Pick<AddressSpaceOptions, 'index' | 'finder' | 'rmap' | 'counters'>,
): ReplayResult {
  const arenaStart = num(fx.arena.start);
  const arenaEnd = num(fx.arena.end);
  const placement = fx.mode === 'placement';
  const files = fx.files.map(
    (f) => new MappedFile(f.path, '00:00', 0, f.size, { writable: true, thpAlign: true }),
  );
  const opts: AddressSpaceOptions = {
    ...strategies(),
    maxMapCount: placement ? fx.maxMapCount : fx.maxMapCount - fx.outsideCount,
    verify: true,
  };
  if (placement) {
    // mmap_base: the end of the dynamic loader's last VMA (kernel-facts §11).
    const ld = fx.initial.filter(([l]) => /\/ld-linux[^/]*\.so|\/ld-[^/]*\.so/.test(l));
    const last = ld[ld.length - 1];
    if (last) opts.mmapBase = parseMapsLine(last[0]).end;
  }
  const mm: AddressSpace = new AS(opts);
  if (placement) {
    loadMaps(
      mm,
      fx.initial.map(([line, vmFlags]) => ({ line, vmFlags })),
      `${fx.name}:initial`,
    );
    // The fixture files are the same objects as the snapshot's, when mapped.
    for (const f of files) {
      for (const v of mm.index) if (v.file && v.file.path === f.path) v.file.size = f.size;
    }
  }
  const fileByIndex = (i: number | null | undefined): MappedFile | null => {
    if (i === null || i === undefined) return null;
    const f = files[i] as MappedFile;
    if (placement) for (const v of mm.index) if (v.file?.path === f.path) return v.file;
    return f;
  };

  const current = (): string[] =>
    [...mm.index]
      .filter((v) => placement || (v.end > arenaStart && v.start < arenaEnd))
      .map((v) => {
        const e = mapsEntryOf(mm, v);
        return `${e.start.toString(16)}-${e.end.toString(16)} ${e.perms} ${e.offset.toString(16)} ${e.path} | ${vmFlagsToSmaps(v.flags)}`;
      });

  let matched = 0;
  for (let i = 0; i < fx.steps.length; i++) {
    const s = fx.steps[i] as FixtureStep;
    const got = apply(mm, s.op, fileByIndex);
    const want = s.errno ? `-1 ${s.errno}` : `${typeof s.ret === 'string' ? num(s.ret) : s.ret}`;
    const gotText = typeof got === 'number' ? (got < 0 ? `-1 ${errnoName(got)}` : `${got}`) : got;
    const expectedMaps = s.maps
      .filter(([l]) => !l.includes('[vsyscall]'))
      .map(([l, f]) => norm(l, f));
    const actual = current();
    const mapsOk =
      expectedMaps.length === actual.length && expectedMaps.every((l, j) => l === actual[j]);
    if (gotText !== want || !mapsOk) {
      const opText = JSON.stringify(s.op);
      const lines = [
        `${fx.name}: step ${i} ${opText}`,
        `  result: kernel ${fmtRet(want)}, simulated ${fmtRet(gotText)}`,
      ];
      if (!mapsOk) {
        const k = new Set(expectedMaps);
        const a = new Set(actual);
        lines.push('  maps differ (- kernel only, + simulated only):');
        for (const l of expectedMaps) if (!a.has(l)) lines.push(`    - ${l}`);
        for (const l of actual) if (!k.has(l)) lines.push(`    + ${l}`);
      }
      return {
        steps: fx.steps.length,
        matched,
        mismatch: lines.join('\n'),
        divergence: { step: i, op: s.op, kernel: want, simulated: gotText },
      };
    }
    matched++;
  }
  return { steps: fx.steps.length, matched, mismatch: null };
}

function fmtRet(r: string): string {
  return /^\d+$/.test(r) ? `0x${Number(r).toString(16)}` : r;
}

function apply(
  mm: AddressSpace,
  op: FixtureOp,
  fileByIndex: (i: number | null | undefined) => MappedFile | null,
): number | string {
  const addr = num(op.addr);
  const len = num(op.len);
  switch (op.call) {
    case 'mmap': {
      const file = fileByIndex(op.file);
      return mm.mmap(
        addr,
        len,
        parseFlagNames(op.prot ?? [], PROT_NAMES),
        parseFlagNames(op.flags ?? [], MAP_NAMES),
        file ? { file, offset: num(op.offset) } : null,
      );
    }
    case 'munmap':
      return mm.munmap(addr, len);
    case 'mprotect':
      return mm.mprotect(addr, len, parseFlagNames(op.prot ?? [], PROT_NAMES));
    case 'mremap':
      return mm.mremap(
        addr,
        num(op.oldLen),
        num(op.newLen),
        parseFlagNames(op.flags ?? [], MREMAP_NAMES),
        num(op.newAddr),
      );
    case 'madvise':
      return mm.madvise(addr, len, parseFlagNames([op.advice ?? ''], MADV_NAMES));
    case 'mlock':
      return mm.mlock(addr, len);
    case 'munlock':
      return mm.munlock(addr, len);
    case 'mlock2':
      return mm.mlock2(addr, len, (op.flags ?? []).includes('MLOCK_ONFAULT') ? 1 : 0);
    case 'write': {
      const r = mm.fault(addr, true);
      return r === 'ok' ? '0' : `-1 ${r}`;
    }
    default:
      throw new Error(`fixture op '${op.call}' is not known to the replayer`);
  }
}
