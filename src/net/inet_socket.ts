// What TCP and UDP sockets of AF_INET and AF_INET6 share: the bound name, the
// SOL_SOCKET, IPPROTO_IP and IPPROTO_IPV6 options (as Linux stores and
// reports them), the timeouts of blocking calls, and the way a blocking call
// waits (interruptibly, until SO_RCVTIMEO/SO_SNDTIMEO).
import { RecvStamps } from '../socket/timestamp';
import { MSG_ERRQUEUE, SO_TIMESTAMPING_NEW, SO_TIMESTAMPING_OLD, TIMESTAMP_OPTIONS } from '../abi/inet';
import { Errno, E } from '../abi/errno';
import { AF_INET, AF_INET6, SOL_SOCKET, SO_ACCEPTCONN, SO_DOMAIN, SO_ERROR, SO_PASSCRED, SO_PASSPIDFD, SO_PASSSEC, SO_PROTOCOL, SO_RCVBUF, SO_REUSEADDR, SO_SNDBUF, SO_TYPE, RMEM_MAX, SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF, WMEM_MAX, MSG_DONTWAIT } from '../abi/socket';
import {
  CAP_NET_RAW, IPPROTO_IP, IPPROTO_IPV6, IPV6_PKTINFO, IPV6_TCLASS, IP_OPTIONS, IP_PKTINFO, IP_RECVERR, IP_RECVOPTS, IP_RECVRETOPTS, IP_RECVORIGDSTADDR, IP_RECVTOS, IP_RECVTTL, IPV6_RECVERR, IPV6_UNICAST_HOPS, IPV6_V6ONLY, IP_TOS, IP_TTL, SO_BROADCAST, SO_KEEPALIVE, SO_LINGER, SO_OOBINLINE,
  SO_BINDTODEVICE, SO_BINDTOIFINDEX, SO_PRIORITY, SO_RCVLOWAT, SO_RCVTIMEO_NEW, SO_RCVTIMEO_OLD, SO_REUSEPORT, SO_SNDTIMEO_NEW, SO_SNDTIMEO_OLD,
} from '../abi/inet';
import { O_NONBLOCK } from '../abi/fs';
import { ALL_EVENTS } from '../abi/waitqueue';
import type { FileCtx } from '../vfs/ctx';
import { SocketFile } from '../socket/socket';
import { ANY4, ANY6, formatSockaddr, isLinkLocal, isV4, type Ip, type SockAddr } from './ip/addr';
import { deviceIndex, deviceName, deviceNameValue, newDevice } from '../socket/bindtodevice';
import type { Binding } from './ports';
import { parseIn6Pktinfo } from './pktinfo';
import { compileUser, firstHop, wireOptions } from './ip/ipopts';
import { hasCapability } from '../auth/creds';
import type { Stack } from './stack';
import type { PseudoFs } from '../vfs/numbering';
import type { NetSysctl } from '../kernel/netinfo';

/** The IPPROTO_IP options that ask for control messages with each datagram. */
const IP_RECV_OPTS = [IP_PKTINFO, IP_RECVTTL, IP_RECVTOS, IP_RECVOPTS, IP_RECVRETOPTS, IP_RECVORIGDSTADDR];

/** The heap a socket object costs (estimated), beyond its connection and queues. */
export const INET_SOCKET_COST = 2048;

/** What an inet socket needs from its sandbox. */
export interface InetEnv {
  readonly stack: Stack;
  readonly sockfs: PseudoFs;
  /** The network sysctls bind(2) obeys. */
  readonly sysctl: NetSysctl;
  /** Monotonic ns, for the deadlines of SO_RCVTIMEO and SO_SNDTIMEO. */
  nowNs(): number;
  /** Realtime ns (to a double's 256 ns), for receive timestamps. */
  realtimeNs(): number;
  /** SIGURG to the owner of f (fcntl F_SETOWN), if it has one. */
  sigurg(f: SocketFile): void;
}

export const int32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return b;
};

export function readInt(val: Buffer): number {
  if (val.length < 4) throw new Errno(E.EINVAL);
  return val.readInt32LE(0);
}

export abstract class InetSocket extends SocketFile {
  binding: Binding | null = null;
  /** SO_TIMESTAMP and its kin, and SIOCGSTAMP's last time (datagram sockets give them; TCP keeps the options only). */
  readonly stamps = new RecvStamps();
  reuseAddr = false;
  reusePort = false;
  keepalive = false;
  lingerOn = false;
  lingerSecs = 0;
  sndbuf: number;
  rcvbuf: number;
  /** Set by the application (else the stack sizes the buffers itself, as Linux's autotuning). */
  sndbufSet = false;
  rcvbufSet = false;
  rcvTimeoNs = 0;
  sndTimeoNs = 0;
  tos = 0;
  ttl = -1;
  v6only = false;
  broadcast = false;
  oobinline = false;
  priority = 0;
  rcvlowat = 1;
  /** sk_shutdown: RCV_SHUTDOWN, SEND_SHUTDOWN. */
  shut = 0;
  protected charged = 0;

  constructor(readonly env: InetEnv, family: number, type: number, protocol: number, nonblock: number, sndbuf: number, rcvbuf: number) {
    super(family, type, protocol, nonblock, env.sockfs);
    this.sndbuf = sndbuf;
    this.rcvbuf = rcvbuf;
    env.stack.heap?.charge(INET_SOCKET_COST, E.ENOBUFS);
    this.charged = INET_SOCKET_COST;
  }

  get stack(): Stack {
    return this.env.stack;
  }
  get nonblocking(): boolean {
    return (this.flags & O_NONBLOCK) !== 0;
  }
  mayBlock(flags: number): boolean {
    return !this.nonblocking && !(flags & MSG_DONTWAIT);
  }
  wake(): void {
    this.queue.notify(ALL_EVENTS);
  }

  /** The address a bind(2) or connect(2) names, checked for this socket's family. */
  protected checkFamily(ip: Ip): void {
    if (this.family === AF_INET6 && this.v6only && isV4(ip)) throw new Errno(E.ENETUNREACH);
  }

  /** The wildcard of this socket's family. */
  get anyAddr(): Ip {
    return this.family === AF_INET ? ANY4 : ANY6;
  }

  /**
   * Wait for mask on this socket, at most until the timeout of this kind of
   * call; resolves false when the timeout passed. A signal rejects (EINTR or
   * a restart, as the caller's SA_RESTART says).
   */
  protected async wait(t: FileCtx, mask: number, timeoNs: number): Promise<boolean> {
    const deadline = timeoNs > 0 ? this.env.nowNs() + timeoNs : undefined;
    const ev = await t.block(this, mask, deadline);
    return !(ev === 0 && deadline !== undefined && this.env.nowNs() >= deadline);
  }

  sockname(): Buffer {
    const b = this.binding;
    return formatSockaddr(this.family, this.localIp(), b ? b.port : 0, this.dev);
  }

  // ------------------------------------------------------------ the interface

  /** sk_bound_dev_if: the index of the interface the socket is tied to (SO_BINDTODEVICE, SO_BINDTOIFINDEX, a link-local bind or connect), 0: none. */
  private dev = 0;

  get boundDev(): number {
    return this.dev;
  }

  /** Tie the socket to the interface of index i (0: untie); the protocol's state follows (devChanged). */
  protected tieTo(i: number): void {
    this.dev = i;
    this.devChanged();
  }

  /** The socket's interface changed: what the protocol keeps of it (an endpoint's filter, a connection's route) follows. */
  protected devChanged(): void {}

  /**
   * bind(2) of a link-local address (RFC 4007), before its address is
   * checked: the scope id ties the socket to its interface (even when the
   * bind then fails, as Linux's inet6_bind); without one nor a tied socket
   * EINVAL, an unknown interface ENODEV, an address not on it EADDRNOTAVAIL.
   * Whether sa was such an address.
   */
  protected bindLinkLocal(sa: SockAddr): boolean {
    if (sa.family !== AF_INET6 || !isLinkLocal(sa.ip)) return false;
    if (sa.scope) this.tieTo(sa.scope);
    if (!this.dev) throw new Errno(E.EINVAL);
    const nic = this.stack.nicByIndex(this.dev);
    if (!nic) throw new Errno(E.ENODEV);
    if (!this.stack.hasAddrOn(sa.ip, nic)) throw new Errno(E.EADDRNOTAVAIL);
    return true;
  }

  /**
   * connect(2) to a link-local address: its scope id ties the socket to that
   * interface (EINVAL when the socket is tied to another); without a scope id
   * the socket must be tied already (else EINVAL), as tcp_v6_connect and
   * ip6_datagram_connect. Other addresses leave the tie as it is.
   */
  protected connectScope(sa: SockAddr): void {
    if (sa.family !== AF_INET6 || !isLinkLocal(sa.ip)) return;
    if (sa.scope) {
      if (this.dev && this.dev !== sa.scope) throw new Errno(E.EINVAL);
      this.tieTo(sa.scope);
    }
    if (!this.dev) throw new Errno(E.EINVAL);
  }

  /** The interface a datagram to sa leaves by: a link-local destination's scope id, else the socket's (udpv6_sendmsg). */
  protected sendDev(sa: SockAddr): number {
    return sa.family === AF_INET6 && sa.scope && isLinkLocal(sa.ip) ? sa.scope : this.dev;
  }

  private setDevice(t: FileCtx, name: number, val: Buffer): void {
    let index: number;
    if (name === SO_BINDTOIFINDEX) index = deviceIndex(val);
    else {
      const dev = deviceName(val);
      const nic = dev ? this.stack.nicByName(dev) : undefined;
      if (dev && !nic) throw new Errno(E.ENODEV);
      index = nic ? nic.index : 0;
    }
    this.tieTo(newDevice(t.creds, this.dev, index));
  }

  private getDevice(name: number): Buffer {
    if (name === SO_BINDTOIFINDEX) return int32(this.dev);
    if (!this.dev) return deviceNameValue('');
    const nic = this.stack.nicByIndex(this.dev);
    if (!nic) throw new Errno(E.ENODEV);
    return deviceNameValue(nic.name);
  }

  /** The local address to report: the bound one, or the one a connection chose. */
  protected localIp(): Ip {
    return this.binding ? this.binding.ip : this.anyAddr;
  }

  // ------------------------------------------------------------ options

  /**
   * IP_RECVERR/IPV6_RECVERR (glibc's resolver sets it on its UDP socket): kept
   * and reported; the stack queues no extended errors, so MSG_ERRQUEUE finds
   * none, and ICMP errors reach a connected socket as its pending error.
   */
  private recvErr = false;

  /** MSG_ERRQUEUE reads the error queue, never the data: the stack queues nothing there, so it is always empty (EAGAIN, as Linux's ip_recv_error). */
  protected readErrQueue(flags: number): void {
    if (flags & MSG_ERRQUEUE) throw new Errno(E.EAGAIN);
  }
  /**
   * IP_PKTINFO, IP_RECVTTL, IP_RECVTOS and IP_RECVORIGDSTADDR, those set: IPv4
   * datagrams are read with their destination and interface, TTL, TOS and
   * destination address and port (udp_socket.ts).
   */
  protected readonly ipRecv = new Set<number>();
  /**
   * The sticky IPV6_PKTINFO's interface (RFC 3542): where datagrams to IPv6
   * destinations leave when nothing else chose one (udp_socket.ts). Linux
   * 6.18 keeps the address too but chooses no UDP source by it and never
   * reads the option back (ENOPROTOOPT): only the index is kept here.
   */
  protected stickyIf = 0;
  /** IP_OPTIONS: the IPv4 options every packet carries, as the application gave them, checked (ip/ipopts.ts; empty: none). */
  protected ipOpts: Buffer = Buffer.alloc(0);

  /** Where a packet to dst with IPv4 options opts (the socket's unless given) goes first: a source route's first address, else dst. */
  protected firstHop(dst: Ip, opts: Buffer = this.ipOpts): Ip {
    return isV4(dst) && opts.length ? firstHop(opts) ?? dst : dst;
  }

  /** The IPv4 options a packet from src to dst carries as sent, undefined for none. */
  protected wireOptions(src: Ip, dst: Ip, opts: Buffer = this.ipOpts): Buffer | undefined {
    return isV4(dst) && opts.length ? wireOptions(opts, src, dst, this.stack.clockMs()) : undefined;
  }

  getsockopt(_t: FileCtx, level: number, name: number): Buffer {
    if (level === SOL_SOCKET && (name === SO_BINDTODEVICE || name === SO_BINDTOIFINDEX)) return this.getDevice(name);
    if (level === SOL_SOCKET) return this.getSocketOpt(name);
    if (level === IPPROTO_IP) {
      if (name === IP_TOS) return int32(this.tos);
      if (name === IP_TTL) return int32(this.ttl < 0 ? 64 : this.ttl);
      if (name === IP_RECVERR) return int32(this.recvErr ? 1 : 0);
      if (name === IP_OPTIONS) return Buffer.from(this.ipOpts);
      if (IP_RECV_OPTS.includes(name)) return int32(this.ipRecv.has(name) ? 1 : 0);
      throw new Errno(E.ENOPROTOOPT);
    }
    if (level === IPPROTO_IPV6 && this.family === AF_INET6) {
      if (name === IPV6_V6ONLY) return int32(this.v6only ? 1 : 0);
      if (name === IPV6_UNICAST_HOPS) return int32(this.ttl < 0 ? 64 : this.ttl);
      if (name === IPV6_TCLASS) return int32(this.tos);
      if (name === IPV6_RECVERR) return int32(this.recvErr ? 1 : 0);
      throw new Errno(E.ENOPROTOOPT);
    }
    return this.getProtoOpt(level, name);
  }

  setsockopt(t: FileCtx, level: number, name: number, val: Buffer): void {
    if (level === SOL_SOCKET && (name === SO_BINDTODEVICE || name === SO_BINDTOIFINDEX)) return this.setDevice(t, name, val);
    if (level === SOL_SOCKET) return this.setSocketOpt(name, val);
    if (level === IPPROTO_IP) {
      if (name === IP_TOS) {
        // The ECN bits stay the stack's on a TCP socket.
        this.tos = readInt(val) & 0xff & (this.type === 1 ? ~3 : 0xff);
        return this.optionsChanged();
      }
      if (name === IP_TTL) {
        const v = readInt(val);
        if (v !== -1 && (v < 1 || v > 255)) throw new Errno(E.EINVAL);
        this.ttl = v;
        return this.optionsChanged();
      }
      if (name === IP_RECVERR) return void (this.recvErr = readInt(val) !== 0);
      if (name === IP_OPTIONS) {
        this.ipOpts = compileUser(val, hasCapability(t.creds, CAP_NET_RAW));
        return this.optionsChanged();
      }
      if (IP_RECV_OPTS.includes(name)) {
        // As Linux's SOL_IP integers: an int, a byte when shorter, 0 when empty.
        if ((val.length >= 4 ? val.readInt32LE(0) : val.length ? val[0] : 0) !== 0) this.ipRecv.add(name);
        else this.ipRecv.delete(name);
        return;
      }
      throw new Errno(E.ENOPROTOOPT);
    }
    if (level === IPPROTO_IPV6 && this.family === AF_INET6) {
      if (name === IPV6_V6ONLY) {
        if (this.binding) throw new Errno(E.EINVAL);
        this.v6only = readInt(val) !== 0;
        return;
      }
      if (name === IPV6_UNICAST_HOPS) {
        const v = readInt(val);
        if (v < -1 || v > 255) throw new Errno(E.EINVAL);
        this.ttl = v;
        return this.optionsChanged();
      }
      if (name === IPV6_TCLASS) {
        const v = readInt(val);
        if (v < -1 || v > 255) throw new Errno(E.EINVAL);
        this.tos = v < 0 ? 0 : v;
        return this.optionsChanged();
      }
      if (name === IPV6_RECVERR) return void (this.recvErr = readInt(val) !== 0);
      if (name === IPV6_PKTINFO) {
        // Shorter than an in6_pktinfo EINVAL (parseIn6Pktinfo); a tied socket's must name its own interface, 0 included (Linux's sk_dev_equal_l3scope).
        const pi = parseIn6Pktinfo(val);
        if (this.dev && pi.ifindex !== this.dev) throw new Errno(E.EINVAL);
        this.stickyIf = pi.ifindex;
        return;
      }
      throw new Errno(E.ENOPROTOOPT);
    }
    return this.setProtoOpt(level, name, val);
  }

  private getSocketOpt(name: number): Buffer {
    if (TIMESTAMP_OPTIONS.includes(name)) return int32(this.stamps.get(name));
    if (name === SO_TIMESTAMPING_OLD || name === SO_TIMESTAMPING_NEW) return this.stamps.getTimestamping();
    switch (name) {
      case SO_TYPE: return int32(this.type);
      case SO_DOMAIN: return int32(this.family);
      case SO_PROTOCOL: return int32(this.protocol);
      case SO_ERROR: return int32(this.takeError());
      case SO_ACCEPTCONN: return int32(this.listening() ? 1 : 0);
      case SO_REUSEADDR: return int32(this.reuseAddr ? 1 : 0);
      case SO_REUSEPORT: return int32(this.reusePort ? 1 : 0);
      case SO_KEEPALIVE: return int32(this.keepalive ? 1 : 0);
      case SO_BROADCAST: return int32(this.broadcast ? 1 : 0);
      case SO_OOBINLINE: return int32(this.oobinline ? 1 : 0);
      case SO_PRIORITY: return int32(this.priority);
      // Linux 6.16 and later: credentials, pidfds and labels pass on AF_UNIX (and netlink) sockets only.
      case SO_PASSCRED:
      case SO_PASSPIDFD:
      case SO_PASSSEC: throw new Errno(E.EOPNOTSUPP);
      case SO_RCVLOWAT: return int32(this.rcvlowat);
      case SO_SNDBUF: return int32(this.sndbuf);
      case SO_RCVBUF: return int32(this.rcvbuf);
      case SO_LINGER: {
        const b = Buffer.alloc(8);
        b.writeInt32LE(this.lingerOn ? 1 : 0, 0);
        b.writeInt32LE(this.lingerSecs, 4);
        return b;
      }
      case SO_RCVTIMEO_OLD:
      case SO_RCVTIMEO_NEW:
      case SO_SNDTIMEO_OLD:
      case SO_SNDTIMEO_NEW: {
        const ns = name === SO_RCVTIMEO_OLD || name === SO_RCVTIMEO_NEW ? this.rcvTimeoNs : this.sndTimeoNs;
        const b = Buffer.alloc(16);
        b.writeBigInt64LE(BigInt(Math.floor(ns / 1e9)), 0);
        b.writeBigInt64LE(BigInt(Math.floor((ns % 1e9) / 1e3)), 8);
        return b;
      }
      default: throw new Errno(E.ENOPROTOOPT);
    }
  }

  private setSocketOpt(name: number, val: Buffer): void {
    switch (name) {
      case SO_LINGER: {
        if (val.length < 8) throw new Errno(E.EINVAL);
        // Turning it off keeps the time (Linux reports it so); a negative time waits for ever.
        this.lingerOn = val.readInt32LE(0) !== 0;
        if (this.lingerOn) this.lingerSecs = val.readInt32LE(4);
        return;
      }
      case SO_RCVTIMEO_OLD:
      case SO_RCVTIMEO_NEW:
      case SO_SNDTIMEO_OLD:
      case SO_SNDTIMEO_NEW: {
        if (val.length < 16) throw new Errno(E.EINVAL);
        const sec = Number(val.readBigInt64LE(0));
        const usec = Number(val.readBigInt64LE(8));
        if (usec < 0 || usec >= 1e6) throw new Errno(E.EDOM);
        const ns = sec < 0 ? 0 : sec * 1e9 + usec * 1e3;
        if (name === SO_RCVTIMEO_OLD || name === SO_RCVTIMEO_NEW) this.rcvTimeoNs = ns;
        else this.sndTimeoNs = ns;
        return;
      }
      case SO_TIMESTAMPING_OLD:
      case SO_TIMESTAMPING_NEW:
        this.stamps.setTimestamping(name, val);
        return this.stampsChanged();
      default: break;
    }
    const v = readInt(val);
    if (TIMESTAMP_OPTIONS.includes(name)) {
      this.stamps.set(name, v !== 0);
      return this.stampsChanged();
    }
    switch (name) {
      case SO_REUSEADDR: this.reuseAddr = v !== 0; return;
      case SO_REUSEPORT: this.reusePort = v !== 0; return;
      case SO_KEEPALIVE:
        this.keepalive = v !== 0;
        return this.optionsChanged();
      case SO_BROADCAST: this.broadcast = v !== 0; return;
      case SO_OOBINLINE:
        this.oobinline = v !== 0;
        return this.optionsChanged();
      case SO_PASSCRED:
      case SO_PASSPIDFD:
      case SO_PASSSEC: throw new Errno(E.EOPNOTSUPP);
      case SO_PRIORITY:
        if (v < 0 || v > 6) throw new Errno(E.EPERM);
        this.priority = v;
        return;
      case SO_RCVLOWAT: this.rcvlowat = Math.max(1, v); return;
      case SO_SNDBUF:
        // Linux doubles the value (for its bookkeeping) and reports it so.
        this.sndbuf = Math.max(Math.min(v >>> 0, WMEM_MAX) * 2, SOCK_MIN_SNDBUF);
        this.sndbufSet = true;
        return this.optionsChanged();
      case SO_RCVBUF:
        this.rcvbuf = Math.max(Math.min(v >>> 0, RMEM_MAX) * 2, SOCK_MIN_RCVBUF);
        this.rcvbufSet = true;
        return this.optionsChanged();
      default: throw new Errno(E.ENOPROTOOPT);
    }
  }

  /** SO_ERROR: the pending error, cleared. */
  protected abstract takeError(): number;
  protected abstract listening(): boolean;
  protected abstract getProtoOpt(level: number, name: number): Buffer;
  protected abstract setProtoOpt(level: number, name: number, val: Buffer): void;
  /** Options that the protocol state copies changed. */
  protected optionsChanged(): void {}
  /** Receive stamps were asked for (or no longer). */
  protected stampsChanged(): void {}

  /** A binding for ip:port with this socket's flags (not yet in a table). */
  protected makeBinding(ip: Ip, port: number, uid: number): Binding {
    return { ip, port, v6only: this.v6only, reuseAddr: this.reuseAddr, reusePort: this.reusePort, uid, listening: false, forConnect: false, ino: this.ino };
  }

  protected override release(): void {
    this.stack.heap?.uncharge(this.charged);
    this.charged = 0;
  }
}
