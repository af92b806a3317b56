// read/write and friends: the data path of file descriptors.
import { Errno, E } from '../abi/errno';
import type { Task } from '../kernel/task';
import type { FileDescription, MaybePromise } from '../vfs/file';
import { SIGPIPE, type FileCtx } from '../vfs/ctx';
import { MAX_RW, readIovecs } from './sysutil';
import { beforeWrite } from './filelimits';
import { FS_IMMUTABLE_FL, O_APPEND, S_IFDIR, S_IFMT, S_IFREG, SEEK_CUR, SEEK_HOLE } from '../abi/fs';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { USER_RANGE_END } from '../abi/mm';
import { SIGXFSZ } from '../abi/signals';
import { notifyFile } from '../vfs/fsnotify';
import { IN_ACCESS, IN_MODIFY } from '../abi/inotify';

function readableFile(t: Task, fd: number): FileDescription {
  const f = t.fdTable.get(i32(fd));
  if (!f.readable) throw new Errno(E.EBADF);
  return f;
}

function writableFile(t: Task, fd: number): FileDescription {
  const f = t.fdTable.get(i32(fd));
  if (!f.writable) throw new Errno(E.EBADF);
  return f;
}

/**
 * The description of a positional transfer (pread/pwrite and their vector
 * forms), in Linux's order: a negative offset is EINVAL before the fd is
 * looked at, a file without positions (pipe, socket) is ESPIPE before the
 * access mode is.
 */
function positionalFile(t: Task, fd: number, off: number, write: boolean): FileDescription {
  checkOffset(off);
  const f = t.fdTable.get(i32(fd));
  if (write ? f.writable : f.readable) return f;
  noPositionsCheck(t, f);
  throw new Errno(E.EBADF);
}

/** ESPIPE for a file without positions: a pread of nothing has no other effect. */
function noPositionsCheck(t: Task, f: FileDescription): void {
  try {
    const probe = f.pread(t, 0, 0);
    if (probe instanceof Promise) probe.catch(() => undefined);
  } catch (e) {
    if (e instanceof Errno && e.errno === E.ESPIPE) throw e;
  }
}

/** rw_verify_area: off + count must not pass the largest offset. */
function checkEnd(off: number, count: number): void {
  if (off + Math.min(count, MAX_RW) >= 2 ** 63) throw new Errno(E.EINVAL);
}

function clampCount(n: number): number {
  if (n < 0) throw new Errno(E.EINVAL);
  return Math.min(n, MAX_RW);
}

/**
 * One call moves at most this much: the Sentry holds the data in a Buffer on
 * its way, so a hostile length must not make it allocate gigabytes. Reads may
 * always return less; writers of large buffers loop on short writes.
 */
const MAX_CHUNK = 64 * 1024 * 1024;

/*
 * Every transfer between a file and application memory goes through here
 * (read, write, the p* and *v forms): Linux's rules for bad buffers hold for
 * every kind of file. A range beyond user space is EFAULT before anything
 * happens (access_ok); otherwise a buffer that turns bad part-way moves the
 * bytes before the fault (copy_to_user stops there) and only a transfer that
 * can move nothing is EFAULT. Pipes move whole pages only (faultGranule()).
 */

// read/write/pread/pwrite finish synchronously when the file answers at once
// (a regular file, a pipe with data or room): no promise, no scheduler hop.
function doRead(t: Task, f: FileDescription, buf: number, count: number, off: number | null): MaybePromise<number> {
  accessOk(buf, count);
  count = Math.min(clampCount(count), MAX_CHUNK);
  if (off === null) return moved(f, f.readToUser(t, t.mm, buf, count), IN_ACCESS);
  checkEnd(off, count);
  return moved(f, preadInto(t, f, [[buf, count]], count, off), IN_ACCESS);
}

/** fsnotify's IN_ACCESS or IN_MODIFY once a transfer moved bytes (Linux's vfs_read/vfs_write). */
function moved(f: FileDescription, r: MaybePromise<number>, mask: number): MaybePromise<number> {
  if (f.inode === null) return r;
  if (typeof r === 'number') {
    if (r > 0) notifyFile(f.path ? f.path.dentry : null, f.inode, mask);
    return r;
  }
  return r.then((n) => moved(f, n, mask));
}

/** pread/preadv: as much as the vectors hold before a fault; at the end of the file a bad buffer is no error. */
function preadInto(t: Task, f: FileDescription, vecs: Array<[number, number]>, total: number, off: number): MaybePromise<number> {
  let room = vecRoom(t, vecs, total, true);
  if (room < total) room -= room % f.faultGranule();
  if (total > 0 && room === 0) {
    const probe = f.pread(t, 1, off);
    const fault = (d: Buffer): number => {
      if (d.length) throw new Errno(E.EFAULT);
      return 0;
    };
    return probe instanceof Promise ? probe.then(fault) : fault(probe);
  }
  const data = f.pread(t, room, off);
  return data instanceof Promise ? data.then((d) => scatter(t, vecs, d)) : scatter(t, vecs, data);
}

function doWrite(t: Task, f: FileDescription, buf: number, count: number, off: number | null): MaybePromise<number> {
  return moved(f, writeTo(t, f, buf, count, off), IN_MODIFY);
}

function writeTo(t: Task, f: FileDescription, buf: number, count: number, off: number | null): MaybePromise<number> {
  accessOk(buf, count);
  count = clampCount(count);
  if (!f.ignoresWriteData()) count = Math.min(count, MAX_CHUNK);
  count = beforeWrite(t, f, off, count);
  if (off === null) return f.writeFromUser(t, t.mm, buf, count);
  checkEnd(off, count);
  if (f.ignoresWriteData()) return count;
  // Nothing to write: no size limit can refuse it (a positional file only).
  if (count === 0 && (f.stat().mode & S_IFMT) === S_IFREG) return 0;
  const room = vecRoom(t, [[buf, count]], count, false);
  if (count > 0 && room === 0) throw new Errno(E.EFAULT);
  return f.pwrite(t, room ? t.mm.copyIn(buf, room) : Buffer.alloc(0), off);
}

/** access_ok(): the range must end inside user space, whatever is mapped there. */
function accessOk(addr: number, len: number): void {
  if (addr + len > USER_RANGE_END) throw new Errno(E.EFAULT);
}

/** The bytes of the vectors (total of them, in order) usable before the first fault, cut to a multiple of granule if it comes first. */
function vecRoom(t: Task, vecs: Array<[number, number]>, total: number, write: boolean, granule = 1): number {
  let room = 0;
  for (const [base, len] of vecs) {
    const n = Math.min(len, total - room);
    if (n === 0) {
      if (room >= total) break;
      continue; // an empty vector anywhere is skipped
    }
    const p = t.mm.prefix(base, n, write);
    room += p;
    if (p < n) return room - (room % granule);
  }
  return room;
}

/** Copy data out over the vectors in order; the caller sized data to fit before any fault. */
function scatter(t: Task, vecs: Array<[number, number]>, data: Buffer): number {
  let pos = 0;
  for (const [base, len] of vecs) {
    if (pos >= data.length) break;
    const n = Math.min(len, data.length - pos);
    if (n) t.mm.copyOut(base, data.subarray(pos, pos + n));
    pos += n;
  }
  return data.length;
}

function vecTotal(vecs: Array<[number, number]>): number {
  let total = 0;
  for (const [, len] of vecs) total += len;
  return Math.min(total, MAX_CHUNK);
}

function checkOffset(off: number): number {
  if (off < 0) throw new Errno(E.EINVAL);
  return off;
}

// preadv2/pwritev2 flags (RWF_*).
const RWF_HIPRI = 0x1, RWF_DSYNC = 0x2, RWF_SYNC = 0x4, RWF_NOWAIT = 0x8, RWF_APPEND = 0x10;
const RWF_NOAPPEND = 0x20, RWF_DONTCACHE = 0x80, RWF_NOSIGNAL = 0x100;
// RWF_ATOMIC (0x40) needs O_DIRECT, which no file here offers: EOPNOTSUPP, as for unknown bits.
const RWF_SUPPORTED = RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND | RWF_NOAPPEND | RWF_DONTCACHE | RWF_NOSIGNAL;

/**
 * The checks every preadv2/pwritev2 flag gets. HIPRI (polled I/O) is a hint;
 * DSYNC/SYNC sync the file after the write (a no-op for data in memory, a
 * host fsync for a host file given as stdio). NOWAIT makes the call fail with
 * EAGAIN instead of blocking, where the file can tell; elsewhere it is
 * refused with EOPNOTSUPP as Linux does for files without that support.
 * DONTCACHE (drop cached pages after the I/O) is a hint where the file system
 * takes it and EOPNOTSUPP where Linux's does not (tmpfs, pipes). NOAPPEND
 * writes where asked on an O_APPEND description; NOSIGNAL is EPIPE without
 * SIGPIPE; both mean nothing to a read.
 */
function checkRwf(f: FileDescription, rwf: number, write: boolean): void {
  if (rwf & ~RWF_SUPPORTED) throw new Errno(E.EOPNOTSUPP);
  if (write && rwf & RWF_APPEND && rwf & RWF_NOAPPEND) throw new Errno(E.EINVAL);
  if (rwf & RWF_NOWAIT && !f.supportsNowait(write)) throw new Errno(E.EOPNOTSUPP);
  if (rwf & RWF_DONTCACHE && !f.takesDontcache()) throw new Errno(E.EOPNOTSUPP);
}

/** The task as a file sees it, with SIGPIPE left out (RWF_NOSIGNAL): EPIPE alone tells the writer. */
function withoutSigpipe(t: Task): FileCtx {
  return {
    get creds() {
      return t.creds;
    },
    set creds(c) {
      t.creds = c;
    },
    pid: t.pid,
    heapBudget: t.heapBudget,
    tg: t.tg,
    block: (q, mask, deadline) => t.block(q, mask, deadline),
    sendSignal: (sig) => {
      if (sig !== SIGPIPE) t.sendSignal(sig);
    },
  } as FileCtx;
}

async function readv(t: Task, fd: number, iov: number, cnt: number, off: number | null, rwf = 0): Promise<number> {
  const f = off === null ? readableFile(t, fd) : positionalFile(t, fd, off, false);
  return moved(f, await readvFrom(t, f, iov, cnt, off, rwf), IN_ACCESS);
}

async function readvFrom(t: Task, f: FileDescription, iov: number, cnt: number, off: number | null, rwf: number): Promise<number> {
  const vecs = readIovecs(t, iov, i32(cnt));
  checkRwf(f, rwf, false);
  const total = vecTotal(vecs);
  if (off !== null) {
    checkEnd(off, total);
    return preadInto(t, f, vecs, total, off);
  }
  const nowait = (rwf & RWF_NOWAIT) !== 0;
  const one = vecs.filter(([, len]) => len > 0);
  // One piece reads as read() does: the file's own copy straight to memory.
  if (one.length === 1 && !nowait) return f.readToUser(t, t.mm, one[0][0], total);
  const room = vecRoom(t, vecs, total, true, f.faultGranule());
  if (total > 0 && room === 0) throw new Errno(E.EFAULT);
  return scatter(t, vecs, await f.read(t, room, nowait));
}

async function writev(t: Task, fd: number, iov: number, cnt: number, off: number | null, rwf = 0): Promise<number> {
  const f = off === null ? writableFile(t, fd) : positionalFile(t, fd, off, true);
  return moved(f, await writevTo(t, f, iov, cnt, off, rwf), IN_MODIFY);
}

async function writevTo(t: Task, f: FileDescription, iov: number, cnt: number, off: number | null, rwf: number): Promise<number> {
  const vecs = readIovecs(t, iov, i32(cnt));
  checkRwf(f, rwf, true);
  if (off !== null) checkEnd(off, vecTotal(vecs));
  if (f.ignoresWriteData()) return vecs.reduce((s, [, len]) => s + len, 0);
  const total = vecTotal(vecs);
  const room = vecRoom(t, vecs, total, false, f.faultGranule());
  if (total > 0 && room === 0) throw new Errno(E.EFAULT);
  // One gathered write keeps pipe writes up to PIPE_BUF atomic.
  const parts: Buffer[] = [];
  let got = 0;
  for (const [base, len] of vecs) {
    const n = Math.min(len, room - got);
    if (n > 0) parts.push(t.mm.copyIn(base, n));
    got += n;
  }
  let data = Buffer.concat(parts);
  data = data.subarray(0, beforeWrite(t, f, off, data.length, (rwf & RWF_APPEND) !== 0, (rwf & RWF_NOAPPEND) !== 0));
  const nowait = (rwf & RWF_NOWAIT) !== 0;
  const ctx = rwf & RWF_NOSIGNAL ? withoutSigpipe(t) : t;
  let n: number;
  if (rwf & RWF_APPEND) n = await f.appendWrite(ctx, data, off, nowait);
  else if (rwf & RWF_NOAPPEND) n = await f.positionedWrite(ctx, data, off, nowait);
  else n = off === null ? await f.write(ctx, data, nowait) : await f.pwrite(ctx, data, off);
  // Streams have nothing to sync: the flags mean nothing there, as on Linux.
  if (rwf & (RWF_DSYNC | RWF_SYNC) && n > 0 && (f.stat().mode & S_IFMT) === S_IFREG) f.sync((rwf & RWF_SYNC) === 0);
  return n;
}

function v2Offset(off: number): number | null {
  if (off === -1) return null;
  return checkOffset(off);
}

/** Copy up to count bytes between descriptions (sendfile, copy_file_range). */
async function copyData(t: Task, src: FileDescription, srcOff: number | null, dst: FileDescription, dstOff: number | null, count: number): Promise<{ n: number; srcOff: number | null; dstOff: number | null; cut: boolean }> {
  let done = 0;
  let cut = false;
  const CHUNK = 1 << 16;
  while (done < count) {
    const want = Math.min(CHUNK, count - done);
    let data = srcOff === null ? await src.read(t, want) : await src.pread(t, want, srcOff);
    if (data.length === 0) break;
    let w: number;
    try {
      const allowed = beforeWrite(t, dst, dstOff, data.length);
      if (allowed < data.length) {
        // Give back what the file size limit keeps from being written.
        if (srcOff === null) src.seek(allowed - data.length, SEEK_CUR);
        data = data.subarray(0, allowed);
        cut = true;
      }
      w = dstOff === null ? await dst.write(t, data) : await dst.pwrite(t, data, dstOff);
    } catch (e) {
      if (done > 0) break;
      throw e;
    }
    if (srcOff !== null) srcOff += w;
    else if (w < data.length) src.seek(w - data.length, SEEK_CUR); // give back what was not written
    if (dstOff !== null) dstOff += w;
    done += w;
    if (w < data.length || data.length < want) break;
  }
  moved(src, done, IN_ACCESS);
  moved(dst, done, IN_MODIFY);
  return { n: done, srcOff, dstOff, cut };
}

const LFS = 'files end at 2^53 bytes: a position past it is EINVAL (lseek) or EFBIG (a write), where Linux\'s tmpfs goes to 2^63-1';

export const defs: SyscallDef[] = [
  { nr: 0, name: 'read', args: ['fd', 'buf', 'size'], fn: (t, a) => doRead(t, readableFile(t, a[0]), a[1], a[2], null) },
  { nr: 1, name: 'write', args: ['fd', 'inbuf', 'size'], fn: (t, a) => doWrite(t, writableFile(t, a[0]), a[1], a[2], null) },
  { nr: 17, name: 'pread64', args: ['fd', 'buf', 'size', 'long'], fn: (t, a) => doRead(t, positionalFile(t, a[0], a[3], false), a[1], a[2], a[3]) },
  {
    nr: 18, name: 'pwrite64', args: ['fd', 'inbuf', 'size', 'long'], fn: (t, a) => doWrite(t, positionalFile(t, a[0], a[3], true), a[1], a[2], a[3]),
    partial: LFS,
  },
  { nr: 19, name: 'readv', args: ['fd', 'iovec_out', 'int'], fn: (t, a) => readv(t, a[0], a[1], a[2], null) },
  { nr: 20, name: 'writev', args: ['fd', 'iovec', 'int'], fn: (t, a) => writev(t, a[0], a[1], a[2], null) },
  { nr: 295, name: 'preadv', args: ['fd', 'iovec_out', 'int', 'long'], fn: (t, a) => readv(t, a[0], a[1], a[2], checkOffset(a[3])) },
  { nr: 296, name: 'pwritev', args: ['fd', 'iovec', 'int', 'long'], fn: (t, a) => writev(t, a[0], a[1], a[2], checkOffset(a[3])) },
  { nr: 327, name: 'preadv2', args: ['fd', 'iovec_out', 'int', 'long', 'none', 'hex'], fn: (t, a) => readv(t, a[0], a[1], a[2], v2Offset(a[3]), i32(a[5])) },
  {
    nr: 328, name: 'pwritev2', args: ['fd', 'iovec', 'int', 'long', 'none', 'hex'], fn: (t, a) => writev(t, a[0], a[1], a[2], v2Offset(a[3]), i32(a[5])),
    partial: 'RWF_ATOMIC is EOPNOTSUPP (no O_DIRECT)',
  },
  {
    nr: 8, name: 'lseek', args: ['fd', 'long', 'whence'], partial: LFS,
    fn: (t, a) => {
      const f = t.fdTable.get(i32(a[0]));
      const whence = u32(a[2]);
      if (whence > SEEK_HOLE) throw new Errno(E.EINVAL); // before the file sees it
      return f.seek(a[1], whence);
    },
  },
  {
    nr: 40, name: 'sendfile', args: ['fd', 'fd', 'ptr', 'size'],
    fn: async (t, a) => {
      const out = writableFile(t, a[0]);
      const inf = readableFile(t, a[1]);
      if (out.flags & O_APPEND) throw new Errno(E.EINVAL);
      if (inf.inode && (inf.inode.mode & S_IFMT) === S_IFDIR) throw new Errno(E.EINVAL);
      const count = clampCount(a[3]);
      let off: number | null = null;
      if (a[2]) {
        noPositionsCheck(t, inf);
        off = t.mm.readI64(a[2]);
        if (off < 0) throw new Errno(E.EINVAL);
        checkEnd(off, count);
      }
      const r = await copyData(t, inf, off, out, null, count);
      // Linux's splice loop goes on to write the rest past the file size limit: the signal comes too.
      if (r.cut) t.sendSignal(SIGXFSZ);
      if (a[2]) t.mm.writeI64(a[2], r.srcOff as number);
      return r.n;
    },
  },
  {
    nr: 326, name: 'copy_file_range', args: ['fd', 'ptr', 'fd', 'ptr', 'size', 'hex'],
    fn: async (t, a) => {
      if (a[5] !== 0) throw new Errno(E.EINVAL);
      const inf = t.fdTable.get(i32(a[0]));
      const out = t.fdTable.get(i32(a[2]));
      // Linux's generic_file_rw_checks: the types first (a directory is EISDIR even open read-only), then the access modes.
      for (const f of [inf, out]) {
        const m = f.stat().mode & S_IFMT;
        if (m === S_IFDIR) throw new Errno(E.EISDIR);
        if (m !== S_IFREG) throw new Errno(E.EINVAL);
      }
      if (!inf.readable || !out.writable || out.flags & O_APPEND) throw new Errno(E.EBADF);
      // An immutable destination (made so after it was opened) is EPERM, as generic_copy_file_checks says.
      if ((out.inode?.attrs().flags ?? 0) & FS_IMMUTABLE_FL) throw new Errno(E.EPERM);
      const inOff = a[1] ? checkOffset(t.mm.readI64(a[1])) : null;
      const outOff = a[3] ? checkOffset(t.mm.readI64(a[3])) : null;
      // A range that wraps past 2^64 (unsigned, as generic_copy_file_checks adds a size_t count) is EOVERFLOW.
      const wide = a[4] < 0 ? 2 ** 64 + a[4] : a[4];
      for (const pos of [inOff ?? inf.offset, outOff ?? out.offset]) if (pos + wide >= 2 ** 64) throw new Errno(E.EOVERFLOW);
      const count = clampCount(wide);
      if (inf.inode && inf.inode === out.inode) {
        // Within one file the ranges may not overlap, the count first cut to the file's end (generic_copy_file_checks).
        const pin = inOff ?? inf.offset;
        const pout = outOff ?? out.offset;
        const n = Math.max(0, Math.min(count, inf.inode.attrs().size - pin));
        if (pout + n > pin && pout < pin + n) throw new Errno(E.EINVAL);
      }
      // Without an offset pointer the description's own offset is used and
      // advanced by its read/write (a donated host file keeps it on the host).
      const r = await copyData(t, inf, inOff, out, outOff, count);
      if (a[1]) t.mm.writeI64(a[1], r.srcOff as number);
      if (a[3]) t.mm.writeI64(a[3], r.dstOff as number);
      return r.n;
    },
  },
];
