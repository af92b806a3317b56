// Free runs of frames of the memory file (memfile.ts): coalesced, found by
// size class.

interface Extent {
  first: number;
  count: number;
  /** Index in its size class's array (for O(1) removal). */
  slot: number;
}

/**
 * Free runs of frames: coalesced with their neighbours when added (two maps
 * by first and by end frame, O(1)), found for an allocation by size class
 * (runs of [2^k, 2^(k+1)) pages in bucket k: the first non-empty bucket at
 * or above the request's class fits, O(log max) buckets to look at). No run
 * crosses a multiple of `boundary`, so every piece handed out lies in one of
 * the Sentry's views.
 */
export class FreeExtents {
  private readonly byFirst = new Map<number, Extent>();
  private readonly byEnd = new Map<number, Extent>();
  private readonly buckets: Extent[][] = [];
  /** Pages in all runs. */
  pages = 0;

  constructor(private readonly boundary: number) {}

  get runs(): number {
    return this.byFirst.size;
  }

  /** Add [first, first+n), merging with adjacent runs in the same boundary window. */
  add(first: number, n: number): void {
    while (n > 0) {
      const windowEnd = (Math.floor(first / this.boundary) + 1) * this.boundary;
      const piece = Math.min(n, windowEnd - first);
      this.addWithin(first, piece);
      first += piece;
      n -= piece;
    }
  }

  private addWithin(first: number, n: number): void {
    this.pages += n;
    const window = Math.floor(first / this.boundary);
    const left = this.byEnd.get(first);
    if (left && Math.floor(left.first / this.boundary) === window) {
      this.unlink(left);
      first = left.first;
      n += left.count;
    }
    const right = this.byFirst.get(first + n);
    if (right && Math.floor(right.first / this.boundary) === window) {
      this.unlink(right);
      n += right.count;
    }
    this.link({ first, count: n, slot: 0 });
  }

  /** Take n pages from one run (its lowest frames); -1 if no run is long enough. */
  take(n: number): number {
    const e = this.fit(n);
    if (!e) return -1;
    this.unlink(e);
    this.pages -= n;
    if (e.count > n) this.link({ first: e.first + n, count: e.count - n, slot: 0 });
    return e.first;
  }

  /** Take exactly [first, first+n) if one run holds it, at the run's start or end. */
  takeAt(first: number, n: number): boolean {
    const e = this.byFirst.get(first);
    if (e && e.count >= n) {
      this.unlink(e);
      this.pages -= n;
      if (e.count > n) this.link({ first: first + n, count: e.count - n, slot: 0 });
      return true;
    }
    const g = this.byEnd.get(first + n);
    if (g && g.first <= first) {
      this.unlink(g);
      this.pages -= n;
      if (g.first < first) this.link({ first: g.first, count: first - g.first, slot: 0 });
      return true;
    }
    return false;
  }

  /** Remove every run, calling fn(first, n) for each. */
  drain(fn: (first: number, n: number) => void): void {
    const all = [...this.byFirst.values()];
    this.byFirst.clear();
    this.byEnd.clear();
    this.buckets.length = 0;
    this.pages = 0;
    for (const e of all) fn(e.first, e.count);
  }

  private fit(n: number): Extent | null {
    const exact = 31 - Math.clz32(n);
    // Any run in a higher class is long enough; the request's own class may have some.
    for (let k = n === 1 << exact ? exact : exact + 1; k < this.buckets.length; k++) {
      const b = this.buckets[k];
      if (b && b.length) return b[b.length - 1];
    }
    const same = this.buckets[exact];
    if (same) {
      // Bounded look: a long class of runs just too short must not make alloc linear.
      for (let i = same.length - 1, seen = 0; i >= 0 && seen < 8; i--, seen++) if (same[i].count >= n) return same[i];
    }
    return null;
  }

  private link(e: Extent): void {
    this.byFirst.set(e.first, e);
    this.byEnd.set(e.first + e.count, e);
    const k = 31 - Math.clz32(e.count);
    while (this.buckets.length <= k) this.buckets.push([]);
    const b = this.buckets[k];
    e.slot = b.length;
    b.push(e);
  }

  private unlink(e: Extent): void {
    this.byFirst.delete(e.first);
    this.byEnd.delete(e.first + e.count);
    const b = this.buckets[31 - Math.clz32(e.count)];
    const last = b.pop()!;
    if (last !== e) {
      b[e.slot] = last;
      last.slot = e.slot;
    }
  }
}
