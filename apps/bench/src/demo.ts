/**
 * `vmalab demo`: a real process's layout (a /proc/PID/smaps snapshot of
 * `cat` on Linux 6.18) driven through one preset: thread stacks with guard
 * pages, a freed stack, a THP-aligned 2 MiB map, a brk — then the resulting
 * /proc/PID/maps and the exact cost counters.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Counters,
  errnoName,
  MAP_ANONYMOUS,
  MAP_PRIVATE,
  MAP_STACK,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  parseMapsLine,
} from '@vmalab/core';
import { AddressSpace, formatMaps, loadMaps, type SnapshotLine } from '@vmalab/mm';
import { instantiate, type Preset, UsageError } from './presets.js';

const here = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_SNAPSHOT = join(here, '..', 'data', 'cat.maps');

/** Reads `maps line<TAB>VmFlags` lines (VmFlags optional) or plain /proc/PID/maps text. */
export function readSnapshot(path: string): SnapshotLine[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(
      `cannot read snapshot '${path}': ${(e as NodeJS.ErrnoException).code ?? e}`,
    );
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [line, vmFlags] = l.split('\t');
      return vmFlags === undefined ? { line: line as string } : { line: line as string, vmFlags };
    });
}

export interface DemoResult {
  before: string;
  after: string;
  log: string[];
  counters: Counters;
}

export function runDemo(preset: Preset, snapshotPath: string, stacks: number): DemoResult {
  const lines = readSnapshot(snapshotPath);
  const counters = new Counters();
  const ld = lines.filter((l) => /\/ld-[^/]*\.so/.test(l.line)).pop();
  const mm = new AddressSpace({
    ...instantiate(preset, counters),
    ...preset.mm,
    counters,
    verify: true,
    ...(ld ? { mmapBase: parseMapsLine(ld.line).end } : {}),
  });
  loadMaps(mm, lines, snapshotPath);
  const before = formatMaps(mm);
  const log: string[] = [];
  const hex = (n: number) => (n < 0 ? errnoName(n) : `0x${n.toString(16)}`);
  const STACK = 8 << 20;
  const addrs: number[] = [];
  for (let i = 0; i < stacks; i++) {
    const a = mm.mmap(0, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK);
    const g = a < 0 ? a : mm.mprotect(a, 4096, PROT_NONE);
    addrs.push(a);
    log.push(`thread stack ${i}: mmap 8 MiB → ${hex(a)}, guard page mprotect → ${g}`);
  }
  const freed = addrs[Math.floor(stacks / 2)];
  if (freed !== undefined && freed >= 0)
    log.push(`munmap stack ${Math.floor(stacks / 2)} → ${mm.munmap(freed, STACK)}`);
  const big = mm.mmap(0, 2 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  log.push(`mmap 2 MiB anonymous → ${hex(big)} (2 MiB aligned: ${big % (2 << 20) === 0})`);
  if (mm.brkAddr) {
    const want = mm.brkAddr + 100_000;
    log.push(`brk(+100000) → ${hex(mm.brk(want))}`);
  }
  return { before, after: formatMaps(mm), log, counters };
}
