// The memory file: one memfd that holds every page of application memory
// (BRIEF decision 4). Stubs map windows of it; the Sentry keeps its own mapping
// of the whole file and reads/writes application memory through it with no
// system call per copy. Pages ("frames") are reference counted so that fork can
// share them copy-on-write and file caches can hand them to private mappings.

import * as fs from 'node:fs';
import * as libc from '../host/libc';
import { E, Errno } from '../abi/errno';
import { HeapBudget } from '../abi/accounting';
import { MAP_NORESERVE, MAP_SHARED, PAGE_SIZE as PAGE } from '../abi/mm';
import { FreeExtents } from './free_extents';
import { ChargeTable, kernelPages, type MemCharge } from './memcharge';

const CHUNK_PAGES = 1 << 18; // 1 GiB per Sentry view: keeps each ArrayBuffer small
/** Frames per Sentry view of the memory file (8 MiB: well under V8's 64 MiB external-memory trigger). */
const WINDOW_PAGES = 1 << 11;
const MAX_PAGES = 1 << 24; // 64 GiB of address space reserved in the Sentry (sparse)
const PROT_RW = 3;
const FALLOC_FL_KEEP_SIZE = 1;
const FALLOC_FL_PUNCH_HOLE = 2;
const SEEK_DATA = 3;
const SEEK_HOLE = 4;
const ZERO_PAGE = Buffer.alloc(PAGE);
/** Zeros written per host call when freed frames are reused (zeroFrames). */
const ZERO_BLOCK = Buffer.alloc(16 * PAGE);
/** Runs longer than this are zeroed where the host holds pages only (zeroFrames). */
const SEEK_ZERO_MIN = 16;
const ENXIO = 6;
/** Freed memory kept before it is given back to the host (64 MiB). */
const DIRTY_MAX = 16384;
/** Runs up to this many pages may reuse dirty frames (zeroing them costs less than a fresh fault on the host). */
const DIRTY_REUSE_MAX = 256;
/** allocNear hands out runs up to DOWN_MAX pages from blocks of DOWN_BLOCK frames, top down. */
const DOWN_BLOCK = 2048;
const DOWN_MAX = 64;

export class MemoryFile {
  readonly fd: number;
  private readonly base: unknown;
  private readonly windows: Buffer[] = [];
  private refs = new Uint32Array(CHUNK_PAGES);
  private top = 0; // frames below top have been handed out at least once
  /** Freed frames that still hold old data (zeroed when reused, or punched out by scrub). */
  private readonly dirty = new FreeExtents(CHUNK_PAGES);
  /** Frames below top that read as zeros (never handed out, or punched out). */
  private readonly clean = new FreeExtents(CHUNK_PAGES);
  /** Frames [downLo, down) are set aside for anonymous memory handed out from the top down (allocNear). */
  private downLo = 0;
  private down = 0;
  usedPages = 0;
  /** Highest usedPages so far (for the debug log and tests). */
  peakPages = 0;
  /** The sandbox memory limit in frames: alloc fails with ENOMEM past it. */
  limitPages = MAX_PAGES;
  /** Sentry heap the sandbox's kernel objects may use (see accounting.ts). */
  readonly heap = HeapBudget.forMemory(MAX_PAGES * PAGE);
  /**
   * Called when an allocation would pass the limit: gives back frames that
   * were handed out but never touched (returns how many). Set by the kernel.
   */
  reclaim: ((want: number) => number) | null = null;
  /** Pod containers' memory charge groups (memcharge.ts). */
  readonly charges = new ChargeTable();
  /**
   * The OOM killer for a kernel-side access to the application memory of
   * `owner` (its MemoryManager) that found no frame: true when the access
   * should retry. Set by the kernel.
   */
  userOom: ((owner: object) => boolean) | null = null;

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
    this.heap.followMemory(this.limitPages * PAGE);
  }

  /** The sandbox's RAM as its programs see it (/proc/meminfo, sysinfo): the limit, and what is left of it. */
  ramBytes(): { total: number; free: number } {
    return { total: this.limitPages * PAGE, free: Math.max(0, this.limitPages - this.usedPages - kernelPages(this.charges.kernelBytes)) * PAGE };
  }

  /** Whether npages more frames fit under the limit (and charge's, if given) without reclaiming anything; kernel memory (chargeKernel) counts. */
  fits(npages: number, charge: MemCharge | null = null): boolean {
    return this.usedPages + kernelPages(this.charges.kernelBytes) + npages <= this.limitPages && (!charge || charge.fits(npages));
  }

  /**
   * Memory the Sentry holds for the application outside this file (a unix
   * socket's queued messages): counted under the limit and charge's (the
   * sending task's group), as Linux charges kmem to the memory cgroup.
   * ENOMEM past either (after reclaiming untouched frames for the limit).
   */
  chargeKernel(bytes: number, charge: MemCharge | null): void {
    const more = kernelPages(this.charges.kernelBytes + bytes) - kernelPages(this.charges.kernelBytes);
    if (more > 0 && !this.fits(more)) {
      if (this.reclaim) this.reclaim(this.usedPages + kernelPages(this.charges.kernelBytes) + more - this.limitPages);
      if (!this.fits(more)) throw new Errno(E.ENOMEM, 'sandbox memory limit');
    }
    if (charge && charge.usedPages + kernelPages(charge.kernelBytes + bytes) > charge.limitPages) {
      charge.failures++;
      throw new Errno(E.ENOMEM, 'container memory limit');
    }
    this.charges.chargeKernel(bytes, charge);
  }

  /** Give back what chargeKernel took. */
  unchargeKernel(bytes: number, charge: MemCharge | null): void {
    this.charges.chargeKernel(-bytes, charge);
  }

  /** Bytes of the memory file the host really holds (pages touched and not punched out). */
  hostResidentBytes(): number {
    return fs.fstatSync(this.fd).blocks * 512;
  }

  /** Whether frame holds no host page (handed out but never touched since allocated or punched). */
  isHole(frame: number): boolean {
    return libc.lseek(this.fd, frame * PAGE, SEEK_DATA) !== frame * PAGE;
  }

  /**
   * Whether frames [first, first+n) read as zeros: holes on the host, or
   * pages that hold only zeros (freed frames are zeroed by the Sentry when
   * reused, so "holds a host page" alone would not tell an untouched page).
   * Only the parts the host holds are read, at most budget.pages of them
   * (false once it is spent).
   */
  allZero(first: number, n: number, budget: { pages: number }): boolean {
    const end = (first + n) * PAGE;
    for (let pos = first * PAGE; pos < end; ) {
      const data = libc.lseek(this.fd, pos, SEEK_DATA);
      if (data < 0 || data >= end) return true;
      const hole = libc.lseek(this.fd, data, SEEK_HOLE);
      const stop = hole < 0 ? end : Math.min(hole, end);
      for (let f = Math.floor(data / PAGE); f * PAGE < stop; f++) {
        // Past the budget the answer is "maybe written": the caller stays conservative.
        if (--budget.pages < 0 || this.bytes(f).compare(ZERO_PAGE) !== 0) return false;
      }
      pos = stop;
    }
    return true;
  }

  private zeroFrame = -1;

  /**
   * A frame that stays all zeros, as Linux's zero page: private anonymous
   * pages never written map it read-only (near the limit, and when memory
   * pressure finds pages that hold only zeros), so reading untouched memory
   * costs nothing; a write copies it like any shared frame (its reference
   * count never drops below 1). Made on first use, past the limit if need be
   * (one frame).
   */
  zero(): number {
    if (this.zeroFrame < 0) this.zeroFrame = this.allocFree(1);
    return this.zeroFrame;
  }

  isZeroFrame(frame: number): boolean {
    return frame === this.zeroFrame;
  }

  /** Allocate npages contiguous frames with reference count 1, zero-filled, charged to charge; ENOMEM past the limit or charge's. */
  alloc(npages: number, charge: MemCharge | null = null): number {
    this.reserve(npages, charge);
    return this.charged(this.allocFree(npages), npages, charge);
  }

  private charged(first: number, n: number, charge: MemCharge | null): number {
    this.charges.charge(first, n, charge);
    return first;
  }

  /**
   * Allocate npages for an anonymous mapping next to frames it already has,
   * so the stub can map both with one host mapping (the host has its own
   * max_map_count, and Sentry VMAs merge): [hint, hint+npages) if free, else
   * (growing down, the way mmap hands out addresses, or with no hint) from a
   * block handed out from its top down, else as alloc.
   */
  allocNear(npages: number, hint: number, down: boolean, charge: MemCharge | null = null): number {
    return this.charged(this.allocNearFree(npages, hint, down, charge), npages, charge);
  }

  private allocNearFree(npages: number, hint: number, down: boolean, charge: MemCharge | null): number {
    this.reserve(npages, charge);
    if (hint >= 0 && this.sameChunk(hint, npages)) {
      if (hint + npages === this.down && hint >= this.downLo) {
        this.down = hint;
        return this.take(hint, npages);
      }
      if (hint === this.top && hint + npages <= MAX_PAGES) {
        this.top += npages;
        return this.take(hint, npages);
      }
      if (this.dirty.takeAt(hint, npages)) {
        this.zeroFrames(hint, npages);
        return this.take(hint, npages);
      }
      if (this.clean.takeAt(hint, npages)) return this.take(hint, npages);
    }
    if (!down || npages > DOWN_MAX) return this.allocFree(npages);
    if (this.down - npages < this.downLo) {
      if (this.down > this.downLo) this.clean.add(this.downLo, this.down - this.downLo);
      // Freed space first: a program that maps and unmaps one page forever must not walk the file's end up.
      const reuse = this.clean.take(DOWN_BLOCK);
      this.downLo = reuse >= 0 ? reuse : this.bump(DOWN_BLOCK);
      this.down = this.downLo + DOWN_BLOCK;
    }
    this.down -= npages;
    return this.take(this.down, npages);
  }

  /** ENOMEM unless npages more fit under the limit (after reclaiming untouched frames) and under charge's. */
  private reserve(npages: number, charge: MemCharge | null): void {
    if (npages <= 0) throw new Error('alloc of no pages');
    if (!this.fits(npages)) {
      if (this.reclaim) this.reclaim(this.usedPages + kernelPages(this.charges.kernelBytes) + npages - this.limitPages);
      if (!this.fits(npages)) throw new Errno(E.ENOMEM, 'sandbox memory limit');
    }
    if (charge && !charge.fits(npages)) {
      charge.failures++;
      throw new Errno(E.ENOMEM, 'container memory limit');
    }
  }

  private allocFree(npages: number): number {
    // Small runs may come from freed, not yet scrubbed frames (zeroed here,
    // cheaper than a hole punch per free); large ones only from clean space.
    if (npages <= DIRTY_REUSE_MAX) {
      const d = this.dirty.take(npages);
      if (d >= 0) {
        this.zeroFrames(d, npages);
        return this.take(d, npages);
      }
    }
    const c = this.clean.take(npages);
    if (c >= 0) return this.take(c, npages);
    return this.take(this.bump(npages), npages);
  }

  /**
   * Zero freed frames for reuse with host writes: filling them through the
   * Sentry's mapping would fault each page into it first (the application
   * wrote them through the stub's), tens of microseconds a page here. Only
   * the pages the host holds are written: a run that was mapped but never
   * touched (a 1 MiB mmap whose program wrote two pages) reads as zeros
   * already, and writing it whole cost more than the mmap and munmap.
   */
  private zeroFrames(first: number, npages: number): void {
    if (npages <= SEEK_ZERO_MIN) {
      this.zeroRange(first * PAGE, (first + npages) * PAGE);
      return;
    }
    const end = (first + npages) * PAGE;
    for (let pos = first * PAGE; pos < end; ) {
      const data = Number(libc.lseek(this.fd, pos, SEEK_DATA));
      if (data < 0) {
        // ENXIO: no data past pos. Anything else: the host could not tell, so write it all.
        if (libc.errno() !== ENXIO) this.zeroRange(pos, end);
        return;
      }
      if (data >= end) return;
      const hole = Number(libc.lseek(this.fd, data, SEEK_HOLE));
      const stop = hole > data ? Math.min(hole, end) : end;
      this.zeroRange(data, stop);
      pos = stop;
    }
  }

  /** Zeros over bytes [from, to) of the file (page aligned). */
  private zeroRange(from: number, to: number): void {
    for (let at = from; at < to; ) {
      const n = Math.min(to - at, ZERO_BLOCK.length);
      const frame = Math.floor(at / PAGE);
      if (this.write(frame, at - frame * PAGE, ZERO_BLOCK.subarray(0, n)) !== n) this.bytes(frame, n / PAGE).fill(0);
      at += n;
    }
  }

  /** Frames never handed out before, within one Sentry view: the high-water mark moves up. */
  private bump(npages: number): number {
    let first = this.top;
    if (!this.sameChunk(first, npages) && npages <= CHUNK_PAGES) {
      // Skip to the next chunk so a run never spans two Sentry views.
      const next = (Math.floor(first / CHUNK_PAGES) + 1) * CHUNK_PAGES;
      this.clean.add(first, next - first);
      first = next;
    }
    if (first + npages > MAX_PAGES) throw new Errno(E.ENOMEM, 'memory file exhausted');
    this.top = first + npages;
    return first;
  }

  /** Do frames first .. first+n-1 lie in one Sentry view (so bytes(first, n) covers them)? */
  sameChunk(first: number, n: number): boolean {
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
    this.charges.uncharge(first, n);
    this.dirty.add(first, n);
    // Freed pages still held by the host count against the limit too.
    if (this.dirty.pages > DIRTY_MAX || this.usedPages + this.dirty.pages > this.limitPages) this.scrub();
  }

  /** Return freed memory to the host: punching holes also makes the frames read as zeros again. */
  scrub(): void {
    this.dirty.drain((first, n) => {
      libc.fallocate(this.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, first * PAGE, n * PAGE);
      this.clean.add(first, n);
    });
  }

  /**
   * The bytes of frames [frame, frame+n) as a Buffer over the Sentry's
   * mapping (no copy). n must stay within one 1 GiB chunk. Views are made
   * per 8 MiB window: V8 counts an ArrayBuffer's whole length as external
   * memory, and a first view of 1 GiB cost every sandbox two scavenges and a
   * mark-compact at start-up ("external memory pressure"). A run across two
   * windows gets a view of its own, not kept.
   */
  bytes(frame: number, n = 1): Buffer {
    const w = Math.floor(frame / WINDOW_PAGES);
    const off = (frame - w * WINDOW_PAGES) * PAGE;
    if (off + n * PAGE > WINDOW_PAGES * PAGE) return Buffer.from(libc.view(this.base, frame * PAGE, n * PAGE));
    let win = this.windows[w];
    if (!win) {
      win = Buffer.from(libc.view(this.base, w * WINDOW_PAGES * PAGE, WINDOW_PAGES * PAGE));
      this.windows[w] = win;
    }
    return win.subarray(off, off + n * PAGE);
  }

  /**
   * Write src into frames from byte off of frame on with host writes to the
   * memory file (pwrite): the host allocates the pages it does not hold yet
   * as it fills them, where a copy through the Sentry's mapping takes a
   * page fault (and a zeroing) per page first. Returns the bytes written
   * (fewer only if the host refused).
   */
  write(frame: number, off: number, src: Uint8Array): number {
    const base = frame * PAGE + off;
    let done = 0;
    while (done < src.length) {
      const r = Number(libc.pwrite(this.fd, src.subarray(done), src.length - done, base + done));
      if (r <= 0) break;
      done += r;
    }
    return done;
  }

  /** Copy a frame's contents into a newly allocated frame (copy-on-write break). */
  copyFrame(frame: number, charge: MemCharge | null = null): number {
    const f = this.alloc(1, charge);
    this.copyPage(frame, f);
    return f;
  }

  /** Frame src's page into frame dst, with a host write (see write): dst may be new to the Sentry's mapping. */
  copyPage(src: number, dst: number): void {
    if (this.write(dst, 0, this.bytes(src)) !== PAGE) this.bytes(src).copy(this.bytes(dst));
  }
}
