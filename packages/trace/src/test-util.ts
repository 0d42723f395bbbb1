/** Strategy triples for the tests. */
import type { Counters } from '@vmalab/core';
import { strategy as gap } from '@vmalab/finder-gap';
import { strategy as linear } from '@vmalab/finder-linear';
import { strategy as list } from '@vmalab/index-list';
import { strategy as maple } from '@vmalab/index-maple';
import { strategy as batched } from '@vmalab/rmap-batched';
import type { Strategies } from './replay.js';

/** linux-6.8-like: maple (RCU, __mt_dup) + gap finder + batched unlink. */
export const mapleGap = (c: Counters): Strategies => ({
  index: maple.create({ prealloc: 'by-store-type', dup: 'mt-dup', rcu: true }, c),
  finder: gap.create({}, c),
  rmap: batched.create({}, c),
});

/** linux-2.4-like: list + first-fit linear finder (bottom-up search in a top-down layout differs). */
export const listLinear = (c: Counters): Strategies => ({
  index: list.create({}, c),
  finder: linear.create({}, c),
  rmap: batched.create({}, c),
});
