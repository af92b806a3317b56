// Binary layouts of the file system structs of x86-64 Linux (asm/stat.h,
// linux/stat.h, asm-generic/statfs.h).
import type { InodeAttrs, StatFs } from '../abi/fs';
import { devMajor, devMinor } from '../abi/fs';

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

/**
 * struct statx (256 bytes). mntId: the mountinfo id, or with
 * STATX_MNT_ID_UNIQUE in the request the unique one (uniqueMntId), which
 * then replaces it as Linux does.
 */
export function encodeStatx(a: InodeAttrs, dev: number, ino: number, mntId: number, mask = 0, uniqueMntId = 0): Buffer {
  const b = Buffer.alloc(256);
  const unique = (mask & STATX_MNT_ID_UNIQUE) !== 0;
  b.writeUInt32LE(STATX_BASIC_STATS | STATX_BTIME | (unique ? STATX_MNT_ID_UNIQUE : STATX_MNT_ID), 0);
  if (unique) mntId = uniqueMntId;
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
  put(80, a.btimeNs);
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
export function encodeStatfs(s: StatFs, dev: number): Buffer {
  const b = Buffer.alloc(120);
  b.writeBigInt64LE(BigInt(s.type), 0);
  b.writeBigInt64LE(BigInt(s.bsize), 8);
  b.writeBigUInt64LE(BigInt(Math.max(0, s.blocks)), 16);
  b.writeBigUInt64LE(BigInt(Math.max(0, s.bfree)), 24);
  b.writeBigUInt64LE(BigInt(Math.max(0, s.bavail)), 32);
  b.writeBigUInt64LE(BigInt(Math.max(0, s.files)), 40);
  b.writeBigUInt64LE(BigInt(Math.max(0, s.ffree)), 48);
  b.writeUInt32LE(devMinor(dev) >>> 0, 56);
  b.writeUInt32LE(devMajor(dev) >>> 0, 60);
  b.writeBigInt64LE(BigInt(s.namelen), 64);
  b.writeBigInt64LE(BigInt(s.bsize), 72);
  b.writeBigInt64LE(BigInt(s.flags), 80);
  return b;
}
