// splice, tee and vmsplice (man 2 splice): data moved between a pipe and a
// file, between two pipes, or between a pipe and the caller's memory, through
// the pipe's own ring (Pipe.transferTo/peek/drop/fill) with no Buffer in
// between where the other side allows it. The order of the checks and the
// errors follow Linux's fs/splice.c.
import { notifyFile } from '../vfs/fsnotify';
import { IN_ACCESS, IN_MODIFY } from '../abi/inotify';
import { Errno, E } from '../abi/errno';
import { O_APPEND, O_NONBLOCK, O_PATH, S_IFDIR, S_IFMT } from '../abi/fs';
import { SIGPIPE } from '../abi/signals';
import { PipeFile } from '../fsimpl/pipe/pipe';
import { READ_EVENTS, WRITE_EVENTS, type Pipe } from '../fsimpl/pipe/pipe_buffer';
import type { Task } from '../kernel/task';
import type { FileDescription, MaybePromise } from '../vfs/file';
import { MAX_RW, readIovecs } from './sysutil';
import { i32, u32, type SyscallDef } from '../kernel/syscall';

// SPLICE_F_MOVE and SPLICE_F_GIFT are hints Linux itself no longer acts on
// (pages are copied or shared as it likes); SPLICE_F_MORE is a hint for
// sockets. Only SPLICE_F_NONBLOCK changes what a call does.
const SPLICE_F_NONBLOCK = 0x2;
const SPLICE_F_ALL = 0xf;

/** A descriptor for splice: EBADF for a bad fd and for O_PATH, which Linux's fdget never returns. */
function fileOf(t: Task, fd: number): FileDescription {
  const f = t.fdTable.get(i32(fd));
  if (f.flags & O_PATH) throw new Errno(E.EBADF);
  return f;
}

function pipeOf(f: FileDescription): Pipe | null {
  return f instanceof PipeFile ? f.pipe : null;
}

/** A size_t length: values past 2^63 arrive negative and mean "as much as possible". */
function sizeArg(len: number): number {
  return len < 0 ? MAX_RW : Math.min(len, MAX_RW);
}

async function settle<T>(v: MaybePromise<T>): Promise<T> {
  return v instanceof Promise ? await v : v;
}

/** Wait for data (ipipe_prep): true with data, false at EOF (no writer), EAGAIN when nonblocking. */
async function waitData(t: Task, p: Pipe, nonblock: boolean): Promise<boolean> {
  while (p.size === 0) {
    if (p.writers === 0) return false;
    if (nonblock) throw new Errno(E.EAGAIN);
    await t.block(p.queue, READ_EVENTS);
  }
  return true;
}

/** Wait for room (wait_for_space/opipe_prep): EPIPE with SIGPIPE once no reader is left. */
async function waitRoom(t: Task, p: Pipe, nonblock: boolean): Promise<void> {
  for (;;) {
    if (p.readers === 0) {
      t.sendSignal(SIGPIPE);
      throw new Errno(E.EPIPE);
    }
    if (p.size < p.capacity) return;
    if (nonblock) throw new Errno(E.EAGAIN);
    await t.block(p.queue, WRITE_EVENTS);
  }
}

async function pipeToPipe(t: Task, ip: Pipe, op: Pipe, len: number, nonblock: boolean): Promise<number> {
  for (;;) {
    await waitData(t, ip, nonblock);
    await waitRoom(t, op, nonblock);
    if (ip.size === 0 && ip.writers === 0) return 0;
    const n = Math.min(len, ip.size, op.capacity - op.size);
    if (n > 0) {
      ip.transferTo(op, n, false, t.mm.charge);
      ip.notify(WRITE_EVENTS);
      op.notify(READ_EVENTS);
      return n;
    }
    // Another task took the data or the room between the waits.
    if (nonblock) throw new Errno(E.EAGAIN);
  }
}

/** A file read into the pipe: at most the pipe's free room, from off (or the file offset when null). */
async function fileToPipe(t: Task, f: FileDescription, off: number | null, op: Pipe, len: number, nonblock: boolean): Promise<number> {
  await waitRoom(t, op, nonblock);
  const want = Math.min(len, MAX_RW, op.capacity - op.size);
  const nowait = nonblock && f.supportsNowait(false);
  const data = await settle(off === null ? f.read(t, want, nowait) : f.pread(t, want, off));
  // A file that blocked may come back after another writer used the room: never overfill.
  const n = Math.min(data.length, op.capacity - op.size);
  if (n < data.length && off === null) f.seek(n - data.length, 1 /* SEEK_CUR */);
  if (n > 0) {
    op.fill(n, (dst, at) => data.copy(dst, 0, at, at + dst.length), t.mm.charge);
    op.notify(READ_EVENTS);
    if (f.inode) notifyFile(f.path ? f.path.dentry : null, f.inode, IN_ACCESS);
  }
  return n;
}

/**
 * The pipe's data written to the file straight from the ring, at off (or the
 * file offset). Only what the file took is consumed. A file whose write blocks
 * (a socket, a terminal) lets other tasks run meanwhile; Linux holds the pipe
 * lock then, so a concurrent reader of the same pipe is the one case that may
 * see the bytes too.
 */
async function pipeToFile(t: Task, ip: Pipe, f: FileDescription, off: number | null, len: number, nonblock: boolean): Promise<number> {
  if (!(await waitData(t, ip, nonblock))) return 0;
  let done = 0;
  for (const piece of ip.peek(Math.min(len, MAX_RW))) {
    let w: number;
    try {
      w = await settle(off === null ? f.write(t, piece) : f.pwrite(t, piece, off + done));
    } catch (e) {
      if (done > 0) break;
      throw e;
    }
    done += w;
    if (w < piece.length) break;
  }
  ip.drop(done);
  if (done > 0) {
    ip.notify(WRITE_EVENTS);
    if (f.inode) notifyFile(f.path ? f.path.dentry : null, f.inode, IN_MODIFY);
  }
  return done;
}

/** The offset behind an off_in/off_out pointer: files that cannot pread/pwrite refuse it (EINVAL), as negative values. */
function checkedOffset(v: number): number {
  if (v < 0) throw new Errno(E.EINVAL);
  return v;
}

/** ESPIPE from a file without positional I/O means it has none: splice says EINVAL. */
async function positional(p: Promise<number>, usesOffset: boolean): Promise<number> {
  try {
    return await p;
  } catch (e) {
    if (usesOffset && e instanceof Errno && e.errno === E.ESPIPE) throw new Errno(E.EINVAL);
    throw e;
  }
}

async function splice(t: Task, a: number[]): Promise<number> {
  const offInAddr = a[1], offOutAddr = a[3];
  const len = a[4];
  let flags = u32(a[5]);
  if (len === 0) return 0;
  if (flags & ~SPLICE_F_ALL) throw new Errno(E.EINVAL);
  const inf = fileOf(t, a[0]);
  const outf = fileOf(t, a[2]);
  const ip = pipeOf(inf), op = pipeOf(outf);
  if (ip && offInAddr) throw new Errno(E.ESPIPE);
  if (op && offOutAddr) throw new Errno(E.ESPIPE);
  const offIn = offInAddr ? t.mm.readI64(offInAddr) : null;
  const offOut = offOutAddr ? t.mm.readI64(offOutAddr) : null;
  if (!inf.readable || !outf.writable) throw new Errno(E.EBADF);
  const count = sizeArg(len);
  if (ip && op) {
    if (ip === op) throw new Errno(E.EINVAL);
    if ((inf.flags | outf.flags) & O_NONBLOCK) flags |= SPLICE_F_NONBLOCK;
    return pipeToPipe(t, ip, op, count, (flags & SPLICE_F_NONBLOCK) !== 0);
  }
  if (ip) {
    if (outf.flags & O_APPEND || !outf.canSplice()) throw new Errno(E.EINVAL);
    const off = offOut === null ? null : checkedOffset(offOut);
    if (inf.flags & O_NONBLOCK) flags |= SPLICE_F_NONBLOCK;
    const n = await positional(pipeToFile(t, ip, outf, off, count, (flags & SPLICE_F_NONBLOCK) !== 0), off !== null);
    if (off !== null) t.mm.writeI64(offOutAddr, off + n);
    return n;
  }
  if (op) {
    if ((inf.stat().mode & S_IFMT) === S_IFDIR || !inf.canSplice()) throw new Errno(E.EINVAL);
    const off = offIn === null ? null : checkedOffset(offIn);
    if (outf.flags & O_NONBLOCK) flags |= SPLICE_F_NONBLOCK;
    const n = await positional(fileToPipe(t, inf, off, op, count, (flags & SPLICE_F_NONBLOCK) !== 0), off !== null);
    if (off !== null) t.mm.writeI64(offInAddr, off + n);
    return n;
  }
  throw new Errno(E.EINVAL);
}

async function tee(t: Task, a: number[]): Promise<number> {
  let flags = u32(a[3]);
  if (flags & ~SPLICE_F_ALL) throw new Errno(E.EINVAL);
  const len = a[2];
  if (len === 0) return 0;
  const inf = fileOf(t, a[0]);
  const outf = fileOf(t, a[1]);
  if (!inf.readable || !outf.writable) throw new Errno(E.EBADF);
  const ip = pipeOf(inf), op = pipeOf(outf);
  if (!ip || !op || ip === op) throw new Errno(E.EINVAL);
  if ((inf.flags | outf.flags) & O_NONBLOCK) flags |= SPLICE_F_NONBLOCK;
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  await waitData(t, ip, nonblock);
  await waitRoom(t, op, nonblock);
  const n = Math.min(sizeArg(len), ip.size, op.capacity - op.size);
  if (n > 0) {
    ip.transferTo(op, n, true, t.mm.charge);
    op.notify(READ_EVENTS);
  }
  return n;
}

/** For the piece [at, at+n) of the data: each overlapping iovec part as (address, offset in the piece, length). */
function walkIovecs(vecs: Array<[number, number]>, at: number, n: number, fn: (addr: number, inPiece: number, k: number) => void): void {
  let pos = 0;
  for (const [base, len] of vecs) {
    const start = Math.max(at, pos), end = Math.min(at + n, pos + len);
    if (start < end) fn(base + (start - pos), start - at, end - start);
    pos += len;
    if (pos >= at + n) return;
  }
}

async function vmsplice(t: Task, a: number[]): Promise<number> {
  const flags = u32(a[3]);
  if (flags & ~SPLICE_F_ALL) throw new Errno(E.EINVAL);
  const f = fileOf(t, a[0]);
  const toPipe = f.writable;
  if (!toPipe && !f.readable) throw new Errno(E.EBADF);
  const vecs = readIovecs(t, a[1], i32(a[2]));
  let total = 0;
  for (const [, len] of vecs) total += len;
  if (total === 0) return 0;
  const p = pipeOf(f);
  if (!p) throw new Errno(E.EBADF);
  // Linux looks only at the flag here, not at the description's O_NONBLOCK.
  const nonblock = (flags & SPLICE_F_NONBLOCK) !== 0;
  for (const [base, len] of vecs) if (len) t.mm.checkRange(base, len, !toPipe);
  if (toPipe) {
    await waitRoom(t, p, nonblock);
    const n = Math.min(total, p.capacity - p.size);
    // Linux lends the pages to the pipe; here the bytes are copied at the call (see the table's note).
    p.fill(n, (dst, at) => walkIovecs(vecs, at, dst.length, (addr, o, k) => t.mm.copyInto(addr, dst.subarray(o, o + k))), t.mm.charge);
    p.notify(READ_EVENTS);
    return n;
  }
  if (!(await waitData(t, p, nonblock))) return 0;
  const n = Math.min(total, p.size);
  let at = 0;
  for (const piece of p.peek(n)) {
    walkIovecs(vecs, at, piece.length, (addr, o, k) => t.mm.copyOut(addr, piece.subarray(o, o + k)));
    at += piece.length;
  }
  p.drop(n);
  p.notify(WRITE_EVENTS);
  return n;
}

export const defs: SyscallDef[] = [
  { nr: 275, name: 'splice', args: ['fd', 'ptr', 'fd', 'ptr', 'size', 'hex'], fn: splice },
  { nr: 276, name: 'tee', args: ['fd', 'fd', 'size', 'hex'], fn: tee },
  {
    nr: 278, name: 'vmsplice', args: ['fd', 'iovec', 'int', 'hex'], fn: vmsplice,
    partial: 'the bytes are copied at the call: a later change to the caller\'s pages is not seen through the pipe, as it is on Linux without SPLICE_F_GIFT',
  },
];
