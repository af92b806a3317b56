// ICMP echo ("ping") sockets, socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP) and
// socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6), as Linux's net/ipv4/ping.c
// gives unprivileged programs: the application writes an echo request (ICMP
// type 8 or ICMPv6 type 128, code 0, at least the 8-byte header),
// the stack puts the socket's identifier (its "port": bound, or an ephemeral
// one) and the checksum in it and sends it; echo replies carrying that
// identifier are read back whole (the ICMP header and data), with the
// sender's address and port 0. Everything else is the UDP socket's: bind,
// connect, the receive queue and its limits, readiness.
//
// Linux admits a group to them by net.ipv4.ping_group_range (default "1 0",
// nobody); the sandbox's is "0 2147483647", every group, as Docker and
// containerd set it for containers.
import { Errno, E } from '../abi/errno';
import { ICMP6_FILTER, IPPROTO_ICMP, IPPROTO_ICMPV6, IPV6_CHECKSUM, MSG_MORE, SOL_RAW } from '../abi/inet';
import { AF_INET, AF_INET6, MSG_OOB, SEND_SHUTDOWN } from '../abi/socket';
import type { FileCtx } from '../vfs/ctx';
import type { SendRequest } from '../socket/socket';
import { finish } from './icmp';
import { isAny, isV4, parseSockaddr, type Ip } from './ip/addr';
import { int32, readInt, type InetEnv } from './inet_socket';
import { checksumOf, pseudoSum, sumBytes } from './ip/ip';
import type { Binding, PortTable } from './ports';
import { Stack, type RawIcmp6Receiver } from './stack';
import type { UdpEndpoint } from './udp';
import { UdpSocket } from './udp_socket';

const ICMP_ECHO = 8, ICMPV6_ECHO = 128;
const ICMP_HLEN = 8;
/** The largest ICMP message an IPv4 packet carries. */
const MAX_ICMP = 65535 - 20;

/** What both kinds of ICMP socket check before they send: flags, shutdown, the destination, the size. */
abstract class IcmpSocket extends UdpSocket {
  constructor(env: InetEnv, family: number, nonblock: number) {
    super(env, family, nonblock, family === AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
    // An ICMPv6 socket never sees IPv4 (its echo identifiers are another family's).
    if (family === AF_INET6) this.v6only = true;
  }

  /** Where an echo request goes, and the interface it leaves by (a link-local destination's scope id, else the socket's). */
  protected icmpDestination(req: SendRequest): { dst: Ip; oif: number } {
    if (req.flags & (MSG_OOB | MSG_MORE)) throw new Errno(E.EOPNOTSUPP);
    if (this.shut & SEND_SHUTDOWN) throw new Errno(E.EPIPE);
    if (req.data.length > MAX_ICMP) throw new Errno(E.EMSGSIZE);
    if (req.addr && req.addr.length > 0) {
      const sa = parseSockaddr(req.addr, this.family);
      this.checkFamily(sa.ip);
      return { dst: Stack.destination(sa.ip), oif: this.sendDev(sa) };
    }
    if (this.ep.remote === null) throw new Errno(E.EDESTADDRREQ);
    return { dst: this.ep.remote, oif: this.boundDev };
  }
}

export class PingSocket extends IcmpSocket {
  protected override get ports(): PortTable {
    return this.stack.icmpPorts;
  }
  protected override get endpoints(): Map<Binding, UdpEndpoint> {
    return this.stack.ping;
  }

  override sendmsg(t: FileCtx, req: SendRequest): number {
    const d = this.icmpDestination(req);
    const dst = d.dst, oif = this.stickyOif(dst, d.oif);
    const len = req.data.length;
    // Only echo requests, each with its whole header (ping_common_sendmsg).
    if (len < ICMP_HLEN) throw new Errno(E.EINVAL);
    const msg = req.data.slice(0, len);
    const v4 = this.family === AF_INET;
    if (msg[0] !== (v4 ? ICMP_ECHO : ICMPV6_ECHO) || msg[1] !== 0) throw new Errno(E.EINVAL);
    // IP_OPTIONS: a source route's first address is where it goes.
    const hop = this.firstHop(dst);
    const route = this.stack.route(hop, oif);
    this.autobind(t);
    const b = this.binding as NonNullable<typeof this.binding>;
    const src = !isAny(b.ip) ? b.ip : route.src;
    if (isV4(src) !== v4) throw new Errno(E.EINVAL);
    msg.writeUInt16BE(b.port, 4);
    msg.writeUInt16BE(0, 2);
    this.stack.sendRaw(src, hop, v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, finish(msg, v4, src, dst), oif, this.wireOptions(src, dst));
    this.stack.flush();
    return len;
  }
}

/**
 * A raw ICMP socket, socket(AF_INET, SOCK_RAW, IPPROTO_ICMP) or
 * socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), for programs with CAP_NET_RAW
 * (busybox's ping): what the application writes is sent as the ICMP message;
 * every ICMP packet the stack receives is also read by each raw socket, from
 * a connected socket's peer only. IPv4 as Linux's raw sockets: sent as it is
 * (its checksum included), read whole (IP header first). ICMPv6 as Linux's
 * (RFC 3542): the stack puts the checksum in (at IPV6_CHECKSUM's offset, 2
 * unless set), messages are read without the IPv6 header, once their
 * checksum is right, and ICMP6_FILTER blocks types. Raw sockets of other
 * protocols and IP_HDRINCL are not implemented (EPROTONOSUPPORT,
 * ENOPROTOOPT).
 */
export class RawIcmpSocket extends IcmpSocket implements RawIcmp6Receiver {
  /** ICMP6_FILTER: 256 bits, a set one blocks that type; every type passes at first. */
  private readonly filter6 = Buffer.alloc(32);
  /** SOL_RAW IPV6_CHECKSUM: the offset the stack writes the checksum at, -1 none. */
  private csumOff = 2;

  constructor(env: InetEnv, family: number, nonblock: number) {
    super(env, family, nonblock);
    if (family === AF_INET6) this.stack.rawIcmp6.add(this);
    else this.stack.rawIcmp.add(this.ep);
  }

  passes(type: number): boolean {
    return (this.filter6.readUInt32LE((type >> 5) * 4) & (1 << (type & 31))) === 0;
  }

  /** No ports: the socket takes every ICMP packet. */
  protected override autobind(): void {}

  override bind(t: FileCtx, raw: Buffer): void {
    const sa = parseSockaddr(raw, this.family);
    this.checkFamily(sa.ip);
    if (!isAny(sa.ip) && !this.stack.isOwn(sa.ip)) throw new Errno(E.EADDRNOTAVAIL);
    this.bound = sa.ip;
  }
  private bound: Ip | null = null;

  protected override localIp(): Ip {
    return this.bound ?? super.localIp();
  }

  override sendmsg(t: FileCtx, req: SendRequest): number {
    const { dst, oif } = this.icmpDestination(req);
    const len = req.data.length;
    const hop = this.firstHop(dst);
    const route = this.stack.route(hop, oif);
    const src = this.bound && !isAny(this.bound) ? this.bound : route.src;
    if (this.family === AF_INET) {
      this.stack.sendRaw(src, hop, IPPROTO_ICMP, req.data.slice(0, len), oif, this.wireOptions(src, dst));
    } else {
      const msg = req.data.slice(0, len);
      if (this.csumOff >= 0) {
        if (this.csumOff + 2 > len) throw new Errno(E.EINVAL);
        msg.writeUInt16BE(0, this.csumOff);
        msg.writeUInt16BE(checksumOf(sumBytes(msg, 0, len, pseudoSum(false, src, dst, IPPROTO_ICMPV6, len))), this.csumOff);
      }
      this.stack.sendRaw(src, dst, IPPROTO_ICMPV6, msg, oif);
    }
    this.stack.flush();
    return len;
  }

  protected override getProtoOpt(level: number, name: number): Buffer {
    if (this.family === AF_INET6 && level === IPPROTO_ICMPV6 && name === ICMP6_FILTER) return Buffer.from(this.filter6);
    if (this.family === AF_INET6 && level === SOL_RAW && name === IPV6_CHECKSUM) return int32(this.csumOff);
    throw new Errno(E.ENOPROTOOPT);
  }

  protected override setProtoOpt(level: number, name: number, val: Buffer): void {
    if (this.family === AF_INET6 && level === IPPROTO_ICMPV6 && name === ICMP6_FILTER) {
      // A shorter filter replaces the first bytes only, as Linux copies what it is given.
      val.copy(this.filter6, 0, 0, Math.min(val.length, 32));
      return;
    }
    if (this.family === AF_INET6 && level === SOL_RAW && name === IPV6_CHECKSUM) {
      const v = readInt(val);
      if (v > 0 && (v & 1)) throw new Errno(E.EINVAL);
      this.csumOff = v < 0 ? -1 : v;
      return;
    }
    throw new Errno(E.ENOPROTOOPT);
  }

  protected override release(): void {
    this.stack.rawIcmp6.delete(this);
    this.stack.rawIcmp.delete(this.ep);
    super.release();
  }
}
