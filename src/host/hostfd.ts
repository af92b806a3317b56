// Host descriptors donated to the sandbox: the caller's stdio and terminal.
// They are a second boundary beside the host tree (HostFiles), as gVisor's
// fsimpl/host is beside its Gofer: the Sentry does I/O on them itself. Only
// fsimpl/hostfd uses this module (test/unit/host_access.test.js), so every
// host call on a donated fd is made in one place. Calls return a count or
// -errno, never throw, except fstat (HostError).
import * as fs from 'node:fs';
import { HostError, type HostStat } from './hostfs';
import * as libc from './libc';

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000, O_NOCTTY = 0o400, O_CLOEXEC = 0o2000000;

function ret(v: number | bigint): number {
  const n = Number(v);
  return n >= 0 ? n : -libc.errno();
}

export function read(fd: number, buf: Buffer, len: number): number {
  return ret(libc.read(fd, buf, len) as number);
}

export function write(fd: number, buf: Buffer, len: number): number {
  return ret(libc.write(fd, buf, len) as number);
}

export function recv(fd: number, buf: Buffer, len: number, flags: number): number {
  return ret(libc.recv(fd, buf, len, flags) as number);
}

export function send(fd: number, buf: Buffer, len: number, flags: number): number {
  return ret(libc.send(fd, buf, len, flags) as number);
}

export function pread(fd: number, buf: Buffer, len: number, off: number): number {
  return ret(libc.pread(fd, buf, len, off) as number);
}

export function pwrite(fd: number, buf: Buffer, len: number, off: number): number {
  return ret(libc.pwrite(fd, buf, len, off) as number);
}

export function lseek(fd: number, off: number, whence: number): number {
  return ret(libc.lseek(fd, off, whence) as number);
}

export function fsync(fd: number, dataOnly: boolean): number {
  return ret((dataOnly ? libc.fdatasync(fd) : libc.fsync(fd)) as number);
}

/** An int-valued SOL_SOCKET option of a host socket, or -errno. */
export function socketIntOption(fd: number, name: number): number {
  const val = Buffer.alloc(4);
  const len = Buffer.alloc(4);
  len.writeInt32LE(4, 0);
  const r = ret(libc.getsockopt(fd, 1, name, val, len) as number);
  return r < 0 ? r : val.readInt32LE(0);
}

/** An ioctl whose argument is a buffer: 0 or -errno. */
export function ioctl(fd: number, req: number, arg: Buffer): number {
  return ret(libc.ioctl(fd, req, arg) as number);
}

/** The poll(2) revents of fd for events now (0 if none or on error); never waits. */
export function poll(fd: number, events: number): number {
  const b = Buffer.alloc(8);
  b.writeInt32LE(fd, 0);
  b.writeInt16LE(events, 4);
  if ((libc.poll(b, 1, 0) as number) <= 0) return 0;
  return b.readInt16LE(6);
}

/** A second host fd of the same open file description (the sandbox reopened it through /proc/PID/fd). */
export function dup(fd: number): number {
  return ret(libc.dup(fd) as number);
}

export function close(fd: number): void {
  libc.close(fd);
}

/** The file status flags (F_GETFL) of fd, or -errno (not open). */
export function statusFlags(fd: number): number {
  return ret(libc.fcntl(fd, F_GETFL, 0) as number);
}

export function isatty(fd: number): boolean {
  // libc's isatty: loading node:tty (and node:net with it) costs milliseconds of start-up.
  return libc.isatty(fd) === 1;
}

export function fstat(fd: number): HostStat {
  let s: fs.BigIntStats;
  try {
    s = fs.fstatSync(fd, { bigint: true });
  } catch (e) {
    const n = (e as { errno?: number }).errno;
    if (typeof n === 'number') throw new HostError(Math.abs(n), String((e as Error).message));
    throw e;
  }
  return {
    dev: Number(s.dev), ino: Number(s.ino), mode: Number(s.mode), nlink: Number(s.nlink), uid: Number(s.uid), gid: Number(s.gid),
    rdev: Number(s.rdev), size: Number(s.size), blksize: Number(s.blksize), blocks: Number(s.blocks),
    atimeNs: s.atimeNs, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, birthtimeNs: s.birthtimeNs,
  };
}

/**
 * A new open file description of the same pipe, FIFO or terminal, with
 * O_NONBLOCK (and the access mode of flags), or null if fd is something
 * else or cannot be reopened. Opening /proc/self/fd/N reaches the object
 * itself, not the caller's description, whose flags stay untouched.
 */
/**
 * Make fd (a description nobody else uses, opened for the sandbox)
 * non-blocking in place if it is a pipe, FIFO or terminal: what
 * reopenNonBlocking gives, without an open (a confined Sentry opens
 * nothing for writing).
 */
export function setNonBlocking(fd: number, flags: number): void {
  try {
    const st = fs.fstatSync(fd);
    if (st.isFIFO() || st.isCharacterDevice()) libc.fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  } catch {
    // not open: the sandbox's reads fail as they would
  }
}

export function reopenNonBlocking(fd: number, flags: number): number | null {
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFIFO() && !st.isCharacterDevice()) return null;
    return fs.openSync(`/proc/self/fd/${fd}`, (flags & 3) | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  } catch {
    return null;
  }
}
