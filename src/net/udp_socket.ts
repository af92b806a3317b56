// UDP sockets (udp(7)) on the sandbox's stack: bind, connect (a default
// destination and a filter on what is received; AF_UNSPEC dissolves it),
// sendto/sendmsg of whole datagrams, recvfrom/recvmsg of one datagram each
// with its sender, MSG_PEEK and MSG_TRUNC, and ECONNREFUSED on a connected
// socket whose datagrams met a closed port. UDP-Lite sockets (udplite(7),
// IPPROTO_UDPLITE) are the same with their own ports and the checksum
// coverage options.
import { CAP_NET_RAW, IP_RECVOPTS, IP_RECVRETOPTS, IP_RETOPTS, STAMP_IOCTLS } from '../abi/inet';
import { hasCapability } from '../auth/creds';
import { compileUser, echoOptions, IP_OPTIONS_MAX } from './ip/ipopts';
import { Errno, E } from '../abi/errno';
import { AF_INET, AF_INET6, SOL_SOCKET, MSG_OOB, MSG_PEEK, MSG_TRUNC, RCV_SHUTDOWN, SEND_SHUTDOWN, SHUT_RDWR, SOCK_DGRAM, WMEM_DEFAULT } from '../abi/socket';
import {
  IPPROTO_IP, IPPROTO_IPV6, IPPROTO_UDP, IPPROTO_UDPLITE, IP_PKTINFO, IP_RECVORIGDSTADDR, IP_RECVTOS, IP_RECVTTL, IP_TOS, IP_TTL, IPV6_HOPLIMIT, IPV6_PKTINFO, IPV6_RECVHOPLIMIT,
  IPV6_RECVORIGDSTADDR, IPV6_RECVPKTINFO, IPV6_RECVTCLASS, IPV6_TCLASS, MSG_MORE, SIOCOUTQ,
  UDPLITE_RECV_CSCOV, UDPLITE_SEND_CSCOV,
} from '../abi/inet';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDHUP, EVENT_RDNORM, EVENT_WRNORM } from '../abi/waitqueue';
import type { FileCtx } from '../vfs/ctx';
import type { MaybePromise } from '../vfs/file';
import type { Cmsg, RecvResult, SendRequest, SocketFile } from '../socket/socket';
import type { Task } from '../kernel/task';
import { formatSockaddr, isAny, isLinkLocal, isV4, parseSockaddr, type Ip } from './ip/addr';
import { in6Pktinfo, inPktinfo, parseIn6Pktinfo, parseInPktinfo, type PktInfo } from './pktinfo';
import { bindAddress } from './bind';
import { InetSocket, int32, readInt, type InetEnv } from './inet_socket';
import type { Binding, PortTable } from './ports';
import { Stack } from './stack';
import { UdpEndpoint, type Datagram } from './udp';

/** The IPPROTO_IPV6 options that ask for control messages with each datagram. */
const IP6_RECV_OPTS = [IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS, IPV6_RECVORIGDSTADDR];

/** The largest datagram IPv4 and IPv6 can carry (65535 less the headers). */
const MAX_DGRAM_V4 = 65507;
const MAX_DGRAM_V6 = 65527;

export class UdpSocket extends InetSocket {
  readonly ep: UdpEndpoint;
  /** The local address a connect(2) chose (getsockname reports it). */
  private connLocal: Ip | null = null;

  constructor(env: InetEnv, family: number, nonblock: number, proto = IPPROTO_UDP) {
    super(env, family, SOCK_DGRAM, proto, nonblock, WMEM_DEFAULT, WMEM_DEFAULT);
    this.ep = new UdpEndpoint(env.stack.heap, this.rcvbuf, () => this.wake(), () => this.stamps.arrival(() => env.realtimeNs()));
  }

  /** The port table and endpoints this socket binds in (a ping socket's "ports" are ICMP echo identifiers: another table). */
  protected get ports(): PortTable {
    return this.protocol === IPPROTO_UDPLITE ? this.stack.udplitePorts : this.stack.udpPorts;
  }
  protected get endpoints(): Map<Binding, UdpEndpoint> {
    return this.protocol === IPPROTO_UDPLITE ? this.stack.udplite : this.stack.udp;
  }

  /**
   * IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS and
   * IPV6_RECVORIGDSTADDR, those set: received datagrams come with their
   * destination and interface, hop limit, traffic class, and destination
   * address and port (RFC 3542).
   */
  private readonly ip6Recv = new Set<number>();

  override getsockopt(t: FileCtx, level: number, name: number): Buffer {
    if (level === IPPROTO_IPV6 && this.family === AF_INET6 && IP6_RECV_OPTS.includes(name)) return int32(this.ip6Recv.has(name) ? 1 : 0);
    return super.getsockopt(t, level, name);
  }

  override setsockopt(t: FileCtx, level: number, name: number, val: Buffer): void {
    if (level === IPPROTO_IPV6 && this.family === AF_INET6 && IP6_RECV_OPTS.includes(name)) {
      if (readInt(val) !== 0) this.ip6Recv.add(name);
      else this.ip6Recv.delete(name);
      return;
    }
    super.setsockopt(t, level, name, val);
  }

  /**
   * The control messages of a sendmsg, by the destination's family as Linux
   * (an IPv6 socket's datagram to a mapped address follows IPv4's rules).
   * To IPv4, as ip_cmsg_send: IP_PKTINFO (or an IPv6 socket's IPV6_PKTINFO
   * with a mapped source, another EINVAL), IP_TTL (an int, 1 to 255), IP_TOS
   * (an int or a byte), IP_RETOPTS (this datagram's IPv4 options in place
   * of the socket's, up to 40 bytes taken, checked as IP_OPTIONS: rawCap is
   * the sender's CAP_NET_RAW), other IP types EINVAL, other levels ignored. To IPv6, as
   * ip6_datagram_send_ctl: IPV6_PKTINFO, IPV6_HOPLIMIT and IPV6_TCLASS (this
   * datagram's own, -1: the socket's), other IPv6 types EINVAL, other levels
   * ignored. A PKTINFO names the interface (0: as routed) and source (the
   * wildcard: the socket's) of this datagram; oif is the interface chosen so
   * far (a scope id's, the socket's, the sticky one's).
   */
  private sendControl(control: Cmsg[] | undefined, ttl: number, tos: number, oif: number, v4: boolean, rawCap: boolean): { ttl: number; tos: number; oif: number; src: Ip | null; opts: Buffer | null } {
    let src: Ip | null = null;
    let opts: Buffer | null = null;
    for (const m of control ?? []) {
      // SO_TIMESTAMPING's per-message send stamps: none are made on the Sentry's stack (socket/timestamp.ts).
      if (m.level === SOL_SOCKET) throw new Errno(E.EINVAL);
      if (v4) {
        let pi: PktInfo | null = null;
        if (m.level === IPPROTO_IP && m.type === IP_PKTINFO) pi = parseInPktinfo(m.data);
        else if (m.level === IPPROTO_IPV6 && m.type === IPV6_PKTINFO && this.family === AF_INET6) {
          const p6 = parseIn6Pktinfo(m.data);
          const a = Stack.destination(p6.addr);
          if (!isAny(p6.addr) && !isV4(a)) throw new Errno(E.EINVAL);
          pi = { ifindex: p6.ifindex, addr: a };
        }
        if (pi) {
          if (pi.ifindex) oif = pi.ifindex;
          if (!isAny(pi.addr)) {
            // Not an address of ours: no route from it (Linux's ip_route_output_key).
            if (!this.stack.isOwn(pi.addr)) throw new Errno(E.ENETUNREACH);
            src = pi.addr;
          }
          continue;
        }
        if (m.level !== IPPROTO_IP) continue;
        if (m.type === IP_TTL && m.data.length === 4) {
          ttl = m.data.readInt32LE(0);
          if (ttl < 1 || ttl > 255) throw new Errno(E.EINVAL);
        } else if (m.type === IP_TOS && (m.data.length === 4 || m.data.length === 1)) {
          tos = m.data.length === 1 ? m.data[0] : m.data.readInt32LE(0);
          if (tos < 0 || tos > 255) throw new Errno(E.EINVAL);
        } else if (m.type === IP_RETOPTS) opts = compileUser(m.data.subarray(0, IP_OPTIONS_MAX), rawCap);
        else throw new Errno(E.EINVAL);
        continue;
      }
      if (m.level !== IPPROTO_IPV6) continue;
      if (m.type === IPV6_PKTINFO) {
        const pi = parseIn6Pktinfo(m.data);
        if (pi.ifindex) {
          // Another interface than a sendto's scope id, or a connected socket's, is EINVAL.
          if (oif && pi.ifindex !== oif && (this.ep.remote !== null || oif !== this.boundDev)) throw new Errno(E.EINVAL);
          oif = pi.ifindex;
        }
        const nic = oif ? this.stack.nicByIndex(oif) : undefined;
        if (oif && !nic) throw new Errno(E.ENODEV);
        if (isAny(pi.addr)) continue;
        if (isLinkLocal(pi.addr) ? !nic || !this.stack.hasAddrOn(pi.addr, nic) : !this.stack.isOwn(pi.addr)) throw new Errno(E.EINVAL);
        src = pi.addr;
        continue;
      }
      if (m.type !== IPV6_HOPLIMIT && m.type !== IPV6_TCLASS) throw new Errno(E.EINVAL);
      if (m.data.length !== 4) throw new Errno(E.EINVAL);
      const v = m.data.readInt32LE(0);
      if (v < -1 || v > 255) throw new Errno(E.EINVAL);
      if (v === -1) continue;
      if (m.type === IPV6_HOPLIMIT) ttl = v;
      else tos = v;
    }
    return { ttl, tos, oif, src, opts };
  }

  /** UDP-Lite's UDPLITE_SEND_CSCOV (null: never set, the coverage field is the length). */
  private sendCov: number | null = null;

  /** The coverage field of a UDP-Lite datagram of len bytes (Linux's udplite_csum), null for UDP. */
  private coverageField(len: number): number | null {
    if (this.protocol !== IPPROTO_UDPLITE) return null;
    const total = len + 8;
    if (this.sendCov === null || this.sendCov >= total) return total;
    return this.sendCov;
  }

  bind(t: FileCtx, raw: Buffer): void {
    // A bound socket's bind is EINVAL after the family's checks, before a link-local scope ties it (Linux's __inet6_bind).
    const bound = (): boolean => {
      if (this.binding) throw new Errno(E.EINVAL);
      return false;
    };
    const sa = bindAddress(t, this.family, raw, this.v6only, (ip) => this.stack.isOwn(ip), this.env.sysctl.unprivilegedPortStart, (a) => bound() || this.bindLinkLocal(a));
    if (this.binding) throw new Errno(E.EINVAL);
    this.bindTo(sa.ip, sa.port, t.creds.euid);
  }

  private bindTo(ip: Ip, port: number, uid: number): void {
    const b = this.makeBinding(ip, port, uid);
    this.ports.bind(b);
    this.endpoints.set(b, this.ep);
    this.binding = b;
    this.ep.binding = b;
  }

  /** An unbound socket that sends or connects gets an ephemeral port on the wildcard. */
  protected autobind(t: FileCtx): void {
    if (!this.binding) this.bindTo(this.anyAddr, 0, t.creds.euid);
  }

  protected override localIp(): Ip {
    return this.connLocal ?? super.localIp();
  }

  peername(): Buffer {
    if (this.ep.remote === null) throw new Errno(E.ENOTCONN);
    return formatSockaddr(this.family, this.ep.remote, this.ep.rport, this.boundDev);
  }

  listen(): void {
    throw new Errno(E.EOPNOTSUPP);
  }
  accept(): MaybePromise<SocketFile> {
    throw new Errno(E.EOPNOTSUPP);
  }

  connect(t: FileCtx, raw: Buffer): void {
    if (raw.length >= 2 && raw.readUInt16LE(0) === 0) {
      this.ep.remote = null;
      this.ep.rport = 0;
      this.connLocal = null;
      this.wake();
      return;
    }
    const sa = parseSockaddr(raw, this.family);
    this.checkFamily(sa.ip);
    this.connectScope(sa);
    const dst = Stack.destination(sa.ip);
    const route = this.stack.route(dst, this.stickyOif(dst, this.boundDev));
    this.autobind(t);
    const b = this.binding;
    if (b && !isAny(b.ip) && isV4(b.ip) !== isV4(dst)) throw new Errno(E.EINVAL);
    this.ep.remote = dst;
    this.ep.rport = sa.port;
    this.connLocal = b && !isAny(b.ip) ? b.ip : route.src;
    this.ep.err = 0;
    this.wake();
  }

  shutdown(how: number): void {
    if (how < 0 || how > SHUT_RDWR) throw new Errno(E.EINVAL);
    if (this.ep.remote === null) throw new Errno(E.ENOTCONN);
    this.shut |= how + 1;
    this.wake();
  }

  sendmsg(t: FileCtx, req: SendRequest): number {
    if (req.flags & MSG_OOB) throw new Errno(E.EOPNOTSUPP);
    if (req.flags & MSG_MORE) throw new Errno(E.EOPNOTSUPP); // corked datagrams are not supported
    if (this.shut & SEND_SHUTDOWN) throw new Errno(E.EPIPE);
    let dst: Ip;
    let dport: number;
    let oif = this.boundDev;
    if (req.addr && req.addr.length > 0 && !(req.addr.length >= 2 && req.addr.readUInt16LE(0) === 0 && this.ep.remote !== null)) {
      const sa = parseSockaddr(req.addr, this.family);
      this.checkFamily(sa.ip);
      if (sa.port === 0) throw new Errno(E.EINVAL);
      dst = Stack.destination(sa.ip);
      dport = sa.port;
      oif = this.sendDev(sa);
    } else {
      if (this.ep.remote === null) throw new Errno(E.EDESTADDRREQ);
      if (this.ep.err) throw new Errno(this.takeError());
      dst = this.ep.remote;
      dport = this.ep.rport;
    }
    const len = req.data.length;
    if (len > (isV4(dst) ? MAX_DGRAM_V4 : MAX_DGRAM_V6)) throw new Errno(E.EMSGSIZE);
    const h = this.sendControl(req.control, this.ttl < 0 ? 64 : this.ttl, this.tos, this.stickyOif(dst, oif), isV4(dst), hasCapability(t.creds, CAP_NET_RAW));
    // IPv4 options (this datagram's, else the socket's): a source route sends it to its first address.
    const opts = h.opts ?? this.ipOpts;
    const hop = this.firstHop(dst, opts);
    const route = this.stack.route(hop, h.oif);
    this.autobind(t);
    const b = this.binding as NonNullable<typeof this.binding>;
    const src = h.src ?? (!isAny(b.ip) ? b.ip : route.src);
    if (isV4(src) !== isV4(dst)) throw new Errno(this.family === AF_INET ? E.EINVAL : E.ENETUNREACH);
    this.stack.sendUdp(src, b.port, hop, dport, len ? req.data.slice(0, len) : Buffer.alloc(0), h.tos, h.ttl, this.coverageField(len), h.oif, this.wireOptions(src, dst, opts));
    this.stack.flush();
    return len;
  }

  recvmsg(t: FileCtx, len: number, flags: number): MaybePromise<RecvResult> {
    this.readErrQueue(flags);
    // MSG_OOB means nothing here and is ignored, as Linux's udp_recvmsg does.
    const d = this.ep.queue[0];
    if (!d) {
      if (this.ep.err) throw new Errno(this.takeError());
      if (this.shut & RCV_SHUTDOWN) return { data: Buffer.alloc(0), n: 0, flags: 0, addr: null, rights: null, cred: null };
      if (!this.mayBlock(flags)) throw new Errno(E.EAGAIN);
      return this.wait(t, EVENT_IN, this.rcvTimeoNs).then((ok) => {
        if (!ok) throw new Errno(E.EAGAIN);
        return this.recvmsg(t, len, flags);
      });
    }
    if (!(flags & MSG_PEEK)) this.ep.shift();
    const size = d.data.length;
    const n = Math.min(len, size);
    return {
      data: n === size ? d.data : d.data.subarray(0, n),
      n: flags & MSG_TRUNC ? size : n,
      flags: size > len ? MSG_TRUNC : 0,
      addr: formatSockaddr(this.family, d.from, d.port, d.ifindex),
      rights: null,
      cred: null,
      control: this.recvControl(d),
    };
  }

  override readiness(mask: number): number {
    let r = EVENT_OUT | EVENT_WRNORM;
    if (this.ep.queue.length > 0) r |= EVENT_IN | EVENT_RDNORM;
    if (this.shut & RCV_SHUTDOWN) r |= EVENT_IN | EVENT_RDNORM | EVENT_RDHUP;
    if (this.shut === (RCV_SHUTDOWN | SEND_SHUTDOWN)) r |= EVENT_HUP;
    if (this.ep.err) r |= EVENT_ERR;
    return r & (mask | EVENT_ERR | EVENT_HUP);
  }

  /** FIONREAD on UDP: the size of the next datagram. */
  override available(): number {
    const d = this.ep.queue[0];
    return d ? d.data.length : 0;
  }

  override ioctl(t: FileCtx, cmd: number, arg: number): number {
    if (cmd === SIOCOUTQ) {
      (t as Task).mm.writeI32(arg, 0); // datagrams leave at once
      return 0;
    }
    if (STAMP_IOCTLS.includes(cmd)) {
      (t as Task).mm.copyOut(arg, this.stamps.ioctl(cmd, () => this.env.realtimeNs()));
      return 0;
    }
    throw new Errno(E.ENOTTY);
  }

  protected takeError(): number {
    const e = this.ep.err;
    this.ep.err = 0;
    return e;
  }
  protected listening(): boolean {
    return false;
  }
  /** The interface a datagram to dst leaves by when oif (a scope id's, the socket's) is none: the sticky IPV6_PKTINFO's, for IPv6 destinations only (UDP and ping sockets; Linux's raw sockets do not use it). */
  protected stickyOif(dst: Ip, oif: number): number {
    return oif || (isV4(dst) ? 0 : this.stickyIf);
  }

  /**
   * The control messages a datagram is read with, those asked for, in
   * Linux's order: IPV6_PKTINFO (an IPv4 datagram's too, mapped); then an
   * IPv6 datagram's hop limit, traffic class and destination, or an IPv4
   * one's IP_PKTINFO, IP_TTL, IP_TOS (one byte) and destination.
   */
  private recvControl(d: Datagram): Cmsg[] | undefined {
    const out: Cmsg[] = [];
    const want6 = (o: number): boolean => this.family === AF_INET6 && this.ip6Recv.has(o);
    const port = this.binding ? this.binding.port : 0;
    // SOL_SOCKET's come first, as Linux's sock_recv_cmsgs runs before the IP level's.
    const stamp = this.stamps.read(d.stampNs, () => this.env.realtimeNs());
    if (stamp) out.push(stamp);
    const ts = this.stamps.timestamping(d.stampNs);
    if (ts) out.push(ts);
    if (want6(IPV6_RECVPKTINFO)) out.push({ level: IPPROTO_IPV6, type: IPV6_PKTINFO, data: in6Pktinfo(d.ifindex, d.dst) });
    if (isV4(d.from)) {
      if (this.ipRecv.has(IP_PKTINFO)) out.push({ level: IPPROTO_IP, type: IP_PKTINFO, data: inPktinfo(d.ifindex, d.dst) });
      if (this.ipRecv.has(IP_RECVTTL)) out.push({ level: IPPROTO_IP, type: IP_TTL, data: int32(d.ttl) });
      if (this.ipRecv.has(IP_RECVTOS)) out.push({ level: IPPROTO_IP, type: IP_TOS, data: Buffer.from([d.tos]) });
      // Only a datagram that came with options has them (an empty reply's too, as Linux gives it).
      if (this.ipRecv.has(IP_RECVOPTS) && d.ipOpts) out.push({ level: IPPROTO_IP, type: IP_RECVOPTS, data: Buffer.from(d.ipOpts) });
      if (this.ipRecv.has(IP_RECVRETOPTS) && d.ipOpts) out.push({ level: IPPROTO_IP, type: IP_RETOPTS, data: echoOptions(d.ipOpts) });
      if (this.ipRecv.has(IP_RECVORIGDSTADDR)) out.push({ level: IPPROTO_IP, type: IP_RECVORIGDSTADDR, data: formatSockaddr(AF_INET, d.dst, port) });
    } else {
      if (want6(IPV6_RECVHOPLIMIT)) out.push({ level: IPPROTO_IPV6, type: IPV6_HOPLIMIT, data: int32(d.ttl) });
      if (want6(IPV6_RECVTCLASS)) out.push({ level: IPPROTO_IPV6, type: IPV6_TCLASS, data: int32(d.tos) });
      if (want6(IPV6_RECVORIGDSTADDR)) out.push({ level: IPPROTO_IPV6, type: IPV6_RECVORIGDSTADDR, data: formatSockaddr(AF_INET6, d.dst, port, d.ifindex) });
    }
    return out.length ? out : undefined;
  }

  /** SOL_UDPLITE (or SOL_UDP) on a UDP-Lite socket: the coverage options; UDP's own (UDP_CORK, UDP_SEGMENT...) are not implemented. */
  protected getProtoOpt(level: number, name: number): Buffer {
    if (this.protocol === IPPROTO_UDPLITE && (level === IPPROTO_UDPLITE || level === IPPROTO_UDP)) {
      if (name === UDPLITE_SEND_CSCOV) return int32(this.sendCov ?? 0);
      if (name === UDPLITE_RECV_CSCOV) return int32(this.ep.minCov ?? 0);
    }
    throw new Errno(E.ENOPROTOOPT);
  }
  protected setProtoOpt(level: number, name: number, val: Buffer): void {
    if (this.protocol === IPPROTO_UDPLITE && (level === IPPROTO_UDPLITE || level === IPPROTO_UDP) && (name === UDPLITE_SEND_CSCOV || name === UDPLITE_RECV_CSCOV)) {
      // As Linux: 1 to 7 mean the header alone (8), above 65535 the most there is.
      let v = readInt(val);
      if (v !== 0 && v < 8) v = 8;
      else if (v > 0xffff) v = 0xffff;
      if (name === UDPLITE_SEND_CSCOV) this.sendCov = v;
      else this.ep.minCov = v;
      return;
    }
    throw new Errno(E.ENOPROTOOPT);
  }
  protected override optionsChanged(): void {
    this.ep.rcvLimit = this.rcvbuf;
  }
  /** SO_BINDTODEVICE: datagrams that came in on another interface are not this socket's. */
  protected override devChanged(): void {
    this.ep.dev = this.boundDev;
  }

  protected override release(): void {
    if (this.binding) {
      this.ports.remove(this.binding);
      this.endpoints.delete(this.binding);
    }
    this.ep.close();
    super.release();
  }
}
