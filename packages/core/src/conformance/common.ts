/**
 * Shared pieces of the conformance suites: options, address zones, small
 * constructors. Not exported from `@vmalab/core/conformance` except the
 * option types.
 */
import { VM_READ, VM_WRITE } from '../flags.js';
import { PAGE_SIZE, TASK_SIZE } from '../layout.js';
import { hex, type MappedFile, Vma } from '../vma.js';

/** Options every suite accepts. */
export interface SuiteOptions {
  /**
   * fast-check runs of each property.
   * Default: 100.
   */
  numRuns?: number;
  /**
   * fast-check seed, to replay a failure (fast-check prints it). Default:
   * random.
   */
  seed?: number;
  /**
   * Timeout of each property test in milliseconds.
   * Default: 60 000.
   */
  timeout?: number;
}

export const P = PAGE_SIZE;

/**
 * Where random VMAs live: three zones of `ZONE_PAGES` pages each — one at
 * address 0, one straddling 2^32 (catches `| 0` and `>>> 0` on addresses),
 * one ending at TASK_SIZE just below 2^47 (catches any 32-bit bitwise op).
 */
export const ZONE_PAGES = 2048;
export const ZONES: readonly number[] = [
  0,
  2 ** 32 - (ZONE_PAGES / 2) * P,
  TASK_SIZE - ZONE_PAGES * P,
];

export function zoneBase(z: number): number {
  return ZONES[z % ZONES.length] as number;
}

export function zoneOf(addr: number): number {
  for (let z = ZONES.length - 1; z >= 0; z--) if (addr >= (ZONES[z] as number)) return z;
  return 0;
}

/** An anonymous (or file) private VMA `[start, end)` with pgoff = start >> 12. */
export function mkVma(
  start: number,
  end: number,
  flags = VM_READ | VM_WRITE,
  file: MappedFile | null = null,
): Vma {
  return new Vma(start, end, flags, file, Math.floor(start / P));
}

export function fail(msg: string): never {
  throw new Error(msg);
}

export function describeVma(v: Vma | undefined): string {
  return v === undefined ? 'undefined' : v.toString();
}

export function range(start: number, end: number): string {
  return `[${hex(start)}, ${hex(end)})`;
}

/** Runs `fn`, and on failure appends the operation log so the failing sequence is readable. */
export function withLog<T>(log: readonly string[], fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const tail = log.slice(-25).join('\n  ');
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`${msg}\n after ${log.length} operations; the last ones:\n  ${tail}`);
  }
}
