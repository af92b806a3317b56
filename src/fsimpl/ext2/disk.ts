// The on-disk layout of ext2 (revision 1, as e2fsprogs 1.47's mke2fs makes
// it): the superblock at byte 1024, the group descriptor table after it, and
// the byte access to the disk, a loop device's window of a file of the
// sandbox (never a host device). Every number read from the disk is checked
// here or where it is used: a hostile image gives EUCLEAN (Linux's
// EFSCORRUPTED) or EINVAL at mount, never an exception of another kind.
import { Errno, E } from '../../abi/errno';
import type { LoopDevice } from '../loop/loop';

export const EXT2_MAGIC = 0xef53;
export const SUPER_OFFSET = 1024;
export const ROOT_INO = 2;
export const VALID_FS = 1;

// Features this implementation honours; anything else INCOMPAT refuses the mount, RO_COMPAT a writable one.
export const INCOMPAT_FILETYPE = 0x2;
export const INCOMPAT_FLEX_BG = 0x200;
const INCOMPAT_SUPPORTED = INCOMPAT_FILETYPE | INCOMPAT_FLEX_BG;
export const RO_COMPAT_SPARSE_SUPER = 0x1;
export const RO_COMPAT_LARGE_FILE = 0x2;
const RO_COMPAT_SUPPORTED = RO_COMPAT_SPARSE_SUPER | RO_COMPAT_LARGE_FILE;

const INCOMPAT_NAMES: Record<number, string> = {
  0x1: 'compression', 0x4: 'needs_recovery', 0x8: 'journal_dev', 0x10: 'meta_bg', 0x40: 'extent', 0x80: '64bit', 0x100: 'mmp',
  0x400: 'ea_inode', 0x1000: 'dirdata', 0x2000: 'metadata_csum_seed', 0x4000: 'large_dir', 0x8000: 'inline_data', 0x10000: 'encrypt', 0x20000: 'casefold',
};

/** The error of a corrupt structure (Linux's EFSCORRUPTED), with what was wrong for the debug log. */
export function corrupt(what: string): Errno {
  return new Errno(E.EUCLEAN, `ext2: ${what}`);
}

/**
 * The bytes of the disk: the loop device's backing file (a regular file of
 * the sandbox, whose inode serves reads and writes synchronously) at the
 * device's offset, within its capacity as it was at mount.
 */
export class Disk {
  readonly size: number;
  constructor(readonly device: LoopDevice) {
    const b = device.backing;
    if (!b || device.state !== 'bound' || !b.inode) throw new Errno(E.EINVAL, 'ext2: the loop device is not bound');
    // A loop device stacked on another (its backing is a device, not a file) is not supported here.
    if ((b.inode.mode & 0o170000) !== 0o100000) throw new Errno(E.EINVAL, 'ext2: the loop device is not backed by a regular file');
    this.size = device.sizeBytes;
  }

  get readOnly(): boolean {
    return this.device.readOnly;
  }

  read(off: number, len: number): Buffer {
    if (off < 0 || off + len > this.size) throw new Errno(E.EIO, 'ext2: read beyond the device');
    const b = this.device.backing;
    if (!b?.inode) throw new Errno(E.EIO, 'ext2: the loop device lost its backing');
    this.device.noteIo(false, len);
    const d = b.inode.readAt(this.device.offset + off, len);
    // Past the backing file's end (it shrank) the disk reads zeros, as the loop device does.
    return d.length >= len ? d : Buffer.concat([d, Buffer.alloc(len - d.length)]);
  }

  write(off: number, data: Buffer): void {
    if (off < 0 || off + data.length > this.size) throw new Errno(E.EIO, 'ext2: write beyond the device');
    const b = this.device.backing;
    if (!b?.inode) throw new Errno(E.EIO, 'ext2: the loop device lost its backing');
    if (this.device.readOnly) throw new Errno(E.EROFS);
    this.device.noteIo(true, data.length);
    if (b.inode.writeAt(this.device.offset + off, data) !== data.length) throw new Errno(E.EIO, 'ext2: short write to the backing file');
  }
}

/** The superblock fields the file system uses; the 1024 raw bytes are kept and written back whole. */
export class Superblock {
  readonly blockSize: number;
  readonly inodesCount: number;
  readonly blocksCount: number;
  readonly firstDataBlock: number;
  readonly blocksPerGroup: number;
  readonly inodesPerGroup: number;
  readonly inodeSize: number;
  readonly firstIno: number;
  readonly groups: number;
  readonly featureCompat: number;
  readonly featureIncompat: number;
  readonly featureRoCompat: number;
  /** Why the file system may only be mounted read-only (unsupported RO_COMPAT features), or null. */
  readonly roReason: string | null;

  /** Parse and check raw (1024 bytes); diskSize bounds every location. */
  constructor(readonly raw: Buffer, diskSize: number) {
    if (raw.readUInt16LE(56) !== EXT2_MAGIC) throw new Errno(E.EINVAL, "ext2: can't find an ext2 filesystem (bad magic)");
    const rev = raw.readUInt32LE(76);
    if (rev > 1) throw new Errno(E.EINVAL, `ext2: revision level ${rev} is not supported`);
    const log = raw.readUInt32LE(24);
    if (log > 6) throw new Errno(E.EINVAL, `ext2: bad block size (log ${log})`);
    this.blockSize = 1024 << log;
    this.inodesCount = raw.readUInt32LE(0);
    this.blocksCount = raw.readUInt32LE(4);
    this.firstDataBlock = raw.readUInt32LE(20);
    this.blocksPerGroup = raw.readUInt32LE(32);
    this.inodesPerGroup = raw.readUInt32LE(40);
    this.inodeSize = rev === 0 ? 128 : raw.readUInt16LE(88);
    this.firstIno = rev === 0 ? 11 : raw.readUInt32LE(84);
    this.featureCompat = rev === 0 ? 0 : raw.readUInt32LE(92);
    this.featureIncompat = rev === 0 ? 0 : raw.readUInt32LE(96);
    this.featureRoCompat = rev === 0 ? 0 : raw.readUInt32LE(100);
    const bs = this.blockSize;
    const bad = (why: string): never => {
      throw new Errno(E.EINVAL, `ext2: ${why}`);
    };
    const incompat = this.featureIncompat & ~INCOMPAT_SUPPORTED;
    if (incompat) {
      const names = Object.entries(INCOMPAT_NAMES).filter(([bit]) => incompat & Number(bit)).map(([, n]) => n);
      bad(`couldn't mount because of unsupported optional features (${incompat.toString(16)}: ${names.join(', ') || 'unknown'})`);
    }
    const ro = this.featureRoCompat & ~RO_COMPAT_SUPPORTED;
    this.roReason = ro ? `couldn't mount RDWR because of unsupported optional features (${ro.toString(16)})` : null;
    if (this.inodeSize < 128 || this.inodeSize > bs || this.inodeSize & (this.inodeSize - 1)) bad(`unsupported inode size ${this.inodeSize}`);
    if (this.firstDataBlock !== (bs === 1024 ? 1 : 0)) bad('bad first data block');
    if (this.blocksPerGroup === 0 || this.blocksPerGroup > bs * 8 || this.blocksPerGroup % 8) bad('bad blocks per group');
    if (this.inodesPerGroup === 0 || this.inodesPerGroup > bs * 8 || this.inodesPerGroup % 8) bad('bad inodes per group');
    if (this.blocksCount <= this.firstDataBlock) bad('bad block count');
    if (this.blocksCount * bs > diskSize) bad(`bad geometry: block count ${this.blocksCount} exceeds size of device (${Math.floor(diskSize / bs)} blocks)`);
    this.groups = Math.ceil((this.blocksCount - this.firstDataBlock) / this.blocksPerGroup);
    if (this.groups * this.inodesPerGroup !== this.inodesCount) bad('inodes count is not groups * inodes per group');
    if (this.firstIno <= ROOT_INO || this.firstIno > this.inodesCount) bad('bad first inode');
    // The descriptor table must fit between the superblock and the end of the disk.
    if ((this.firstDataBlock + 1 + this.gdtBlocks) * bs > diskSize) bad('group descriptors beyond the device');
  }

  get gdtBlocks(): number {
    return Math.ceil((this.groups * 32) / this.blockSize);
  }
  get freeBlocks(): number {
    return this.raw.readUInt32LE(12);
  }
  set freeBlocks(n: number) {
    this.raw.writeUInt32LE(n, 12);
  }
  get freeInodes(): number {
    return this.raw.readUInt32LE(16);
  }
  set freeInodes(n: number) {
    this.raw.writeUInt32LE(n, 16);
  }
  get reservedBlocks(): number {
    return this.raw.readUInt32LE(8);
  }
  get state(): number {
    return this.raw.readUInt16LE(58);
  }
  set state(s: number) {
    this.raw.writeUInt16LE(s, 58);
  }
  get resuid(): number {
    return this.raw.readUInt16LE(80);
  }
  get resgid(): number {
    return this.raw.readUInt16LE(82);
  }
  /** A mount: the count goes up and the mount time is now (Linux's ext2_setup_super). */
  mounted(nowSec: number): void {
    this.raw.writeUInt16LE((this.raw.readUInt16LE(52) + 1) & 0xffff, 52);
    if (this.raw.readInt16LE(54) === 0) this.raw.writeInt16LE(-1, 54);
    this.raw.writeUInt32LE(nowSec >>> 0, 44);
  }
  written(nowSec: number): void {
    this.raw.writeUInt32LE(nowSec >>> 0, 48);
  }
}

/** One group descriptor (32 bytes in the table; the table is kept in memory and each change written through). */
export interface Group {
  blockBitmap: number;
  inodeBitmap: number;
  inodeTable: number;
  freeBlocks: number;
  freeInodes: number;
  usedDirs: number;
}

export function parseGroup(b: Buffer, at: number): Group {
  return {
    blockBitmap: b.readUInt32LE(at), inodeBitmap: b.readUInt32LE(at + 4), inodeTable: b.readUInt32LE(at + 8),
    freeBlocks: b.readUInt16LE(at + 12), freeInodes: b.readUInt16LE(at + 14), usedDirs: b.readUInt16LE(at + 16),
  };
}

export function writeGroup(g: Group, b: Buffer, at: number): void {
  b.writeUInt32LE(g.blockBitmap, at);
  b.writeUInt32LE(g.inodeBitmap, at + 4);
  b.writeUInt32LE(g.inodeTable, at + 8);
  b.writeUInt16LE(g.freeBlocks, at + 12);
  b.writeUInt16LE(g.freeInodes, at + 14);
  b.writeUInt16LE(g.usedDirs, at + 16);
}
