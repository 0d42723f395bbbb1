#!/usr/bin/env node
import { SnapshotError } from '@vmalab/mm';
/**
 * The `vmalab` command. Exit codes: 0 success, 1 internal error (a bug:
 * please report it with the stack trace), 2 a mistake in the command or its
 * input (reported in one line, no stack trace), 3 the strategies of a bench
 * matrix disagree or one of them fails in the untimed check run (a strategy
 * bug, reported in one line naming the cells).
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { registerBench, registerCompare, workloadRegistry } from './bench-cli.js';
import { DEFAULT_SNAPSHOT, runDemo } from './demo.js';
import { findPreset, PRESETS, STRATEGIES, UsageError } from './presets.js';
import { registerReplay } from './replay.js';
import { registerReproduce } from './reproduce.js';
import { CellFailedError, LayoutMismatchError } from './runner.js';

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`'${v}' is not a positive integer`);
  return n;
}

export interface ProgramIo {
  /** Where relative paths and `.vmalab/runs` resolve (default: the directory vmalab was started from). */
  cwd?: string;
  /** stderr (progress, warnings). */
  err?: (s: string) => void;
  /** Show progress on stderr (default true; tests turn it off). */
  progress?: boolean;
}

/**
 * The directory the user ran the command from: `pnpm vmalab …` runs the
 * script in apps/bench, but pnpm records the caller's directory in INIT_CWD.
 */
export function userCwd(): string {
  return (process.env.npm_lifecycle_event && process.env.INIT_CWD) || process.cwd();
}

export function buildProgram(out: (s: string) => void, io: ProgramIo = {}): Command {
  const program = new Command('vmalab')
    .description(
      'A laboratory for how Linux manages a process address space: swap VMA indexes, unmapped-area finders and rmap lockers, and watch layouts and exact cost counters change.',
    )
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('demo')
    .description(
      "Load a real process's layout (a /proc/PID/smaps snapshot of cat on Linux 6.18), create thread stacks with guard pages, free one, map 2 MiB (THP-aligned) and grow the heap; print the resulting /proc/PID/maps and the counters.",
    )
    .option(
      '-p, --preset <name>',
      `strategy preset (${PRESETS.map((p) => p.name).join(', ')})`,
      'linux-2.4',
    )
    .option(
      '-s, --snapshot <file>',
      'initial layout: /proc/PID/maps text, or "line<TAB>VmFlags" lines',
      DEFAULT_SNAPSHOT,
    )
    .option('-n, --stacks <n>', 'thread stacks to create', positiveInt, 8)
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  vmalab demo\n  vmalab demo --stacks 100 --json\n  cat /proc/$$/maps > my.maps && vmalab demo --snapshot my.maps',
    )
    .action((o: { preset: string; snapshot: string; stacks: number; json?: boolean }) => {
      const preset = findPreset(o.preset);
      const r = runDemo(preset, o.snapshot, o.stacks);
      const counters = r.counters.snapshot();
      if (o.json) {
        out(
          `${JSON.stringify({ preset: preset.name, log: r.log, maps: r.after.split('\n').filter(Boolean), counters }, null, 2)}\n`,
        );
        return;
      }
      out(`preset ${preset.name}: ${preset.description}\n\n`);
      out(`${r.log.join('\n')}\n\n/proc/PID/maps afterwards:\n${r.after}\ncounters:\n`);
      for (const [k, v] of Object.entries(counters)) {
        if (Array.isArray(v) ? v.some((x) => x) : v)
          out(`  ${k.padEnd(20)} ${Array.isArray(v) ? `[${v.join(', ')}]` : v}\n`);
      }
    });

  program
    .command('list')
    .description(
      'List the strategies (with their options), the workloads (with their parameters) and the presets.',
    )
    .action(() => {
      out('strategies:\n');
      for (const s of STRATEGIES) {
        out(`  ${s.role.padEnd(7)} ${s.name.padEnd(12)} Linux ${s.kernels}: ${s.description}\n`);
        for (const o of s.options) {
          const values = o.values ? `: ${o.values.join(' | ')}` : '';
          out(
            `          option ${o.name} (${o.type}${values}), default ${String(o.default)}: ${o.description}\n`,
          );
        }
      }
      out('\nworkloads:\n');
      const workloads = workloadRegistry();
      if (workloads.length === 0)
        out('  (none registered yet: @vmalab/workloads exports no WORKLOADS)\n');
      for (const w of workloads) {
        out(`  ${w.name.padEnd(14)} ${w.description}\n`);
        out(`                 from: ${w.source}\n`);
        for (const p of w.params) {
          const values = p.values ? `: ${p.values.join(' | ')}` : '';
          const range =
            p.min !== undefined || p.max !== undefined ? `, ${p.min ?? '−∞'}…${p.max ?? '∞'}` : '';
          out(
            `                 param ${p.name} (${p.type}${values}${range}), default ${String(p.default)}: ${p.description}\n`,
          );
        }
      }
      out('\npresets:\n');
      for (const p of PRESETS) out(`  ${p.name.padEnd(12)} ${p.description}\n`);
    });

  const ctx = {
    out,
    err: io.err ?? ((s: string) => process.stderr.write(s)),
    cwd: io.cwd ?? userCwd(),
    progress: io.progress ?? true,
  };
  registerBench(program, ctx);
  registerCompare(program, ctx);
  registerReproduce(program, ctx);
  registerReplay(program, ctx);
  return program;
}

export async function main(argv: string[], io: ProgramIo = {}): Promise<number> {
  const program = buildProgram((s) => process.stdout.write(s), io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError || e instanceof SnapshotError) {
      process.stderr.write(`vmalab: ${e.message}\n`);
      return 2;
    }
    if (e instanceof LayoutMismatchError || e instanceof CellFailedError) {
      process.stderr.write(`vmalab: ${e.message}\n`);
      return 3;
    }
    process.stderr.write(`vmalab: internal error (please report): ${(e as Error).stack ?? e}\n`);
    return 1;
  }
}

const invoked = process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '');
if (invoked) {
  // `vmalab … | head`: a closed pipe ends the output, not the program with a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
