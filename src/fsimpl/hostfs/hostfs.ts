// hostfs: a read-only view of a host directory tree (the lower layer of the
// root overlay). All host access goes through src/host/hostfs.ts. Regular
// files keep a page cache of memory-file frames for mmap, filled by pread on
// first use; host file descriptors are kept in a small LRU.
import { Errno, E } from '../../kernel/errno';
import * as host from '../../host/hostfs';
import { Inode, type FilesystemImpl } from '../../vfs/inode';
import type { FrameSource, Mappable } from '../../vfs/mappable';
import {
  anonDev, dtype, S_IFLNK, S_IFMT, S_IFREG, ST_RDONLY,
  type DirEntry, type InodeAttrs, type StatFs,
} from '../../vfs/types';

const PAGE = 4096;
const MAX_OPEN = 128;

function hostErr(e: unknown): never {
  if (e instanceof host.HostError) throw new Errno(e.errno);
  throw e;
}

export class HostFs implements FilesystemImpl {
  readonly name = 'hostfs';
  readonly dev = anonDev();
  readonly readonly = true;
  readonly dynamic = false;
  private readonly inodes = new Map<string, HostInode>();
  private readonly rootInode: HostInode;
  /** Open host fds, least recently used first. */
  private readonly fds = new Map<HostInode, number>();

  constructor(readonly hostRoot: string, readonly frames: FrameSource | null) {
    const st = host.lstat(hostRoot);
    if (!st || (st.mode & S_IFMT) !== 0o040000) throw new Error(`rootfs ${hostRoot} is not a directory`);
    this.rootInode = this.inodeFor(hostRoot, st);
  }

  root(): HostInode {
    return this.rootInode;
  }

  inodeFor(path: string, st: host.HostStat): HostInode {
    const key = `${st.dev}:${st.ino}`;
    let i = this.inodes.get(key);
    if (!i) {
      i = new HostInode(this, path, st);
      this.inodes.set(key, i);
    }
    return i;
  }

  statfs(): StatFs {
    return { type: 0xef53, bsize: PAGE, blocks: 1 << 24, bfree: 0, bavail: 0, files: 1 << 20, ffree: 0, namelen: 255, flags: ST_RDONLY };
  }

  /** pread through a cached host fd. */
  pread(i: HostInode, buf: Buffer, off: number): number {
    let fd = this.fds.get(i);
    if (fd === undefined) {
      if (this.fds.size >= MAX_OPEN) {
        const [oldest, ofd] = this.fds.entries().next().value as [HostInode, number];
        host.close(ofd);
        this.fds.delete(oldest);
      }
      try {
        fd = host.openRead(i.hostPath);
      } catch (e) {
        hostErr(e);
      }
    } else {
      this.fds.delete(i); // re-insert: most recently used last
    }
    this.fds.set(i, fd);
    try {
      return host.pread(fd, buf, off);
    } catch (e) {
      hostErr(e);
    }
  }
}

export class HostInode extends Inode {
  readonly ino: number;
  private readonly a: InodeAttrs;
  private cache: Map<number, number> | null = null;
  private linkTarget: string | null = null;
  private lookups: Map<string, HostInode | null> | null = null;

  constructor(readonly fs: HostFs, readonly hostPath: string, st: host.HostStat) {
    super();
    this.ino = st.ino;
    this.a = {
      mode: st.mode, uid: st.uid, gid: st.gid, nlink: st.nlink, size: st.size, blocks: st.blocks, blksize: st.blksize,
      rdev: st.rdev, atimeNs: st.atimeNs, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, btimeNs: st.birthtimeNs,
    };
  }

  attrs(): InodeAttrs {
    return { ...this.a };
  }
  override get mode(): number {
    return this.a.mode;
  }

  private child(name: string): string {
    return this.hostPath.endsWith('/') ? this.hostPath + name : `${this.hostPath}/${name}`;
  }

  override lookup(name: string): HostInode | null {
    if ((this.a.mode & S_IFMT) !== 0o040000) throw new Errno(E.ENOTDIR);
    // The host tree is read-only for the sandbox: answers (even negative ones) can be cached.
    if (!this.lookups) this.lookups = new Map();
    const hit = this.lookups.get(name);
    if (hit !== undefined) return hit;
    const r = this.lookupHost(name);
    this.lookups.set(name, r);
    return r;
  }

  private lookupHost(name: string): HostInode | null {
    const p = this.child(name);
    let st: host.HostStat | null;
    try {
      st = host.lstat(p);
    } catch (e) {
      if (e instanceof host.HostError && (e.errno === E.ENOENT || e.errno === E.ENOTDIR)) return null;
      hostErr(e);
    }
    return st ? this.fs.inodeFor(p, st) : null;
  }

  override readdir(): DirEntry[] {
    let names: string[];
    try {
      names = host.readdir(this.hostPath);
    } catch (e) {
      hostErr(e);
    }
    const out: DirEntry[] = [];
    for (const name of names) {
      const c = this.lookup(name);
      if (c) out.push({ name, ino: c.ino, type: dtype(c.a.mode) });
    }
    return out;
  }

  override readlink(): string {
    if ((this.a.mode & S_IFMT) !== S_IFLNK) throw new Errno(E.EINVAL);
    if (this.linkTarget === null) {
      try {
        this.linkTarget = host.readlink(this.hostPath);
      } catch (e) {
        hostErr(e);
      }
    }
    return this.linkTarget;
  }

  override readAt(off: number, len: number): Buffer {
    if ((this.a.mode & S_IFMT) !== S_IFREG) throw new Errno(E.EINVAL);
    len = Math.max(0, Math.min(len, 1 << 24));
    const buf = Buffer.allocUnsafe(len);
    let got = 0;
    // Loop: a short pread only means EOF when it returns 0.
    while (got < len) {
      const n = this.fs.pread(this, buf.subarray(got), off + got);
      if (n <= 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  }

  override mappable(): Mappable | null {
    if ((this.a.mode & S_IFMT) !== S_IFREG || !this.fs.frames) return null;
    const frames = this.fs.frames;
    return {
      frameFor: (pi: number) => {
        if (!this.cache) this.cache = new Map();
        let f = this.cache.get(pi);
        if (f === undefined) {
          f = frames.alloc(1);
          const data = this.readAt(pi * PAGE, PAGE);
          data.copy(frames.bytes(f));
          this.cache.set(pi, f);
        }
        return f;
      },
      size: () => this.a.size,
    };
  }
}
