// tmpfs: files, directories, symlinks, FIFOs and sockets in memory. Regular
// file data lives in frames of the memory file so that MAP_SHARED mappings of a
// file and read()/write() share the same bytes. Also the upper layer of the
// root overlay (whiteouts are char devices 0:0; `opaque` marks directories that
// hide the lower layer).
import { Errno, E } from '../../abi/errno';
import { applyAttrs, Inode, relatimeDue, type CreateSpec, type FilesystemImpl } from '../../vfs/inode';
import type { FrameSource, Mappable } from '../../mm/mappable';
import type { MemoryAccess } from '../../mm/access';
import type { MemCharge } from '../../platform/memcharge';
import { HEAP_COST, type HeapBudget } from '../../abi/accounting';
import { dtype, FS_APPEND_FL, FS_IMMUTABLE_FL, FS_NOATIME_FL, FS_NODUMP_FL, UNNUMBERED_DEV, RENAME_EXCHANGE, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, TMPFS_MAGIC, type DirEntry, type InodeAttrs, type SetAttr, type StatFs } from '../../abi/fs';
import { nowNs } from '../../host/clock';
import { PAGE_SIZE as PAGE } from '../../abi/mm';
import { FilePages } from './pages';
import { F_SEAL_ANY_WRITE, F_SEAL_EXEC, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK } from '../../abi/memfd';


const MAX_FILE = 2 ** 46; // refuse absurd sizes (EFBIG) before allocating page tables

export interface TmpfsOptions {
  mode?: number;
  uid?: number;
  gid?: number;
  /** size= in pages (default: half of the sandbox memory limit, as Linux's half of RAM). */
  sizePages?: number;
  /** nr_inodes= (default: what the Sentry heap budget affords, at most half the limit's pages). */
  maxInodes?: number;
  /** st_dev, from the namespace's numbering (AnonDevs). */
  dev?: number;
}

/** Without a memory file limit (unit tests): what the mount advertised before limits existed. */
const UNLIMITED_PAGES = 1 << 20;
/** The least default nr_inodes. */
const MIN_DEFAULT_INODES = 64;

export class TmpfsFs implements FilesystemImpl {
  readonly name: string = 'tmpfs';
  readonly dev: number;
  /** The superblock's read-only flag: fsconfig's "ro" (before fsmount or in a reconfigure) sets it. */
  readonly = false;
  readonly dynamic = false;
  /** Linux's shmem_getattr reports these three of the flags tmpfs keeps (not noatime). */
  readonly statxFlags = FS_IMMUTABLE_FL | FS_APPEND_FL | FS_NODUMP_FL;
  private nextIno = 1;
  private readonly rootInode: TmpfsInode;
  /** Frames in use by file data (for statfs). */
  usedPages = 0;
  /** Inodes alive (for nr_inodes and statfs). */
  inodes = 0;
  readonly sizePages: number;
  /** nr_inodes= as given, else null: half the pages, bounded by what the heap budget affords (maxInodes). */
  private readonly maxInodesGiven: number | null;
  private readonly limitPages: number;
  private maxInodesDefault: number | null = null;
  /** The sandbox-wide budget of Sentry heap that inodes, names and symlink targets are charged to. */
  readonly heap: HeapBudget | null;

  setReadonly(ro: boolean): void {
    this.readonly = ro;
  }

  constructor(readonly frames: FrameSource, opts: TmpfsOptions = {}) {
    this.dev = opts.dev ?? UNNUMBERED_DEV;
    const limit = frames.limitPages ?? UNLIMITED_PAGES * 2;
    this.heap = frames.heap ?? null;
    this.sizePages = opts.sizePages ?? Math.floor(limit / 2);
    this.maxInodesGiven = opts.maxInodes ?? null;
    this.limitPages = limit;
    this.rootInode = this.newInode({ type: S_IFDIR, mode: opts.mode ?? 0o1777, uid: opts.uid ?? 0, gid: opts.gid ?? 0 });
    this.rootInode.a.nlink = 2;
  }

  /** Take bytes of Sentry heap for this file system's metadata: ENOSPC when the sandbox budget is spent. */
  charge(bytes: number): void {
    this.heap?.charge(bytes, E.ENOSPC);
  }
  uncharge(bytes: number): void {
    this.heap?.uncharge(bytes);
  }

  /** One more page of file data, or ENOSPC past size=. */
  chargePage(): void {
    if (this.usedPages >= this.sizePages) throw new Errno(E.ENOSPC);
    this.usedPages++;
  }

  root(): TmpfsInode {
    return this.rootInode;
  }

  /**
   * nr_inodes: given, or half the pages bounded by what the heap budget
   * affords, worked out at first need (the budget's bound asks Node's heap
   * limit, which a sandbox that makes few files never needs).
   */
  get maxInodes(): number {
    if (this.maxInodesGiven !== null) return this.maxInodesGiven;
    const affordable = this.heap ? Math.floor(this.heap.limit / HEAP_COST.inode / 2) : UNLIMITED_PAGES;
    return (this.maxInodesDefault ??= Math.max(MIN_DEFAULT_INODES, Math.min(Math.floor(this.limitPages / 2), affordable)));
  }

  /** A new inode, or ENOSPC when nr_inodes or the heap budget is used up. */
  newInode(spec: CreateSpec): TmpfsInode {
    // Below the least default, only a given nr_inodes can be reached.
    if (this.inodes >= (this.maxInodesGiven ?? MIN_DEFAULT_INODES) && this.inodes >= this.maxInodes) throw new Errno(E.ENOSPC);
    const targetBytes = spec.target !== undefined ? Buffer.byteLength(spec.target, 'latin1') : 0;
    this.charge(HEAP_COST.inode + targetBytes);
    this.inodes++;
    return this.makeInode(this.nextIno++, spec);
  }

  /** The inode object itself (hugetlbfs makes its own kind of regular file). */
  protected makeInode(ino: number, spec: CreateSpec): TmpfsInode {
    return new TmpfsInode(this, ino, spec);
  }

  statfs(): StatFs {
    const bfree = Math.max(0, this.sizePages - this.usedPages);
    const ffree = Math.max(0, this.maxInodes - this.inodes);
    return { type: TMPFS_MAGIC, bsize: PAGE, blocks: this.sizePages, bfree, bavail: bfree, files: this.maxInodes, ffree, namelen: 255, flags: 0 };
  }
}

export class TmpfsInode extends Inode {
  readonly a: InodeAttrs;
  entries: Map<string, TmpfsInode> | null = null;
  target = '';
  /** A regular file's data. */
  private readonly data: FilePages;
  /** Overlay upper layer: this directory hides the lower one. */
  opaque = false;
  private openCount = 0;
  /** Set once the inode's charges went back to the file system. */
  private evicted = false;

  constructor(readonly fs: TmpfsFs, readonly ino: number, spec: CreateSpec) {
    super();
    this.data = new FilePages(fs);
    const t = nowNs();
    this.a = { mode: spec.type | (spec.mode & 0o7777), uid: spec.uid, gid: spec.gid, nlink: 1, size: 0, blocks: 0, blksize: PAGE, rdev: spec.rdev ?? 0, atimeNs: t, mtimeNs: t, ctimeNs: t, btimeNs: t };
    if (spec.type === S_IFDIR) {
      this.entries = new Map();
      this.a.nlink = 2;
    } else if (spec.type === S_IFLNK) {
      this.target = spec.target ?? '';
      this.a.size = Buffer.byteLength(this.target, 'latin1');
    } else if (spec.type === S_IFREG) {
      // Every tmpfs file has seals, as Linux's shmem files: sealed against sealing
      // unless memfd_create was asked for MFD_ALLOW_SEALING or MFD_NOEXEC_SEAL.
      this.seals = F_SEAL_SEAL;
    }
  }

  attrs(): InodeAttrs {
    if ((this.a.mode & S_IFMT) === S_IFREG) this.a.blocks = this.data.present * (PAGE / 512);
    return { ...this.a };
  }
  override get mode(): number {
    return this.a.mode;
  }

  private dir(): Map<string, TmpfsInode> {
    if (!this.entries) throw new Errno(E.ENOTDIR);
    return this.entries;
  }
  protected touch(): void {
    this.a.mtimeNs = this.a.ctimeNs = nowNs();
  }

  override lookup(name: string): TmpfsInode | null {
    return this.dir().get(name) ?? null;
  }
  /** An overlay mount (fsimpl/overlay/stack.ts) changes its upper directory below the VFS: a cached name must still be this entry. */
  override revalidate(name: string, child: Inode): boolean {
    return this.entries?.get(name) === child;
  }

  override readdir(): DirEntry[] {
    const out: DirEntry[] = [];
    for (const [name, c] of this.dir()) out.push({ name, ino: c.ino, type: dtype(c.a.mode) });
    return out;
  }
  override create(name: string, spec: CreateSpec): TmpfsInode {
    const d = this.dir();
    if (d.has(name)) throw new Errno(E.EEXIST);
    this.fs.charge(direntCost(name));
    let c: TmpfsInode;
    try {
      c = this.fs.newInode(spec);
    } catch (e) {
      this.fs.uncharge(direntCost(name));
      throw e;
    }
    d.set(name, c);
    if (spec.type === S_IFDIR) this.a.nlink++;
    this.touch();
    return c;
  }
  override createUnnamed(spec: CreateSpec): TmpfsInode {
    this.dir();
    const c = this.fs.newInode(spec);
    c.a.nlink = 0; // freed at its last close unless linked first (maybeFree)
    return c;
  }
  override link(name: string, target: Inode): void {
    const d = this.dir();
    if (!(target instanceof TmpfsInode) || target.fs !== this.fs) throw new Errno(E.EXDEV);
    if (d.has(name)) throw new Errno(E.EEXIST);
    this.fs.charge(direntCost(name));
    d.set(name, target);
    target.a.nlink++;
    target.a.ctimeNs = nowNs();
    this.touch();
  }
  override unlink(name: string): void {
    const d = this.dir();
    const c = d.get(name);
    if (!c) throw new Errno(E.ENOENT);
    d.delete(name);
    this.fs.uncharge(direntCost(name));
    this.dropLink(c);
    this.touch();
  }
  /** An entry pointing at c went away. */
  private dropLink(c: TmpfsInode): void {
    if (c.entries) {
      c.a.nlink = 0;
      this.a.nlink--;
    } else {
      c.a.nlink--;
    }
    c.a.ctimeNs = nowNs();
    c.maybeFree();
  }
  override rename(oldName: string, newDir: Inode, newName: string, flags: number): void {
    if (!(newDir instanceof TmpfsInode) || newDir.fs !== this.fs) throw new Errno(E.EXDEV);
    const src = this.dir().get(oldName);
    if (!src) throw new Errno(E.ENOENT);
    const nd = newDir.dir();
    const dst = nd.get(newName);
    if (flags & RENAME_EXCHANGE) {
      if (!dst) throw new Errno(E.ENOENT);
      this.dir().set(oldName, dst);
      nd.set(newName, src);
      if (this !== newDir) {
        // Directory link counts follow the ".." entries that moved.
        if (src.entries) { this.a.nlink--; newDir.a.nlink++; }
        if (dst.entries) { newDir.a.nlink--; this.a.nlink++; }
      }
    } else {
      if (src === dst) return;
      // The entry keeps its cost under the new name: charge the difference.
      const delta = direntCost(newName) - direntCost(oldName);
      if (!dst && delta > 0) this.fs.charge(delta);
      if (dst) {
        nd.delete(newName);
        newDir.dropLink(dst);
        this.fs.uncharge(direntCost(oldName));
      } else if (delta < 0) {
        this.fs.uncharge(-delta);
      }
      this.dir().delete(oldName);
      nd.set(newName, src);
      if (src.entries && this !== newDir) {
        this.a.nlink--;
        newDir.a.nlink++;
      }
    }
    src.a.ctimeNs = nowNs();
    this.touch();
    newDir.touch();
  }

  override readlink(): string {
    if ((this.a.mode & S_IFMT) !== S_IFLNK) throw new Errno(E.EINVAL);
    return this.target;
  }

  // ---- regular file data (the bytes are in this.data; the rules are here) ----
  override readAt(off: number, len: number): Buffer {
    if ((this.a.mode & S_IFMT) !== S_IFREG) throw new Errno(E.EINVAL);
    const end = Math.min(this.a.size, off + len);
    if (end <= off) return Buffer.alloc(0);
    const out = Buffer.alloc(end - off);
    this.data.readInto(off, end, out);
    return out;
  }
  override readToUser(off: number, mem: MemoryAccess, addr: number, len: number): number {
    if ((this.a.mode & S_IFMT) !== S_IFREG) throw new Errno(E.EINVAL);
    const end = Math.min(this.a.size, off + len);
    if (end <= off) return 0;
    return this.data.readToUser(off, end, mem, addr);
  }
  override writeAt(off: number, data: Buffer, charge: MemCharge | null = null): number {
    const n = this.framesFor(off, data.length, charge);
    this.data.copyIn(off, data.subarray(0, n));
    return this.wrote(off, n);
  }
  override writeFromUser(off: number, mem: MemoryAccess, addr: number, len: number): number {
    // Straight from the writer's memory into the file's pages; a bad buffer is EFAULT before anything is written.
    mem.checkRange(addr, len, false);
    const n = this.framesFor(off, len, mem.charge ?? null);
    let done = 0;
    try {
      mem.drainTo(addr, n, (src, at) => {
        this.data.copyIn(off + at, src);
        done = at + src.length;
      });
    } catch (e) {
      if (done === 0 || !(e instanceof Errno)) throw e;
    }
    return this.wrote(off, done);
  }
  /** What of a write of len bytes at off may go in (type, size, seals), with frames for it: the bytes that have one. */
  private framesFor(off: number, len: number, charge: MemCharge | null = null): number {
    if ((this.a.mode & S_IFMT) !== S_IFREG) throw new Errno(E.EINVAL);
    if (off + len > MAX_FILE) throw new Errno(E.EFBIG);
    if (len <= 0) return 0;
    if (this.sealBits) len = this.sealedWrite(off, len);
    return this.data.framesFor(off, len, charge);
  }
  private wrote(off: number, done: number): number {
    if (off + done > this.a.size) this.a.size = off + done;
    if (done > 0) this.touch();
    return done;
  }
  /**
   * How much of a write of len bytes at off the seals let through. Linux
   * checks each page-sized piece of a write (shmem_write_begin): with
   * F_SEAL_GROW the pieces up to the last page boundary inside the file go
   * in, so a write crossing the end is short, and EPERM when no piece fits.
   */
  private get sealBits(): number {
    return this.seals ?? 0;
  }
  private sealedWrite(off: number, len: number): number {
    if (this.sealBits & F_SEAL_ANY_WRITE) throw new Errno(E.EPERM);
    if (!(this.sealBits & F_SEAL_GROW) || off + len <= this.a.size) return len;
    const fits = Math.floor(this.a.size / PAGE) * PAGE - off;
    if (fits <= 0) throw new Errno(E.EPERM);
    return Math.min(fits, len);
  }
  private truncate(size: number): void {
    if (size > MAX_FILE) throw new Errno(E.EFBIG);
    if (size < this.a.size) this.data.shrinkTo(size);
    this.a.size = size;
  }
  override allocate(mode: number, off: number, len: number, charge: MemCharge | null = null): void {
    if ((this.a.mode & S_IFMT) !== S_IFREG) throw new Errno(E.ENODEV);
    if (mode & 2 && this.sealBits & F_SEAL_ANY_WRITE) throw new Errno(E.EPERM);
    if (off + len > MAX_FILE) throw new Errno(E.EFBIG);
    // F_SEAL_GROW refuses any allocation past the end, KEEP_SIZE or not (as shmem_fallocate).
    if (!(mode & 2) && this.sealBits & F_SEAL_GROW && off + len > this.a.size) throw new Errno(E.EPERM);
    if (mode & 2) {
      this.data.punch(off, len);
    } else {
      const first = Math.floor(off / PAGE);
      const last = Math.ceil((off + len) / PAGE);
      // Linux fails the whole request rather than leave part of it allocated.
      // Counted from the pages present, never page by page over the range: a
      // hostile length (terabytes of a sparse file) must not cost a loop per page.
      const missing = last - first - this.data.framesIn(first, last).size;
      if (this.fs.usedPages + missing > this.fs.sizePages) throw new Errno(E.ENOSPC);
      for (let pi = first; pi < last; pi++) this.data.frame(pi, charge);
      if (!(mode & 1) && off + len > this.a.size) this.a.size = off + len;
    }
    this.a.ctimeNs = this.a.mtimeNs = nowNs();
  }
  override seekData(off: number, hole: boolean): number {
    if (off >= this.a.size) throw new Errno(E.ENXIO);
    const at = this.data.seek(off, this.a.size, hole);
    if (at < 0) throw new Errno(E.ENXIO);
    return at;
  }
  /** The file's pages are its page cache; never dirty (Linux's shmem pages have no backing store to be written to). */
  override pageCacheIn(first: number, end: number): { cache: number; dirty: number } {
    if ((this.a.mode & S_IFMT) !== S_IFREG) return { cache: 0, dirty: 0 };
    return { cache: this.data.framesIn(first, end).size, dirty: 0 };
  }
  override mappable(): Mappable | null {
    if ((this.a.mode & S_IFMT) !== S_IFREG) return null;
    return {
      frameFor: (pi, _write, charge) => this.data.frame(pi, charge ?? null), size: () => this.a.size,
      framesIn: (from, to) => this.data.framesIn(from, to), punch: (off, len) => this.allocate(3, off, len),
    };
  }

  override setattr(s: SetAttr): void {
    // The seals are checked before anything changes (shmem_setattr).
    if (s.mode !== undefined && this.sealBits & F_SEAL_EXEC && ((this.a.mode ^ s.mode) & 0o111)) throw new Errno(E.EPERM);
    if (s.size !== undefined) {
      if ((this.a.mode & S_IFMT) === S_IFDIR) throw new Errno(E.EISDIR);
      if ((this.a.mode & S_IFMT) !== S_IFREG) throw new Errno(E.EINVAL);
      if ((s.size < this.a.size && this.sealBits & F_SEAL_SHRINK) || (s.size > this.a.size && this.sealBits & F_SEAL_GROW)) throw new Errno(E.EPERM);
      if (s.size !== this.a.size) this.a.mtimeNs = nowNs();
      this.truncate(s.size);
    }
    applyAttrs(this.a, s);
  }

  /** tmpfs keeps immutable, append-only, nodump and noatime (Linux's SHMEM_FL_USER_MODIFIABLE). */
  override inodeFlags(): number {
    return this.a.flags ?? 0;
  }
  override setInodeFlags(flags: number, now: bigint): void {
    if (flags & ~(FS_IMMUTABLE_FL | FS_APPEND_FL | FS_NODUMP_FL | FS_NOATIME_FL)) throw new Errno(E.EOPNOTSUPP);
    this.a.flags = flags;
    this.a.ctimeNs = now;
  }
  override accessed(): void {
    if ((this.a.flags ?? 0) & FS_NOATIME_FL) return;
    const now = nowNs();
    if (relatimeDue(this.a, now)) this.a.atimeNs = now;
  }
  override touchCtime(): void {
    this.a.ctimeNs = nowNs();
  }

  override incOpen(): void {
    this.openCount++;
  }
  override decOpen(): void {
    this.openCount--;
    this.maybeFree();
  }
  /** Data of a file with no names and no open descriptions goes back to the memory file. */
  protected maybeFree(): void {
    if (this.a.nlink > 0 || this.openCount > 0) return;
    this.freeData();
    if (!this.evicted) {
      this.evicted = true;
      this.xattrs?.release();
      this.fs.inodes--;
      this.fs.uncharge(HEAP_COST.inode + Buffer.byteLength(this.target, 'latin1'));
    }
  }

  /** The file's data goes back (it has no names and no open descriptions). */
  protected freeData(): void {
    this.data.freeAll();
  }
}

/** Sentry heap held by one directory entry. */
function direntCost(name: string): number {
  return HEAP_COST.dirent + name.length;
}

/** Overlay whiteouts are character devices 0:0 in the upper layer. */
export function isWhiteout(i: Inode): boolean {
  const a = i.attrs();
  return (a.mode & S_IFMT) === 0o020000 && a.rdev === 0;
}
