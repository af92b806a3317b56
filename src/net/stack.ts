// The sandbox's own network stack (one per sandbox, on the Kernel): its
// interfaces (loopback today), the routing decision, the receive path that
// parses each layer of a frame and hands the segment or datagram to its
// connection, listener or UDP socket, the send path that builds the bytes,
// the port tables, and counters of what was dropped and why.
import type { HeapBudget } from '../abi/accounting';
import { Errno, E } from '../abi/errno';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, TcpState } from '../abi/inet';
import { ANY4, ANY6, LOOP4, LOOP6, isAny, isLocal, isV4, samePrefix, type Ip } from './ip/addr';
import { handleIcmp, portUnreachable } from './icmp';
import { type Counters, count, headerRoom, parseFrame, writeHeaders, type IpPacket } from './ip/ip';
import { firstHop, receivedOptions, wireOptions } from './ip/ipopts';
import { LoopbackNic, type Nic } from './link';
import { PortTable, type Binding } from './ports';
import type { NetTimer, TcpHost, TimerTarget } from './tcp/host';
import { resetFor, tcpInput } from './tcp/input';
import { Listener } from './tcp/listener';
import { ACK, RST, SYN, TCP_HLEN, segment, optionsLength, parseTcp, seqLT, writeTcp, type TcpSegment } from './tcp/segment';
import type { TcbSender } from './tcp/send';
import { connKey, type Tcb } from './tcp/tcb';
import { parseUdp, parseUdpLite, UDP_HLEN, writeUdp, writeUdpLite, type UdpEndpoint } from './udp';

/** A raw ICMPv6 socket as the stack sees it: its queue and its ICMP6_FILTER. */
export interface RawIcmp6Receiver {
  readonly ep: UdpEndpoint;
  passes(type: number): boolean;
}

/** Carries UDP datagrams sent to a loopback address nobody in the sandbox receives on (net/packet/dnsrelay.ts: Docker's DNS at 127.0.0.11). */
export interface UdpRelay {
  /** Whether the datagram was taken. */
  relay(src: Ip, sport: number, dst: Ip, dport: number, data: Buffer): boolean;
}

/** Takes TCP connections to a loopback address nobody in the sandbox listens on (net/packet/dnstcp.ts: Docker's DNS at 127.0.0.11). */
export interface TcpRelay {
  /** The relay's listener for a SYN to (dst, port), or null. */
  listenerFor(dst: Ip, port: number): Listener | null;
  /** The stack processed every frame it had: connections the relay was told about move their bytes. */
  idle(): void;
}

/** Frames the receive queue holds at most (net.core.netdev_max_backlog). */
const MAX_BACKLOG = 1000;

/** What the stack is given by whoever makes it: the kernel, or a unit test. */
export interface StackEnv {
  readonly heap: HeapBudget | null;
  nowMs(): number;
  newTimer(target: TimerTarget): NetTimer;
  randomU32(): number;
  /** Whether the loopback is up (absent: always; a new network namespace's starts down, and routes nothing until it is up). */
  readonly loopbackUp?: () => boolean;
  /** Whether IPv6 is off in the namespace (absent: never): ::1 is then no address of the stack (net.ipv6.conf.lo.disable_ipv6). */
  readonly ipv6Off?: () => boolean;
}

export class Stack implements TcpHost {
  readonly counters: Counters = {};
  readonly heap: HeapBudget | null;
  readonly nics: Nic[] = [];
  readonly lo: Nic;
  readonly tcpPorts: PortTable;
  readonly udpPorts: PortTable;
  /** Connections by 4-tuple (local address, port, remote address, port). */
  readonly conns = new Map<string, Tcb>();
  /** Port bindings of connections (accepted ones share their listener's port). */
  readonly connBindings = new Map<Tcb, Binding>();
  readonly listeners = new Map<Binding, Listener>();
  readonly udp = new Map<Binding, UdpEndpoint>();
  /** UDP-Lite's own ports and sockets (as Linux's udplite table). */
  readonly udplitePorts: PortTable;
  readonly udplite = new Map<Binding, UdpEndpoint>();
  /** Ping sockets (SOCK_DGRAM, IPPROTO_ICMP) by their echo identifier, bound as ports are. */
  readonly icmpPorts: PortTable;
  readonly ping = new Map<Binding, UdpEndpoint>();
  /** Raw ICMP sockets: each reads every ICMP packet received. */
  readonly rawIcmp = new Set<UdpEndpoint>();
  /** Raw ICMPv6 sockets: each reads every ICMPv6 message received that its filter passes. */
  readonly rawIcmp6 = new Set<RawIcmp6Receiver>();
  private ipId = 0;
  /** Realtime ms, for the timestamps IPv4 options record. */
  clockMs: () => number = Date.now;
  /** Addresses of the NICs other than loopback, and the NIC of each family's default route (null: loopback only). */
  private readonly addrs = new Map<Ip, Nic>();
  private uplink4: { nic: Nic; src: Ip } | null = null;
  private uplink6: { nic: Nic; src: Ip } | null = null;
  /** The networks of the NICs' addresses (on-link routes) and their other routes, longest prefix first, looked up before the default route. */
  private readonly onLink: Array<{ nic: Nic; ip: Ip; bits: number; src: Ip }> = [];
  udpRelay: UdpRelay | null = null;
  tcpRelay: TcpRelay | null = null;
  /** Frames received and not yet processed (Linux's backlog), and whether flush() is draining them. */
  private readonly rxQueue: Array<[Nic, Buffer, boolean]> = [];
  private flushing = false;

  constructor(private readonly env: StackEnv, lo?: Nic) {
    this.heap = env.heap;
    this.lo = lo ?? new LoopbackNic(1, (nic, f) => this.receive(nic, f));
    this.nics.push(this.lo);
    this.tcpPorts = new PortTable(() => env.randomU32());
    this.udpPorts = new PortTable(() => env.randomU32());
    this.udplitePorts = new PortTable(() => env.randomU32());
    this.icmpPorts = new PortTable(() => env.randomU32());
  }

  nowMs(): number {
    return this.env.nowMs();
  }
  /** A timer whose expiry is followed by a flush, as every entry into the stack is. */
  newTimer(target: TimerTarget): NetTimer {
    return this.env.newTimer({
      onTimer: () => {
        target.onTimer();
        this.flush();
      },
    });
  }
  randomU32(): number {
    return this.env.randomU32();
  }

  // ------------------------------------------------------------ routing

  /**
   * Where a packet to dst leaves, and from which address (ENETUNREACH off the
   * loopback network). oif: the interface the socket is tied to
   * (SO_BINDTODEVICE, a link-local scope id): only routes through it count;
   * one that does not exist is ENODEV for IPv4 and ENETUNREACH for IPv6, as
   * Linux's route lookups say.
   */
  route(dst: Ip, oif = 0): { nic: Nic; src: Ip } {
    if (oif) return this.routeVia(dst, oif);
    if (isLocal(dst)) {
      if (this.env.loopbackUp && !this.env.loopbackUp()) throw new Errno(E.ENETUNREACH);
      // No address of the family to send from (Linux's source address selection fails).
      if (dst === LOOP6 && this.env.ipv6Off?.()) throw new Errno(E.EADDRNOTAVAIL);
      return { nic: this.lo, src: isV4(dst) ? LOOP4 : LOOP6 };
    }
    // An address of another NIC is this host too: Linux sends to it over lo, from itself.
    if (this.addrs.has(dst)) return { nic: this.lo, src: dst };
    for (const r of this.onLink) if (isV4(r.ip) === isV4(dst) && samePrefix(r.ip, dst, r.bits)) return { nic: r.nic, src: r.src };
    const up = isV4(dst) ? this.uplink4 : this.uplink6;
    if (up && !isAny(dst)) return up;
    throw new Errno(E.ENETUNREACH);
  }

  /** route() restricted to the interface of index oif: its own addresses and loopback's over lo, its on-link and other routes, the default route when it is through it. */
  private routeVia(dst: Ip, oif: number): { nic: Nic; src: Ip } {
    const nic = this.nicByIndex(oif);
    if (!nic) throw new Errno(isV4(dst) ? E.ENODEV : E.ENETUNREACH);
    if (nic === this.lo) {
      if (isLocal(dst) || this.addrs.has(dst)) return this.route(dst);
      throw new Errno(E.ENETUNREACH);
    }
    if (this.addrs.get(dst) === nic) return { nic: this.lo, src: dst };
    for (const r of this.onLink) if (r.nic === nic && isV4(r.ip) === isV4(dst) && samePrefix(r.ip, dst, r.bits)) return { nic, src: r.src };
    const up = isV4(dst) ? this.uplink4 : this.uplink6;
    if (up && up.nic === nic && !isAny(dst)) return up;
    throw new Errno(E.ENETUNREACH);
  }

  /** The interface of index i, or undefined. */
  nicByIndex(i: number): Nic | undefined {
    return this.nics.find((n) => n.index === i);
  }

  /** The interface named name, or undefined. */
  nicByName(name: string): Nic | undefined {
    return this.nics.find((n) => n.name === name);
  }

  /** Whether ip is an address of nic (loopback's: 127.0.0.0/8 and ::1). */
  hasAddrOn(ip: Ip, nic: Nic): boolean {
    return nic === this.lo ? isLocal(ip) && this.isOwn(ip) : this.addrs.get(ip) === nic;
  }

  gsoMax(remote: Ip, oif = 0): number {
    return this.route(remote, oif).nic.gsoMax ?? 0;
  }

  /** Whether ip is one of this stack's addresses (loopback's, or another NIC's). */
  isOwn(ip: Ip): boolean {
    if (ip === LOOP6 && this.env.ipv6Off?.()) return false;
    return isLocal(ip) || this.addrs.has(ip);
  }

  /** Add a NIC with its addresses (an IPv4 one, an IPv6 one); with defaultRoute, every destination of an address's family off loopback leaves through it from that address. */
  attach(nic: Nic, addrs: Ip[], defaultRoute: boolean): void {
    if (!this.nics.includes(nic)) this.nics.push(nic);
    for (const a of addrs) {
      this.addrs.set(a, nic);
      if (!defaultRoute) continue;
      if (isV4(a)) this.uplink4 = { nic, src: a };
      else this.uplink6 = { nic, src: a };
    }
  }

  /** Every destination of src's family off loopback leaves through nic, from src (an address of nic). */
  setDefaultRoute(nic: Nic, src: Ip): void {
    if (isV4(src)) this.uplink4 = { nic, src };
    else this.uplink6 = { nic, src };
  }

  /** Forget nic's addresses and routes (its configuration changed: attach and addOnLink give the new one). */
  forget(nic: Nic): void {
    for (const [a, n] of this.addrs) if (n === nic) this.addrs.delete(a);
    if (this.uplink4?.nic === nic) this.uplink4 = null;
    if (this.uplink6?.nic === nic) this.uplink6 = null;
    for (let i = this.onLink.length - 1; i >= 0; i--) if (this.onLink[i].nic === nic) this.onLink.splice(i, 1);
  }

  /** nic leaves the stack (its interface left the container's namespace); what was sent through it finds no route and is dropped, counted. */
  detach(nic: Nic): void {
    this.forget(nic);
    const i = this.nics.indexOf(nic);
    if (i >= 0) this.nics.splice(i, 1);
  }

  /** The NIC a packet the stack makes by itself (a segment, a reset, an ICMP error) leaves by, or null (counted) when its destination has no route any more. */
  private nicOrDrop(dst: Ip, oif = 0): Nic | null {
    try {
      return this.route(dst, oif).nic;
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
      count(this.counters, 'IpOutNoRoutes');
      return null;
    }
  }

  /** Destinations in ip's first bits bits (of the 128-bit form) leave through nic, from src (an address of nic; the default: ip itself). */
  addOnLink(nic: Nic, ip: Ip, bits: number, src: Ip = ip): void {
    this.onLink.push({ nic, ip, bits, src });
    this.onLink.sort((a, b) => b.bits - a.bits);
  }

  /** connect(2) to a wildcard means this host (Linux: INADDR_ANY and :: reach loopback). */
  static destination(ip: Ip): Ip {
    if (ip === ANY4) return LOOP4;
    if (ip === ANY6) return LOOP6;
    return ip;
  }

  // ------------------------------------------------------------ send path

  private nextId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  transmit(c: TcbSender, seg: TcpSegment): void {
    // IP_OPTIONS: every segment carries them, a source route sends it to its first address (the checksum stays the connection's).
    const ipOpts = c.v4 && c.opts.ipOpts.length ? c.opts.ipOpts : null;
    const hop = ipOpts ? firstHop(ipOpts) ?? c.remote : c.remote;
    const options = ipOpts ? wireOptions(ipOpts, c.local, c.remote, this.clockMs()) : undefined;
    const room = headerRoom(c.v4, options?.length);
    const nic = this.nicOrDrop(hop, c.oif);
    if (!nic) return;
    const frame = this.frameFor(nic, room + TCP_HLEN + optionsLength(seg, (seg.flags & SYN) !== 0) + seg.data.length);
    writeTcp(frame, room, seg, c.v4, c.local, c.remote, nic.txChecksumOffload === true);
    writeHeaders(frame, { v4: c.v4, src: c.local, dst: hop, proto: IPPROTO_TCP, tos: c.opts.tos, ttl: c.opts.ttl, id: this.nextId(), options });
    count(this.counters, 'TcpOutSegs');
    const mss = c.sendMss;
    nic.transmit(frame, seg.data.length > mss ? mss : 0);
  }

  private frameFor(nic: Nic, len: number): Buffer {
    return nic.allocFrame ? nic.allocFrame(len) : Buffer.allocUnsafe(len);
  }

  /** A UDP datagram, or with cscov a UDP-Lite one whose coverage field is cscov; options: IPv4 options as sent (ipopts.ts wireOptions). */
  sendUdp(src: Ip, sport: number, dst: Ip, dport: number, data: Buffer, tos: number, ttl: number, cscov: number | null = null, oif = 0, options?: Buffer): void {
    const v4 = isV4(dst);
    const room = headerRoom(v4, options?.length);
    const nic = this.route(dst, oif).nic;
    const frame = this.frameFor(nic, room + UDP_HLEN + data.length);
    if (cscov === null) writeUdp(frame, room, sport, dport, data, v4, src, dst);
    else writeUdpLite(frame, room, sport, dport, data, v4, src, dst, cscov);
    writeHeaders(frame, { v4, src, dst, proto: cscov === null ? IPPROTO_UDP : IPPROTO_UDPLITE, tos, ttl, id: this.nextId(), options });
    count(this.counters, cscov === null ? 'UdpOutDatagrams' : 'UdpLiteOutDatagrams');
    nic.transmit(frame);
  }

  /** Send a raw transport packet (ICMP errors, ping and raw sockets' messages, with their IPv4 options if any). */
  sendRaw(src: Ip, dst: Ip, proto: number, body: Buffer, oif = 0, options?: Buffer): void {
    const v4 = isV4(dst);
    const room = headerRoom(v4, options?.length);
    const nic = this.nicOrDrop(dst, oif);
    if (!nic) return;
    const frame = this.frameFor(nic, room + body.length);
    body.copy(frame, room);
    writeHeaders(frame, { v4, src, dst, proto, tos: 0, ttl: 64, id: this.nextId(), options });
    nic.transmit(frame);
  }

  // ------------------------------------------------------------ receive path

  /**
   * A frame from a NIC waits in the receive queue until flush(): a segment is
   * never processed inside the call that sent it (the sender's state is then
   * complete), as Linux leaves packets in a socket's backlog while a process
   * holds it. Every entry into the stack (a socket call, a timer) ends with a
   * flush.
   */
  receive(nic: Nic, frame: Buffer, verified = nic.checksumOffload): void {
    if (this.rxQueue.length >= MAX_BACKLOG) {
      nic.stats.rxDropped++;
      return;
    }
    this.rxQueue.push([nic, frame, verified]);
  }

  /** Process the received frames, and those their processing sends, until none is left. */
  flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    try {
      do {
        for (let e = this.rxQueue.shift(); e; e = this.rxQueue.shift()) this.input(e[0], e[1], e[2]);
        // Once nothing is left to process, a NIC's far side does its batched work (the NAT moves bytes to and from host sockets), which may send more.
        for (const n of this.nics) n.idle?.();
        this.tcpRelay?.idle();
      } while (this.rxQueue.length > 0);
    } finally {
      this.flushing = false;
    }
  }

  /**
   * A frame parsed layer by layer; whatever is malformed is dropped and
   * counted. verified: its TCP and UDP checksums need no check (the NIC's
   * word, per frame or for all: Nic.checksumOffload); IPv4 header and ICMP
   * checksums are checked always.
   */
  input(nic: Nic, frame: Buffer, verified = nic.checksumOffload): void {
    const pkt = parseFrame(frame, this.counters);
    if (!pkt) {
      nic.stats.rxDropped++;
      return;
    }
    if (!this.isOwn(pkt.dst)) {
      count(this.counters, pkt.v4 ? 'IpInAddrErrors' : 'Ip6InAddrErrors');
      return;
    }
    if (pkt.options) {
      // IPv4 options: checked, and what this hop records written, in a copy (ipopts.ts); a malformed or source-routed packet goes no further.
      const r = receivedOptions(pkt.options, pkt.dst, (ip) => this.isOwn(ip), this.clockMs());
      if (typeof r === 'string') {
        count(this.counters, r === 'malformed' ? 'IpInHdrErrors' : 'IpInSourceRouted');
        nic.stats.rxDropped++;
        return;
      }
      pkt.options = r.opts;
    }
    pkt.iif = nic.index;
    const verify = !verified;
    switch (pkt.proto) {
      case IPPROTO_TCP: {
        const seg = parseTcp(pkt.payload, pkt.v4, pkt.src, pkt.dst, verify, this.counters);
        if (seg) this.tcpReceive(nic, pkt, seg);
        return;
      }
      case IPPROTO_UDP: {
        const d = parseUdp(pkt.payload, pkt.v4, pkt.src, pkt.dst, verify, this.counters);
        if (d) this.udpReceive(nic, frame, pkt, d.srcPort, d.dstPort, d.data);
        return;
      }
      case IPPROTO_UDPLITE: {
        const d = parseUdpLite(pkt.payload, pkt.v4, pkt.src, pkt.dst, this.counters);
        if (d) this.udpReceive(nic, frame, pkt, d.srcPort, d.dstPort, d.data, d.cscov);
        return;
      }
      case IPPROTO_ICMP:
      case IPPROTO_ICMPV6:
        if (pkt.v4 && this.rawIcmp.size > 0) this.rawReceive(frame, pkt);
        handleIcmp(this, pkt, verify);
        return;
      default:
        count(this.counters, pkt.v4 ? 'IpInUnknownProtos' : 'Ip6InUnknownProtos');
    }
  }

  private tcpReceive(nic: Nic, pkt: IpPacket, seg: TcpSegment): void {
    count(this.counters, 'TcpInSegs');
    const c = this.conns.get(connKey(pkt.dst, seg.dstPort, pkt.src, seg.srcPort));
    if (c) {
      // A new SYN for a 4-tuple in TIME_WAIT may start a new connection (RFC 9293 3.6.1).
      if (c.state === TcpState.TIME_WAIT && (seg.flags & (SYN | ACK | RST)) === SYN && seqLT(c.rcvNxt, seg.seq)) c.close();
      else {
        tcpInput(c, seg);
        return;
      }
    }
    if ((seg.flags & (SYN | ACK | RST)) === SYN) {
      const l = this.findListener(nic, pkt, seg) ?? (this.tcpRelay && isLocal(pkt.dst) ? this.tcpRelay.listenerFor(pkt.dst, seg.dstPort) : null);
      if (l) {
        l.onSyn(seg, pkt.dst, pkt.src, pkt.v4, nic.mtu, nic.index, pkt.options);
        return;
      }
    }
    this.sendReset(pkt, seg);
  }

  /** The listener for a SYN that came in on nic: one tied to another interface (SO_BINDTODEVICE) does not see it. */
  private findListener(nic: Nic, pkt: IpPacket, seg: TcpSegment): Listener | null {
    const bs = this.tcpPorts.lookup(pkt.dst, seg.dstPort, (b) => {
      const l = this.listeners.get(b);
      return l !== undefined && (l.dev === 0 || l.dev === nic.index);
    });
    if (bs.length === 0) return null;
    // SO_REUSEPORT: listeners share connections by a hash of the peer.
    const b = bs.length === 1 ? bs[0] : bs[(parseInt(pkt.src.slice(-8), 16) ^ seg.srcPort) % bs.length];
    return this.listeners.get(b) ?? null;
  }

  private sendReset(pkt: IpPacket, seg: TcpSegment): void {
    const r = resetFor(seg);
    if (!r) return;
    count(this.counters, 'TcpOutRsts');
    const out = segment(seg.dstPort, seg.srcPort, r.seq, r.ack, r.flags, 0);
    const room = headerRoom(pkt.v4);
    const nic = this.nicOrDrop(pkt.src);
    if (!nic) return;
    const frame = this.frameFor(nic, room + TCP_HLEN);
    writeTcp(frame, room, out, pkt.v4, pkt.dst, pkt.src, nic.txChecksumOffload === true);
    writeHeaders(frame, { v4: pkt.v4, src: pkt.dst, dst: pkt.src, proto: IPPROTO_TCP, tos: 0, ttl: 64, id: this.nextId() });
    nic.transmit(frame);
  }

  /** A UDP datagram, or (cscov given) a UDP-Lite one, for the socket bound to its port. */
  private udpReceive(nic: Nic, frame: Buffer, pkt: IpPacket, sport: number, dport: number, data: Buffer, cscov?: number): void {
    const lite = cscov !== undefined;
    const [ports, eps0] = lite ? [this.udplitePorts, this.udplite] : [this.udpPorts, this.udp];
    const bs = ports.lookup(pkt.dst, dport, (b) => eps0.get(b)?.accepts(pkt.src, sport, nic.index) === true);
    if (bs.length === 0) {
      if (!lite && this.udpRelay?.relay(pkt.src, sport, pkt.dst, dport, data)) return;
      count(this.counters, lite ? 'UdpLiteNoPorts' : 'UdpNoPorts');
      portUnreachable(this, frame, pkt);
      return;
    }
    // A connected socket before an unconnected one; SO_REUSEPORT spreads by the sender.
    const eps = bs.map((b) => eps0.get(b) as UdpEndpoint);
    const conn = eps.filter((e) => e.remote !== null);
    const pool = conn.length ? conn : eps;
    const ep = pool.length === 1 ? pool[0] : pool[(parseInt(pkt.src.slice(-8), 16) ^ sport) % pool.length];
    if (lite && !ep.coverageOk(cscov, UDP_HLEN + data.length)) return void count(this.counters, 'UdpLiteInErrors');
    ep.deliver(data, pkt.src, sport, this.counters, pkt.ttl, pkt.tos, nic.index, pkt.dst, pkt.options);
  }

  /** An IPv4 ICMP packet for the raw ICMP sockets: the IP header and the message, from a connected socket's peer only. */
  private rawReceive(frame: Buffer, pkt: IpPacket): void {
    const end = pkt.payload.byteOffset - frame.byteOffset + pkt.payload.length;
    const packet = frame.subarray(pkt.netOff, end);
    for (const ep of this.rawIcmp) if ((ep.remote === null || ep.remote === pkt.src) && ep.onDev(pkt.iif)) ep.deliver(packet, pkt.src, 0, this.counters, 64, 0, pkt.iif, pkt.dst, pkt.options);
  }

  /** An ICMPv6 message (checksum verified) for the raw ICMPv6 sockets: without the IPv6 header, from a connected socket's peer only. */
  raw6Receive(pkt: IpPacket): void {
    for (const r of this.rawIcmp6) {
      if ((r.ep.remote === null || r.ep.remote === pkt.src) && r.ep.onDev(pkt.iif) && r.passes(pkt.payload[0])) r.ep.deliver(pkt.payload, pkt.src, 0, this.counters, 64, 0, pkt.iif, pkt.dst);
    }
  }

  /** An ICMP echo reply for a ping socket: the one bound to its identifier (and connected to its sender, if connected) gets the whole message. */
  pingReceive(pkt: IpPacket): void {
    const id = pkt.payload.readUInt16BE(4);
    const bs = this.icmpPorts.lookup(pkt.dst, id, (b) => {
      const ep = this.ping.get(b);
      return ep !== undefined && (ep.remote === null || ep.remote === pkt.src) && ep.onDev(pkt.iif);
    });
    const ep = bs.length ? this.ping.get(bs[0]) : undefined;
    if (ep) ep.deliver(pkt.payload, pkt.src, 0, this.counters, 64, 0, pkt.iif, pkt.dst, pkt.options);
  }

  /** A hard ICMP error quoting a UDP datagram from (src, sport) to (dst, dport): a connected socket learns err (ECONNREFUSED for a port unreachable). */
  udpUnreachable(src: Ip, sport: number, dst: Ip, dport: number, err: number, lite = false): void {
    for (const b of (lite ? this.udplitePorts : this.udpPorts).lookup(src, sport, () => true)) {
      const ep = (lite ? this.udplite : this.udp).get(b);
      if (ep && ep.remote === dst && ep.rport === dport) ep.unreachable(err);
    }
  }

  /** An ICMP error quoting a TCP segment from (src, sport) to (dst, dport): a connect under way fails with err (Linux's tcp_v4_err); others ignore it (soft errors). */
  tcpUnreachable(src: Ip, sport: number, dst: Ip, dport: number, err: number): void {
    const c = this.conns.get(connKey(src, sport, dst, dport));
    if (c && c.state === TcpState.SYN_SENT) {
      count(this.counters, 'TcpAttemptFails');
      c.close(err);
    }
  }

  // ------------------------------------------------------------ tables

  addConn(c: Tcb, b: Binding): boolean {
    if (this.conns.has(c.key)) return false;
    this.conns.set(c.key, c);
    this.connBindings.set(c, b);
    return true;
  }

  remove(c: Tcb): void {
    if (this.conns.get(c.key) === c) this.conns.delete(c.key);
    const b = this.connBindings.get(c);
    if (b) {
      this.connBindings.delete(c);
      // A socket's own binding stays with the socket while it is open; an accepted or orphaned one goes with the connection.
      if (!this.socketBindings.has(b)) this.tcpPorts.remove(b);
    }
  }

  /** Bindings a socket holds (released when the socket closes, not when its connection does). */
  readonly socketBindings = new Set<Binding>();

  /** A 4-tuple connect(2) may use: free, or held by a connection in TIME_WAIT, which is recycled (Linux's tcp_tw_reuse for loopback). */
  tupleFree(local: Ip, lport: number, remote: Ip, rport: number): boolean {
    const c = this.conns.get(connKey(local, lport, remote, rport));
    if (!c) return true;
    if (c.state !== TcpState.TIME_WAIT) return false;
    c.close();
    return true;
  }

  /** The address a connection from a socket bound to ip uses toward dst. */
  localFor(bound: Ip, dst: Ip, oif = 0): Ip {
    if (!isAny(bound)) return bound;
    return this.route(dst, oif).src;
  }
}
