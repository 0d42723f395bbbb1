/**
 * A real exec image: python3 -S, recorded on Linux 6.18
 * by data/record-image.mjs — data/python3.image.json as a module, so that
 * packages can import it (a test checks the two are identical). 42 VMAs: the binary, ld.so, libc, libm,
 * libz and libexpat as 5 VMAs of one file each, LC_CTYPE and the gconv cache
 * as one each, anonymous memory, heap, stack, vvar/vdso.
 */
import type { ImageSpec } from './exec.js';

export const PYTHON3_IMAGE: ImageSpec = {
  name: 'python3',
  command: "/usr/bin/python3 -S -c 'import time; time.sleep(2)'",
  kernel: 'Linux 6.18.44-fc-v657 x86_64',
  recordedWith: 'packages/mm/data/record-image.mjs',
  mmapBase: '7f37334c0000',
  objects: [
    {
      role: 'program',
      path: '/usr/bin/python3.11',
      dev: 'fe:00',
      inode: 260811,
      vmas: [
        ['00400000-0041f000', 'r--p', '00000000', 'rd mr mw me'],
        ['0041f000-006d2000', 'r-xp', '0001f000', 'rd ex mr mw me'],
        ['006d2000-00945000', 'r--p', '002d2000', 'rd mr mw me'],
        ['00945000-00946000', 'r--p', '00544000', 'rd mr mw me ac'],
        ['00946000-00a85000', 'rw-p', '00545000', 'rd wr mr mw me ac'],
      ],
    },
    {
      role: 'anonymous',
      vmas: [
        ['00a85000-00aca000', 'rw-p', '00000000', 'rd wr mr mw me ac'],
        ['7f3732fad000-7f3733113000', 'rw-p', '00000000', 'rd wr mr mw me ac'],
        ['7f373316a000-7f373316c000', 'rw-p', '00000000', 'rd wr mr mw me ac'],
        ['7f3733341000-7f373334e000', 'rw-p', '00000000', 'rd wr mr mw me ac'],
        ['7f3733481000-7f3733483000', 'rw-p', '00000000', 'rd wr mr mw me ac'],
      ],
    },
    {
      role: 'heap',
      vmas: [['2c1ff000-2c26f000', 'rw-p', '00000000', 'rd wr mr mw me ac']],
    },
    {
      role: 'file',
      path: '/usr/lib/locale/C.utf8/LC_CTYPE',
      dev: 'fe:00',
      inode: 329635,
      vmas: [['7f3733113000-7f373316a000', 'r--p', '00000000', 'rd mr mw me']],
    },
    {
      role: 'library',
      path: '/usr/lib/x86_64-linux-gnu/libc.so.6',
      dev: 'fe:00',
      inode: 339380,
      vmas: [
        ['7f373316c000-7f3733192000', 'r--p', '00000000', 'rd mr mw me'],
        ['7f3733192000-7f37332e8000', 'r-xp', '00026000', 'rd ex mr mw me'],
        ['7f37332e8000-7f373333b000', 'r--p', '0017c000', 'rd mr mw me'],
        ['7f373333b000-7f373333f000', 'r--p', '001cf000', 'rd mr mw me ac'],
        ['7f373333f000-7f3733341000', 'rw-p', '001d3000', 'rd wr mr mw me ac'],
      ],
    },
    {
      role: 'library',
      path: '/usr/lib/x86_64-linux-gnu/libexpat.so.1.8.10',
      dev: 'fe:00',
      inode: 339471,
      vmas: [
        ['7f373334e000-7f3733352000', 'r--p', '00000000', 'rd mr mw me'],
        ['7f3733352000-7f373336e000', 'r-xp', '00004000', 'rd ex mr mw me'],
        ['7f373336e000-7f3733376000', 'r--p', '00020000', 'rd mr mw me'],
        ['7f3733376000-7f3733378000', 'r--p', '00028000', 'rd mr mw me ac'],
        ['7f3733378000-7f3733379000', 'rw-p', '0002a000', 'rd wr mr mw me ac'],
      ],
    },
    {
      role: 'library',
      path: '/usr/lib/x86_64-linux-gnu/libz.so.1.2.13',
      dev: 'fe:00',
      inode: 340072,
      vmas: [
        ['7f3733379000-7f373337c000', 'r--p', '00000000', 'rd mr mw me'],
        ['7f373337c000-7f373338f000', 'r-xp', '00003000', 'rd ex mr mw me'],
        ['7f373338f000-7f3733396000', 'r--p', '00016000', 'rd mr mw me'],
        ['7f3733396000-7f3733397000', 'r--p', '0001c000', 'rd mr mw me ac'],
        ['7f3733397000-7f3733398000', 'rw-p', '0001d000', 'rd wr mr mw me ac'],
      ],
    },
    {
      role: 'library',
      path: '/usr/lib/x86_64-linux-gnu/libm.so.6',
      dev: 'fe:00',
      inode: 339704,
      vmas: [
        ['7f3733398000-7f37333a8000', 'r--p', '00000000', 'rd mr mw me'],
        ['7f37333a8000-7f373341c000', 'r-xp', '00010000', 'rd ex mr mw me'],
        ['7f373341c000-7f3733476000', 'r--p', '00084000', 'rd mr mw me'],
        ['7f3733476000-7f3733477000', 'r--p', '000dd000', 'rd mr mw me ac'],
        ['7f3733477000-7f3733478000', 'rw-p', '000de000', 'rd wr mr mw me ac'],
      ],
    },
    {
      role: 'file',
      path: '/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache',
      dev: 'fe:00',
      inode: 338846,
      vmas: [['7f373347a000-7f3733481000', 'r--s', '00000000', 'rd mr me ms']],
    },
    {
      role: 'vdso',
      vmas: [
        ['7f3733483000-7f3733487000', 'r--p', '00000000', 'rd mr pf io de dd', '[vvar]'],
        ['7f3733487000-7f3733489000', 'r--p', '00000000', 'rd mr pf io de dd', '[vvar_vclock]'],
        ['7f3733489000-7f373348b000', 'r-xp', '00000000', 'rd ex mr mw me de', '[vdso]'],
      ],
    },
    {
      role: 'interpreter',
      path: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
      dev: 'fe:00',
      inode: 338944,
      vmas: [
        ['7f373348b000-7f373348c000', 'r--p', '00000000', 'rd mr mw me'],
        ['7f373348c000-7f37334b2000', 'r-xp', '00001000', 'rd ex mr mw me'],
        ['7f37334b2000-7f37334bc000', 'r--p', '00027000', 'rd mr mw me'],
        ['7f37334bc000-7f37334be000', 'r--p', '00031000', 'rd mr mw me ac'],
        ['7f37334be000-7f37334c0000', 'rw-p', '00033000', 'rd wr mr mw me ac'],
      ],
    },
    {
      role: 'stack',
      vmas: [['7ffc738d7000-7ffc738f8000', 'rw-p', '00000000', 'rd wr mr mw me gd ac']],
    },
  ],
};
