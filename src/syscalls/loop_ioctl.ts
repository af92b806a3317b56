// The ioctls of loop devices (loop(4)) and of /dev/loop-control, and the
// block-layer requests every block device answers (BLKGETSIZE64 and the
// rest, as Linux's blkdev_ioctl runs them before the driver's). Decoded
// here, where the caller's descriptors, capabilities and memory are; the
// device state lives in fsimpl/loop. Errors and their order follow Linux
// 6.18 as test/c/loopdev.c shows natively.
import { Errno, E } from '../abi/errno';
import { CAP_SYS_ADMIN } from '../abi/capability';
import { hasCapability } from '../auth/creds';
import { S_IFBLK, S_IFMT, S_IFREG } from '../abi/fs';
import { i32 } from '../kernel/syscall';
import type { Task } from '../kernel/task';
import { punchMapped } from '../kernel/filemaps';
import { vfsOf } from './sysutil';
import type { FileDescription } from '../vfs/file';
import {
  LO_FLAGS_AUTOCLEAR, LO_FLAGS_DIRECT_IO, LO_FLAGS_PARTSCAN, LO_FLAGS_READ_ONLY, LO_NAME_SIZE,
  LoopControlFile, LoopFile, type LoopConfig, type LoopDevice,
} from '../fsimpl/loop/loop';

const LOOP_SET_FD = 0x4c00;
const LOOP_CLR_FD = 0x4c01;
const LOOP_SET_STATUS = 0x4c02;
const LOOP_GET_STATUS = 0x4c03;
const LOOP_SET_STATUS64 = 0x4c04;
const LOOP_GET_STATUS64 = 0x4c05;
const LOOP_CHANGE_FD = 0x4c06;
const LOOP_SET_CAPACITY = 0x4c07;
const LOOP_SET_DIRECT_IO = 0x4c08;
const LOOP_SET_BLOCK_SIZE = 0x4c09;
const LOOP_CONFIGURE = 0x4c0a;
const LOOP_CTL_ADD = 0x4c80;
const LOOP_CTL_REMOVE = 0x4c81;
const LOOP_CTL_GET_FREE = 0x4c82;

const BLKROSET = 0x125d;
const BLKROGET = 0x125e;
const BLKRRPART = 0x125f;
const BLKGETSIZE = 0x1260;
const BLKFLSBUF = 0x1261;
const BLKRAGET = 0x1263;
const BLKRASET = 0x1262;
const BLKFRAGET = 0x1265;
const BLKFRASET = 0x1264;
const BLKSSZGET = 0x1268;
const BLKBSZGET = 0x80081270;
const BLKGETSIZE64 = 0x80081272;
const BLKDISCARD = 0x1277;
const BLKIOMIN = 0x1278;
const BLKIOOPT = 0x1279;
const BLKALIGNOFF = 0x127a;
const BLKPBSZGET = 0x127b;
const BLKDISCARDZEROES = 0x127c;
const BLKSECDISCARD = 0x127d;
const BLKROTATIONAL = 0x127e;
const BLKZEROOUT = 0x127f;

/** What LOOP_CONFIGURE accepts in lo_flags; LOOP_SET_STATUS may set AUTOCLEAR and PARTSCAN and clear AUTOCLEAR only. */
const CONFIGURE_FLAGS = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR | LO_FLAGS_PARTSCAN | LO_FLAGS_DIRECT_IO;
const STATUS_SETTABLE = LO_FLAGS_AUTOCLEAR | LO_FLAGS_PARTSCAN;
const STATUS_CLEARABLE = LO_FLAGS_AUTOCLEAR;
/** struct loop_info64 and struct loop_info (x86-64) sizes; loop_config is fd, block_size, a loop_info64, 64 reserved bytes. */
const INFO64_SIZE = 232;
const INFO_SIZE = 168;
const CONFIG_SIZE = 304;
const LO_KEY_SIZE = 32;
/** Linux's largest logical block size for a loop device: the page size. */
const PAGE_SIZE = 4096;

export function loopIoctl(t: Task, f: FileDescription, cmd: number, arg: number): number | null {
  if (f instanceof LoopControlFile) return controlIoctl(f, cmd, arg);
  if (!(f instanceof LoopFile)) return null;
  return blockIoctl(t, f, cmd, arg) ?? deviceIoctl(t, f, cmd, arg);
}

/** /dev/loop-control: Linux asks no capability (the node is root's 0600). */
function controlIoctl(f: LoopControlFile, cmd: number, arg: number): number {
  switch (cmd) {
    case LOOP_CTL_ADD:
      return f.devices.add(i32(arg)).index;
    case LOOP_CTL_REMOVE:
      f.devices.remove(i32(arg));
      return 0;
    case LOOP_CTL_GET_FREE:
      return f.devices.getFree();
    default:
      throw new Errno(E.ENOSYS);
  }
}

const isAdmin = (t: Task): boolean => hasCapability(t.creds, CAP_SYS_ADMIN);

/** The generic block requests (blkdev_common_ioctl): null for the driver's. */
function blockIoctl(t: Task, f: LoopFile, cmd: number, arg: number): number | null {
  const d = f.device;
  switch (cmd) {
    case BLKROSET:
      if (!isAdmin(t)) throw new Errno(E.EACCES);
      d.bdevRo = t.mm.readI32(arg) !== 0;
      return 0;
    case BLKROGET:
      t.mm.writeI32(arg, d.readOnly ? 1 : 0);
      return 0;
    case BLKGETSIZE:
      t.mm.writeU64(arg, d.sizeBytes / 512);
      return 0;
    case BLKGETSIZE64:
      t.mm.writeU64(arg, d.sizeBytes);
      return 0;
    case BLKSSZGET:
    case BLKPBSZGET:
    case BLKIOMIN:
      t.mm.writeI32(arg, d.blockSize);
      return 0;
    case BLKIOOPT:
    case BLKALIGNOFF:
    case BLKDISCARDZEROES:
      t.mm.writeI32(arg, 0);
      return 0;
    case BLKROTATIONAL: {
      // A file not on a block device (every file of the sandbox) makes a non-rotational loop device.
      t.mm.copyOut(arg, Buffer.alloc(2));
      return 0;
    }
    case BLKRAGET:
    case BLKFRAGET:
      t.mm.writeU64(arg, (d.readaheadPages * PAGE_SIZE) / 512);
      return 0;
    case BLKRASET:
    case BLKFRASET:
      // The device's readahead in whole pages (Linux's bdi ra_pages): the sectors asked for, rounded down.
      if (!isAdmin(t)) throw new Errno(E.EACCES);
      d.readaheadPages = Math.min(Math.floor((arg * 512) / PAGE_SIZE), 2 ** 32 - 1);
      return 0;
    case BLKBSZGET:
      t.mm.writeI32(arg, softBlockSize(d)); // an int, though the request's size says size_t
      return 0;
    case BLKFLSBUF:
      if (!isAdmin(t)) throw new Errno(E.EACCES);
      return 0; // no buffer cache between the device and its file
    case BLKRRPART:
      if (!isAdmin(t)) throw new Errno(E.EACCES);
      // No partition table is ever read: a device with PARTSCAN finds none.
      if (!(d.flags & LO_FLAGS_PARTSCAN)) throw new Errno(E.EINVAL);
      return 0;
    case BLKDISCARD:
    case BLKZEROOUT:
    case BLKSECDISCARD:
      return discard(t, f, cmd, arg);
    default:
      return null;
  }
}

/** The block size a new block device starts with: the largest power of two up to a page that divides its size. */
function softBlockSize(d: LoopDevice): number {
  let b = d.blockSize;
  while (b < PAGE_SIZE && d.sizeBytes % (2 * b) === 0) b *= 2;
  return b;
}

/** BLKDISCARD and BLKZEROOUT: [start, start+len) of the device, in whole sectors, becomes a hole of the backing file. */
function discard(t: Task, f: LoopFile, cmd: number, arg: number): number {
  if (!f.writable) throw new Errno(E.EBADF);
  const d = f.device;
  // No secure erase; discard only while a backing file can take the holes.
  if (cmd === BLKSECDISCARD || (cmd === BLKDISCARD && d.state !== 'bound')) throw new Errno(E.EOPNOTSUPP);
  const start = t.mm.readBigU64(arg);
  const len = t.mm.readBigU64(arg + 8);
  if (d.readOnly) throw new Errno(E.EPERM);
  if (len === 0n || start % 512n || len % 512n || start + len > BigInt(d.sizeBytes)) throw new Errno(E.EINVAL);
  if (len > 0n) punch(t, d, Number(start), Number(len));
  return 0;
}

function punch(t: Task, d: LoopDevice, off: number, len: number): void {
  const b = d.backing;
  if (!b || d.state !== 'bound') return;
  if (b instanceof LoopFile) return punch(t, b.device, d.offset + off, Math.min(len, b.device.sizeBytes - d.offset - off));
  const inode = b.inode;
  if (!inode || (inode.mode & S_IFMT) !== S_IFREG) return;
  punchMapped(t.kernel, inode.mappable(), inode.fs.dev, inode.ino, d.offset + off, len, () => inode.allocate(3, d.offset + off, len));
}

/** loop's own requests (lo_ioctl); anything else is EINVAL, as loop answers. */
function deviceIoctl(t: Task, f: LoopFile, cmd: number, arg: number): number {
  const d = f.device;
  // Changes through a read-only open need CAP_SYS_ADMIN.
  const mayChange = (): void => {
    if (!f.writable && !isAdmin(t)) throw new Errno(E.EPERM);
  };
  switch (cmd) {
    case LOOP_SET_FD:
      return configure(t, f, { fd: i32(arg), blockSize: 0, info: null });
    case LOOP_CONFIGURE: {
      const c = t.mm.copyIn(arg, CONFIG_SIZE);
      return configure(t, f, { fd: c.readInt32LE(0), blockSize: c.readUInt32LE(4), info: c.subarray(8, 8 + INFO64_SIZE) });
    }
    case LOOP_CHANGE_FD:
      return changeFd(t, f, i32(arg));
    case LOOP_CLR_FD:
      d.requestClear();
      return 0;
    case LOOP_SET_STATUS64:
    case LOOP_SET_STATUS: {
      mayChange();
      const raw = t.mm.copyIn(arg, cmd === LOOP_SET_STATUS64 ? INFO64_SIZE : INFO_SIZE);
      if (d.state !== 'bound') throw new Errno(E.ENXIO);
      setStatus(d, cmd === LOOP_SET_STATUS64 ? raw : oldInfoTo64(raw));
      return 0;
    }
    case LOOP_GET_STATUS64:
    case LOOP_GET_STATUS: {
      if (arg === 0) throw new Errno(E.EINVAL);
      if (d.state !== 'bound') throw new Errno(E.ENXIO);
      const info = statusOf(d);
      t.mm.copyOut(arg, cmd === LOOP_GET_STATUS64 ? info : infoToOld(info));
      return 0;
    }
    case LOOP_SET_CAPACITY:
    case LOOP_SET_DIRECT_IO:
    case LOOP_SET_BLOCK_SIZE:
      mayChange();
      if (d.state !== 'bound') throw new Errno(E.ENXIO);
      if (cmd === LOOP_SET_CAPACITY) d.updateSize();
      else if (cmd === LOOP_SET_BLOCK_SIZE) d.blockSize = checkBlockSize(arg);
      // Direct I/O asks nothing of the sandbox's files: no page cache stands between the device and them.
      else d.flags = arg ? d.flags | LO_FLAGS_DIRECT_IO : d.flags & ~LO_FLAGS_DIRECT_IO;
      return 0;
    default:
      throw new Errno(E.EINVAL);
  }
}

function checkBlockSize(n: number): number {
  if (n < 512 || n > PAGE_SIZE || (n & (n - 1)) !== 0) throw new Errno(E.EINVAL);
  return n;
}

/**
 * Linux's loop_validate_file: a regular file or a bound loop device, and
 * never this device itself, directly or down a chain of loop devices
 * (EBADF); an unbound loop device or anything else is EINVAL.
 */
function validateBacking(d: LoopDevice, file: FileDescription): void {
  if (d.reaches(file)) throw new Errno(E.EBADF);
  for (let f: FileDescription | null = file; f instanceof LoopFile; f = f.device.backing) {
    if (f.device.state !== 'bound') throw new Errno(E.EINVAL);
  }
  const type = (file.inode?.mode ?? 0) & S_IFMT;
  if (type !== S_IFREG && !(type === S_IFBLK && file instanceof LoopFile)) throw new Errno(E.EINVAL);
}

interface ConfigureArgs {
  fd: number;
  blockSize: number;
  /** A struct loop_info64, or null for LOOP_SET_FD's defaults. */
  info: Buffer | null;
}

function configure(t: Task, f: LoopFile, a: ConfigureArgs): number {
  const d = f.device;
  const file = t.fdTable.get(a.fd);
  if (d.state !== 'unbound') throw new Errno(E.EBUSY);
  validateBacking(d, file);
  const info = a.info ?? Buffer.alloc(INFO64_SIZE);
  const flags = info.readUInt32LE(52);
  if (flags & ~CONFIGURE_FLAGS) throw new Errno(E.EINVAL);
  if (a.blockSize) checkBlockSize(a.blockSize);
  const cfg: LoopConfig = { ...checkInfo(info), flags, blockSize: a.blockSize, backingPath: pathOf(t, file) };
  d.bind(file, cfg, f.writable && file.writable);
  return 0;
}

/** The fields of a loop_info64 a caller sets, checked as loop_set_status_from_info checks them. */
/** The backing's path as Linux's file_path gives it (from the root of the mount namespace, " (deleted)" once unlinked). */
function pathOf(t: Task, f: FileDescription): () => string {
  const vfs = vfsOf(t);
  return () => {
    if (!f.path) return '';
    const r = vfs.pathname(null, f.path);
    return r.reachable ? r.path : `${r.path} (deleted)`;
  };
}

function checkInfo(info: Buffer): Omit<LoopConfig, 'flags' | 'blockSize' | 'backingPath'> {
  if (info.readUInt32LE(48) > LO_KEY_SIZE) throw new Errno(E.EINVAL);
  if (info.readUInt32LE(44) !== 0) throw new Errno(E.EINVAL); // no transfer functions (encryption) exist
  const offset = info.readBigUInt64LE(24);
  const sizelimit = info.readBigUInt64LE(32);
  // Beyond LLONG_MAX is Linux's EOVERFLOW; beyond the sandbox's offsets (2^53, MAX_LFS) too.
  const max = BigInt(Number.MAX_SAFE_INTEGER);
  if (offset > max || sizelimit > max) throw new Errno(E.EOVERFLOW);
  const fileName = Buffer.from(info.subarray(56, 56 + LO_NAME_SIZE));
  return { offset: Number(offset), sizelimit: Number(sizelimit), fileName };
}

function setStatus(d: LoopDevice, info: Buffer): void {
  const c = checkInfo(info);
  const flags = info.readUInt32LE(52);
  if (c.offset !== d.offset || c.sizelimit !== d.sizelimit) {
    d.offset = c.offset;
    d.sizelimit = c.sizelimit;
    d.updateSize();
  }
  const prev = d.flags;
  d.flags = (prev & ~STATUS_SETTABLE) | (flags & STATUS_SETTABLE) | (prev & STATUS_SETTABLE & ~STATUS_CLEARABLE);
  d.fileName = Buffer.alloc(LO_NAME_SIZE);
  c.fileName.copy(d.fileName, 0, 0, LO_NAME_SIZE - 1);
}

/** LOOP_GET_STATUS64's struct loop_info64 for a bound device (no encryption: its fields stay zero). */
function statusOf(d: LoopDevice): Buffer {
  const b = Buffer.alloc(INFO64_SIZE);
  const back = d.backing;
  if (back) {
    const ids = back.ids();
    b.writeBigUInt64LE(BigInt(ids.dev), 0);
    b.writeBigUInt64LE(BigInt(ids.ino), 8);
    b.writeBigUInt64LE(BigInt(back.stat().rdev), 16);
  }
  b.writeBigUInt64LE(BigInt(d.offset), 24);
  b.writeBigUInt64LE(BigInt(d.sizelimit), 32);
  b.writeUInt32LE(d.index, 40);
  b.writeUInt32LE(d.flags, 52);
  d.fileName.copy(b, 56);
  return b;
}

/** struct loop_info (the old interface) as a loop_info64: the int offset sign-extended, no size limit, lo_name for the file name. */
function oldInfoTo64(o: Buffer): Buffer {
  const b = Buffer.alloc(INFO64_SIZE);
  b.writeBigInt64LE(BigInt(o.readInt32LE(32)), 24);
  b.writeUInt32LE(o.readInt32LE(0) >>> 0, 40);
  b.writeUInt32LE(o.readInt32LE(36) >>> 0, 44);
  b.writeUInt32LE(o.readInt32LE(40) >>> 0, 48);
  b.writeUInt32LE(o.readInt32LE(44) >>> 0, 52);
  o.copy(b, 56, 48, 48 + LO_NAME_SIZE);
  return b;
}

/** A loop_info64 as the old struct loop_info: EOVERFLOW when the offset does not fit its int. */
function infoToOld(i: Buffer): Buffer {
  const off = i.readBigUInt64LE(24);
  if (off > 0x7fffffffn) throw new Errno(E.EOVERFLOW);
  const o = Buffer.alloc(INFO_SIZE);
  o.writeInt32LE(i.readUInt32LE(40), 0);
  i.copy(o, 8, 0, 24); // device, inode, rdevice: unsigned longs on x86-64
  o.writeInt32LE(Number(off), 32);
  o.writeUInt32LE(i.readUInt32LE(52), 44);
  i.copy(o, 48, 56, 56 + LO_NAME_SIZE);
  return o;
}

/** LOOP_CHANGE_FD: a read-only bound device swaps to another file that gives it the same size. */
function changeFd(t: Task, f: LoopFile, fd: number): number {
  const d = f.device;
  if (d.state !== 'bound') throw new Errno(E.ENXIO);
  if (!(d.flags & LO_FLAGS_READ_ONLY)) throw new Errno(E.EINVAL);
  const file = t.fdTable.get(fd);
  validateBacking(d, file);
  if (d.sizeWith(file) !== d.sizeWith(d.backing)) throw new Errno(E.EINVAL);
  d.changeBacking(file, pathOf(t, file));
  return 0;
}
