/**
 * Replays an strace log into simulated address spaces: one per process,
 * duplicated by fork-like clones (through the index's `dup`), shared by
 * CLONE_VM clones and vfork, replaced by a successful execve (a failed one
 * changes nothing), torn down by exit_group or the last task's exit.
 *
 * Two modes:
 * - `recorded`: each call runs with the program's arguments; when the
 *   simulated result differs from the recorded one (address or errno) the
 *   call is a divergence, and the layout is then forced to follow the kernel
 *   (a mapping placed elsewhere is moved to the recorded address, one the
 *   kernel refused is undone), so later calls see the real layout.
 * - `replace`: the finder chooses addresses; later calls are translated from
 *   recorded to simulated addresses through an interval map per address
 *   space, so that different finders run the same program. Only a success /
 *   failure mismatch is a divergence there.
 *
 * Memory does not depend on the log's length: the replayer keeps the live
 * processes, one MappedFile per distinct path, the first `maxDivergences`
 * divergences and a downsampled VMA-count series.
 */
import {
  Counters,
  type CountersSnapshot,
  errnoName,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_FIXED_NOREPLACE,
  MappedFile,
  MREMAP_DONTUNMAP,
  MREMAP_FIXED,
  MREMAP_MAYMOVE,
  pageUp,
  type RmapLocker,
  type UnmappedAreaFinder,
  type VmaIndex,
} from '@vmalab/core';
import { AddressSpace, type AddressSpaceOptions, formatMaps, type SnapshotLine } from '@vmalab/mm';
import { Decoder, expectedResult, type Op } from './decode.js';
import { IntervalMap } from './interval-map.js';
import { type CallEvent, NO_PID, TraceError, TraceParser, type UnfinishedEvent } from './parser.js';

export type ReplayMode = 'recorded' | 'replace';

export interface Strategies {
  index: VmaIndex;
  finder: UnmappedAreaFinder;
  rmap: RmapLocker;
}

export interface ReplayOptions {
  /** Builds one strategy triple per address space (exec makes a new mm); all share `counters`. */
  strategies?: (counters: Counters) => Strategies;
  counters?: Counters;
  /**
   * Alternatively, a factory of address spaces over fixed strategies (a
   * bench cell's `MmFactory`); `counters` then defaults to the first one's.
   */
  newMm?: (extra?: Partial<AddressSpaceOptions>) => AddressSpace;
  /**
   * The first process's address space (reused in place by its first exec);
   * default a new one.
   */
  rootMm?: AddressSpace;
  /** Default `recorded`. */
  mode?: ReplayMode;
  /** Extra address-space options (madviseLocking, verify…). */
  mm?: Partial<Omit<AddressSpaceOptions, 'index' | 'finder' | 'rmap' | 'counters'>>;
  /**
   * The first process's layout right after its exec (a /proc/PID/maps
   * snapshot, optionally with smaps VmFlags): applied at its first
   * successful execve, or before its first call when the log does not start
   * with one.
   */
  initial?: readonly SnapshotLine[];
  /** mm->mmap_base of the first process; default: the end of ld.so in `initial`. */
  mmapBase?: number;
  /** The process to report; default the first pid of the log. */
  pid?: number;
  /** Skip and count malformed lines instead of throwing a TraceError. */
  lenient?: boolean;
  /** File name for messages. */
  source?: string;
  /**
   * Files mapped by the trace: default one MappedFile per path with an
   * unknown (infinite) size, writable, THP-aligned as on ext4.
   */
  fileFor?: (path: string) => MappedFile;
  /** Divergences kept with their line (all are counted). Default 100. */
  maxDivergences?: number;
  /** Called after every replayed memory call (for `--each`). */
  onCall?: (call: ReplayedCall) => void;
}

export interface ReplayedCall {
  line: number;
  text: string;
  pid: number;
  name: string;
  /** The address space the call ran in (after the call). */
  mm: AddressSpace;
}

export interface Divergence {
  line: number;
  pid: number;
  call: string;
  /** What the kernel returned (`0x7f…`, `0`, `ENOMEM`). */
  recorded: string;
  simulated: string;
  text: string;
}

export interface ReplayResult {
  mode: ReplayMode;
  source: string;
  /** The reported process. */
  pid: number;
  /** Its final layout in /proc/PID/maps format (captured before teardown if it exited). */
  maps: string;
  vmaCount: number;
  exited: boolean;
  lines: number;
  /** Memory calls replayed, by name. */
  calls: Record<string, number>;
  /** Unknown or unmodelled system calls, ignored, by name. */
  ignored: Record<string, number>;
  /** Signal lines, exit lines and other lines that carry no memory call. */
  otherLines: number;
  /** Lines skipped as malformed (`lenient`), with the first few messages. */
  malformed: number;
  malformedMessages: string[];
  /** Divergences in address spaces whose layout is known (from `initial`, or forked from it). */
  divergenceCount: number;
  /**
   * Divergences in processes exec'd without a snapshot (the kernel's exec
   * mappings and mmap_base are unknown there): counted apart, not listed.
   */
  unknownLayoutDivergences: number;
  divergences: Divergence[];
  /** VMA count of the reported process over time: [line, count], downsampled. */
  vmaSeries: [number, number][];
  processes: number;
  failedExecs: number;
  /** process_madvise vectors strace printed abbreviated (`...`): only the printed part was applied. */
  abbreviatedVectors: number;
  counters: CountersSnapshot;
}

class Mm {
  users = 0;
  constructor(
    readonly as: AddressSpace,
    readonly xlate: IntervalMap | null,
    /** The layout came from a snapshot (or was inherited from one): divergences are real. */
    readonly known: boolean,
  ) {}
}

interface Task {
  pid: number;
  tgid: number;
  mm: Mm;
}

interface PendingClone {
  parent: number;
  vm: boolean;
  thread: boolean;
  /** The child created before the parent's clone returned. */
  child: number | null;
}

const SERIES_MAX = 512;

export class Replayer {
  readonly mode: ReplayMode;
  readonly source: string;
  private readonly parser: TraceParser;
  private readonly decoder: Decoder;
  private readonly tasks = new Map<number, Task>();
  private readonly dead = new Set<number>();
  private readonly files = new Map<string, MappedFile>();
  private readonly pendingClones = new Map<number, PendingClone>();
  private readonly maxDivergences: number;
  private rootPid: number | null = null;
  private rootExecPending = false;
  private reportPid: number | null;
  private captured: { maps: string; count: number } | null = null;

  private lines = 0;
  private readonly calls: Record<string, number> = {};
  private readonly ignored: Record<string, number> = {};
  private otherLines = 0;
  private malformed = 0;
  private readonly malformedMessages: string[] = [];
  private divergenceCount = 0;
  private unknownLayoutDivergences = 0;
  private readonly divergences: Divergence[] = [];
  private seriesLines: number[] = [];
  private seriesCounts: number[] = [];
  private seriesStride = 1;
  private seriesTick = 0;
  private processes = 0;
  private failedExecs = 0;
  private abbreviated = 0;
  private text = '';
  private currentLine = 0;
  private counters: Counters | undefined;

  constructor(readonly options: ReplayOptions) {
    this.mode = options.mode ?? 'recorded';
    this.source = options.source ?? 'trace';
    this.parser = new TraceParser(this.source);
    this.decoder = new Decoder(this.source);
    this.maxDivergences = options.maxDivergences ?? 100;
    this.reportPid = options.pid ?? null;
    this.counters = options.counters ?? options.rootMm?.counters;
  }

  /** Replays one line of the log (1-based `lineNo`). */
  line(text: string, lineNo: number): void {
    this.lines++;
    this.text = text;
    let ev: ReturnType<TraceParser['parse']>;
    let op: Op | null = null;
    try {
      ev = this.parser.parse(text, lineNo);
      if (ev?.kind === 'call') op = this.decoder.decode(ev);
    } catch (e) {
      if (e instanceof TraceError && this.options.lenient) {
        this.malformed++;
        if (this.malformedMessages.length < 20) this.malformedMessages.push(e.message);
        return;
      }
      throw e;
    }
    if (ev === null) {
      this.otherLines++;
      return;
    }
    switch (ev.kind) {
      case 'call':
        this.call(ev, op as Op);
        return;
      case 'unfinished':
        this.unfinished(ev);
        return;
      case 'signal':
        this.otherLines++;
        this.taskFor(ev.pid, false);
        return;
      case 'exit': {
        this.otherLines++;
        const t = this.tasks.get(ev.pid);
        if (t) this.killTask(t);
        return;
      }
    }
  }

  /** Ends the replay: reports unfinished calls never resumed and returns the result. */
  finish(): ReplayResult {
    for (const err of danglingErrors(this.parser)) {
      if (!this.options.lenient) throw err;
      this.malformed++;
      if (this.malformedMessages.length < 20) this.malformedMessages.push(err.message);
    }
    const pid = this.reportPid ?? this.rootPid ?? NO_PID;
    const task = this.tasks.get(pid);
    let maps = '';
    let count = 0;
    if (task) {
      maps = formatMaps(task.mm.as);
      count = task.mm.as.mapCount;
    } else if (this.captured) {
      maps = this.captured.maps;
      count = this.captured.count;
    }
    const series: [number, number][] = this.seriesLines.map((l, i) => [
      l,
      this.seriesCounts[i] as number,
    ]);
    return {
      mode: this.mode,
      source: this.source,
      pid,
      maps,
      vmaCount: count,
      exited: !task,
      lines: this.lines,
      calls: { ...this.calls },
      ignored: { ...this.ignored },
      otherLines: this.otherLines,
      malformed: this.malformed,
      malformedMessages: [...this.malformedMessages],
      divergenceCount: this.divergenceCount,
      unknownLayoutDivergences: this.unknownLayoutDivergences,
      divergences: [...this.divergences],
      vmaSeries: series,
      processes: this.processes,
      failedExecs: this.failedExecs,
      abbreviatedVectors: this.abbreviated,
      counters: (this.counters ?? new Counters()).snapshot(),
    };
  }

  /** Live state sizes (for tests that check memory stays bounded). */
  stateSizes(): Record<string, number> {
    let intervals = 0;
    for (const t of this.tasks.values()) intervals = Math.max(intervals, t.mm.xlate?.size ?? 0);
    return {
      tasks: this.tasks.size,
      deadPids: this.dead.size,
      files: this.files.size,
      pendingClones: this.pendingClones.size,
      pendingCalls: this.parser.pendingCount,
      divergences: this.divergences.length,
      series: this.seriesLines.length,
      malformedMessages: this.malformedMessages.length,
      intervals,
    };
  }

  /** The address space of a live task (for tests and `--each`). */
  mmOf(pid: number): AddressSpace | undefined {
    return this.tasks.get(pid)?.mm.as;
  }

  // ------------------------------------------------------------------ processes

  private newAddressSpace(mmapBase?: number): AddressSpace {
    const { newMm, strategies } = this.options;
    let as: AddressSpace;
    if (newMm) {
      const extra: Partial<AddressSpaceOptions> = { ...this.options.mm };
      if (mmapBase !== undefined) extra.mmapBase = mmapBase;
      as = newMm(extra);
    } else if (strategies) {
      const counters = this.counters ?? new Counters();
      const o: AddressSpaceOptions = { ...this.options.mm, ...strategies(counters), counters };
      if (mmapBase !== undefined) o.mmapBase = mmapBase;
      as = new AddressSpace(o);
    } else {
      throw new Error('replay: give either strategies or newMm');
    }
    this.counters ??= as.counters;
    return as;
  }

  private newMm(as: AddressSpace, xlate: IntervalMap | null, known: boolean): Mm {
    return new Mm(as, this.mode === 'replace' ? (xlate ?? new IntervalMap()) : null, known);
  }

  private addTask(pid: number, tgid: number, mm: Mm): Task {
    const t: Task = { pid, tgid, mm };
    mm.users++;
    this.tasks.set(pid, t);
    this.dead.delete(pid);
    this.processes++;
    return t;
  }

  /**
   * The task behind a pid. A pid seen for the first time is the root (the
   * first one), the child of a clone that has not returned yet (its lines
   * can come first), or else a process the log does not show being created
   * (it gets an empty address space).
   */
  private taskFor(pid: number, isExecve: boolean): Task | null {
    const t = this.tasks.get(pid);
    if (t) return t;
    if (this.dead.has(pid)) return null;
    if (this.rootPid === null) {
      this.rootPid = pid;
      if (this.reportPid === null) this.reportPid = pid;
      const rootAs = this.options.rootMm ?? this.newAddressSpace(this.options.mmapBase);
      if (this.options.rootMm && this.options.mmapBase !== undefined) {
        rootAs.mmapBase = this.options.mmapBase;
      }
      const root = this.addTask(pid, pid, this.newMm(rootAs, null, true));
      if (this.options.initial) {
        if (isExecve) this.rootExecPending = true;
        else this.loadInitial(root.mm.as);
      }
      return root;
    }
    for (const [parentPid, pc] of this.pendingClones) {
      if (pc.child !== null) continue;
      const parent = this.tasks.get(parentPid);
      if (!parent) continue;
      pc.child = pid;
      return this.createChild(parent, pid, pc.vm, pc.thread);
    }
    return this.addTask(pid, pid, this.newMm(this.newAddressSpace(), null, false));
  }

  private loadInitial(as: AddressSpace): void {
    const initial = this.options.initial;
    if (!initial) return;
    as.exec(initial);
    if (this.options.mmapBase !== undefined) as.mmapBase = this.options.mmapBase;
    // Files of the snapshot are the files later mmap calls name by path.
    for (const v of as.index) {
      if (v.file && !this.files.has(v.file.path)) this.files.set(v.file.path, v.file);
    }
  }

  private createChild(parent: Task, pid: number, vm: boolean, thread: boolean): Task {
    const tgid = thread ? parent.tgid : pid;
    if (vm) return this.addTask(pid, tgid, parent.mm);
    const child = parent.mm.as.fork();
    if (typeof child === 'number') {
      this.diverge(parent.mm, parent.pid, 'fork', 'child pid', errnoName(child));
      return this.addTask(pid, tgid, this.newMm(this.newAddressSpace(), null, false));
    }
    return this.addTask(
      pid,
      tgid,
      this.newMm(child, parent.mm.xlate?.clone() ?? null, parent.mm.known),
    );
  }

  private killTask(t: Task): void {
    this.tasks.delete(t.pid);
    this.dead.add(t.pid);
    this.releaseMm(t.mm, t.tgid);
  }

  private releaseMm(mm: Mm, tgid: number): void {
    mm.users--;
    if (mm.users > 0) return;
    if (tgid === this.reportPid) {
      this.captured = { maps: formatMaps(mm.as), count: mm.as.mapCount };
    }
    mm.as.exit();
  }

  private unfinished(ev: UnfinishedEvent): void {
    const t = this.taskFor(ev.pid, ev.name === 'execve');
    if (!t) return;
    if (ev.name === 'clone' || ev.name === 'clone3' || ev.name === 'fork' || ev.name === 'vfork') {
      const op =
        ev.name === 'fork'
          ? { vm: false, thread: false }
          : ev.name === 'vfork'
            ? { vm: true, thread: false }
            : (this.decoder.cloneFlags(ev) as { vm: boolean; thread: boolean });
      this.pendingClones.set(ev.pid, { parent: ev.pid, vm: op.vm, thread: op.thread, child: null });
    }
  }

  // ------------------------------------------------------------------ calls

  private call(ev: CallEvent, op: Op): void {
    this.currentLine = ev.line;
    const task = this.taskFor(ev.pid, op.t === 'execve');
    if (!task) {
      this.otherLines++;
      return;
    }
    if (op.t === 'unknown') {
      this.ignored[ev.name] = (this.ignored[ev.name] ?? 0) + 1;
      return;
    }
    this.calls[ev.name] = (this.calls[ev.name] ?? 0) + 1;
    const exp = expectedResult(ev);
    switch (op.t) {
      case 'clone': {
        const pc = this.pendingClones.get(ev.pid);
        this.pendingClones.delete(ev.pid);
        if (exp === null || exp <= 0) return;
        if (pc?.child === exp) return;
        if (this.tasks.has(exp)) return;
        this.createChild(task, exp, op.vm, op.thread);
        return;
      }
      case 'execve':
        this.execve(task, exp);
        return;
      case 'exit_group': {
        for (const t of [...this.tasks.values()]) if (t.tgid === task.tgid) this.killTask(t);
        return;
      }
      default:
        this.memoryCall(task, ev, op, exp);
    }
    const mm = this.tasks.get(ev.pid)?.mm.as;
    if (mm) {
      if (task.tgid === this.reportPid) this.sample(ev.line, mm.mapCount);
      this.options.onCall?.({ line: ev.line, text: this.text, pid: ev.pid, name: ev.name, mm });
    }
  }

  private execve(task: Task, exp: number | null): void {
    if (exp !== 0) {
      // A failed execve (PATH search, ENOENT…) leaves everything as it was.
      this.failedExecs++;
      return;
    }
    // de_thread: the other threads of the group go away.
    for (const t of [...this.tasks.values()]) {
      if (t.tgid === task.tgid && t !== task) this.killTask(t);
    }
    const isRootExec = task.pid === this.rootPid && this.rootExecPending;
    const old = task.mm;
    if (isRootExec && old.as === this.options.rootMm && old.users === 1) {
      // The caller's address space is rebuilt in place (AddressSpace.exec).
      this.rootExecPending = false;
      this.loadInitial(old.as);
      return;
    }
    const as = this.newAddressSpace(isRootExec ? this.options.mmapBase : undefined);
    if (isRootExec) {
      this.rootExecPending = false;
      this.loadInitial(as);
    }
    task.mm = this.newMm(as, null, isRootExec);
    task.mm.users++;
    task.tgid = task.pid;
    this.releaseMm(old, -1);
  }

  private sample(line: number, count: number): void {
    if (this.seriesTick++ % this.seriesStride !== 0) return;
    this.seriesLines.push(line);
    this.seriesCounts.push(count);
    if (this.seriesLines.length >= SERIES_MAX) {
      this.seriesLines = this.seriesLines.filter((_, i) => i % 2 === 0);
      this.seriesCounts = this.seriesCounts.filter((_, i) => i % 2 === 0);
      this.seriesStride *= 2;
    }
  }

  private fileFor(path: string): MappedFile {
    let f = this.files.get(path);
    if (!f) {
      if (this.options.fileFor) f = this.options.fileFor(path);
      else {
        const shmem =
          path.startsWith('/memfd:') || path.startsWith('/dev/shm/') || path.startsWith('/SYSV');
        f = new MappedFile(path, '00:00', 0, Number.POSITIVE_INFINITY, {
          writable: true,
          shmem,
          thpAlign: !shmem,
        });
      }
      this.files.set(path, f);
    }
    return f;
  }

  private diverge(mm: Mm, pid: number, call: string, recorded: string, simulated: string): void {
    if (!mm.known) {
      this.unknownLayoutDivergences++;
      return;
    }
    this.divergenceCount++;
    if (this.divergences.length >= this.maxDivergences) return;
    this.divergences.push({
      line: this.currentLine,
      pid,
      call,
      recorded,
      simulated,
      text: this.text,
    });
  }

  private memoryCall(task: Task, ev: CallEvent, op: Op, exp: number | null): void {
    const as = task.mm.as;
    const x = task.mm.xlate;
    let r: number;
    switch (op.t) {
      case 'mmap': {
        const file =
          op.path !== null && !(op.flags & MAP_ANONYMOUS)
            ? { file: this.fileFor(op.path), offset: op.offset }
            : null;
        const fixed = (op.flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
        const len = pageUp(op.len);
        const addr = x ? x.point(op.addr) : op.addr;
        r = as.mmap(addr, op.len, op.prot, op.flags, file);
        if (x) {
          if (r >= 0 && exp !== null && exp >= 0) {
            if (!fixed) x.set(exp, exp + len, r);
            return;
          }
          if (exp === null || r === exp) return;
          if (r < 0 === exp < 0 && r < 0) {
            this.diverge(task.mm, task.pid, 'mmap', fmt(exp), fmt(r));
            return;
          }
          this.diverge(task.mm, task.pid, 'mmap', fmt(exp), fmt(r));
          if (r >= 0 && !fixed) as.munmap(r, len);
          return;
        }
        if (exp === null || r === exp) return;
        this.diverge(task.mm, task.pid, 'mmap', fmt(exp), fmt(r));
        // Follow the kernel: undo a mapping it did not make here, make the one it made.
        if (r >= 0 && !fixed) as.munmap(r, len);
        if (exp >= 0) {
          as.mmap(exp, op.len, op.prot, (op.flags & ~MAP_FIXED_NOREPLACE) | MAP_FIXED, file);
        }
        return;
      }
      case 'munmap':
        r = this.ranged(x, op.addr, op.len, (a, l) => as.munmap(a, l));
        x?.remove(op.addr, op.addr + pageUp(op.len));
        break;
      case 'mprotect':
        r = this.ranged(x, op.addr, op.len, (a, l) => as.mprotect(a, l, op.prot));
        break;
      case 'madvise':
        r = this.ranged(x, op.addr, op.len, (a, l) => as.madvise(a, l, op.advice));
        break;
      case 'mlock':
        r = this.ranged(x, op.addr, op.len, (a, l) =>
          op.two ? as.mlock2(a, l, op.flags) : as.mlock(a, l),
        );
        break;
      case 'munlock':
        r = this.ranged(x, op.addr, op.len, (a, l) => as.munlock(a, l));
        break;
      case 'process_madvise': {
        if (op.abbreviated) this.abbreviated++;
        const target = op.target !== null ? (this.tasks.get(op.target) ?? task) : task;
        const tx = target.mm.xlate;
        const iov = tx
          ? op.iov.flatMap((v) => tx.pieces(v.base, v.len).map(([base, len]) => ({ base, len })))
          : op.iov;
        r = target.mm.as.processMadvise(iov, op.advice, op.flags);
        // The vector's total is the success value: compare success only when abbreviated.
        if (op.abbreviated && exp !== null && exp >= 0 && r >= 0) return;
        break;
      }
      case 'brk': {
        if (as.startBrk === 0 && exp !== null && exp > 0) {
          // The break the kernel set at exec (end of bss + randomisation) is
          // not in any trace; the first brk result tells it.
          as.startBrk = exp;
          as.brkAddr = exp;
        }
        r = as.brk(op.addr);
        break;
      }
      case 'mremap': {
        const old = x ? x.point(op.addr) : op.addr;
        const fixed = (op.flags & MREMAP_FIXED) !== 0;
        const newAddr = x && fixed ? x.point(op.newAddr) : op.newAddr;
        r = as.mremap(old, op.oldLen, op.newLen, op.flags, newAddr);
        if (x) {
          if (r >= 0 && exp !== null && exp >= 0) {
            if (!(op.flags & MREMAP_DONTUNMAP)) x.remove(op.addr, op.addr + pageUp(op.oldLen));
            x.set(exp, exp + pageUp(op.newLen), r);
            return;
          }
          break;
        }
        if (exp === null || r === exp) return;
        this.diverge(task.mm, task.pid, 'mremap', fmt(exp), fmt(r));
        if (r >= 0 && exp >= 0) {
          // Moved elsewhere than the kernel did: move it where the kernel put it.
          as.mremap(r, op.newLen, op.newLen, MREMAP_MAYMOVE | MREMAP_FIXED, exp);
        } else if (r < 0 && exp >= 0 && exp !== op.addr) {
          as.mremap(
            op.addr,
            op.oldLen,
            op.newLen,
            MREMAP_MAYMOVE | MREMAP_FIXED | (op.flags & MREMAP_DONTUNMAP),
            exp,
          );
        }
        return;
      }
      default:
        return;
    }
    if (exp === null) return;
    if (x) {
      if (r < 0 !== exp < 0 || (r < 0 && r !== exp)) {
        this.diverge(task.mm, task.pid, ev.name, fmt(exp), fmt(r));
      }
      return;
    }
    if (r !== exp) this.diverge(task.mm, task.pid, ev.name, fmt(exp), fmt(r));
  }

  /** Runs `fn` over the simulated pieces of a recorded range; the first error wins. */
  private ranged(
    x: IntervalMap | null,
    addr: number,
    len: number,
    fn: (a: number, l: number) => number,
  ): number {
    if (!x) return fn(addr, len);
    let res = 0;
    for (const [a, l] of x.pieces(addr, len)) {
      const r = fn(a, l);
      if (r < 0 && res === 0) res = r;
    }
    return res;
  }
}

function fmt(r: number): string {
  if (r < 0) return errnoName(r);
  return r > 0xffff ? `0x${r.toString(16)}` : String(r);
}

/**
 * Unfinished calls never resumed and whose task printed no exit line: the
 * log was cut (exit_group never returns, so its head alone is fine).
 */
export function danglingErrors(parser: TraceParser): TraceError[] {
  return parser
    .dangling()
    .filter((d) => d.name !== 'exit_group')
    .map(
      (d) =>
        new TraceError(
          parser.source,
          d.line,
          `'${d.name}' of pid ${d.pid} is unfinished and never resumed (truncated log?)`,
        ),
    );
}
