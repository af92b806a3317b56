// The read-write host tree behind a read-write bind mount: HostTree's walk
// plus the writes of WritableHostFiles. Every change names its file as a
// directory descriptor and one component (mkdirat, unlinkat, renameat2, ...),
// or as the file's own descriptor with AT_EMPTY_PATH (fchownat, fchmodat2,
// utimensat, *xattrat): never a path, and nothing follows a host symlink. A
// host process that swaps a directory for a symlink mid-operation therefore
// changes at most which file inside the tree is acted on, never makes a
// write land outside it (test/hostile/hostrw_escape.c).
//
// Write descriptors are opened when a write needs one: reopened through
// /proc/self/fd from a descriptor already held (so an unlinked open file
// stays writable, and the reopen reaches that very file), else by name with
// the (dev, ino) check of the walk. They live in a bounded LRU, and a file
// the sandbox no longer has open loses its write descriptor at once (a host
// process may want to run it: ETXTBSY while anyone holds it for writing).
import { E } from '../abi/errno';
import {
  AT_EMPTY_PATH, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_PATH,
  O_RDONLY, O_RDWR, O_WRONLY, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
} from '../abi/fs';
import * as libc from './libc';
import { HostTree, Node, FdLru, fail, singleName, type HostTreeLimits } from './hosttree';
import {
  HostError, type HostNode, type HostOwner, type HostSetAttr, type HostStat, type HostStatFs, type HostTime, type WritableHostFiles,
} from './hostfs';

const SYS_RENAMEAT2 = 316;
const SYS_FCHMODAT2 = 452;
const SYS_SETXATTRAT = 463;
const SYS_GETXATTRAT = 464;
const SYS_LISTXATTRAT = 465;
const SYS_REMOVEXATTRAT = 466;
const UTIME_NOW = (1 << 30) - 1;
const UTIME_OMIT = (1 << 30) - 2;
const XATTR_SIZE_MAX = 65536;
const MAX_RW = 0x7ffff000;
const F_DUPFD_CLOEXEC = 1030;

const EMPTY = Buffer.from([0]);
const DOT = Buffer.from('.\0', 'latin1');

function err(e: number, what: string): never {
  throw new HostError(e, `${what}: errno ${e}`);
}

export class WritableHostTree extends HostTree implements WritableHostFiles {
  readonly writable = true as const;
  private readonly writes: FdLru;
  /** C memory for the *xattrat calls: struct xattr_args points at the value buffer. */
  private readonly xval = libc.allocPinned(XATTR_SIZE_MAX);
  private readonly xargs = Buffer.alloc(16);
  private readonly fsbuf = Buffer.alloc(120);
  private readonly tsbuf = Buffer.alloc(32);
  /** Host writes of file data since boot. */
  dataWrites = 0;

  constructor(rootPath: string, limits: Partial<HostTreeLimits & { writeFds: number }> = {}) {
    super(rootPath, limits);
    this.writes = new FdLru(Math.max(1, limits.writeFds ?? 256), (n) => {
      libc.close(n.writeFd);
      n.writeFd = -1;
    });
    this.xargs.writeBigUInt64LE(this.xval.addr, 0);
  }

  /**
   * n's O_PATH descriptor. One that was evicted comes back from a data
   * descriptor n still holds when it has one (through its /proc/self/fd
   * link: the very file, even with no name left or renamed), else by
   * walking its names again.
   */
  protected override pathFdOf(n: Node): number {
    if (n.pathFd < 0 && (n.writeFd >= 0 || n.readFd >= 0)) {
      const fd = libc.openat(-100, procFd(n.writeFd >= 0 ? n.writeFd : n.readFd), O_PATH | O_CLOEXEC);
      if (fd >= 0) {
        this.opens++;
        n.pathFd = fd;
        this.paths.add(n);
        return fd;
      }
    }
    return super.pathFdOf(n);
  }

  /** The new entry name in d, made by make(dirfd, name): owned as asked, its mode exact (the host umask undone), as a node. */
  private made(dir: HostNode, name: string, mode: number, owner: HostOwner, make: (dirfd: number, nb: Buffer) => number, chmod: boolean): Node {
    const d = this.own(dir);
    const nb = singleName(name);
    const dirfd = this.pathFdOf(d);
    const fd = make(dirfd, nb);
    if (fd < 0) fail('create');
    // fd is the new file's own descriptor: chown and chmod act on it whatever the host does to the name meanwhile.
    // Each only when the host did not already give what is asked (two metadata writes less per file).
    let st: HostStat;
    try {
      st = this.statFd(fd);
      if ((owner.uid !== -1 && owner.uid !== st.uid) || (owner.gid !== -1 && owner.gid !== st.gid)) {
        if (libc.fchownat(fd, EMPTY, owner.uid >>> 0, owner.gid >>> 0, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) chownFail();
        st = this.statFd(fd);
      }
      // After chown, which clears set-id bits; not for symlinks (no modes of their own).
      if (chmod && (st.mode & 0o7777) !== (mode & 0o7777)) {
        if (Number(libc.syscallPath(SYS_FCHMODAT2, fd, EMPTY, mode & 0o7777, AT_EMPTY_PATH)) < 0) fail('fchmodat2');
        st = this.statFd(fd);
      }
    } catch (e) {
      const isDir = ((this.statFdSafe(fd)?.mode ?? 0) & S_IFMT) === S_IFDIR;
      libc.close(fd);
      // Leave no file behind (unlinkat by name is the best the host offers; the name is inside the tree whatever it now is).
      libc.unlinkat(dirfd, nb, isDir ? AT_REMOVEDIR : 0);
      throw e;
    }
    const n = new Node(d, nb.subarray(0, nb.length - 1), st.dev, st.ino, st);
    this.opens++;
    if ((st.mode & S_IFMT) === S_IFREG && this.isWriteFd(fd)) {
      // create(): the file is opened for writing right after, keep the descriptor.
      n.writeFd = fd;
      this.writes.add(n);
    } else {
      n.pathFd = fd;
      this.paths.add(n);
    }
    return n;
  }

  private statFdSafe(fd: number): HostStat | null {
    try {
      return this.statFd(fd);
    } catch {
      return null;
    }
  }

  private isWriteFd(fd: number): boolean {
    const fl = libc.fcntl(fd, 3 /* F_GETFL */, 0);
    return fl >= 0 && (fl & 3) !== O_RDONLY && (fl & O_PATH) === 0;
  }

  create(dir: HostNode, name: string, mode: number, owner: HostOwner): HostNode {
    // O_EXCL: an existing name, a dangling symlink included, is EEXIST; nothing is followed.
    return this.made(dir, name, mode, owner, (dirfd, nb) => libc.openatMode(dirfd, nb, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, mode & 0o7777), true);
  }

  mkdir(dir: HostNode, name: string, mode: number, owner: HostOwner): HostNode {
    return this.made(dir, name, mode, owner, (dirfd, nb) => {
      if (libc.mkdirat(dirfd, nb, mode & 0o7777) < 0) return -1;
      return this.openNew(dirfd, nb, O_DIRECTORY);
    }, true);
  }

  symlink(dir: HostNode, name: string, target: string, owner: HostOwner): HostNode {
    if (target.includes('\0')) err(E.EINVAL, 'symlink target');
    return this.made(dir, name, 0o777, owner, (dirfd, nb) => {
      if (libc.symlinkat(Buffer.from(target + '\0', 'latin1'), dirfd, nb) < 0) return -1;
      return this.openNew(dirfd, nb, 0);
    }, false);
  }

  mknod(dir: HostNode, name: string, mode: number, rdev: number, owner: HostOwner): HostNode {
    const type = mode & S_IFMT;
    if (type === S_IFREG || type === S_IFDIR || type === S_IFLNK || type === 0) err(E.EINVAL, 'mknod type');
    return this.made(dir, name, mode, owner, (dirfd, nb) => {
      if (libc.mknodat(dirfd, nb, mode, BigInt(rdev)) < 0) return -1;
      return this.openNew(dirfd, nb, 0);
    }, true);
  }

  /** An O_PATH descriptor of what was just made at nb (which a host race may have replaced: then the node is that). */
  private openNew(dirfd: number, nb: Buffer, extra: number): number {
    const fd = libc.openat(dirfd, nb, O_PATH | O_NOFOLLOW | O_CLOEXEC | extra);
    if (fd < 0) fail('openat');
    return fd;
  }

  link(target: HostNode, dir: HostNode, name: string): HostNode {
    const t = this.own(target);
    if ((t.stat.mode & S_IFMT) === S_IFDIR) err(E.EPERM, 'link of a directory');
    const nb = singleName(name);
    const dirfd = this.pathFdOf(this.own(dir));
    const src = this.pathFdOf(t);
    // The descriptor itself, never a name: AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH), else its /proc/self/fd link.
    if (libc.linkat(src, EMPTY, dirfd, nb, AT_EMPTY_PATH) < 0) {
      const e = libc.errno();
      if (e !== E.ENOENT /* no capability */ && e !== E.EPERM) err(e, 'linkat');
      if (libc.linkat(-100, procFd(src), dirfd, nb, 0x400 /* AT_SYMLINK_FOLLOW */) < 0) fail('linkat');
    }
    return { dev: t.dev, ino: t.ino, stat: this.stat(t) };
  }

  unlink(dir: HostNode, name: string, isDir: boolean): void {
    const nb = singleName(name);
    if (libc.unlinkat(this.pathFdOf(this.own(dir)), nb, isDir ? AT_REMOVEDIR : 0) < 0) fail('unlinkat');
  }

  rename(oldDir: HostNode, oldName: string, newDir: HostNode, newName: string, flags: number): void {
    const ob = singleName(oldName);
    const nb = singleName(newName);
    const ofd = this.pathFdOf(this.own(oldDir));
    const nfd = this.pathFdOf(this.own(newDir));
    if (Number(libc.syscallRename(SYS_RENAMEAT2, ofd, ob, nfd, nb, flags >>> 0)) < 0) fail('renameat2');
  }

  setattr(n: HostNode, a: HostSetAttr): HostStat {
    const o = this.own(n);
    const type = o.stat.mode & S_IFMT;
    if (a.size !== undefined) {
      if (type === S_IFDIR) err(E.EISDIR, 'truncate');
      if (type !== S_IFREG) err(E.EINVAL, 'truncate');
      if (libc.ftruncate(this.writeFdOf(o), a.size) < 0) fail('ftruncate');
    }
    if (a.uid !== undefined || a.gid !== undefined) {
      if (libc.fchownat(this.pathFdOf(o), EMPTY, (a.uid ?? -1) >>> 0, (a.gid ?? -1) >>> 0, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) chownFail();
    }
    if (a.mode !== undefined) {
      if (type === S_IFLNK) err(E.EOPNOTSUPP, 'chmod of a symlink');
      const fd = this.pathFdOf(o);
      if (Number(libc.syscallPath(SYS_FCHMODAT2, fd, EMPTY, a.mode & 0o7777, AT_EMPTY_PATH)) < 0) {
        const e = libc.errno();
        // Before Linux 6.6: chmod through the descriptor's /proc link, which reaches that very file.
        if (e !== E.ENOSYS) err(e, 'fchmodat2');
        if (Number(libc.syscallPath(268 /* fchmodat */, -100, procFd(fd), a.mode & 0o7777, 0)) < 0) fail('fchmodat');
      }
    }
    if (a.atime !== undefined || a.mtime !== undefined) {
      putTime(this.tsbuf, 0, a.atime ?? 'omit');
      putTime(this.tsbuf, 16, a.mtime ?? 'omit');
      if (libc.utimensat(this.pathFdOf(o), EMPTY, this.tsbuf, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) fail('utimensat');
    }
    return this.stat(o);
  }

  /** A descriptor of regular file o open for writing. */
  private writeFdOf(o: Node): number {
    if (o.writeFd >= 0) {
      this.writes.touch(o);
      return o.writeFd;
    }
    if ((o.stat.mode & S_IFMT) !== S_IFREG) err(E.EINVAL, 'not a regular file');
    const held = o.readFd >= 0 ? o.readFd : o.pathFd;
    let fd: number;
    if (held >= 0) {
      // The file this descriptor holds, even if its last name went: no name is looked at.
      fd = libc.openat(-100, procFd(held), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0 && libc.errno() === E.EACCES) fd = libc.openat(-100, procFd(held), O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
      if (fd < 0) fail('reopen');
      this.opens++;
    } else {
      const dirfd = this.pathFdOf(o.parent as Node);
      try {
        fd = this.openChild(dirfd, o, O_RDWR | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
      } catch (e) {
        if (!(e instanceof HostError) || e.errno !== E.EACCES) throw e;
        fd = this.openChild(dirfd, o, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
      }
    }
    o.writeFd = fd;
    this.writes.add(o);
    return fd;
  }

  pwrite(n: HostNode, buf: Buffer, off: number): number {
    const fd = this.writeFdOf(this.own(n));
    this.dataWrites++;
    const r = Number(libc.pwrite(fd, buf, Math.min(buf.length, MAX_RW), off));
    if (r < 0) fail('pwrite');
    return r;
  }

  fsync(n: HostNode, dataOnly: boolean): void {
    const o = this.own(n);
    let fd: number;
    let own = false;
    if ((o.stat.mode & S_IFMT) === S_IFREG) fd = o.writeFd >= 0 ? o.writeFd : this.readFdOf(o);
    else {
      fd = libc.openat(this.pathFdOf(o), DOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) fail('open for fsync');
      own = true;
    }
    const r = dataOnly ? libc.fdatasync(fd) : libc.fsync(fd);
    const e = libc.errno();
    if (own) libc.close(fd);
    if (r < 0) err(e, 'fsync');
  }

  fallocate(n: HostNode, mode: number, off: number, len: number): void {
    if (libc.fallocate(this.writeFdOf(this.own(n)), mode, off, len) < 0) fail('fallocate');
  }

  /**
   * Where the *xattrat calls reach n: its descriptor's /proc/self/fd link
   * (they refuse O_PATH descriptors themselves), or for a symlink, which the
   * link would not stop at, its name in its parent, not followed.
   */
  private xat(n: HostNode): [number, Buffer, number] {
    const o = this.own(n);
    if ((o.stat.mode & S_IFMT) === S_IFLNK && o.parent) return [this.pathFdOf(o.parent), Buffer.concat([o.name, EMPTY]), AT_SYMLINK_NOFOLLOW];
    return [-100, procFd(this.pathFdOf(o)), 0];
  }

  getxattr(n: HostNode, name: string): Buffer {
    this.xargs.writeUInt32LE(XATTR_SIZE_MAX, 8);
    this.xargs.writeUInt32LE(0, 12);
    const r = Number(libc.syscallXattr(SYS_GETXATTRAT, ...this.xat(n), xname(name), this.xargs, 16));
    if (r < 0) xfail('getxattrat');
    return Buffer.from(this.xval.buf.subarray(0, r));
  }

  setxattr(n: HostNode, name: string, value: Buffer, flags: number): void {
    if (value.length > XATTR_SIZE_MAX) err(7 /* E2BIG */, 'xattr value');
    value.copy(this.xval.buf);
    this.xargs.writeUInt32LE(value.length, 8);
    this.xargs.writeUInt32LE(flags >>> 0, 12);
    const r = Number(libc.syscallXattr(SYS_SETXATTRAT, ...this.xat(n), xname(name), this.xargs, 16));
    if (r < 0) xfail('setxattrat');
  }

  listxattr(n: HostNode): string[] {
    const r = Number(libc.syscallList(SYS_LISTXATTRAT, ...this.xat(n), this.xval.buf, XATTR_SIZE_MAX));
    if (r < 0) xfail('listxattrat');
    return this.xval.buf.toString('latin1', 0, r).split('\0').filter((s) => s.length > 0);
  }

  removexattr(n: HostNode, name: string): void {
    const r = Number(libc.syscallXattr(SYS_REMOVEXATTRAT, ...this.xat(n), xname(name), null, 0));
    if (r < 0) xfail('removexattrat');
  }

  statfs(): HostStatFs {
    if (libc.fstatfs(this.pathFdOf(this.rootNode), this.fsbuf) < 0) fail('fstatfs');
    const b = this.fsbuf;
    const u = (off: number) => b.readUInt32LE(off) + b.readUInt32LE(off + 4) * 2 ** 32;
    return {
      type: u(0), bsize: u(8), blocks: u(16), bfree: u(24), bavail: u(32), files: u(40), ffree: u(48), namelen: u(64), frsize: u(72), flags: u(80),
    };
  }

  override unpin(n: HostNode): void {
    super.unpin(n);
    // No longer open in the sandbox: let go of the write descriptor (see the top of the file).
    this.release(n);
  }

  /**
   * Let go of n's write descriptor unless n is open in the sandbox. The
   * Gofer, which is not told of opens (the Sentry holds the descriptors it
   * donated), calls it after every request, so it never keeps a file open
   * for writing.
   */
  release(n: HostNode): void {
    const o = this.own(n);
    if (o.pins === 0 && o.writeFd >= 0) {
      this.writes.delete(o);
      libc.close(o.writeFd);
      o.writeFd = -1;
    }
  }

  /** A new close-on-exec descriptor writing regular file n (read-write where the host allows), for the Gofer to donate; the caller closes it. */
  dupWriteFd(n: HostNode): number {
    const o = this.own(n);
    const fd = libc.fcntl(this.writeFdOf(o), F_DUPFD_CLOEXEC, 0) as number;
    const e = libc.errno();
    this.release(o);
    if (fd < 0) err(e, 'dup');
    return fd;
  }

  override close(): void {
    this.writes.drain();
    super.close();
  }

  /** Descriptors held now, the write ones included (tests check the bounds with it). */
  override held(): { path: number; read: number; pinnedRead: number; write: number } {
    return { ...super.held(), write: this.writes.size };
  }
}

/**
 * A refused chown. EINVAL means an id the serving process's user namespace
 * does not map (a rootless Gofer holds only the caller's): the sandbox gets
 * what an unprivileged chown gets from the host, EPERM.
 */
function chownFail(): never {
  const e = libc.errno();
  err(e === E.EINVAL ? E.EPERM : e, 'fchownat');
}

/** /proc/self/fd/N: the file descriptor N holds, reached without any name of it. */
function procFd(fd: number): Buffer {
  return Buffer.from(`/proc/self/fd/${fd}\0`, 'latin1');
}

function xname(name: string): Buffer {
  if (name.includes('\0')) err(E.EINVAL, 'xattr name');
  return Buffer.from(name + '\0', 'latin1');
}

/** The *xattrat calls came with Linux 6.13: older hosts have no safe way to reach a symlink's, say so. */
function xfail(what: string): never {
  const e = libc.errno();
  err(e === E.ENOSYS ? E.EOPNOTSUPP : e, what);
}

function putTime(b: Buffer, off: number, t: HostTime): void {
  if (t === 'now' || t === 'omit') {
    b.writeBigInt64LE(0n, off);
    b.writeBigInt64LE(BigInt(t === 'now' ? UTIME_NOW : UTIME_OMIT), off + 8);
    return;
  }
  const sec = t / 1_000_000_000n - (t % 1_000_000_000n < 0n ? 1n : 0n);
  b.writeBigInt64LE(sec, off);
  b.writeBigInt64LE(t - sec * 1_000_000_000n, off + 8);
}
