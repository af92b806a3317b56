// One ext2 inode: its on-disk record (kept as raw bytes, each change written
// straight back to the inode table), the data through the block map
// (bmap.ts), directories through dir.ts. Large inodes (256 bytes, mke2fs's
// default) carry nanoseconds and the birth time in their extra fields, as
// Linux's ext4 driver writes them for ext2 images.
import { Errno, E } from '../../abi/errno';
import {
  devMajor, devMinor, dtype, makedev, RENAME_EXCHANGE, S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG,
  type DirEntry, type InodeAttrs, type SetAttr,
} from '../../abi/fs';
import { nowNs } from '../../host/clock';
import { Inode, relatimeDue, type CreateSpec } from '../../vfs/inode';
import { freeFrom, mapBlock, type BlockOwner } from './bmap';
import { corrupt, RO_COMPAT_LARGE_FILE } from './disk';
import { addEntry, dtOfFt, findEntry, initDir, isEmptyDir, listEntries, removeEntry, setEntry } from './dir';
import type { Ext2Fs } from './fs';
import { MappedPages } from './pages';
import type { Mappable } from '../../mm/mappable';

/** FS_IOC_SETFLAGS may change these (Linux's EXT2_FL_USER_MODIFIABLE). */
const USER_MODIFIABLE = 0x380ff;
const FS_NOATIME_FL = 0x80;
/** What a new inode's extra fields take (s_want_extra_isize of mke2fs 1.47). */
const WANT_EXTRA = 32;
const NS = 1_000_000_000n;
/** EXT2_LINK_MAX. */
const LINK_MAX = 32000;

export class Ext2Inode extends Inode implements BlockOwner {
  private openCount = 0;
  readonly mapCache = new Map<number, Buffer>();
  /** Frames of the file's pages once it is mapped. */
  private pages: MappedPages | null = null;

  constructor(readonly fs: Ext2Fs, readonly ino: number, private readonly raw: Buffer) {
    super();
  }

  // ---- fields of the record ----
  override get mode(): number {
    return this.raw.readUInt16LE(0);
  }
  private get isReg(): boolean {
    return (this.mode & S_IFMT) === S_IFREG;
  }
  get size(): number {
    // i_size_high is the size's top half for regular files (large_file); a directory's is ext2's i_dir_acl.
    return this.raw.readUInt32LE(4) + (this.isReg ? this.raw.readUInt32LE(108) * 2 ** 32 : 0);
  }
  set size(n: number) {
    this.raw.writeUInt32LE(n % 2 ** 32, 4);
    if (this.isReg) {
      this.raw.writeUInt32LE(Math.floor(n / 2 ** 32), 108);
      // A file past 2 GiB needs large_file in the superblock (mke2fs sets it already; an old image gets it now, as Linux does).
      if (n >= 2 ** 31 && !(this.fs.sb.featureRoCompat & RO_COMPAT_LARGE_FILE)) {
        this.fs.sb.raw.writeUInt32LE(this.fs.sb.featureRoCompat | RO_COMPAT_LARGE_FILE, 100);
        this.fs.writeSuper();
      }
    }
  }
  get nlink(): number {
    return this.raw.readUInt16LE(26);
  }
  set nlink(n: number) {
    this.raw.writeUInt16LE(n, 26);
  }
  get flags(): number {
    return this.raw.readUInt32LE(32);
  }
  set flags(f: number) {
    this.raw.writeUInt32LE(f >>> 0, 32);
  }
  private get xattrBlock(): number {
    return this.raw.readUInt32LE(104);
  }
  private get extra(): number {
    return this.fs.sb.inodeSize > 128 ? this.raw.readUInt16LE(128) : 0;
  }
  ptr(i: number): number {
    return this.raw.readUInt32LE(40 + i * 4);
  }
  setPtr(i: number, b: number): void {
    this.raw.writeUInt32LE(b, 40 + i * 4);
  }
  heldBlocks(): number {
    return Math.floor(this.raw.readUInt32LE(28) / (this.fs.bs / 512));
  }
  addBlocks(delta: number): void {
    this.raw.writeUInt32LE(Math.max(0, this.raw.readUInt32LE(28) + delta * (this.fs.bs / 512)), 28);
  }

  /** A time field (base offset, extra offset or 0): seconds with the extra epoch bits and nanoseconds when the inode has room for them. */
  private time(at: number, ex: number): bigint {
    const sec = BigInt(this.raw.readInt32LE(at));
    if (!ex || this.extra < ex - 128 + 4) return sec * NS;
    const x = this.raw.readUInt32LE(ex);
    return (sec + (BigInt(x & 3) << 32n)) * NS + BigInt(x >>> 2);
  }
  private setTime(at: number, ex: number, t: bigint): void {
    let sec = t / NS;
    let ns = t % NS;
    if (ns < 0n) {
      ns += NS;
      sec -= 1n;
    }
    const lo = BigInt.asIntN(32, sec);
    this.raw.writeInt32LE(Number(lo), at);
    if (ex && this.extra >= ex - 128 + 4) this.raw.writeUInt32LE(((Number(ns) << 2) | Number(((sec - lo) >> 32n) & 3n)) >>> 0, ex);
  }

  /** Write the record back to the inode table. */
  save(): void {
    if (!this.fs.readonly) this.fs.writeInodeRaw(this.ino, this.raw);
  }
  /** Content changed: mtime and ctime now, the record written. */
  changed(): void {
    const t = nowNs();
    this.setTime(16, 136, t);
    this.setTime(12, 132, t);
    this.save();
  }
  private ctimeNow(): void {
    this.setTime(12, 132, nowNs());
  }

  attrs(): InodeAttrs {
    const r = this.raw;
    let rdev = 0;
    const type = this.mode & S_IFMT;
    if (type === S_IFCHR || type === S_IFBLK) {
      const old = this.ptr(0);
      const nw = this.ptr(1);
      rdev = old ? makedev((old >> 8) & 0xff, old & 0xff) : makedev((nw & 0xfff00) >> 8, (nw & 0xff) | ((nw >> 12) & 0xfff00));
    }
    return {
      mode: this.mode, uid: r.readUInt16LE(2) | (r.readUInt16LE(120) << 16), gid: r.readUInt16LE(24) | (r.readUInt16LE(122) << 16),
      nlink: this.nlink, size: this.size, blocks: r.readUInt32LE(28), blksize: this.fs.bs, rdev,
      atimeNs: this.time(8, 140), mtimeNs: this.time(16, 136), ctimeNs: this.time(12, 132), btimeNs: this.extra >= 24 ? this.time(144, 148) : 0n,
      flags: this.flags & USER_MODIFIABLE,
    };
  }

  /** Set up a new record: type, mode, owner, times, one link. */
  init(spec: CreateSpec): void {
    this.raw.fill(0);
    this.raw.writeUInt16LE(spec.type | (spec.mode & 0o7777), 0);
    this.raw.writeUInt16LE(spec.uid & 0xffff, 2);
    this.raw.writeUInt16LE(spec.uid >>> 16, 120);
    this.raw.writeUInt16LE(spec.gid & 0xffff, 24);
    this.raw.writeUInt16LE(spec.gid >>> 16, 122);
    if (this.fs.sb.inodeSize >= 128 + WANT_EXTRA) this.raw.writeUInt16LE(WANT_EXTRA, 128);
    this.raw.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, 100);
    const t = nowNs();
    for (const [at, ex] of [[8, 140], [12, 132], [16, 136], [144, 148]]) this.setTime(at, ex, t);
    this.nlink = spec.type === S_IFDIR ? 2 : 1;
    if ((spec.type === S_IFCHR || spec.type === S_IFBLK) && spec.rdev) {
      const ma = devMajor(spec.rdev);
      const mi = devMinor(spec.rdev);
      if (ma < 256 && mi < 256) this.setPtr(0, (ma << 8) | mi);
      else this.setPtr(1, ((mi & 0xff) | (ma << 8) | ((mi & ~0xff) << 12)) >>> 0);
    }
  }

  /** Where new blocks of this inode should go: after its last one, else at its group's start. */
  goal(): number {
    const g = Math.floor((this.ino - 1) / this.fs.sb.inodesPerGroup);
    return this.fs.sb.firstDataBlock + g * this.fs.sb.blocksPerGroup;
  }

  // ---- data ----
  readData(off: number, len: number): Buffer {
    const size = this.size;
    const end = Math.min(size, off + len);
    if (end <= off) return Buffer.alloc(0);
    const bs = this.fs.bs;
    const out = Buffer.alloc(end - off);
    // Blocks that follow each other on the disk are read in one piece.
    let run: { disk: number; at: number; len: number } | null = null;
    const readRun = (): void => {
      if (run) this.fs.readRange(run.disk, run.len).copy(out, run.at - off);
      run = null;
    };
    for (let at = off; at < end; ) {
      const n = Math.floor(at / bs);
      const inBlk = at % bs;
      const take = Math.min(bs - inBlk, end - at);
      const b = mapBlock(this, n, false, 0);
      if (!b) readRun();
      else if (run && run.disk + run.len === b * bs + inBlk) run.len += take;
      else {
        readRun();
        run = { disk: b * bs + inBlk, at, len: take };
      }
      at += take;
    }
    readRun();
    return out;
  }
  writeData(off: number, data: Buffer): number {
    if (off + data.length > this.fs.maxBytes) {
      if (off >= this.fs.maxBytes) throw new Errno(E.EFBIG);
      data = data.subarray(0, this.fs.maxBytes - off);
    }
    const bs = this.fs.bs;
    let done = 0;
    let goal = this.goal();
    // Pieces that follow each other on the disk go in one write (up to a megabyte).
    let run: { off: number; parts: Buffer[]; len: number } | null = null;
    const flush = (): void => {
      if (run) this.fs.writeRange(run.off, run.parts.length === 1 ? run.parts[0] : Buffer.concat(run.parts, run.len));
      run = null;
    };
    const put = (diskOff: number, piece: Buffer): void => {
      if (run && run.off + run.len === diskOff && run.len < 1 << 20) {
        run.parts.push(piece);
        run.len += piece.length;
      } else {
        flush();
        run = { off: diskOff, parts: [piece], len: piece.length };
      }
    };
    try {
      while (done < data.length) {
        const at = off + done;
        const n = Math.floor(at / bs);
        const inBlk = at % bs;
        const take = Math.min(bs - inBlk, data.length - done);
        let b = mapBlock(this, n, false, 0);
        if (!b) {
          b = mapBlock(this, n, true, goal);
          // A new block: what the write leaves of it reads as zeros.
          if (take === bs) put(b * bs, data.subarray(done, done + take));
          else {
            const whole = Buffer.alloc(bs);
            data.copy(whole, inBlk, done, done + take);
            put(b * bs, whole);
          }
        } else {
          put(b * bs + inBlk, data.subarray(done, done + take));
        }
        goal = b + 1;
        done += take;
      }
      flush();
    } catch (e) {
      flush();
      // Out of space part-way: what was written stands (a short write).
      if (!(e instanceof Errno) || e.errno !== E.ENOSPC || done === 0) {
        this.save();
        throw e;
      }
    }
    if (off + done > this.size) this.size = off + done;
    this.pages?.wrote(off, data.subarray(0, done));
    return done;
  }

  override readAt(off: number, len: number): Buffer {
    if (!this.isReg) throw new Errno(E.EINVAL);
    this.pages?.flush();
    return this.readData(off, len);
  }
  override mappable(): Mappable | null {
    if (!this.isReg || !this.fs.frames) return null;
    return (this.pages ??= new MappedPages(this.fs.frames, this)).mappable();
  }
  override sync(): void {
    this.pages?.flush();
    this.fs.flushMeta();
  }
  override writeAt(off: number, data: Buffer): number {
    if (!this.isReg) throw new Errno(E.EINVAL);
    if (data.length === 0) return 0;
    const n = this.writeData(off, data);
    this.changed();
    return n;
  }
  private truncate(size: number): void {
    if (size > this.fs.maxBytes) throw new Errno(E.EFBIG);
    const bs = this.fs.bs;
    if (size < this.size) {
      freeFrom(this, Math.ceil(size / bs));
      // The rest of the last block is zeroed, so that growing the file again reads zeros there.
      if (size % bs) {
        const b = mapBlock(this, Math.floor(size / bs), false, 0);
        if (b) this.fs.writeBlock(b, Buffer.alloc(bs - (size % bs)), size % bs);
      }
    }
    this.size = size;
    this.pages?.truncated(size);
  }

  override setattr(s: SetAttr): void {
    if (s.size !== undefined) {
      if ((this.mode & S_IFMT) === S_IFDIR) throw new Errno(E.EISDIR);
      if (!this.isReg) throw new Errno(E.EINVAL);
      if (s.size !== this.size) this.setTime(16, 136, nowNs());
      this.truncate(s.size);
    }
    if (s.mode !== undefined) this.raw.writeUInt16LE((this.mode & S_IFMT) | (s.mode & 0o7777), 0);
    if (s.uid !== undefined) {
      this.raw.writeUInt16LE(s.uid & 0xffff, 2);
      this.raw.writeUInt16LE(s.uid >>> 16, 120);
    }
    if (s.gid !== undefined) {
      this.raw.writeUInt16LE(s.gid & 0xffff, 24);
      this.raw.writeUInt16LE(s.gid >>> 16, 122);
    }
    if (s.atimeNs !== undefined) this.setTime(8, 140, s.atimeNs);
    if (s.mtimeNs !== undefined) this.setTime(16, 136, s.mtimeNs);
    this.ctimeNow();
    this.save();
  }

  override inodeFlags(): number {
    return this.flags & USER_MODIFIABLE;
  }
  override setInodeFlags(flags: number, now: bigint): void {
    if (flags & ~USER_MODIFIABLE) throw new Errno(E.EOPNOTSUPP);
    this.flags = (this.flags & ~USER_MODIFIABLE) | flags;
    this.setTime(12, 132, now);
    this.save();
  }
  override accessed(): void {
    if (this.fs.readonly || this.flags & FS_NOATIME_FL) return;
    const now = nowNs();
    if (!relatimeDue(this.attrs(), now)) return;
    this.setTime(8, 140, now);
    this.save();
  }
  override touchCtime(): void {
    this.ctimeNow();
    this.save();
  }

  // ---- symlinks: fast ones keep the target in i_block, slow ones in a block ----
  private get fastSymlink(): boolean {
    const ea = this.xattrBlock ? this.fs.bs / 512 : 0;
    return this.raw.readUInt32LE(28) - ea === 0;
  }
  override readlink(): string {
    if ((this.mode & S_IFMT) !== S_IFLNK) throw new Errno(E.EINVAL);
    const size = this.size;
    if (this.fastSymlink) {
      if (size > 60) throw corrupt(`fast symlink ${this.ino} of size ${size}`);
      return this.raw.toString('latin1', 40, 40 + size);
    }
    if (size > 4096) throw corrupt(`symlink ${this.ino} of size ${size}`);
    return this.readData(0, size).toString('latin1');
  }
  private setTarget(target: string): void {
    const b = Buffer.from(target, 'latin1');
    if (b.length < 60) b.copy(this.raw, 40);
    else this.writeData(0, b);
    this.size = b.length;
  }

  // ---- directories ----
  override lookup(name: string): Ext2Inode | null {
    const f = findEntry(this, name);
    return f ? this.fs.inode(f.ents[f.at].ino) : null;
  }
  override readdir(): DirEntry[] {
    return listEntries(this).map((e) => ({ name: e.name, ino: e.ino, type: e.ft ? dtOfFt(e.ft) : dtype(this.fs.inode(e.ino).mode) }));
  }
  override blocksRmdir(): boolean {
    return !isEmptyDir(this);
  }
  override create(name: string, spec: CreateSpec): Ext2Inode {
    const dir = spec.type === S_IFDIR;
    if (dir && this.nlink >= LINK_MAX) throw new Errno(E.EMLINK);
    const ino = this.fs.allocInode(this.ino, dir);
    const c = this.fs.inode(ino);
    try {
      c.init(spec);
      if (dir) initDir(c, this.ino);
      else if (spec.type === S_IFLNK) c.setTarget(spec.target ?? '');
      c.save();
      addEntry(this, name, ino, spec.type);
    } catch (e) {
      c.nlink = 0;
      c.release();
      throw e;
    }
    if (dir) {
      this.nlink = this.nlink + 1;
      this.save();
    }
    return c;
  }
  override link(name: string, target: Inode): void {
    if (!(target instanceof Ext2Inode) || target.fs !== this.fs) throw new Errno(E.EXDEV);
    if (target.nlink >= LINK_MAX) throw new Errno(E.EMLINK);
    addEntry(this, name, target.ino, target.mode);
    target.nlink = target.nlink + 1;
    target.touchCtime();
  }
  override unlink(name: string, child: Inode): void {
    removeEntry(this, name);
    if (child instanceof Ext2Inode) this.dropLink(child);
  }
  /** An entry naming c went: a directory loses both its names (its own "." too) and its parent's link from "..". */
  private dropLink(c: Ext2Inode): void {
    if ((c.mode & S_IFMT) === S_IFDIR) {
      c.nlink = 0;
      this.nlink = Math.max(1, this.nlink - 1);
      this.save();
    } else {
      c.nlink = Math.max(0, c.nlink - 1);
    }
    c.ctimeNow();
    c.save();
    c.maybeFree();
  }
  override rename(oldName: string, newDir: Inode, newName: string, flags: number): void {
    if (!(newDir instanceof Ext2Inode) || newDir.fs !== this.fs) throw new Errno(E.EXDEV);
    const src = this.lookup(oldName);
    if (!src) throw new Errno(E.ENOENT);
    const dst = newDir.lookup(newName);
    const isDir = (i: Ext2Inode): boolean => (i.mode & S_IFMT) === S_IFDIR;
    if (flags & RENAME_EXCHANGE) {
      if (!dst) throw new Errno(E.ENOENT);
      setEntry(this, oldName, dst.ino, dst.mode);
      setEntry(newDir, newName, src.ino, src.mode);
      if (this !== newDir) {
        if (isDir(src)) this.moved(src, newDir);
        if (isDir(dst)) newDir.moved(dst, this);
      }
      dst.touchCtime();
    } else {
      if (src === dst) return;
      if (dst) {
        setEntry(newDir, newName, src.ino, src.mode);
        newDir.dropLink(dst);
      } else {
        addEntry(newDir, newName, src.ino, src.mode);
      }
      removeEntry(this, oldName);
      if (isDir(src) && this !== newDir) this.moved(src, newDir);
    }
    src.touchCtime();
  }
  /** Directory d moved from this directory to to: its ".." and both link counts follow. */
  private moved(d: Ext2Inode, to: Ext2Inode): void {
    setEntry(d, '..', to.ino, S_IFDIR);
    this.nlink = Math.max(1, this.nlink - 1);
    this.save();
    to.nlink = to.nlink + 1;
    to.save();
  }

  // ---- life ----
  override incOpen(): void {
    this.openCount++;
  }
  override decOpen(): void {
    this.openCount--;
    if (this.openCount === 0 && this.pages) {
      // The last close: what shared mappings wrote goes to the disk; the cache goes (mappings keep their frames).
      if (!this.fs.readonly) this.pages.flush();
      this.pages.drop();
      this.pages = null;
    }
    this.maybeFree();
  }
  /** No names and no open descriptions: the blocks and the inode go back (an unlinked open file waits for its last close). */
  private maybeFree(): void {
    if (this.nlink > 0 || this.openCount > 0 || this.fs.readonly) return;
    this.release();
  }
  private release(): void {
    const type = this.mode & S_IFMT;
    // Device numbers and fast symlink targets live in i_block: no blocks behind them.
    if (type === S_IFREG || type === S_IFDIR || (type === S_IFLNK && !this.fastSymlink)) freeFrom(this, 0);
    if (this.xattrBlock) this.dropXattrBlock();
    this.raw.writeUInt32LE(Number(nowNs() / NS) >>> 0, 20);
    this.raw.writeUInt32LE(0, 4);
    this.raw.writeUInt32LE(0, 108);
    this.save();
    this.fs.freeInode(this.ino, type === S_IFDIR);
  }
  /** A shared extended attribute block (made natively): one reference less, freed at none. */
  private dropXattrBlock(): void {
    const b = this.xattrBlock;
    const blk = this.fs.readBlock(b);
    const refs = blk.readUInt32LE(4);
    if (refs > 1) {
      blk.writeUInt32LE(refs - 1, 4);
      this.fs.writeBlock(b, blk.subarray(4, 8), 4);
    } else {
      this.fs.freeBlock(b);
      this.addBlocks(-1);
    }
    this.raw.writeUInt32LE(0, 104);
  }
}
