// Pipes and FIFOs (man 7 pipe): the descriptions on a pipe's buffer
// (pipe_buffer.ts), reads that wait for data and EOF once every writer is
// gone, writes that wait for room and EPIPE + SIGPIPE once every reader is
// gone; pipe2() and the FIFO open that blocks until the other side opens.
import { Errno, E } from '../../abi/errno';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDNORM, EVENT_WRNORM } from '../../abi/waitqueue';
import { SIGPIPE, type FileCtx } from '../../vfs/ctx';
import type { VPath } from '../../vfs/dentry';
import { anonAttrs, FileDescription, userRoom, type MaybePromise } from '../../vfs/file';
import type { Inode } from '../../vfs/inode';
import type { HeapBudget } from '../../abi/accounting';
import { PseudoFs } from '../../vfs/numbering';
import { FileLocks } from '../../vfs/locks';
import { PAGE_SIZE } from '../../abi/mm';
import { O_ACCMODE, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, S_IFIFO, type InodeAttrs } from '../../abi/fs';
import type { MemoryAccess } from '../../mm/access';
import type { FrameSource } from '../../mm/mappable';
import type { Credentials } from '../../auth/creds';
import { capableInit } from '../../auth/userns';
import { CAP_SYS_ADMIN, CAP_SYS_RESOURCE } from '../../abi/capability';
import type { PipeCharge, PipeUserPages } from '../../vfs/pipe_pages';
import { DEFAULT_PIPE_SIZE, MAX_PIPE_SIZE, Pipe, PIPE_BUF, READ_EVENTS, WRITE_EVENTS } from './pipe_buffer';

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
    return this.writeWith(t, data.length, nowait, (p, at, n) => p.put(data.subarray(at, at + n), t.memCharge ?? null));
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
