// The writes of a hostfs inode whose tree is a WritableHostFiles (a
// read-write bind mount): every change goes to the host through that
// interface, so a Gofer client can serve it unchanged. Permission checks
// were made by the VFS; the host enforces its own on top.
//
// Coherence with the page cache that mmap uses (hostfs.ts): write() goes to
// the host and into the cached pages it covers, so mappings see it; pages a
// shared writable mapping was given are dirty and are written back to the
// host at msync, fsync, before a read() of the file, and when its last
// description (mappings hold theirs) goes. Dirty files keep their page cache
// until then (a host-side change does not drop it: the mapping would lose
// its writes). After a change the host's attributes are fetched once, the
// next time they are asked for (settle), not per write.
import { Errno, E } from '../../abi/errno';
import { HostError, type HostNode, type HostSetAttr, type HostStat, type WritableHostFiles } from '../../host/hostfs';
import { XattrSet } from '../../vfs/xattrs';
import { RENAME_EXCHANGE, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, type SetAttr } from '../../abi/fs';
import { PAGE_SIZE as PAGE } from '../../abi/mm';
import type { CreateSpec, Inode } from '../../vfs/inode';
import type { MemoryAccess } from '../../mm/access';
import { attrsOf, hostErr, type HostInode } from './hostfs';

const FALLOC_FL_PUNCH_HOLE = 2;
const FALLOC_FL_ZERO_RANGE = 0x10;

function host<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    hostErr(e);
  }
}

/** A change the Sentry makes to the host tree of inode i: as host(), and its host change report is not echoed (changes.ts). */
function change<T>(i: HostInode, f: () => T): T {
  return host(() => i.fs.changes.mutate(f));
}

export class HostWrites {
  /** Pages handed to shared writable mappings since the file was last closed. */
  readonly dirty = new Set<number>();
  /** The host's attributes changed through us: fetch them when next asked. */
  private stale = false;

  constructor(private readonly i: HostInode, private readonly w: WritableHostFiles) {}

  /** A shared mapping may be writing pages of the file. */
  mapped(): boolean {
    return this.dirty.size > 0;
  }

  /** Fresh host attributes after our own change (the page cache stays: it is current). */
  private own(st: HostStat): void {
    this.stale = false;
    this.i.a = attrsOf(st);
  }

  settle(): void {
    if (!this.stale) return;
    this.stale = false;
    try {
      this.own(this.w.stat(this.i.node));
    } catch {
      // Gone from the host with no descriptor left to ask through: keep what we know.
    }
  }

  markStale(): void {
    this.stale = true;
  }

  /** Write the dirty pages (within the file's size) to the host. */
  flush(): void {
    if (this.dirty.size === 0) return;
    const cache = this.i.cache;
    const frames = this.i.fs.frames;
    if (!cache || !frames) return;
    this.settle();
    const size = this.i.a.size;
    for (const pi of this.dirty) {
      const f = cache.get(pi);
      if (f === undefined || pi * PAGE >= size) continue;
      this.pwriteAll(pi * PAGE, frames.bytes(f).subarray(0, Math.min(PAGE, size - pi * PAGE)));
    }
    this.stale = true;
  }

  /** The last description went: no mapping can write any more. */
  closed(): void {
    this.flush();
    this.dirty.clear();
  }

  sync(dataOnly: boolean): void {
    this.flush();
    host(() => this.w.fsync(this.i.node, dataOnly));
  }

  private pwriteAll(off: number, data: Buffer): number {
    let done = 0;
    while (done < data.length) {
      const n = change(this.i, () => this.w.pwrite(this.i.node, done === 0 ? data : data.subarray(done), off + done));
      if (n <= 0) break;
      done += n;
    }
    return done;
  }

  /** Copy data (or zeros when null) at file offset off into the cached pages it covers. */
  private patchCache(off: number, len: number, data: Buffer | null): void {
    const cache = this.i.cache;
    const frames = this.i.fs.frames;
    if (!cache || !frames || len <= 0) return;
    for (let pi = Math.floor(off / PAGE); pi * PAGE < off + len; pi++) {
      const f = cache.get(pi);
      if (f === undefined) continue;
      const from = Math.max(off, pi * PAGE);
      const to = Math.min(off + len, (pi + 1) * PAGE);
      const page = frames.bytes(f);
      if (data) data.copy(page, from - pi * PAGE, from - off, to - off);
      else page.fill(0, from - pi * PAGE, to - pi * PAGE);
    }
  }

  writeAt(off: number, data: Buffer): number {
    if ((this.i.a.mode & S_IFMT) !== S_IFREG) throw new Errno(E.EINVAL);
    const n = this.pwriteAll(off, data);
    if (n === 0 && data.length > 0) throw new Errno(E.ENOSPC);
    this.patchCache(off, n, data);
    this.i.a.size = Math.max(this.i.a.size, off + n);
    this.stale = true;
    return n;
  }

  /** Straight from the writer's memory to the host, piece by piece (no copy); a bad buffer is EFAULT before anything is written. */
  writeFromUser(off: number, mem: MemoryAccess, addr: number, len: number): number {
    if ((this.i.a.mode & S_IFMT) !== S_IFREG) throw new Errno(E.EINVAL);
    mem.checkRange(addr, len, false);
    let done = 0;
    try {
      mem.drainTo(addr, len, (src, at) => {
        const n = this.pwriteAll(off + at, src);
        this.patchCache(off + at, n, src);
        done = at + n;
        if (n < src.length) throw new Errno(E.ENOSPC);
      });
    } catch (e) {
      if (done === 0 || !(e instanceof Errno)) throw e;
    }
    this.i.a.size = Math.max(this.i.a.size, off + done);
    this.stale = true;
    return done;
  }

  allocate(mode: number, off: number, len: number): void {
    change(this.i, () => this.w.fallocate(this.i.node, mode, off, len));
    if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) this.patchCache(off, len, null);
    this.stale = true;
  }

  setattr(a: SetAttr): void {
    const h: HostSetAttr = {};
    if (a.mode !== undefined) h.mode = a.mode;
    if (a.uid !== undefined) h.uid = a.uid;
    if (a.gid !== undefined) h.gid = a.gid;
    if (a.size !== undefined) h.size = a.size;
    if (a.atimeNs !== undefined) h.atime = a.atimeNs;
    if (a.mtimeNs !== undefined) h.mtime = a.mtimeNs;
    if (a.size !== undefined) this.flush();
    const st = change(this.i, () => this.w.setattr(this.i.node, h));
    if (a.size !== undefined) this.truncateCache(a.size);
    this.own(st);
  }

  /** Cached pages past a new end hold zeros from it on (a mapping sees them so, as on Linux). */
  private truncateCache(size: number): void {
    const cache = this.i.cache;
    if (!cache) return;
    const last = Math.ceil(size / PAGE);
    for (const pi of cache.keys()) if (pi >= last) this.patchCache(pi * PAGE, PAGE, null);
    if (size % PAGE) this.patchCache(size, PAGE - (size % PAGE), null);
  }

  // ---- directory operations (this inode is the directory) ----

  create(name: string, spec: CreateSpec): Inode {
    const fs = this.i.fs;
    if (!fs.chownNew) return this.createAs(name, spec, { uid: -1, gid: -1 });
    try {
      return this.createAs(name, spec, { uid: spec.uid, gid: spec.gid });
    } catch (e) {
      // A Sentry without CAP_CHOWN over the host ids (confined in its own user namespace): its files are its own from now on, as rootless.
      if (!(e instanceof Errno) || (e.errno !== E.EPERM && e.errno !== E.EINVAL) || spec.type === S_IFCHR || spec.type === S_IFBLK) throw e;
      fs.chownNew = false;
      return this.createAs(name, spec, { uid: -1, gid: -1 });
    }
  }

  private createAs(name: string, spec: CreateSpec, owner: { uid: number; gid: number }): Inode {
    const dir = this.i.node;
    const n = change(this.i, () => {
      switch (spec.type) {
        case S_IFREG:
          return this.w.create(dir, name, spec.mode, owner);
        case S_IFDIR:
          return this.w.mkdir(dir, name, spec.mode, owner);
        case S_IFLNK:
          return this.w.symlink(dir, name, spec.target ?? '', owner);
        case S_IFIFO:
        case S_IFSOCK:
          return this.w.mknod(dir, name, spec.type | (spec.mode & 0o7777), 0, owner);
        default:
          // A device node made on the host would give host processes that open it the device itself, whatever the sandbox may do: refused, as gVisor's Gofer does.
          throw new HostError(E.EPERM, 'device nodes are not made on the host');
      }
    });
    this.stale = true;
    return this.i.fs.inodeFor(n);
  }

  link(name: string, target: Inode): void {
    const t = target as HostInode;
    const n = change(this.i, () => this.w.link(t.node, this.i.node, name));
    t.w?.own(n.stat);
    this.stale = true;
  }

  unlink(name: string, child: Inode): void {
    const c = child as HostInode;
    change(this.i, () => this.w.unlink(this.i.node, name, (c.a.mode & S_IFMT) === S_IFDIR));
    this.stale = true;
    this.gone(c);
  }

  /** c lost a name: its attributes are fetched again (through an open descriptor if it has no name left), and its identity freed if none is left. */
  private gone(c: HostInode): void {
    try {
      c.w?.own(this.w.stat(c.node));
    } catch {
      c.a.nlink = Math.max(0, c.a.nlink - 1);
    }
    if (c.a.nlink === 0 || (c.a.mode & S_IFMT) === S_IFDIR) this.i.fs.forget(c);
    // An open file keeps its data descriptor: later fstat asks through it.
    c.w?.markStale();
  }

  rename(oldName: string, newDir: Inode, newName: string, flags: number): void {
    const nd = newDir as HostInode;
    const victim = flags & RENAME_EXCHANGE ? null : nd.lookupNode(newName);
    change(this.i, () => this.w.rename(this.i.node, oldName, nd.node, newName, flags));
    this.stale = true;
    nd.w?.markStale();
    const moved = this.rebind(nd, newName);
    if (flags & RENAME_EXCHANGE) this.rebind(this.i, oldName);
    if (victim && (!moved || victim.dev !== moved.node.dev || victim.ino !== moved.node.ino)) {
      const v = this.i.fs.known(victim.dev, victim.ino);
      if (v) this.gone(v);
    }
  }

  /** The inode now at dir/name reaches its file by that name from now on (its old name is gone), open or not. */
  private rebind(dir: HostInode, name: string): HostInode | null {
    let n: HostNode | null;
    try {
      n = dir.lookupNode(name);
    } catch {
      return null;
    }
    if (!n) return null;
    const i = this.i.fs.known(n.dev, n.ino);
    if (!i) return null;
    const old = i.node;
    // Pins move with the node, so an open file keeps a descriptor found by its new name.
    for (let k = 0; k < i.opens; k++) this.w.pin(n);
    for (let k = 0; k < i.opens; k++) this.w.unpin(old);
    i.node = n;
    return i;
  }

  /** Extended attributes on the host file itself. */
  xattrSet(): XattrSet {
    return new HostXattrs(this.w, this.i);
  }
}

/** The XattrSet the xattr system calls use, answered by the host file. */
class HostXattrs extends XattrSet {
  constructor(private readonly w: WritableHostFiles, private readonly i: HostInode) {
    super(null);
  }
  override get(name: string): Buffer | undefined {
    try {
      return this.w.getxattr(this.i.node, name);
    } catch (e) {
      if (e instanceof HostError && e.errno === E.ENODATA) return undefined;
      hostErr(e);
    }
  }
  override has(name: string): boolean {
    return this.get(name) !== undefined;
  }
  override names(): string[] {
    return host(() => this.w.listxattr(this.i.node));
  }
  override set(name: string, value: Buffer): void {
    change(this.i, () => this.w.setxattr(this.i.node, name, value, 0));
    this.i.w?.markStale();
  }
  override delete(name: string): boolean {
    // Writes and truncations drop security.capability (vfs/perm.ts) on every file: absent is the usual
    // case, and an unprivileged host refuses even the removal of an absent security.* attribute.
    if (!this.has(name)) return false;
    try {
      this.i.fs.changes.mutate(() => this.w.removexattr(this.i.node, name));
    } catch (e) {
      if (e instanceof HostError && e.errno === E.ENODATA) return false;
      hostErr(e);
    }
    this.i.w?.markStale();
    return true;
  }
  override release(): void {}
}
