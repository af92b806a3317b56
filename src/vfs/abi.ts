// Binary layouts of the file system structs of x86-64 Linux (asm/stat.h,
// linux/stat.h, asm-generic/statfs.h).
import type { InodeAttrs, StatFs } from '../abi/fs';
import { devMajor, devMinor, FS_APPEND_FL, FS_IMMUTABLE_FL, FS_NODUMP_FL } from '../abi/fs';

const NS = 1000000000n;
const splitTime = (ns: bigint): [bigint, number] => {
  let s = ns / NS;
  let n = ns % NS;
  if (n < 0n) {
    n += NS;
    s -= 1n;
  }
  return [s, Number(n)];
};

const TWO32 = 2 ** 32;

/**
 * A 64-bit field from a number (exact below 2^53, which every inode number,
 * size and device number here is), without a BigInt: stat is called once per
 * entry in a directory walk. Negative values are two's complement.
 */
export function putI64(b: Buffer, off: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  b.writeUInt32LE(v - hi * TWO32, off);
  b.writeInt32LE(hi | 0, off + 4);
}

/** struct stat (144 bytes). */
export function encodeStat(a: InodeAttrs, dev: number, ino: number): Buffer {
  const b = Buffer.alloc(144);
  putI64(b, 0, dev);
  putI64(b, 8, ino);
  putI64(b, 16, a.nlink);
  b.writeUInt32LE(a.mode >>> 0, 24);
  b.writeUInt32LE(a.uid >>> 0, 28);
  b.writeUInt32LE(a.gid >>> 0, 32);
  putI64(b, 40, a.rdev);
  putI64(b, 48, a.size);
  putI64(b, 56, a.blksize);
  putI64(b, 64, a.blocks);
  putTime(b, 72, a.atimeNs);
  putTime(b, 88, a.mtimeNs);
  putTime(b, 104, a.ctimeNs);
  return b;
}

/** A timespec {s64 sec; s64 nsec} from nanoseconds. */
function putTime(b: Buffer, off: number, ns: bigint): void {
  const [s, n] = splitTime(ns);
  putI64(b, off, Number(s));
  putI64(b, off + 8, n);
}

export const STATX_BASIC_STATS = 0x7ff;
export const STATX_BTIME = 0x800;
export const STATX_MNT_ID = 0x1000;
const STATX_MNT_ID_UNIQUE = 0x4000;

/** stx_attributes bits (linux/stat.h). */
const STATX_ATTR_IMMUTABLE = 0x10;
const STATX_ATTR_APPEND = 0x20;
const STATX_ATTR_NODUMP = 0x40;
export const STATX_ATTR_MOUNT_ROOT = 0x2000;
/** What Linux's VFS puts in every stx_attributes_mask: MOUNT_ROOT, AUTOMOUNT and DAX (never set here). */
const STATX_ATTR_VFS = STATX_ATTR_MOUNT_ROOT | 0x1000 | 0x200000;
/** The inode flags (ioctl_iflags(2)) statx reports, with their stx_attributes bits. */
const STATX_OF_FLAG: ReadonlyArray<readonly [number, number]> = [
  // FS_COMPR_FL and STATX_ATTR_COMPRESSED are both 0x4 (ext2 keeps the flag).
  [0x4, 0x4],
  [FS_IMMUTABLE_FL, STATX_ATTR_IMMUTABLE],
  [FS_APPEND_FL, STATX_ATTR_APPEND],
  [FS_NODUMP_FL, STATX_ATTR_NODUMP],
];

/** statx's view of a file beyond its InodeAttrs: what its file system and mount say. */
export interface StatxFrom {
  /** The FS_*_FL flags its file system reports (FilesystemImpl.statxFlags). */
  flagsKept: number;
  /** The file is the root of its mount (STATX_ATTR_MOUNT_ROOT). */
  mountRoot: boolean;
  /** Its file system keeps a birth time (STATX_BTIME). */
  btime: boolean;
}

/**
 * struct statx (256 bytes). mntId: the mountinfo id, or with
 * STATX_MNT_ID_UNIQUE in the request the unique one (uniqueMntId), which
 * then replaces it as Linux does.
 */
export function encodeStatx(a: InodeAttrs, dev: number, ino: number, mntId: number, mask: number, uniqueMntId: number, from: StatxFrom): Buffer {
  const b = Buffer.alloc(256);
  const unique = (mask & STATX_MNT_ID_UNIQUE) !== 0;
  b.writeUInt32LE(STATX_BASIC_STATS | (from.btime ? STATX_BTIME : 0) | (unique ? STATX_MNT_ID_UNIQUE : STATX_MNT_ID), 0);
  if (unique) mntId = uniqueMntId;
  let attributes = from.mountRoot ? STATX_ATTR_MOUNT_ROOT : 0;
  let attributesMask = STATX_ATTR_VFS;
  for (const [flag, attr] of STATX_OF_FLAG) {
    if (!(from.flagsKept & flag)) continue;
    attributesMask |= attr;
    if ((a.flags ?? 0) & flag) attributes |= attr;
  }
  putI64(b, 8, attributes);
  putI64(b, 56, attributesMask);
  b.writeUInt32LE(a.blksize, 4);
  b.writeUInt32LE(a.nlink, 16);
  b.writeUInt32LE(a.uid >>> 0, 20);
  b.writeUInt32LE(a.gid >>> 0, 24);
  b.writeUInt16LE(a.mode & 0xffff, 28);
  putI64(b, 32, ino);
  putI64(b, 40, a.size);
  putI64(b, 48, a.blocks);
  const put = (off: number, ns: bigint) => {
    const [s, n] = splitTime(ns);
    putI64(b, off, Number(s));
    b.writeUInt32LE(n, off + 8);
  };
  put(64, a.atimeNs);
  if (from.btime) put(80, a.btimeNs);
  put(96, a.ctimeNs);
  put(112, a.mtimeNs);
  b.writeUInt32LE(devMajor(a.rdev), 128);
  b.writeUInt32LE(devMinor(a.rdev), 132);
  b.writeUInt32LE(devMajor(dev), 136);
  b.writeUInt32LE(devMinor(dev), 140);
  putI64(b, 144, mntId);
  return b;
}

/** struct statfs (120 bytes). */
/** A statfs count: -1 is "no limit" (all ones, as hugetlbfs reports it); other negatives are 0. */
function count(x: number): bigint {
  return x === -1 ? (1n << 64n) - 1n : BigInt(Math.max(0, x));
}

export function encodeStatfs(s: StatFs, dev: number): Buffer {
  const b = Buffer.alloc(120);
  b.writeBigInt64LE(BigInt(s.type), 0);
  b.writeBigInt64LE(BigInt(s.bsize), 8);
  b.writeBigUInt64LE(count(s.blocks), 16);
  b.writeBigUInt64LE(count(s.bfree), 24);
  b.writeBigUInt64LE(count(s.bavail), 32);
  b.writeBigUInt64LE(count(s.files), 40);
  b.writeBigUInt64LE(count(s.ffree), 48);
  b.writeUInt32LE(devMinor(dev) >>> 0, 56);
  b.writeUInt32LE(devMajor(dev) >>> 0, 60);
  b.writeBigInt64LE(BigInt(s.namelen), 64);
  b.writeBigInt64LE(BigInt(s.bsize), 72);
  b.writeBigInt64LE(BigInt(s.flags), 80);
  return b;
}
