/**
 * `vmalab replay TRACE`: runs a real program's strace log through any
 * strategies (a preset, or --index/--finder/--rmap) and prints the final
 * layout, a JSON report, or a human summary. Registered by cli.ts with
 * `registerReplay(program, ctx)`.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { Counters, type StrategyDescriptor } from '@vmalab/core';
import { formatMaps, parseSnapshot, type SnapshotLine } from '@vmalab/mm';
import {
  type ReplayMode,
  type ReplayResult,
  replayFile,
  type Strategies,
  TraceError,
} from '@vmalab/trace';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { findPreset, type Preset, STRATEGIES, UsageError } from './presets.js';

/** What the command writes to (cli.ts passes its CliContext). */
export interface ReplayIo {
  out: (s: string) => void;
  err?: (s: string) => void;
  /** Relative paths are resolved against it; default process.cwd(). */
  cwd?: string;
}

export const DEFAULT_REPLAY_PRESET = 'linux-6.15';

interface ReplayFlags {
  pid?: number;
  initial?: string;
  mmapBase?: number;
  preset?: string;
  index?: string;
  finder?: string;
  rmap?: string;
  mode: ReplayMode;
  format: 'maps' | 'json' | 'summary';
  each?: boolean;
  lenient?: boolean;
}

function pidArg(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`'${v}' is not a pid`);
  return n;
}

function addressArg(v: string): number {
  const n = /^(0x)?[0-9a-f]+$/i.test(v) ? Number.parseInt(v.replace(/^0x/i, ''), 16) : Number.NaN;
  if (!Number.isSafeInteger(n) || n % 4096 !== 0) {
    throw new InvalidArgumentError(`'${v}' is not a page-aligned hex address`);
  }
  return n;
}

/** `maple` or `maple:rcu=false,dup=insert` → a descriptor of `role` and its options. */
function strategyArg(
  role: 'index' | 'finder' | 'rmap',
  spec: string,
): [StrategyDescriptor, Record<string, unknown>] {
  const [name, opts = ''] = spec.split(':', 2) as [string, string?];
  const d = STRATEGIES.find((s) => s.role === role && s.name === name);
  if (!d) {
    const names = STRATEGIES.filter((s) => s.role === role).map((s) => s.name);
    throw new UsageError(`unknown ${role} '${name}' (available: ${names.join(', ')})`);
  }
  const options: Record<string, unknown> = {};
  for (const kv of opts.split(',').filter(Boolean)) {
    const [k, v] = kv.split('=', 2) as [string, string?];
    if (v === undefined) throw new UsageError(`--${role} ${spec}: option '${k}' needs '=value'`);
    options[k] =
      v === 'true' ? true : v === 'false' ? false : /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
  }
  return [d, options];
}

interface Chosen {
  label: string;
  strategies: (c: Counters) => Strategies;
  mm: Preset['mm'];
}

function chooseStrategies(o: ReplayFlags): Chosen {
  const explicit = o.index !== undefined || o.finder !== undefined || o.rmap !== undefined;
  if (explicit && o.preset !== undefined) {
    throw new UsageError('give either --preset or --index/--finder/--rmap, not both');
  }
  const base = findPreset(o.preset ?? DEFAULT_REPLAY_PRESET);
  const index = o.index !== undefined ? strategyArg('index', o.index) : base.index;
  const finder = o.finder !== undefined ? strategyArg('finder', o.finder) : base.finder;
  const rmap = o.rmap !== undefined ? strategyArg('rmap', o.rmap) : base.rmap;
  const make = (c: Counters): Strategies => ({
    index: index[0].create(index[1], c) as Strategies['index'],
    finder: finder[0].create(finder[1], c) as Strategies['finder'],
    rmap: rmap[0].create(rmap[1], c) as Strategies['rmap'],
  });
  // fail on bad options now, with a one-line message
  try {
    make(new Counters());
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const label = explicit
    ? `${index[0].name} + ${finder[0].name} + ${rmap[0].name}`
    : `preset ${base.name} (${index[0].name} + ${finder[0].name} + ${rmap[0].name})`;
  return { label, strategies: make, mm: base.mm };
}

function readInitial(path: string): SnapshotLine[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --initial ${path}: ${(e as Error).message}`);
  }
  return parseSnapshot(text);
}

const num = (n: number) => n.toLocaleString('en-US');

/** The human report of `--format summary`. */
export function formatSummary(r: ReplayResult, label: string): string {
  const out: string[] = [];
  const calls = Object.entries(r.calls).sort((a, b) => b[1] - a[1]);
  const total = calls.reduce((a, [, n]) => a + n, 0);
  out.push(`replay of ${r.source}`);
  out.push(`  mode ${r.mode}, ${label}`);
  out.push(
    `  ${num(r.lines)} lines, ${num(total)} calls replayed, ${num(r.processes)} tasks, ${r.failedExecs} failed execve`,
  );
  out.push('');
  out.push('calls by type:');
  for (const [k, n] of calls) out.push(`  ${k.padEnd(16)} ${num(n).padStart(9)}`);
  const ignored = Object.entries(r.ignored);
  if (ignored.length) {
    out.push(
      `ignored (unknown or not modelled): ${ignored.map(([k, n]) => `${k} ${n}`).join(', ')}`,
    );
  }
  if (r.malformed) out.push(`malformed lines skipped: ${r.malformed}`);
  if (r.abbreviatedVectors) {
    out.push(`process_madvise vectors strace abbreviated: ${r.abbreviatedVectors}`);
  }
  out.push('');
  out.push(`divergences: ${r.divergenceCount}`);
  if (r.unknownLayoutDivergences) {
    out.push(
      `  (+ ${r.unknownLayoutDivergences} in processes exec'd without a snapshot, whose layout is unknown)`,
    );
  }
  for (const d of r.divergences.slice(0, 20)) {
    out.push(`  line ${d.line}: ${d.call}: kernel ${d.recorded}, simulated ${d.simulated}`);
    out.push(`    ${d.text.trim()}`);
  }
  if (r.divergenceCount > 20)
    out.push(`  … ${r.divergenceCount - 20} more (--format json lists 100)`);
  out.push('');
  const s = r.vmaSeries;
  if (s.length) {
    const counts = s.map(([, c]) => c);
    out.push(
      `VMA count of pid ${r.pid} over time: min ${Math.min(...counts)}, max ${Math.max(...counts)}, final ${r.vmaCount}`,
    );
    const picks = 10;
    const row: string[] = [];
    for (let i = 0; i < picks; i++) {
      const p = s[Math.min(s.length - 1, Math.round((i * (s.length - 1)) / (picks - 1)))];
      if (p) row.push(`line ${p[0]}: ${p[1]}`);
    }
    out.push(`  ${[...new Set(row)].join(', ')}`);
  }
  const c = r.counters;
  out.push('');
  out.push('lock acquisitions:');
  out.push(`  mmap_lock read  ${num(Number(c.mmapLockRead ?? 0)).padStart(9)}`);
  out.push(`  mmap_lock write ${num(Number(c.mmapLockWrite ?? 0)).padStart(9)}`);
  out.push(`  i_mmap_rwsem    ${num(Number(c.iMmapLockWrite ?? 0)).padStart(9)}`);
  const hist = c.rmapBatchHistogram;
  if (Array.isArray(hist) && hist.some((x) => x)) {
    const parts = hist.map((n, i) => (n ? `${i}:${n}` : '')).filter(Boolean);
    out.push(`  VMAs per rmap unlink acquisition: ${parts.join(' ')}`);
  }
  out.push('');
  out.push(
    `final layout of pid ${r.pid}: ${r.vmaCount} VMAs${r.exited ? ' (captured at exit)' : ''}`,
  );
  return `${out.join('\n')}\n`;
}

export function registerReplay(program: Command, io: ReplayIo): Command {
  const cwd = io.cwd ?? process.cwd();
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
  return program
    .command('replay')
    .description(
      "Replay a real program's strace log (strace -f -y -e trace=%memory,execve,clone,clone3,fork,vfork,exit_group; plain or gzip) through any strategies and print its final layout, a JSON report or a summary.",
    )
    .argument('<trace>', 'strace log file (plain or .gz)')
    .option('--pid <pid>', 'process to report (default: the first pid of the log)', pidArg)
    .option(
      '--initial <maps>',
      'the first process\'s /proc/PID/maps right after exec (optionally "line<TAB>VmFlags")',
    )
    .option(
      '--mmap-base <addr>',
      'mmap_base in hex (default: end of ld.so in --initial)',
      addressArg,
    )
    .option('-p, --preset <name>', `strategy preset (default ${DEFAULT_REPLAY_PRESET})`)
    .option('--index <name[:k=v,…]>', 'VMA index strategy and options, e.g. maple:dup=insert')
    .option('--finder <name[:k=v,…]>', 'unmapped-area finder strategy')
    .option('--rmap <name[:k=v,…]>', 'rmap locker strategy')
    .addOption(
      new Option('--mode <mode>', 'recorded: kernel addresses; replace: the finder chooses')
        .choices(['recorded', 'replace'])
        .default('recorded'),
    )
    .addOption(
      new Option('--format <format>', 'output')
        .choices(['maps', 'json', 'summary'])
        .default('maps'),
    )
    .option('--each', 'print the layout after every replayed call')
    .option('--lenient', 'skip and count malformed lines instead of failing')
    .addHelpText(
      'after',
      '\nExit codes: 0 replayed (divergences are reported, not fatal), 2 bad input (FILE:LINE: what is wrong).\n\nExamples:\n  vmalab replay ls.strace.gz --initial ls.exec.maps\n  vmalab replay app.log --format summary --preset linux-2.6 --mode replace\n  vmalab replay app.log --each --pid 4242 | less',
    )
    .action(async (trace: string, o: ReplayFlags) => {
      const chosen = chooseStrategies(o);
      const initial = o.initial !== undefined ? readInitial(abs(o.initial)) : undefined;
      let result: ReplayResult;
      try {
        result = await replayFile(abs(trace), {
          source: trace,
          mode: o.mode,
          strategies: chosen.strategies,
          counters: new Counters(),
          ...(chosen.mm ? { mm: chosen.mm } : {}),
          ...(initial ? { initial } : {}),
          ...(o.mmapBase !== undefined ? { mmapBase: o.mmapBase } : {}),
          ...(o.pid !== undefined ? { pid: o.pid } : {}),
          ...(o.lenient ? { lenient: true } : {}),
          ...(o.each
            ? {
                onCall: (c) => {
                  io.out(
                    `# ${trace}:${c.line} pid ${c.pid}: ${c.text.trim()}\n${formatMaps(c.mm)}\n`,
                  );
                },
              }
            : {}),
        });
      } catch (e) {
        if (e instanceof TraceError) throw new UsageError(e.message);
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR' || code?.startsWith('Z_')) {
          throw new UsageError(`cannot read ${trace}: ${(e as Error).message}`);
        }
        throw e;
      }
      if (
        o.pid !== undefined &&
        result.processes > 0 &&
        result.maps === '' &&
        result.vmaCount === 0
      ) {
        io.err?.(`vmalab: pid ${o.pid} has no layout in ${trace} (not in the log?)\n`);
      }
      if (o.format === 'json') {
        const { maps, ...rest } = result;
        io.out(
          `${JSON.stringify({ schema: 1, strategies: chosen.label, ...rest, maps: maps.split('\n').filter(Boolean) }, null, 2)}\n`,
        );
      } else if (o.format === 'summary') {
        io.out(formatSummary(result, chosen.label));
      } else {
        io.out(result.maps);
      }
    });
}
