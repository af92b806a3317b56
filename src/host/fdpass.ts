// Descriptors on a container's control channel (cli/control.ts), for `create` of a pod's
// container: its runtime process sends the container's stdio, its
// stand-in's pipes and, where the sandbox reads host files through Gofers,
// the Sentry's end of the container's own Gofer's socket with SCM_RIGHTS,
// so that the sandbox's Sentry opens nothing of the host for it (a
// confined one cannot). The request is one JSON line as every other; the
// server then stops reading the connection through Node (libuv's read(2)
// would drop the descriptors: the kernel closes those of a message read
// without a control buffer), answers `fds`, and receives the one byte
// that carries them with recvmsg(2). The client is blocking (create waits
// for the answer anyway).

import type { Socket } from 'node:net';
import type * as Libc from './libc';
import { AF_UNIX, MSG_CMSG_CLOEXEC, MSG_CTRUNC, MSG_DONTWAIT, SOCK_CLOEXEC, SOCK_STREAM, cmsgSpace } from '../abi/socket';
import { MSGHDR_SIZE, MSG_CONTROLLEN, MSG_FLAGS, fillIovec, fillMsghdr, readRights, writeRights } from './msghdr';
import { POLLIN } from '../abi/poll';
import { E } from '../abi/errno';

/** libc (and koffi) loaded at first use: the runtime's other commands import control.ts without needing it. */
const libc = (): typeof Libc => require('./libc') as typeof Libc;

/** The most descriptors one request carries (create's: three stdio, two pipes, a Gofer socket). */
export const MAX_REQUEST_FDS = 8;

/** The server's word that it waits for the descriptors. */
export const FDS_WANTED = 'fds\n';

const EINTR = E.EINTR;
const EAGAIN = E.EAGAIN;

function pollIn(fd: number, timeoutMs: number): boolean {
  const p = Buffer.alloc(8);
  p.writeInt32LE(fd, 0);
  p.writeInt16LE(POLLIN, 4);
  for (const end = Date.now() + timeoutMs; ;) {
    const left = Math.max(0, end - Date.now());
    const r = libc().poll(p, 1, left) as number;
    if (r > 0) return true;
    if (r === 0 || libc().errno() !== EINTR) return false;
  }
}

/**
 * A struct msghdr of one byte of data and a control buffer for up to
 * MAX_REQUEST_FDS descriptors, in pinned memory (koffi's, never given back:
 * one per server, or per create process).
 */
export class FdMessage {
  private readonly data = libc().allocPinned(1);
  private readonly iov = libc().allocPinned(16);
  readonly ctl = libc().allocPinned(cmsgSpace(4 * MAX_REQUEST_FDS));
  readonly msg = libc().allocPinned(MSGHDR_SIZE);

  /** The header, reset, with a control buffer of ctlLen bytes. */
  header(ctlLen: number): Buffer {
    fillIovec(this.iov.buf, 0, this.data.addr, 1);
    return fillMsghdr(this.msg.buf, { iov: this.iov.addr, iovLen: 1, control: this.ctl.addr, controlLen: ctlLen });
  }
}

/**
 * The server's side: the descriptors of one message on connection sock
 * (exactly want of them), within timeoutMs; every descriptor received is
 * closed if they are not what was announced. The connection's data path
 * through Node must be stopped first (stopReading). Node gives no
 * readiness of a paused socket, so the message is tried for without
 * waiting, again after growing pauses (1 ms to 32 ms): the event loop, and
 * with it every other container of the sandbox, goes on while a client
 * that announced descriptors is slow to send them or never does.
 */
export async function receiveFds(m: FdMessage, sock: Socket, want: number, timeoutMs = 5000): Promise<number[]> {
  const fd = (sock as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('the control connection has no descriptor');
  if (want < 1 || want > MAX_REQUEST_FDS) throw new Error(`${want} descriptors in one request`);
  const end = Date.now() + timeoutMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 32)) {
    const fds = tryReceiveFds(m, fd, want);
    if (fds) return fds;
    if (Date.now() >= end || sock.destroyed) throw new Error('the client sent no descriptors');
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, Math.max(1, end - Date.now()))));
  }
}

/**
 * Stop Node reading sock: pause() alone only stops its 'data' events, and
 * libuv would go on reading into the stream's buffer, the descriptors'
 * byte with them (dropped by a read without a control buffer).
 */
export function stopReading(sock: Socket): void {
  sock.pause();
  (sock as unknown as { _handle?: { readStop?: () => number } })._handle?.readStop?.();
}

/** One try of receiveFds: null when nothing has come yet. */
function tryReceiveFds(m: FdMessage, fd: number, want: number): number[] | null {
  const ctl = m.ctl;
  for (;;) {
    ctl.buf.fill(0);
    const msg = m.header(ctl.buf.length);
    const r = Number(libc().recvmsg(fd, msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
    if (r < 0 && libc().errno() === EINTR) continue;
    if (r < 0 && libc().errno() === EAGAIN) return null;
    if (r <= 0) throw new Error('the client closed the connection before its descriptors');
    const fds = readRights(ctl.buf, Number(msg.readBigUInt64LE(MSG_CONTROLLEN)));
    const truncated = (msg.readInt32LE(MSG_FLAGS) & MSG_CTRUNC) !== 0;
    if (truncated || fds.length !== want) {
      for (const f of fds) libc().close(f);
      throw new Error(`the client sent ${truncated ? 'too many' : fds.length} descriptors, not ${want}`);
    }
    return fds;
  }
}

function check(r: number, what: string): number {
  if (r < 0) throw new Error(`${what}: errno ${libc().errno()}`);
  return r;
}

/**
 * The client's side: send req (one JSON line) to control.sock in the
 * current directory (the caller changed to the state directory), then fds
 * once the server asks for them, and return its answer (the text up to
 * its end); within timeoutMs.
 */
export function requestWithFds(req: object, fds: number[], timeoutMs = 30_000): string {
  if (fds.length < 1 || fds.length > MAX_REQUEST_FDS) throw new Error(`${fds.length} descriptors in one request`);
  const L = libc();
  const s = check(L.socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) as number, 'control socket');
  const end = Date.now() + timeoutMs;
  const left = (): number => Math.max(1, end - Date.now());
  /** What the server sent until its end (or until stop says enough). */
  const readUntil = (stop: (text: string) => boolean): string => {
    const buf = Buffer.alloc(65536);
    let text = '';
    for (;;) {
      if (!pollIn(s, left())) throw new Error('the sandbox did not answer on its control channel');
      const r = Number(L.recv(s, buf, buf.length, 0));
      if (r < 0 && L.errno() === EINTR) continue;
      if (r <= 0) return text;
      text += buf.subarray(0, r).toString('utf8');
      if (stop(text) || text.length > 1 << 20) return text;
    }
  };
  try {
    const addr = Buffer.alloc(110);
    addr.writeUInt16LE(AF_UNIX, 0);
    addr.write('control.sock', 2);
    if ((L.connect(s, addr, 2 + 'control.sock'.length + 1) as number) < 0) throw new Error(`cannot reach the sandbox's control channel: errno ${L.errno()}`);
    const line = Buffer.from(JSON.stringify(req) + '\n');
    for (let off = 0; off < line.length;) {
      const r = Number(L.send(s, line.subarray(off), line.length - off, 0));
      if (r < 0 && L.errno() === EINTR) continue;
      off += check(r, 'sending the request');
    }
    const first = readUntil((t) => t.includes('\n'));
    if (first !== FDS_WANTED) return first;
    const m = new FdMessage();
    check(Number(L.sendmsg(s, m.header(writeRights(m.ctl.buf, fds)), 0)), 'sending the descriptors');
    return readUntil(() => false);
  } finally {
    L.close(s);
  }
}

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;

/** fd's access mode (O_RDONLY, O_WRONLY or O_RDWR), as fcntl(F_GETFL) gives it: a received pipe's end is checked with it. */
export function accessMode(fd: number): number {
  const fl = libc().fcntl(fd, F_GETFL, 0) as number;
  if (fl < 0) throw new Error(`fcntl: errno ${libc().errno()}`);
  return fl & 3;
}

/** Make fd non-blocking (a received pipe's end). */
export function makeNonBlocking(fd: number): void {
  const fl = libc().fcntl(fd, F_GETFL, 0) as number;
  if (fl >= 0) libc().fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}
