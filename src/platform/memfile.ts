// The memory file: one memfd that holds every page of application memory
// (BRIEF decision 4). Stubs map windows of it; the Sentry keeps its own mapping
// of the whole file and reads/writes application memory through it with no
// system call per copy. Pages ("frames") are reference counted so that fork can
// share them copy-on-write and file caches can hand them to private mappings.

import * as fs from 'node:fs';
import * as libc from '../host/libc';
import { E, Errno } from '../abi/errno';
import { HeapBudget, heapBudgetFor } from '../abi/accounting';
import { MAP_NORESERVE, MAP_SHARED, PAGE_SIZE as PAGE } from '../abi/mm';

const CHUNK_PAGES = 1 << 18; // 1 GiB per Sentry view: keeps each ArrayBuffer small
const MAX_PAGES = 1 << 24; // 64 GiB of address space reserved in the Sentry (sparse)
const PROT_RW = 3;
const FALLOC_FL_KEEP_SIZE = 1;
const FALLOC_FL_PUNCH_HOLE = 2;
const SEEK_DATA = 3;
/** Freed memory kept before it is given back to the host (64 MiB). */
const DIRTY_MAX = 16384;
/** Runs up to this many pages may reuse dirty frames (zeroing them costs less than a fresh fault on the host). */
const DIRTY_REUSE_MAX = 256;

export class MemoryFile {
  readonly fd: number;
  private readonly base: unknown;
  private readonly chunks: Buffer[] = [];
  private refs = new Uint32Array(CHUNK_PAGES);
  private top = 0; // frames below top have been handed out at least once
  /** Reusable runs: [first, count, dirty]; dirty runs hold old data until zeroed or scrubbed. */
  private free: Array<[number, number, boolean]> = [];
  /** Coalesce again only once the free list has doubled: ranges freed in random order may not merge, and sorting on every free was quadratic. */
  private coalesceAt = 4096;
  private dirtyPages = 0;
  usedPages = 0;
  /** Highest usedPages so far (for the debug log and tests). */
  peakPages = 0;
  /** The sandbox memory limit in frames: alloc fails with ENOMEM past it. */
  limitPages = MAX_PAGES;
  /** Sentry heap the sandbox's kernel objects may use (see accounting.ts). */
  readonly heap = new HeapBudget(heapBudgetFor(MAX_PAGES * PAGE));
  /**
   * Called when an allocation would pass the limit: gives back frames that
   * were handed out but never touched (returns how many). Set by the kernel.
   */
  reclaim: ((want: number) => number) | null = null;

  constructor() {
    this.fd = libc.memfd_create('tsvisor-memory', 0);
    if (this.fd < 0) throw new Error(`memfd_create failed: errno ${libc.errno()}`);
    if (libc.ftruncate(this.fd, MAX_PAGES * PAGE) < 0) throw new Error(`ftruncate memory file: errno ${libc.errno()}`);
    const base = libc.mmapForView(MAX_PAGES * PAGE, PROT_RW, MAP_SHARED | MAP_NORESERVE, this.fd, 0);
    if (base === null) throw new Error(`mmap memory file: errno ${libc.errno()}`);
    this.base = base;
  }

  /** Set the sandbox memory limit (bytes); the heap budget follows it. */
  setLimit(bytes: number): void {
    this.limitPages = Math.max(1, Math.min(MAX_PAGES, Math.floor(bytes / PAGE)));
    this.heap.limit = heapBudgetFor(this.limitPages * PAGE);
  }

  /** The sandbox's RAM as its programs see it (/proc/meminfo, sysinfo): the limit, and what is left of it. */
  ramBytes(): { total: number; free: number } {
    return { total: this.limitPages * PAGE, free: Math.max(0, this.limitPages - this.usedPages) * PAGE };
  }

  /** Whether npages more frames fit under the limit without reclaiming anything. */
  fits(npages: number): boolean {
    return this.usedPages + npages <= this.limitPages;
  }

  /** Bytes of the memory file the host really holds (pages touched and not punched out). */
  hostResidentBytes(): number {
    return fs.fstatSync(this.fd).blocks * 512;
  }

  /** Whether frame holds no host page (handed out but never touched since allocated or punched). */
  isHole(frame: number): boolean {
    return libc.lseek(this.fd, frame * PAGE, SEEK_DATA) !== frame * PAGE;
  }

  /** Allocate npages contiguous frames with reference count 1, zero-filled; ENOMEM past the limit. */
  alloc(npages: number): number {
    if (npages <= 0) throw new Error('alloc of no pages');
    if (!this.fits(npages)) {
      if (this.reclaim) this.reclaim(this.usedPages + npages - this.limitPages);
      if (!this.fits(npages)) throw new Errno(E.ENOMEM, 'sandbox memory limit');
    }
    // Small runs may come from freed, not yet scrubbed frames (zeroed here,
    // cheaper than a hole punch per free); large ones only from clean space.
    const smallEnough = npages <= DIRTY_REUSE_MAX;
    for (let i = 0; i < this.free.length; i++) {
      const [first, count, dirty] = this.free[i];
      if (count < npages || !this.sameChunk(first, npages) || (dirty && !smallEnough)) continue;
      if (count === npages) this.free.splice(i, 1);
      else this.free[i] = [first + npages, count - npages, dirty];
      if (dirty) {
        this.dirtyPages -= npages;
        this.bytes(first, npages).fill(0);
      }
      return this.take(first, npages);
    }
    let first = this.top;
    if (!this.sameChunk(first, npages) && npages <= CHUNK_PAGES) {
      // Skip to the next chunk so a run never spans two Sentry views.
      const next = (Math.floor(first / CHUNK_PAGES) + 1) * CHUNK_PAGES;
      this.free.push([first, next - first, false]);
      first = next;
    }
    if (first + npages > MAX_PAGES) throw new Errno(E.ENOMEM, 'memory file exhausted');
    this.top = first + npages;
    return this.take(first, npages);
  }

  private sameChunk(first: number, n: number): boolean {
    return Math.floor(first / CHUNK_PAGES) === Math.floor((first + n - 1) / CHUNK_PAGES);
  }

  private take(first: number, n: number): number {
    this.ensureRefs(first + n);
    for (let i = first; i < first + n; i++) this.refs[i] = 1;
    this.usedPages += n;
    if (this.usedPages > this.peakPages) this.peakPages = this.usedPages;
    return first;
  }

  private ensureRefs(n: number): void {
    if (n <= this.refs.length) return;
    let len = this.refs.length;
    while (len < n) len *= 2;
    const r = new Uint32Array(len);
    r.set(this.refs);
    this.refs = r;
  }

  refCount(frame: number): number {
    return this.refs[frame];
  }

  incRef(frame: number, n = 1): void {
    for (let i = frame; i < frame + n; i++) {
      if (this.refs[i] === 0xffffffff) throw new Error('frame reference count overflow');
      this.refs[i]++;
    }
  }

  /** Drop one reference from each of n frames; frames that reach zero are freed and their memory returned to the host. */
  decRef(frame: number, n = 1): void {
    let runStart = -1;
    for (let i = frame; i < frame + n; i++) {
      if (this.refs[i] === 0) throw new Error(`decRef of free frame ${i}`);
      if (--this.refs[i] === 0) {
        if (runStart < 0) runStart = i;
      } else if (runStart >= 0) {
        this.release(runStart, i - runStart);
        runStart = -1;
      }
    }
    if (runStart >= 0) this.release(runStart, frame + n - runStart);
  }

  private release(first: number, n: number): void {
    if (n <= 0) return;
    this.usedPages -= n;
    this.free.push([first, n, true]);
    this.dirtyPages += n;
    // Freed pages still held by the host count against the limit too.
    if (this.dirtyPages > DIRTY_MAX || this.usedPages + this.dirtyPages > this.limitPages) this.scrub();
    if (this.free.length > this.coalesceAt) {
      this.coalesce();
      this.coalesceAt = Math.max(4096, this.free.length * 2);
    }
  }

  /** Return freed memory to the host: punching holes also makes the frames read as zeros again. */
  scrub(): void {
    this.coalesce();
    for (const r of this.free) {
      if (!r[2]) continue;
      libc.fallocate(this.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, r[0] * PAGE, r[1] * PAGE);
      r[2] = false;
    }
    this.dirtyPages = 0;
  }

  private coalesce(): void {
    this.free.sort((a, b) => a[0] - b[0]);
    const out: Array<[number, number, boolean]> = [];
    for (const r of this.free) {
      const last = out[out.length - 1];
      if (last && last[0] + last[1] === r[0] && last[2] === r[2] && this.sameChunk(last[0], last[1] + r[1])) last[1] += r[1];
      else out.push([r[0], r[1], r[2]]);
    }
    this.free = out;
  }

  /** The bytes of frames [frame, frame+n) as a Buffer over the Sentry's mapping (no copy). n must stay within one 1 GiB chunk. */
  bytes(frame: number, n = 1): Buffer {
    const c = Math.floor(frame / CHUNK_PAGES);
    let chunk = this.chunks[c];
    if (!chunk) {
      chunk = Buffer.from(libc.view(this.base, c * CHUNK_PAGES * PAGE, CHUNK_PAGES * PAGE));
      this.chunks[c] = chunk;
    }
    const off = (frame - c * CHUNK_PAGES) * PAGE;
    return chunk.subarray(off, off + n * PAGE);
  }

  /** Copy a frame's contents into a newly allocated frame (copy-on-write break). */
  copyFrame(frame: number): number {
    const f = this.alloc(1);
    this.bytes(frame).copy(this.bytes(f));
    return f;
  }
}
