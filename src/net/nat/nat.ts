// The user-mode NAT of `tsvisor do` (as slirp4netns and passt): the other end
// of the sandbox stack's eth0. The application's packets reach it as frames
// from the stack; it terminates each TCP connection and UDP flow itself and
// carries the bytes over a host socket the Sentry opens (tcpflow.ts,
// udpflow.ts), so the host kernel sees ordinary connections from the Sentry
// and never a packet the application built. --publish listens on host ports
// and opens connections into the sandbox (publish.ts).
//
// Addresses (slirp4netns's): the sandbox is 10.0.2.15/24, the gateway 10.0.2.2
// (the host's loopback with --allow-host-loopback, else nothing), the DNS
// server 10.0.2.3 (port 53, forwarded to the host's first resolver). IPv6 the
// same way: the sandbox is fd00::5054:ff:fe12:3456/64 (the address SLAAC gives
// slirp4netns's tap from the router's fd00::/64), the gateway fd00::2 (the
// host's ::1 with --allow-host-loopback), the DNS server fd00::3; flows to
// other IPv6 addresses go out of host IPv6 sockets. The host's own addresses
// are refused like its loopback: a service the host binds to 0.0.0.0 or ::
// must not become reachable through the host's LAN address when 127.0.0.1 is
// not.
import type { HeapBudget } from '../../abi/accounting';
import { Errno, E } from '../../abi/errno';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from '../../abi/inet';
import type { HostEvents } from '../../platform/platform';
import type { HostSocketBudget, NatConfig } from '../../kernel/netinfo';
import { destUnreachable } from '../icmp';
import { ipFromBytes, isV4, type Ip } from '../ip/addr';
import { type Counters, count, headerRoom, parseFrame, writeHeaders, type IpPacket } from '../ip/ip';
import type { Nic, NicStats } from '../link';
import type { Stack } from '../stack';
import type { NetTimer, TcpHost, TimerTarget } from '../tcp/host';
import { resetFor, tcpInput } from '../tcp/input';
import { ACK, RST, SYN, TCP_HLEN, segment, optionsLength, parseTcp, writeTcp, type TcpSegment } from '../tcp/segment';
import type { TcbSender } from '../tcp/send';
import { connKey, type Tcb } from '../tcp/tcb';
import { parseUdp, UDP_HLEN, writeUdp } from '../udp';
import { sockaddr } from './hostio';
import { IcmpFlows } from './icmpflow';
import { Publisher } from './publish';
import { TcpFlow } from './tcpflow';
import { UdpFlows } from './udpflow';

const ip4 = (a: number, b: number, c: number, d: number): Ip => ipFromBytes(Buffer.from([a, b, c, d]), 0, 4);
export const GUEST = ip4(10, 0, 2, 15);
export const GATEWAY = ip4(10, 0, 2, 2);
const DNS = ip4(10, 0, 2, 3);
/** fd00::/64, slirp4netns's IPv6 network, and its addresses (the sandbox's is the EUI-64 one of eth0's MAC 52:54:00:12:34:56). */
const NET6 = 'fd000000000000000000000000000000'.slice(0, 16);
export const GUEST6: Ip = NET6 + '505400fffe123456';
export const GATEWAY6: Ip = NET6 + '0000000000000002';
const DNS6: Ip = NET6 + '0000000000000003';
const LOOP6_BYTES = Buffer.from('00000000000000000000000000000001', 'hex');
/** ICMP destination unreachable codes the NAT answers with (ICMPv6's in icmpCode). */
export const NET_UNREACH = 0, HOST_UNREACH = 1, ADMIN_PROHIBITED = 13;
/** The ICMPv6 destination unreachable code (RFC 4443 3.1) for an ICMP one: no route, administratively prohibited, address unreachable. */
const icmpCode = (v4: boolean, code: number): number => (v4 ? code : code === NET_UNREACH ? 0 : code === ADMIN_PROHIBITED ? 1 : 3);
/** TCP connections under way or open at once (each holds a host socket and up to two windows of bytes). */
const MAX_TCP_FLOWS = 4096;

/** What the NAT is given by the kernel. */
export interface NatEnv {
  readonly events: HostEvents;
  readonly budget: HostSocketBudget;
  readonly heap: HeapBudget | null;
  readonly config: NatConfig;
  log(msg: string): void;
}

/** The sandbox's eth0: what the stack transmits goes to the NAT; what the NAT sends is received. */
class NatNic implements Nic {
  readonly name = 'eth0';
  readonly index = 2;
  readonly mtu = 1500;
  /** The frames never leave the Sentry's memory: both ends are the Sentry's own code. */
  readonly checksumOffload = true;
  readonly stats: NicStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0 };
  constructor(private readonly nat: Nat) {}
  transmit(frame: Buffer): void {
    this.stats.txPackets++;
    this.stats.txBytes += frame.length;
    this.nat.fromSandbox(frame);
  }
  idle(): void {
    this.nat.runPending();
  }
}

/** Where a flow to (dst, port) goes on the host: a sockaddr, or the ICMP code that refuses it. */
export type Destination = { sa: Buffer } | { refuse: number };

export class Nat implements TcpHost {
  readonly counters: Counters = {};
  readonly heap: HeapBudget | null;
  readonly nic: NatNic;
  /** The NAT's ends of TCP connections, by 4-tuple as the NAT sees them (local = the address the sandbox connected to). */
  readonly conns = new Map<string, Tcb>();
  /** Flows a connect is under way for, by the same key: retransmitted SYNs wait for it. */
  readonly connecting = new Map<string, TcpFlow>();
  readonly udp: UdpFlows;
  readonly icmp: IcmpFlows;
  readonly publisher: Publisher;
  /** Flows told something happened, pumped once the current entry's work is done (never inside the segment's processing). */
  private readonly pending = new Set<{ pump(): void }>();
  private running = false;
  private ipId = 0;
  /** Where host reads land before they are copied into a queue (the kernel's thread is the only user). */
  readonly scratch = Buffer.allocUnsafe(64 * 1024);

  constructor(readonly stack: Stack, readonly env: NatEnv) {
    this.heap = env.heap;
    this.nic = new NatNic(this);
    stack.attach(this.nic, [GUEST, GUEST6], true);
    this.udp = new UdpFlows(this);
    this.icmp = new IcmpFlows(this);
    this.publisher = new Publisher(this);
  }

  get flows(): number {
    return this.conns.size + this.connecting.size;
  }
  get tcpFlowLimit(): number {
    return MAX_TCP_FLOWS;
  }

  // ------------------------------------------------------------ TcpHost for the NAT's ends

  nowMs(): number {
    return this.stack.nowMs();
  }
  randomU32(): number {
    return this.stack.randomU32();
  }
  newTimer(target: TimerTarget): NetTimer {
    // The stack's timers flush it after the target ran; the flows it woke are pumped first.
    return this.stack.newTimer({ onTimer: () => this.enter(() => target.onTimer()) });
  }
  transmit(c: TcbSender, seg: TcpSegment): void {
    const room = headerRoom(c.v4);
    const frame = Buffer.allocUnsafe(room + TCP_HLEN + optionsLength(seg, (seg.flags & SYN) !== 0) + seg.data.length);
    writeTcp(frame, room, seg, c.v4, c.local, c.remote);
    writeHeaders(frame, { v4: c.v4, src: c.local, dst: c.remote, proto: IPPROTO_TCP, tos: 0, ttl: 64, id: this.nextId() });
    this.toSandbox(frame);
  }
  remove(c: Tcb): void {
    if (this.conns.get(c.key) === c) this.conns.delete(c.key);
  }

  private nextId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }

  // ------------------------------------------------------------ the link

  /** A frame for the sandbox: received by its stack, processed at the stack's next flush. */
  toSandbox(frame: Buffer): void {
    this.nic.stats.rxPackets++;
    this.nic.stats.rxBytes += frame.length;
    this.stack.receive(this.nic, frame);
  }

  sendUdp(src: Ip, sport: number, dst: Ip, dport: number, data: Buffer): void {
    const v4 = isV4(dst);
    const room = headerRoom(v4);
    const frame = Buffer.allocUnsafe(room + UDP_HLEN + data.length);
    writeUdp(frame, room, sport, dport, data, v4, src, dst);
    writeHeaders(frame, { v4, src, dst, proto: IPPROTO_UDP, tos: 0, ttl: 64, id: this.nextId() });
    this.toSandbox(frame);
  }

  sendRaw(src: Ip, dst: Ip, proto: number, body: Buffer): void {
    const room = headerRoom(isV4(dst));
    const frame = Buffer.allocUnsafe(room + body.length);
    body.copy(frame, room);
    writeHeaders(frame, { v4: isV4(dst), src, dst, proto, tos: 0, ttl: 64, id: this.nextId() });
    this.toSandbox(frame);
  }

  /**
   * Work done from outside the stack (a host socket's readiness, a timer):
   * then the stack processes what it was sent, and at its end (eth0's idle)
   * the flows woken meanwhile are pumped.
   */
  enter(fn: () => void): void {
    try {
      fn();
    } finally {
      this.stack.flush();
    }
  }

  /**
   * A flow has something to do: it is pumped once the stack has processed
   * every frame it had, so a burst of segments costs one pump per flow, and
   * no flow is pumped inside a segment's processing.
   */
  schedule(f: { pump(): void }): void {
    this.pending.add(f);
  }

  runPending(): void {
    if (this.running) return;
    this.running = true;
    try {
      for (const f of this.pending) {
        this.pending.delete(f);
        f.pump();
      }
    } finally {
      this.running = false;
    }
  }

  /** A frame the sandbox sent out of eth0. Anything malformed or not carried is dropped and counted. */
  fromSandbox(frame: Buffer): void {
    const pkt = parseFrame(frame, this.counters);
    if (!pkt) return;
    if (pkt.proto === IPPROTO_TCP) {
      const seg = parseTcp(pkt.payload, pkt.v4, pkt.src, pkt.dst, false, this.counters);
      if (seg) this.tcpFromSandbox(frame, pkt, seg);
    } else if (pkt.proto === IPPROTO_UDP) {
      const d = parseUdp(pkt.payload, pkt.v4, pkt.src, pkt.dst, false, this.counters);
      if (d) this.udp.fromSandbox(frame, pkt, d.srcPort, d.dstPort, d.data);
    } else if (pkt.proto === (pkt.v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6)) this.icmp.fromSandbox(frame, pkt);
    else count(this.counters, 'NatDropProto');
  }

  // ------------------------------------------------------------ TCP

  private tcpFromSandbox(frame: Buffer, pkt: IpPacket, seg: TcpSegment): void {
    const key = connKey(pkt.dst, seg.dstPort, pkt.src, seg.srcPort);
    const c = this.conns.get(key);
    if (c) {
      tcpInput(c, seg);
      return;
    }
    if ((seg.flags & (SYN | ACK | RST)) !== SYN) {
      if (!this.connecting.has(key)) this.reset(pkt, seg);
      return;
    }
    if (this.connecting.has(key)) return; // a retransmitted SYN: the host's connect is still under way
    const to = this.destination(pkt.dst, seg.dstPort);
    if ('refuse' in to) return this.refuse(frame, pkt, to.refuse);
    if (this.flows >= MAX_TCP_FLOWS) {
      count(this.counters, 'NatTcpFlowLimit');
      return; // as a full SYN queue: the client tries again
    }
    try {
      const f = TcpFlow.outbound(this, key, frame, pkt, seg, to.sa);
      if (f) this.connecting.set(key, f);
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
      count(this.counters, 'NatHostSocketErrors');
      this.refuseWith(frame, pkt, seg, e.errno);
    }
  }

  /** Answer a SYN whose host connect failed with what makes the application's connect fail the same way. */
  refuseWith(frame: Buffer, pkt: IpPacket, seg: TcpSegment, errno: number): void {
    if (errno === E.ECONNREFUSED) this.reset(pkt, seg);
    else this.refuseErrno(frame, pkt, errno);
  }

  /** The ICMP error for a host error (ENETUNREACH, EHOSTUNREACH; EACCES and EPERM from a host firewall); others (ETIMEDOUT, the budget) get nothing, so the application's own retries time out. */
  refuseErrno(frame: Buffer, pkt: IpPacket, errno: number): void {
    if (errno === E.ENETUNREACH) this.refuse(frame, pkt, NET_UNREACH);
    else if (errno === E.EHOSTUNREACH || errno === E.EACCES || errno === E.EPERM) this.refuse(frame, pkt, HOST_UNREACH);
  }

  refuse(frame: Buffer, pkt: IpPacket, code: number): void {
    count(this.counters, 'NatRefused');
    destUnreachable(this, pkt.dst, frame, pkt, icmpCode(pkt.v4, code));
  }

  reset(pkt: IpPacket, seg: TcpSegment): void {
    const r = resetFor(seg);
    if (!r) return;
    const out = segment(seg.dstPort, seg.srcPort, r.seq, r.ack, r.flags, 0);
    const frame = Buffer.allocUnsafe(headerRoom(pkt.v4) + TCP_HLEN);
    writeTcp(frame, headerRoom(pkt.v4), out, pkt.v4, pkt.dst, pkt.src);
    writeHeaders(frame, { v4: pkt.v4, src: pkt.dst, dst: pkt.src, proto: IPPROTO_TCP, tos: 0, ttl: 64, id: this.nextId() });
    this.toSandbox(frame);
  }

  /** A gateway-side port for a connection into the sandbox's (dst, dport), 0 when none is free (randomised as Linux's). */
  freePort(dst: Ip, dport: number): number {
    const lo = 32768, n = 61000 - 32768;
    const start = this.randomU32() % n;
    for (let i = 0; i < n; i++) {
      const p = lo + ((start + i) % n);
      if (!this.conns.has(connKey(GATEWAY, p, dst, dport))) return p;
    }
    return 0;
  }

  // ------------------------------------------------------------ addresses

  /** The host address a flow to (dst, port) from the sandbox goes to, or the ICMP code refusing it. */
  destination(dst: Ip, port: number): Destination {
    if (!isV4(dst)) return this.destination6(dst, port);
    const cfg = this.env.config;
    const b = Buffer.from(dst.slice(24), 'hex');
    if (dst === GATEWAY) return cfg.allowHostLoopback ? { sa: sockaddr(Buffer.from([127, 0, 0, 1]), port) } : { refuse: ADMIN_PROHIBITED };
    if (dst === DNS) {
      const r = cfg.resolvers[0];
      if (port !== 53 || !r) return { refuse: port === 53 ? NET_UNREACH : ADMIN_PROHIBITED };
      return { sa: sockaddr(r, 53) };
    }
    // The rest of 10.0.2.0/24 is nobody; 0/8, loopback, multicast and broadcast are never routed.
    if (b[0] === 10 && b[1] === 0 && b[2] === 2) return { refuse: HOST_UNREACH };
    if (b[0] === 0 || b[0] === 127 || b[0] >= 224) return { refuse: NET_UNREACH };
    if (!cfg.allowHostLoopback && cfg.hostOwns(b)) return { refuse: ADMIN_PROHIBITED };
    return { sa: sockaddr(b, port) };
  }

  /** The same for IPv6: fd00::2 the host's ::1, fd00::3 its first resolver; the rest of fd00::/64 is nobody; link-local, multicast, loopback and unspecified are never routed. */
  private destination6(dst: Ip, port: number): Destination {
    const cfg = this.env.config;
    if (dst === GATEWAY6) return cfg.allowHostLoopback ? { sa: sockaddr(LOOP6_BYTES, port) } : { refuse: ADMIN_PROHIBITED };
    if (dst === DNS6) {
      const r = cfg.resolvers[0];
      if (port !== 53 || !r) return { refuse: port === 53 ? NET_UNREACH : ADMIN_PROHIBITED };
      return { sa: sockaddr(r, 53) };
    }
    if (dst.startsWith(NET6)) return { refuse: HOST_UNREACH };
    const b = Buffer.from(dst, 'hex');
    // ::/8 holds ::, ::1 and the IPv4-compatible and -mapped forms; fe80::/10 needs a scope the NAT has not; ff00::/8 is multicast.
    if (b[0] === 0 || b[0] === 0xff || (b[0] === 0xfe && (b[1] & 0xc0) === 0x80)) return { refuse: NET_UNREACH };
    if (!cfg.allowHostLoopback && cfg.hostOwns(b)) return { refuse: ADMIN_PROHIBITED };
    return { sa: sockaddr(b, port) };
  }

  /** Where an echo request to dst goes: as a flow to any port would, but 10.0.2.3 (fd00::3) is the host's resolver itself. */
  icmpDestination(dst: Ip): Destination {
    if (dst === DNS6) {
      const r = this.env.config.resolvers[0];
      return r ? { sa: sockaddr(r, 0) } : { refuse: HOST_UNREACH };
    }
    if (dst !== DNS) return this.destination(dst, 0);
    const r = this.env.config.resolvers[0];
    return r ? { sa: sockaddr(r, 0) } : { refuse: HOST_UNREACH };
  }

  /** Close every host socket (the sandbox ends); the counters go to the debug log. */
  shutdown(): void {
    this.log(`counters: ${JSON.stringify(this.counters)}; stack: ${JSON.stringify(this.stack.counters)}`);
    for (const f of this.connecting.values()) f.destroy();
    this.connecting.clear();
    for (const c of [...this.conns.values()]) (c.owner as TcpFlow | null)?.destroy();
    this.udp.shutdown();
    this.icmp.shutdown();
    this.publisher.shutdown();
  }

  log(msg: string): void {
    this.env.log(msg);
  }
}
