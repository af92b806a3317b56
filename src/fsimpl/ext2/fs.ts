// ext2 (fsimpl/ext2): a disk file system on a loop device of the sandbox.
// Every change is written through to the disk as it is made (bitmaps, group
// descriptors, the superblock's counts, inodes, directory blocks, data), so
// the image is consistent whenever no call is in progress; what a mount
// changes besides is the superblock's state: not clean while mounted
// writable, clean again at umount or remount read-only (Linux's ext2 does the
// same), with the mount count and times.
import { Errno, E } from '../../abi/errno';
import { makedev, ST_RDONLY, type StatFs } from '../../abi/fs';
import { nowNs } from '../../host/clock';
import type { FilesystemImpl } from '../../vfs/inode';
import type { FrameSource } from '../../mm/mappable';
import { LOOP_MAJOR } from '../loop/loop';
import { corrupt, Disk, parseGroup, ROOT_INO, SUPER_OFFSET, Superblock, VALID_FS, writeGroup, type Group } from './disk';
import { Ext2Inode } from './inode';

export const EXT2_SUPER_MAGIC = 0xef53;

export class Ext2Fs implements FilesystemImpl {
  readonly name = 'ext2';
  readonly dynamic = false;
  /** Extended attribute blocks are not read or written (a natively made one is kept, and freed with its inode). */
  readonly noXattrs = true;
  /** The inode flags statx reports (Linux's ext2_getattr). */
  readonly statxFlags = 0x4 | 0x10 | 0x20 | 0x40;
  readonly dev: number;
  readonly sb: Superblock;
  readonly bs: number;
  /** The group descriptor table as on disk (its first block is at firstDataBlock + 1). */
  private readonly gdt: Buffer;
  readonly groups: Group[] = [];
  /** The superblock's read-only flag (SB_RDONLY). */
  readonly = true;
  /** The state found at mount (written back when the file system stops being writable). */
  private readonly mountState: number;
  /** Live inodes by number: one object per inode while anything holds it. */
  private readonly live = new Map<number, WeakRef<Ext2Inode>>();
  private readonly reaper = new FinalizationRegistry<number>((ino) => {
    const r = this.live.get(ino);
    if (r && !r.deref()) this.live.delete(ino);
  });
  /** Told when the last mount went (the mount type lets the device go). */
  onShutdown: (() => void) | null = null;

  constructor(readonly disk: Disk, ro: boolean, readonly frames: FrameSource | null = null) {
    this.dev = makedev(LOOP_MAJOR, disk.device.index);
    this.sb = new Superblock(disk.read(SUPER_OFFSET, 1024), disk.size);
    this.bs = this.sb.blockSize;
    this.gdt = disk.read((this.sb.firstDataBlock + 1) * this.bs, this.sb.gdtBlocks * this.bs);
    const itBlocks = Math.ceil((this.sb.inodesPerGroup * this.sb.inodeSize) / this.bs);
    for (let g = 0; g < this.sb.groups; g++) {
      const d = parseGroup(this.gdt, g * 32);
      // Every bitmap and inode table lies inside the file system (they may be anywhere with flex_bg).
      const inside = (b: number, n: number): boolean => b >= this.sb.firstDataBlock && b + n <= this.sb.blocksCount;
      if (!inside(d.blockBitmap, 1) || !inside(d.inodeBitmap, 1) || !inside(d.inodeTable, itBlocks)) throw new Errno(E.EINVAL, `ext2: group descriptors corrupted (group ${g})`);
      if (d.freeInodes > this.sb.inodesPerGroup || d.freeBlocks > this.sb.blocksPerGroup) throw new Errno(E.EINVAL, `ext2: group descriptor counts corrupted (group ${g})`);
      this.groups.push(d);
    }
    this.mountState = this.sb.state;
    if (!ro) this.setReadonly(false);
  }

  get maxBytes(): number {
    const per = this.bs / 4;
    const blocks = 12 + per + per * per + per * per * per;
    // i_blocks counts 512-byte sectors in 32 bits (no huge_file): that bounds the size too.
    return Math.min(blocks * this.bs, (2 ** 32 - 1) * 512 - this.bs * 4, Number.MAX_SAFE_INTEGER);
  }

  root(): Ext2Inode {
    return this.inode(ROOT_INO);
  }

  /** The inode object of ino (read from the table unless live). */
  inode(ino: number): Ext2Inode {
    if (!Number.isInteger(ino) || ino < 1 || ino > this.sb.inodesCount) throw corrupt(`inode number ${ino} out of range`);
    const had = this.live.get(ino)?.deref();
    if (had) return had;
    const i = new Ext2Inode(this, ino, this.readInodeRaw(ino));
    this.live.set(ino, new WeakRef(i));
    this.reaper.register(i, ino);
    return i;
  }

  private inodeLocation(ino: number): number {
    const g = Math.floor((ino - 1) / this.sb.inodesPerGroup);
    const idx = (ino - 1) % this.sb.inodesPerGroup;
    return this.groups[g].inodeTable * this.bs + idx * this.sb.inodeSize;
  }
  readInodeRaw(ino: number): Buffer {
    return this.disk.read(this.inodeLocation(ino), this.sb.inodeSize);
  }
  writeInodeRaw(ino: number, raw: Buffer): void {
    this.disk.write(this.inodeLocation(ino), raw);
  }

  readBlock(b: number): Buffer {
    this.checkBlock(b);
    return this.disk.read(b * this.bs, this.bs);
  }
  /** Bytes at a disk offset inside blocks already checked (a file's run of blocks). */
  readRange(off: number, len: number): Buffer {
    return this.disk.read(off, len);
  }
  /** Bytes to a disk offset inside blocks the caller mapped (a file's run of blocks). */
  writeRange(off: number, data: Buffer): void {
    this.disk.write(off, data);
  }
  writeBlock(b: number, data: Buffer, at = 0): void {
    this.checkBlock(b);
    if (at < 0 || at + data.length > this.bs) throw new Errno(E.EIO, 'ext2: write beyond a block');
    this.disk.write(b * this.bs + at, data);
  }
  /** A block number read from the disk: inside the file system's data area, or the image is corrupt. */
  checkBlock(b: number): void {
    if (!Number.isInteger(b) || b < this.sb.firstDataBlock || b >= this.sb.blocksCount) throw corrupt(`block ${b} out of range`);
  }

  /**
   * The counts change with every allocation: a group's descriptor is
   * written at once, as its bitmaps are; the superblock's totals (which
   * e2fsck takes from the descriptors, as Linux keeps them only in memory)
   * once the Sentry's current work is done (the next turn of Node's loop),
   * and at fsync, remount and umount. A sandbox that ends with the file
   * system mounted leaves it consistent but for the superblock.
   */
  private writeGroupDesc(g: number): void {
    writeGroup(this.groups[g], this.gdt, g * 32);
    this.disk.write((this.sb.firstDataBlock + 1) * this.bs + g * 32, this.gdt.subarray(g * 32, g * 32 + 32));
  }
  private metaDirty = false;
  private flushQueued = false;
  writeSuper(): void {
    this.markMeta();
  }
  private markMeta(): void {
    this.metaDirty = true;
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      try {
        this.flushMeta();
      } catch {
        // The device lost its backing: nothing left to write to (the next change reports it).
      }
    });
  }
  /** Write the descriptor table and the superblock (fsync, remount, umount). */
  flushMeta(): void {
    if (!this.metaDirty || this.disk.readOnly) return;
    this.metaDirty = false;
    this.disk.write(SUPER_OFFSET, this.sb.raw);
  }

  // ---- allocation (a bitmap block per group; counts in the descriptor and the superblock) ----

  /** Bitmap blocks read lately, kept current by every change (which is written through at once). */
  private readonly bitmaps = new Map<number, Buffer>();
  private bitmap(b: number): Buffer {
    let bm = this.bitmaps.get(b);
    if (!bm) {
      bm = this.readBlock(b);
      if (this.bitmaps.size >= 16) this.bitmaps.clear();
      this.bitmaps.set(b, bm);
    }
    return bm;
  }
  /** Set or clear bit in bitmap block b; false when it already had that value. */
  private flip(b: number, bit: number, on: boolean): boolean {
    const bm = this.bitmap(b);
    const mask = 1 << (bit & 7);
    if (!!(bm[bit >> 3] & mask) === on) return false;
    bm[bit >> 3] ^= mask;
    this.writeBlock(b, bm.subarray(bit >> 3, (bit >> 3) + 1), bit >> 3);
    return true;
  }

  /** A free block, near goal when it can; ENOSPC when none is left (root's reserve is not kept apart). */
  allocBlock(goal: number): number {
    const per = this.sb.blocksPerGroup;
    const start = goal >= this.sb.firstDataBlock && goal < this.sb.blocksCount ? Math.floor((goal - this.sb.firstDataBlock) / per) : 0;
    for (let k = 0; k < this.sb.groups; k++) {
      const g = (start + k) % this.sb.groups;
      const d = this.groups[g];
      if (d.freeBlocks === 0) continue;
      const first = this.sb.firstDataBlock + g * per;
      const inGroup = Math.min(per, this.sb.blocksCount - first);
      const bm = this.bitmap(d.blockBitmap);
      const from = k === 0 && goal >= first ? goal - first : 0;
      const bit = findZero(bm, from, inGroup) ?? findZero(bm, 0, from);
      if (bit === null) throw corrupt(`group ${g} counts free blocks its bitmap lacks`);
      this.flip(d.blockBitmap, bit, true);
      d.freeBlocks--;
      this.writeGroupDesc(g);
      this.sb.freeBlocks = Math.max(0, this.sb.freeBlocks - 1);
      this.writeSuper();
      return first + bit;
    }
    throw new Errno(E.ENOSPC);
  }

  freeBlock(b: number): void {
    this.checkBlock(b);
    const rel = b - this.sb.firstDataBlock;
    const g = Math.floor(rel / this.sb.blocksPerGroup);
    const bit = rel % this.sb.blocksPerGroup;
    const d = this.groups[g];
    if (!this.flip(d.blockBitmap, bit, false)) throw corrupt(`freeing block ${b}, which is free already`);
    d.freeBlocks++;
    this.writeGroupDesc(g);
    this.sb.freeBlocks++;
    this.writeSuper();
  }

  /** A free inode number: a directory in the group with the most free blocks among those with free inodes, anything else near its parent. */
  allocInode(parentIno: number, dir: boolean): number {
    const n = this.sb.groups;
    let start = Math.floor((parentIno - 1) / this.sb.inodesPerGroup) % n;
    if (dir) {
      let best = -1;
      for (let g = 0; g < n; g++) if (this.groups[g].freeInodes > 0 && (best < 0 || this.groups[g].freeBlocks > this.groups[best].freeBlocks)) best = g;
      if (best >= 0) start = best;
    }
    for (let k = 0; k < n; k++) {
      const g = (start + k) % n;
      const d = this.groups[g];
      if (d.freeInodes === 0) continue;
      const bm = this.bitmap(d.inodeBitmap);
      // The reserved inodes (below first_ino) are never handed out.
      const from = g === 0 ? this.sb.firstIno - 1 : 0;
      const bit = findZero(bm, from, this.sb.inodesPerGroup);
      if (bit === null) continue;
      this.flip(d.inodeBitmap, bit, true);
      d.freeInodes--;
      if (dir) d.usedDirs++;
      this.writeGroupDesc(g);
      this.sb.freeInodes = Math.max(0, this.sb.freeInodes - 1);
      this.writeSuper();
      return g * this.sb.inodesPerGroup + bit + 1;
    }
    throw new Errno(E.ENOSPC);
  }

  freeInode(ino: number, dir: boolean): void {
    const g = Math.floor((ino - 1) / this.sb.inodesPerGroup);
    const bit = (ino - 1) % this.sb.inodesPerGroup;
    const d = this.groups[g];
    if (!this.flip(d.inodeBitmap, bit, false)) throw corrupt(`freeing inode ${ino}, which is free already`);
    d.freeInodes++;
    if (dir && d.usedDirs > 0) d.usedDirs--;
    this.writeGroupDesc(g);
    this.sb.freeInodes++;
    this.writeSuper();
    this.live.delete(ino);
  }

  statfs(): StatFs {
    const sb = this.sb;
    // f_blocks leaves out the metadata of every group (Linux's ext2_statfs with minixdf off): superblocks, descriptors, bitmaps, inode tables.
    const itBlocks = Math.ceil((sb.inodesPerGroup * sb.inodeSize) / this.bs);
    let overhead = sb.firstDataBlock;
    for (let g = 0; g < sb.groups; g++) overhead += (this.hasSuper(g) ? 1 + sb.gdtBlocks + this.reservedGdt : 0) + 2 + itBlocks;
    const bfree = sb.freeBlocks;
    return {
      type: EXT2_SUPER_MAGIC, bsize: this.bs, blocks: sb.blocksCount - overhead, bfree, bavail: Math.max(0, bfree - sb.reservedBlocks),
      files: sb.inodesCount, ffree: sb.freeInodes, namelen: 255, flags: this.readonly ? ST_RDONLY : 0,
    };
  }
  private get reservedGdt(): number {
    return this.sb.raw.readUInt16LE(206);
  }
  /** Does group g hold a copy of the superblock (all with sparse_super off; 0, 1 and powers of 3, 5, 7 with it)? */
  private hasSuper(g: number): boolean {
    if (g <= 1 || !(this.sb.featureRoCompat & 1)) return true;
    for (const p of [3, 5, 7]) {
      let x = p;
      while (x < g) x *= p;
      if (x === g) return true;
    }
    return false;
  }

  /**
   * SB_RDONLY: writable means a mount that changes the disk, so the state
   * says not clean until it is read-only again (or unmounted).
   */
  setReadonly(ro: boolean): void {
    if (ro === this.readonly) return;
    const now = Number(nowNs() / 1_000_000_000n);
    if (!ro) {
      if (this.sb.roReason) throw new Errno(E.EINVAL, `ext2: ${this.sb.roReason}`);
      if (this.disk.readOnly) throw new Errno(E.EACCES, 'ext2: the device is write-protected');
      this.sb.mounted(now);
      this.sb.state = this.mountState & ~VALID_FS;
    } else {
      this.sb.state = this.mountState;
    }
    this.sb.written(now);
    this.readonly = ro;
    this.metaDirty = true;
    this.flushMeta();
  }

  /** The last mount went: the disk is left clean. */
  shutdown(): void {
    try {
      if (!this.readonly) this.setReadonly(true);
    } finally {
      this.onShutdown?.();
      this.onShutdown = null;
    }
  }
}

/** The first clear bit of bm in [from, to), or null. */
export function findZero(bm: Buffer, from: number, to: number): number | null {
  for (let i = from; i < to; ) {
    if ((i & 7) === 0 && i + 8 <= to && bm[i >> 3] === 0xff) {
      i += 8;
      continue;
    }
    if (!(bm[i >> 3] & (1 << (i & 7)))) return i;
    i++;
  }
  return null;
}
