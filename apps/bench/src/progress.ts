/**
 * Progress of a bench run on stderr (stdout stays clean for --json/--csv):
 * a bar with ETA on a terminal; otherwise one line per finished cell.
 */

import { formatNs } from '@vmalab/core/stats';
import { SingleBar } from 'cli-progress';
import type { RunEvent } from './runner.js';

export function progressReporter(
  stream: NodeJS.WriteStream = process.stderr,
  enabled = true,
): { onEvent: (e: RunEvent) => void; stop: () => void } {
  if (!enabled) return { onEvent: () => {}, stop: () => {} };
  const write = (s: string) => stream.write(s);
  if (!stream.isTTY) {
    const t0 = Date.now();
    return {
      onEvent(e) {
        if (e.type === 'start')
          write(`vmalab bench: ${e.cells} cells × ${e.rounds} rounds (progress on stderr)\n`);
        if (e.type === 'cell') {
          const elapsed = (Date.now() - t0) / 1000;
          write(
            `[${e.done}/${e.total}] ${e.result.cell.case.label} × ${e.result.cell.set.label}: ${formatNs(e.result.time.value)}/op (${elapsed.toFixed(1)} s)\n`,
          );
        }
      },
      stop: () => {},
    };
  }
  const bar = new SingleBar(
    {
      stream,
      format: ' {bar} {percentage}% | {value}/{total} cell-rounds | ETA {eta_formatted} | {what}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 5,
    },
    undefined,
  );
  let started = false;
  return {
    onEvent(e) {
      if (e.type === 'start') {
        bar.start(e.cells * e.rounds, 0, { what: 'checking layouts' });
        started = true;
      } else if (e.type === 'check') {
        bar.update({ what: `${e.case.label}: checking layouts` });
      } else if (e.type === 'kernel') {
        bar.update({ what: `${e.case.label}: kernel run (round ${e.round + 1})` });
      } else if (e.type === 'round') {
        bar.update(e.done, {
          what: `${e.cell.case.label} × ${e.cell.set.label} (round ${e.round + 1})`,
        });
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
