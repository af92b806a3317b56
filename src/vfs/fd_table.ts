// The per-process file descriptor table (man 2 dup, fcntl F_GETFD/F_SETFD):
// descriptor numbers -> (open file description, FD_CLOEXEC). Descriptions are
// reference counted: dup, fork and SCM_RIGHTS share them. Which numbers are
// in use is also kept in a bitmap, so finding the lowest free one is a scan of
// 32-bit words from a hint below which every descriptor is known to be taken
// (a loop of dup up to a raised RLIMIT_NOFILE stays linear, not quadratic).
import { notifyFlush } from './fsnotify';
import { Errno, E } from '../abi/errno';
import type { FileDescription } from './file';
import { O_PATH } from '../abi/fs';


interface Slot {
  file: FileDescription;
  cloexec: boolean;
}

export class FdTable {
  private readonly slots: Array<Slot | undefined> = [];
  /** Bit fd % 32 of word fd >> 5 is set when fd is open. */
  private used = new Uint32Array(4);
  /** Every descriptor below this one is open. */
  private lowestFree = 0;
  private open = 0;
  /** RLIMIT_NOFILE soft limit: descriptors must be below it. */
  limit = 1024;
  /** The owner of the POSIX lock this table's process waits for in F_SETLKW (locks.ts: deadlock detection). */
  lockBlockedBy: object | null = null;
  /** Tasks using this table (CLONE_FILES shares it): the last one out closes the files. */
  users = 1;

  /**
   * The description at fd for an operation on the file itself, or EBADF. An
   * O_PATH description is only a location: every such operation refuses it
   * here with EBADF (Linux's fdget), so no call can forget to.
   */
  get(fd: number): FileDescription {
    const f = this.getRaw(fd);
    if (f.flags & O_PATH) throw new Errno(E.EBADF);
    return f;
  }

  /** The description at fd, O_PATH ones included (fstat, fchdir, *at() bases, dup, fcntl), or EBADF. */
  getRaw(fd: number): FileDescription {
    const s = fd >= 0 ? this.slots[fd] : undefined;
    if (!s) throw new Errno(E.EBADF);
    return s.file;
  }

  /** What poll sees at fd: null for a closed descriptor and for an O_PATH one (POLLNVAL both). */
  lookup(fd: number): FileDescription | null {
    const s = fd >= 0 ? this.slots[fd] : undefined;
    return s && !(s.file.flags & O_PATH) ? s.file : null;
  }

  has(fd: number): boolean {
    return fd >= 0 && this.slots[fd] !== undefined;
  }

  getCloexec(fd: number): boolean {
    this.getRaw(fd);
    return (this.slots[fd] as Slot).cloexec;
  }

  setCloexec(fd: number, on: boolean): void {
    this.getRaw(fd);
    (this.slots[fd] as Slot).cloexec = on;
  }

  /** Install file at the lowest free descriptor >= min (takes over the caller's reference). EMFILE at the limit. */
  install(file: FileDescription, cloexec = false, min = 0): number {
    if (min >= this.limit) throw new Errno(E.EINVAL);
    const fd = this.firstFree(min);
    if (fd >= this.limit) throw new Errno(E.EMFILE);
    this.put(fd, { file, cloexec });
    return fd;
  }

  /** The lowest descriptor >= min not in use (may be >= limit: the caller decides). */
  private firstFree(min: number): number {
    const from = Math.max(min, this.lowestFree);
    const words = this.used;
    let w = from >>> 5;
    if (w >= words.length) return from;
    // Bits below `from` in its word count as taken.
    let free = ~words[w] & (0xffffffff << (from & 31));
    while (free === 0) {
      if (++w >= words.length) return w << 5;
      free = ~words[w];
    }
    const fd = (w << 5) + (31 - Math.clz32(free & -free));
    if (min <= this.lowestFree) this.lowestFree = fd;
    return fd;
  }

  private put(fd: number, s: Slot): void {
    const w = fd >>> 5;
    if (w >= this.used.length) {
      let n = this.used.length;
      while (n <= w) n *= 2;
      const grown = new Uint32Array(n);
      grown.set(this.used);
      this.used = grown;
    }
    if (this.slots[fd] === undefined) this.open++;
    this.used[w] |= 1 << (fd & 31);
    this.slots[fd] = s;
  }

  private remove(fd: number): void {
    this.slots[fd] = undefined;
    this.used[fd >>> 5] &= ~(1 << (fd & 31));
    this.open--;
    if (fd < this.lowestFree) this.lowestFree = fd;
  }

  /** Install at exactly fd, closing what was there (dup2/dup3 semantics; takes over the reference). */
  installAt(fd: number, file: FileDescription, cloexec = false): void {
    if (fd < 0 || fd >= this.limit) throw new Errno(E.EBADF);
    const old = this.slots[fd];
    this.put(fd, { file, cloexec });
    if (old) this.release(old.file);
  }

  /** dup(): a new descriptor sharing the description, FD_CLOEXEC clear. */
  dup(fd: number, min = 0, cloexec = false): number {
    const f = this.getRaw(fd);
    f.incRef();
    try {
      return this.install(f, cloexec, min);
    } catch (e) {
      f.decRef();
      throw e;
    }
  }

  /** dup2/dup3: newfd == oldfd is the caller's business (dup2 returns it, dup3 fails EINVAL). */
  dup2(oldfd: number, newfd: number, cloexec = false): number {
    const f = this.getRaw(oldfd);
    if (oldfd === newfd) return newfd;
    if (newfd < 0 || newfd >= this.limit) throw new Errno(E.EBADF);
    f.incRef();
    this.installAt(newfd, f, cloexec);
    return newfd;
  }

  close(fd: number): void {
    const s = fd >= 0 ? this.slots[fd] : undefined;
    if (!s) throw new Errno(E.EBADF);
    this.remove(fd);
    this.trim();
    this.release(s.file);
  }

  /** close_range(first, last, flags): CLOSE_RANGE_CLOEXEC (4) only marks. */
  closeRange(first: number, last: number, cloexecOnly: boolean): void {
    const end = Math.min(last, this.slots.length - 1);
    for (let fd = first; fd <= end; fd++) {
      const s = this.slots[fd];
      if (!s) continue;
      if (cloexecOnly) s.cloexec = true;
      else this.close(fd);
    }
  }

  private release(f: FileDescription): void {
    // POSIX record locks belong to the fd table (the "process"); any close of the file drops them.
    f.locks(false)?.releaseRecords(this);
    if (f.inode && f.inode.watches) notifyFlush(f, this);
    f.decRef();
  }

  private trim(): void {
    while (this.slots.length && this.slots[this.slots.length - 1] === undefined) this.slots.pop();
  }

  /** fork(): a new table with the same descriptors sharing the same descriptions. */
  fork(): FdTable {
    const t = new FdTable();
    t.limit = this.limit;
    for (let fd = 0; fd < this.slots.length; fd++) {
      const s = this.slots[fd];
      if (s) {
        s.file.incRef();
        t.put(fd, { file: s.file, cloexec: s.cloexec });
      }
    }
    return t;
  }

  /**
   * EMFILE if a copy of this table (fork, unshare(CLONE_FILES)) would need
   * more slots than fs.nr_open allows: Linux sizes tables in whole words of
   * 64 descriptors, up to the highest open one.
   */
  checkCopy(nrOpen: number): void {
    const words = (n: number) => Math.ceil(n / 64) * 64;
    if (words(this.slots.length) > words(nrOpen)) throw new Errno(E.EMFILE);
  }

  /** clone(CLONE_FILES): one more task uses this table. */
  share(): FdTable {
    this.users++;
    return this;
  }

  /** A task using the table exits: the last one closes every descriptor. */
  unshare(): void {
    if (--this.users <= 0) this.closeAll();
  }

  /** execve(): close descriptors marked FD_CLOEXEC. */
  closeOnExec(): void {
    for (let fd = 0; fd < this.slots.length; fd++) if (this.slots[fd]?.cloexec) this.close(fd);
  }

  /** Process exit (or the last user of a shared table going away). */
  closeAll(): void {
    for (let fd = 0; fd < this.slots.length; fd++) if (this.slots[fd]) this.close(fd);
  }

  /** Open descriptors in increasing order (for /proc/self/fd and poll-style iteration). */
  fds(): number[] {
    const out: number[] = [];
    for (let fd = 0; fd < this.slots.length; fd++) if (this.slots[fd]) out.push(fd);
    return out;
  }

  get count(): number {
    return this.open;
  }
}
