/**
 * A real program's strace log as one more workload of a `vmalab bench`
 * matrix: each step replays the whole log (its processes, forks, execs and
 * exits) over the cell's strategies. The log is read and checked once, when
 * the workload is created; steps replay it from memory.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { AddressSpace } from '@vmalab/mm';
import { parseSnapshot, type SnapshotLine } from '@vmalab/mm';
import type { MmFactory, Workload, WorkloadInstance, WorkloadParams } from '@vmalab/workloads';
import { Decoder } from './decode.js';
import { TraceParser } from './parser.js';
import { danglingErrors, Replayer, type ReplayMode, type ReplayResult } from './replay.js';

export interface ReplayWorkloadOptions {
  /** The first process's layout after exec: a maps snapshot file, or its lines. */
  initial?: string | readonly SnapshotLine[];
  mmapBase?: number;
  /** Default mode when the `mode` parameter is not given. */
  mode?: ReplayMode;
  lenient?: boolean;
  /** Workload name; default `replay`. */
  name?: string;
}

function readText(path: string): string {
  const buf = readFileSync(path);
  const gz = buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;
  return (gz ? gunzipSync(buf) : buf).toString('utf8');
}

/** Builds the `replay` workload over one log file (plain or gzip). Throws a TraceError for a malformed log. */
export function replayWorkload(traceFile: string, options: ReplayWorkloadOptions = {}): Workload {
  const text = readText(traceFile);
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const initial =
    typeof options.initial === 'string'
      ? parseSnapshot(readText(options.initial))
      : options.initial;
  // Check the log once and count its memory calls (the step's operations).
  const parser = new TraceParser(traceFile);
  const decoder = new Decoder(traceFile);
  let calls = 0;
  lines.forEach((l, i) => {
    let ev: ReturnType<TraceParser['parse']>;
    try {
      ev = parser.parse(l, i + 1);
      if (ev?.kind === 'call' && decoder.decode(ev).t !== 'unknown') calls++;
    } catch (e) {
      if (!options.lenient) throw e;
    }
  });
  const [dangling] = danglingErrors(parser);
  if (dangling && !options.lenient) throw dangling;
  const name = options.name ?? 'replay';
  return {
    name,
    description: `replay of the strace log ${traceFile} (${lines.length} lines, ${calls} memory calls)`,
    source: 'a real program recorded with strace -f -y (vmalab replay)',
    params: [
      {
        name: 'mode',
        type: 'enum',
        values: ['recorded', 'replace'],
        default: options.mode ?? 'recorded',
        description:
          'recorded: calls at the kernel-chosen addresses; replace: the finder chooses, later calls are translated',
      },
    ],
    create(params: WorkloadParams, _seed: number): WorkloadInstance {
      const mode = params.mode ?? options.mode ?? 'recorded';
      if (mode !== 'recorded' && mode !== 'replace') {
        // WorkloadParamError's message (only types are imported from @vmalab/workloads)
        throw new Error(
          `workload ${name}: parameter mode: must be recorded or replace, got ${String(mode)}`,
        );
      }
      let factory: MmFactory | null = null;
      let last: ReplayResult | null = null;
      const instance: WorkloadInstance & { readonly lastResult: ReplayResult | null } = {
        params: { mode },
        unit: 'replay',
        opsPerStep: calls,
        setup(newMm: MmFactory): AddressSpace {
          factory = newMm;
          return newMm();
        },
        step(mm: AddressSpace): void {
          if (!factory) throw new Error(`workload ${name}: step before setup`);
          const r = new Replayer({
            mode,
            newMm: factory,
            rootMm: mm,
            ...(initial ? { initial } : {}),
            ...(options.mmapBase !== undefined ? { mmapBase: options.mmapBase } : {}),
            ...(options.lenient ? { lenient: true } : {}),
            source: traceFile,
            maxDivergences: 0,
          });
          for (let i = 0; i < lines.length; i++) r.line(lines[i] as string, i + 1);
          last = r.finish();
        },
        get lastResult() {
          return last;
        },
      };
      return instance;
    },
  };
}
