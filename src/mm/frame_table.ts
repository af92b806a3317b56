// The frames backing the pages of one VMA. Small VMAs keep a dense array;
// large ones (a 1 TiB PROT_NONE reservation is legal and common) keep only the
// 2 MiB chunks that have frames, so neither memory nor loops grow with the
// size of the reservation.
//
// VMAs merge and split (adjacent mmaps, mprotect of a part and back, munmap of
// one page at an edge), so a table can grow and shrink at either end: page 0
// sits at an offset into the dense array (with spare room on both sides) or
// into the chunk numbering. Joining two tables extends the larger one and
// copies the smaller; splitting copies the smaller part out and trims the
// larger in place. A VMA built from many one-page pieces then costs
// O(n log n) copies in all, not O(n^2).

const CHUNK = 512; // pages per sparse chunk (2 MiB)
const DENSE_MAX = 1 << 16; // up to 256 MiB of address space: one Int32Array

export class FrameTable {
  private dense: Int32Array | null = null;
  private chunks: Map<number, Int32Array> | null = null;
  /** Where page 0 is: an index into dense, or a global page number for chunks (may be negative). */
  private off = 0;
  private present = 0;
  private len: number;

  constructor(length: number) {
    this.len = length;
    if (length <= DENSE_MAX) this.dense = new Int32Array(length).fill(-1);
    else this.chunks = new Map();
  }

  get length(): number {
    return this.len;
  }

  get(p: number): number {
    if (!(p >= 0 && p < this.len)) return -1;
    if (this.dense) return this.dense[p + this.off];
    const g = p + this.off;
    const i = Math.floor(g / CHUNK);
    const c = this.chunks!.get(i);
    return c ? c[g - i * CHUNK] : -1;
  }

  set(p: number, f: number): void {
    if (!(p >= 0 && p < this.len)) throw new RangeError(`frame table page ${p} of ${this.len}`);
    if (this.dense) {
      const old = this.dense[p + this.off];
      this.present += (f >= 0 ? 1 : 0) - (old >= 0 ? 1 : 0);
      this.dense[p + this.off] = f;
      return;
    }
    const g = p + this.off;
    const i = Math.floor(g / CHUNK);
    let c = this.chunks!.get(i);
    if (!c) {
      if (f < 0) return;
      c = new Int32Array(CHUNK).fill(-1);
      this.chunks!.set(i, c);
    }
    const old = c[g - i * CHUNK];
    this.present += (f >= 0 ? 1 : 0) - (old >= 0 ? 1 : 0);
    c[g - i * CHUNK] = f;
  }

  /** Call fn(page, frame) for every page in [from, to) that has a frame, in order. */
  forEachPresent(from: number, to: number, fn: (p: number, f: number) => void): void {
    from = Math.max(0, from);
    to = Math.min(to, this.len);
    if (from >= to || this.present === 0) return;
    if (this.dense) {
      const d = this.dense;
      const off = this.off;
      for (let p = from; p < to; p++) if (d[p + off] >= 0) fn(p, d[p + off]);
      return;
    }
    const chunks = this.chunks!;
    const lo = Math.floor((from + this.off) / CHUNK);
    const hi = Math.floor((to - 1 + this.off) / CHUNK);
    // A short range (one fault) looks its few chunks up; a long one sorts the chunks it has.
    const keys = hi - lo < chunks.size ? range(lo, hi + 1) : [...chunks.keys()].filter((i) => i >= lo && i <= hi).sort((a, b) => a - b);
    for (const i of keys) {
      const c = chunks.get(i);
      if (!c) continue;
      const base = i * CHUNK - this.off; // page number of c[0]
      const a = Math.max(from, base);
      const b = Math.min(to, base + CHUNK);
      for (let p = a; p < b; p++) if (c[p - base] >= 0) fn(p, c[p - base]);
    }
  }

  /** Pages [from, to) as a new table of length to - from. */
  slice(from: number, to: number): FrameTable {
    const out = new FrameTable(to - from);
    this.forEachPresent(from, to, (p, f) => out.set(p - from, f));
    return out;
  }

  /** A table of newLength pages whose page (p + shift) is this table's page p. */
  moved(newLength: number, shift: number): FrameTable {
    const out = new FrameTable(newLength);
    this.forEachPresent(0, this.len, (p, f) => {
      if (p + shift >= 0 && p + shift < newLength) out.set(p + shift, f);
    });
    return out;
  }

  count(): number {
    return this.present;
  }

  /** Add n empty pages after the last one. */
  growBack(n: number): void {
    if (this.dense) {
      const need = this.off + this.len + n;
      if (this.len + n > DENSE_MAX) this.toSparse();
      else if (need > this.dense.length) this.realloc(this.off, Math.max(need, this.dense.length * 2));
    }
    this.len += n;
  }

  /** Add n empty pages before the first one (pages renumber by +n). */
  growFront(n: number): void {
    if (this.dense) {
      if (this.len + n > DENSE_MAX) this.toSparse();
      else if (this.off < n) this.realloc(n + this.len, n + this.len + this.dense.length - this.off);
    }
    this.off -= n;
    this.len += n;
  }

  /** Forget the first n pages (they must have been cleared or moved away): pages renumber by -n. */
  private dropFront(n: number): void {
    this.clear(0, n);
    this.off += n;
    this.len -= n;
  }

  private dropBack(n: number): void {
    this.clear(this.len - n, this.len);
    this.len -= n;
  }

  /** Unset pages [from, to), releasing chunks that become unused. */
  private clear(from: number, to: number): void {
    if (this.dense) {
      for (let p = from; p < to; p++) if (this.dense[p + this.off] >= 0) this.set(p, -1);
      return;
    }
    this.forEachPresent(from, to, (p) => this.set(p, -1));
    const chunks = this.chunks!;
    const lo = Math.floor((from + this.off) / CHUNK);
    const hi = Math.floor((to - 1 + this.off) / CHUNK);
    const keys = hi - lo < chunks.size ? range(lo, hi + 1) : [...chunks.keys()].filter((i) => i >= lo && i <= hi);
    for (const i of keys) {
      const c = chunks.get(i);
      if (c && c.every((f) => f < 0)) chunks.delete(i);
    }
  }

  /** Split at page n: [pages 0..n), [pages n..length). One of the two is this table, trimmed. */
  split(n: number): [FrameTable, FrameTable] {
    if (n <= this.len - n) {
      const left = this.slice(0, n);
      this.dropFront(n);
      return [left, this];
    }
    const right = this.slice(n, this.len);
    this.dropBack(this.len - n);
    return [this, right];
  }

  /** a's pages followed by b's: the larger table grows and takes the other's frames (both are consumed). */
  static concat(a: FrameTable, b: FrameTable): FrameTable {
    if (a.len >= b.len) {
      const at = a.len;
      a.growBack(b.len);
      b.forEachPresent(0, b.len, (p, f) => a.set(at + p, f));
      return a;
    }
    b.growFront(a.len);
    a.forEachPresent(0, a.len, (p, f) => b.set(p, f));
    return b;
  }

  private realloc(newOff: number, size: number): void {
    const d = new Int32Array(size).fill(-1);
    d.set(this.dense!.subarray(this.off, this.off + this.len), newOff);
    this.dense = d;
    this.off = newOff;
  }

  private toSparse(): void {
    const d = this.dense!;
    const off = this.off;
    this.dense = null;
    this.chunks = new Map();
    this.off = 0;
    this.present = 0;
    for (let p = 0; p < this.len; p++) if (d[p + off] >= 0) this.set(p, d[p + off]);
  }
}

function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = lo; i < hi; i++) out.push(i);
  return out;
}
