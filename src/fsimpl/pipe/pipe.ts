// Pipes and FIFOs (man 7 pipe): a 64 KiB buffer by default, writes of at most
// PIPE_BUF bytes are atomic, EOF once every writer is gone, EPIPE + SIGPIPE
// once every reader is gone. A FIFO's open blocks until the other side opens.
import { Errno, E } from '../../abi/errno';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDNORM, EVENT_WRNORM, WaitQueue } from '../../abi/waitqueue';
import { SIGPIPE, type FileCtx } from '../../vfs/ctx';
import type { VPath } from '../../vfs/dentry';
import { anonAttrs, FileDescription, userRoom, type MaybePromise } from '../../vfs/file';
import type { Inode } from '../../vfs/inode';
import type { HeapBudget } from '../../abi/accounting';
import { PseudoFs } from '../../vfs/numbering';
import { FileLocks } from '../../vfs/locks';
import { PAGE_SIZE } from '../../abi/mm';
import { O_ACCMODE, UNNUMBERED_DEV, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, S_IFIFO, type InodeAttrs } from '../../abi/fs';
import type { MemoryAccess } from '../../mm/access';
import type { FrameSource } from '../../mm/mappable';
import type { Credentials } from '../../auth/creds';
import { capableInit } from '../../auth/userns';
import { CAP_SYS_ADMIN, CAP_SYS_RESOURCE } from '../../abi/capability';
import { PIPE_MIN_PAGES, type PipeCharge, type PipeUserPages } from '../../vfs/pipe_pages';

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
   * memory limit as Linux charges pipe pages to the memory cgroup; a Buffer
   * on the heap only without a memory file (unit tests).
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

  /** A ring of len bytes (a power of two, at least a page): frames of the memory file (ENOMEM past the limit), else heap. */
  private newRing(len: number): { buf: Buffer; frame: number } {
    if (!this.frames) return { buf: Buffer.allocUnsafe(len), frame: -1 };
    const frame = this.frames.alloc(len / PAGE_SIZE);
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

  /** Room for n more bytes in the ring (never past the capacity the writer was given). */
  private reserve(n: number): Buffer {
    const need = this.size + n;
    const r = this.ring;
    if (r && r.length >= need) return r;
    let len = r ? r.length : Math.min(this.capacity, DEFAULT_PIPE_SIZE);
    while (len < need) len *= 2;
    const out = this.newRing(len);
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

  /** Append n bytes that fill() writes into the (at most two) free pieces it is given. */
  private append(n: number, fill: (dst: Buffer, at: number) => void): void {
    if (n === 0) return;
    const r = this.reserve(n);
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

  put(data: Buffer): void {
    this.append(data.length, (dst, at) => data.copy(dst, 0, at, at + dst.length));
  }

  /** Append n bytes straight from application memory at addr. */
  putFromUser(mem: MemoryAccess, addr: number, n: number): void {
    this.append(n, (dst, at) => mem.copyInto(addr + at, dst));
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

  /** Copy n bytes (n <= size, n <= free room of dst) into dst; consumed here unless keep (tee). */
  transferTo(dst: Pipe, n: number, keep: boolean): void {
    dst.append(n, (d, at) => this.copyFromRing(at, d.length, (src, k) => src.copy(d, k)));
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

  /** Append n bytes that fill() writes into the ring's free pieces (fill gets each piece and its offset). */
  fill(n: number, fill: (dst: Buffer, at: number) => void): void {
    this.append(n, fill);
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

/** One end (or both, for a FIFO opened O_RDWR) of a pipe. */
export class PipeFile extends FileDescription {
  constructor(readonly pipe: Pipe, flags: number, path: VPath | null = null, inode: Inode | null = null) {
    super(path, inode, flags);
    if (!inode) pipe.attrs ??= { ...anonAttrs(S_IFIFO | 0o600, pipe.ino), uid: 0 };
    const m = flags & O_ACCMODE;
    if (pipe.readers === 0 && pipe.writers === 0) pipe.attach();
    if (m === O_RDONLY || m === O_RDWR) {
      pipe.readers++;
      pipe.readerOpens++;
    }
    if (m === O_WRONLY || m === O_RDWR) {
      pipe.writers++;
      pipe.writerOpens++;
      pipe.hadWriter = true;
    }
    pipe.ends.add(this);
    pipe.notify(READ_EVENTS | WRITE_EVENTS);
  }

  override stat(): InodeAttrs {
    if (this.inode) return this.inode.attrs();
    return { ...(this.pipe.attrs as InodeAttrs), rdev: 0 };
  }
  override ownAttrs(): InodeAttrs | null {
    return this.inode ? null : this.pipe.attrs;
  }
  override locks(create: boolean): FileLocks | null {
    if (this.inode) return super.locks(create);
    if (create) this.pipe.lockTable ??= new FileLocks();
    return this.pipe.lockTable;
  }
  override ids(): { dev: number; ino: number } {
    if (this.inode && this.path) return { dev: this.path.mount.fs.dev, ino: this.inode.ino };
    return { dev: this.pipe.fs.dev, ino: this.pipe.ino };
  }
  /** fcntl F_GETPIPE_SZ / F_SETPIPE_SZ. */
  get pipeSize(): number {
    return this.pipe.capacity;
  }
  setPipeSize(n: number, privileged: boolean, maxSize: number, limited = false): number {
    return this.pipe.setCapacity(n, privileged, maxSize, limited);
  }

  override supportsNowait(): boolean {
    return true;
  }

  override asyncEvents(): number {
    let ev = 0;
    if (this.readable) ev |= EVENT_IN | EVENT_RDNORM | EVENT_HUP;
    if (this.writable) ev |= EVENT_OUT | EVENT_WRNORM;
    return ev;
  }

  // read and write finish synchronously when the pipe can answer at once (data
  // to read, room to write): no promise, no scheduler hop. Only a call that
  // has to wait becomes async.

  override read(t: FileCtx, len: number, nowait = false): MaybePromise<Buffer> {
    const p = this.pipe;
    if (len === 0) return Buffer.alloc(0);
    if (p.size > 0) return this.took(p.take(len));
    if (this.atEof(nowait)) return Buffer.alloc(0);
    return t.block(p.queue, READ_EVENTS).then(() => this.read(t, len, nowait));
  }

  override readToUser(t: FileCtx, mem: MemoryAccess, addr: number, len: number): MaybePromise<number> {
    const p = this.pipe;
    if (len === 0) return 0;
    // Checked before anything is taken (what left the pipe cannot go back),
    // over what there is to take: an empty pipe never reaches the buffer.
    if (p.size > 0) return this.took(p.takeToUser(mem, addr, userRoom(mem, addr, Math.min(len, p.size), true, PAGE_SIZE)));
    if (this.atEof(false)) return 0;
    return t.block(p.queue, READ_EVENTS).then(() => this.readToUser(t, mem, addr, len));
  }

  private took<T>(r: T): T {
    this.pipe.notify(WRITE_EVENTS);
    return r;
  }

  /** The pipe is empty: true at EOF (no writer), EAGAIN if the caller may not block, false to wait. */
  private atEof(nowait: boolean): boolean {
    if (this.pipe.writers === 0) return true;
    if (this.flags & O_NONBLOCK || nowait) throw new Errno(E.EAGAIN);
    return false;
  }

  override write(t: FileCtx, data: Buffer, nowait = false): MaybePromise<number> {
    return this.writeWith(t, data.length, nowait, (p, at, n) => p.put(data.subarray(at, at + n)));
  }

  override faultGranule(): number {
    return PAGE_SIZE;
  }

  override writeFromUser(t: FileCtx, mem: MemoryAccess, addr: number, len: number): MaybePromise<number> {
    // Checked before anything is written: only whole pages before a fault go in.
    len = userRoom(mem, addr, len, false, PAGE_SIZE);
    return this.writeWith(t, len, false, (p, at, n) => p.putFromUser(mem, addr + at, n));
  }

  /** The write loop over a source of len bytes that put() appends from offset at. */
  private writeWith(t: FileCtx, len: number, nowait: boolean, put: (p: Pipe, at: number, n: number) => void, done = 0): MaybePromise<number> {
    const p = this.pipe;
    // As Linux: an empty write does nothing, not even EPIPE.
    if (len === 0) return 0;
    for (;;) {
      if (p.readers === 0) {
        if (done > 0) return done;
        t.sendSignal(SIGPIPE);
        throw new Errno(E.EPIPE);
      }
      const free = p.capacity - p.size;
      const rest = len - done;
      if (rest === 0) return done;
      // Up to PIPE_BUF bytes go in all at once or not at all.
      const n = rest <= PIPE_BUF && done === 0 ? (free >= rest ? rest : 0) : Math.min(free, rest);
      if (n > 0) {
        put(p, done, n);
        done += n;
        p.notify(READ_EVENTS);
        if (done === len) return done;
      }
      if (this.flags & O_NONBLOCK || nowait) {
        if (done > 0) return done;
        throw new Errno(E.EAGAIN);
      }
      return this.waitWritable(t, len, put, done);
    }
  }

  private async waitWritable(t: FileCtx, len: number, put: (p: Pipe, at: number, n: number) => void, done: number): Promise<number> {
    try {
      await t.block(this.pipe.queue, WRITE_EVENTS);
    } catch (e) {
      if (done > 0) return done; // a partial write is reported, not the interruption
      throw e;
    }
    return this.writeWith(t, len, false, put, done);
  }

  override canPoll(): boolean {
    return true;
  }

  override readiness(mask: number): number {
    const m = this.flags & O_ACCMODE;
    let r = 0;
    if (m === O_RDONLY || m === O_RDWR) r |= this.pipe.readReady();
    if (m === O_WRONLY || m === O_RDWR) r |= this.pipe.writeReady();
    return r & (mask | EVENT_ERR | EVENT_HUP);
  }

  override available(): number {
    return this.pipe.size;
  }

  protected override release(): void {
    const p = this.pipe;
    p.ends.delete(this);
    const m = this.flags & O_ACCMODE;
    if (m === O_RDONLY || m === O_RDWR) p.readers--;
    if (m === O_WRONLY || m === O_RDWR) p.writers--;
    if (p.readers === 0 && p.writers === 0) {
      p.clear();
      p.hadWriter = false;
      p.detach();
    }
    p.notify(READ_EVENTS | WRITE_EVENTS);
  }
}

/** The buffer a new pipe gets at most: the default, or less when pipe-max-size is lower and the creator lacks CAP_SYS_RESOURCE. */
export function pipeStartLimit(creds: Credentials, pipeMaxSize: number): number {
  return capableInit(creds, CAP_SYS_RESOURCE) ? DEFAULT_PIPE_SIZE : Math.min(DEFAULT_PIPE_SIZE, pipeMaxSize);
}

/** Whether the per-user pipe page limits apply to creds (neither CAP_SYS_RESOURCE nor CAP_SYS_ADMIN). */
export function pipeLimited(creds: Credentials): boolean {
  return !capableInit(creds, CAP_SYS_RESOURCE) && !capableInit(creds, CAP_SYS_ADMIN);
}

/** The charge of a pipe that creds brings alive: its real user's pages in book. */
export function pipeCharge(creds: Credentials, book: PipeUserPages): PipeCharge {
  return { book, uid: creds.uid, limited: pipeLimited(creds) };
}

/** pipe2(): a read end and a write end. */
export function makePipe(flags: number, heap: HeapBudget | null = null, fs?: PseudoFs, frames: FrameSource | null = null, startLimit = DEFAULT_PIPE_SIZE, charge: PipeCharge | null = null): [PipeFile, PipeFile] {
  const p = new Pipe(heap, fs, frames);
  p.startLimit = startLimit;
  p.charge = charge;
  const st = flags & O_NONBLOCK;
  return [new PipeFile(p, O_RDONLY | st), new PipeFile(p, O_WRONLY | st)];
}

/** open() of a FIFO: blocks until the other side is present, per fifo(7). */
export async function openFifo(t: FileCtx, inode: Inode, path: VPath, flags: number, fs?: PseudoFs, pipeMaxSize = MAX_PIPE_SIZE, users: PipeUserPages | null = null): Promise<PipeFile> {
  let p = inode.fifo instanceof Pipe ? inode.fifo : null;
  if (!p) {
    p = new Pipe(t.heapBudget ?? null, fs, t.frames ?? null);
    inode.fifo = p;
  }
  // A FIFO's buffer is made by the open that brings it alive, with that opener's limit.
  if (p.readers === 0 && p.writers === 0) {
    p.startLimit = pipeStartLimit(t.creds, pipeMaxSize);
    p.charge = users ? pipeCharge(t.creds, users) : null;
  }
  const m = flags & O_ACCMODE;
  if (m === O_WRONLY && p.readers === 0 && flags & O_NONBLOCK) throw new Errno(E.ENXIO);
  const f = new PipeFile(p, flags, path, inode);
  if (flags & O_NONBLOCK || m === O_RDWR) return f;
  try {
    if (m === O_RDONLY) {
      const seen = p.writerOpens;
      while (p.writers === 0 && p.writerOpens === seen) await t.block(p.queue, EVENT_OUT | EVENT_IN | EVENT_HUP | EVENT_ERR);
    } else {
      const seen = p.readerOpens;
      while (p.readers === 0 && p.readerOpens === seen) await t.block(p.queue, EVENT_OUT | EVENT_IN | EVENT_HUP | EVENT_ERR);
    }
  } catch (e) {
    f.decRef();
    throw e;
  }
  return f;
}

/** Call fn with the (at most two) pieces of ring r that n bytes from pos occupy, and each piece's offset in them. */
function ringPieces(r: Buffer, pos: number, n: number, fn: (piece: Buffer, at: number) => void): void {
  for (let done = 0; done < n; pos = 0) {
    const k = Math.min(n - done, r.length - pos);
    fn(r.subarray(pos, pos + k), done);
    done += k;
  }
}
