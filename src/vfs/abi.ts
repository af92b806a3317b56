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

/** struct stat (144 bytes). */
export function encodeStat(a: InodeAttrs, dev: number, ino: number): Buffer {
  const b = Buffer.alloc(144);
  b.writeBigUInt64LE(BigInt(dev), 0);
  b.writeBigUInt64LE(BigInt(ino), 8);
  b.writeBigUInt64LE(BigInt(a.nlink), 16);
  b.writeUInt32LE(a.mode >>> 0, 24);
  b.writeUInt32LE(a.uid >>> 0, 28);
  b.writeUInt32LE(a.gid >>> 0, 32);
  b.writeBigUInt64LE(BigInt(a.rdev), 40);
  b.writeBigInt64LE(BigInt(a.size), 48);
  b.writeBigInt64LE(BigInt(a.blksize), 56);
  b.writeBigInt64LE(BigInt(a.blocks), 64);
  const times = [a.atimeNs, a.mtimeNs, a.ctimeNs];
  for (let i = 0; i < 3; i++) {
    const [s, n] = splitTime(times[i]);
    b.writeBigInt64LE(s, 72 + i * 16);
    b.writeBigInt64LE(BigInt(n), 80 + i * 16);
  }
  return b;
}

export const STATX_BASIC_STATS = 0x7ff;
export const STATX_BTIME = 0x800;
export const STATX_MNT_ID = 0x1000;

/** struct statx (256 bytes). */
export function encodeStatx(a: InodeAttrs, dev: number, ino: number, mntId: number): Buffer {
  const b = Buffer.alloc(256);
  b.writeUInt32LE(STATX_BASIC_STATS | STATX_BTIME | STATX_MNT_ID, 0);
  b.writeUInt32LE(a.blksize, 4);
  b.writeUInt32LE(a.nlink, 16);
  b.writeUInt32LE(a.uid >>> 0, 20);
  b.writeUInt32LE(a.gid >>> 0, 24);
  b.writeUInt16LE(a.mode & 0xffff, 28);
  b.writeBigUInt64LE(BigInt(ino), 32);
  b.writeBigUInt64LE(BigInt(a.size), 40);
  b.writeBigUInt64LE(BigInt(a.blocks), 48);
  const put = (off: number, ns: bigint) => {
    const [s, n] = splitTime(ns);
    b.writeBigInt64LE(s, off);
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
  b.writeBigUInt64LE(BigInt(mntId), 144);
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
