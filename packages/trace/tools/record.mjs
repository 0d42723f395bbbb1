#!/usr/bin/env node
/**
 * Records the @vmalab/trace fixtures on a Linux machine with strace and gcc:
 * for each program, an strace log plus /proc/PID/maps snapshots (with the
 * smaps VmFlags of every line) taken right after exec and right before
 * exit_group.
 *
 *   node packages/trace/tools/record.mjs [--only NAME] [--out DIR] [--list]
 *
 * How the snapshots are taken. strace cannot delay the initial execve (its
 * `inject=execve:delay_exit` is not applied to the first exec of the traced
 * command), so the exec snapshot is read while the first `brk` call is held
 * at syscall entry (`-e inject=brk:delay_enter=…:when=1`): for a dynamically
 * linked program that is the dynamic loader's first system call, and the
 * layout is still exactly the one the kernel built at exec. The exit
 * snapshot is read while `exit_group` is held at syscall entry
 * (`-e inject=exit_group:delay_enter=…`). A poller watches
 * `/proc/PID/syscall` of the traced program (12 = brk, 231 = exit_group),
 * reads `/proc/PID/smaps` twice 30 ms apart and keeps the snapshot only when
 * both reads agree.
 *
 * Everything runs under `setarch -R` (no ASLR), so the addresses are the same
 * on every run on the same machine. The logs are gzip-compressed; lines are
 * not trimmed.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';

const HERE = dirname(fileURLToPath(import.meta.url));
const WORK = '/tmp/vmalab-trace';
const FILTER = '%memory,execve,clone,clone3,fork,vfork,exit_group';
const DELAY_US = 600_000;

const HELLO_C = '#include <stdio.h>\nint main(void) { puts("hello"); return 0; }\n';
const NODE_WORKERS = [
  "const { Worker } = require('node:worker_threads');",
  'let n = 0;',
  'for (let i = 0; i < 2; i++) {',
  "  const w = new Worker('const a = []; for (let i = 0; i < 100000; i++) a.push({ i });', { eval: true });",
  "  w.on('exit', () => { if (++n === 2) process.exit(0); });",
  '}',
].join('\n');
const PYTHON =
  "import json\nd = [{'k': i, 'v': str(i)} for i in range(100000)]\nprint(len(json.dumps(d)))";

/** name → how to run it and which strace output options to use (the fixtures vary them). */
const PROGRAMS = {
  ls: { argv: ['/usr/bin/ls', '-la', '/etc'], strace: [] },
  python3: { argv: ['/usr/bin/python3.11', '-c', PYTHON], strace: ['-tt', '-T'] },
  'node-workers': { argv: ['/usr/bin/node', '-e', NODE_WORKERS], strace: ['-tt'] },
  gcc: {
    argv: ['/usr/bin/gcc', '-O2', '-c', `${WORK}/hello.c`, '-o', `${WORK}/hello.o`],
    strace: ['-T'],
  },
  threads: { argv: [`${WORK}/threads`, '2000'], strace: [] },
};

function die(msg) {
  process.stderr.write(`record.mjs: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { only: null, out: join(HERE, '..', 'fixtures') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--only') o.only = argv[++i];
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--list') {
      for (const [k, p] of Object.entries(PROGRAMS)) console.log(`${k}: ${p.argv.join(' ')}`);
      process.exit(0);
    } else die(`unknown argument ${a} (use --only NAME, --out DIR, --list)`);
  }
  if (o.only && !PROGRAMS[o.only]) die(`unknown program ${o.only}`);
  return o;
}

function prepare() {
  fs.mkdirSync(WORK, { recursive: true });
  fs.writeFileSync(`${WORK}/hello.c`, HELLO_C);
  const r = spawnSync(
    'gcc',
    ['-O2', '-pthread', '-o', `${WORK}/threads`, join(HERE, 'threads.c')],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) die(`gcc failed: ${r.stderr}`);
  const s = spawnSync('strace', ['-V'], { encoding: 'utf8' });
  if (s.status !== 0) die('strace not found (apt-get install strace)');
  return s.stdout.split('\n')[0];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function readOr(path, fallback) {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch {
    return fallback;
  }
}

/** /proc/PID/smaps → "maps line<TAB>VmFlags" lines (the snapshot format of @vmalab/mm). */
function smapsSnapshot(pid) {
  const text = readOr(`/proc/${pid}/smaps`, null);
  if (text === null) return null;
  const out = [];
  let line = null;
  for (const l of text.split('\n')) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(l)) line = l;
    else if (l.startsWith('VmFlags:') && line !== null) {
      if (!line.endsWith('[vsyscall]')) out.push(`${line}\t${l.slice(8).trim()}`);
      line = null;
    }
  }
  return `${out.join('\n')}\n`;
}

async function stableSnapshot(pid) {
  const a = smapsSnapshot(pid);
  await sleep(30);
  const b = smapsSnapshot(pid);
  return a !== null && a === b ? a : null;
}

async function record(name, prog, outDir, straceVersion, attempt = 1) {
  const log = `${WORK}/${name}.strace`;
  const args = [
    'x86_64',
    '-R',
    'strace',
    '-f',
    '-y',
    ...prog.strace,
    '-o',
    log,
    '-e',
    `trace=${FILTER}`,
    '-e',
    `inject=brk:delay_enter=${DELAY_US}:when=1`,
    '-e',
    `inject=exit_group:delay_enter=${DELAY_US}`,
    ...prog.argv,
  ];
  const child = spawn('setarch', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const done = new Promise((r) => child.on('close', r));
  let exited = false;
  done.then(() => {
    exited = true;
  });
  const target = fs.realpathSync(prog.argv[0]);
  let pid = null;
  let execSnap = null;
  let exitSnap = null;
  while (!exited) {
    if (pid === null) {
      const kids = readOr(`/proc/${child.pid}/task/${child.pid}/children`, '').trim();
      if (kids) pid = Number(kids.split(/\s+/)[0]);
    } else {
      const sc = readOr(`/proc/${pid}/syscall`, '');
      let exe = '';
      try {
        exe = fs.readlinkSync(`/proc/${pid}/exe`);
      } catch {}
      if (exe === target && execSnap === null && sc.startsWith('12 ')) {
        execSnap = await stableSnapshot(pid);
      } else if (exe === target && exitSnap === null && sc.startsWith('231 ')) {
        exitSnap = await stableSnapshot(pid);
      }
    }
    await sleep(2);
  }
  const code = await done;
  if (code !== 0) die(`${name}: strace exited with ${code}`);
  if (!execSnap || !exitSnap) {
    const what = execSnap ? 'exit_group' : 'the first brk';
    if (attempt < 6) {
      process.stderr.write(`${name}: ${what} was not caught, retrying\n`);
      return record(name, prog, outDir, straceVersion, attempt + 1);
    }
    die(`${name}: no stable snapshot at ${what} after 6 attempts`);
  }
  const text = fs.readFileSync(log);
  fs.writeFileSync(join(outDir, `${name}.strace.gz`), zlib.gzipSync(text, { level: 9 }));
  fs.writeFileSync(join(outDir, `${name}.exec.maps`), execSnap);
  fs.writeFileSync(join(outDir, `${name}.exit.maps`), exitSnap);
  const meta = {
    name,
    command: prog.argv,
    strace: ['strace', '-f', '-y', ...prog.strace, '-e', `trace=${FILTER}`],
    pid,
    kernel: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    straceVersion,
    aslr: false,
    lines: text.toString('utf8').split('\n').length - 1,
  };
  fs.writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(meta, null, 2)}\n`);
  process.stderr.write(`${name}: pid ${pid}, ${meta.lines} lines\n`);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (process.platform !== 'linux') die('needs Linux');
  const version = prepare();
  fs.mkdirSync(o.out, { recursive: true });
  for (const [name, prog] of Object.entries(PROGRAMS)) {
    if (o.only && o.only !== name) continue;
    await record(name, prog, o.out, version);
  }
}

main().catch((e) => die(e.stack || String(e)));
