// Host sockets the Sentry owns for the application in host network mode
// (socket/hostinet, the only user besides host/: test/unit/host_access.test.js).
// Every call takes buffers the Sentry built and checked; each returns a count
// or -errno and never throws. Sockets are made non-blocking and close-on-exec:
// the Sentry never sleeps in a host call, and its children never inherit them.
import * as libc from './libc';
import { MSGHDR_SIZE, MSG_CONTROLLEN, MSG_FLAGS, MSG_NAMELEN, fillIovec, fillMsghdr } from './msghdr';

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

// struct msghdr and one iovec, laid out in one Buffer with the name and
// control areas after them: the host reads and writes only that Buffer and
// the data buffer, both referenced until the call returns.
const IOVEC = 16;
const NAME_ROOM = 128;

function msghdr(data: Buffer, name: Buffer | null, nameRoom: number, control: Buffer | null, controlRoom: number): Buffer {
  const ctlLen = control ? control.length : controlRoom;
  const m = Buffer.alloc(MSGHDR_SIZE + IOVEC + nameRoom + ctlLen);
  const nameAt = MSGHDR_SIZE + IOVEC, ctlAt = nameAt + nameRoom;
  const base = libc.bufferAddress(m);
  if (name) name.copy(m, nameAt);
  if (control) control.copy(m, ctlAt);
  fillIovec(m, MSGHDR_SIZE, libc.bufferAddress(data), data.length);
  return fillMsghdr(m, {
    name: nameRoom ? base + BigInt(nameAt) : 0n,
    nameLen: nameRoom ? (name ? name.length : nameRoom) : 0,
    iov: base + BigInt(MSGHDR_SIZE),
    iovLen: 1,
    control: ctlLen ? base + BigInt(ctlAt) : 0n,
    controlLen: ctlLen,
  });
}

/** sendmsg(2) of data to sa (null: the connected peer) with control data the caller built and checked (null: none): bytes sent, or -errno. */
export function sendmsg(fd: number, data: Buffer, flags: number, sa: Buffer | null, control: Buffer | null): number {
  const m = msghdr(data, sa, sa ? sa.length : 0, control, 0);
  const r = ret(libc.sendmsg(fd, m, flags) as number);
  // The host reads data through the address in m: the clamp is a use of data after the call, which keeps it referenced until then.
  return Math.min(r, data.length);
}

/** recvmsg(2) into buf with room for controlRoom bytes of control data: the count (or -errno), the sender's address, the control data and msg_flags. */
export function recvmsg(fd: number, buf: Buffer, flags: number, controlRoom: number): { n: number; addr: Buffer; control: Buffer; flags: number } {
  const m = msghdr(buf, null, NAME_ROOM, null, controlRoom);
  const n = ret(libc.recvmsg(fd, m, flags) as number);
  // The caller reads buf after this returns, which keeps it referenced through the call.
  if (n < 0) return { n, addr: Buffer.alloc(0), control: Buffer.alloc(0), flags: 0 };
  const nameAt = MSGHDR_SIZE + IOVEC;
  const namelen = Math.min(m.readUInt32LE(MSG_NAMELEN), NAME_ROOM);
  const ctlLen = Math.min(Number(m.readBigUInt64LE(MSG_CONTROLLEN)), controlRoom);
  return {
    n,
    addr: Buffer.from(m.subarray(nameAt, nameAt + namelen)),
    control: Buffer.from(m.subarray(nameAt + NAME_ROOM, nameAt + NAME_ROOM + ctlLen)),
    flags: m.readInt32LE(MSG_FLAGS),
  };
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

/** An ioctl whose argument is a struct of size bytes the host writes (SIOCGSTAMP): it, or -errno. */
export function ioctlOut(fd: number, req: number, size: number): Buffer | number {
  const b = Buffer.alloc(size);
  const r = ret(libc.ioctl(fd, req, b) as number);
  return r < 0 ? r : b;
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
