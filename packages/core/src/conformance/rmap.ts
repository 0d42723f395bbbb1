/**
 * Conformance suite for `RmapLocker` (free_pgtables → unlink_file_vma).
 *
 * Checks the unlink semantics — every file VMA leaves its file's i_mmap,
 * anonymous VMAs and VMAs not passed in stay put, each removal happens with
 * that file's i_mmap_rwsem write-held, every lock is released afterwards —
 * and the accounting: `counters.iMmapLockWrite` equals the rwsems' write
 * acquisitions, `counters.rmapBatchHistogram` covers exactly the file VMAs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Counters } from '../counters.js';
import { VM_EXEC, VM_READ, VM_SHARED, VM_WRITE } from '../flags.js';
import type { RmapLocker } from '../interfaces.js';
import { MappedFile, type Vma } from '../vma.js';
import { fail, mkVma, P, type SuiteOptions } from './common.js';

export interface RmapSuiteOptions extends SuiteOptions {
  /**
   * The exact number of i_mmap write-lock round trips the strategy needs to
   * unlink `vmas` (given in address order, anonymous ones included), e.g.
   * one per file VMA when unbatched. Without it only the invariants are
   * checked.
   * Default: none.
   */
  expectedAcquisitions?: (vmas: readonly Vma[]) => number;
  /**
   * Like `expectedAcquisitions`, the exact `rmapBatchHistogram` the strategy
   * produces for `vmas` (index n = acquisitions covering n VMAs).
   * Default: none.
   */
  expectedHistogram?: (vmas: readonly Vma[]) => number[];
}

/**
 * A file whose i_mmap records every removal made while its i_mmap_rwsem was
 * not write-held (readers do not count: unlinking needs the write lock).
 */
class WatchedFile extends MappedFile {
  readonly violations: string[] = [];
  override readonly iMmap: Set<Vma> = new WatchedSet(this);
}

class WatchedSet extends Set<Vma> {
  constructor(private readonly file: WatchedFile) {
    super();
  }
  override delete(v: Vma): boolean {
    const sem = this.file.iMmapRwsem;
    // RwSem exposes `held` only; a read lock would make downWrite throw, so
    // "held with no read acquisitions outstanding" means write-held here.
    if (!sem.held)
      this.file.violations.push(`${v} removed from ${this.file.path} without its i_mmap lock`);
    return super.delete(v);
  }
}

/** The address-ordered VMAs of a small executable image plus anonymous memory, linked into i_mmap. */
interface Scene {
  files: WatchedFile[];
  vmas: Vma[];
  /** VMAs of the same files that belong to another mm: they must stay linked. */
  others: Vma[];
}

function scene(spec: ReadonlyArray<number | null>, fileCount: number): Scene {
  const files = Array.from(
    { length: fileCount },
    (_, i) => new WatchedFile(`/usr/lib/f${i}.so`, '08:01', 100 + i),
  );
  const vmas: Vma[] = [];
  let at = 0x400000;
  for (const f of spec) {
    const file = f === null ? null : (files[f % fileCount] as WatchedFile);
    const v = mkVma(at, at + P, file ? VM_READ | VM_EXEC : VM_READ | VM_WRITE, file);
    if (file) file.iMmap.add(v);
    vmas.push(v);
    at += 2 * P;
  }
  const others = files.map((file) => {
    const v = mkVma(0x7f0000000000, 0x7f0000001000, VM_READ | VM_SHARED, file);
    file.iMmap.add(v);
    return v;
  });
  return { files, vmas, others };
}

function checkUnlinked(
  locker: RmapLocker,
  counters: Counters,
  s: Scene,
  opts: RmapSuiteOptions,
): void {
  const what = `${locker.name}.unlink(${s.vmas.map((v) => (v.file ? v.file.path.slice(-5, -3) : 'anon')).join(' ')})`;
  const acquisitionsBefore = s.files.map((f) => f.iMmapRwsem.writeAcquisitions);
  const before = counters.snapshot();
  locker.unlink(s.vmas);
  const after = counters.snapshot();
  const fileVmas = s.vmas.filter((v) => v.file !== null).length;
  for (const f of s.files) {
    if (f.violations.length > 0) fail(`${what}: ${f.violations[0]}`);
    if (f.iMmapRwsem.held) fail(`${what}: ${f.iMmapRwsem.name} is still held`);
    if (f.iMmapRwsem.readAcquisitions !== 0) fail(`${what}: took ${f.iMmapRwsem.name} for read`);
  }
  for (const v of s.vmas) {
    if (v.file?.iMmap.has(v)) fail(`${what}: ${v} is still in ${v.file.path}'s i_mmap`);
  }
  for (const v of s.others) {
    if (!v.file?.iMmap.has(v)) fail(`${what}: removed ${v}, which was not passed in`);
  }
  const taken = s.files.reduce(
    (sum, f, i) => sum + f.iMmapRwsem.writeAcquisitions - (acquisitionsBefore[i] ?? 0),
    0,
  );
  const diff = Counters.diff(after, before);
  const counted = diff.iMmapLockWrite as number;
  if (counted !== taken)
    fail(`${what}: counters.iMmapLockWrite +${counted}, but the rwsems were taken ${taken} times`);
  const hist = diff.rmapBatchHistogram as number[];
  const histAcq = hist.reduce((a, b) => a + b, 0);
  const histVmas = hist.reduce((a, b, n) => a + n * b, 0);
  if (histAcq !== counted)
    fail(`${what}: rmapBatchHistogram counts ${histAcq} acquisitions, iMmapLockWrite ${counted}`);
  if (histVmas !== fileVmas)
    fail(`${what}: rmapBatchHistogram covers ${histVmas} VMAs, expected ${fileVmas} file VMAs`);
  if ((hist[0] ?? 0) !== 0) fail(`${what}: an acquisition covered no VMA`);
  if (fileVmas > 0 && counted === 0) fail(`${what}: unlinked file VMAs without taking any lock`);
  if (counted > fileVmas) fail(`${what}: ${counted} acquisitions for ${fileVmas} file VMAs`);
  if (opts.expectedAcquisitions) {
    const want = opts.expectedAcquisitions(s.vmas);
    if (counted !== want) fail(`${what}: ${counted} acquisitions, expected ${want}`);
  }
  if (opts.expectedHistogram) {
    const want = trim(opts.expectedHistogram(s.vmas));
    const got = trim(hist);
    if (got.join() !== want.join()) fail(`${what}: histogram [${got}], expected [${want}]`);
  }
}

function trim(h: readonly number[]): number[] {
  const out = [...h];
  while (out.length > 0 && out[out.length - 1] === 0) out.pop();
  return out;
}

/**
 * Registers the `RmapLocker` conformance tests. `create` receives a fresh
 * `Counters`.
 */
export function describeRmapLocker(
  name: string,
  create: (counters: Counters) => RmapLocker,
  opts: RmapSuiteOptions = {},
): void {
  describe(`RmapLocker conformance: ${name}`, () => {
    const run = (spec: ReadonlyArray<number | null>, files = 3) => {
      const counters = new Counters();
      const locker = create(counters);
      const s = scene(spec, files);
      checkUnlinked(locker, counters, s, opts);
      return { counters, s };
    };

    it('has a name', () => {
      expect(typeof create(new Counters()).name).toBe('string');
    });

    it('does nothing for no VMAs or only anonymous ones', () => {
      for (const spec of [[], [null], [null, null, null]]) {
        const { counters } = run(spec);
        expect(counters.iMmapLockWrite).toBe(0);
        expect(trim(counters.rmapBatchHistogram)).toEqual([]);
      }
    });

    it('unlinks one file VMA with one acquisition', () => {
      const { counters } = run([0]);
      expect(counters.iMmapLockWrite).toBe(1);
      expect(trim(counters.rmapBatchHistogram)).toEqual([0, 1]);
    });

    it('unlinks an ELF image (5 VMAs of one file), a heap, and a second library', () => {
      run([0, 0, 0, 0, 0, null, 1, 1, 1, 1, 1, null, null]);
    });

    it('unlinks runs interrupted by anonymous VMAs and other files', () => {
      run([0, null, 0, 1, 0, 0, 2, null, null, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    });

    it('unlinks long runs of one file (more than a batch of 8)', () => {
      run(Array.from({ length: 21 }, () => 0));
    });

    it('accepts any iterable, consumed once (a generator)', () => {
      const counters = new Counters();
      const locker = create(counters);
      const s = scene([0, 0, null, 1], 2);
      let pulls = 0;
      function* gen() {
        for (const v of s.vmas) {
          pulls++;
          yield v;
        }
      }
      locker.unlink(gen());
      expect(pulls).toBe(4);
      for (const v of s.vmas) expect(v.file?.iMmap.has(v) ?? false).toBe(false);
      for (const f of s.files) expect(f.iMmapRwsem.held).toBe(false);
      expect(counters.rmapBatchHistogram.reduce((a, b, n) => a + n * b, 0)).toBe(3);
    });

    it('is reusable: a second unlink on the same locker starts afresh', () => {
      const counters = new Counters();
      const locker = create(counters);
      const a = scene([0, 0, 1], 2);
      checkUnlinked(locker, counters, a, opts);
      const b = scene([1, null, 1, 0], 2);
      checkUnlinked(locker, counters, b, opts);
    });

    const numRuns = opts.numRuns ?? 400;
    it(
      `keeps the unlink invariants on ${numRuns} random teardown sequences`,
      () => {
        fc.assert(
          fc.property(
            fc.integer({ min: 1, max: 4 }),
            fc.array(fc.option(fc.nat({ max: 3 }), { freq: 4, nil: null }), { maxLength: 60 }),
            (files, spec) => {
              const counters = new Counters();
              checkUnlinked(create(counters), counters, scene(spec, files), opts);
            },
          ),
          { numRuns, ...(opts.seed === undefined ? {} : { seed: opts.seed }) },
        );
      },
      opts.timeout ?? 60_000,
    );
  });
}
