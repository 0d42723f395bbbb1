#!/usr/bin/env node
// vmalab kernel oracle recorder.
//
// Compiles oracle.c, generates seeded random op sequences, runs them on the
// running kernel through the oracle and writes fixtures/<mode>-<seed>.json.gz
// (see FORMAT.md and README.md).  Self-contained: Node >= 20, no npm packages.
//
//   node tools/kernel-oracle/record.mjs [--out DIR] [--only MODE] [--aslr]

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import zlib from 'node:zlib';

const GENERATOR = 'vmalab-kernel-oracle/1';
const HERE = decodeURIComponent(new URL('.', import.meta.url).pathname); // ends with '/'
const WORK = '/tmp/vmalab-oracle';
const FILE_SIZE = 64 * 1024 * 1024;
const FILES = ['f0', 'f1', 'f2'].map((n) => `${WORK}/${n}`);
const STEPS = 200;

// Seeds per mode (fixture name: <mode>-<seed>.json.gz).
const SEEDS = {
  nowrite: range1(24),
  write: range1(24),
  placement: range1(8),
  limit: range1(4),
};
const ORACLE_MODE = { nowrite: 'arena', write: 'arena', placement: 'placement', limit: 'limit' };

const USAGE = `usage: node tools/kernel-oracle/record.mjs [--out DIR] [--only MODE] [--aslr]

Records kernel ground truth for the vmalab VMA simulator.

  --out DIR    write fixtures to DIR (default: tools/kernel-oracle/fixtures)
  --only MODE  record only MODE: ${Object.keys(SEEDS).join(', ')}
  --aslr       keep address-space randomisation in the oracle (default: off,
               so that re-recording on the same kernel gives identical files)
  --help       show this help

Needs Linux, gcc, and write access to ${WORK}/ (the oracle binary and
the files f0..f2 it maps live there).  Sequences per mode: ${Object.entries(SEEDS)
  .map(([m, s]) => `${m} ${s.length}`)
  .join(', ')}; ${STEPS} calls each.`;

function range1(n) {
  return Array.from({ length: n }, (_, i) => i + 1);
}

// ------------------------------------------------------------------ CLI

function parseArgs(argv) {
  const opts = { out: `${HERE}fixtures`, only: null, aslr: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--out' && i + 1 < argv.length) {
      opts.out = argv[++i];
    } else if (a === '--only' && i + 1 < argv.length) {
      opts.only = argv[++i];
      if (!(opts.only in SEEDS))
        die(`unknown mode '${opts.only}' (modes: ${Object.keys(SEEDS).join(', ')})`);
    } else if (a === '--aslr') {
      opts.aslr = true;
    } else {
      die(`unknown argument '${a}'\n\n${USAGE}`);
    }
  }
  return opts;
}

function die(msg) {
  console.error(`record.mjs: ${msg}`);
  process.exit(1);
}

// ------------------------------------------------------------------ PRNG

// xoshiro128** seeded through splitmix32; all draws go through this object.
function makeRng(seed) {
  let s = seed >>> 0;
  const sm = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = sm(),
    b = sm(),
    c = sm(),
    d = sm();
  const rotl = (x, k) => ((x << k) | (x >>> (32 - k))) >>> 0;
  const next = () => {
    const r = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c = (c ^ a) >>> 0;
    d = (d ^ b) >>> 0;
    b = (b ^ c) >>> 0;
    a = (a ^ d) >>> 0;
    c = (c ^ t) >>> 0;
    d = rotl(d, 11);
    return r;
  };
  const rng = {
    float: () => next() / 4294967296,
    int: (n) => Math.floor(rng.float() * n), // [0, n)
    range: (lo, hi) => lo + rng.int(hi - lo + 1), // [lo, hi]
    chance: (p) => rng.float() < p,
    pick: (arr) => arr[rng.int(arr.length)],
    weighted: (pairs) => {
      let tot = 0;
      for (const [w] of pairs) tot += w;
      let x = rng.float() * tot;
      for (const [w, v] of pairs) {
        if (x < w) return v;
        x -= w;
      }
      return pairs[pairs.length - 1][1];
    },
  };
  return rng;
}

function seedFor(mode, seed) {
  let h = 2166136261;
  for (const ch of mode) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return (h ^ Math.imul(seed, 0x9e3779b1)) >>> 0;
}

// ------------------------------------------------------------------ helpers

const hex = (n) => `0x${n.toString(16)}`;
const P = 4096;
const MiB = 1024 * 1024;

// Parse a maps line: addresses are < 2^47 so Numbers are exact.
function parseLine([line, flags]) {
  const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$/.exec(line);
  if (!m) throw new Error(`unparsable maps line: ${line}`);
  return {
    start: parseInt(m[1], 16),
    end: parseInt(m[2], 16),
    perms: m[3],
    offset: parseInt(m[4], 16),
    inode: Number(m[6]),
    path: m[7],
    flags: flags.split(' ').filter(Boolean),
  };
}

const PROTS = {
  NONE: ['PROT_NONE'],
  R: ['PROT_READ'],
  W: ['PROT_WRITE'],
  X: ['PROT_EXEC'],
  RW: ['PROT_READ', 'PROT_WRITE'],
  RX: ['PROT_READ', 'PROT_EXEC'],
  WX: ['PROT_WRITE', 'PROT_EXEC'],
  RWX: ['PROT_READ', 'PROT_WRITE', 'PROT_EXEC'],
};
function protOf(perms) {
  const p = [];
  if (perms[0] === 'r') p.push('PROT_READ');
  if (perms[1] === 'w') p.push('PROT_WRITE');
  if (perms[2] === 'x') p.push('PROT_EXEC');
  return p.length ? p : ['PROT_NONE'];
}

const ADVICES = [
  'MADV_NORMAL',
  'MADV_RANDOM',
  'MADV_SEQUENTIAL',
  'MADV_WILLNEED',
  'MADV_DONTNEED',
  'MADV_FREE',
  'MADV_REMOVE',
  'MADV_DONTFORK',
  'MADV_DOFORK',
  'MADV_MERGEABLE',
  'MADV_UNMERGEABLE',
  'MADV_HUGEPAGE',
  'MADV_NOHUGEPAGE',
  'MADV_DONTDUMP',
  'MADV_DODUMP',
  'MADV_WIPEONFORK',
  'MADV_KEEPONFORK',
  'MADV_COLD',
  'MADV_PAGEOUT',
];
const FLAG_ADVICES = [
  'MADV_DONTFORK',
  'MADV_DONTDUMP',
  'MADV_HUGEPAGE',
  'MADV_NOHUGEPAGE',
  'MADV_RANDOM',
  'MADV_SEQUENTIAL',
  'MADV_WIPEONFORK',
  'MADV_MERGEABLE',
];
const RESET_ADVICES = [
  'MADV_DOFORK',
  'MADV_DODUMP',
  'MADV_NORMAL',
  'MADV_KEEPONFORK',
  'MADV_UNMERGEABLE',
];

// Op builders: each returns { fix: <FORMAT.md op object>, line: <oracle protocol line> }.
function makeOps(consts) {
  const bits = (names) =>
    names.reduce((v, n) => {
      if (!(n in consts)) throw new Error(`unknown constant ${n}`);
      return v | consts[n];
    }, 0);
  return {
    mmap(addr, len, prot, flags, file, offset) {
      return {
        fix: {
          call: 'mmap',
          addr: hex(addr),
          len: hex(len),
          prot,
          flags,
          file,
          offset: hex(offset),
        },
        line: `mmap ${hex(addr)} ${hex(len)} ${hex(bits(prot))} ${hex(bits(flags))} ${file === null ? -1 : file} ${hex(offset)}`,
      };
    },
    munmap(addr, len) {
      return {
        fix: { call: 'munmap', addr: hex(addr), len: hex(len) },
        line: `munmap ${hex(addr)} ${hex(len)}`,
      };
    },
    mprotect(addr, len, prot) {
      return {
        fix: { call: 'mprotect', addr: hex(addr), len: hex(len), prot },
        line: `mprotect ${hex(addr)} ${hex(len)} ${hex(bits(prot))}`,
      };
    },
    mremap(addr, oldLen, newLen, flags, newAddr) {
      return {
        fix: {
          call: 'mremap',
          addr: hex(addr),
          oldLen: hex(oldLen),
          newLen: hex(newLen),
          flags,
          newAddr: newAddr === null ? null : hex(newAddr),
        },
        line: `mremap ${hex(addr)} ${hex(oldLen)} ${hex(newLen)} ${hex(bits(flags))} ${hex(newAddr ?? 0)}`,
      };
    },
    madvise(addr, len, advice) {
      const v = /^\d+$/.test(advice) ? Number(advice) : bits([advice]);
      return {
        fix: { call: 'madvise', addr: hex(addr), len: hex(len), advice },
        line: `madvise ${hex(addr)} ${hex(len)} ${hex(v)}`,
      };
    },
    mlock(addr, len) {
      return {
        fix: { call: 'mlock', addr: hex(addr), len: hex(len) },
        line: `mlock ${hex(addr)} ${hex(len)}`,
      };
    },
    munlock(addr, len) {
      return {
        fix: { call: 'munlock', addr: hex(addr), len: hex(len) },
        line: `munlock ${hex(addr)} ${hex(len)}`,
      };
    },
    mlock2(addr, len, flags) {
      return {
        fix: { call: 'mlock2', addr: hex(addr), len: hex(len), flags },
        line: `mlock2 ${hex(addr)} ${hex(len)} ${hex(bits(flags))}`,
      };
    },
    write(addr) {
      return { fix: { call: 'write', addr: hex(addr) }, line: `write ${hex(addr)}` };
    },
  };
}

// ------------------------------------------------------------------ arena generator (nowrite, write)

const WINDOW = 256; // pages at the arena start where most ops land
const FILE_PAGES = FILE_SIZE / P;

class ArenaGen {
  constructor(rng, hello, writes) {
    this.rng = rng;
    this.ops = makeOps(hello.consts);
    this.base = parseInt(hello.arena.start, 16);
    this.npages = (parseInt(hello.arena.end, 16) - this.base) / P;
    this.writes = writes;
    this.filePaths = hello.files.map((f) => f.path);
    this.vmas = [];
  }

  observe(maps) {
    this.vmas = maps.map(parseLine).map((v) => ({
      ...v,
      s: Math.max(0, (v.start - this.base) / P),
      e: Math.min(this.npages, (v.end - this.base) / P),
    }));
  }

  A(page) {
    return this.base + page * P;
  }

  pickPage() {
    const { rng, vmas } = this;
    const r = rng.float();
    if (r < 0.3 && vmas.length) {
      const v = rng.pick(vmas);
      let p = rng.chance(0.5) ? v.s : v.e;
      if (rng.chance(0.2)) p += rng.chance(0.5) ? 1 : -1;
      return Math.min(this.npages - 1, Math.max(0, p));
    }
    if (r < 0.9) return rng.int(WINDOW);
    return rng.int(this.npages);
  }

  pickLen() {
    const { rng } = this;
    return rng.weighted([
      [82, () => rng.range(1, 32)],
      [14, () => rng.range(33, 256)],
      [4, () => rng.range(257, 2048)],
    ])();
  }

  // A page range [s, s+l), l >= 1, inside the arena.
  // mapped: the op changes existing VMAs, so prefer ranges that are mapped.
  pickRange(mapped = false) {
    const { rng } = this;
    let s, l;
    if (mapped && this.vmas.length && rng.chance(0.55)) {
      const v = this.pickVma();
      const i = this.vmas.indexOf(v);
      s = rng.chance(0.5) ? v.s : rng.range(v.s, v.e - 1);
      let e = rng.weighted([
        [50, () => v.e],
        [30, () => rng.range(s + 1, v.e)],
        [20, () => (i + 1 < this.vmas.length ? this.vmas[i + 1].e : v.e)],
      ])();
      if (e - s > 512) e = s + rng.range(1, 64);
      l = e - s;
    } else if (this.vmas.length && rng.chance(0.3)) {
      // exact VMA boundaries: one VMA or a run of 2-4 neighbours (holes included)
      const v = this.pickVma();
      const i = this.vmas.indexOf(v);
      const k = rng.chance(0.7) ? 1 : rng.range(2, 4);
      s = v.s;
      let e = this.vmas[Math.min(i + k - 1, this.vmas.length - 1)].e;
      if (e - s > 512) {
        // too big: a piece at either end
        const n = rng.range(1, 32);
        if (rng.chance(0.5)) e = s + n;
        else s = e - n;
      } else if (rng.chance(0.3) && e - s >= 2) {
        const s2 = rng.range(s, e - 1);
        e = rng.range(s2 + 1, e);
        s = s2;
      }
      l = e - s;
    } else {
      s = this.pickPage();
      l = this.pickLen();
    }
    l = Math.max(1, Math.min(l, this.npages - s));
    return { s, l };
  }

  holes(limit = this.npages) {
    const out = [];
    let prev = 0;
    for (const v of this.vmas) {
      if (v.s > prev) out.push({ s: prev, e: Math.min(v.s, limit) });
      prev = Math.max(prev, v.e);
      if (prev >= limit) break;
    }
    if (prev < limit) out.push({ s: prev, e: limit });
    return out.filter((h) => h.e > h.s);
  }

  // A free range (page granular) in the window, or null.
  pickHole(maxLen = 32) {
    const { rng } = this;
    const hs = this.holes(rng.chance(0.8) ? WINDOW : this.npages);
    if (!hs.length) return null;
    const h = rng.pick(hs);
    const size = h.e - h.s;
    if (rng.chance(0.4)) return { s: h.s, l: Math.min(size, maxLen) }; // exact or left-aligned
    if (rng.chance(0.3)) {
      const l = Math.min(size, rng.range(1, maxLen));
      return { s: h.e - l, l }; // right-aligned
    }
    const s = rng.range(h.s, h.e - 1);
    return { s, l: Math.min(h.e - s, rng.range(1, maxLen)) };
  }

  prot() {
    const { rng } = this;
    return rng.weighted([
      [40, PROTS.RW],
      [18, PROTS.R],
      [10, PROTS.NONE],
      [10, PROTS.RX],
      [6, PROTS.RWX],
      [6, PROTS.W],
      [5, PROTS.X],
      [5, PROTS.WX],
    ]);
  }

  next() {
    const { rng } = this;
    const kind = this.writes
      ? rng.weighted([
          [20, 'write'],
          [26, 'mmap'],
          [11, 'munmap'],
          [12, 'mprotect'],
          [10, 'mremap'],
          [13, 'madvise'],
          [8, 'mlock'],
        ])
      : rng.weighted([
          [32, 'mmap'],
          [14, 'munmap'],
          [15, 'mprotect'],
          [13, 'mremap'],
          [16, 'madvise'],
          [10, 'mlock'],
        ]);
    return this[kind]();
  }

  mmap() {
    if (this.vmas.length && this.rng.chance(0.4)) {
      const op = this.mmapLike();
      if (op) return op;
    }
    return this.mmapRandom();
  }

  // A mapping next to an existing VMA (or filling the hole after it) with the
  // attributes that VMA shows, so that the kernel can merge the two.
  mmapLike() {
    const { rng, vmas } = this;
    const v = this.pickVma();
    const i = vmas.indexOf(v);
    const shmem = v.path.startsWith('/dev/zero');
    const fi = this.filePaths.indexOf(v.path);
    if (v.path !== '' && !shmem && fi < 0) return null;
    const where = rng.weighted([
      [50, 'after'],
      [25, 'before'],
      [25, 'hole'],
    ]);
    let s, l;
    if (where === 'hole' && i + 1 < vmas.length && vmas[i + 1].s > v.e) {
      s = v.e;
      l = vmas[i + 1].s - v.e;
      if (l > 64) l = rng.range(1, 32);
    } else if (where === 'before' && v.s > 0) {
      l = Math.min(rng.range(1, 32), v.s);
      s = v.s - l;
    } else {
      s = v.e;
      l = Math.min(rng.range(1, 32), this.npages - s);
    }
    if (l < 1) return null;
    const flags = [v.perms[3] === 's' ? 'MAP_SHARED' : 'MAP_PRIVATE'];
    if (v.path === '' || shmem) flags.push('MAP_ANONYMOUS');
    flags.push(rng.chance(0.6) ? 'MAP_FIXED' : 'MAP_FIXED_NOREPLACE');
    if (v.flags.includes('nr')) flags.push('MAP_NORESERVE');
    if (v.flags.includes('nh') && rng.chance(0.5)) flags.push('MAP_STACK');
    if (v.flags.includes('gd')) flags.push('MAP_GROWSDOWN');
    if (v.flags.includes('lo') && rng.chance(0.5)) flags.push('MAP_LOCKED');
    let file = null;
    let off = 0;
    if (fi >= 0) {
      file = fi;
      off = Math.max(0, v.offset / P + (s - v.s)) * P; // offset-contiguous with v
    }
    return this.ops.mmap(this.A(s), l * P, protOf(v.perms), flags, file, off);
  }

  mmapRandom() {
    const { rng } = this;
    const noreplace = rng.chance(0.3);
    const r = (noreplace && rng.chance(0.5) && this.pickHole()) || this.pickRange();
    const { s, l } = r;
    const backing = rng.weighted([
      [45, 'anonPriv'],
      [15, 'anonShared'],
      [20, 'filePriv'],
      [20, 'fileShared'],
    ]);
    const flags = [backing.endsWith('Priv') ? 'MAP_PRIVATE' : 'MAP_SHARED'];
    if (backing.startsWith('anon')) flags.push('MAP_ANONYMOUS');
    flags.push(noreplace ? 'MAP_FIXED_NOREPLACE' : 'MAP_FIXED');
    if (rng.chance(0.1)) flags.push('MAP_NORESERVE');
    if (rng.chance(0.05)) flags.push('MAP_STACK');
    if (rng.chance(0.04)) flags.push('MAP_GROWSDOWN');
    if (rng.chance(0.06)) flags.push('MAP_POPULATE');
    if (rng.chance(0.04)) flags.push('MAP_LOCKED');
    let file = null;
    let off = 0;
    if (backing.startsWith('file')) {
      file = rng.weighted([
        [70, 0],
        [20, 1],
        [10, 2],
      ]);
      off =
        rng.weighted([
          [50, () => s], // offset = arena-relative address: neighbours become offset-contiguous
          [25, () => rng.int(Math.max(1, FILE_PAGES - l))],
          [10, () => 0],
          [10, () => Math.max(0, FILE_PAGES - rng.range(1, l))], // runs past EOF (SIGBUS on access)
          [5, () => s + rng.range(1, 4)], // almost contiguous
        ])() * P;
    }
    let addr = this.A(s);
    let len = l * P;
    const edge = rng.float();
    if (edge < 0.02 && s + l < this.npages)
      addr += rng.range(1, P - 1); // EINVAL
    else if (edge < 0.04)
      len = 0; // EINVAL
    else if (edge < 0.07)
      len -= rng.range(1, P - 1); // rounded up by the kernel
    else if (edge < 0.08 && file !== null) off += rng.range(1, P - 1); // EINVAL
    return this.ops.mmap(addr, len, this.prot(), flags, file, off);
  }

  munmap() {
    const { rng } = this;
    const { s, l } = this.pickRange();
    let addr = this.A(s);
    let len = l * P;
    const edge = rng.float();
    if (edge < 0.04 && s + l < this.npages) addr += rng.range(1, P - 1);
    else if (edge < 0.07) len = 0;
    else if (edge < 0.11) len -= rng.range(1, P - 1);
    return this.ops.munmap(addr, len);
  }

  mprotect() {
    const { rng } = this;
    const { s, l } = this.pickRange(true);
    let addr = this.A(s);
    let len = l * P;
    let prot = this.prot();
    if (rng.chance(0.35)) {
      // the protection of a neighbour of the range, so that the result can merge
      const nb = this.vmas.filter((v) => v.e === s || v.s === s + l);
      if (nb.length) prot = protOf(rng.pick(nb).perms);
    }
    const edge = rng.float();
    if (edge < 0.03 && s + l < this.npages) addr += rng.range(1, P - 1);
    else if (edge < 0.05) len = 0;
    return this.ops.mprotect(addr, len, prot);
  }

  madvise() {
    const { rng } = this;
    const advice = rng.weighted([
      [97, () => rng.pick(ADVICES)],
      [3, () => '9999'],
    ])();
    const { s, l } = this.pickRange(true);
    let addr = this.A(s);
    let len = l * P;
    const edge = rng.float();
    if (edge < 0.02 && s + l < this.npages) addr += rng.range(1, P - 1);
    else if (edge < 0.04) len = 0;
    return this.ops.madvise(addr, len, advice);
  }

  mlock() {
    const { rng } = this;
    const { s, l } = this.pickRange(true);
    const addr = this.A(s);
    const len = l * P;
    return rng.weighted([
      [30, () => this.ops.mlock(addr, len)],
      [25, () => this.ops.mlock2(addr, len, ['MLOCK_ONFAULT'])],
      [10, () => this.ops.mlock2(addr, len, [])],
      [35, () => this.ops.munlock(addr, len)],
    ])();
  }

  write() {
    const { rng, vmas } = this;
    let page;
    const below = vmas.filter((v) => v.flags.includes('gd') && v.s > 0);
    if (below.length && rng.chance(0.25)) {
      const v = rng.pick(below);
      page = Math.max(0, v.s - rng.range(1, 4)); // just below a grows-down VMA
    } else if (vmas.length && rng.chance(0.8)) {
      // a mapped page, usually of a writable VMA
      const writable = vmas.filter((x) => x.perms[1] === 'w');
      const v = writable.length && rng.chance(0.6) ? rng.pick(writable) : rng.pick(vmas);
      page = v.s + rng.int(v.e - v.s);
    } else {
      page = this.pickPage();
    }
    return this.ops.write(this.A(page) + rng.int(P));
  }

  // A VMA, preferring the window.
  pickVma() {
    const { rng, vmas } = this;
    const inWin = vmas.filter((v) => v.s < WINDOW);
    return inWin.length && rng.chance(0.8) ? rng.pick(inWin) : rng.pick(vmas);
  }

  // Destination page for a move of l pages, avoiding [s, s+ol) when possible.
  pickDest(s, ol, l) {
    const { rng } = this;
    const max = this.npages - l;
    for (let t = 0; t < 8; t++) {
      let d;
      if (rng.chance(0.5)) {
        const h = this.pickHole(Math.max(l, 1));
        d = h ? h.s : this.pickPage();
      } else {
        d = this.pickPage();
      }
      d = Math.min(Math.max(0, d), max);
      if (d + l <= s || d >= s + ol || rng.chance(0.05)) return d;
    }
    return s + ol + l <= this.npages ? s + ol : Math.max(0, s - l);
  }

  mremap() {
    const { rng, vmas } = this;
    const MF = ['MREMAP_MAYMOVE', 'MREMAP_FIXED'];
    if (!vmas.length) {
      const { s, l } = this.pickRange();
      const d = this.pickDest(s, l, l);
      return this.ops.mremap(this.A(s), l * P, l * P, MF, this.A(d));
    }
    const kind = rng.weighted([
      [22, 'shrink'],
      [22, 'grow'],
      [24, 'move'],
      [14, 'dontunmap'],
      [12, 'multi'],
      [3, 'zero'],
      [3, 'unaligned'],
    ]);
    const v = this.pickVma();
    const vl = v.e - v.s;
    // a sub-range of v: [s, s+ol)
    let s = v.s;
    if (rng.chance(0.25) && vl > 1) s = v.s + rng.int(vl);
    let ol = v.e - s;
    if (rng.chance(0.25) && ol > 1) ol = rng.range(1, ol);
    switch (kind) {
      case 'shrink': {
        const nl = ol > 1 ? rng.range(1, ol - 1) : 1;
        return this.ops.mremap(
          this.A(s),
          ol * P,
          nl * P,
          rng.chance(0.3) ? ['MREMAP_MAYMOVE'] : [],
          null,
        );
      }
      case 'grow': {
        const nl = Math.min(ol + rng.range(1, 32), this.npages - s);
        return this.ops.mremap(this.A(s), ol * P, nl * P, [], null);
      }
      case 'move': {
        const nl = rng.weighted([
          [60, ol],
          [20, Math.max(1, ol - rng.range(1, ol))],
          [20, ol + rng.range(1, 16)],
        ]);
        const d = this.pickDest(s, ol, nl);
        return this.ops.mremap(this.A(s), ol * P, nl * P, MF, this.A(d));
      }
      case 'dontunmap': {
        const nl = rng.chance(0.9) ? ol : ol + rng.range(1, 4);
        const d = this.pickDest(s, ol, nl);
        return this.ops.mremap(this.A(s), ol * P, nl * P, [...MF, 'MREMAP_DONTUNMAP'], this.A(d));
      }
      case 'multi': {
        const i = vmas.indexOf(v);
        const j = Math.min(vmas.length - 1, i + rng.range(1, 3));
        const ms = vmas[i].s;
        const ml = vmas[j].e - ms;
        const d = this.pickDest(ms, ml, ml);
        return this.ops.mremap(this.A(ms), ml * P, ml * P, MF, this.A(d));
      }
      case 'zero': {
        const shared = vmas.filter((x) => x.perms[3] === 's');
        const z = shared.length ? rng.pick(shared) : v;
        const nl = Math.min(rng.range(1, 8), this.npages - z.s);
        const d = this.pickDest(z.s, z.e - z.s, nl);
        return this.ops.mremap(this.A(z.s), 0, nl * P, MF, this.A(d));
      }
      default: {
        // unaligned old address -> EINVAL
        const d = this.pickDest(s, ol, ol);
        const a = s + ol < this.npages ? this.A(s) + rng.range(1, P - 1) : this.A(s);
        return this.ops.mremap(a, ol * P, ol * P, MF, this.A(d));
      }
    }
  }
}

// ------------------------------------------------------------------ limit generator

const REGION = 512; // pages used by the limit mode

class LimitGen extends ArenaGen {
  constructor(rng, hello) {
    super(rng, hello, false);
    this.maxMap = hello.maxMapCount;
    this.outside = hello.outsideCount;
    this.step = 0;
  }

  next() {
    const { rng } = this;
    this.step++;
    const region = this.vmas.filter((v) => v.s < REGION);
    if (this.step === 1 || region.length === 0) {
      return this.ops.mmap(
        this.A(0),
        REGION * P,
        PROTS.RW,
        ['MAP_PRIVATE', 'MAP_ANONYMOUS', 'MAP_FIXED'],
        null,
        0,
      );
    }
    const room = this.maxMap - this.outside - this.vmas.length; // free VMA slots
    const split = rng.chance(room > 3 ? 0.85 : 0.55);
    const kind = split
      ? rng.weighted([
          [30, 'protPage'],
          [14, 'holePage'],
          [14, 'newPage'],
          [10, 'advPage'],
          [8, 'lockPage'],
          [10, 'movePage'],
          [7, 'trimEdge'],
          [7, 'hintNoMerge'],
        ])
      : rng.weighted([
          [28, 'protRange'],
          [18, 'unmapVma'],
          [15, 'mapOver'],
          [10, 'resetAdv'],
          [10, 'unlockRange'],
          [19, 'fillHole'],
        ]);
    return this[kind](region);
  }

  interiorPage(region) {
    const { rng } = this;
    const big = region.filter((v) => v.e - v.s >= 3);
    const v = big.length ? rng.pick(big) : rng.pick(region);
    return v.e - v.s >= 3 ? rng.range(v.s + 1, v.e - 2) : v.s;
  }

  otherProt(page) {
    const v = this.vmas.find((x) => x.s <= page && page < x.e);
    const cur = v ? v.perms.slice(0, 3) : '';
    const options = [
      ['r--', PROTS.R],
      ['rw-', PROTS.RW],
      ['---', PROTS.NONE],
      ['r-x', PROTS.RX],
    ].filter(([p]) => p !== cur);
    return this.rng.pick(options)[1];
  }

  protPage(region) {
    const p = this.interiorPage(region);
    return this.ops.mprotect(this.A(p), P, this.otherProt(p));
  }

  holePage(region) {
    return this.ops.munmap(this.A(this.interiorPage(region)), P);
  }

  newPage(region) {
    const { rng } = this;
    const holes = this.holes(REGION);
    if (holes.length && rng.chance(0.6)) {
      const h = rng.pick(holes);
      const p = rng.range(h.s, h.e - 1);
      return this.ops.mmap(
        this.A(p),
        P,
        rng.pick([PROTS.R, PROTS.NONE, PROTS.RX]),
        ['MAP_PRIVATE', 'MAP_ANONYMOUS', 'MAP_FIXED_NOREPLACE'],
        null,
        0,
      );
    }
    const p = this.interiorPage(region);
    return this.ops.mmap(
      this.A(p),
      P,
      PROTS.RW,
      ['MAP_SHARED', 'MAP_FIXED'],
      1,
      rng.int(FILE_PAGES) * P,
    );
  }

  advPage(region) {
    return this.ops.madvise(this.A(this.interiorPage(region)), P, this.rng.pick(FLAG_ADVICES));
  }

  lockPage(region) {
    const p = this.interiorPage(region);
    return this.rng.chance(0.5)
      ? this.ops.mlock(this.A(p), P)
      : this.ops.mlock2(this.A(p), P, ['MLOCK_ONFAULT']);
  }

  movePage(region) {
    const { rng } = this;
    const from = this.interiorPage(region);
    let to = this.interiorPage(region);
    if (to === from) to = Math.min(REGION - 1, from + 2);
    const flags = ['MREMAP_MAYMOVE', 'MREMAP_FIXED'];
    if (rng.chance(0.3)) flags.push('MREMAP_DONTUNMAP');
    return this.ops.mremap(this.A(from), P, P, flags, this.A(to));
  }

  trimEdge(region) {
    const { rng } = this;
    const v = rng.pick(region);
    const p = rng.chance(0.5) ? v.s : v.e - 1;
    return rng.chance(0.7)
      ? this.ops.munmap(this.A(p), P)
      : this.ops.mprotect(this.A(p), P, this.otherProt(p));
  }

  hintNoMerge() {
    // a separate new mapping (file-backed, far from its neighbours' offsets)
    const { rng } = this;
    const holes = this.holes(REGION);
    if (!holes.length) return this.protPage(this.vmas.filter((v) => v.s < REGION));
    const h = rng.pick(holes);
    const l = Math.min(h.e - h.s, rng.range(1, 2));
    return this.ops.mmap(
      this.A(h.s),
      l * P,
      PROTS.R,
      ['MAP_PRIVATE', 'MAP_FIXED_NOREPLACE'],
      2,
      rng.int(FILE_PAGES - 2) * P,
    );
  }

  range(region) {
    const { rng } = this;
    const v = rng.pick(region);
    const s = v.s;
    const l = Math.min(REGION - s, rng.range(2, 40));
    return { s, l };
  }

  protRange(region) {
    const { s, l } = this.range(region);
    return this.ops.mprotect(this.A(s), l * P, PROTS.RW);
  }

  unmapVma(region) {
    const { rng } = this;
    const small = region.filter((v) => v.e - v.s <= 4);
    const v = small.length ? rng.pick(small) : rng.pick(region);
    return this.ops.munmap(this.A(v.s), (v.e - v.s) * P);
  }

  mapOver(region) {
    const { s, l } = this.range(region);
    return this.ops.mmap(
      this.A(s),
      l * P,
      PROTS.RW,
      ['MAP_PRIVATE', 'MAP_ANONYMOUS', 'MAP_FIXED'],
      null,
      0,
    );
  }

  resetAdv(region) {
    const { s, l } = this.range(region);
    return this.ops.madvise(this.A(s), l * P, this.rng.pick(RESET_ADVICES));
  }

  unlockRange(region) {
    const { s, l } = this.range(region);
    return this.ops.munlock(this.A(s), l * P);
  }

  fillHole(region) {
    const holes = this.holes(REGION);
    if (!holes.length) return this.protRange(region);
    const h = this.rng.pick(holes);
    return this.ops.mmap(
      this.A(h.s),
      (h.e - h.s) * P,
      PROTS.RW,
      ['MAP_PRIVATE', 'MAP_ANONYMOUS', 'MAP_FIXED_NOREPLACE'],
      null,
      0,
    );
  }
}

// ------------------------------------------------------------------ placement generator

const OWNED_LIMIT = 1536 * MiB;

class PlacementGen {
  constructor(rng, hello) {
    this.rng = rng;
    this.ops = makeOps(hello.consts);
    this.owned = []; // [start, end) byte ranges we created and still own, sorted
    this.maps = [];
    this.pending = null;
  }

  observe(maps) {
    this.maps = maps.map(parseLine);
  }

  // Update the owned ranges from the result of the op just run.
  result(res) {
    const p = this.pending;
    this.pending = null;
    if (!p || res.ret === -1) return;
    const ret = typeof res.ret === 'string' ? parseInt(res.ret, 16) : res.ret;
    if (p.kind === 'mmap') this.add(ret, ret + p.len);
    else if (p.kind === 'munmap') this.sub(p.addr, p.addr + p.len);
    else if (p.kind === 'mremap') {
      this.sub(p.addr, p.addr + p.oldLen);
      this.add(ret, ret + p.newLen);
    }
  }

  add(s, e) {
    this.owned.push([s, e]);
    this.owned.sort((a, b) => a[0] - b[0]);
    const out = [];
    for (const r of this.owned) {
      if (out.length && r[0] <= out[out.length - 1][1])
        out[out.length - 1][1] = Math.max(out[out.length - 1][1], r[1]);
      else out.push([...r]);
    }
    this.owned = out;
  }

  sub(s, e) {
    const out = [];
    for (const [a, b] of this.owned) {
      if (b <= s || a >= e) out.push([a, b]);
      else {
        if (a < s) out.push([a, s]);
        if (b > e) out.push([e, b]);
      }
    }
    this.owned = out;
  }

  total() {
    return this.owned.reduce((t, [a, b]) => t + (b - a), 0);
  }

  // VMA pieces of owned memory: owned ranges cut at VMA boundaries.
  ownedPieces() {
    const out = [];
    for (const [a, b] of this.owned) {
      for (const v of this.maps) {
        const s = Math.max(a, v.start);
        const e = Math.min(b, v.end);
        if (s < e) out.push({ s, e, vma: v });
      }
    }
    return out;
  }

  // Gaps between VMAs (not above the stack, not below 4 GiB).
  gaps() {
    const out = [];
    for (let i = 1; i < this.maps.length; i++) {
      const s = this.maps[i - 1].end;
      const e = this.maps[i].start;
      if (e > s && s >= 2 ** 32) out.push({ s, e });
    }
    return out;
  }

  freeHint(len) {
    const { rng } = this;
    const fits = this.gaps().filter((g) => g.e - g.s >= len + 2 * P);
    if (!fits.length) return 0x200000000000;
    const small = fits.filter((g) => g.e - g.s < 2 ** 30);
    const g = small.length && rng.chance(0.7) ? rng.pick(small) : rng.pick(fits);
    const slack = (g.e - g.s - len) / P;
    const span = Math.min(slack, 2 ** 20); // stay near the gap's ends in the huge gap
    const pages = rng.int(span + 1);
    return rng.chance(0.5) ? g.s + pages * P : g.e - len - pages * P;
  }

  anonLen() {
    const { rng } = this;
    const TWO = 2 * MiB;
    return rng.weighted([
      [62, () => rng.range(1, 64) * P],
      [15, () => rng.range(1, 4) * TWO],
      [10, () => rng.range(1, 3) * TWO + rng.pick([P, -P, 2 * P])],
      [8, () => rng.range(65, 1024) * P],
      [5, () => rng.range(1, 8) * MiB],
    ])();
  }

  prot() {
    return this.rng.weighted([
      [75, PROTS.RW],
      [15, PROTS.R],
      [5, PROTS.NONE],
      [5, PROTS.RX],
    ]);
  }

  next() {
    const { rng } = this;
    let kind = rng.weighted([
      [44, 'mmap'],
      [15, 'hint'],
      [20, 'munmap'],
      [12, 'mremap'],
      [4, 'mprotect'],
      [5, 'stack'],
    ]);
    if (this.total() > OWNED_LIMIT) kind = 'munmap';
    if (!this.owned.length && (kind === 'munmap' || kind === 'mremap' || kind === 'mprotect'))
      kind = 'mmap';
    return this[kind]();
  }

  newMapping(_addr) {
    const { rng } = this;
    const backing = rng.weighted([
      [55, 'anonPriv'],
      [15, 'anonShared'],
      [15, 'filePriv'],
      [15, 'fileShared'],
    ]);
    const flags = [backing.endsWith('Priv') ? 'MAP_PRIVATE' : 'MAP_SHARED'];
    let len,
      file = null,
      off = 0;
    if (backing.startsWith('anon')) {
      flags.push('MAP_ANONYMOUS');
      len = this.anonLen();
    } else {
      len = rng.chance(0.8) ? rng.range(1, 64) * P : rng.range(65, 511) * P;
      file = rng.weighted([
        [60, 0],
        [25, 1],
        [15, 2],
      ]);
      off = rng.chance(0.3)
        ? rng.int(FILE_SIZE / (2 * MiB)) * 2 * MiB
        : rng.int(FILE_PAGES - len / P) * P;
    }
    if (rng.chance(0.1)) flags.push('MAP_NORESERVE');
    return { len, flags, file, off };
  }

  emit(op, pending) {
    this.pending = pending;
    return op;
  }

  mmap() {
    const m = this.newMapping();
    return this.emit(this.ops.mmap(0, m.len, this.prot(), m.flags, m.file, m.off), {
      kind: 'mmap',
      len: m.len,
    });
  }

  stack() {
    const { rng } = this;
    const len = rng.chance(0.8) ? rng.range(8, 64) * P : 2 * MiB;
    const flags = ['MAP_PRIVATE', 'MAP_ANONYMOUS'];
    const k = rng.int(3);
    if (k !== 1) flags.push('MAP_STACK');
    if (k !== 0) flags.push('MAP_GROWSDOWN');
    return this.emit(this.ops.mmap(0, len, PROTS.RW, flags, null, 0), { kind: 'mmap', len });
  }

  hint() {
    const { rng } = this;
    const m = this.newMapping();
    const kind = rng.weighted([
      [40, 'free'],
      [25, 'occupied'],
      [20, 'unaligned'],
      [15, 'guard'],
    ]);
    let addr;
    const stacks = this.maps.filter((v) => v.flags.includes('gd') && v.path !== '[stack]');
    if (kind === 'free') addr = this.freeHint(m.len);
    else if (kind === 'unaligned') addr = this.freeHint(m.len + P) + rng.range(1, P - 1);
    else if (kind === 'guard' && stacks.length) {
      const v = rng.pick(stacks);
      addr = Math.max(P, v.start - m.len - rng.int(256) * P); // ends inside the 1 MiB guard gap
    } else {
      const pieces = this.ownedPieces();
      const v =
        pieces.length && rng.chance(0.7)
          ? rng.pick(pieces)
          : { s: rng.pick(this.maps).start, e: 0 };
      addr = rng.chance(0.5) || !v.e ? v.s : v.s + rng.int((v.e - v.s) / P) * P;
    }
    return this.emit(this.ops.mmap(addr, m.len, this.prot(), m.flags, m.file, m.off), {
      kind: 'mmap',
      len: Math.ceil(m.len / P) * P,
    });
  }

  munmap() {
    const { rng } = this;
    const [a, b] = rng.pick(this.owned);
    const pages = (b - a) / P;
    let s = a,
      e = b;
    const k = rng.weighted([
      [55, 'whole'],
      [15, 'head'],
      [15, 'tail'],
      [15, 'middle'],
    ]);
    if (pages > 1 && k !== 'whole') {
      const n = rng.range(1, pages - 1);
      if (k === 'head') e = a + n * P;
      else if (k === 'tail') s = b - n * P;
      else {
        s = a + rng.int(pages - 1) * P;
        e = Math.min(b, s + rng.range(1, Math.max(1, pages - 2)) * P);
      }
    }
    return this.emit(this.ops.munmap(s, e - s), { kind: 'munmap', addr: s, len: e - s });
  }

  mremap() {
    const { rng } = this;
    const pieces = this.ownedPieces();
    if (!pieces.length) return this.mmap();
    // prefer pieces that end where a VMA ends and the next VMA is adjacent: growth must move
    const blocked = pieces.filter(
      (p) => p.e === p.vma.end && this.maps.some((v) => v.start === p.e),
    );
    const p = blocked.length && rng.chance(0.7) ? rng.pick(blocked) : rng.pick(pieces);
    const s = rng.chance(0.8) ? p.s : p.s + rng.int((p.e - p.s) / P) * P;
    const oldLen = p.e - s;
    const kind = rng.weighted([
      [70, 'move'],
      [15, 'inplace'],
      [15, 'shrink'],
    ]);
    let newLen, flags;
    if (kind === 'shrink') {
      newLen = oldLen > P ? rng.range(1, oldLen / P - 1) * P : P;
      flags = rng.chance(0.5) ? ['MREMAP_MAYMOVE'] : [];
    } else {
      newLen = rng.chance(0.2)
        ? Math.ceil((oldLen + P) / (2 * MiB)) * 2 * MiB
        : oldLen + rng.range(1, 64) * P;
      flags = kind === 'move' ? ['MREMAP_MAYMOVE'] : [];
    }
    return this.emit(this.ops.mremap(s, oldLen, newLen, flags, null), {
      kind: 'mremap',
      addr: s,
      oldLen,
      newLen,
    });
  }

  mprotect() {
    const { rng } = this;
    const [a, b] = rng.pick(this.owned);
    const pages = (b - a) / P;
    const s = a + rng.int(pages) * P;
    const l = rng.range(1, Math.min(16, (b - s) / P)) * P;
    return this.emit(this.ops.mprotect(s, l, this.prot()), null);
  }
}

// ------------------------------------------------------------------ oracle process

class Oracle {
  constructor(bin, args) {
    this.proc = spawn(bin, args, { env: {}, stdio: ['pipe', 'pipe', 'pipe'] });
    this.buf = '';
    this.lines = [];
    this.waiters = [];
    this.stderr = '';
    this.dead = null;
    this.proc.stdout.setEncoding('utf8');
    this.proc.stdout.on('data', (d) => {
      this.buf += d;
      for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      this.pump();
    });
    this.proc.stderr.on('data', (d) => {
      this.stderr += d;
    });
    this.proc.on('close', (code, sig) => {
      this.dead = new Error(`oracle exited (code ${code}, signal ${sig}): ${this.stderr.trim()}`);
      this.pump();
    });
    this.proc.stdin.on('error', () => {});
  }

  pump() {
    while (this.waiters.length && (this.lines.length || this.dead)) {
      const w = this.waiters.shift();
      if (this.lines.length) w.resolve(JSON.parse(this.lines.shift()));
      else w.reject(this.dead);
    }
  }

  next() {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.pump();
    });
  }

  send(line) {
    this.proc.stdin.write(`${line}\n`);
    return this.next();
  }

  async close() {
    this.proc.stdin.end('quit\n');
    if (!this.dead) await new Promise((r) => this.proc.once('close', r));
  }
}

// ------------------------------------------------------------------ recording

function resetFiles() {
  fs.mkdirSync(WORK, { recursive: true });
  for (const f of FILES) {
    // keep the inode (maps lines show it), drop all blocks, then size back up
    fs.closeSync(fs.openSync(f, 'a'));
    fs.truncateSync(f, 0);
    fs.truncateSync(f, FILE_SIZE);
  }
}

function compile() {
  const probe = spawnSync('gcc', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0)
    die('gcc not found: install gcc (e.g. apt-get install gcc) to build oracle.c');
  fs.mkdirSync(WORK, { recursive: true });
  const bin = `${WORK}/oracle`;
  const tmp = `${WORK}/oracle.new`;
  const r = spawnSync(
    'gcc',
    ['-O2', '-Wall', '-Wextra', '-Wl,-z,now', '-o', tmp, `${HERE}oracle.c`],
    { encoding: 'utf8' },
  );
  if (r.error || r.status !== 0) die(`gcc failed:\n${r.stderr || r.error}`);
  // copy over the old binary instead of replacing it: the inode (shown in the
  // placement fixtures' maps lines) stays the same between recordings
  fs.copyFileSync(tmp, bin);
  fs.chmodSync(bin, 0o755);
  fs.unlinkSync(tmp);
  return bin;
}

function serialize(fx) {
  // one key per line, one step per line: readable after gunzip, stable bytes
  const parts = [];
  for (const [k, v] of Object.entries(fx)) {
    if (k === 'steps' || k === 'initial') {
      parts.push(`${JSON.stringify(k)}:[\n${v.map((x) => JSON.stringify(x)).join(',\n')}\n]`);
    } else {
      parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
  }
  return `{\n${parts.join(',\n')}\n}\n`;
}

async function record(bin, mode, seed, opts) {
  resetFiles();
  const args = [ORACLE_MODE[mode]];
  if (opts.aslr) args.push('--aslr');
  args.push(...FILES);
  const o = new Oracle(bin, args);
  try {
    const hello = await o.next();
    const rng = makeRng(seedFor(mode, seed));
    const gen =
      mode === 'placement'
        ? new PlacementGen(rng, hello)
        : mode === 'limit'
          ? new LimitGen(rng, hello)
          : new ArenaGen(rng, hello, mode === 'write');
    const init = await o.send('maps');
    gen.observe(init.maps);
    const steps = [];
    for (let i = 0; i < STEPS; i++) {
      const op = gen.next();
      const res = await o.send(op.line);
      if (res.error)
        throw new Error(`${mode}-${seed} step ${i}: oracle refused '${op.line}': ${res.error}`);
      steps.push({ op: op.fix, ret: res.ret, errno: res.errno, maps: res.maps });
      if (gen.result) gen.result(res);
      gen.observe(res.maps);
    }
    const chk = await o.send('check');
    if (!chk.check) throw new Error(`${mode}-${seed}: /proc/self/maps and smaps disagree`);
    if (mode !== 'placement' && chk.outside !== hello.outsideCount)
      throw new Error(
        `${mode}-${seed}: VMAs outside the arena changed (${hello.outsideCount} -> ${chk.outside})`,
      );
    const fx = {
      format: 1,
      kernel: hello.kernel,
      mode,
      seed,
      pageSize: hello.pageSize,
      arena: hello.arena,
      maxMapCount: hello.maxMapCount,
      outsideCount: hello.outsideCount,
      files: hello.files,
      generator: GENERATOR,
      aslr: hello.aslr,
      ...(mode === 'limit' ? { limitMethod: 'filler' } : {}),
      final: { totalCount: chk.total, outsideCount: chk.outside },
      initial: init.maps,
      steps,
    };
    return fx;
  } finally {
    await o.close().catch(() => {});
  }
}

function summary(fx) {
  const calls = {};
  const errs = {};
  let merges = 0;
  let prevCount = fx.initial.length;
  for (const s of fx.steps) {
    calls[s.op.call] = (calls[s.op.call] || 0) + 1;
    const k = s.errno ?? 'ok';
    errs[k] = (errs[k] || 0) + 1;
    if (s.maps.length < prevCount) merges++;
    prevCount = s.maps.length;
  }
  return { calls, errs, merges };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (process.platform !== 'linux')
    die(`the oracle records the running Linux kernel; this is ${process.platform}`);
  const bin = compile();
  fs.mkdirSync(opts.out, { recursive: true });
  const modes = opts.only ? [opts.only] : Object.keys(SEEDS);
  for (const mode of modes) {
    let bytes = 0;
    const tot = { calls: {}, errs: {}, merges: 0 };
    for (const seed of SEEDS[mode]) {
      const fx = await record(bin, mode, seed, opts);
      const gz = zlib.gzipSync(Buffer.from(serialize(fx)), { level: 9 });
      const file = `${opts.out}/${mode}-${seed}.json.gz`;
      fs.writeFileSync(file, gz);
      bytes += gz.length;
      const s = summary(fx);
      for (const [k, v] of Object.entries(s.calls)) tot.calls[k] = (tot.calls[k] || 0) + v;
      for (const [k, v] of Object.entries(s.errs)) tot.errs[k] = (tot.errs[k] || 0) + v;
      tot.merges += s.merges;
      process.stderr.write(`${mode}-${seed}: ${fx.steps.length} steps, ${gz.length} bytes\n`);
    }
    console.log(`${mode}: ${SEEDS[mode].length} fixtures, ${bytes} bytes gzip`);
    console.log(`  calls  ${JSON.stringify(tot.calls)}`);
    console.log(`  results ${JSON.stringify(tot.errs)}`);
    console.log(`  steps where the recorded VMA count dropped: ${tot.merges}`);
  }
}

main().catch((e) => {
  console.error(`record.mjs: ${e.stack || e.message}`);
  process.exit(1);
});
