/**
 * Replay throughput: lines of strace log replayed per second with the maple
 * preset (linux-6.8: maple tree in RCU mode with __mt_dup, gap finder,
 * unbatched rmap), parse included. Target: ≥ 200,000 lines/s.
 *
 *   node --conditions=@vmalab/source --import tsx packages/trace/bench/throughput.ts
 *
 * Each recorded fixture is replayed from memory (recorded mode, from its
 * exec snapshot) `ROUNDS` times after a warm-up; the report gives the median
 * per fixture and over all lines, and the streaming path (gzip file →
 * readline → replay) once per fixture. Before timing, every replay is
 * checked to end in the same layout (benchmarks first assert equal results).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { Counters } from '@vmalab/core';
import { strategy as gap } from '@vmalab/finder-gap';
import { strategy as maple } from '@vmalab/index-maple';
import { parseSnapshot } from '@vmalab/mm';
import { strategy as unbatched } from '@vmalab/rmap-unbatched';
import { Replayer, replayFile, type Strategies } from '../src/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const NAMES = ['ls', 'python3', 'node-workers', 'gcc', 'threads'];
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const TARGET = 200_000;

const linux68 = (c: Counters): Strategies => ({
  index: maple.create({ prealloc: 'by-store-type', dup: 'mt-dup', rcu: true }, c),
  finder: gap.create({}, c),
  rmap: unbatched.create({}, c),
});

function replayOnce(lines: readonly string[], initial: ReturnType<typeof parseSnapshot>): string {
  const r = new Replayer({
    strategies: linux68,
    counters: new Counters(),
    initial,
    maxDivergences: 0,
  });
  for (let i = 0; i < lines.length; i++) r.line(lines[i] as string, i + 1);
  return r.finish().maps;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Loaded {
  name: string;
  lines: string[];
  initial: ReturnType<typeof parseSnapshot>;
  layout: string;
}
const loaded: Loaded[] = NAMES.map((name) => {
  const text = gunzipSync(readFileSync(join(FIXTURES, `${name}.strace.gz`))).toString('utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const initial = parseSnapshot(readFileSync(join(FIXTURES, `${name}.exec.maps`), 'utf8'));
  return { name, lines, initial, layout: replayOnce(lines, initial) };
});
// Warm-up over every fixture (the JIT sees all the shapes), checking equal results.
for (let i = 0; i < 10; i++) {
  for (const f of loaded) {
    if (replayOnce(f.lines, f.initial) !== f.layout) throw new Error(`${f.name}: replays differ`);
  }
}

let allLines = 0;
let allMs = 0;
console.log(`replay throughput, linux-6.8 strategies, recorded mode, ${ROUNDS} rounds (median)`);
console.log(
  `${'fixture'.padEnd(14)} ${'lines'.padStart(7)} ${'ms'.padStart(8)} ${'lines/s'.padStart(12)} ${'stream lines/s'.padStart(15)}`,
);
for (const { name, lines, initial, layout: first } of loaded) {
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    replayOnce(lines, initial);
    times.push(performance.now() - t0);
  }
  const ms = median(times);
  const t0 = performance.now();
  const streamed = await replayFile(join(FIXTURES, `${name}.strace.gz`), {
    strategies: linux68,
    counters: new Counters(),
    initial,
    lenient: true, // one pass: the validation pass is measured with the rest otherwise
  });
  const streamMs = performance.now() - t0;
  if (streamed.maps !== first) throw new Error(`${name}: streamed replay differs`);
  allLines += lines.length;
  allMs += ms;
  console.log(
    `${name.padEnd(14)} ${String(lines.length).padStart(7)} ${ms.toFixed(2).padStart(8)} ${fmt((lines.length / ms) * 1000).padStart(12)} ${fmt((lines.length / streamMs) * 1000).padStart(15)}`,
  );
}
const rate = (allLines / allMs) * 1000;
console.log(
  `${'all'.padEnd(14)} ${String(allLines).padStart(7)} ${allMs.toFixed(2).padStart(8)} ${fmt(rate).padStart(12)}`,
);
console.log(
  `target ${fmt(TARGET)} lines/s: ${rate >= TARGET ? 'met' : 'NOT met'} (${(rate / TARGET).toFixed(2)}×)`,
);
