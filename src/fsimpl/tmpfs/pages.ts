// The data of one tmpfs regular file: a frame of the memory file per page
// index, sparse (a write at a huge offset allocates one entry, not billions),
// with every walk bounded by the smaller of the range and the pages present,
// so that no hostile offset or length makes one call cost a loop per page.
// What may be written (seals, types, sizes) is the inode's business; this is
// only where the bytes are.

import { Errno } from '../../abi/errno';
import { PAGE_SIZE as PAGE } from '../../abi/mm';
import type { FrameSource } from '../../mm/mappable';
import type { MemoryAccess } from '../../mm/access';
import type { MemCharge } from '../../platform/memcharge';
import { copyToFrames } from '../../mm/framecopy';

/** Where file pages are charged: the file system's size= and its frames. */
export interface PageOwner {
  readonly frames: FrameSource;
  /** One more page, or ENOSPC past size=. */
  chargePage(): void;
  usedPages: number;
}

/** Walk [start, end) of a file page by page: page index, offset in it, length, file position. */
function forEachPageSpan(start: number, end: number, fn: (pi: number, po: number, n: number, pos: number) => void): void {
  for (let pos = start; pos < end; ) {
    const pi = Math.floor(pos / PAGE);
    const po = pos - pi * PAGE;
    const n = Math.min(PAGE - po, end - pos);
    fn(pi, po, n, pos);
    pos += n;
  }
}

/** Pages a growing file gets frames for in one allocation at most (the memory file's reuse size). */
const RUN_MAX = 256;

export class FilePages {
  private pages: number[] = []; // frame per page index, -1 or absent for a hole
  /** Pages that have a frame (st_blocks, and which walk of the pages is cheaper). */
  present = 0;

  constructor(private readonly owner: PageOwner) {}

  /** Pages up to the last one ever given a frame (holes included). */
  get extent(): number {
    return this.pages.length;
  }

  private frameAt(pi: number): number {
    const f = this.pages[pi];
    return f !== undefined && f >= 0 ? f : -1;
  }

  /**
   * fn for each page with a frame in [from, to): by index when the range is
   * shorter than the pages present, else over the pages present (for-in
   * skips the holes of a sparse file).
   */
  private forEachPresent(from: number, to: number, fn: (i: number, f: number) => void): void {
    if (to - from <= this.present) {
      for (let i = from; i < to; i++) {
        const f = this.frameAt(i);
        if (f >= 0) fn(i, f);
      }
      return;
    }
    for (const k in this.pages) {
      const i = Number(k);
      const f = this.frameAt(i);
      if (i >= from && i < to && f >= 0) fn(i, f);
    }
  }

  /** Bytes [off, end) into out[0..]; holes stay as out has them (zeros). */
  readInto(off: number, end: number, out: Uint8Array): void {
    forEachPageSpan(off, end, (pi, po, n, pos) => {
      const f = this.frameAt(pi);
      if (f >= 0) out.set(this.owner.frames.bytes(f).subarray(po, po + n), pos - off);
    });
  }

  /** Straight from the pages into the reader's memory (no Buffer in between); holes read as zeros. */
  readToUser(off: number, end: number, mem: MemoryAccess, addr: number): number {
    let pos = off;
    return mem.fillFrom(addr, end - off, (dst) => {
      forEachPageSpan(pos, pos + dst.length, (pi, po, n, at) => {
        const f = this.frameAt(pi);
        if (f >= 0) this.owner.frames.bytes(f).copy(dst, at - pos, po, po + n);
        else dst.fill(0, at - pos, at - pos + n);
      });
      pos += dst.length;
      return dst.length;
    });
  }

  /**
   * The frame of page pi, allocated if needed: ENOSPC past size=, ENOMEM past
   * the sandbox memory limit or charge's (the group of the task whose write
   * or fault allocates it, as Linux charges shmem to its memory cgroup;
   * null: the file system's frames decide).
   */
  frame(pi: number, charge: MemCharge | null = null): number {
    let f = this.frameAt(pi);
    if (f < 0) {
      this.owner.chargePage();
      try {
        f = this.owner.frames.alloc(1, charge);
      } catch (e) {
        this.owner.usedPages--;
        throw e;
      }
      this.pages[pi] = f;
      this.present++;
    }
    return f;
  }

  /**
   * Frames for the pages of [off, off+len), allocated first: the bytes that
   * have one. A full file system (or the memory limit) ends the write short at
   * a page boundary, like Linux; nothing at all is the error.
   */
  framesFor(off: number, len: number, charge: MemCharge | null = null): number {
    if (len <= 0) return 0;
    const first = Math.floor(off / PAGE);
    const end = Math.ceil((off + len) / PAGE);
    for (let pi = first; pi < end; pi++) {
      if (this.frameAt(pi) >= 0) continue;
      // A run of pages without frames (a file growing) takes one run of frames: one
      // allocation (and one zeroing, for reused frames) instead of one per page, and
      // one host write for the data after.
      let k = 1;
      while (k < RUN_MAX && pi + k < end && this.frameAt(pi + k) < 0) k++;
      if (k > 1 && this.allocRun(pi, k, charge)) {
        pi += k - 1;
        continue;
      }
      try {
        this.frame(pi, charge);
      } catch (e) {
        if (pi === first || !(e instanceof Errno)) throw e;
        return pi * PAGE - off;
      }
    }
    return len;
  }

  /** Frames for the k pages from pi on (none has one) in one run; false (nothing charged) if size= or the limit refuses. */
  private allocRun(pi: number, k: number, charge: MemCharge | null): boolean {
    let charged = 0;
    let f: number;
    try {
      for (; charged < k; charged++) this.owner.chargePage();
      f = this.owner.frames.alloc(k, charge);
    } catch (e) {
      this.owner.usedPages -= charged;
      if (!(e instanceof Errno)) throw e;
      return false;
    }
    for (let i = 0; i < k; i++) this.pages[pi + i] = f + i;
    this.present += k;
    return true;
  }

  /** Copy src into the pages from pos on (they have frames): one copy per run of consecutive frames. */
  copyIn(pos: number, src: Uint8Array): void {
    for (let done = 0; done < src.length; ) {
      const pi = Math.floor((pos + done) / PAGE);
      const po = (pos + done) % PAGE;
      const f = this.pages[pi];
      let k = 1;
      while ((k * PAGE) - po < src.length - done && this.pages[pi + k] === f + k) k++;
      const n = Math.min(k * PAGE - po, src.length - done);
      copyToFrames(this.owner.frames, f, po, src.subarray(done, done + n));
      done += n;
    }
  }

  /** Drop everything past size bytes, and zero the tail of the last page kept so a later extension reads zeros. */
  shrinkTo(size: number): void {
    const keep = Math.ceil(size / PAGE);
    this.free(keep, this.pages.length);
    this.pages.length = Math.min(this.pages.length, keep);
    const tail = size % PAGE;
    const f = this.frameAt(keep - 1);
    if (tail && f >= 0) this.owner.frames.bytes(f).fill(0, tail);
  }

  /** Give the frames of pages [from, to) back. */
  free(from: number, to: number): void {
    to = Math.min(to, this.pages.length);
    if (to <= from || this.present === 0) return;
    // Runs of consecutive frames go back in one call (a file written in order has long ones).
    let runFirst = -1;
    let runLen = 0;
    const free = (i: number) => {
      const f = this.frameAt(i);
      if (f < 0) return;
      this.pages[i] = -1;
      this.present--;
      this.owner.usedPages--;
      if (runLen > 0 && f === runFirst + runLen) {
        runLen++;
        return;
      }
      if (runLen > 0) this.owner.frames.decRef(runFirst, runLen);
      runFirst = f;
      runLen = 1;
    };
    if (to - from <= 4 * this.present + 64) {
      for (let i = from; i < to; i++) free(i);
    } else {
      // Sparse (a write at a huge offset): only the pages present, not every hole.
      for (const k in this.pages) {
        const i = Number(k);
        if (i >= from && i < to) free(i);
      }
    }
    if (runLen > 0) this.owner.frames.decRef(runFirst, runLen);
  }

  /** Everything goes back (the file is gone). */
  freeAll(): void {
    if (this.pages.length === 0) return;
    this.free(0, this.pages.length);
    this.pages = [];
  }

  /** PUNCH_HOLE over [off, off+len): whole pages freed, the partial ones at the edges zeroed. */
  punch(off: number, len: number): void {
    const end = Math.min(off + len, this.pages.length * PAGE);
    if (end <= off) return;
    const first = Math.ceil(off / PAGE), last = Math.floor(end / PAGE);
    this.free(first, last);
    const zero = (a: number, b: number) => forEachPageSpan(a, b, (pi, po, n) => {
      const f = this.frameAt(pi);
      if (f >= 0) this.owner.frames.bytes(f).fill(0, po, po + n);
    });
    if (first > last) zero(off, end);
    else {
      zero(off, Math.min(end, first * PAGE));
      zero(Math.max(off, last * PAGE), end);
    }
  }

  /** The frames of the pages present in [from, to), by page index (only those present are visited). */
  framesIn(from: number, to: number): Map<number, number> {
    const out = new Map<number, number>();
    this.forEachPresent(from, to, (i, f) => out.set(i, f));
    return out;
  }

  /** SEEK_DATA / SEEK_HOLE from off in a file of size bytes; -1 for none (the caller's ENXIO). */
  seek(off: number, size: number, hole: boolean): number {
    const start = Math.floor(off / PAGE), end = Math.ceil(size / PAGE);
    if (!hole && end - start > this.present) {
      // Data in a sparse file: the first page present from start (array
      // index keys come in ascending order), not a walk over every hole.
      for (const k in this.pages) {
        const i = Number(k);
        if (i < start || this.frameAt(i) < 0) continue;
        if (i >= end) break;
        return Math.max(off, i * PAGE);
      }
      return -1;
    }
    // A hole is found within the pages present, plus one.
    for (let pi = start; pi * PAGE < size; pi++) {
      const isData = this.frameAt(pi) >= 0;
      if (isData !== hole) return Math.min(size, Math.max(off, pi * PAGE));
    }
    return hole ? size : -1;
  }
}
