import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Counters } from '@vmalab/core';
import { AddressSpace } from '@vmalab/mm';
import { describe, expect, it } from 'vitest';
import { IntervalMap } from './interval-map.js';
import { replayFile, replayLines, replayText } from './io.js';
import { TraceError } from './parser.js';
import { Replayer, type ReplayOptions } from './replay.js';
import { listLinear, mapleGap } from './test-util.js';

const opts = (o: Partial<ReplayOptions> = {}): ReplayOptions => ({
  strategies: mapleGap,
  counters: new Counters(),
  ...o,
});
const anon = (pid: number, len: number, ret: string, addr = 'NULL', extra = '') =>
  `${pid} mmap(${addr}, ${len}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS${extra}, -1, 0) = ${ret}`;

// Mappings go top-down below the default mmap_base.
const BASE = new AddressSpace(mapleGap(new Counters())).mmapBase;
const h = (n: number) => `0x${n.toString(16)}`;

describe('replay: processes', () => {
  it('a fork-like clone duplicates the address space; the copies then differ', () => {
    const r = new Replayer(opts());
    const lines = [
      anon(1, 8192, h(BASE - 0x2000)),
      '1 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0x7f0) = 2',
      anon(2, 4096, h(BASE - 0x3000)),
      `1 munmap(${h(BASE - 0x2000)}, 8192) = 0`,
    ];
    lines.forEach((l, i) => {
      r.line(l, i + 1);
    });
    expect(r.mmOf(1)?.mapCount).toBe(0);
    // the child's new page merged with the inherited mapping
    expect(
      r
        .mmOf(2)
        ?.vmas()
        .map((v) => [v.start, v.end]),
    ).toEqual([[BASE - 0x3000, BASE]]);
    expect(r.finish().divergenceCount).toBe(0);
  });

  it('CLONE_VM and vfork share the address space', () => {
    const r = new Replayer(opts());
    [
      '1 clone3({flags=CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, exit_signal=0, stack=0x7f00, stack_size=0x1000} => {parent_tid=[2]}, 88) = 2',
      anon(2, 4096, h(BASE - 0x1000)),
      '1 vfork() = 3',
      anon(3, 4096, h(BASE - 0x2000)),
    ].forEach((l, i) => {
      r.line(l, i + 1);
    });
    expect(r.mmOf(1)).toBe(r.mmOf(2));
    expect(r.mmOf(1)).toBe(r.mmOf(3));
    expect(
      r
        .mmOf(1)
        ?.vmas()
        .map((v) => [v.start, v.end]),
    ).toEqual([[BASE - 0x2000, BASE]]);
  });

  it("a clone's child may run before the parent's clone returns", () => {
    const r = new Replayer(opts());
    [
      anon(1, 4096, h(BASE - 0x1000)),
      '1 vfork( <unfinished ...>',
      '2 execve("/bin/true", ["true"], 0x7ff /* 3 vars */ <unfinished ...>',
      '1 <... vfork resumed>) = 2',
      '2 <... execve resumed>) = 0',
      anon(2, 8192, h(BASE - 0x2000)),
    ].forEach((l, i) => {
      r.line(l, i + 1);
    });
    // the vfork child borrowed the parent's mm, then exec gave it its own
    expect(r.mmOf(1)?.mapCount).toBe(1);
    expect(
      r
        .mmOf(2)
        ?.vmas()
        .map((v) => [v.start, v.end]),
    ).toEqual([[BASE - 0x2000, BASE]]);
  });

  it('a successful execve replaces the address space; a failed one changes nothing', () => {
    const r = new Replayer(opts());
    [
      anon(1, 4096, h(BASE - 0x1000)),
      '1 execve("/nope", ["nope"], 0x7ff /* 3 vars */) = -1 ENOENT (No such file or directory)',
    ].forEach((l, i) => {
      r.line(l, i + 1);
    });
    expect(r.mmOf(1)?.mapCount).toBe(1);
    r.line('1 execve("/bin/true", ["true"], 0x7ff /* 3 vars */) = 0', 3);
    expect(r.mmOf(1)?.mapCount).toBe(0);
    expect(r.finish()).toMatchObject({ failedExecs: 1, calls: { execve: 2, mmap: 1 } });
  });

  it('exit_group tears the process down; its last layout is reported', () => {
    const c = new Counters();
    const res = replayText(
      [
        anon(1, 4096, h(BASE - 0x1000)),
        '1 exit_group(0)                     = ?',
        '1 +++ exited with 0 +++',
      ],
      opts({ counters: c }),
    );
    expect(res.exited).toBe(true);
    expect(res.vmaCount).toBe(1);
    expect(res.maps).toBe(
      `${(BASE - 0x1000).toString(16)}-${BASE.toString(16)} rw-p 00000000 00:00 0 \n`,
    );
    expect(c.vmaFreed).toBeGreaterThan(0);
    expect(res.processes).toBe(1);
  });
});

describe('replay: modes', () => {
  const trace = [
    anon(1, 8192, h(BASE - 0x2000)),
    anon(1, 4096, h(BASE - 0x3000)),
    `1 mprotect(${h(BASE - 0x3000)}, 4096, PROT_READ) = 0`,
    `1 munmap(${h(BASE - 0x2000)}, 4096) = 0`,
    `1 mremap(${h(BASE - 0x1000)}, 4096, 8192, MREMAP_MAYMOVE) = ${h(BASE - 0x1000)}`,
  ];

  it('recorded mode follows the kernel and reports a differing address as a divergence', () => {
    const wrong = [...trace];
    wrong[1] = anon(1, 4096, h(BASE - 0x5000));
    const res = replayText(wrong, opts());
    // the mprotect of line 3 then hits a hole (the program meant the page the kernel gave it)
    expect(res.divergenceCount).toBe(2);
    expect(res.divergences[0]).toMatchObject({
      line: 2,
      call: 'mmap',
      recorded: h(BASE - 0x5000),
      simulated: h(BASE - 0x3000),
      text: wrong[1],
    });
    // ... and the mapping sits where the kernel put it
    expect(res.maps.split('\n')[0]?.startsWith((BASE - 0x5000).toString(16))).toBe(true);
  });

  it('an errno the simulation does not reproduce is a divergence', () => {
    const res = replayText(
      [...trace, `1 mprotect(${h(BASE - 0x100000)}, 4096, PROT_READ) = 0`],
      opts(),
    );
    expect(res.divergences.map((d) => [d.line, d.recorded, d.simulated])).toEqual([
      [6, '0', 'ENOMEM'],
    ]);
  });

  it('replace mode lets the finder choose and translates later calls', () => {
    const c = new Counters();
    const rec = replayText(trace, opts({ counters: c }));
    expect(rec.divergenceCount).toBe(0);
    // The legacy bottom-up layout with the linear finder places everything
    // elsewhere: a different layout, the same shape (sizes, permissions, splits).
    const bottomUp = { strategies: listLinear, mm: { topDown: false } };
    const rep = replayText(trace, opts({ mode: 'replace', ...bottomUp }));
    expect(rep.divergenceCount).toBe(0);
    const shape = (maps: string) =>
      maps
        .trim()
        .split('\n')
        .map((l) => {
          const [range, perms] = l.split(' ');
          const [a, b] = (range as string).split('-').map((x) => Number.parseInt(x, 16));
          return `${(b as number) - (a as number)} ${perms}`;
        })
        .sort();
    expect(shape(rep.maps)).toEqual(shape(rec.maps));
    expect(rep.maps).not.toBe(rec.maps);
    // recorded mode diverges on every placement (and follows the kernel)
    const recBottomUp = replayText(trace, opts(bottomUp));
    expect(recBottomUp.divergences.map((d) => d.line)).toEqual([1, 2]);
    expect(recBottomUp.maps).toBe(rec.maps);
  });

  it('interval map: points, pieces across intervals, removal', () => {
    const m = new IntervalMap();
    m.set(0x10000, 0x12000, 0x50000);
    m.set(0x12000, 0x13000, 0x90000);
    expect(m.point(0x11000)).toBe(0x51000);
    expect(m.point(0x20000)).toBe(0x20000);
    expect(m.pieces(0xf000, 0x5000)).toEqual([
      [0xf000, 0x1000],
      [0x50000, 0x2000],
      [0x90000, 0x1000],
      [0x13000, 0x1000],
    ]);
    m.remove(0x10800, 0x11000);
    expect(m.size).toBe(3);
    expect(m.point(0x10900)).toBe(0x10900);
    expect(m.clone().point(0x11800)).toBe(0x51800);
  });
});

describe('bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmalab-trace-'));

  it('strict: the first malformed line is FILE:LINE and nothing is applied', async () => {
    const file = join(dir, 'bad.log');
    writeFileSync(file, `${anon(1, 4096, h(BASE - 0x1000))}\n1 munmap(${h(BASE - 0x1000)}, 40\n`);
    let applied = 0;
    const err = await replayFile(file, opts({ onCall: () => applied++ })).catch((e) => e);
    expect(err).toBeInstanceOf(TraceError);
    expect(err.message).toBe(`${file}:2: missing ')' (truncated line?)`);
    expect(applied).toBe(0);
  });

  it('strict: an unfinished call never resumed is a truncated log', () => {
    expect(() =>
      replayText(
        [anon(1, 4096, h(BASE - 0x1000)), '1 munmap(0x1000, 4096 <unfinished ...>'],
        opts(),
      ),
    ).toThrow("trace:2: 'munmap' of pid 1 is unfinished and never resumed (truncated log?)");
  });

  it('lenient: malformed lines are skipped and counted, unknown calls ignored and counted', async () => {
    const file = join(dir, 'bad.log.gz');
    const text = [
      anon(1, 4096, h(BASE - 0x1000)),
      'garbage',
      '1 mmap(NULL, 4096, PROT_READ|PROT_BOGUS, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x1000',
      '1 mbind(0x1000, 4096, MPOL_BIND, [0x1], 2, 0) = 0',
      '1 mincore(0x1000, 4096, [1]) = 0',
      anon(1, 4096, h(BASE - 0x2000)),
    ].join('\n');
    writeFileSync(file, gzipSync(text));
    const res = await replayFile(file, opts({ lenient: true }));
    expect(res.malformed).toBe(2);
    expect(res.malformedMessages).toEqual([
      `${file}:2: expected a system call, got "garbage"`,
      `${file}:3: mmap: unknown flag name 'PROT_BOGUS'`,
    ]);
    expect(res.ignored).toEqual({ mbind: 1, mincore: 1 });
    expect(res.calls).toEqual({ mmap: 2 });
    expect(res.vmaCount).toBe(1);
  });
});

describe('streaming', () => {
  it('a large generated log replays one line at a time with bounded state', async () => {
    const N = 60_000;
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    const sizes: Record<string, number>[] = [];
    function* gen(): Generator<string> {
      // 1000 mappings, then churn: unmap one and map it again, forever
      for (let i = 0; i < N; i++) {
        produced++;
        const k = i % 1000;
        const addr = BASE - (k + 1) * 0x2000;
        if (i < 1000) yield anon(1, 4096, h(addr));
        else if (i % 2 === 0) yield `1 munmap(${h(addr)}, 4096) = 0`;
        else
          yield `1 mmap(${h(addr)}, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0) = ${h(addr)}`;
      }
    }
    const r = new Replayer(
      opts({
        maxDivergences: 10,
        onCall: () => {
          consumed++;
          maxAhead = Math.max(maxAhead, produced - consumed);
          if (consumed % 10_000 === 0) sizes.push(r.stateSizes());
        },
      }),
    );
    let n = 0;
    for (const l of gen()) r.line(l, ++n);
    const res = r.finish();
    expect(res.lines).toBe(N);
    expect(maxAhead).toBe(0);
    // nothing grows with the log: the same state sizes at 10k lines as at 60k
    expect(sizes.length).toBe(6);
    const { series: _s, ...first } = sizes[0] as Record<string, number>;
    for (const { series, ...s } of sizes) {
      expect(s).toEqual(first);
      expect(series).toBeLessThanOrEqual(512);
    }
    expect(res.vmaSeries.length).toBeLessThanOrEqual(512);
    expect(res.divergences.length).toBeLessThanOrEqual(10);
  });

  it('replayLines pulls from an async source lazily', async () => {
    let produced = 0;
    let behind = 0;
    async function* src(): AsyncGenerator<string> {
      for (let i = 0; i < 1000; i++) {
        produced++;
        yield anon(1, 4096, h(BASE - (i + 1) * 0x2000));
      }
    }
    let seen = 0;
    await replayLines(
      src(),
      opts({
        onCall: () => {
          seen++;
          behind = Math.max(behind, produced - seen);
        },
      }),
    );
    expect(behind).toBe(0);
  });
});
