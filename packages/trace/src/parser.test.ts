import { describe, expect, it } from 'vitest';
import { Decoder, expectedResult } from './decode.js';
import { type CallEvent, TraceError, TraceParser } from './parser.js';

const parse = (line: string, p = new TraceParser('t.log')) => p.parse(line, 1);
const call = (line: string) => {
  const ev = parse(line);
  if (ev?.kind !== 'call') throw new Error(`not a call: ${line}`);
  return ev;
};
const decode = (line: string) => new Decoder('t.log').decode(call(line));
const err = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    if (e instanceof TraceError) return e.message;
    throw e;
  }
  throw new Error('no TraceError');
};

describe('line forms', () => {
  it('a plain mmap with flags, -1 fd and a hex result', () => {
    const line =
      'mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f8d53025000';
    expect(decode(line)).toEqual({
      t: 'mmap',
      addr: 0,
      len: 8192,
      prot: 3,
      flags: 0x22,
      path: null,
      offset: 0,
    });
    expect(expectedResult(call(line))).toBe(0x7f8d53025000);
  });

  it('pid prefixes (-o with -f, and [pid N] on stderr), -tt, -ttt and -T', () => {
    const forms = [
      '15625 munmap(0x7f8d5301c000, 34547) = 0',
      '[pid 15625] munmap(0x7f8d5301c000, 34547) = 0',
      '[pid  15625] 05:03:15.788808 munmap(0x7f8d5301c000, 34547) = 0 <0.000057>',
      '15625 05:03:15.788808 munmap(0x7f8d5301c000, 34547) = 0 <0.000057>',
      '15625 1700000000.123456 munmap(0x7f8d5301c000, 34547)        = 0',
    ];
    for (const f of forms) {
      const ev = call(f);
      expect(ev.pid).toBe(15625);
      expect(ev.name).toBe('munmap');
      expect(ev.ret).toBe(0);
    }
    expect(call('05:03:15 munmap(0x1000, 4096) = 0').pid).toBe(0);
  });

  it('fd paths from -y, including spaces and brackets', () => {
    const op = decode(
      '15625 mmap(0x7f8d52e60000, 1400832, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3</usr/lib/x86_64-linux-gnu/libc.so.6>, 0x26000) = 0x7f8d52e60000',
    );
    expect(op).toMatchObject({ path: '/usr/lib/x86_64-linux-gnu/libc.so.6', offset: 0x26000 });
    expect(
      decode('mmap(NULL, 4096, PROT_READ, MAP_SHARED, 5</memfd:a>b (deleted)>, 0) = 0x1000'),
    ).toMatchObject({ path: '/memfd:a>b (deleted)' });
  });

  it('failed calls carry the errno; (DELAYED) and descriptions are ignored', () => {
    const ev = call('mremap(0x7f4b0acbf000, 4096, 8192, 0)   = -1 ENOMEM (Cannot allocate memory)');
    expect(ev.errno).toBe('ENOMEM');
    expect(expectedResult(ev)).toBe(-12);
    expect(call('brk(NULL) = 0x555555559000 (DELAYED)').ret).toBe(0x555555559000);
    expect(
      expectedResult(
        call('execve("/x", ["x"], 0x7ffc /* 35 vars */) = -1 ENOENT (No such file or directory)'),
      ),
    ).toBe(-2);
  });

  it('mremap with and without the new address; madvise; mlock2; brk', () => {
    expect(
      decode(
        'mremap(0x7f4b0accf000, 4096, 4096, MREMAP_MAYMOVE|MREMAP_FIXED, 0x7f4b3b9ff000) = 0x7f4b3b9ff000',
      ),
    ).toEqual({
      t: 'mremap',
      addr: 0x7f4b0accf000,
      oldLen: 4096,
      newLen: 4096,
      flags: 3,
      newAddr: 0x7f4b3b9ff000,
    });
    expect(decode('madvise(0x7fc0936ff000, 8368128, MADV_DONTNEED) = 0')).toMatchObject({
      advice: 4,
    });
    expect(decode('mlock2(0x7f00, 4096, MLOCK_ONFAULT) = 0')).toMatchObject({
      t: 'mlock',
      flags: 1,
      two: true,
    });
    expect(decode('munlock(0x7f00, 4096) = 0')).toMatchObject({ t: 'munlock' });
    expect(decode('brk(0x55fa077ba000) = 0x55fa077ba000')).toEqual({
      t: 'brk',
      addr: 0x55fa077ba000,
    });
  });

  it('process_madvise iovecs, whole and abbreviated', () => {
    const op = decode(
      'process_madvise(3<anon_inode:[pidfd]>, [{iov_base=0x7fa33ec99000, iov_len=4096}, {iov_base=0x7fa33ec9b000, iov_len=8192}], 2, MADV_COLD, 0) = 12288',
    );
    expect(op).toEqual({
      t: 'process_madvise',
      target: null,
      iov: [
        { base: 0x7fa33ec99000, len: 4096 },
        { base: 0x7fa33ec9b000, len: 8192 },
      ],
      abbreviated: false,
      advice: 20,
      flags: 0,
    });
    expect(
      decode(
        'process_madvise(3<pid:77>, [{iov_base=0x1000, iov_len=4096}, ...], 40, MADV_COLD, 0) = 163840',
      ),
    ).toMatchObject({ target: 77, abbreviated: true });
  });

  it('clone with and without CLONE_VM, clone3 structs with =>, fork, vfork', () => {
    expect(
      decode(
        'clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f9c379eda10) = 15674',
      ),
    ).toEqual({ t: 'clone', vm: false, thread: false });
    expect(
      decode(
        'clone3({flags=CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID, child_tid=0x7fc093eff990, parent_tid=0x7fc093eff990, exit_signal=0, stack=0x7fc0936ff000, stack_size=0x7fff80, tls=0x7fc093eff6c0} => {parent_tid=[15714]}, 88) = 15714',
      ),
    ).toEqual({ t: 'clone', vm: true, thread: true });
    expect(decode('fork() = 12')).toEqual({ t: 'clone', vm: false, thread: false });
    expect(decode('vfork() = 12')).toEqual({ t: 'clone', vm: true, thread: false });
    expect(decode('exit_group(0) = ?')).toEqual({ t: 'exit_group' });
    expect(call('exit_group(0) = ?').ret).toBeNull();
  });

  it('joins <unfinished ...> and <... resumed> per pid, across other pids', () => {
    const p = new TraceParser('t.log');
    const a = p.parse(
      '15673 clone3({flags=CLONE_VM|CLONE_VFORK, exit_signal=SIGCHLD, stack=0x7fc094037000, stack_size=0x9000}, 88 <unfinished ...>',
      1,
    );
    expect(a).toMatchObject({ kind: 'unfinished', pid: 15673, name: 'clone3' });
    const b = p.parse(
      '15715 execve("/bin/sh", ["sh", "-c", "true"], 0x7fff8921c708 /* 38 vars */ <unfinished ...>',
      2,
    );
    expect(b).toMatchObject({ kind: 'unfinished', pid: 15715, name: 'execve' });
    const c = p.parse('15673 <... clone3 resumed>)             = 15715', 3) as CallEvent;
    expect(c).toMatchObject({ kind: 'call', pid: 15673, name: 'clone3', ret: 15715, line: 3 });
    expect(new Decoder('t').decode(c)).toEqual({ t: 'clone', vm: true, thread: false });
    const d = p.parse('15715 <... execve resumed>)             = 0', 4);
    expect(d).toMatchObject({ kind: 'call', name: 'execve', ret: 0 });
    expect(p.pendingCount).toBe(0);
    p.parse(
      '22508 mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 <unfinished ...>',
      5,
    );
    expect(p.parse('22508 05:07:12.189768 <... mmap resumed>) = 0x1819e400000', 6)).toMatchObject({
      name: 'mmap',
      ret: 0x1819e400000,
      args: [
        { k: 'num', v: 0 },
        { k: 'num', v: 4096 },
        {},
        {},
        { k: 'num', v: -1 },
        { k: 'num', v: 0 },
      ],
    });
  });

  it('signal and exit lines', () => {
    expect(
      parse('15673 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=15674} ---'),
    ).toMatchObject({
      kind: 'signal',
      signal: 'SIGCHLD',
    });
    expect(parse('15674 +++ exited with 1 +++')).toMatchObject({
      kind: 'exit',
      pid: 15674,
      code: 1,
    });
    expect(parse('15674 +++ killed by SIGSEGV (core dumped) +++')).toMatchObject({
      kind: 'exit',
      signal: 'SIGSEGV',
    });
    expect(parse('15674 +++ superseded by execve in pid 15680 +++')).toMatchObject({
      kind: 'exit',
    });
    expect(parse('')).toBeNull();
    expect(parse('strace: Process 123 attached')).toBeNull();
  });

  it('unknown system calls parse generically and decode as unknown', () => {
    expect(decode('mbind(0x7f0000000000, 4096, MPOL_BIND, [0x1], 2, 0) = 0')).toEqual({
      t: 'unknown',
    });
    expect(
      decode(
        'set_mempolicy_home_node(0x1000, 0x2000, 0, 0) = -1 ENOSYS (Function not implemented)',
      ),
    ).toEqual({ t: 'unknown' });
  });
});

describe('malformed and truncated lines name FILE:LINE', () => {
  it.each([
    ['mmap(NULL, 8192, PROT_READ|PROT_WR', "t.log:1: missing ')' (truncated line?)"],
    [
      'mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, 3</usr/lib/libc.so',
      't.log:1: unterminated fd path (truncated line?)',
    ],
    ['munmap(0x1000, 4096)', "t.log:1: 'munmap(…)' without ' = RESULT' (truncated line?)"],
    ['munmap(0x1000, 4096) = ', "t.log:1: 'munmap(…) =' without a result (truncated line?)"],
    ['munmap(0x1000, 4096) = zz', 't.log:1: bad result "zz" of \'munmap\''],
    ['hello world', 't.log:1: expected a system call, got "hello world"'],
    ['123 <... mmap resumed>) = 0', "t.log:1: 'mmap' resumed, but pid 123 has no unfinished call"],
    [
      '123 --- SIGCHLD {si_signo=SIGCHLD',
      "t.log:1: signal line without closing '---' (truncated line?)",
    ],
    ['123 +++ exited with 0', "t.log:1: exit line without closing '+++' (truncated line?)"],
    ['execve("/bin/sh', 't.log:1: unterminated string (truncated line?)'],
  ])('%s', (line, message) => {
    expect(err(() => parse(line))).toBe(message);
  });

  it('a resumption of the wrong call', () => {
    const p = new TraceParser('t.log');
    p.parse('7 mmap(NULL, 4096 <unfinished ...>', 1);
    expect(err(() => p.parse('7 <... munmap resumed>) = 0', 2))).toBe(
      "t.log:2: 'munmap' resumed, but pid 7's unfinished call (line 1) is 'mmap'",
    );
  });

  it('an unknown flag name and a missing argument (decoder)', () => {
    const d = new Decoder('t.log');
    expect(
      err(() =>
        d.decode(call('mmap(NULL, 4096, PROT_READ|PROT_BOGUS, MAP_PRIVATE, -1, 0) = 0x1000')),
      ),
    ).toBe("t.log:1: mmap: unknown flag name 'PROT_BOGUS'");
    expect(err(() => d.decode(call('munmap(0x1000) = 0')))).toBe(
      't.log:1: munmap: missing argument 2',
    );
  });
});
