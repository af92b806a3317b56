// The object behind a MAP_SHARED|MAP_ANONYMOUS mapping (Linux gives each its
// own shmem file): its pages' frames, shared by every VMA that maps it (split
// halves, fork children, mremap duplicates). A page gets its frame when the
// first of them needs it, so all see the same one whatever the order.

import type { MemoryFile } from '../platform/memfile';
import type { MemCharge } from '../platform/memcharge';
import { FrameTable } from './frame_table';

export class SharedAnon {
  private readonly frames: FrameTable;
  /** VMAs that map this object; its frames go back when the last one goes. */
  private users = 0;

  constructor(
    private readonly memfile: MemoryFile,
    /** Size in pages, fixed at mmap as shmem's: pages past it are SIGBUS (a mapping grown by mremap). */
    readonly pages: number,
    /** The charge group of the process that made it (its frames are charged there). */
    private readonly charge: MemCharge | null = null,
  ) {
    this.frames = new FrameTable(pages);
  }

  /** The frames of pages [from, to) (within pages), those missing allocated in contiguous runs; the object keeps its reference. */
  fill(from: number, to: number, each: (page: number, frame: number) => void): void {
    let p = from;
    while (p < to) {
      let f = this.frames.get(p);
      if (f < 0) {
        let q = p;
        while (q < to && this.frames.get(q) < 0) q++;
        const prev = p > 0 ? this.frames.get(p - 1) : -1;
        const base = this.memfile.allocNear(q - p, prev >= 0 ? prev + 1 : -1, false, this.charge);
        for (let k = p; k < q; k++) this.frames.set(k, base + (k - p));
        f = this.frames.get(p);
      }
      each(p, f);
      p++;
    }
  }

  /** The frame of page p, -1 while it has none (a userfaultfd's missing page). */
  frameAt(p: number): number {
    return p < this.pages ? this.frames.get(p) : -1;
  }

  incRef(): void {
    this.users++;
  }

  /** MADV_REMOVE: pages [from, to) give their frames back and read as zeros again (the mappings drop theirs first). */
  punch(from: number, to: number): void {
    const gone: number[] = [];
    this.frames.forEachPresent(from, Math.min(to, this.pages), (p, f) => {
      this.memfile.decRef(f);
      gone.push(p);
    });
    for (const p of gone) this.frames.set(p, -1);
  }

  decRef(): void {
    if (--this.users > 0) return;
    const gone: number[] = [];
    this.frames.forEachPresent(0, this.pages, (p, f) => {
      this.memfile.decRef(f);
      gone.push(p);
    });
    // No stale frame numbers: a page asked for again gets a fresh frame.
    for (const p of gone) this.frames.set(p, -1);
  }
}
