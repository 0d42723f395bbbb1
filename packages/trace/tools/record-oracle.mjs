#!/usr/bin/env node
/**
 * Runs the arena sequences of tools/kernel-oracle again, this time under
 * strace, and keeps the strace lines of the sequence's calls:
 *
 *   node packages/trace/tools/record-oracle.mjs [--modes nowrite,placement,limit]
 *
 * For each fixture `tools/kernel-oracle/fixtures/<mode>-<seed>.json.gz` the
 * oracle is started under `strace -f -y -e trace=%memory,…` and fed the
 * fixture's ops; every answer (result, errno, maps and VmFlags) must equal
 * the fixture's (shmem inodes aside), or the script stops. The oracle makes
 * exactly one traced system call per op and none after its setup, so the
 * last N memory calls of the log before exit_group are the N ops; they are
 * written to `packages/trace/fixtures/oracle/<mode>-<seed>.strace.gz`. The
 * expected layouts stay in the kernel-oracle fixture.
 *
 * `write` mode is not recorded: its one-byte writes are page faults, not
 * system calls, so no strace log can show them (and the anon_vma they create
 * decides later merges).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
const ORACLE_DIR = join(HERE, '..', '..', '..', 'tools', 'kernel-oracle');
const WORK = '/tmp/vmalab-oracle';
const FILES = [`${WORK}/f0`, `${WORK}/f1`, `${WORK}/f2`];
const FILE_SIZE = 64 * 1024 * 1024;
const OUT = join(HERE, '..', 'fixtures', 'oracle');
const ORACLE_MODE = { nowrite: 'arena', placement: 'placement', limit: 'limit' };
const FILTER = '%memory,execve,clone,clone3,fork,vfork,exit_group';

function die(msg) {
  process.stderr.write(`record-oracle.mjs: ${msg}\n`);
  process.exit(2);
}

function compile() {
  fs.mkdirSync(WORK, { recursive: true });
  const bin = `${WORK}/oracle`;
  const tmp = `${WORK}/oracle.trace-new`;
  const r = spawnSync(
    'gcc',
    ['-O2', '-Wall', '-Wl,-z,now', '-o', tmp, join(ORACLE_DIR, 'oracle.c')],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) die(`gcc failed: ${r.stderr}`);
  // as tools/kernel-oracle/record.mjs does: keep the binary's inode
  fs.copyFileSync(tmp, bin);
  fs.chmodSync(bin, 0o755);
  fs.unlinkSync(tmp);
  return bin;
}

function resetFiles() {
  for (const f of FILES) {
    fs.closeSync(fs.openSync(f, 'a'));
    fs.truncateSync(f, 0);
    fs.truncateSync(f, FILE_SIZE);
  }
}

class Oracle {
  constructor(args) {
    this.proc = spawn('strace', args, { env: {}, stdio: ['pipe', 'pipe', 'inherit'] });
    this.buf = '';
    this.lines = [];
    this.waiters = [];
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d) => {
      this.buf += d;
      for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      while (this.waiters.length && this.lines.length)
        this.waiters.shift()(JSON.parse(this.lines.shift()));
    });
    this.closed = new Promise((r) => this.proc.on('close', r));
  }
  next() {
    return new Promise((r) => {
      this.waiters.push(r);
      while (this.waiters.length && this.lines.length)
        this.waiters.shift()(JSON.parse(this.lines.shift()));
    });
  }
  send(line) {
    this.proc.stdin.write(`${line}\n`);
    return this.next();
  }
}

function opLine(op, consts) {
  const n = (names) =>
    names.reduce((a, x) => {
      if (x === 'PROT_NONE') return a;
      const v = consts[x] ?? (/^\d+$/.test(x) ? Number(x) : undefined);
      if (v === undefined) die(`no value for ${x}`);
      return a | v;
    }, 0);
  switch (op.call) {
    case 'mmap':
      return `mmap ${op.addr} ${op.len} ${n(op.prot)} ${n(op.flags)} ${op.file ?? -1} ${op.offset}`;
    case 'munmap':
    case 'mlock':
    case 'munlock':
      return `${op.call} ${op.addr} ${op.len}`;
    case 'mprotect':
      return `mprotect ${op.addr} ${op.len} ${n(op.prot)}`;
    case 'mremap':
      return `mremap ${op.addr} ${op.oldLen} ${op.newLen} ${n(op.flags)} ${op.newAddr ?? 0}`;
    case 'madvise':
      return `madvise ${op.addr} ${op.len} ${n([op.advice])}`;
    case 'mlock2':
      return `mlock2 ${op.addr} ${op.len} ${n(op.flags)}`;
    default:
      return die(`op ${op.call} cannot be traced`);
  }
}

const noIno = (l) => l.replace(/ 00:01 \d+ +\/dev\/zero/, ' 00:01 X /dev/zero');
const same = (a, b) =>
  a.length === b.length && a.every(([l, f], i) => noIno(l) === noIno(b[i][0]) && f === b[i][1]);

async function recordOne(bin, file) {
  const fx = JSON.parse(zlib.gunzipSync(fs.readFileSync(file)).toString('utf8'));
  resetFiles();
  const log = `${WORK}/trace-${fx.mode}-${fx.seed}.strace`;
  const o = new Oracle([
    '-f',
    '-y',
    '-o',
    log,
    '-e',
    `trace=${FILTER}`,
    bin,
    ORACLE_MODE[fx.mode],
    ...FILES,
  ]);
  const hello = await o.next();
  if (hello.arena.start !== fx.arena.start)
    die(`${file}: arena moved (${hello.arena.start} vs ${fx.arena.start})`);
  const init = await o.send('maps');
  if (!same(init.maps, fx.initial)) die(`${file}: initial layout differs`);
  for (const [i, s] of fx.steps.entries()) {
    const res = await o.send(opLine(s.op, hello.consts));
    if (res.error) die(`${file} step ${i}: refused: ${res.error}`);
    if (String(res.ret) !== String(s.ret) || res.errno !== s.errno || !same(res.maps, s.maps)) {
      die(`${file} step ${i}: the kernel answered differently under strace`);
    }
  }
  o.proc.stdin.end('quit\n');
  await o.closed;
  const lines = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
  const exitAt = lines.findLastIndex((l) => /^\d+ exit_group\(/.test(l));
  const calls = lines
    .slice(0, exitAt)
    .filter((l) => /^\d+ (mmap|munmap|mprotect|mremap|madvise|mlock|mlock2|munlock)\(/.test(l));
  const ops = calls.slice(calls.length - fx.steps.length);
  for (const [i, l] of ops.entries()) {
    const call = fx.steps[i].op.call;
    if (!l.startsWith(`${l.split(' ')[0]} ${call}(`))
      die(`${file}: line for step ${i} is not ${call}: ${l}`);
  }
  fs.unlinkSync(log);
  const out = join(OUT, `${fx.mode}-${fx.seed}.strace.gz`);
  fs.writeFileSync(out, zlib.gzipSync(`${ops.join('\n')}\n`, { level: 9 }));
  return { out, n: ops.length };
}

async function main() {
  const i = process.argv.indexOf('--modes');
  const modes = i > 0 ? process.argv[i + 1].split(',') : Object.keys(ORACLE_MODE);
  for (const m of modes) if (!ORACLE_MODE[m]) die(`mode ${m} cannot be recorded under strace`);
  const bin = compile();
  fs.mkdirSync(OUT, { recursive: true });
  const fixtures = fs
    .readdirSync(join(ORACLE_DIR, 'fixtures'))
    .filter((f) => modes.some((m) => f.startsWith(`${m}-`)))
    .sort();
  for (const f of fixtures) {
    const r = await recordOne(bin, join(ORACLE_DIR, 'fixtures', f));
    process.stderr.write(`${f}: ${r.n} lines -> ${r.out}\n`);
  }
}

main().catch((e) => die(e.stack || String(e)));
