// Host-mode inet sockets (--network=host), as runsc's hostinet: an AF_INET or
// AF_INET6 socket of the application is a non-blocking host socket the Sentry
// made and owns. Every argument is checked here first (addresses, option
// names and lengths, flags) and only then handed to the host; control
// messages cross on datagram sockets through cmsg.ts's allowlist only (never
// SCM_RIGHTS or credentials, either way). A call that would block parks
// only the calling task: it waits for the host fd's readiness through the
// platform's event service (an edge-triggered watch armed while anyone
// waits, as for donated host fds) and is interrupted by signals like any
// other blocking call.
import { IPV6_RECVDSTOPTS, IPV6_RECVHOPOPTS, IPV6_RECVRTHDR, STAMP_IOCTLS, SIOCATMARK, SO_LINGER, SO_BINDTODEVICE, SO_BINDTOIFINDEX, SO_TIMESTAMPING_NEW, SO_TIMESTAMPING_OLD, TIMESTAMP_OPTIONS } from '../../abi/inet';
import { Errno, E, ERESTARTSYS } from '../../abi/errno';
import {
  MSG_CTRUNC, MSG_DONTWAIT, MSG_NOSIGNAL, MSG_OOB, MSG_PEEK, MSG_TRUNC, MSG_WAITALL, SHUT_RDWR, SOCK_STREAM, SOL_SOCKET,
  SO_ERROR,
} from '../../abi/socket';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_PRI, EVENT_RDHUP, EVENT_RDNORM, EVENT_WRNORM, type Waiter } from '../../abi/waitqueue';
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDHUP } from '../../abi/poll';
import { O_NONBLOCK } from '../../abi/fs';
import { SIOCOUTQ } from '../../abi/netif';
import { HOST_IN, HOST_OUT, HOST_PRI, HostWatchError, type HostEvents, type HostWatch } from '../../platform/platform';
import * as hs from '../../host/hostsocket';
import type { HostSocketBudget } from '../../kernel/netinfo';
import type { FileCtx } from '../../vfs/ctx';
import type { PseudoFs } from '../../vfs/numbering';
import type { MaybePromise } from '../../vfs/file';
import { SocketFile, type Cmsg, type RecvResult, type SendRequest } from '../socket';
import { optionSpec, PASS_OPTIONS, SOL_IPV6, SO_RCVTIMEO, SO_SNDTIMEO } from './options';
import { checkAddr, isV4Sockaddr } from './addr';
import { appRecvControl, hostSendControl, RECV_CONTROL_ROOM, RECV_CONTROL_ROOM_EXT } from './cmsg';
import { EXT_HDRS, stickyHeader } from './exthdr';
import { HostLinger } from './linger';
import { deviceIndex, deviceName, newDevice } from '../bindtodevice';

const MSG_DONTROUTE = 0x4, MSG_EOR = 0x80, MSG_CONFIRM = 0x800, MSG_ERRQUEUE = 0x2000, MSG_MORE = 0x8000;
/** Flags the host is given; others are dropped (Linux ignores what a protocol does not use). */
const SEND_FLAGS = MSG_OOB | MSG_DONTROUTE | MSG_EOR | MSG_CONFIRM | MSG_MORE;
const RECV_FLAGS = MSG_OOB | MSG_PEEK | MSG_TRUNC;
/** The most one host call moves: a stream send or receive of more goes round again. */
const CHUNK = 1 << 20;
const SIOCOUTQNSD = 0x894b;
/** IPV6_RECVHOPOPTS, IPV6_RECVRTHDR, IPV6_RECVDSTOPTS. */
const RECV_EXT_OPTIONS = [IPV6_RECVHOPOPTS, IPV6_RECVRTHDR, IPV6_RECVDSTOPTS];

/** What a host-mode socket needs from the sandbox. */
export interface HostinetEnv {
  readonly sockfs: PseudoFs;
  /** The platform's event service; null (unit tests) cannot wait. */
  readonly events: HostEvents | null;
  readonly budget: HostSocketBudget;
}

/** The ioctls' view of a task's memory (Task.mm satisfies it). */
interface MemCtx extends FileCtx {
  mm: { writeI32(addr: number, v: number): void; copyOut(addr: number, b: Buffer): void };
}

function toEvents(revents: number): number {
  let r = 0;
  if (revents & POLLIN) r |= EVENT_IN | EVENT_RDNORM;
  if (revents & POLLPRI) r |= EVENT_PRI;
  if (revents & POLLOUT) r |= EVENT_OUT | EVENT_WRNORM;
  if (revents & POLLRDHUP) r |= EVENT_RDHUP;
  if (revents & (POLLERR | POLLNVAL)) r |= EVENT_ERR;
  if (revents & POLLHUP) r |= EVENT_HUP;
  return r;
}

function fail(r: number): never {
  throw new Errno(-r);
}

export class HostInetSocket extends SocketFile {
  private watch: HostWatch | null = null;
  private watchEvents = -1;
  /** A blocking connect under way (its restart finishes it). */
  private connecting = false;
  /** SO_RCVTIMEO and SO_SNDTIMEO in ns (0: none), kept here: the host socket never blocks. */
  private rcvTimeoNs = 0;
  private sndTimeoNs = 0;
  private closed = false;
  /** A stream socket with a receive timestamp option on: reads take the host's control data. */
  private streamStamps = false;
  /** SO_TIMESTAMPING's flags: a stream's reads also take the host's control data while they are not 0. */
  private tsFlags = 0;
  /** Room for a datagram's control data: more once IPv6 extension headers were asked for. */
  private controlRoom = RECV_CONTROL_ROOM;
  /** SO_LINGER, kept here (linger.ts). */
  private readonly linger = new HostLinger();
  /** Released with a linger time: the host fd stays open for the close(2) that waits (closeWait), if one claims it. */
  private lingerPending = false;

  /** A new host socket; the type's flags are the caller's to apply. */
  static create(env: HostinetEnv, family: number, type: number, protocol: number, nonblock: number): HostInetSocket {
    env.budget.take();
    const fd = hs.socket(family, type, protocol);
    if (fd < 0) {
      env.budget.give();
      fail(fd);
    }
    return new HostInetSocket(env, family, type, protocol, nonblock, fd);
  }

  private constructor(
    private readonly env: HostinetEnv, family: number, type: number, protocol: number, nonblock: number, private readonly fd: number,
    /** The peer's address from the host's accept (a reset peer has no name later). */
    private readonly acceptAddr: Buffer | null = null,
  ) {
    super(family, type, protocol, nonblock, env.sockfs);
  }

  override acceptedPeer(): Buffer {
    return this.acceptAddr ?? this.peername();
  }

  private get stream(): boolean {
    return this.type === SOCK_STREAM;
  }
  private get nonblocking(): boolean {
    return (this.flags & O_NONBLOCK) !== 0;
  }

  // ------------------------------------------------------------ readiness

  override eventRegister(w: Waiter): void {
    this.queue.add(w);
    this.updateWatch();
  }

  override eventUnregister(w: Waiter): void {
    this.queue.remove(w);
    this.updateWatch();
  }

  /** A watch of the host fd while anyone waits, edge-triggered: waiters check readiness after registering. */
  private updateWatch(): void {
    const mask = this.queue.mask();
    let ev = -1;
    if (mask !== 0 && this.env.events && !this.closed) {
      ev = 0;
      if (mask & (EVENT_IN | EVENT_RDNORM | EVENT_RDHUP)) ev |= HOST_IN;
      if (mask & (EVENT_OUT | EVENT_WRNORM)) ev |= HOST_OUT;
      if (mask & EVENT_PRI) ev |= HOST_PRI;
    }
    if (ev === this.watchEvents) return;
    this.disarm();
    if (ev === -1 || !this.env.events) return;
    try {
      this.watch = this.env.events.watch(this.fd, ev, (rev) => this.queue.notify(toEvents(rev)), { edge: true });
      this.watchEvents = ev;
    } catch (e) {
      if (!(e instanceof HostWatchError)) throw e;
    }
  }

  private disarm(): void {
    if (this.watch && this.env.events) this.env.events.unwatch(this.watch);
    this.watch = null;
    this.watchEvents = -1;
  }

  override readiness(mask: number): number {
    return toEvents(hs.poll(this.fd, POLLIN | POLLPRI | POLLOUT | POLLRDHUP)) & (mask | EVENT_ERR | EVENT_HUP);
  }

  /**
   * Wait until the host fd has ev (or an error or hang-up); EAGAIN when the
   * caller must not wait or the timeout (ns, 0: none) passes.
   */
  private async waitFor(t: FileCtx, ev: number, nonblock: boolean, timeoutNs: number, deadline?: number): Promise<number | undefined> {
    if (nonblock || !this.env.events) throw new Errno(E.EAGAIN);
    const d = deadline ?? (timeoutNs > 0 ? Number(process.hrtime.bigint()) + timeoutNs : undefined);
    if (this.readiness(ev) !== 0) return d;
    let got: number;
    try {
      got = await t.block(this, ev | EVENT_ERR | EVENT_HUP, d);
    } catch (e) {
      // Linux restarts an interrupted socket call only when it has no timeout (sock_intr_errno).
      if (e instanceof Errno && e.errno === ERESTARTSYS && timeoutNs > 0) throw new Errno(E.EINTR);
      throw e;
    }
    if (got === 0 && d !== undefined) throw new Errno(E.EAGAIN);
    return d;
  }

  // ---------------------------------------------------------------- names

  bind(_t: FileCtx, addr: Buffer): void {
    const sa = checkAddr(this.family, addr, 'bind');
    const r = sa ? hs.bind(this.fd, sa) : -E.EINVAL;
    if (r < 0) fail(r);
  }

  listen(_t: FileCtx, backlog: number): void {
    if (!this.stream) throw new Errno(E.EOPNOTSUPP);
    const r = hs.listen(this.fd, backlog);
    if (r < 0) fail(r);
  }

  async accept(t: FileCtx, nonblock: number): Promise<SocketFile> {
    let deadline: number | undefined;
    for (;;) {
      this.env.budget.take();
      const c = hs.accept(this.fd);
      if (c.fd >= 0) {
        const s = new HostInetSocket(this.env, this.family, this.type, this.protocol, nonblock, c.fd, c.addr);
        s.linger.copyFrom(this.linger);
        // The host's accepted socket inherits the listener's stamp flags, so its reads ask for them too.
        s.streamStamps = this.streamStamps;
        s.tsFlags = this.tsFlags;
        return s;
      }
      this.env.budget.give();
      if (c.fd !== -E.EAGAIN && c.fd !== -E.EINTR) fail(c.fd);
      deadline = await this.waitFor(t, EVENT_IN, this.nonblocking, this.rcvTimeoNs, deadline);
    }
  }

  connect(t: FileCtx, addr: Buffer): MaybePromise<void> {
    const sa = checkAddr(this.family, addr, this.stream ? 'connect' : 'dconnect');
    const r = sa ? hs.connect(this.fd, sa) : -E.EINVAL;
    if (r === 0) return;
    if (r === -E.EISCONN && this.connecting) {
      // A blocking connect interrupted and restarted after the host finished it.
      this.connecting = false;
      return;
    }
    if (r !== -E.EINPROGRESS && r !== -E.EALREADY) fail(r);
    if (this.nonblocking) fail(r);
    this.connecting = true;
    return this.finishConnect(t);
  }

  private async finishConnect(t: FileCtx): Promise<void> {
    try {
      await this.waitFor(t, EVENT_OUT, false, this.sndTimeoNs);
    } catch (e) {
      // Linux: a connect whose send timeout passes reports EINPROGRESS.
      if (e instanceof Errno && e.errno === E.EAGAIN) throw new Errno(E.EINPROGRESS);
      throw e;
    }
    this.connecting = false;
    const v = hs.getsockopt(this.fd, SOL_SOCKET, SO_ERROR, 4);
    if (typeof v === 'number') fail(v);
    const err = v.readInt32LE(0);
    if (err) throw new Errno(err);
  }

  shutdown(how: number): void {
    if (how < 0 || how > SHUT_RDWR) throw new Errno(E.EINVAL);
    const r = hs.shutdown(this.fd, how);
    if (r < 0) fail(r);
  }

  sockname(): Buffer {
    const r = hs.name(this.fd, false);
    return typeof r === 'number' ? fail(r) : r;
  }

  peername(): Buffer {
    const r = hs.name(this.fd, true);
    return typeof r === 'number' ? fail(r) : r;
  }

  // ----------------------------------------------------------------- data

  async sendmsg(t: FileCtx, req: SendRequest): Promise<number> {
    // SCM_RIGHTS and SCM_CREDENTIALS mean nothing on an inet socket: Linux ignores them, and nothing reaches the host.
    if (req.rights) for (const f of req.rights) f.decRef();
    req.rights = null;
    // A stream socket ignores a destination (no fast open); a datagram's is checked like connect's.
    const sa = req.addr && req.addr.length > 0 && !this.stream ? checkAddr(this.family, req.addr, 'sendto') : null;
    // TCP takes no IP-level control messages (Linux ignores them there), only SO_TIMESTAMPING's flags (on every host call of a long write, where Linux marks the last segment only).
    const ctl = hostSendControl(this.family, this.stream, req.control, () => this.toV4(sa), t.creds);
    const nonblock = this.nonblocking || (req.flags & MSG_DONTWAIT) !== 0;
    const flags = (req.flags & SEND_FLAGS) | MSG_DONTWAIT | MSG_NOSIGNAL;
    const total = req.data.length;
    if (!this.stream && total > CHUNK) throw new Errno(E.EMSGSIZE);
    let done = 0;
    let deadline: number | undefined;
    do {
      const n = Math.min(total - done, CHUNK);
      const chunk = req.data.slice(done, n);
      const r = ctl ? hs.sendmsg(this.fd, chunk, flags, sa, ctl) : hs.sendto(this.fd, chunk, flags, sa);
      if (r >= 0) {
        done += r;
        if (!this.stream) return r;
        continue;
      }
      if (r === -E.EINTR) continue;
      if (r === -E.EAGAIN) {
        if (done > 0 && nonblock) return done;
        try {
          deadline = await this.waitFor(t, EVENT_OUT, nonblock, this.sndTimeoNs, deadline);
        } catch (e) {
          if (done > 0) return done; // interrupted or timed out after some was sent: the count
          throw e;
        }
        continue;
      }
      if (done > 0) return done;
      if (r === -E.EPIPE) throw this.brokenPipe(t, req.flags);
      fail(r);
    } while (done < total);
    return done;
  }

  /** Whether a datagram to sa (null: the connected peer) goes to an IPv4 address, a mapped one included; null with no peer. */
  private toV4(sa: Buffer | null): boolean | null {
    const to = sa ?? hs.name(this.fd, true);
    if (typeof to === 'number') return null;
    return isV4Sockaddr(to);
  }

  async recvmsg(t: FileCtx, len: number, flags: number): Promise<RecvResult> {
    if (flags & MSG_ERRQUEUE) return this.recvErrQueue(len);
    const nonblock = this.nonblocking || (flags & MSG_DONTWAIT) !== 0;
    const hostFlags = (flags & RECV_FLAGS) | MSG_DONTWAIT | (this.stream ? 0 : MSG_TRUNC);
    const waitall = this.stream && (flags & (MSG_WAITALL | MSG_PEEK)) === MSG_WAITALL && !nonblock;
    if (this.stream && flags & MSG_OOB) {
      // Urgent data: one call, never waited for (Linux says EAGAIN while it is announced, not here); the flags as tcp_recv_urg sets them.
      const buf = Buffer.alloc(Math.min(len, 1));
      const r = hs.recvfrom(this.fd, buf, hostFlags);
      if (r.n < 0) fail(r.n);
      return { data: flags & MSG_TRUNC ? Buffer.alloc(0) : buf.subarray(0, r.n), n: r.n, flags: r.n > 0 || len === 0 ? MSG_OOB | (len === 0 ? MSG_TRUNC : 0) : 0, addr: null, rights: null, cred: null };
    }
    const parts: Buffer[] = [];
    let got = 0;
    let deadline: number | undefined;
    /** A stream's stamp: the last chunk's, as Linux gives the last segment's. */
    let streamControl: Cmsg[] | undefined;
    for (;;) {
      const room = this.stream ? Math.min(len - got, CHUNK) : Math.min(len, CHUNK);
      const buf = Buffer.allocUnsafe(room);
      // A datagram comes with the control messages its options asked for (cmsg.ts); a stream's never do.
      const r = this.stream && !this.streamStamps ? { ...hs.recvfrom(this.fd, buf, hostFlags), control: null, flags: 0 } : hs.recvmsg(this.fd, buf, hostFlags, this.controlRoom);
      if (r.n >= 0) {
        if (!this.stream) {
          const n = Math.min(r.n, room);
          const trunc = r.n > room;
          const control = r.control ? appRecvControl(r.control) : undefined;
          return { data: buf.subarray(0, n), n: flags & MSG_TRUNC ? r.n : n, flags: (trunc ? MSG_TRUNC : 0) | (r.flags & MSG_CTRUNC), addr: r.addr.length ? r.addr : null, rights: null, cred: null, control };
        }
        // MSG_TRUNC on a stream discards the bytes: nothing is copied out.
        if (!(flags & MSG_TRUNC)) parts.push(buf.subarray(0, r.n));
        if (r.n > 0 && r.control) streamControl = appRecvControl(r.control);
        got += r.n;
        if (r.n === 0 || !waitall || got >= len) break;
        continue;
      }
      if (r.n === -E.EINTR) continue;
      if (r.n !== -E.EAGAIN || got > 0 && !waitall) {
        if (got > 0) break;
        fail(r.n);
      }
      try {
        deadline = await this.waitFor(t, EVENT_IN, nonblock, this.rcvTimeoNs, deadline);
      } catch (e) {
        if (got > 0) break;
        throw e;
      }
    }
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    return { data, n: got, flags: 0, addr: null, rights: null, cred: null, control: streamControl };
  }

  /**
   * An error queue entry (IP_RECVERR, SO_TIMESTAMPING's send stamps): its
   * bytes and the control messages cmsg.ts lets through (the extended
   * error, the stamps), never waited for.
   */
  private recvErrQueue(len: number): RecvResult {
    const buf = Buffer.allocUnsafe(Math.min(len, CHUNK));
    const r = hs.recvmsg(this.fd, buf, MSG_ERRQUEUE | MSG_DONTWAIT, this.controlRoom);
    if (r.n < 0) fail(r.n);
    const n = Math.min(r.n, buf.length);
    const control = appRecvControl(r.control, true);
    return { data: buf.subarray(0, n), n, flags: MSG_ERRQUEUE | (r.flags & MSG_CTRUNC) | (r.n > n || r.flags & MSG_TRUNC ? MSG_TRUNC : 0), addr: r.addr.length ? r.addr : null, rights: null, cred: null, control };
  }

  // -------------------------------------------------------------- options

  getsockopt(_t: FileCtx, level: number, name: number): Buffer {
    if (level === SOL_SOCKET && (name === SO_RCVTIMEO || name === SO_SNDTIMEO)) {
      const ns = name === SO_RCVTIMEO ? this.rcvTimeoNs : this.sndTimeoNs;
      const b = Buffer.alloc(16);
      b.writeBigInt64LE(BigInt(Math.floor(ns / 1e9)), 0);
      b.writeBigInt64LE(BigInt(Math.floor((ns % 1e9) / 1e3)), 8);
      return b;
    }
    if (level === SOL_SOCKET && PASS_OPTIONS.has(name)) throw new Errno(E.EOPNOTSUPP);
    if (level === SOL_SOCKET && name === SO_LINGER) return this.linger.get();
    const spec = optionSpec(level, name, this.family, this.stream);
    if (!spec || !spec.get) throw new Errno(E.ENOPROTOOPT);
    const r = hs.getsockopt(this.fd, level, name, spec.max);
    return typeof r === 'number' ? fail(r) : r;
  }

  setsockopt(t: FileCtx, level: number, name: number, val: Buffer): void {
    if (level === SOL_SOCKET && (name === SO_BINDTODEVICE || name === SO_BINDTOIFINDEX)) return this.setDevice(t, name, val);
    if (level === SOL_SOCKET && (name === SO_RCVTIMEO || name === SO_SNDTIMEO)) {
      if (val.length < 16) throw new Errno(E.EINVAL);
      const sec = Number(val.readBigInt64LE(0));
      const usec = Number(val.readBigInt64LE(8));
      if (usec < 0 || usec >= 1e6) throw new Errno(E.EDOM);
      // 0 is no timeout; a negative time one that has passed at once (Linux's reading).
      const ns = sec < 0 ? 1 : sec * 1e9 + usec * 1e3;
      if (name === SO_RCVTIMEO) this.rcvTimeoNs = ns;
      else this.sndTimeoNs = ns;
      return;
    }
    if (level === SOL_SOCKET && PASS_OPTIONS.has(name)) throw new Errno(val.length < 4 ? E.EINVAL : E.EOPNOTSUPP);
    if (level === SOL_SOCKET && name === SO_LINGER) val = this.linger.set(val);
    const spec = optionSpec(level, name, this.family, this.stream);
    if (!spec || !spec.set) throw new Errno(E.ENOPROTOOPT);
    if (val.length < spec.min || (spec.strict && val.length > spec.max)) throw new Errno(E.EINVAL);
    const ext = level === SOL_IPV6 && EXT_HDRS.has(name);
    const r = hs.setsockopt(this.fd, level, name, ext ? stickyHeader(t.creds, name, val) : Buffer.from(val.subarray(0, spec.max)));
    if (r < 0) fail(r);
    if (level === SOL_IPV6 && RECV_EXT_OPTIONS.includes(name)) this.controlRoom = RECV_CONTROL_ROOM_EXT;
    // A stream's reads then ask the host for control data: the stamp of what they read (cmsg.ts lets only it through).
    if (level === SOL_SOCKET && TIMESTAMP_OPTIONS.includes(name)) this.streamStamps = val.readInt32LE(0) !== 0 || this.tsFlags !== 0;
    if (level === SOL_SOCKET && (name === SO_TIMESTAMPING_OLD || name === SO_TIMESTAMPING_NEW)) {
      this.tsFlags = val.readInt32LE(0);
      this.streamStamps ||= this.tsFlags !== 0;
    }
  }

  /**
   * SO_BINDTODEVICE and SO_BINDTOIFINDEX: the value checked as the Sentry's
   * stack checks it (socket/bindtodevice.ts), the application's CAP_NET_RAW
   * for a change of a socket tied already, then the host's own table says
   * whether the interface exists. The host socket gets a fresh value: the
   * name with its NUL, or the index.
   */
  private setDevice(t: FileCtx, name: number, val: Buffer): void {
    const cur = hs.getsockopt(this.fd, SOL_SOCKET, SO_BINDTOIFINDEX, 4);
    const current = typeof cur === 'number' ? fail(cur) : cur.readInt32LE(0);
    let value: Buffer;
    if (name === SO_BINDTOIFINDEX) {
      const b = Buffer.alloc(4);
      b.writeInt32LE(newDevice(t.creds, current, deviceIndex(val)), 0);
      value = b;
    } else {
      const dev = deviceName(val);
      newDevice(t.creds, current, 0);
      value = Buffer.from(dev + '\0', 'latin1');
    }
    const r = hs.setsockopt(this.fd, SOL_SOCKET, name, value);
    if (r < 0) fail(r);
  }

  // --------------------------------------------------------------- ioctls

  override available(): number {
    const r = hs.ioctlInt(this.fd, 0x541b);
    return r < 0 ? fail(r) : r;
  }

  override ioctl(t: FileCtx, cmd: number, arg: number): number {
    if (STAMP_IOCTLS.includes(cmd)) {
      // The host's answer for its socket: the time of the last datagram read (16 bytes in every form on x86-64).
      const r = hs.ioctlOut(this.fd, cmd, 16);
      if (typeof r === 'number') fail(r);
      else (t as MemCtx).mm.copyOut(arg, r);
      return 0;
    }
    if (cmd !== SIOCOUTQ && cmd !== SIOCOUTQNSD && cmd !== SIOCATMARK) throw new Errno(E.ENOTTY);
    const r = hs.ioctlInt(this.fd, cmd);
    if (r < 0) fail(r);
    (t as MemCtx).mm.writeI32(arg, r);
    return 0;
  }

  protected override release(): void {
    this.closed = true;
    this.disarm();
    if (this.stream && this.linger.begin(this.fd)) {
      // Only close(2) waits (closeWait, called at once after this); any other release (an exit, dup2) does not.
      this.lingerPending = true;
      queueMicrotask(() => {
        if (this.lingerPending) this.closeHost();
      });
      return;
    }
    this.closeHost();
  }

  private closeHost(): void {
    this.lingerPending = false;
    hs.close(this.fd);
    this.env.budget.give();
  }

  override closeWait(t: FileCtx): Promise<void> | null {
    if (!this.lingerPending) return null;
    this.lingerPending = false;
    return this.linger.wait(t, this.fd, this.queue).finally(() => this.closeHost());
  }
}

