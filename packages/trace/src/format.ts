/**
 * The layout in /proc/PID/maps format, as Linux 6.6+ prints it. Same as
 * @vmalab/mm's `formatMaps` except for `[heap]`: since 6.6
 * (`vma_is_initial_heap`) a VMA is the heap only when it overlaps
 * `[start_brk, brk)` strictly, so the program's bss VMA that ends exactly at
 * `start_brk` is not named `[heap]` (seen in every exit snapshot of the
 * fixtures).
 */
import { formatMapsLine } from '@vmalab/core';
import { type AddressSpace, mapsEntryOf } from '@vmalab/mm';

export function formatLayout(mm: AddressSpace): string {
  let out = '';
  for (const v of mm.index) {
    const e = mapsEntryOf(mm, v);
    if (
      e.path === '[heap]' &&
      v.name === null &&
      !(v.start < mm.brkAddr && v.end > mm.startBrk) &&
      !(mm.startStack && v.start <= mm.startStack && v.end >= mm.startStack)
    ) {
      e.path = '';
    }
    out += `${formatMapsLine(e)}\n`;
  }
  return out;
}
