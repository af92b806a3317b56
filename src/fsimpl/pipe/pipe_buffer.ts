// A pipe's buffer (man 7 pipe): one ring of memory-file frames grown up to
// the capacity, PIPE_BUF atomicity, the reader and writer counts that give
// EOF and EPIPE, F_SETPIPE_SZ with its limits and the per-user page charge.
// The descriptions on it (PipeFile) and FIFO opens are in pipe.ts.
import { Errno, E } from '../../abi/errno';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDNORM, EVENT_WRNORM, WaitQueue } from '../../abi/waitqueue';
import type { HeapBudget } from '../../abi/accounting';
import { PseudoFs } from '../../vfs/numbering';
import type { FileLocks } from '../../vfs/locks';
import { PAGE_SIZE } from '../../abi/mm';
import { UNNUMBERED_DEV, type InodeAttrs } from '../../abi/fs';
import type { MemoryAccess } from '../../mm/access';
import type { FrameSource } from '../../mm/mappable';
import type { MemCharge } from '../../platform/memcharge';
import { PIPE_MIN_PAGES, type PipeCharge } from '../../vfs/pipe_pages';

export const PIPE_BUF = 4096;
export const DEFAULT_PIPE_SIZE = 65536;
export const MAX_PIPE_SIZE = 1048576; // /proc/sys/fs/pipe-max-size
/** No pipe grows past this, whatever the caller's capabilities (its capacity is reserved in the Sentry's heap budget). */
export const HARD_PIPE_SIZE = 64 * 1048576;
export const READ_EVENTS = EVENT_IN | EVENT_RDNORM | EVENT_HUP;
export const WRITE_EVENTS = EVENT_OUT | EVENT_WRNORM | EVENT_ERR;

export class Pipe {
  /**
   * The data: size bytes from head, wrapping at ring.length. Allocated at the
   * first write and grown up to the capacity, then reused: a 64 KiB write
   * is one copy from the writer's memory into it, a read one copy out. It is
   * a run of memory-file frames (ringFrame on), counted under the sandbox's
   * memory limit and the charge group of the writer that grew it, as Linux
   * charges pipe pages to the memory cgroup; a Buffer on the heap only
   * without a memory file (unit tests).
   */
  private ring: Buffer | null = null;
  private ringFrame = -1;
  private head = 0;
  size = 0;
  capacity = DEFAULT_PIPE_SIZE;
  readers = 0;
  writers = 0;
  /** Counts of opens ever, so a blocked FIFO open sees that a partner came (even if it left again). */
  readerOpens = 0;
  writerOpens = 0;
  hadWriter = false;
  readonly queue = new WaitQueue();
  readonly ino: number;
  /** Open descriptions of this pipe: poll/epoll wait on their own queues. */
  readonly ends = new Set<{ queue: WaitQueue }>();
  /** Bytes of the heap budget held for the buffer (its capacity, which bounds the data in it). */
  private charged = 0;
  /** Owner, mode and times of a pipe from pipe() (pipefs's inode): fchown/fchmod on either end change them. */
  attrs: InodeAttrs | null = null;
  /** The most a new buffer may get (pipe-max-size for an unprivileged creator), set before the pipe comes alive. */
  startLimit = DEFAULT_PIPE_SIZE;
  /** Advisory locks of a pipe from pipe() (a FIFO's live on its inode). */
  lockTable: FileLocks | null = null;
  /** The user charged for the buffer's pages (set before the pipe comes alive; null: nobody, as in unit tests). */
  charge: PipeCharge | null = null;
  /** Pages charged to that user now (Linux's nr_accounted). */
  private accounted = 0;

  /** pipefs: the namespace's numbering of pipes (st_dev, st_ino, "pipe:[N]"). */
  constructor(
    private readonly heap: HeapBudget | null = null,
    readonly fs: PseudoFs = new PseudoFs(UNNUMBERED_DEV),
    private readonly frames: FrameSource | null = null,
  ) {
    this.ino = fs.ino();
  }

  /** A ring of len bytes (a power of two, at least a page): frames of the memory file charged to charge (ENOMEM past the limit or its), else heap. */
  private newRing(len: number, charge: MemCharge | null = null): { buf: Buffer; frame: number } {
    if (!this.frames) return { buf: Buffer.allocUnsafe(len), frame: -1 };
    const frame = this.frames.alloc(len / PAGE_SIZE, charge);
    return { buf: this.frames.bytes(frame, len / PAGE_SIZE), frame };
  }

  /** Make next the ring, giving back the frames of the one it replaces. */
  private setRing(next: { buf: Buffer; frame: number } | null): void {
    if (this.ring && this.ringFrame >= 0) this.frames?.decRef(this.ringFrame, this.ring.length / PAGE_SIZE);
    this.ring = next ? next.buf : null;
    this.ringFrame = next ? next.frame : -1;
  }

  /**
   * Take the budget for a pipe that comes alive (pipe(), or the first open of
   * a FIFO). Like Linux past pipe-user-pages-soft, a pipe that does not get
   * the default size gets one page; with not even that, ENFILE.
   */
  attach(): void {
    if (this.charged > 0 || this.accounted > 0) return;
    // An unprivileged creator gets no more than /proc/sys/fs/pipe-max-size (Linux's alloc_pipe_info).
    let want = Math.max(PIPE_BUF, Math.min(DEFAULT_PIPE_SIZE, this.startLimit));
    const c = this.charge;
    if (c) {
      // Charged first, then cut to two pages past the soft limit, refused past the hard one (the creator's privilege decides).
      let pages = want / PAGE_SIZE;
      let total = c.book.account(c.uid, 0, pages);
      if (c.limited && c.book.overSoft(total)) {
        total = c.book.account(c.uid, pages, PIPE_MIN_PAGES);
        pages = PIPE_MIN_PAGES;
        want = pages * PAGE_SIZE;
      }
      if (c.limited && c.book.overHard(total)) {
        c.book.account(c.uid, pages, 0);
        throw new Errno(E.ENFILE, 'pipe-user-pages-hard');
      }
      this.accounted = pages;
    }
    if (!this.heap) {
      this.capacity = want;
      return;
    }
    try {
      try {
        this.heap.charge(want, E.ENFILE);
        this.capacity = want;
      } catch {
        this.heap.charge(PIPE_BUF, E.ENFILE);
        this.capacity = PIPE_BUF;
      }
    } catch (e) {
      this.uncount();
      throw e;
    }
    this.charged = this.capacity;
  }

  /** Give the user's pages back. */
  private uncount(): void {
    if (this.charge) this.charge.book.account(this.charge.uid, this.accounted, 0);
    this.accounted = 0;
  }

  /** The last end closed: the buffer is gone, a FIFO's next open starts afresh. */
  detach(): void {
    this.heap?.uncharge(this.charged);
    this.charged = 0;
    this.uncount();
    this.capacity = DEFAULT_PIPE_SIZE;
  }

  notify(events: number): void {
    this.queue.notify(events);
    for (const e of this.ends) e.queue.notify(events);
  }

  /** Room for n more bytes in the ring (never past the capacity the writer was given); a ring grown is charged to charge. */
  private reserve(n: number, charge: MemCharge | null): Buffer {
    const need = this.size + n;
    const r = this.ring;
    if (r && r.length >= need) return r;
    let len = r ? r.length : Math.min(this.capacity, DEFAULT_PIPE_SIZE);
    while (len < need) len *= 2;
    const out = this.newRing(len, charge);
    if (r) this.copyFromRing(0, this.size, (src, at) => src.copy(out.buf, at));
    this.setRing(out);
    this.head = 0;
    return out.buf;
  }

  /** Call fn with the pieces (at most two) of [from, from+n) of the data, and their offset in it. */
  private copyFromRing(from: number, n: number, fn: (src: Buffer, at: number) => void): void {
    const r = this.ring as Buffer;
    ringPieces(r, (this.head + from) % r.length, n, fn);
  }

  /** Append n bytes that fill() writes into the (at most two) free pieces it is given; charge: the writer's group. */
  private append(n: number, fill: (dst: Buffer, at: number) => void, charge: MemCharge | null = null): void {
    if (n === 0) return;
    const r = this.reserve(n, charge);
    ringPieces(r, (this.head + this.size) % r.length, n, fill);
    // Only now: a fault in the writer's memory half way leaves the pipe as it was.
    this.size += n;
  }

  private consume(n: number): void {
    this.size -= n;
    this.head = this.size === 0 ? 0 : (this.head + n) % (this.ring as Buffer).length;
  }

  take(len: number): Buffer {
    const n = Math.min(len, this.size);
    const out = Buffer.allocUnsafe(n);
    if (n > 0) this.copyFromRing(0, n, (src, at) => src.copy(out, at));
    this.consume(n);
    return out;
  }

  /** Move up to len bytes straight into application memory; returns the count. */
  takeToUser(mem: MemoryAccess, addr: number, len: number): number {
    const n = Math.min(len, this.size);
    if (n > 0) this.copyFromRing(0, n, (src, at) => mem.copyOut(addr + at, src));
    this.consume(n);
    return n;
  }

  /** Append data; charge: the writer's group, for a ring grown (as putFromUser). */
  put(data: Buffer, charge: MemCharge | null = null): void {
    this.append(data.length, (dst, at) => data.copy(dst, 0, at, at + dst.length), charge);
  }

  /** Append n bytes straight from application memory at addr; a ring grown for them is charged to the writer's group, as Linux charges pipe pages to the writing task's memory cgroup. */
  putFromUser(mem: MemoryAccess, addr: number, n: number): void {
    this.append(n, (dst, at) => mem.copyInto(addr + at, dst), mem.charge ?? null);
  }

  /** The ring no larger than cap (the data fits: size <= cap), so a shrunk pipe holds no more heap than charged. */
  private shrinkRing(cap: number): void {
    const out = this.newRing(cap);
    if (this.size > 0) this.copyFromRing(0, this.size, (src, at) => src.copy(out.buf, at));
    this.setRing(out);
    this.head = 0;
  }

  // splice, tee and vmsplice (syscalls/sys_splice.ts) move data ring to ring,
  // or between a ring and a file, without a Buffer in between.

  /** Copy n bytes (n <= size, n <= free room of dst) into dst (a ring grown there charged to charge, the caller's group); consumed here unless keep (tee). */
  transferTo(dst: Pipe, n: number, keep: boolean, charge: MemCharge | null = null): void {
    dst.append(n, (d, at) => this.copyFromRing(at, d.length, (src, k) => src.copy(d, k)), charge);
    if (!keep) this.consume(n);
  }

  /** The first n bytes of the data as (at most two) views of the ring; nothing is consumed. */
  peek(n: number): Buffer[] {
    const out: Buffer[] = [];
    if (n > 0) this.copyFromRing(0, Math.min(n, this.size), (src) => out.push(src));
    return out;
  }

  /** Drop n bytes that a peek's reader took. */
  drop(n: number): void {
    if (n > 0) this.consume(Math.min(n, this.size));
  }

  /** Append n bytes that fill() writes into the ring's free pieces (fill gets each piece and its offset); charge: the writer's group. */
  fill(n: number, fill: (dst: Buffer, at: number) => void, charge: MemCharge | null = null): void {
    this.append(n, fill, charge);
  }

  clear(): void {
    this.setRing(null);
    this.head = 0;
    this.size = 0;
  }

  /**
   * F_SETPIPE_SZ; capSysResource: the caller may pass pipe-max-size;
   * limited: the per-user page limits apply to it (Linux's
   * pipe_is_unprivileged_user). Only growing is refused by either.
   */
  setCapacity(n: number, capSysResource: boolean, maxSize = MAX_PIPE_SIZE, limited = false): number {
    if (n <= 0) n = 1;
    if (n > 2 ** 31) throw new Errno(E.EINVAL);
    let cap = PIPE_BUF;
    while (cap < n) cap *= 2;
    const grows = cap > this.capacity;
    if (grows && cap > maxSize && !capSysResource) throw new Errno(E.EPERM);
    if (n > HARD_PIPE_SIZE) throw new Errno(E.EPERM);
    if (cap < this.size) throw new Errno(E.EBUSY);
    const c = this.charge;
    const was = this.accounted;
    if (c) {
      const total = c.book.account(c.uid, was, cap / PAGE_SIZE);
      this.accounted = cap / PAGE_SIZE;
      if (grows && limited && (c.book.overHard(total) || c.book.overSoft(total))) {
        c.book.account(c.uid, this.accounted, was);
        this.accounted = was;
        throw new Errno(E.EPERM, 'pipe-user-pages');
      }
    }
    if (this.heap && cap > this.charged) {
      try {
        this.heap.charge(cap - this.charged, E.EPERM);
      } catch (e) {
        if (c) c.book.account(c.uid, this.accounted, was);
        this.accounted = was;
        throw e;
      }
    } else this.heap?.uncharge(this.charged - cap);
    if (this.ring && this.ring.length > cap) this.shrinkRing(cap);
    if (this.heap) this.charged = cap;
    this.capacity = cap;
    this.notify(WRITE_EVENTS);
    return cap;
  }

  readReady(): number {
    let r = 0;
    if (this.size > 0) r |= EVENT_IN | EVENT_RDNORM;
    if (this.writers === 0 && this.hadWriter) r |= EVENT_HUP;
    return r;
  }
  writeReady(): number {
    if (this.readers === 0) return EVENT_ERR | EVENT_OUT | EVENT_WRNORM;
    const free = this.capacity - this.size;
    return free >= PIPE_BUF || free === this.capacity ? EVENT_OUT | EVENT_WRNORM : 0;
  }
}

/** Call fn with the (at most two) pieces of ring r that n bytes from pos occupy, and each piece's offset in them. */
function ringPieces(r: Buffer, pos: number, n: number, fn: (piece: Buffer, at: number) => void): void {
  for (let done = 0; done < n; pos = 0) {
    const k = Math.min(n - done, r.length - pos);
    fn(r.subarray(pos, pos + k), done);
    done += k;
  }
}
