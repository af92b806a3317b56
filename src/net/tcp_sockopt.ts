// A TCP socket's IPPROTO_TCP options (tcp(7)): the values setsockopt(2)
// keeps, the checks Linux makes on them, what getsockopt(2) and TCP_INFO
// answer, and the options a new connection or listener takes from them.
// TcpSocket (tcp_socket.ts) adds names, connections, the data path and close.
import { Errno, E } from '../abi/errno';
import { SOCK_STREAM } from '../abi/socket';
import {
  IPPROTO_TCP, TCP_CONGESTION, TCP_RMEM_DEFAULT, TCP_WMEM_DEFAULT, TCP_CORK, TCP_DEFER_ACCEPT, TCP_INFO, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_LINGER2,
  TCP_MAXSEG, TCP_NODELAY, TCP_NOTSENT_LOWAT, TCP_QUICKACK, TCP_SYNCNT, TCP_USER_TIMEOUT, TCP_WINDOW_CLAMP,
} from '../abi/inet';
import { InetSocket, int32, readInt, type InetEnv } from './inet_socket';
import type { Listener } from './tcp/listener';
import { defaultTcbOptions, type TcbOptions } from './tcp/params';
import { tcpInfo } from './tcp/info';
import type { Tcb } from './tcp/tcb';

/** Without SO_SNDBUF/SO_RCVBUF the stack sizes a connection's queues itself (Linux autotunes them up to megabytes: 4 MiB to send, 6 to receive); deep queues let a sandboxed sender or reader that waits for the CPU keep the stream going. Charged to the heap budget as filled. */
const AUTO_BUF = 1024 * 1024;

/** TCP_DEFER_ACCEPT's seconds as Linux keeps them: a count of SYN-ACK retransmissions (1 s doubling to 120 s), rounded up. */
function deferRounded(secs: number): number {
  if (secs <= 0) return 0;
  let timeout = 1;
  let period = 1;
  let n = 1;
  while (secs > period && n < 255) {
    n++;
    timeout = Math.min(timeout * 2, 120);
    period += timeout;
  }
  return period;
}

export abstract class TcpSockoptSocket extends InetSocket {
  /** The connection (connected, or the last one), and the listener after listen(2). */
  tcb: Tcb | null = null;
  listener: Listener | null = null;
  nodelay = false;
  cork = false;
  keepIdle = 7200;
  keepIntvl = 75;
  keepCnt = 9;
  userMss = 0;
  deferAccept = 0;
  private synCnt = 6;
  private linger2 = 60;
  private userTimeout = 0;
  private windowClamp = 0;
  private notsentLowat = -1;

  constructor(env: InetEnv, family: number, nonblock: number) {
    super(env, family, SOCK_STREAM, IPPROTO_TCP, nonblock, TCP_WMEM_DEFAULT, TCP_RMEM_DEFAULT);
  }

  /** The options a new connection (or a listener's connections) starts with. */
  tcbOptions(): TcbOptions {
    const o = defaultTcbOptions();
    o.nodelay = this.nodelay;
    o.cork = this.cork;
    o.keepalive = this.keepalive;
    o.keepIdle = this.keepIdle;
    o.keepIntvl = this.keepIntvl;
    o.keepCnt = this.keepCnt;
    o.rcvLimit = this.rcvbufSet ? this.rcvbuf >> 1 : AUTO_BUF;
    o.sndLimit = this.sndbufSet ? this.sndbuf >> 1 : AUTO_BUF;
    o.userMss = this.userMss;
    o.deferAccept = this.deferAccept;
    o.tos = this.tos;
    o.ttl = this.ttl < 0 ? 64 : this.ttl;
    o.oobinline = this.oobinline;
    o.ipOpts = this.ipOpts;
    return o;
  }

  protected override optionsChanged(): void {
    const c = this.tcb;
    if (c) {
      const o = this.tcbOptions();
      o.userMss = c.opts.userMss;
      c.opts = o;
      c.keepaliveChanged();
      c.output();
    }
    if (this.listener) this.listener.opts = this.tcbOptions();
    this.stack.flush();
  }

  // ------------------------------------------------------------ options

  protected takeError(): number {
    const c = this.tcb;
    if (!c || !c.err) return 0;
    const e = c.err;
    c.err = 0;
    return e;
  }

  protected listening(): boolean {
    return this.listener !== null;
  }

  protected getProtoOpt(level: number, name: number): Buffer {
    if (level !== IPPROTO_TCP) throw new Errno(E.EOPNOTSUPP);
    const c = this.tcb;
    switch (name) {
      case TCP_NODELAY: return int32(this.nodelay ? 1 : 0);
      case TCP_CORK: return int32(this.cork ? 1 : 0);
      case TCP_KEEPIDLE: return int32(this.keepIdle);
      case TCP_KEEPINTVL: return int32(this.keepIntvl);
      case TCP_KEEPCNT: return int32(this.keepCnt);
      case TCP_MAXSEG: return int32(c && c.synchronized ? c.sendMss : this.userMss || 536);
      case TCP_DEFER_ACCEPT: return int32(deferRounded(this.deferAccept));
      case TCP_SYNCNT: return int32(this.synCnt);
      case TCP_LINGER2: return int32(this.linger2);
      case TCP_USER_TIMEOUT: return int32(this.userTimeout);
      case TCP_WINDOW_CLAMP: return int32(this.windowClamp);
      case TCP_QUICKACK: return int32(1);
      case TCP_NOTSENT_LOWAT: return int32(this.notsentLowat < 0 ? 0 : this.notsentLowat);
      case TCP_CONGESTION: {
        const b = Buffer.alloc(16);
        b.write('reno');
        return b;
      }
      case TCP_INFO: return tcpInfo(c, this.listener, this.stack.nowMs());
      default: throw new Errno(E.ENOPROTOOPT);
    }
  }

  protected setProtoOpt(level: number, name: number, val: Buffer): void {
    if (level !== IPPROTO_TCP) throw new Errno(E.ENOPROTOOPT);
    if (name === TCP_CONGESTION) {
      const algo = val.toString('latin1').replace(/\0.*$/s, '');
      if (algo !== 'reno') throw new Errno(E.ENOENT);
      return;
    }
    const v = readInt(val);
    switch (name) {
      case TCP_NODELAY:
        this.nodelay = v !== 0;
        if (this.tcb && this.nodelay) this.tcb.flushPartial = false;
        break;
      case TCP_CORK:
        this.cork = v !== 0;
        if (this.tcb && !this.cork) {
          this.tcb.opts.cork = false;
          this.tcb.flushPartial = true;
          this.tcb.output();
          this.tcb.flushPartial = false;
          this.stack.flush();
        }
        break;
      case TCP_KEEPIDLE:
        if (v < 1 || v > 32767) throw new Errno(E.EINVAL);
        this.keepIdle = v;
        break;
      case TCP_KEEPINTVL:
        if (v < 1 || v > 32767) throw new Errno(E.EINVAL);
        this.keepIntvl = v;
        break;
      case TCP_KEEPCNT:
        if (v < 1 || v > 127) throw new Errno(E.EINVAL);
        this.keepCnt = v;
        break;
      case TCP_MAXSEG:
        if (v !== 0 && (v < 88 || v > 32767)) throw new Errno(E.EINVAL);
        this.userMss = v;
        return;
      case TCP_DEFER_ACCEPT:
        this.deferAccept = Math.max(0, v);
        break;
      case TCP_SYNCNT:
        if (v < 1 || v > 127) throw new Errno(E.EINVAL);
        this.synCnt = v;
        return;
      case TCP_LINGER2:
        this.linger2 = v < 0 ? -1 : Math.min(v, 120);
        return;
      case TCP_USER_TIMEOUT:
        if (v < 0) throw new Errno(E.EINVAL);
        this.userTimeout = v;
        return;
      case TCP_WINDOW_CLAMP:
        this.windowClamp = Math.max(0, v);
        return;
      case TCP_QUICKACK:
        return;
      case TCP_NOTSENT_LOWAT:
        this.notsentLowat = v;
        return;
      default: throw new Errno(E.ENOPROTOOPT);
    }
    this.optionsChanged();
  }
}
