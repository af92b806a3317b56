// Open file descriptions (man 2 open: "open file description"): status flags,
// offset and a reference count shared by dup'ed and inherited descriptors.
// Subclasses: RegularFile (regular_file.ts), DirectoryFile (dir_file.ts,
// getdents), PathFile (O_PATH, here), and in fsimpl pipes, devices, host fds.
import type { LandlockDomain } from '../auth/creds';
import { Errno, E } from '../abi/errno';
import { WaitQueue, EVENT_IN, EVENT_OUT, EVENT_RDNORM, EVENT_WRNORM, type Waiter } from '../abi/waitqueue';
import type { FileCtx } from './ctx';
import type { VPath } from './dentry';
import type { Inode } from './inode';
import { FileLocks } from './locks';
import type { Mappable } from '../mm/mappable';
import type { InodeAttrs } from '../abi/fs';
import type { MemoryAccess } from '../mm/access';
import { notifyClose } from './fsnotify';
import { O_ACCMODE, O_PATH, O_RDONLY, O_RDWR, O_WRONLY, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET, S_IFDIR, S_IFMT, S_IFREG } from '../abi/fs';
import { nowNs } from '../host/clock';

/** Who gets signal-driven I/O signals of a description, and which signal. */
export interface FileAsync {
  /** F_OWNER_TID 0, F_OWNER_PID 1, F_OWNER_PGRP 2. */
  ownerType: number;
  /** 0: nobody. */
  owner: number;
  /** 0: SIGIO without details, else this signal with si_code/si_band/si_fd. */
  sig: number;
  /** The fd O_ASYNC was set through (si_fd). */
  fd: number;
  /** Registered on the queue while O_ASYNC is set. */
  waiter: Waiter | null;
  /** Landlock: the domain of the task that set an owner outside its own process (its signal scope applies); null: none. */
  landlock: LandlockDomain | null;
}

/** Told when a description's last reference goes (an epoll set drops its entries for it). */
export interface ReleaseWatcher {
  fileReleased(f: FileDescription): void;
}

export const MAX_LFS = Number.MAX_SAFE_INTEGER; // offsets beyond 2^53 are refused with EFBIG/EINVAL

export type MaybePromise<T> = T | Promise<T>;

/**
 * The bytes of [addr, addr+len) usable before the first fault, cut to a
 * multiple of granule when the fault comes first; EFAULT when len > 0 and
 * that leaves none.
 */
export function userRoom(mem: MemoryAccess, addr: number, len: number, write: boolean, granule = 1): number {
  if (len === 0) return 0;
  let room = mem.prefix(addr, len, write);
  if (room < len) room -= room % granule;
  if (room === 0) throw new Errno(E.EFAULT);
  return room;
}

function copyOutAll(mem: MemoryAccess, addr: number, data: Buffer): number {
  if (data.length) mem.copyOut(addr, data);
  return data.length;
}

/**
 * Readiness, the one interface every description offers (poll, select, the
 * blocking paths of read and write, O_ASYNC, and epoll next): readiness(mask)
 * says what is ready now; a waiter registered with eventRegister is woken
 * (with the events) when that may have changed. A woken waiter checks
 * readiness again. Register first, then check, then sleep: nothing is missed.
 */
export abstract class FileDescription {
  refs = 1;
  /**
   * Notified when readiness may have changed. Files whose readiness lives
   * in the Sentry (pipes) notify it themselves; others (host fds) arm a
   * source when the first waiter registers.
   */
  readonly queue = new WaitQueue();
  offset = 0;
  /** The VFS counted this open on the inode (incOpen): the last reference uncounts it. */
  countsOpen = false;
  /** Signal-driven I/O (fcntl F_SETOWN, F_SETSIG, O_ASYNC): null until first used. */
  async: FileAsync | null = null;

  /**
   * Count this open on its inode (tmpfs's open count, and the descriptions
   * and writers leases and ETXTBSY look at): the last reference uncounts it.
   * A writer of a file being executed is ETXTBSY, as on Linux.
   */
  countOpen(): void {
    const inode = this.inode!;
    if (this.writable) {
      if (inode.writeCount < 0) throw new Errno(E.ETXTBSY);
      inode.writeCount++;
    }
    inode.openDescriptions++;
    inode.incOpen();
    this.countsOpen = true;
  }
  /** Opened through the VFS (vfs.openAt): counted on its inode for fsnotify, which hears of its close. */
  notifyOpened = false;
  /**
   * Landlock: the rights checked on the description after its open
   * (TRUNCATE, IOCTL_DEV), as the opener's domain granted them; every right
   * for files opened without one, or not opened by path (pipes, memfd).
   */
  landlockAllowed = -1;
  /** Epoll sets with entries for this description: null until one registers it. */
  protected releaseWatchers: Set<ReleaseWatcher> | null = null;

  constructor(
    /** Where it was opened (null for anonymous files: pipes, host fds). */
    public readonly path: VPath | null,
    public readonly inode: Inode | null,
    /** Access mode and status flags (O_APPEND, O_NONBLOCK, ...). */
    public flags: number,
  ) {}

  get readable(): boolean {
    const m = this.flags & O_ACCMODE;
    return !(this.flags & O_PATH) && (m === O_RDONLY || m === O_RDWR);
  }
  get writable(): boolean {
    const m = this.flags & O_ACCMODE;
    return !(this.flags & O_PATH) && (m === O_WRONLY || m === O_RDWR);
  }

  /**
   * Read at the file offset (advancing it). Returns the bytes read (empty at
   * EOF). nowait (RWF_NOWAIT): EAGAIN rather than block, for this call only;
   * only files whose supportsNowait() says so get it.
   */
  read(_t: FileCtx, _len: number, _nowait?: boolean): MaybePromise<Buffer> {
    throw new Errno(E.EINVAL);
  }
  write(_t: FileCtx, _data: Buffer, _nowait?: boolean): MaybePromise<number> {
    throw new Errno(E.EINVAL);
  }
  /**
   * read(2) into application memory at addr (not yet checked). As Linux's
   * copy_to_user, a buffer that turns bad part-way takes what fits before
   * the fault: only that much is read, and EFAULT only when nothing fits.
   * Files that can copy straight from their own storage override it; the
   * default reads a Buffer of that size and copies it out.
   */
  readToUser(t: FileCtx, mem: MemoryAccess, addr: number, len: number): MaybePromise<number> {
    const room = userRoom(mem, addr, len, true);
    const d = this.read(t, room);
    return d instanceof Promise ? d.then((b) => copyOutAll(mem, addr, b)) : copyOutAll(mem, addr, d);
  }
  /** write(2) from application memory at addr (not yet checked): the part before a fault is written; nothing readable is EFAULT. */
  writeFromUser(t: FileCtx, mem: MemoryAccess, addr: number, len: number): MaybePromise<number> {
    const room = userRoom(mem, addr, len, false);
    return this.write(t, room ? mem.copyIn(addr, room) : Buffer.alloc(0));
  }
  /**
   * A buffer that turns bad part-way moves its usable part rounded down to a
   * multiple of this (pipes: whole pages, as Linux's pipe copies a page-sized
   * piece at once and drops a piece cut by a fault); none of it is EFAULT.
   */
  faultGranule(): number {
    return 1;
  }
  /** write() takes the count without reading the buffer (/dev/null, /dev/zero). */
  ignoresWriteData(): boolean {
    return false;
  }
  /**
   * fsync/fdatasync (and RWF_DSYNC/RWF_SYNC): data held in memory needs
   * nothing; as on Linux only regular files and directories have a sync,
   * pipes, FIFOs, sockets and character devices refuse.
   */
  sync(dataOnly: boolean): void {
    const fmt = this.inode ? this.inode.mode & S_IFMT : 0;
    if (!this.path || (fmt !== S_IFREG && fmt !== S_IFDIR)) throw new Errno(E.EINVAL);
    this.inode?.sync(dataOnly);
  }
  /** Files that never block, or that honour nowait in read/write, say so. */
  supportsNowait(_write: boolean): boolean {
    return false;
  }
  pread(_t: FileCtx, _len: number, _off: number): MaybePromise<Buffer> {
    throw new Errno(E.ESPIPE);
  }
  pwrite(_t: FileCtx, _data: Buffer, _off: number): MaybePromise<number> {
    throw new Errno(E.ESPIPE);
  }
  seek(_off: number, _whence: number): number {
    throw new Errno(E.ESPIPE);
  }
  /**
   * A write at the end of the file whatever the offset (pwritev2 RWF_APPEND):
   * off === null moves the file offset past the data, else it stays. Streams
   * have no end to append at: they just write.
   */
  appendWrite(t: FileCtx, data: Buffer, off: number | null, nowait = false): MaybePromise<number> {
    return off === null ? this.write(t, data, nowait) : this.pwrite(t, data, off);
  }
  /**
   * A write at off (null: the file offset, advanced past the data) even on an
   * O_APPEND description (pwritev2 RWF_NOAPPEND). Streams just write.
   */
  positionedWrite(t: FileCtx, data: Buffer, off: number | null, nowait = false): MaybePromise<number> {
    return off === null ? this.write(t, data, nowait) : this.pwrite(t, data, off);
  }
  /** pwritev2/preadv2 RWF_DONTCACHE is a hint this file takes (Linux refuses it where it has no page cache to drop). */
  takesDontcache(): boolean {
    return false;
  }
  /**
   * Serialize directory entries from the current position into at most size
   * bytes (EINVAL if the next does not fit), of which only the first room
   * bytes can be delivered (EFAULT if the next entry does not fit there).
   */
  getdents(_size: number, _dirent64: boolean, _room: number): Buffer {
    throw new Errno(E.ENOTDIR);
  }
  ioctl(_t: FileCtx, _cmd: number, _arg: number): MaybePromise<number> {
    throw new Errno(E.ENOTTY);
  }
  /** The subset of mask (poll events) that is ready now; EVENT_ERR and EVENT_HUP may come unasked. */
  readiness(mask: number): number {
    return mask & (EVENT_IN | EVENT_OUT | EVENT_RDNORM | EVENT_WRNORM);
  }
  /**
   * Whether readiness is meaningful: epoll refuses the others with EPERM
   * (on Linux: the file operations have no poll). poll and select still
   * take them, as always ready for what they were opened for.
   */
  canPoll(): boolean {
    return false;
  }

  /**
   * Whether splice may move data to or from this file (on Linux: the file
   * operations have splice_read/splice_write). Those that have none make
   * splice EINVAL at once, before it would wait on the pipe at the other end.
   */
  canSplice(): boolean {
    return true;
  }
  watchRelease(w: ReleaseWatcher): void {
    (this.releaseWatchers ??= new Set()).add(w);
  }
  unwatchRelease(w: ReleaseWatcher): void {
    this.releaseWatchers?.delete(w);
  }
  /** Wake w (w.wake(events)) whenever readiness in w.mask may have changed, until eventUnregister(w). */
  eventRegister(w: Waiter): void {
    this.queue.add(w);
  }
  eventUnregister(w: Waiter): void {
    this.queue.remove(w);
  }
  stat(): InodeAttrs {
    if (this.inode) return this.inode.attrs();
    return anonAttrs(0o600);
  }
  mappable(): Mappable | null {
    return null;
  }
  /** st_dev and st_ino of what this description refers to. */
  ids(): { dev: number; ino: number } {
    if (this.inode && this.path) return { dev: this.path.mount.fs.dev, ino: this.inode.ino };
    return { dev: 0, ino: 0 };
  }
  /** Bytes available to read now (FIONREAD), when meaningful. */
  available(): number {
    throw new Errno(E.ENOTTY);
  }
  /** Called when flags change through fcntl(F_SETFL) or FIONBIO. */
  flagsChanged(): void {}
  /**
   * The queue events that, with O_ASYNC, signal the owner (POLL_IN for the
   * input ones, POLL_OUT for the output ones); 0 for files that never do.
   */
  asyncEvents(): number {
    return 0;
  }

  /**
   * The advisory locks of what this description refers to, made on first use
   * if create: its inode's; a file without one (a socket, an eventfd) is its
   * own inode, so it keeps them itself (a pipe's ends share the pipe's).
   */
  locks(create: boolean): FileLocks | null {
    if (this.inode) return create ? this.inode.lockTable() : this.inode.locks;
    if (create) this.ownLocks ??= new FileLocks();
    return this.ownLocks;
  }
  private ownLocks: FileLocks | null = null;
  /**
   * The attributes of a file without an inode that fchmod/fchown may change
   * (a pipe from pipe()): the record itself, shared by every end; null when
   * there is none to change.
   */
  ownAttrs(): InodeAttrs | null {
    return null;
  }

  incRef(): void {
    this.refs++;
  }
  decRef(): void {
    if (--this.refs === 0) {
      if (this.releaseWatchers) for (const w of [...this.releaseWatchers]) w.fileReleased(this);
      this.releaseWatchers = null;
      // OFD locks and flocks belong to the description.
      this.locks(false)?.releaseDescription(this);
      if (this.inode && this.countsOpen) {
        this.inode.decOpen();
        this.inode.openDescriptions--;
        if (this.writable) this.inode.writeCount--;
      }
      if (this.notifyOpened && this.inode) notifyClose(this.path ? this.path.dentry : null, this.inode, (this.flags & O_PATH) !== 0, this.writable);
      this.release();
    }
  }
  /** Last reference gone. */
  protected release(): void {}
  /**
   * What close(2) waits for once it dropped the last reference (Linux runs
   * the release in the closing task before close returns): a TCP socket with
   * SO_LINGER waits for its peer's acknowledgements. Exits and other drops do
   * not wait. null: nothing.
   */
  closeWait(_t: FileCtx): Promise<void> | null {
    return null;
  }
}

/**
 * A pollable file on Linux's anonymous inode: no path ("anon_inode:NAME" in
 * /proc/PID/fd), stat()'s default inode, pollable. nowait: whether it takes
 * RWF_NOWAIT reads and writes (Linux's FMODE_NOWAIT: the event counters,
 * eventfd, signalfd, timerfd and userfaultfd, set it; epoll and pidfds do not).
 */
export abstract class AnonFile extends FileDescription {
  constructor(private readonly anonName: string, flags: number, private readonly nowait: boolean) {
    super(null, null, flags);
  }

  procName(): string {
    return `anon_inode:${this.anonName}`;
  }

  override canPoll(): boolean {
    return true;
  }

  /** No anonymous-inode file of Linux (epoll, eventfd, signalfd, timerfd, inotify, pidfd, userfaultfd) has splice operations. */
  override canSplice(): boolean {
    return false;
  }

  override supportsNowait(_write: boolean): boolean {
    return this.nowait;
  }
}

const anonBirth = nowNs();
/** Attributes of anonymous files (pipes, sockets without inodes). */
export function anonAttrs(mode: number, ino = 0): InodeAttrs {
  return { mode, uid: 0, gid: 0, nlink: 1, size: 0, blocks: 0, blksize: 4096, rdev: 0, atimeNs: anonBirth, mtimeNs: anonBirth, ctimeNs: anonBirth, btimeNs: anonBirth };
}

export function seekPosition(cur: number, inode: Inode | null, off: number, whence: number): number {
  let pos: number;
  switch (whence) {
    case SEEK_SET: pos = off; break;
    case SEEK_CUR: pos = cur + off; break;
    case SEEK_END: pos = (inode ? inode.attrs().size : 0) + off; break;
    case SEEK_DATA:
    case SEEK_HOLE:
      if (!inode) throw new Errno(E.EINVAL);
      if (off < 0) throw new Errno(E.ENXIO);
      pos = inode.seekData(off, whence === SEEK_HOLE);
      break;
    default: throw new Errno(E.EINVAL);
  }
  // Past the largest file size is EINVAL, as Linux's vfs_setpos (sizes stop at 2^53 here).
  if (pos < 0 || pos > MAX_LFS) throw new Errno(E.EINVAL);
  return pos;
}

/** O_PATH descriptions: a location only (fstat, fchdir, *at bases); I/O fails with EBADF. */
export class PathFile extends FileDescription {
  override read(): Buffer {
    throw new Errno(E.EBADF);
  }
  override write(): number {
    throw new Errno(E.EBADF);
  }
  override pread(): Buffer {
    throw new Errno(E.EBADF);
  }
  override pwrite(): number {
    throw new Errno(E.EBADF);
  }
  override seek(): number {
    throw new Errno(E.EBADF);
  }
  override getdents(): Buffer {
    throw new Errno(E.EBADF);
  }
  override ioctl(): number {
    throw new Errno(E.EBADF);
  }
}

