/**
 * Test helpers for the teardown, exec and fork tests: address spaces over a
 * chosen index and rmap locker, synthetic ELF images, and the image shipped
 * in `data/` (python3 recorded on Linux 6.18).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Counters, type RmapLocker, type VmaIndex } from '@vmalab/core';
import { strategy as gap } from '@vmalab/finder-gap';
import { strategy as linear } from '@vmalab/finder-linear';
import { strategy as list } from '@vmalab/index-list';
import { strategy as maple } from '@vmalab/index-maple';
import { strategy as rbtree } from '@vmalab/index-rbtree';
import { strategy as batched } from '@vmalab/rmap-batched';
import { strategy as unbatched } from '@vmalab/rmap-unbatched';
import { AddressSpace, type AddressSpaceOptions } from '../address-space.js';
import type { ImageObject, ImageSpec, ImageVma } from '../exec.js';
import { parseSnapshot } from '../exec.js';
import type { SnapshotLine } from '../maps.js';

const here = dirname(fileURLToPath(import.meta.url));
export const DATA_DIR = join(here, '..', '..', 'data');

export type IndexKind = 'list' | 'rbtree' | 'maple' | 'maple-insert';
export type RmapKind = 'unbatched' | 'batched';

function makeIndex(kind: IndexKind, counters: Counters): VmaIndex {
  switch (kind) {
    case 'list':
      return list.create({}, counters);
    case 'rbtree':
      return rbtree.create({ gaps: 'raw' }, counters);
    case 'maple':
      return maple.create({ dup: 'mt-dup' }, counters);
    case 'maple-insert':
      return maple.create({ dup: 'insert', prealloc: 'worst-case', rcu: false }, counters);
  }
}

export function makeRmap(kind: RmapKind, counters: Counters): RmapLocker {
  return kind === 'batched' ? batched.create({}, counters) : unbatched.create({}, counters);
}

/** An address space over `index` (list by default) and `rmap`, verify on. */
export function mmWith(
  rmap: RmapKind,
  index: IndexKind = 'list',
  opts: Partial<AddressSpaceOptions> = {},
): AddressSpace {
  const counters = opts.counters ?? new Counters();
  return new AddressSpace({
    index: makeIndex(index, counters),
    finder: index === 'list' ? linear.create({}, counters) : gap.create({}, counters),
    rmap: makeRmap(rmap, counters),
    counters,
    verify: true,
    ...opts,
  });
}

const PERMS = ['r--p', 'r-xp', 'r--p', 'r--p', 'rw-p'] as const;
const hex = (n: number) => n.toString(16).padStart(8, '0');

/** Builds a synthetic image VMA by VMA, at increasing addresses. */
export class ImageBuilder {
  private readonly objects = new Map<string, ImageObject & { vmas: ImageVma[] }>();
  private readonly order: (ImageObject & { vmas: ImageVma[] })[] = [];
  private inode = 1000;
  constructor(private at = 0x7f0000000000) {}

  private object(key: string, make: () => ImageObject): ImageObject & { vmas: ImageVma[] } {
    let o = this.objects.get(key);
    if (!o) {
      o = { ...make(), vmas: [] };
      this.objects.set(key, o);
      this.order.push(o);
    }
    return o;
  }

  /** `n` consecutive one-page VMAs of `path` (the ELF pattern r--, r-x, r--, r--, rw-, repeated). */
  file(path: string, n = 5, role: ImageObject['role'] = 'library', pages = 1): this {
    const o = this.object(path, () => ({
      role,
      path,
      dev: 'fe:00',
      inode: this.inode++,
      vmas: [],
    }));
    for (let i = 0; i < n; i++) {
      const off = o.vmas.length * pages * 4096;
      o.vmas.push([
        `${hex(this.at)}-${hex(this.at + pages * 4096)}`,
        PERMS[o.vmas.length % 5] as string,
        hex(off),
      ]);
      this.at += pages * 4096;
    }
    return this;
  }

  /** An anonymous rw-p VMA of `pages` pages. */
  anon(pages = 1): this {
    const o = this.object('', () => ({ role: 'anonymous', vmas: [] }));
    o.vmas.push([`${hex(this.at)}-${hex(this.at + pages * 4096)}`, 'rw-p', '00000000']);
    this.at += pages * 4096;
    return this;
  }

  /** Leaves `bytes` unmapped. */
  hole(bytes: number): this {
    this.at += bytes;
    return this;
  }

  build(name = 'synthetic'): ImageSpec {
    return { name, objects: this.order };
  }
}

/** The shipped spec: python3 -S, recorded on Linux 6.18 (data/python3.image.json). */
export function python3Spec(): ImageSpec {
  return JSON.parse(readFileSync(join(DATA_DIR, 'python3.image.json'), 'utf8')) as ImageSpec;
}

/** The same process as a /proc/PID/maps snapshot with VmFlags (data/python3.maps). */
export function python3Snapshot(): SnapshotLine[] {
  return parseSnapshot(readFileSync(join(DATA_DIR, 'python3.maps'), 'utf8'));
}
