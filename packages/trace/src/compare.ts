/**
 * Compares a replayed layout with a /proc/PID/maps snapshot of the real
 * process and sorts every difference into the effects no trace shows:
 *
 * - `stack`: `[stack]` starts lower in the kernel: the stack grew by page
 *   faults, which are not system calls.
 * - `split`: the same memory with the same permissions, file and offsets,
 *   cut into VMAs differently: merging depends on anon_vma, which a VMA
 *   gets at its first write (kernel-facts §11: two separately written VMAs
 *   never merge, a VMA between two written ones joins the left one only).
 * - `other`: anything else (a real divergence).
 *
 * Device and inode numbers are not compared (the replay does not know them
 * for files the trace maps; shmem inodes come from a system-wide counter).
 */
import { type MapsEntry, parseMapsLine } from '@vmalab/core';

export interface LayoutDifference {
  kind: 'stack' | 'split' | 'other';
  /** Lines only the kernel's snapshot has, and only the replay has (normalised). */
  kernel: string[];
  replay: string[];
}

interface Entry {
  start: number;
  end: number;
  perms: string;
  offset: number;
  path: string;
}

function entries(text: string): Entry[] {
  const out: Entry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.split('\t', 1)[0] as string;
    if (line.trim() === '') continue;
    const e: MapsEntry = parseMapsLine(line);
    if (e.path === '[vsyscall]') continue;
    out.push({ start: e.start, end: e.end, perms: e.perms, offset: e.offset, path: e.path });
  }
  return out;
}

function show(e: Entry): string {
  return `${e.start.toString(16)}-${e.end.toString(16)} ${e.perms} ${e.offset.toString(16).padStart(8, '0')} ${e.path}`;
}

/** Runs of adjacent entries that would be one VMA if merging ignored anon_vma. */
function coalesce(list: readonly Entry[]): { e: Entry; parts: Entry[] }[] {
  const out: { e: Entry; parts: Entry[] }[] = [];
  for (const e of list) {
    const last = out[out.length - 1];
    const isFile = e.path !== '' && !e.path.startsWith('[');
    if (
      last &&
      last.e.end === e.start &&
      last.e.perms === e.perms &&
      last.e.path === e.path &&
      e.path !== '[stack]' &&
      (!isFile || last.e.offset + (last.e.end - last.e.start) === e.offset)
    ) {
      last.e = { ...last.e, end: e.end };
      last.parts.push(e);
    } else {
      out.push({ e: { ...e }, parts: [e] });
    }
  }
  return out;
}

export function compareLayouts(
  replayMaps: string,
  kernelMaps: string,
): { equal: boolean; differences: LayoutDifference[] } {
  const k = entries(kernelMaps);
  const r = entries(replayMaps);
  const differences: LayoutDifference[] = [];
  const ks = k.find((e) => e.path === '[stack]');
  const rs = r.find((e) => e.path === '[stack]');
  if (ks && rs && (ks.start !== rs.start || ks.end !== rs.end)) {
    const grew = ks.end === rs.end && ks.start < rs.start && ks.perms === rs.perms;
    differences.push({ kind: grew ? 'stack' : 'other', kernel: [show(ks)], replay: [show(rs)] });
  }
  const kc = coalesce(k.filter((e) => e.path !== '[stack]'));
  const rc = coalesce(r.filter((e) => e.path !== '[stack]'));
  const key = (e: Entry) => show(e);
  const rByKey = new Map(rc.map((g) => [key(g.e), g]));
  const kKeys = new Set(kc.map((g) => key(g.e)));
  const otherK: string[] = [];
  const otherR: string[] = [];
  for (const g of kc) {
    const m = rByKey.get(key(g.e));
    if (!m) {
      otherK.push(...g.parts.map(show));
      continue;
    }
    const a = g.parts.map(show);
    const b = m.parts.map(show);
    if (a.length !== b.length || a.some((l, i) => l !== b[i])) {
      differences.push({
        kind: 'split',
        kernel: a.filter((l) => !b.includes(l)),
        replay: b.filter((l) => !a.includes(l)),
      });
    }
  }
  for (const g of rc) if (!kKeys.has(key(g.e))) otherR.push(...g.parts.map(show));
  if (otherK.length || otherR.length) {
    differences.push({ kind: 'other', kernel: otherK, replay: otherR });
  }
  return { equal: differences.length === 0, differences };
}
