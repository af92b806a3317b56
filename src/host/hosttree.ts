// The host tree behind --rootfs, walked one component at a time from
// descriptors, never by path string: the only absolute path ever opened is
// the root itself, at boot. Every step is openat/statx relative to the
// parent's O_PATH descriptor with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, so a host
// symlink is only ever seen as a symlink (the Sentry resolves it inside the
// sandbox's root) and a directory swapped for a symlink on the host cannot
// lead a later lookup out of the tree. A node is identified by (dev, ino):
// reopening it (after its descriptor was evicted) walks from the root again
// and fails with ESTALE if the names now lead somewhere else.
//
// Descriptors stay inside this module (the future Gofer's side of the
// boundary): callers hold HostNode objects. O_PATH descriptors are kept in a
// bounded LRU; read descriptors of regular files in a second one. A file open
// in the sandbox (pinned) keeps its read descriptor in a third, larger LRU, so
// reads of a file opened before a host-side swap keep reading that file; one
// descriptor serves every open of the same node. That LRU is bounded too: a
// program holding more host files open than it allows cannot exhaust the
// Sentry's descriptors. Its least recently read files lose their descriptor
// and reopen by name at the next read (ESTALE if the name now leads to
// another file).
import * as libc from './libc';
import { HostError, type HostChangeFeed, type HostDirent, type HostFiles, type HostNode, type HostStat } from './hostfs';
import { HostInotifyFeed } from './inotify_feed';

const O_RDONLY = 0;
const O_NONBLOCK = 0o4000;
const O_DIRECTORY = 0o200000;
const O_NOFOLLOW = 0o400000;
const O_CLOEXEC = 0o2000000;
const O_PATH = 0o10000000;
const O_NOCTTY = 0o400;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;
const AT_STATX_SYNC_AS_STAT = 0;
const STATX_BASIC_STATS_BTIME = 0x7ff | 0x800;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const ENOENT = 2;
const ENOTDIR = 20;
const ESTALE = 116;
const ELOOP = 40;
const F_DUPFD_CLOEXEC = 1030;

const EMPTY = Buffer.from([0]);
const DOT = Buffer.from('.\0', 'latin1');
export const cstr = (name: string): Buffer => Buffer.from(name + '\0', 'latin1');

/** name as a C string, if it is one component: "a/b" would let the host follow a symlink at "a", ".." leave the root. */
export function singleName(name: string): Buffer {
  if (name.length === 0 || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
    throw new HostError(22, 'not a single name');
  }
  return cstr(name);
}

export function fail(what: string): never {
  const e = libc.errno();
  throw new HostError(e, `${what}: errno ${e}`);
}

/** dev_t as glibc's makedev builds it from statx's major/minor. */
function makedev(major: number, minor: number): number {
  return (major & 0xfff) * 256 + (minor & 0xff) + (minor >>> 8) * 2 ** 20 + (major >>> 12) * 2 ** 44;
}

function tsNs(b: Buffer, off: number): bigint {
  return b.readBigInt64LE(off) * 1_000_000_000n + BigInt(b.readUInt32LE(off + 8));
}

/** A u64 field as a number (exact below 2^53), without a BigInt. */
function u64(b: Buffer, off: number): number {
  return b.readUInt32LE(off) + b.readUInt32LE(off + 4) * 2 ** 32;
}

/** struct statx (linux/stat.h) to HostStat. */
export function parseStatx(b: Buffer): HostStat {
  return {
    blksize: b.readUInt32LE(4),
    nlink: b.readUInt32LE(16),
    uid: b.readUInt32LE(20),
    gid: b.readUInt32LE(24),
    mode: b.readUInt16LE(28),
    ino: u64(b, 32),
    size: u64(b, 40),
    blocks: u64(b, 48),
    atimeNs: tsNs(b, 64),
    birthtimeNs: tsNs(b, 80),
    ctimeNs: tsNs(b, 96),
    mtimeNs: tsNs(b, 112),
    rdev: makedev(b.readUInt32LE(128), b.readUInt32LE(132)),
    dev: makedev(b.readUInt32LE(136), b.readUInt32LE(140)),
  };
}

export class Node implements HostNode {
  /** O_PATH descriptor, -1 while closed. */
  pathFd = -1;
  /** Read descriptor of a regular file, -1 while closed. */
  readFd = -1;
  /** Write descriptor (the read-write tree's), -1 while closed. */
  writeFd = -1;
  pins = 0;

  constructor(
    readonly parent: Node | null,
    readonly name: Buffer,
    readonly dev: number,
    readonly ino: number,
    public stat: HostStat,
  ) {}
}

/** A bounded set of nodes holding a descriptor, least recently used first; closeOf closes the oldest's when full. */
export class FdLru<T = Node> {
  private readonly order = new Set<T>();
  constructor(
    private readonly max: number,
    private readonly closeOf: (n: T) => void,
  ) {}
  touch(n: T): void {
    this.order.delete(n);
    this.order.add(n);
  }
  add(n: T): void {
    if (this.order.size >= this.max) {
      const oldest = this.order.values().next().value as T;
      this.order.delete(oldest);
      this.closeOf(oldest);
    }
    this.order.add(n);
  }
  delete(n: T): void {
    this.order.delete(n);
  }
  /** Close every descriptor held. */
  drain(): void {
    for (const n of this.order) this.closeOf(n);
    this.order.clear();
  }
  get size(): number {
    return this.order.size;
  }
}

export interface HostTreeLimits {
  /** O_PATH descriptors kept open (the root's is extra). */
  pathFds: number;
  /** Read descriptors of files not open in the sandbox. */
  readFds: number;
  /** Read descriptors of files open in the sandbox. */
  pinnedReadFds: number;
}

export const DEFAULT_HOST_TREE_LIMITS: HostTreeLimits = { pathFds: 256, readFds: 128, pinnedReadFds: 1024 };

export class HostTree implements HostFiles {
  protected readonly rootNode: Node;
  protected readonly sbuf = Buffer.alloc(256);
  private readonly dbuf = Buffer.alloc(1 << 16);
  protected readonly paths: FdLru;
  protected readonly reads: FdLru;
  protected readonly pinnedReads: FdLru;
  /** Descriptors opened since boot (tests count walks with it). */
  opens = 0;
  /** Host reads of file data since boot (tests count the reads a transfer takes with it). */
  dataReads = 0;

  /** Open the tree at an absolute host path (boot only). */
  constructor(rootPath: string, limits: Partial<HostTreeLimits> = {}) {
    const lim = { ...DEFAULT_HOST_TREE_LIMITS, ...limits };
    // The root may itself be reached through host symlinks (the caller named it); below it, nothing is.
    const fd = libc.openat(-100, cstr(rootPath), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      const e = libc.errno();
      const why = e === ENOENT ? 'does not exist' : e === ENOTDIR ? 'is not a directory' : `cannot be opened (errno ${e})`;
      throw new HostError(e, `rootfs ${rootPath} ${why}`);
    }
    const st = this.statFd(fd);
    this.rootNode = new Node(null, EMPTY, st.dev, st.ino, st);
    this.rootNode.pathFd = fd;
    this.paths = new FdLru(Math.max(8, lim.pathFds), (n) => {
      libc.close(n.pathFd);
      n.pathFd = -1;
    });
    const closeRead = (n: Node) => {
      libc.close(n.readFd);
      n.readFd = -1;
    };
    this.reads = new FdLru(Math.max(1, lim.readFds), closeRead);
    this.pinnedReads = new FdLru(Math.max(1, lim.pinnedReadFds), closeRead);
  }

  root(): HostNode {
    return this.rootNode;
  }

  /**
   * Close every descriptor the tree holds, its root's too (the container it
   * served is gone: a pod's, sandbox/pod.ts), so that the host can unmount
   * what it is on. Later calls fail (EBADF).
   */
  close(): void {
    this.reads.drain();
    this.pinnedReads.drain();
    this.paths.drain();
    if (this.rootNode.pathFd >= 0) libc.close(this.rootNode.pathFd);
    this.rootNode.pathFd = -1;
  }

  /** The host's inotify for this tree, made at the first watch (it lives as long as the tree, as the tree's descriptors do). */
  private feed: HostInotifyFeed | null = null;
  changes(): HostChangeFeed {
    return (this.feed ??= new HostInotifyFeed((n) => this.pathFdOf(this.own(n))));
  }

  protected own(n: HostNode): Node {
    if (!(n instanceof Node)) throw new Error('host node of another tree');
    return n;
  }

  protected statFd(fd: number): HostStat {
    if (libc.statx(fd, EMPTY, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS_BTIME, this.sbuf) < 0) fail('statx');
    return parseStatx(this.sbuf);
  }

  /** The O_PATH descriptor of n, reopened by walking from the root if it was evicted. */
  protected pathFdOf(n: Node): number {
    if (n.pathFd >= 0) {
      if (n !== this.rootNode) this.paths.touch(n);
      return n.pathFd;
    }
    const parent = n.parent as Node;
    const fd = this.openChild(this.pathFdOf(parent), n, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    n.pathFd = fd;
    this.paths.add(n);
    return fd;
  }

  /** openat(dirfd, n.name) that must land on n itself (same dev and ino), else ESTALE. */
  protected openChild(dirfd: number, n: Node, flags: number): number {
    const fd = libc.openat(dirfd, n.name, flags);
    if (fd < 0) {
      const e = libc.errno();
      // Gone or replaced by a symlink (O_NOFOLLOW without O_PATH): the node is stale.
      if (e === ENOENT || e === ENOTDIR || e === ELOOP) throw new HostError(ESTALE, 'host node gone');
      throw new HostError(e, `openat: errno ${e}`);
    }
    this.opens++;
    let st: HostStat;
    try {
      st = this.statFd(fd);
    } catch (err) {
      libc.close(fd);
      throw err;
    }
    if (st.dev !== n.dev || st.ino !== n.ino) {
      libc.close(fd);
      throw new HostError(ESTALE, 'host node replaced');
    }
    n.stat = st;
    return fd;
  }

  lookup(dir: HostNode, name: string): HostNode | null {
    const d = this.own(dir);
    const nb = singleName(name);
    if (libc.statx(this.pathFdOf(d), nb, AT_SYMLINK_NOFOLLOW | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS_BTIME, this.sbuf) < 0) {
      const e = libc.errno();
      if (e === ENOENT || e === ENOTDIR) return null;
      fail('statx');
    }
    const st = parseStatx(this.sbuf);
    return new Node(d, nb.subarray(0, nb.length - 1), st.dev, st.ino, st);
  }

  stat(n: HostNode): HostStat {
    const o = this.own(n);
    // An open data descriptor first: it still reaches a file whose last name went (unlinked while open).
    o.stat = this.statFd(o.writeFd >= 0 ? o.writeFd : o.readFd >= 0 ? o.readFd : this.pathFdOf(o));
    return o.stat;
  }

  readdir(dir: HostNode): HostDirent[] {
    const fd = libc.openat(this.pathFdOf(this.own(dir)), DOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) fail('opendir');
    const out: HostDirent[] = [];
    try {
      for (;;) {
        const n = Number(libc.getdents64(fd, this.dbuf, this.dbuf.length));
        if (n < 0) fail('getdents64');
        if (n === 0) break;
        for (let off = 0; off < n; ) {
          const reclen = this.dbuf.readUInt16LE(off + 16);
          const end = this.dbuf.indexOf(0, off + 19);
          const name = this.dbuf.toString('latin1', off + 19, end < 0 || end > off + reclen ? off + reclen : end);
          if (name !== '.' && name !== '..') {
            out.push({ name, ino: this.dbuf.readUInt32LE(off) + this.dbuf.readUInt32LE(off + 4) * 2 ** 32, type: this.dbuf[off + 18] });
          }
          off += reclen;
        }
      }
    } finally {
      libc.close(fd);
    }
    return out;
  }

  readlink(n: HostNode): string {
    const o = this.own(n);
    const buf = Buffer.allocUnsafe(Math.max(256, Math.min(o.stat.size + 1, 65536)));
    // The empty path reads the link the O_PATH descriptor holds, not whatever the name means now.
    const r = Number(libc.readlinkat(this.pathFdOf(o), EMPTY, buf, buf.length));
    if (r < 0) fail('readlinkat');
    return buf.toString('latin1', 0, r);
  }

  protected readsOf(o: Node): FdLru {
    return o.pins === 0 ? this.reads : this.pinnedReads;
  }

  protected readFdOf(o: Node): number {
    if (o.readFd >= 0) {
      this.readsOf(o).touch(o);
      return o.readFd;
    }
    if ((o.stat.mode & S_IFMT) !== S_IFREG) throw new HostError(22, 'not a regular file');
    const parent = o.parent as Node;
    // O_NONBLOCK|O_NOCTTY: should the name now be a FIFO or a device, opening it must not block or
    // adopt a terminal; the identity check then rejects it.
    o.readFd = this.openChild(this.pathFdOf(parent), o, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    this.readsOf(o).add(o);
    return o.readFd;
  }

  pread(n: HostNode, buf: Buffer, off: number): number {
    this.dataReads++;
    const r = Number(libc.pread(this.readFdOf(this.own(n)), buf, buf.length, off));
    if (r < 0) fail('pread');
    return r;
  }

  /** A new close-on-exec descriptor reading n, for the Gofer to donate to the Sentry; the caller closes it. */
  dupReadFd(n: HostNode): number {
    const fd = libc.fcntl(this.readFdOf(this.own(n)), F_DUPFD_CLOEXEC, 0) as number;
    if (fd < 0) fail('dup');
    return fd;
  }

  pin(n: HostNode): void {
    const o = this.own(n);
    if (o.pins++ > 0 || (o.stat.mode & S_IFMT) !== S_IFREG) return;
    if (o.readFd >= 0) {
      this.reads.delete(o);
      this.pinnedReads.add(o);
      return;
    }
    try {
      this.readFdOf(o);
    } catch {
      // Unreadable on the host (permissions, gone): reads report it when they happen.
    }
  }

  unpin(n: HostNode): void {
    const o = this.own(n);
    if (o.pins === 0) return;
    if (--o.pins === 0 && o.readFd >= 0) {
      this.pinnedReads.delete(o);
      this.reads.add(o);
    }
  }

  /** Descriptors held now (tests check the bounds with it). */
  held(): { path: number; read: number; pinnedRead: number } {
    return { path: this.paths.size + 1, read: this.reads.size, pinnedRead: this.pinnedReads.size };
  }
}
