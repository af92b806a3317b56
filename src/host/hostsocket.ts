// Host sockets the Sentry owns for the application in host network mode
// (socket/hostinet, the only user besides host/: test/unit/host_access.test.js).
// Every call takes buffers the Sentry built and checked; each returns a count
// or -errno and never throws. Sockets are made non-blocking and close-on-exec:
// the Sentry never sleeps in a host call, and its children never inherit them.
import * as libc from './libc';

const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;

function ret(v: number | bigint): number {
  const n = Number(v);
  return n >= 0 ? n : -libc.errno();
}

export function socket(domain: number, type: number, protocol: number): number {
  return ret(libc.socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol) as number);
}

export function bind(fd: number, sa: Buffer): number {
  return ret(libc.bind(fd, sa, sa.length) as number);
}

export function listen(fd: number, backlog: number): number {
  return ret(libc.listen(fd, backlog) as number);
}

export function connect(fd: number, sa: Buffer): number {
  return ret(libc.connect(fd, sa, sa.length) as number);
}

/** A connection from the queue (non-blocking, close-on-exec) and its peer's address. */
export function accept(fd: number): { fd: number; addr: Buffer } {
  const sa = Buffer.alloc(128);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(sa.length, 0);
  const r = ret(libc.accept4(fd, sa, len, SOCK_NONBLOCK | SOCK_CLOEXEC) as number);
  return { fd: r, addr: r < 0 ? Buffer.alloc(0) : sa.subarray(0, Math.min(sa.length, len.readUInt32LE(0))) };
}

export function shutdown(fd: number, how: number): number {
  return ret(libc.shutdown(fd, how) as number);
}

export function sendto(fd: number, data: Buffer, flags: number, sa: Buffer | null): number {
  return ret(libc.sendto(fd, data, data.length, flags, sa, sa ? sa.length : 0) as number);
}

/** Received bytes into buf, or -errno (a connected socket: no address asked for). */
export function recv(fd: number, buf: Buffer, flags: number): number {
  return ret(libc.recvfrom(fd, buf, buf.length, flags, null, null) as number);
}

/** Received bytes into buf (or -errno), and the sender's address. */
export function recvfrom(fd: number, buf: Buffer, flags: number): { n: number; addr: Buffer } {
  const sa = Buffer.alloc(128);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(sa.length, 0);
  const n = ret(libc.recvfrom(fd, buf, buf.length, flags, sa, len) as number);
  return { n, addr: n < 0 ? Buffer.alloc(0) : sa.subarray(0, Math.min(sa.length, len.readUInt32LE(0))) };
}

/** getsockname or getpeername: the address, or -errno. */
export function name(fd: number, peer: boolean): Buffer | number {
  const sa = Buffer.alloc(128);
  const len = Buffer.alloc(4);
  len.writeUInt32LE(sa.length, 0);
  const r = ret((peer ? libc.getpeername(fd, sa, len) : libc.getsockname(fd, sa, len)) as number);
  return r < 0 ? r : sa.subarray(0, Math.min(sa.length, len.readUInt32LE(0)));
}

/** An option's value (at most room bytes), or -errno. */
export function getsockopt(fd: number, level: number, opt: number, room: number): Buffer | number {
  const val = Buffer.alloc(Math.max(room, 1));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(room, 0);
  const r = ret(libc.getsockopt(fd, level, opt, val, len) as number);
  return r < 0 ? r : val.subarray(0, Math.min(room, len.readUInt32LE(0)));
}

export function setsockopt(fd: number, level: number, opt: number, val: Buffer): number {
  return ret(libc.setsockopt(fd, level, opt, val.length ? val : null, val.length) as number);
}

/** An ioctl whose argument is an int the host writes (FIONREAD, SIOCOUTQ): the value, or -errno. */
export function ioctlInt(fd: number, req: number): number {
  const b = Buffer.alloc(8);
  const r = ret(libc.ioctl(fd, req, b) as number);
  return r < 0 ? r : b.readInt32LE(0);
}

/** The poll(2) revents of fd for events now (0 if none); never waits. */
export function poll(fd: number, events: number): number {
  const b = Buffer.alloc(8);
  b.writeInt32LE(fd, 0);
  b.writeInt16LE(events, 4);
  if ((libc.poll(b, 1, 0) as number) <= 0) return 0;
  return b.readInt16LE(6);
}

export function close(fd: number): void {
  libc.close(fd);
}
