// The host's view of one stub's application mappings, kept as the mapping
// calls are queued, so the platform knows how many host mappings (entries of
// the stub's /proc/PID/maps, what the host's vm.max_map_count bounds) its
// calls leave. The Sentry's VMA count does not bound this: pages of one VMA
// whose frames are not consecutive in the memory file, or whose host
// protection differs (a copy-on-write page next to a copied one), are
// separate host mappings. Every mapping is of the one memory file with
// MAP_SHARED, so the host merges neighbours whose file offsets continue each
// other at the same protection (after mmap and mprotect, not after munmap);
// the model merges exactly then, so its count is the host's.

export class HostMaps {
  /** Sorted, disjoint mappings: [start, end), file offset minus address, protection. */
  private starts: number[] = [];
  private ends: number[] = [];
  private keys: number[] = [];
  private prots: number[] = [];
  /** Highest count so far. */
  peak = 0;

  get count(): number {
    return this.starts.length;
  }

  clear(): void {
    this.starts = [];
    this.ends = [];
    this.keys = [];
    this.prots = [];
  }

  /** Whether addr lies in a mapping. */
  mapped(addr: number): boolean {
    const i = this.indexAfter(addr) - 1;
    return i >= 0 && this.ends[i] > addr;
  }

  /** mmap(MAP_FIXED) of [start, end) at file offset off. */
  map(start: number, end: number, off: number, prot: number): void {
    this.cut(start, end);
    const i = this.indexAfter(start);
    this.insert(i, start, end, off - start, prot);
    this.mergeAt(i + 1);
    this.mergeAt(i);
    this.note();
  }

  unmap(start: number, end: number): void {
    this.cut(start, end);
  }

  /**
   * mprotect of [start, end): as the host does it, the mappings from start
   * on up to the first hole change (a hole ends the call with ENOMEM).
   */
  protect(start: number, end: number, prot: number): void {
    let i = this.indexAfter(start) - 1;
    if (i < 0 || this.ends[i] <= start) return;
    this.split(start);
    i = this.indexAfter(start) - 1;
    const first = i;
    let at = start;
    while (i < this.starts.length && this.starts[i] === at && at < end) {
      // Only a mapping the call reaches is split at its end.
      if (this.ends[i] > end) this.split(end);
      this.prots[i] = prot;
      at = this.ends[i];
      i++;
    }
    // Merge from the right so indices to the left stay valid.
    for (let k = i; k >= first; k--) this.mergeAt(k);
    this.note();
  }

  private note(): void {
    if (this.starts.length > this.peak) this.peak = this.starts.length;
  }

  /** Index of the first mapping starting after addr. */
  private indexAfter(addr: number): number {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Make a boundary at addr if a mapping spans it. */
  private split(addr: number): void {
    const i = this.indexAfter(addr) - 1;
    if (i < 0 || this.ends[i] <= addr || this.starts[i] === addr) return;
    const end = this.ends[i];
    this.ends[i] = addr;
    this.insert(i + 1, addr, end, this.keys[i], this.prots[i]);
  }

  /** Remove everything in [start, end). */
  private cut(start: number, end: number): void {
    this.split(start);
    this.split(end);
    const a = this.indexAfter(start - 1);
    let b = a;
    while (b < this.starts.length && this.starts[b] < end) b++;
    if (b > a) {
      this.starts.splice(a, b - a);
      this.ends.splice(a, b - a);
      this.keys.splice(a, b - a);
      this.prots.splice(a, b - a);
    }
  }

  private insert(i: number, start: number, end: number, key: number, prot: number): void {
    this.starts.splice(i, 0, start);
    this.ends.splice(i, 0, end);
    this.keys.splice(i, 0, key);
    this.prots.splice(i, 0, prot);
  }

  /** Join mapping i into mapping i-1 if they continue each other. */
  private mergeAt(i: number): void {
    if (i <= 0 || i >= this.starts.length) return;
    if (this.ends[i - 1] !== this.starts[i] || this.keys[i - 1] !== this.keys[i] || this.prots[i - 1] !== this.prots[i]) return;
    this.ends[i - 1] = this.ends[i];
    this.starts.splice(i, 1);
    this.ends.splice(i, 1);
    this.keys.splice(i, 1);
    this.prots.splice(i, 1);
  }
}
