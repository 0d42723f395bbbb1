#!/usr/bin/env node
/**
 * Records an exec image for `AddressSpace.exec` from a real process:
 *
 *   node packages/mm/data/record-image.mjs [name [command…]]
 *
 * Starts the command (default: `/usr/bin/python3 -S -c 'import time; time.sleep(2)'`,
 * dynamically linked against libm, libz, libexpat and libc; `-S` keeps
 * site-packages out so that only the program's own libraries are mapped),
 * waits a second, reads its /proc/PID/maps and smaps VmFlags, and writes
 *
 *   <name>.maps        the snapshot, `maps line<TAB>VmFlags` per VMA
 *   <name>.image.json  the same VMAs as a declarative image spec, grouped by
 *                      object: program, interpreter (ld.so), libraries,
 *                      other files, anonymous memory, heap, stack, vdso.
 *
 * Only the paths that appear in maps are recorded (no other machine state).
 */
import { spawn } from 'node:child_process';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [name = 'python3', ...cmd] = process.argv.slice(2);
const argv = cmd.length > 0 ? cmd : ['/usr/bin/python3', '-S', '-c', 'import time; time.sleep(2)'];

const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit' });
await new Promise((r) => setTimeout(r, 1000));
const pid = child.pid;
const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
const smaps = readFileSync(`/proc/${pid}/smaps`, 'utf8');
const exe = readlinkSync(`/proc/${pid}/exe`);
await new Promise((r) => child.on('exit', r));

// VmFlags per VMA, in smaps order (the same order as maps).
const vmFlags = [...smaps.matchAll(/^VmFlags:\s*(.*?)\s*$/gm)].map((m) => m[1]);
const lines = maps
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => l.trimEnd());
if (vmFlags.length !== lines.length) throw new Error('maps and smaps disagree');

const LINE = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$/;
const objects = [];
const byKey = new Map();
let interpreterEnd;
const snapshot = [];
lines.forEach((line, i) => {
  const m = LINE.exec(line);
  if (!m) throw new Error(`not a maps line: ${line}`);
  const [, start, end, perms, offset, dev, inode, path] = m;
  if (path === '[vsyscall]') return; // not a VMA
  snapshot.push(`${line}\t${vmFlags[i]}`);
  let role;
  if (path === '') role = 'anonymous';
  else if (path === '[heap]') role = 'heap';
  else if (path === '[stack]') role = 'stack';
  else if (path.startsWith('[')) role = 'vdso';
  else if (path === exe) role = 'program';
  else if (/\/ld-[^/]*\.so/.test(path)) role = 'interpreter';
  else if (/\.so(\.|$)/.test(path)) role = 'library';
  else role = 'file';
  const key = role === 'anonymous' || role === 'vdso' ? role : `${dev} ${inode} ${path}`;
  let o = byKey.get(key);
  if (!o) {
    o =
      role === 'anonymous'
        ? { role, vmas: [] }
        : role === 'vdso' || role === 'heap' || role === 'stack'
          ? { role, vmas: [] }
          : { role, path, dev, inode: Number(inode), vmas: [] };
    byKey.set(key, o);
    objects.push(o);
  }
  const vma = [`${start}-${end}`, perms, offset, vmFlags[i]];
  // Special mappings carry their name per VMA ([vvar], [vvar_vclock], [vdso]).
  if (role === 'vdso') vma.push(path);
  o.vmas.push(vma);
  if (role === 'interpreter') interpreterEnd = end;
});

const spec = {
  name,
  command: argv.map((a) => (/[^\w./=-]/.test(a) ? `'${a}'` : a)).join(' '),
  kernel: `Linux ${release()} x86_64`,
  recordedWith: 'packages/mm/data/record-image.mjs',
  ...(interpreterEnd ? { mmapBase: interpreterEnd } : {}),
  objects,
};
writeFileSync(join(here, `${name}.maps`), `${snapshot.join('\n')}\n`);
writeFileSync(join(here, `${name}.image.json`), `${JSON.stringify(spec, null, 2)}\n`);
process.stdout.write(`${name}: ${snapshot.length} VMAs, ${objects.length} objects\n`);
