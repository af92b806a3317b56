// The frames backing the pages of one VMA. Small VMAs keep a dense array;
// large ones (a 1 TiB PROT_NONE reservation is legal and common) keep only the
// 2 MiB chunks that have frames, so neither memory nor loops grow with the
// size of the reservation.

const CHUNK = 512; // pages per sparse chunk (2 MiB)
const DENSE_MAX = 1 << 16; // up to 256 MiB of address space: one Int32Array

export class FrameTable {
  private dense: Int32Array | null = null;
  private chunks: Map<number, Int32Array> | null = null;

  constructor(readonly length: number) {
    if (length <= DENSE_MAX) this.dense = new Int32Array(length).fill(-1);
    else this.chunks = new Map();
  }

  get(p: number): number {
    if (this.dense) return this.dense[p];
    const c = this.chunks!.get(Math.floor(p / CHUNK));
    return c ? c[p % CHUNK] : -1;
  }

  set(p: number, f: number): void {
    if (this.dense) {
      this.dense[p] = f;
      return;
    }
    const i = Math.floor(p / CHUNK);
    let c = this.chunks!.get(i);
    if (!c) {
      if (f < 0) return;
      c = new Int32Array(CHUNK).fill(-1);
      this.chunks!.set(i, c);
    }
    c[p % CHUNK] = f;
  }

  /** Call fn(page, frame) for every page in [from, to) that has a frame, in order. */
  forEachPresent(from: number, to: number, fn: (p: number, f: number) => void): void {
    to = Math.min(to, this.length);
    if (this.dense) {
      for (let p = from; p < to; p++) if (this.dense[p] >= 0) fn(p, this.dense[p]);
      return;
    }
    const keys = [...this.chunks!.keys()].filter((i) => (i + 1) * CHUNK > from && i * CHUNK < to).sort((a, b) => a - b);
    for (const i of keys) {
      const c = this.chunks!.get(i)!;
      const lo = Math.max(from, i * CHUNK);
      const hi = Math.min(to, (i + 1) * CHUNK);
      for (let p = lo; p < hi; p++) if (c[p - i * CHUNK] >= 0) fn(p, c[p - i * CHUNK]);
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
    this.forEachPresent(0, this.length, (p, f) => {
      if (p + shift >= 0 && p + shift < newLength) out.set(p + shift, f);
    });
    return out;
  }

  count(): number {
    let n = 0;
    this.forEachPresent(0, this.length, () => n++);
    return n;
  }
}
