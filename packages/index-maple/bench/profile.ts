/**
 * A small driver for `node --cpu-prof`: one maple implementation, one
 * operation, in a loop (the same workload as compare.ts).
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --conditions=@vmalab/source --import tsx \
 *     bench/profile.ts --impl=tree|vma --op=build|find|churn|iterate|dup --n=1e5 --seconds=5
 *
 * `dup` (vma only): MapleVmaIndex.dup(v => v.clone()) in the default mt-dup
 * mode, the copy destroyed after each. Prints wall and CPU time per operation.
 */
import { Counters, Prng, VM_READ, VM_WRITE, Vma } from '@vmalab/core';
import { MapleTree, MapleVmaIndex } from '../src/index.js';

const P = 4096;
const BASE = 2 ** 46;
function arg(name: string, dflt: string): string {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3) ?? dflt;
}
const impl = arg('impl', 'tree');
const op = arg('op', 'churn');
const n = Math.round(Number(arg('n', '1e5')));
const seconds = Number(arg('seconds', '5'));

const rng = new Prng(n);
const vmas: Vma[] = [];
let at = BASE;
for (let i = 0; i < n; i++) {
  const len = (1 + rng.int(16)) * P;
  vmas.push(new Vma(at, at + len, VM_READ | VM_WRITE, null, at / P));
  at += len;
  if (rng.float() < 0.5) at += (1 + rng.int(16)) * P;
}
const shuffled = vmas.slice();
for (let i = n - 1; i > 0; i--) {
  const j = rng.int(i + 1);
  const t = shuffled[i] as Vma;
  shuffled[i] = shuffled[j] as Vma;
  shuffled[j] = t;
}
const queries = Float64Array.from(
  { length: 10_000 },
  () => BASE + Math.floor(rng.float() * (at - BASE)),
);
const churn = Uint32Array.from({ length: 2_000 }, () => rng.int(n));

interface Ops {
  dup(): void;
  build(): void;
  find(): number;
  churn(): void;
  iterate(): number;
}
function treeOps(): Ops {
  let tree = new MapleTree<Vma>();
  const build = () => {
    tree = new MapleTree<Vma>();
    for (const v of shuffled) tree.store(v.start, v.end - 1, v);
  };
  build();
  return {
    dup() {
      const d = new MapleTree<Vma>(tree.options);
      tree.dupInto(d);
      d.destroy();
    },
    build,
    find() {
      let s = 0;
      for (const q of queries) s += tree.find(q)?.start ?? 0;
      return s;
    },
    churn() {
      for (const i of churn) {
        const v = vmas[i] as Vma;
        tree.store(v.start, v.end - 1, null);
        tree.store(v.start, v.end - 1, v);
      }
    },
    iterate() {
      let s = 0;
      for (const [, , v] of tree.entries()) s += v.end - v.start;
      return s;
    },
  };
}
function vmaOps(): Ops {
  let index = new MapleVmaIndex(new Counters());
  const build = () => {
    index = new MapleVmaIndex(new Counters());
    for (const v of shuffled) index.insert(v);
  };
  build();
  return {
    dup() {
      index.dup((v) => v.clone()).tree.destroy();
    },
    build,
    find() {
      let s = 0;
      for (const q of queries) s += index.find(q)?.start ?? 0;
      return s;
    },
    churn() {
      for (const i of churn) {
        const v = vmas[i] as Vma;
        index.remove(v);
        index.insert(v);
      }
    },
    iterate() {
      let s = 0;
      for (const v of index) s += v.end - v.start;
      return s;
    },
  };
}

const ops = impl === 'vma' ? vmaOps() : treeOps();
const run =
  op === 'build'
    ? ops.build
    : op === 'find'
      ? ops.find
      : op === 'iterate'
        ? ops.iterate
        : op === 'dup'
          ? ops.dup
          : ops.churn;
let sink = 0;
let iterations = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
while (performance.now() - t0 < seconds * 1000) {
  sink += run() ?? 0;
  iterations++;
}
const per = op === 'find' ? 10_000 : op === 'churn' ? 2_000 : op === 'dup' ? 1 : n;
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(
  `${impl} ${op} n=${n}: ${iterations} iterations, ${((ms * 1e6) / (iterations * per)).toFixed(1)} ns per op wall, ${((cpuMs * 1e6) / (iterations * per)).toFixed(1)} ns CPU (sink ${sink > 0})`,
);
