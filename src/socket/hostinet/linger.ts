// SO_LINGER of a host-mode socket, kept in the Sentry. The host socket never
// gets a linger time: its close(2) would then block the Sentry's one thread
// (and every task of the sandbox) until the peer acknowledged. Linger 0 (an
// abortive close, which never blocks) is passed through. A TCP socket closed
// with a time is shut down both ways instead (the FIN goes, data arriving
// later resets, as after close), and the closing task polls the connection's
// state (TCP_INFO) until the FIN is acknowledged, the time runs out or a
// signal comes; then the host socket is closed and the connection, if not
// finished, goes on in the host's kernel, as on Linux.
import { Errno, E } from '../../abi/errno';
import { SHUT_RDWR } from '../../abi/socket';
import { TcpState } from '../../abi/inet';
import type { Waitable } from '../../abi/waitqueue';
import * as hs from '../../host/hostsocket';
import { monotonicOf, type FileCtx } from '../../vfs/ctx';
import { SOL_TCP } from './options';

const FIONREAD = 0x541b;
const TCP_INFO = 11;
/** The state polls start this often and slow down to every POLL_MAX_NS. */
const POLL_MIN_NS = 5e6;
const POLL_MAX_NS = 200e6;

export class HostLinger {
  on = false;
  /** Kept while off, as Linux reports it; negative: wait for ever. */
  secs = 0;

  /** The value as getsockopt reports it. */
  get(): Buffer {
    const b = Buffer.alloc(8);
    b.writeInt32LE(this.on ? 1 : 0, 0);
    b.writeInt32LE(this.secs, 4);
    return b;
  }

  /** setsockopt: the value to give the host socket (linger 0 only; else off). */
  set(val: Buffer): Buffer {
    if (val.length < 8) throw new Errno(E.EINVAL);
    this.on = val.readInt32LE(0) !== 0;
    if (this.on) this.secs = val.readInt32LE(4);
    const host = Buffer.alloc(8);
    if (this.on && this.secs === 0) host.writeInt32LE(1, 0);
    return host;
  }

  copyFrom(o: HostLinger): void {
    this.on = o.on;
    this.secs = o.secs;
  }

  /**
   * At the release of a TCP socket: whether its close waits. Not with unread
   * data (the host's close resets) or without a connection (shutdown fails);
   * else the connection is shut down as close would.
   */
  begin(fd: number): boolean {
    if (!this.on || this.secs === 0) return false;
    if (hs.ioctlInt(fd, FIONREAD) !== 0) return false;
    return hs.shutdown(fd, SHUT_RDWR) === 0;
  }

  /** The closing task waits (see the top of the file); q is only slept on, with a deadline. */
  async wait(t: FileCtx, fd: number, q: Waitable): Promise<void> {
    const now = monotonicOf(t);
    const end = this.secs > 0 ? now() + this.secs * 1e9 : Infinity;
    let step = POLL_MIN_NS;
    while (closing(fd)) {
      const n = now();
      if (n >= end) return;
      try {
        await t.block(q, 0, Math.min(end, n + step));
      } catch {
        return; // a signal: close still succeeds
      }
      step = Math.min(step * 2, POLL_MAX_NS);
    }
  }
}

/** The connection still waits for its FIN to be acknowledged (FIN_WAIT1, CLOSING, LAST_ACK). */
function closing(fd: number): boolean {
  const r = hs.getsockopt(fd, SOL_TCP, TCP_INFO, 1);
  if (typeof r === 'number' || r.length < 1) return false;
  const s = r[0];
  return s === TcpState.FIN_WAIT1 || s === TcpState.CLOSING || s === TcpState.LAST_ACK;
}
