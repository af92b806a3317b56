// hostfs: a view of a host directory tree (the lower layer of the root
// overlay, or a bind mount's source), reached only through an injected
// HostFiles (host/hosttree.ts today, the Gofer client later). Nothing here
// sees a host path or a host descriptor. Given a WritableHostFiles (a
// read-write bind mount) it also writes, through that interface alone
// (hostfs/write.ts); otherwise it is read-only (EROFS).
//
// The host may change the tree while the sandbox runs. Lookups are never
// cached here (a miss is one host statx either way); the VFS and the overlay
// cache positive entries and ask revalidate() before using one, which looks
// the name up again: a child whose (dev, ino) changed is dropped, so a
// directory swapped for a symlink is seen as that symlink, resolved by the
// Sentry inside the sandbox's root. Attributes are refreshed by every lookup
// and revalidation. Regular files keep a page cache of memory-file frames for
// mmap, dropped when the file's size or mtime changes, and bounded per file
// system (least recently used files lose theirs first).
import { Errno, E } from '../../abi/errno';
import { HostError, type HostDirent, type HostFiles, type HostNode, type HostStat, type WritableHostFiles } from '../../host/hostfs';
import { Inode, type CreateSpec, type FilesystemImpl, type LookupAhead } from '../../vfs/inode';
import { LruList } from '../../vfs/lru';
import type { MemoryAccess } from '../../mm/access';
import type { FrameSource, Mappable } from '../../mm/mappable';
import {
  dtype, UNNUMBERED_DEV, S_IFLNK, S_IFMT, S_IFREG, ST_RDONLY,
  type DirEntry, type InodeAttrs, type SetAttr, type StatFs,
} from '../../abi/fs';
import { PAGE_SIZE as PAGE } from '../../abi/mm';
import { HostWrites } from './write';
import { HostChangeWatches } from './changes';
import type { Fsnotify } from '../../vfs/fsnotify';

/** Pages read into the page cache per host read (see fillCache). */
const READAHEAD_PAGES = 16;
const S_IFDIR = 0o040000;

export interface HostFsLimits {
  /** Inodes kept for reuse by (dev, ino) (hard links, a name looked up again). */
  inodes: number;
  /** Page-cache pages (frames) held over all files. */
  pages: number;
  /** A cached entry confirmed on the host this recently (ms) is trusted without asking again. */
  revalidateMs: number;
}

export function hostErr(e: unknown): never {
  if (e instanceof HostError) throw new Errno(e.errno);
  throw e;
}

export function attrsOf(st: HostStat): InodeAttrs {
  return {
    mode: st.mode, uid: st.uid, gid: st.gid, nlink: st.nlink, size: st.size, blocks: st.blocks, blksize: st.blksize,
    rdev: st.rdev, atimeNs: st.atimeNs, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, btimeNs: st.birthtimeNs,
  };
}

/** (dev, ino) as one Map key: a number when both fit in 53 bits (the usual case: no string per lookup). */
function inodeKey(dev: number, ino: number): number | string {
  return dev < 2 ** 21 && ino < 2 ** 32 ? dev * 2 ** 32 + ino : `${dev}:${ino}`;
}

export class HostFs implements FilesystemImpl {
  readonly name = 'hostfs';
  readonly dev: number;
  readonly readonly: boolean;
  readonly dynamic = false;
  /** Inodes by (dev, ino) (see inodeKey), and the same in least recently used order. */
  private readonly inodes = new Map<number | string, HostInode>();
  private readonly inodeOrder = new LruList<HostInode>();
  private readonly rootInode: HostInode;
  /** Files holding page-cache frames, least recently used first. */
  private readonly cached = new Set<HostInode>();
  private cachedPages = 0;
  readonly limits: HostFsLimits;
  /** The same tree when it can be written (a read-write bind mount's source), else null. */
  readonly writer: WritableHostFiles | null;
  /** New files get the creating task's ids on the host (the Sentry runs as root, and the host has let it chown so far). */
  chownNew: boolean;

  constructor(readonly files: HostFiles, readonly frames: FrameSource | null, limits: Partial<HostFsLimits> = {}, dev = UNNUMBERED_DEV) {
    this.dev = dev;
    this.limits = {
      inodes: limits.inodes ?? 16384,
      pages: limits.pages ?? 65536,
      revalidateMs: limits.revalidateMs ?? Number(process.env.TSVISOR_HOST_REVALIDATE_MS ?? 1000),
    };
    this.writer = (files as Partial<WritableHostFiles>).writable === true ? (files as WritableHostFiles) : null;
    this.readonly = this.writer === null;
    // Root owns what it creates as the task's ids (as runc's identity mapping); an unprivileged Sentry cannot chown, so its files are its user's.
    this.chownNew = process.geteuid?.() === 0;
    const r = files.root();
    if ((r.stat.mode & S_IFMT) !== S_IFDIR) throw new Error('rootfs is not a directory');
    this.rootInode = new HostInode(this, r);
  }

  root(): HostInode {
    return this.rootInode;
  }

  /** The inode for a node just looked up: the known one for its (dev, ino), refreshed, or a new one. */
  inodeFor(n: HostNode): HostInode {
    const key = inodeKey(n.dev, n.ino);
    let i = this.inodes.get(key);
    if (i) {
      this.inodeOrder.touch(i);
      i.refresh(n.stat);
      i.adopt(n);
      return i;
    }
    i = new HostInode(this, n);
    // A watched inode stays: its inotify watches are on it (vfs/fsnotify), and so are its host change reports.
    for (let tries = this.inodeOrder.size; this.inodeOrder.size >= this.limits.inodes && tries > 0; tries--) {
      const old = this.inodeOrder.shift() as HostInode;
      if (old.watches !== null) {
        this.inodeOrder.push(old);
        continue;
      }
      this.inodes.delete(inodeKey(old.node.dev, old.node.ino));
    }
    this.inodes.set(key, i);
    this.inodeOrder.push(i);
    return i;
  }

  /** Host changes of watched files (see changes.ts): regular files and directories. */
  readonly changes = new HostChangeWatches(() => this.files.changes?.() ?? null);

  watched(inode: Inode, on: boolean, notify: Fsnotify): void {
    if (!(inode instanceof HostInode)) return;
    const type = inode.mode & S_IFMT;
    if (type === S_IFDIR || type === S_IFREG) this.changes.watched(inode, on, notify);
  }

  statfs(): StatFs {
    if (this.writer) {
      try {
        const s = this.writer.statfs();
        return { type: s.type, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, namelen: s.namelen, flags: s.flags & ~ST_RDONLY };
      } catch (e) {
        hostErr(e);
      }
    }
    return { type: 0xef53, bsize: PAGE, blocks: 1 << 24, bfree: 0, bavail: 0, files: 1 << 20, ffree: 0, namelen: 255, flags: ST_RDONLY };
  }

  /**
   * Where page-cache fills land before a host write puts them into frames
   * (fillCache): one readahead block, reused, so it is faulted in once.
   */
  private fillBuf: Buffer | null = null;
  readBuffer(): Buffer {
    return (this.fillBuf ??= Buffer.alloc(READAHEAD_PAGES * PAGE));
  }

  /** Page-cache accounting: i gained (or lost) pages and is now the most recently used. */
  notePages(i: HostInode, delta: number): void {
    this.cachedPages += delta;
    this.cached.delete(i);
    if (i.cachedPages() > 0) this.cached.add(i);
  }

  /** Past the limit, the least recently used files other than keep lose their page cache. */
  trimPages(keep: HostInode): void {
    for (const old of this.cached) {
      if (this.cachedPages <= this.limits.pages) break;
      // Pages a shared writable mapping may still change stay until its file is closed (HostWrites.closed).
      if (old !== keep && !old.w?.mapped()) old.dropCache();
    }
  }

  /** i has no name left on the host: its (dev, ino) may come back as another file. */
  forget(i: HostInode): void {
    const key = inodeKey(i.node.dev, i.node.ino);
    if (this.inodes.get(key) === i) {
      this.inodes.delete(key);
      this.inodeOrder.remove(i);
    }
  }

  /** The inode kept for (dev, ino), if any. */
  known(dev: number, ino: number): HostInode | undefined {
    return this.inodes.get(inodeKey(dev, ino));
  }

  /** Inodes kept for reuse now (--stats). */
  inodesHeld(): number {
    return this.inodes.size;
  }

  /** Pages held now (tests check the bound with it). */
  pagesHeld(): number {
    return this.cachedPages;
  }
}

export class HostInode extends Inode {
  readonly ino: number;
  /** Links of HostFs's list of inodes kept for reuse. */
  lruPrev: HostInode | null = null;
  lruNext: HostInode | null = null;
  lruIn = false;
  a: InodeAttrs;
  cache: Map<number, number> | null = null;
  private linkTarget: string | null = null;
  opens = 0;
  /** The writes of a read-write tree (null when read-only). */
  readonly w: HostWrites | null;
  /** When the host last confirmed this inode under its name (performance.now()). */
  private checkedAt = performance.now();
  /** When the host last reported a change of this directory's entries: cached children are asked again. */
  private entriesChangedAt = 0;

  constructor(readonly fs: HostFs, public node: HostNode) {
    super();
    this.ino = node.ino;
    this.a = attrsOf(node.stat);
    this.w = fs.writer ? new HostWrites(this, fs.writer) : null;
    if (this.w) this.xattrs = this.w.xattrSet();
  }

  /**
   * This inode was just found under a (maybe other) name: reach it by that
   * name from now on, since the old one may be gone (renamed on the host).
   * Not while open: the open node is pinned and reads through it.
   */
  /** A host tree may span host file systems (binds of mount points): the host device tells their inode numbers apart. */
  override identity(): number | string {
    return inodeKey(this.node.dev, this.node.ino);
  }

  adopt(n: HostNode): void {
    if (this.opens === 0) this.node = n;
  }

  attrs(): InodeAttrs {
    this.w?.settle();
    return { ...this.a };
  }
  override get mode(): number {
    return this.a.mode;
  }

  /** Newer host attributes of this inode: cached pages are stale if the data may have changed. */
  refresh(st: HostStat): void {
    if ((st.mtimeNs !== this.a.mtimeNs || st.size !== this.a.size) && !this.w?.mapped()) this.dropCache();
    this.a = attrsOf(st);
    this.checkedAt = performance.now();
  }

  /** The host reported a change: of an entry (name) of this directory, or of this file itself. */
  hostChanged(name: string | null, modified: boolean): void {
    if (name !== null) {
      this.entriesChangedAt = performance.now();
      return;
    }
    this.checkedAt = 0;
    if (modified && !this.w?.mapped()) this.dropCache();
  }

  lookupNode(name: string, ahead?: LookupAhead): HostNode | null {
    try {
      return this.fs.files.lookup(this.node, name, ahead);
    } catch (e) {
      hostErr(e);
    }
  }

  override lookup(name: string, _ctx?: unknown, ahead?: LookupAhead): HostInode | null {
    if ((this.a.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
    const n = this.lookupNode(name, ahead);
    return n ? this.fs.inodeFor(n) : null;
  }

  override revalidate(name: string, child: Inode, _ctx?: unknown, ahead?: LookupAhead): boolean {
    if (!(child instanceof HostInode)) return false;
    if (performance.now() - child.checkedAt < this.fs.limits.revalidateMs && child.checkedAt > this.entriesChangedAt) return true;
    const n = this.lookupNode(name, ahead);
    if (!n || n.dev !== child.node.dev || n.ino !== child.node.ino) return false;
    // The same file under the same name: its node (and the descriptors it holds) stays.
    child.refresh(n.stat);
    return true;
  }

  override readdir(): DirEntry[] {
    let ents: HostDirent[];
    try {
      ents = this.fs.files.readdir(this.node);
    } catch (e) {
      hostErr(e);
    }
    const out: DirEntry[] = [];
    for (const e of ents) {
      if (e.type !== 0) {
        out.push(e);
        continue;
      }
      // DT_UNKNOWN (some host file systems): ask for the type.
      const c = this.lookup(e.name);
      if (c) out.push({ name: e.name, ino: c.ino, type: dtype(c.a.mode) });
    }
    return out;
  }

  override readlink(): string {
    if ((this.a.mode & S_IFMT) !== S_IFLNK) throw new Errno(E.EINVAL);
    // A symlink's target never changes (a new target is a new inode): cache it.
    if (this.linkTarget === null) {
      try {
        this.linkTarget = this.fs.files.readlink(this.node);
      } catch (e) {
        hostErr(e);
      }
    }
    return this.linkTarget;
  }

  override readAt(off: number, len: number): Buffer {
    if ((this.a.mode & S_IFMT) !== S_IFREG) throw new Errno(E.EINVAL);
    this.w?.flush();
    len = Math.max(0, Math.min(len, 1 << 24));
    const buf = Buffer.allocUnsafe(len);
    return buf.subarray(0, this.preadFull(buf, off));
  }

  /** Host reads into dst from off on until it is full or the file ends. */
  preadFull(dst: Buffer, off: number): number {
    let got = 0;
    while (got < dst.length) {
      let n: number;
      try {
        n = this.fs.files.pread(this.node, got === 0 ? dst : dst.subarray(got), off + got);
      } catch (e) {
        hostErr(e);
      }
      if (n <= 0) break;
      got += n;
      // A short read is the end only where the host last said the file ends (else it may be a
      // signal's or the file grew): no second read to find the end of every small file.
      if (got < dst.length && off + got >= this.a.size) break;
    }
    return got;
  }

  /** A host read straight into the application's memory: no Buffer in between. */
  override readToUser(off: number, mem: MemoryAccess, addr: number, len: number): number {
    if ((this.a.mode & S_IFMT) !== S_IFREG) throw new Errno(E.EINVAL);
    this.w?.flush();
    len = Math.max(0, Math.min(len, 1 << 24));
    let pos = off;
    return mem.fillFrom(addr, len, (dst) => {
      const got = this.preadFull(dst, pos);
      pos += got;
      return got;
    });
  }

  override incOpen(): void {
    this.opens++;
    this.fs.files.pin(this.node);
  }
  override decOpen(): void {
    if (this.opens === 0) return;
    // The last description (mappings hold theirs) went: what shared mappings wrote goes to the host.
    if (this.opens === 1) this.w?.closed();
    this.opens--;
    this.fs.files.unpin(this.node);
  }

  // ---- writes (a read-write tree): hostfs/write.ts ----
  override create(name: string, spec: CreateSpec): Inode {
    return this.writes().create(name, spec);
  }
  override link(name: string, target: Inode): void {
    this.writes().link(name, target);
  }
  override unlink(name: string, child: Inode): void {
    this.writes().unlink(name, child);
  }
  override rename(oldName: string, newDir: Inode, newName: string, flags: number): void {
    this.writes().rename(oldName, newDir, newName, flags);
  }
  override setattr(a: SetAttr): void {
    this.writes().setattr(a);
  }
  override writeAt(off: number, data: Buffer): number {
    return this.writes().writeAt(off, data);
  }
  override writeFromUser(off: number, mem: MemoryAccess, addr: number, len: number): number {
    return this.writes().writeFromUser(off, mem, addr, len);
  }
  override allocate(mode: number, off: number, len: number): void {
    this.writes().allocate(mode, off, len);
  }
  override sync(dataOnly: boolean): void {
    this.w?.sync(dataOnly);
  }

  private writes(): HostWrites {
    if (!this.w) throw new Errno(E.EROFS);
    return this.w;
  }

  cachedPages(): number {
    return this.cache ? this.cache.size : 0;
  }

  /** The Sentry's page cache of the file (writes go to the host at once: nothing is counted dirty). */
  override pageCacheIn(first: number, end: number): { cache: number; dirty: number } {
    let cache = 0;
    if (this.cache) for (const pi of this.cache.keys()) if (pi >= first && pi < end) cache++;
    return { cache, dirty: 0 };
  }

  /** Give the page cache's frame references back (mappings hold their own). */
  dropCache(): void {
    const c = this.cache;
    if (!c || !this.fs.frames) return;
    this.cache = null;
    for (const f of c.values()) this.fs.frames.decRef(f);
    this.fs.notePages(this, -c.size);
  }

  /**
   * Read page pi into the page cache together with the missing pages next to
   * it in its 64 KiB block, with one host read: a mapping is filled, or a
   * fault served, 16 pages per read instead of one.
   */
  private fillCache(frames: FrameSource, pi: number): number {
    const cache = (this.cache ??= new Map());
    const block = pi - (pi % READAHEAD_PAGES);
    const end = Math.max(pi + 1, Math.min(block + READAHEAD_PAGES, Math.ceil(this.a.size / PAGE)));
    let from = pi;
    let to = pi + 1;
    while (from > block && !cache.has(from - 1)) from--;
    while (to < end && !cache.has(to)) to++;
    let first: number;
    try {
      first = frames.alloc(to - from);
    } catch (e) {
      // Near the memory limit: just the page asked for.
      if (!(e instanceof Errno) || to - from === 1) throw e;
      [from, to] = [pi, pi + 1];
      first = frames.alloc(1);
    }
    const run = frames.write ? null : frames.bytes(first, to - from);
    if (frames.write) {
      // Through a buffer and a host write into the memory file: the host
      // fills new frames without faulting them into the Sentry's mapping,
      // which on these VMs costs tens of microseconds a page (cc1's 33 MB
      // text: 185-250 ms read into a fresh mapping, 17-26 ms this way). The
      // frames are zero-filled, so a short file leaves zeros after its end.
      const buf = this.fs.readBuffer().subarray(0, (to - from) * PAGE);
      const got = this.preadFull(buf, from * PAGE);
      if (got > 0 && frames.write(first, 0, buf.subarray(0, got)) !== got) throw new Errno(E.ENOMEM, 'memory file write');
    } else if (run && run.length === (to - from) * PAGE) {
      // Straight into the new frames (zero-filled: a short file leaves zeros after its end).
      this.preadFull(run, from * PAGE);
    } else {
      const data = this.readAt(from * PAGE, (to - from) * PAGE);
      for (let off = 0; off < data.length; off += PAGE) data.copy(frames.bytes(first + off / PAGE), 0, off, Math.min(off + PAGE, data.length));
    }
    for (let p = from; p < to; p++) cache.set(p, first + (p - from));
    this.fs.notePages(this, to - from);
    this.fs.trimPages(this);
    return first + (pi - from);
  }

  override mappable(): Mappable | null {
    if ((this.a.mode & S_IFMT) !== S_IFREG || !this.fs.frames) return null;
    const frames = this.fs.frames;
    return {
      frameFor: (pi: number, write: boolean) => {
        const f = this.cache?.get(pi) ?? this.fillCache(frames, pi);
        // A page a shared mapping may write: written back to the host at msync, fsync, reads and the last close.
        if (write) this.w?.dirty.add(pi);
        return f;
      },
      size: () => this.attrs().size,
      writeback: this.w ? () => this.w?.flush() : undefined,
    };
  }
}
