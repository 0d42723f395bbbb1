import { VM_EXEC, VM_MAYSHARE, VM_READ, VM_WRITE } from './flags.js';

/** One parsed `/proc/PID/maps` line. */
export interface MapsEntry {
  start: number;
  end: number;
  /** `rw-p` etc. */
  perms: string;
  /** File offset in bytes. */
  offset: number;
  dev: string;
  inode: number;
  /** Path or special name (`[heap]`), '' for anonymous memory. */
  path: string;
}

/** The column where the path starts (`seq_pad` to 25 + 6 × sizeof(void *) − 1, then one space). */
const PATH_COLUMN = 73;

function hex8(n: number): string {
  const s = n.toString(16);
  return s.length >= 8 ? s : '0'.repeat(8 - s.length) + s;
}

/** `rw-p` from VM flags (the `s`/`p` comes from VM_MAYSHARE). */
export function permsOf(flags: number): string {
  return (
    (flags & VM_READ ? 'r' : '-') +
    (flags & VM_WRITE ? 'w' : '-') +
    (flags & VM_EXEC ? 'x' : '-') +
    (flags & VM_MAYSHARE ? 's' : 'p')
  );
}

/** Formats one line byte for byte as Linux 6.x prints it (no trailing newline). */
export function formatMapsLine(e: MapsEntry): string {
  const head = `${hex8(e.start)}-${hex8(e.end)} ${e.perms} ${hex8(e.offset)} ${e.dev} ${e.inode} `;
  if (e.path === '') return head;
  const pad = head.length < PATH_COLUMN - 1 ? ' '.repeat(PATH_COLUMN - 1 - head.length) : '';
  return `${head}${pad} ${e.path}`;
}

const LINE =
  /^([0-9a-f]+)-([0-9a-f]+) ([r-][w-][x-][sp]) ([0-9a-f]+) ([0-9a-f]+:[0-9a-f]+) (\d+)(?: +(.*))?$/;

/**
 * Parses one maps line; throws an Error saying what is wrong (the caller adds
 * file and line number).
 */
export function parseMapsLine(line: string): MapsEntry {
  const m = LINE.exec(line.replace(/\n$/, ''));
  if (!m) throw new Error(`not a /proc/PID/maps line: ${JSON.stringify(line)}`);
  const start = Number.parseInt(m[1] as string, 16);
  const end = Number.parseInt(m[2] as string, 16);
  if (!(end > start)) throw new Error(`maps line has end ≤ start: ${JSON.stringify(line)}`);
  return {
    start,
    end,
    perms: m[3] as string,
    offset: Number.parseInt(m[4] as string, 16),
    dev: m[5] as string,
    inode: Number(m[6]),
    path: (m[7] ?? '').trimEnd(),
  };
}
