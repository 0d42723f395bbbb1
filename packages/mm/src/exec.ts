/**
 * Exec images: what `AddressSpace.exec` builds after tearing the old address
 * space down. Two forms, one result:
 *
 * - an `ImageSpec`, a small declarative description grouped by object — the
 *   program's segments, the interpreter (ld.so), the shared libraries, other
 *   mapped files, anonymous memory, heap, stack, vdso — each object with its
 *   VMAs as `[range, perms, offset, VmFlags?, name?]` (what
 *   `data/record-image.mjs` writes from a real process);
 * - a `/proc/PID/maps` snapshot (`SnapshotLine[]`, optionally with smaps
 *   VmFlags), loaded with `loadMaps`.
 *
 * A spec is turned into snapshot lines, so both go through `loadMaps` and
 * give the same layout.
 */
import { formatMapsLine, PAGE_SIZE, parseMapsLine } from '@vmalab/core';
import { SnapshotError, type SnapshotLine } from './maps.js';

/** One VMA of an image object: `["start-end", "r-xp", "offset", "VmFlags"?, "[name]"?]`, hex without 0x. */
export type ImageVma =
  | readonly [range: string, perms: string, offset: string]
  | readonly [range: string, perms: string, offset: string, vmFlags: string]
  | readonly [range: string, perms: string, offset: string, vmFlags: string, name: string];

export type ImageRole =
  | 'program'
  | 'interpreter'
  | 'library'
  | 'file'
  | 'anonymous'
  | 'heap'
  | 'stack'
  | 'vdso';

/** One mapped object: a file (program, ld.so, a library…) or a kind of anonymous memory. */
export interface ImageObject {
  role: ImageRole;
  /** File objects: the path maps prints. */
  path?: string;
  /** File objects: device (`fe:00`) and inode, which identify the file. */
  dev?: string;
  inode?: number;
  vmas: readonly ImageVma[];
}

/** A program image: the layout right after exec and dynamic linking. */
export interface ImageSpec {
  name: string;
  /** What was run, and where it was recorded (documentation only). */
  command?: string;
  kernel?: string;
  recordedWith?: string;
  /** mm->mmap_base, hex; default: the end of the interpreter's last VMA. */
  mmapBase?: string;
  objects: readonly ImageObject[];
}

/** What `AddressSpace.exec` accepts. */
export type ExecImage = ImageSpec | readonly SnapshotLine[];

const SPECIAL_PATH: Readonly<Partial<Record<ImageRole, string>>> = {
  heap: '[heap]',
  stack: '[stack]',
};

/** The spec's VMAs as snapshot lines, in address order. Throws SnapshotError on a malformed VMA. */
export function imageSpecToSnapshot(spec: ImageSpec): SnapshotLine[] {
  const entries: { start: number; line: SnapshotLine }[] = [];
  for (const o of spec.objects) {
    const isFile =
      o.role !== 'anonymous' && o.role !== 'vdso' && o.role !== 'heap' && o.role !== 'stack';
    if (isFile && (o.path === undefined || o.path === '')) {
      throw new SnapshotError(spec.name, entries.length + 1, `a ${o.role} object without a path`);
    }
    for (const v of o.vmas) {
      const [range, perms, offset, vmFlags, name] = v;
      const m = /^([0-9a-f]+)-([0-9a-f]+)$/.exec(range);
      if (!m)
        throw new SnapshotError(
          spec.name,
          entries.length + 1,
          `bad range ${JSON.stringify(range)}`,
        );
      const start = Number.parseInt(m[1] as string, 16);
      const path = isFile ? (o.path as string) : (name ?? SPECIAL_PATH[o.role] ?? '');
      const text = formatMapsLine({
        start,
        end: Number.parseInt(m[2] as string, 16),
        perms,
        offset: Number.parseInt(offset, 16),
        dev: isFile ? (o.dev ?? '00:00') : '00:00',
        inode: isFile ? (o.inode ?? 0) : 0,
        path,
      });
      entries.push({
        start,
        line: vmFlags === undefined ? { line: text } : { line: text, vmFlags },
      });
    }
  }
  entries.sort((a, b) => a.start - b.start);
  return entries.map((e) => e.line);
}

/** Splits snapshot text (`maps line` or `maps line<TAB>VmFlags` per line) into lines. */
export function parseSnapshot(text: string): SnapshotLine[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const tab = l.indexOf('\t');
      return tab < 0 ? { line: l } : { line: l.slice(0, tab), vmFlags: l.slice(tab + 1) };
    });
}

/**
 * Checks what `loadMaps` would reject — parse errors, unaligned or
 * overlapping VMAs — before exec passes its point of no return, and works
 * out mmap_base: the spec's, else the end of the dynamic loader's last VMA
 * (where Linux put it), else undefined.
 */
export function checkImage(
  lines: readonly SnapshotLine[],
  source: string,
  mmapBase?: string,
): { mmapBase: number | undefined } {
  let lastEnd = 0;
  let ldEnd: number | undefined;
  lines.forEach(({ line }, i) => {
    if (line.trim() === '') return;
    let e: ReturnType<typeof parseMapsLine>;
    try {
      e = parseMapsLine(line);
    } catch (err) {
      throw new SnapshotError(source, i + 1, (err as Error).message);
    }
    if (e.path === '[vsyscall]') return;
    if (e.start % PAGE_SIZE || e.end % PAGE_SIZE) {
      throw new SnapshotError(source, i + 1, 'addresses are not page aligned');
    }
    if (e.start < lastEnd)
      throw new SnapshotError(source, i + 1, 'overlaps or precedes the previous line');
    lastEnd = e.end;
    if (/\/ld-[^/]*\.so/.test(e.path)) ldEnd = e.end;
  });
  if (mmapBase !== undefined) {
    const b = Number.parseInt(mmapBase, 16);
    if (!Number.isSafeInteger(b) || b % PAGE_SIZE) {
      throw new SnapshotError(source, 0, `bad mmapBase ${JSON.stringify(mmapBase)}`);
    }
    return { mmapBase: b };
  }
  return { mmapBase: ldEnd };
}

/** A spec's or snapshot's lines, its name for messages, and its mmap_base. */
export function resolveImage(image: ExecImage): {
  lines: readonly SnapshotLine[];
  source: string;
  mmapBase: number | undefined;
} {
  if (isSnapshot(image)) {
    return { lines: image, source: 'exec image', ...checkImage(image, 'exec image') };
  }
  const lines = imageSpecToSnapshot(image);
  return { lines, source: image.name, ...checkImage(lines, image.name, image.mmapBase) };
}

function isSnapshot(image: ExecImage): image is readonly SnapshotLine[] {
  return Array.isArray(image);
}
