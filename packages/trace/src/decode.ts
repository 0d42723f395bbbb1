/**
 * Parsed calls → operations with numeric arguments. Flag names map to values
 * through @vmalab/core's tables (plus the few names strace prints that core
 * does not model). A decoding error is a malformed line: it throws a
 * TraceError naming FILE:LINE, before anything is applied.
 */
import { errnoFromName, MADV_NAMES, MAP_NAMES, MREMAP_NAMES, PROT_NAMES } from '@vmalab/core';
import type { CallEvent } from './parser.js';
import { TraceError } from './parser.js';
import { flagNames, type Value } from './tokenizer.js';

const MAP_EXTRA: Readonly<Record<string, number>> = {
  ...MAP_NAMES,
  MAP_FILE: 0,
  MAP_DROPPABLE: 0x08,
  MAP_ABOVE4G: 0x80,
  MAP_UNINITIALIZED: 0x4000000,
  MAP_HUGE_64KB: 16 * 2 ** 26,
  MAP_HUGE_2MB: 21 * 2 ** 26,
  MAP_HUGE_1GB: 30 * 2 ** 26,
};
const PROT_EXTRA: Readonly<Record<string, number>> = { ...PROT_NAMES, PROT_SEM: 0x8 };
const MADV_EXTRA: Readonly<Record<string, number>> = {
  ...MADV_NAMES,
  MADV_COLLAPSE: 25,
  MADV_HWPOISON: 100,
  MADV_SOFT_OFFLINE: 101,
  MADV_GUARD_INSTALL: 102,
  MADV_GUARD_REMOVE: 103,
};
const MLOCK_NAMES: Readonly<Record<string, number>> = { MLOCK_ONFAULT: 1 };

/** errno names strace prints that core's table lacks (x86-64 values). */
const ERRNO_EXTRA: Readonly<Record<string, number>> = {
  ESRCH: 3,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  ENOEXEC: 8,
  ECHILD: 10,
  ENOTBLK: 15,
  EXDEV: 18,
  ENOTDIR: 20,
  EISDIR: 21,
  ENFILE: 23,
  EMFILE: 24,
  ETXTBSY: 26,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ELOOP: 40,
  ERESTARTSYS: 512,
  ERESTARTNOINTR: 513,
  ERESTARTNOHAND: 514,
  ERESTART_RESTARTBLOCK: 516,
};

const CLONE_VM = 0x100;
const CLONE_VFORK = 0x4000;
const CLONE_THREAD = 0x10000;

export type Op =
  | {
      t: 'mmap';
      addr: number;
      len: number;
      prot: number;
      flags: number;
      /** The fd's path (`-y`), or null for -1 / an fd without a path. */
      path: string | null;
      offset: number;
    }
  | { t: 'munmap'; addr: number; len: number }
  | { t: 'mprotect'; addr: number; len: number; prot: number }
  | { t: 'mremap'; addr: number; oldLen: number; newLen: number; flags: number; newAddr: number }
  | { t: 'madvise'; addr: number; len: number; advice: number }
  | {
      t: 'process_madvise';
      /** The target's pid when the pidfd's path names it, else null (the caller). */
      target: number | null;
      iov: { base: number; len: number }[];
      /** strace printed `...` instead of the rest of the vector. */
      abbreviated: boolean;
      advice: number;
      flags: number;
    }
  | { t: 'brk'; addr: number }
  | { t: 'mlock'; addr: number; len: number; flags: number; two: boolean }
  | { t: 'munlock'; addr: number; len: number }
  | { t: 'execve' }
  | { t: 'clone'; vm: boolean; thread: boolean }
  | { t: 'exit_group' }
  | { t: 'unknown' };

const UNKNOWN: Op = { t: 'unknown' };
const EXECVE: Op = { t: 'execve' };
const EXIT_GROUP: Op = { t: 'exit_group' };

/** The kernel-style result a call recorded: the value, −errno, or null for `?`. */
export function expectedResult(ev: CallEvent): number | null {
  if (ev.ret === null) return null;
  if (ev.errno === null) return ev.ret;
  const n = errnoFromName(ev.errno) ?? ERRNO_EXTRA[ev.errno];
  if (n !== undefined) return -n;
  const m = /^E(\d+)$/.exec(ev.errno);
  return m ? -Number(m[1]) : -1000;
}

export class Decoder {
  private readonly cache = new Map<object, Map<string, number>>();
  constructor(readonly source: string) {}

  private fail(ev: CallEvent, reason: string): never {
    throw new TraceError(this.source, ev.line, `${ev.name}: ${reason}`);
  }

  private arg(ev: CallEvent, i: number): Value {
    const v = ev.args[i];
    if (v === undefined) this.fail(ev, `missing argument ${i + 1}`);
    return v;
  }

  private num(ev: CallEvent, i: number): number {
    const v = this.arg(ev, i);
    if (v.k === 'num') return v.v;
    if (v.k === 'fd') return v.fd;
    if (v.k === 'flags' && /^(0x[0-9a-f]+|\d+)$/i.test(v.text)) return Number(v.text);
    return this.fail(ev, `argument ${i + 1} is not a number`);
  }

  private flags(ev: CallEvent, i: number, table: Readonly<Record<string, number>>): number {
    const v = this.arg(ev, i);
    if (v.k === 'num') return v.v;
    if (v.k !== 'flags') this.fail(ev, `argument ${i + 1} is not a flag set`);
    // Programs repeat a handful of flag sets: cache each set's value per table.
    let cache = this.cache.get(table);
    if (!cache) {
      cache = new Map();
      this.cache.set(table, cache);
    }
    const hit = cache.get(v.text);
    if (hit !== undefined) return hit;
    let out = 0;
    for (const n of flagNames(v)) {
      const known = table[n];
      if (known !== undefined) out |= known;
      else if (/^(0x[0-9a-f]+|\d+)$/i.test(n)) out |= Number(n);
      else this.fail(ev, `unknown flag name '${n}'`);
    }
    if (cache.size < 4096) cache.set(v.text, out);
    return out;
  }

  decode(ev: CallEvent): Op {
    switch (ev.name) {
      case 'mmap': {
        const fdv = this.arg(ev, 4);
        let path: string | null = null;
        if (fdv.k === 'fd') path = fdv.path;
        else if (fdv.k !== 'num') this.fail(ev, 'argument 5 is not an fd');
        return {
          t: 'mmap',
          addr: this.num(ev, 0),
          len: this.num(ev, 1),
          prot: this.flags(ev, 2, PROT_EXTRA),
          flags: this.flags(ev, 3, MAP_EXTRA),
          path,
          offset: this.num(ev, 5),
        };
      }
      case 'munmap':
        return { t: 'munmap', addr: this.num(ev, 0), len: this.num(ev, 1) };
      case 'mprotect':
      case 'pkey_mprotect':
        if (ev.name === 'pkey_mprotect') return UNKNOWN;
        return {
          t: 'mprotect',
          addr: this.num(ev, 0),
          len: this.num(ev, 1),
          prot: this.flags(ev, 2, PROT_EXTRA),
        };
      case 'mremap': {
        const flags = this.flags(ev, 3, MREMAP_NAMES);
        return {
          t: 'mremap',
          addr: this.num(ev, 0),
          oldLen: this.num(ev, 1),
          newLen: this.num(ev, 2),
          flags,
          newAddr: ev.args.length > 4 ? this.num(ev, 4) : 0,
        };
      }
      case 'madvise':
        return {
          t: 'madvise',
          addr: this.num(ev, 0),
          len: this.num(ev, 1),
          advice: this.flags(ev, 2, MADV_EXTRA),
        };
      case 'process_madvise': {
        const pidfd = this.arg(ev, 0);
        let target: number | null = null;
        if (pidfd.k === 'fd') {
          const m = /^pid(?:fd)?:(\d+)$/.exec(pidfd.path);
          if (m) target = Number(m[1]);
        }
        const vec = this.arg(ev, 1);
        const iov: { base: number; len: number }[] = [];
        let abbreviated = false;
        if (vec.k === 'arr') {
          for (const item of vec.items) {
            if (item.k === 'other' && item.text === '...') {
              abbreviated = true;
              continue;
            }
            if (item.k !== 'struct') this.fail(ev, 'iovec element is not a struct');
            const b = item.fields.get('iov_base');
            const l = item.fields.get('iov_len');
            if (b?.k !== 'num' || l?.k !== 'num') this.fail(ev, 'iovec without iov_base/iov_len');
            iov.push({ base: b.v, len: l.v });
          }
        } else if (vec.k !== 'num') {
          this.fail(ev, 'argument 2 is not an iovec array');
        }
        return {
          t: 'process_madvise',
          target,
          iov,
          abbreviated,
          advice: this.flags(ev, 3, MADV_EXTRA),
          flags: this.num(ev, 4),
        };
      }
      case 'brk':
        return { t: 'brk', addr: this.num(ev, 0) };
      case 'mlock':
        return { t: 'mlock', addr: this.num(ev, 0), len: this.num(ev, 1), flags: 0, two: false };
      case 'mlock2':
        return {
          t: 'mlock',
          addr: this.num(ev, 0),
          len: this.num(ev, 1),
          flags: this.flags(ev, 2, MLOCK_NAMES),
          two: true,
        };
      case 'munlock':
        return { t: 'munlock', addr: this.num(ev, 0), len: this.num(ev, 1) };
      case 'execve':
      case 'execveat':
        return EXECVE;
      case 'exit_group':
        return EXIT_GROUP;
      case 'fork':
        return { t: 'clone', vm: false, thread: false };
      case 'vfork':
        // vfork(2) is clone(CLONE_VM | CLONE_VFORK | SIGCHLD): the child
        // borrows the parent's mm until it execs or exits.
        return { t: 'clone', vm: true, thread: false };
      case 'clone':
      case 'clone3':
        return this.cloneFlags(ev);
      default:
        return UNKNOWN;
    }
  }

  /** clone's `flags=…` argument or clone3's `{flags=…}` struct. */
  cloneFlags(ev: { args: readonly Value[]; name: string; line: number }): Op {
    let fv: Value | undefined;
    if (ev.name === 'clone3') {
      const s = ev.args[0];
      if (s?.k === 'struct') fv = s.fields.get('flags');
    } else {
      for (const a of ev.args) if (a.k === 'named' && a.name === 'flags') fv = a.value;
    }
    let bits = 0;
    if (fv?.k === 'num') bits = fv.v;
    else if (fv?.k === 'flags') {
      for (const n of flagNames(fv)) {
        if (n === 'CLONE_VM') bits |= CLONE_VM;
        else if (n === 'CLONE_THREAD') bits |= CLONE_THREAD;
        else if (n === 'CLONE_VFORK') bits |= CLONE_VFORK;
        else if (/^0x[0-9a-f]+$|^\d+$/i.test(n)) bits |= Number(n);
      }
    }
    return { t: 'clone', vm: (bits & CLONE_VM) !== 0, thread: (bits & CLONE_THREAD) !== 0 };
  }
}
