// The Gofer's wire format. One request or reply is one SOCK_SEQPACKET
// message (so no framing of our own, and no message can run into the next).
// A request is [op u8][0 u8 x3][fields]; a reply is [errno i32][fields], with
// a descriptor attached (SCM_RIGHTS) to the replies of OPEN (reading, or
// writing for a writable tree: file data never passes through the Gofer;
// 18 and 20 were PWRITE and FALLOCATE, now made on the donated descriptor)
// FEED (the tree's host inotify, whose watches only the Gofer makes:
// watches.ts) and OPEN_MANY (one read descriptor per file opened, in the
// order asked). Integers are
// little-endian; a u64 is two u32 halves read into a JS number (exact below
// 2^53, as HostStat's fields are), an i64 a BigInt. Strings (names, link
// targets, xattr names) are byte strings: u16 length then the bytes, read as
// latin1 so that no byte is reinterpreted.
//
// Nodes are named by u32 ids the Gofer hands out (ROOT, WALK, READDIR with
// stats, the creating calls); an id the Gofer no longer knows (it keeps a
// bounded number per client) fails with ENOID, and the client walks to the
// node again from its tree's root in one WALK.
//
// Every field the Sentry sends is read through Reader, which checks each
// length against the message before reading: a short, long or garbled
// message is an EINVAL reply (see server.ts), never an exception that
// escapes the request.
import type { HostStat, HostStatFs } from '../host/hostfs';

export const enum Op {
  ROOT = 1,
  WALK = 2,
  STAT = 3,
  READDIR = 4,
  READLINK = 5,
  OPEN = 6,
  LOOKUP = 7,
  CREATE = 10,
  MKDIR = 11,
  SYMLINK = 12,
  MKNOD = 13,
  LINK = 14,
  UNLINK = 15,
  RENAME = 16,
  SETATTR = 17,
  FSYNC = 19,
  GETXATTR = 21,
  SETXATTR = 22,
  LISTXATTR = 23,
  REMOVEXATTR = 24,
  STATFS = 25,
  /** Host change feeds (see server.ts watch): watch a node, drop a watch, the tree's inotify descriptor. */
  WATCH = 26,
  UNWATCH = 27,
  FEED = 28,
  /** Read descriptors of several regular files at once (a reader going through a directory: tar, cp -r, grep -r). */
  OPEN_MANY = 29,
}

/** The reply's errno for an id the Gofer does not (or no longer) know: EBADFD, never a host file error. */
export const ENOID = 77;
/** Largest request the Gofer accepts, and largest reply it sends (the socket's send buffer holds it whole). */
export const MAX_REQUEST = 1 << 17;
export const MAX_REPLY = 1 << 17;
/** Components one WALK may carry (a path of the sandbox's PATH_MAX has fewer). */
export const MAX_WALK = 256;
/**
 * WALK's optional flags byte (after the names; a request with it gets
 * [end u8] after the nodes: WALK_DONE, WALK_ABSENT or WALK_ERROR). With
 * WALK_OPEN, the last name is opened for reading if the walk reaches it
 * and it is a regular file (the reply then ends with a u8, 1 when a read
 * descriptor is attached). No other bit is valid.
 */
export const WALK_OPEN = 1;
/** How a WALK with flags ended: every name found or a non-directory reached; the next name absent; a host error on it. */
export const WALK_DONE = 0;
export const WALK_ABSENT = 1;
export const WALK_ERROR = 2;
/** Longest single name (NAME_MAX) and symlink target or xattr value (PATH_MAX / XATTR_SIZE_MAX). */
export const NAME_MAX = 255;
export const TARGET_MAX = 4096;
export const XATTR_MAX = 65536;
/** READDIR's flags: every entry's id and attributes; those of subdirectories (and unknown types) only; and the subdirectories' listings after it. */
export const RD_PLUS = 1;
export const RD_DIRS = 2;
export const RD_DESCEND = 4;
/** Most listings one READDIR with RD_DESCEND brings. */
export const MAX_DESCEND = 128;
/** Most files one OPEN_MANY opens (the descriptors one message carries: channel.ts MAX_FDS). */
export const MAX_OPEN_MANY = 32;
/** Host inotify watches the Gofer keeps per tree for the client (as the in-process tree's bound, fsimpl/hostfs/changes.ts). */
export const MAX_WATCHES = 1024;
/** Bytes of a stat on the wire. */
export const STAT_SIZE = 10 * 8 + 4 * 8;
/** SETATTR's mask bits: which fields are present. */
export const SA_MODE = 1;
export const SA_OWNER = 2;
export const SA_SIZE = 4;
export const SA_ATIME = 8;
export const SA_MTIME = 16;
/** A time field's kind: a value follows, the host's now, or left as it is. */
export const T_VALUE = 0;
export const T_NOW = 1;
export const T_OMIT = 2;

/** A message broke the format (too short, a length past its end). */
export class ProtocolError extends Error {}

export class Writer {
  private buf: Buffer;
  len = 0;
  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(size);
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(b, 0, 0, this.len);
    this.buf = b;
  }
  reset(): this {
    this.len = 0;
    return this;
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.buf.writeUInt16LE(v & 0xffff, this.len);
    this.len += 2;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.len);
    this.len += 4;
    return this;
  }
  i32(v: number): this {
    this.room(4);
    this.buf.writeInt32LE(v | 0, this.len);
    this.len += 4;
    return this;
  }
  u64(v: number): this {
    this.room(8);
    const x = Math.max(0, Math.floor(v));
    this.buf.writeUInt32LE(x % 2 ** 32, this.len);
    this.buf.writeUInt32LE(Math.floor(x / 2 ** 32) >>> 0, this.len + 4);
    this.len += 8;
    return this;
  }
  i64(v: bigint): this {
    this.room(8);
    this.buf.writeBigInt64LE(BigInt.asIntN(64, v), this.len);
    this.len += 8;
    return this;
  }
  str(s: string): this {
    const n = Buffer.byteLength(s, 'latin1');
    this.u16(n);
    this.room(n);
    this.buf.write(s, this.len, 'latin1');
    this.len += n;
    return this;
  }
  bytes(b: Buffer): this {
    this.u32(b.length);
    this.room(b.length);
    b.copy(this.buf, this.len);
    this.len += b.length;
    return this;
  }
  stat(st: HostStat): this {
    this.u64(st.dev).u64(st.ino).u64(st.mode).u64(st.nlink).u64(st.uid).u64(st.gid).u64(st.rdev).u64(st.size).u64(st.blksize).u64(st.blocks);
    return this.i64(st.atimeNs).i64(st.mtimeNs).i64(st.ctimeNs).i64(st.birthtimeNs);
  }
  statfs(s: HostStatFs): this {
    return this.u64(s.type).u64(s.bsize).u64(s.blocks).u64(s.bfree).u64(s.bavail).u64(s.files).u64(s.ffree).u64(s.namelen).u64(s.flags).u64(s.frsize);
  }
  /** The message so far (a view: send it before writing the next). */
  view(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

export class Reader {
  off = 0;
  constructor(private readonly b: Buffer) {}
  private need(n: number): void {
    if (n < 0 || this.off + n > this.b.length) throw new ProtocolError('message too short');
  }
  get left(): number {
    return this.b.length - this.off;
  }
  u8(): number {
    this.need(1);
    return this.b[this.off++];
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16LE(this.off);
    this.off += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32LE(this.off);
    this.off += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.b.readInt32LE(this.off);
    this.off += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const v = this.b.readUInt32LE(this.off) + this.b.readUInt32LE(this.off + 4) * 2 ** 32;
    this.off += 8;
    return v;
  }
  i64(): bigint {
    this.need(8);
    const v = this.b.readBigInt64LE(this.off);
    this.off += 8;
    return v;
  }
  /** A byte string of at most max bytes. */
  str(max: number): string {
    const n = this.u16();
    if (n > max) throw new ProtocolError('string too long');
    this.need(n);
    const s = this.b.toString('latin1', this.off, this.off + n);
    this.off += n;
    return s;
  }
  bytes(max: number): Buffer {
    const n = this.u32();
    if (n > max) throw new ProtocolError('data too long');
    this.need(n);
    const v = Buffer.from(this.b.subarray(this.off, this.off + n));
    this.off += n;
    return v;
  }
  stat(): HostStat {
    return {
      dev: this.u64(), ino: this.u64(), mode: this.u64(), nlink: this.u64(), uid: this.u64(), gid: this.u64(), rdev: this.u64(),
      size: this.u64(), blksize: this.u64(), blocks: this.u64(),
      atimeNs: this.i64(), mtimeNs: this.i64(), ctimeNs: this.i64(), birthtimeNs: this.i64(),
    };
  }
  statfs(): HostStatFs {
    return {
      type: this.u64(), bsize: this.u64(), blocks: this.u64(), bfree: this.u64(), bavail: this.u64(), files: this.u64(), ffree: this.u64(),
      namelen: this.u64(), flags: this.u64(), frsize: this.u64(),
    };
  }
}
