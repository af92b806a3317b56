// TCP sockets (tcp(7)) on the sandbox's stack: bind, listen and accept
// through a Listener, connect (blocking, or EINPROGRESS then SO_ERROR), the
// stream data calls with MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, MSG_MORE and
// MSG_NOSIGNAL, shutdown, close (graceful, or a reset with unread data or
// SO_LINGER 0, or waiting with SO_LINGER), and readiness as Linux's tcp_poll
// reports it. The IPPROTO_TCP options are in tcp_sockopt.ts.
import { STAMP_IOCTLS, MSG_MORE, SIOCATMARK, SIOCOUTQ, SIOCOUTQNSD, TcpState } from '../abi/inet';
import { Errno, E } from '../abi/errno';
import {
  MSG_OOB, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, RCV_SHUTDOWN, SEND_SHUTDOWN, SHUT_RDWR, SOMAXCONN,
} from '../abi/socket';
import { ALL_EVENTS, EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_PRI, EVENT_RDHUP, EVENT_RDNORM, EVENT_WRNORM } from '../abi/waitqueue';
import type { FileCtx } from '../vfs/ctx';
import type { MaybePromise } from '../vfs/file';
import type { RecvResult, SendRequest, SocketFile } from '../socket/socket';
import { formatSockaddr, isV4, parseSockaddr, type Ip } from './ip/addr';
import { bindAddress } from './bind';
import { Stack } from './stack';
import { Listener } from './tcp/listener';
import { URG_READ, URG_VALID } from './tcp/params';
import { Tcb } from './tcp/tcb';
import { TcpSockoptSocket } from './tcp_sockopt';
import type { TcbOwner } from './tcp/host';
import type { Task } from '../kernel/task';

export class TcpSocket extends TcpSockoptSocket implements TcbOwner {
  /** A non-blocking connect(2) is under way (a second one is EALREADY). */
  private connecting = false;

  /** A socket for a connection a listener accepted: its options are the listener's. */
  static accepted(parent: TcpSocket, c: Tcb, nonblock: number): TcpSocket {
    const s = new TcpSocket(parent.env, parent.family, nonblock);
    for (const k of ['reuseAddr', 'keepalive', 'lingerOn', 'lingerSecs', 'sndbuf', 'rcvbuf', 'sndbufSet', 'rcvbufSet', 'tos', 'ttl', 'nodelay', 'keepIdle', 'keepIntvl', 'keepCnt', 'userMss', 'v6only', 'oobinline'] as const) {
      (s as unknown as Record<string, unknown>)[k] = parent[k];
    }
    s.stamps.inherit(parent.stamps);
    // Its IPv4 options are not the listener's but the SYN's, echoed (what the connection sends: listener.ts).
    s.ipOpts = c.opts.ipOpts;
    s.tcb = c;
    s.tieTo(c.oif);
    c.owner = s;
    c.ino = s.ino;
    s.stampsChanged();
    return s;
  }

  // ------------------------------------------------------------ names

  bind(t: FileCtx, raw: Buffer): void {
    // A bound socket's bind is EINVAL after the family's checks, before a link-local scope ties it (Linux's __inet6_bind).
    const bound = (): boolean => {
      if (this.binding || this.tcb) throw new Errno(E.EINVAL);
      return false;
    };
    const sa = bindAddress(t, this.family, raw, this.v6only, (ip) => this.stack.isOwn(ip), this.env.sysctl.unprivilegedPortStart, (a) => bound() || this.bindLinkLocal(a));
    if (this.binding || this.tcb) throw new Errno(E.EINVAL);
    const b = this.makeBinding(sa.ip, sa.port, t.creds.euid);
    this.stack.tcpPorts.bind(b);
    this.stack.socketBindings.add(b);
    this.binding = b;
  }

  protected override localIp(): Ip {
    return this.tcb ? this.tcb.local : super.localIp();
  }

  peername(): Buffer {
    const c = this.tcb;
    if (!c || c.state === TcpState.SYN_SENT || (c.state === TcpState.CLOSE && c.reset)) throw new Errno(E.ENOTCONN);
    return formatSockaddr(this.family, c.remote, c.rport, this.boundDev);
  }

  // ------------------------------------------------------------ connections

  listen(t: FileCtx, backlog: number): void {
    if (this.tcb) throw new Errno(this.tcb.state === TcpState.CLOSE ? E.EINVAL : E.EINVAL);
    if (!this.binding) {
      const b = this.makeBinding(this.anyAddr, 0, t.creds.euid);
      this.stack.tcpPorts.bind(b);
      this.stack.socketBindings.add(b);
      this.binding = b;
    }
    const n = backlog >>> 0 > SOMAXCONN ? SOMAXCONN : backlog;
    if (this.listener) {
      this.listener.backlog = n;
      return;
    }
    this.stack.tcpPorts.checkListen(this.binding);
    this.binding.listening = true;
    const stack = this.stack;
    const binding = this.binding;
    this.listener = new Listener(stack, n, this.tcbOptions(), () => this.wake(), (c) => {
      c.uid = binding.uid;
      const cb = { ...binding, ip: c.local, listening: false, forConnect: false, ino: 0 };
      if (!stack.addConn(c, cb)) return false;
      stack.tcpPorts.add(cb);
      return true;
    });
    this.listener.dev = this.boundDev;
    stack.listeners.set(this.binding, this.listener);
  }

  /** SO_BINDTODEVICE after listen(2) or connect(2): the listener's SYNs and the connection's segments follow it. */
  protected override devChanged(): void {
    if (this.listener) this.listener.dev = this.boundDev;
    if (this.tcb) this.tcb.oif = this.boundDev;
  }

  accept(t: FileCtx, nonblock: number): MaybePromise<SocketFile> {
    const l = this.listener;
    if (!l || l.closed) throw new Errno(E.EINVAL);
    const c = l.take();
    if (c) {
      this.wake();
      return TcpSocket.accepted(this, c, nonblock);
    }
    if (!this.nonblocking) {
      return this.wait(t, EVENT_IN, this.rcvTimeoNs).then((ok) => {
        if (!ok) throw new Errno(E.EAGAIN);
        return this.accept(t, nonblock);
      });
    }
    throw new Errno(E.EAGAIN);
  }

  connect(t: FileCtx, raw: Buffer): MaybePromise<void> {
    if (raw.length >= 2 && raw.readUInt16LE(0) === 0) return this.disconnect();
    const sa = parseSockaddr(raw, this.family);
    const old = this.tcb;
    if (old) {
      if (old.state === TcpState.SYN_SENT) throw new Errno(this.connecting ? E.EALREADY : E.EALREADY);
      if (this.connecting) {
        // The outcome of a non-blocking connect, once.
        this.connecting = false;
        if (old.state === TcpState.CLOSE) this.connectFailed(old);
        return;
      }
      if (old.state !== TcpState.CLOSE) throw new Errno(E.EISCONN);
      if (old.reset) throw new Errno(E.EISCONN);
    }
    if (this.listener) throw new Errno(E.EISCONN);
    this.checkFamily(sa.ip);
    this.connectScope(sa);
    const dst = Stack.destination(sa.ip);
    const stack = this.stack;
    const oif = this.boundDev;
    const local = stack.localFor(this.binding ? this.binding.ip : this.anyAddr, dst, oif);
    if (isV4(local) !== isV4(dst)) throw new Errno(E.ENETUNREACH);
    let b = this.binding;
    if (!b) {
      b = this.makeBinding(this.anyAddr, 0, t.creds.euid);
      stack.tcpPorts.bindForConnect(b, (port) => stack.tupleFree(local, port, dst, sa.port));
      stack.socketBindings.add(b);
      this.binding = b;
    } else if (!stack.tupleFree(local, b.port, dst, sa.port)) {
      throw new Errno(E.EADDRNOTAVAIL);
    }
    const c = new Tcb(stack, local, b.port, dst, sa.port, isV4(dst), this.tcbOptions(), stack.route(dst, oif).nic.mtu);
    c.oif = oif;
    c.owner = this;
    c.ino = this.ino;
    c.uid = t.creds.euid;
    if (!stack.addConn(c, b)) {
      c.released();
      throw new Errno(E.EADDRNOTAVAIL);
    }
    this.tcb = c;
    this.shut = 0;
    this.stampsChanged();
    c.connect();
    if (this.nonblocking) {
      // Linux answers EINPROGRESS even on loopback: the handshake runs after the call.
      this.connecting = true;
      stack.flush();
      throw new Errno(E.EINPROGRESS);
    }
    stack.flush();
    return this.connectResult(t);
  }

  private connectResult(t: FileCtx): MaybePromise<void> {
    const c = this.tcb as Tcb;
    if (c.state === TcpState.SYN_SENT) {
      if (this.nonblocking) {
        this.connecting = true;
        throw new Errno(E.EINPROGRESS);
      }
      return this.wait(t, EVENT_OUT, this.sndTimeoNs).then(
        (ok) => {
          if (!ok && c.state === TcpState.SYN_SENT) {
            this.connecting = true;
            throw new Errno(E.EINPROGRESS);
          }
          return this.connectResult(t);
        },
        (e: unknown) => {
          // Interrupted: the handshake goes on; the next connect says how it went.
          this.connecting = true;
          throw e;
        },
      );
    }
    if (c.state === TcpState.CLOSE) this.connectFailed(c);
  }

  /**
   * A connect that failed is reported (its error, once) and the socket is
   * unconnected again, so another connect(2) may start (Linux's
   * inet_stream_connect: SS_UNCONNECTED after the error); a connection that
   * was established and then reset stays, and a connect on it is EISCONN.
   */
  private connectFailed(c: Tcb): never {
    const e = this.takeError() || E.ECONNREFUSED;
    if (this.tcb === c) {
      c.released();
      this.tcb = null;
    }
    throw new Errno(e);
  }

  /** connect(AF_UNSPEC): drop the association (a reset for a connection). */
  private disconnect(): void {
    const c = this.tcb;
    if (c && c.state !== TcpState.CLOSE) c.abort();
    this.stack.flush();
    this.tcb = null;
    this.connecting = false;
  }

  shutdown(how: number): void {
    if (how < 0 || how > SHUT_RDWR) throw new Errno(E.EINVAL);
    const mode = how + 1;
    if (this.listener) {
      if (mode & RCV_SHUTDOWN) this.closeListener();
      return;
    }
    const c = this.tcb;
    if (!c || c.state === TcpState.SYN_SENT || (c.state === TcpState.CLOSE && !this.shut)) throw new Errno(E.ENOTCONN);
    this.shut |= mode;
    if (mode & SEND_SHUTDOWN) c.shutdownWrite();
    this.stack.flush();
    this.wake();
  }

  private closeListener(): void {
    const l = this.listener;
    if (!l) return;
    l.close();
    if (this.binding) {
      this.binding.listening = false;
      this.stack.listeners.delete(this.binding);
    }
    this.listener = null;
    this.stack.flush();
    this.wake();
  }

  // ------------------------------------------------------------ data

  sendmsg(t: FileCtx, req: SendRequest): MaybePromise<number> {
    return this.sendFrom(t, req, 0);
  }

  private sendFrom(t: FileCtx, req: SendRequest, done: number): MaybePromise<number> {
    const len = req.data.length;
    for (;;) {
      const c = this.tcb;
      // Never connected, or listening: EPIPE and SIGPIPE, as Linux's sk_stream_wait_connect.
      if (!c || this.listener) throw this.brokenPipe(t, req.flags);
      if (c.err) {
        if (done > 0) return done;
        throw new Errno(this.takeError());
      }
      if (c.state === TcpState.SYN_SENT) {
        if (!this.mayBlock(req.flags)) throw new Errno(E.EAGAIN);
        return this.wait(t, EVENT_OUT, this.sndTimeoNs).then(() => this.sendFrom(t, req, done));
      }
      if (this.shut & SEND_SHUTDOWN || !c.canSend) {
        if (done > 0) return done;
        throw this.brokenPipe(t, req.flags);
      }
      if (len === 0) return 0;
      const space = c.sndSpace;
      if (space > 0) {
        const n = Math.min(space, len - done);
        const more = (req.flags & MSG_MORE) !== 0;
        const queued = c.write(req.data.slice(done, n), more, (req.flags & MSG_OOB) !== 0);
        this.stack.flush();
        if (!queued) {
          if (done > 0) return done;
          if (c.sendq.length === 0) throw new Errno(E.ENOBUFS);
        } else {
          done += n;
          if (done >= len) return done;
          continue;
        }
      }
      if (!this.mayBlock(req.flags)) {
        if (done > 0) return done;
        throw new Errno(E.EAGAIN);
      }
      const sofar = done;
      return this.wait(t, EVENT_OUT, this.sndTimeoNs).then(
        (ok) => {
          if (!ok) {
            if (sofar > 0) return sofar;
            throw new Errno(E.EAGAIN);
          }
          return this.sendFrom(t, req, sofar);
        },
        (e: unknown) => {
          if (sofar > 0) return sofar;
          throw e;
        },
      );
    }
  }

  recvmsg(t: FileCtx, len: number, flags: number): MaybePromise<RecvResult> {
    this.readErrQueue(flags);
    if (flags & MSG_OOB) {
      if (this.listener) throw new Errno(E.ENOTCONN);
      return this.recvUrgent(len, flags);
    }
    return this.recvInto(t, len, flags, []);
  }

  /**
   * recv(MSG_OOB): the urgent byte once (MSG_PEEK leaves it), never blocking;
   * EINVAL when there is none to read or it stays in the stream
   * (SO_OOBINLINE), EAGAIN while it is announced but not here yet.
   */
  private recvUrgent(len: number, flags: number): RecvResult {
    const c = this.tcb;
    if (this.oobinline || !c || !c.urgData || c.urgData === URG_READ) throw new Errno(E.EINVAL);
    if (c.state === TcpState.CLOSE && !c.finReceived) throw new Errno(E.ENOTCONN);
    const out = (data: Buffer, n: number, f: number): RecvResult => ({ data, n, flags: f, addr: null, rights: null, cred: null });
    if (c.urgData & URG_VALID) {
      const byte = Buffer.of(c.urgData & 0xff);
      if (!(flags & MSG_PEEK)) c.urgData = URG_READ;
      if (len === 0) return out(Buffer.alloc(0), 0, MSG_OOB | MSG_TRUNC);
      return out(flags & MSG_TRUNC ? Buffer.alloc(0) : byte, 1, MSG_OOB);
    }
    if (c.state === TcpState.CLOSE || this.shut & RCV_SHUTDOWN) return out(Buffer.alloc(0), 0, 0);
    throw new Errno(E.EAGAIN);
  }

  private recvInto(t: FileCtx, len: number, flags: number, parts: Buffer[]): MaybePromise<RecvResult> {
    const c = this.tcb;
    if (this.listener || !c) throw new Errno(E.ENOTCONN);
    const peek = (flags & MSG_PEEK) !== 0;
    let got = 0;
    for (const p of parts) got += p.length;
    const want = flags & MSG_WAITALL && !peek ? len : 1;
    // A read that got something stops at the urgent mark, even with MSG_WAITALL.
    if (c.recvq.length > 0 && got < len && !(got > 0 && c.atMark)) {
      const b = c.read(len - got, peek);
      this.stack.flush();
      parts.push(b);
      got += b.length;
    }
    const result = (): RecvResult => {
      const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
      const stamp = data.length > 0 ? this.stamps.streamRead(c.recvStampNs, () => this.env.realtimeNs()) : null;
      const ts = data.length > 0 ? this.stamps.timestamping(c.recvStampNs) : null;
      const control = [stamp, ts].filter((m) => m !== null);
      // MSG_TRUNC on a stream: the bytes are dropped, not copied (tcp(7)).
      return { data: flags & MSG_TRUNC ? Buffer.alloc(0) : data, n: data.length, flags: 0, addr: null, rights: null, cred: null, control: control.length ? control : undefined };
    };
    if (got >= want || len === 0 || (got > 0 && c.atMark)) return result();
    if (c.state === TcpState.SYN_SENT && !this.mayBlock(flags)) throw new Errno(E.EAGAIN);
    if (c.err) {
      if (got > 0) return result();
      throw new Errno(this.takeError());
    }
    if (c.finReceived || this.shut & RCV_SHUTDOWN || (c.state === TcpState.CLOSE && c.state !== (TcpState.SYN_SENT as number))) return result();
    if (!this.mayBlock(flags)) {
      if (got > 0) return result();
      throw new Errno(E.EAGAIN);
    }
    return this.wait(t, EVENT_IN, this.rcvTimeoNs).then(
      (ok) => {
        if (!ok) {
          if (got > 0) return result();
          throw new Errno(E.EAGAIN);
        }
        return this.recvInto(t, len, flags, parts);
      },
      (e: unknown) => {
        if (got > 0) return result();
        throw e;
      },
    );
  }

  // ------------------------------------------------------------ readiness

  override readiness(mask: number): number {
    let r = 0;
    const c = this.tcb;
    if (this.listener) {
      if (this.listener.acceptQ.length > 0) r |= EVENT_IN | EVENT_RDNORM;
      return r & mask;
    }
    const state = c ? c.state : TcpState.CLOSE;
    const rcvShut = (this.shut & RCV_SHUTDOWN) !== 0 || (c !== null && c.finReceived) || (c !== null && c.state === TcpState.CLOSE);
    const sndShut = (this.shut & SEND_SHUTDOWN) !== 0 || (c !== null && (c.finQueued || c.state === TcpState.CLOSE));
    if ((rcvShut && sndShut) || state === TcpState.CLOSE) r |= EVENT_HUP;
    if (rcvShut && c) r |= EVENT_IN | EVENT_RDNORM | EVENT_RDHUP;
    if (state !== TcpState.SYN_SENT && state !== TcpState.SYN_RECV) {
      // An urgent byte out of band at the head does not make the socket readable by itself.
      if (c && c.recvq.length > (c.atMark && !this.oobinline ? 1 : 0)) r |= EVENT_IN | EVENT_RDNORM;
      if (c && c.urgData & URG_VALID) r |= EVENT_PRI;
      if (!sndShut) {
        if (!c || c.sndSpace >= Math.max(1, c.sendq.length >> 1)) r |= EVENT_OUT | EVENT_WRNORM;
      } else r |= EVENT_OUT | EVENT_WRNORM;
    }
    if (c && c.err) r |= EVENT_ERR;
    return r & (mask | EVENT_ERR | EVENT_HUP);
  }

  override available(): number {
    if (this.listener) throw new Errno(E.EINVAL);
    return this.tcb ? this.tcb.inq : 0;
  }

  /** The connection stamps its arrivals while receive stamps are wanted. */
  protected override stampsChanged(): void {
    if (this.tcb) this.tcb.stampNow = this.stamps.wanted ? () => this.env.realtimeNs() : null;
  }

  override ioctl(t: FileCtx, cmd: number, arg: number): number {
    if (cmd === SIOCOUTQ || cmd === SIOCOUTQNSD) {
      if (this.listener) throw new Errno(E.EINVAL);
      const c = this.tcb;
      const n = !c ? 0 : cmd === SIOCOUTQ ? c.sendq.length : c.sendq.length - Math.min(c.sendq.length, Math.max(0, c.inFlight));
      (t as Task).mm.writeI32(arg, n);
      return 0;
    }
    if (cmd === SIOCATMARK) {
      (t as Task).mm.writeI32(arg, this.tcb && this.tcb.atMark ? 1 : 0);
      return 0;
    }
    // Linux's TCP never sets the time SIOCGSTAMP answers: ENOENT (after turning arrival stamps on).
    if (STAMP_IOCTLS.includes(cmd)) {
      (t as Task).mm.copyOut(arg, this.stamps.ioctl(cmd, () => this.env.realtimeNs()));
      return 0;
    }
    throw new Errno(E.ENOTTY);
  }

  /** The peer marked urgent data: SIGURG to the owner, while the socket is open. */
  urgent(): void {
    if (!this.lingering) this.env.sigurg(this);
  }

  // ------------------------------------------------------------ close

  /** Closed with SO_LINGER and a time: the connection whose FIN close(2) waits to see acknowledged. */
  private lingering: Tcb | null = null;

  protected override release(): void {
    this.closeListener();
    const c = this.tcb;
    const b = this.binding;
    if (b) this.stack.socketBindings.delete(b);
    if (c) {
      c.owner = null;
      if (c.state !== TcpState.CLOSE) {
        c.applicationClose(this.lingerOn && this.lingerSecs === 0);
        if (this.lingerOn && this.lingerSecs !== 0 && closing(c.state)) {
          // Only to wake the waiting close: the connection is an orphan all the same.
          c.owner = this;
          this.lingering = c;
        }
      } else c.released();
      // The binding now goes with the connection (TIME_WAIT keeps the port), or now if it is gone.
      if (b && c.state === TcpState.CLOSE) this.stack.tcpPorts.remove(b);
    } else if (b) {
      this.stack.tcpPorts.remove(b);
    }
    this.tcb = null;
    this.stack.flush();
    super.release();
  }

  /**
   * SO_LINGER with a time: the close(2) that released the socket returns once
   * the peer acknowledged everything and the FIN, the time ran out, or a
   * signal came (close still succeeds); the connection goes on in the
   * background either way, as on Linux. A negative time waits for ever.
   */
  override closeWait(t: FileCtx): Promise<void> | null {
    const c = this.lingering;
    if (!c) return null;
    const deadline = this.lingerSecs > 0 ? this.env.nowNs() + this.lingerSecs * 1e9 : undefined;
    const done = (): void => {
      if (c.owner === this) c.owner = null;
      this.lingering = null;
    };
    const loop = async (): Promise<void> => {
      while (closing(c.state)) {
        await t.block(this, ALL_EVENTS, deadline);
        if (deadline !== undefined && this.env.nowNs() >= deadline) return;
      }
    };
    return loop().then(done, done);
  }
}

/** The states in which a closed connection still waits for its FIN to be acknowledged (Linux's sk_stream_closing). */
const closing = (s: TcpState): boolean => s === TcpState.FIN_WAIT1 || s === TcpState.CLOSING || s === TcpState.LAST_ACK;
