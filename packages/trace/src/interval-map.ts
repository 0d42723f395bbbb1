/**
 * Recorded → simulated address translation for `replace` mode: a set of
 * disjoint intervals `[start, end)` of recorded addresses, each shifted by a
 * constant `delta` (simulated = recorded + delta). Addresses outside every
 * interval translate to themselves (the initial layout, MAP_FIXED mappings at
 * addresses the program chose).
 *
 * Sorted parallel arrays and a binary search: a program has as many
 * intervals as live mappings the finder placed, and most lookups hit one.
 */
export class IntervalMap {
  private starts: number[] = [];
  private ends: number[] = [];
  private deltas: number[] = [];

  get size(): number {
    return this.starts.length;
  }

  clone(): IntervalMap {
    const m = new IntervalMap();
    m.starts = this.starts.slice();
    m.ends = this.ends.slice();
    m.deltas = this.deltas.slice();
    return m;
  }

  /** Index of the first interval with end > addr (the one containing addr, or the next). */
  private search(addr: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ends[mid] as number) <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The simulated address of recorded address `addr`. */
  point(addr: number): number {
    const i = this.search(addr);
    if (i < this.starts.length && (this.starts[i] as number) <= addr) {
      return addr + (this.deltas[i] as number);
    }
    return addr;
  }

  /** Recorded `[start, end)` now lives at simulated `target`. */
  set(start: number, end: number, target: number): void {
    this.remove(start, end);
    if (target === start) return;
    const i = this.search(start);
    this.starts.splice(i, 0, start);
    this.ends.splice(i, 0, end);
    this.deltas.splice(i, 0, target - start);
  }

  /** Forget `[start, end)` (it translates to itself again). */
  remove(start: number, end: number): void {
    let i = this.search(start);
    while (i < this.starts.length && (this.starts[i] as number) < end) {
      const s = this.starts[i] as number;
      const e = this.ends[i] as number;
      const d = this.deltas[i] as number;
      if (s < start && e > end) {
        // split in two
        this.ends[i] = start;
        this.starts.splice(i + 1, 0, end);
        this.ends.splice(i + 1, 0, e);
        this.deltas.splice(i + 1, 0, d);
        return;
      }
      if (s < start) {
        this.ends[i] = start;
        i++;
      } else if (e > end) {
        this.starts[i] = end;
        return;
      } else {
        this.starts.splice(i, 1);
        this.ends.splice(i, 1);
        this.deltas.splice(i, 1);
      }
    }
  }

  /**
   * `[start, start + len)` in simulated pieces, in recorded order: one piece
   * per interval it crosses and one per untranslated stretch between them.
   */
  pieces(start: number, len: number): [number, number][] {
    const end = start + len;
    let i = this.search(start);
    if (i >= this.starts.length || (this.starts[i] as number) >= end) return [[start, len]];
    const s0 = this.starts[i] as number;
    if (s0 <= start && (this.ends[i] as number) >= end) {
      return [[start + (this.deltas[i] as number), len]];
    }
    const out: [number, number][] = [];
    let a = start;
    while (a < end) {
      if (i < this.starts.length && (this.starts[i] as number) <= a) {
        const e = Math.min(end, this.ends[i] as number);
        out.push([a + (this.deltas[i] as number), e - a]);
        a = e;
        i++;
      } else {
        const e = i < this.starts.length ? Math.min(end, this.starts[i] as number) : end;
        out.push([a, e - a]);
        a = e;
      }
    }
    return out;
  }
}
