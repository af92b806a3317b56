// One end of the Sentry-Gofer socketpair (SOCK_SEQPACKET): blocking sends and
// receives of whole messages through the libc bindings, so a Gofer call is
// synchronous for the Sentry (its syscall handlers are). Only replies carry a
// descriptor; the Gofer receives with recv(2), which gives it no control
// buffer, so descriptors a hostile Sentry attaches are closed by the kernel
// and never enter the Gofer's table.
import * as libc from '../host/libc';
import { MSGHDR_SIZE, MSG_CONTROLLEN, fillIovec, fillMsghdr, readRights, writeRights } from '../host/msghdr';
import { cmsgSpace } from '../abi/socket';

const AF_UNIX = 1;
const SOCK_SEQPACKET = 5;
const SOCK_CLOEXEC = 0o2000000;
const MSG_TRUNC = 0x20;
const MSG_CMSG_CLOEXEC = 0x40000000;
const EINTR = 4;
const EAGAIN = 11;
const POLLIN = 1;
const POLLHUP = 0x10;
/** Most descriptors one message carries (OPEN_MANY's batch: gofer/protocol.ts). */
export const MAX_FDS = 32;

/** A connected pair, both ends close-on-exec: [Sentry's end, Gofer's end]. */
export function seqpacketPair(): [number, number] {
  const sv = [0, 0];
  if ((libc.socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) as number) < 0) throw new Error(`socketpair: errno ${libc.errno()}`);
  return [sv[0], sv[1]];
}

export class ChannelClosed extends Error {}

export class Channel {
  private readonly data: { buf: Buffer; addr: bigint };
  private readonly iov: { buf: Buffer; addr: bigint };
  private readonly ctl: { buf: Buffer; addr: bigint };
  private readonly msg = Buffer.alloc(MSGHDR_SIZE);
  private readonly sendIov: { buf: Buffer; addr: bigint };
  private sendData: { buf: Buffer; addr: bigint };
  private readonly sendCtl: { buf: Buffer; addr: bigint };
  private readonly sendMsg = Buffer.alloc(MSGHDR_SIZE);

  constructor(readonly fd: number, readonly maxMessage: number) {
    this.data = libc.allocPinned(maxMessage + 1);
    this.iov = libc.allocPinned(16);
    // Room for MAX_FDS ints (more than that: the kernel discards them, MSG_CTRUNC).
    this.ctl = libc.allocPinned(cmsgSpace(4 * MAX_FDS));
    this.sendIov = libc.allocPinned(16);
    this.sendData = libc.allocPinned(256);
    this.sendCtl = libc.allocPinned(cmsgSpace(4 * MAX_FDS));
  }

  send(b: Buffer): void {
    for (;;) {
      const r = Number(libc.send(this.fd, b, b.length, 0));
      if (r === b.length) return;
      if (r >= 0) throw new ChannelClosed('short send');
      const e = libc.errno();
      if (e !== EINTR && e !== EAGAIN) throw new ChannelClosed(`send: errno ${e}`);
    }
  }

  /** Send b with descriptor fd attached (SCM_RIGHTS). */
  sendWithFd(b: Buffer, fd: number): void {
    this.sendWithFds(b, [fd]);
  }

  /** Send b with descriptors fds attached (SCM_RIGHTS; 1 to MAX_FDS of them). */
  sendWithFds(b: Buffer, fds: number[]): void {
    if (fds.length === 0 || fds.length > MAX_FDS) throw new Error(`${fds.length} descriptors in one message`);
    // Pinned memory is not given back: grow it only to the largest reply, once.
    if (this.sendData.buf.length < b.length) this.sendData = libc.allocPinned(Math.max(b.length, this.maxMessage));
    b.copy(this.sendData.buf);
    fillIovec(this.sendIov.buf, 0, this.sendData.addr, b.length);
    const msg = fillMsghdr(this.sendMsg, { iov: this.sendIov.addr, iovLen: 1, control: this.sendCtl.addr, controlLen: writeRights(this.sendCtl.buf, fds) });
    for (;;) {
      const r = Number(libc.sendmsg(this.fd, msg, 0));
      if (r === b.length) return;
      if (r >= 0) throw new ChannelClosed('short send');
      const e = libc.errno();
      if (e !== EINTR && e !== EAGAIN) throw new ChannelClosed(`sendmsg: errno ${e}`);
    }
  }

  /**
   * The next message, without descriptors (the Gofer's side). Its length
   * may exceed maxMessage (the tail is then lost): the caller refuses it.
   */
  recvPlain(): { msg: Buffer; len: number } {
    for (;;) {
      const r = Number(libc.recv(this.fd, this.data.buf, this.maxMessage + 1, MSG_TRUNC));
      // 0 is also an empty message (a malformed request, answered as such): only a hang-up is the end.
      if (r === 0 && this.hungUp()) throw new ChannelClosed('peer closed');
      if (r >= 0) return { msg: this.data.buf.subarray(0, Math.min(r, this.maxMessage)), len: r };
      const e = libc.errno();
      if (e !== EINTR && e !== EAGAIN) throw new ChannelClosed(`recv: errno ${e}`);
    }
  }

  private hungUp(): boolean {
    const p = Buffer.alloc(8);
    p.writeInt32LE(this.fd, 0);
    p.writeInt16LE(POLLIN, 4);
    return (libc.poll(p, 1, 0) as number) > 0 && (p.readInt16LE(6) & POLLHUP) !== 0;
  }

  /** The next message and the descriptor it carried (-1 if none); extra descriptors are closed. */
  recvWithFd(): { msg: Buffer; fd: number } {
    const { msg, fds } = this.recvWithFds();
    for (let i = 1; i < fds.length; i++) libc.close(fds[i]);
    return { msg, fd: fds.length > 0 ? fds[0] : -1 };
  }

  /** The next message and the descriptors it carried, in order (at most MAX_FDS). */
  recvWithFds(): { msg: Buffer; fds: number[] } {
    fillIovec(this.iov.buf, 0, this.data.addr, this.maxMessage);
    for (;;) {
      fillMsghdr(this.msg, { iov: this.iov.addr, iovLen: 1, control: this.ctl.addr, controlLen: this.ctl.buf.length });
      const r = Number(libc.recvmsg(this.fd, this.msg, MSG_CMSG_CLOEXEC));
      if (r === 0) throw new ChannelClosed('peer closed');
      if (r < 0) {
        const e = libc.errno();
        if (e === EINTR || e === EAGAIN) continue;
        throw new ChannelClosed(`recvmsg: errno ${e}`);
      }
      const fds = readRights(this.ctl.buf, Number(this.msg.readBigUInt64LE(MSG_CONTROLLEN)));
      return { msg: Buffer.from(this.data.buf.subarray(0, r)), fds };
    }
  }

  close(): void {
    libc.close(this.fd);
  }
}
