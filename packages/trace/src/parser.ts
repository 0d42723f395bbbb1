/**
 * strace text logs, line by line: `strace -f -y -e trace=%memory,execve,
 * clone,clone3,fork,vfork,exit_group`, with or without `-tt`/`-ttt`/`-T`,
 * with `PID ` prefixes (`-o FILE`), `[pid N] ` prefixes (stderr) or none.
 *
 * `TraceParser.parse` turns one line into an event: a completed call (an
 * `<unfinished ...>` head joined with its `<... NAME resumed>` tail, keyed by
 * pid), the head of an unfinished call (so that a clone's child can be
 * created before the parent's clone returns), a signal, or an exit. It
 * throws a `TraceError` naming `FILE:LINE` and what is wrong for a malformed
 * or truncated line.
 */
import { TokenError, Tokenizer, type Value } from './tokenizer.js';

/** A malformed or truncated line: `FILE:LINE: what is wrong`. */
export class TraceError extends Error {
  override name = 'TraceError';
  constructor(
    readonly source: string,
    readonly lineNo: number,
    readonly reason: string,
  ) {
    super(`${source}:${lineNo}: ${reason}`);
  }
}

export interface CallEvent {
  readonly kind: 'call';
  readonly line: number;
  readonly pid: number;
  readonly name: string;
  readonly args: readonly Value[];
  /** The return value; null for `= ?` (exit_group, a call interrupted by exit). */
  readonly ret: number | null;
  /** `ENOMEM` for `= -1 ENOMEM (Cannot allocate memory)`, else null. */
  readonly errno: string | null;
}

/** The head of an `<unfinished ...>` call (its arguments as far as printed). */
export interface UnfinishedEvent {
  readonly kind: 'unfinished';
  readonly line: number;
  readonly pid: number;
  readonly name: string;
  readonly args: readonly Value[];
}

export interface SignalEvent {
  readonly kind: 'signal';
  readonly line: number;
  readonly pid: number;
  readonly signal: string;
}

/** `+++ exited with N +++`, `+++ killed by SIGX +++`, `+++ superseded by execve in pid N +++`. */
export interface ExitEvent {
  readonly kind: 'exit';
  readonly line: number;
  readonly pid: number;
  readonly code: number | null;
  readonly signal: string | null;
}

export type TraceEvent = CallEvent | UnfinishedEvent | SignalEvent | ExitEvent;

/** Pid of lines without a prefix (the traced command itself in stderr output). */
export const NO_PID = 0;

interface Pending {
  name: string;
  head: string;
  line: number;
}

const UNFINISHED = ' <unfinished ...>';
const RESUMED = /^<\.\.\. ([A-Za-z0-9_?]+) resumed>/;
const ERRNO = /^-1 (E[A-Z0-9]+)\b/;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export class TraceParser {
  /** Calls seen unfinished and not resumed yet, by pid. */
  private readonly pending = new Map<number, Pending>();

  constructor(readonly source = 'trace') {}

  /** The number of unfinished calls still waiting for their resumption. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /**
   * One line → an event, or null for a line that carries nothing (blank, or
   * an `strace:` message). Throws TraceError for a malformed line.
   */
  parse(text: string, line: number): TraceEvent | null {
    try {
      return this.parseLine(text, line);
    } catch (e) {
      if (e instanceof TokenError) throw new TraceError(this.source, line, e.message);
      throw e;
    }
  }

  /** Unfinished calls never resumed, for a report at the end of the log. */
  dangling(): { pid: number; name: string; line: number }[] {
    return [...this.pending].map(([pid, p]) => ({ pid, name: p.name, line: p.line }));
  }

  private fail(line: number, reason: string): never {
    throw new TraceError(this.source, line, reason);
  }

  private parseLine(raw: string, line: number): TraceEvent | null {
    let text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    let i = 0;
    const n = text.length;
    while (i < n && text.charCodeAt(i) === 32) i++;
    if (i === n) return null;
    if (text.startsWith('strace: ', i)) return null;
    // pid prefix: "1234 " or "[pid  1234] "
    let pid = NO_PID;
    if (text.startsWith('[pid', i)) {
      const close = text.indexOf(']', i);
      if (close < 0) this.fail(line, "unterminated '[pid N]' prefix");
      pid = Number(text.slice(i + 4, close).trim());
      if (!Number.isInteger(pid)) this.fail(line, `bad pid in ${text.slice(i, close + 1)}`);
      i = close + 1;
      while (i < n && text.charCodeAt(i) === 32) i++;
    } else if (isDigit(text.charCodeAt(i))) {
      let j = i;
      while (j < n && isDigit(text.charCodeAt(j))) j++;
      if (j < n && text.charCodeAt(j) === 32) {
        pid = Number(text.slice(i, j));
        i = j;
        while (i < n && text.charCodeAt(i) === 32) i++;
      }
    }
    // timestamp: -t/-tt "12:34:56[.123456] ", -ttt/-r "1700000000.123456 "
    if (isDigit(text.charCodeAt(i))) {
      let j = i;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (isDigit(c) || c === 58 /* : */ || c === 46 /* . */) j++;
        else break;
      }
      if (j < n && text.charCodeAt(j) === 32) {
        i = j;
        while (i < n && text.charCodeAt(i) === 32) i++;
      } else {
        this.fail(line, `expected a system call, got ${JSON.stringify(text.slice(i, i + 40))}`);
      }
    }
    if (i === n) this.fail(line, 'a pid or timestamp with nothing after it (truncated line?)');
    const c = text.charCodeAt(i);
    if (c === 45 /* - */) {
      if (!text.startsWith('--- ', i)) this.fail(line, 'not an strace line');
      const end = text.lastIndexOf(' ---');
      if (end <= i + 3) this.fail(line, "signal line without closing '---' (truncated line?)");
      const sig = text.slice(i + 4, end).split(' ', 1)[0] ?? '';
      return { kind: 'signal', line, pid, signal: sig };
    }
    if (c === 43 /* + */) return this.parseExit(text, i, line, pid);
    if (c === 60 /* < */) {
      const m = RESUMED.exec(text.slice(i));
      if (!m)
        this.fail(
          line,
          `expected '<... NAME resumed>', got ${JSON.stringify(text.slice(i, i + 30))}`,
        );
      const name = m[1] as string;
      const p = this.pending.get(pid);
      if (!p) this.fail(line, `'${name}' resumed, but pid ${pid} has no unfinished call`);
      if (p.name !== name) {
        this.fail(
          line,
          `'${name}' resumed, but pid ${pid}'s unfinished call (line ${p.line}) is '${p.name}'`,
        );
      }
      this.pending.delete(pid);
      text = p.head + text.slice(i + m[0].length);
      return this.parseCall(text, 0, line, pid);
    }
    return this.parseCall(text, i, line, pid);
  }

  private parseExit(text: string, i: number, line: number, pid: number): ExitEvent {
    const end = text.lastIndexOf(' +++');
    if (!text.startsWith('+++ ', i) || end <= i + 3) {
      this.fail(line, "exit line without closing '+++' (truncated line?)");
    }
    const body = text.slice(i + 4, end);
    this.pending.delete(pid);
    let m = /^exited with (\d+)$/.exec(body);
    if (m) return { kind: 'exit', line, pid, code: Number(m[1]), signal: null };
    m = /^killed by (SIG[A-Z0-9]+)/.exec(body);
    if (m) return { kind: 'exit', line, pid, code: null, signal: m[1] as string };
    if (body.startsWith('superseded by execve')) {
      return { kind: 'exit', line, pid, code: null, signal: null };
    }
    return this.fail(line, `unknown exit line '+++ ${body} +++'`);
  }

  private parseCall(
    text: string,
    i: number,
    line: number,
    pid: number,
  ): CallEvent | UnfinishedEvent {
    let j = i;
    const n = text.length;
    while (j < n) {
      const c = text.charCodeAt(j);
      if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 63) j++;
      else break;
    }
    const name = text.slice(i, j);
    if (name === '' || text.charCodeAt(j) !== 40 /* ( */) {
      this.fail(line, `expected a system call, got ${JSON.stringify(text.slice(i, i + 40))}`);
    }
    if (text.endsWith(UNFINISHED)) {
      const headEnd = n - UNFINISHED.length;
      if (this.pending.has(pid)) {
        const p = this.pending.get(pid) as Pending;
        this.fail(
          line,
          `pid ${pid} starts '${name}' while '${p.name}' (line ${p.line}) is unfinished`,
        );
      }
      this.pending.set(pid, { name, head: text.slice(i, headEnd), line });
      const t = new Tokenizer(text, headEnd);
      t.pos = j + 1;
      const args = t.parseList(41, true);
      return { kind: 'unfinished', line, pid, name, args };
    }
    const t = new Tokenizer(text);
    t.pos = j + 1;
    const args = t.parseList(41 /* ) */, false);
    let k = t.pos + 1;
    while (k < n && text.charCodeAt(k) === 32) k++;
    if (text.charCodeAt(k) !== 61 /* = */ || text.charCodeAt(k + 1) !== 32) {
      this.fail(line, `'${name}(…)' without ' = RESULT' (truncated line?)`);
    }
    k += 2;
    if (k >= n) this.fail(line, `'${name}(…) =' without a result (truncated line?)`);
    let ret: number | null;
    let errno: string | null = null;
    if (text.charCodeAt(k) === 63 /* ? */) {
      ret = null;
    } else {
      let e = k;
      while (e < n && text.charCodeAt(e) !== 32) e++;
      const word = text.slice(k, e);
      ret = Number(word);
      if (word === '' || !Number.isFinite(ret)) {
        this.fail(line, `bad result ${JSON.stringify(word)} of '${name}'`);
      }
      if (ret === -1) {
        const m = ERRNO.exec(text.slice(k, k + 24));
        if (!m) {
          // `= -1 (errno 512)` and friends: an errno strace has no name for.
          const num = /^-1 \(errno (\d+)\)/.exec(text.slice(k, k + 24));
          if (!num) this.fail(line, `'${name}' returned -1 without an errno name`);
          errno = `E${num[1]}`;
        } else {
          errno = m[1] as string;
        }
      }
    }
    return { kind: 'call', line, pid, name, args, ret, errno };
  }
}
