// ICMP echo ("ping") sockets, socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), as
// Linux's net/ipv4/ping.c gives unprivileged programs: the application
// writes an ICMP echo request (type 8, code 0, at least the 8-byte header),
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
import { IPPROTO_ICMP, MSG_MORE } from '../abi/inet';
import { AF_INET, MSG_OOB, SEND_SHUTDOWN } from '../abi/socket';
import type { FileCtx } from '../vfs/ctx';
import type { SendRequest } from '../socket/socket';
import { finish } from './icmp';
import { isAny, isV4, parseSockaddr, type Ip } from './ip/addr';
import type { InetEnv } from './inet_socket';
import type { Binding, PortTable } from './ports';
import { Stack } from './stack';
import type { UdpEndpoint } from './udp';
import { UdpSocket } from './udp_socket';

const ICMP_ECHO = 8;
const ICMP_HLEN = 8;
/** The largest ICMP message an IPv4 packet carries. */
const MAX_ICMP = 65535 - 20;

/** What both kinds of ICMP socket check before they send: flags, shutdown, the destination, the size. */
abstract class IcmpSocket extends UdpSocket {
  constructor(env: InetEnv, nonblock: number) {
    super(env, AF_INET, nonblock, IPPROTO_ICMP);
  }

  protected icmpDestination(req: SendRequest): Ip {
    if (req.flags & (MSG_OOB | MSG_MORE)) throw new Errno(E.EOPNOTSUPP);
    if (this.shut & SEND_SHUTDOWN) throw new Errno(E.EPIPE);
    if (req.data.length > MAX_ICMP) throw new Errno(E.EMSGSIZE);
    if (req.addr && req.addr.length > 0) {
      const sa = parseSockaddr(req.addr, AF_INET);
      this.checkFamily(sa.ip);
      return Stack.destination(sa.ip);
    }
    if (this.ep.remote === null) throw new Errno(E.EDESTADDRREQ);
    return this.ep.remote;
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
    const dst = this.icmpDestination(req);
    const len = req.data.length;
    // Only echo requests, each with its whole header (ping_common_sendmsg).
    if (len < ICMP_HLEN) throw new Errno(E.EINVAL);
    const msg = req.data.slice(0, len);
    if (msg[0] !== ICMP_ECHO || msg[1] !== 0) throw new Errno(E.EINVAL);
    const route = this.stack.route(dst);
    this.autobind(t);
    const b = this.binding as NonNullable<typeof this.binding>;
    const src = !isAny(b.ip) ? b.ip : route.src;
    if (!isV4(src)) throw new Errno(E.EINVAL);
    msg.writeUInt16BE(b.port, 4);
    msg.writeUInt16BE(0, 2);
    this.stack.sendRaw(src, dst, IPPROTO_ICMP, finish(msg, true, src, dst));
    this.stack.flush();
    return len;
  }
}

/**
 * A raw ICMP socket, socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), for programs
 * with CAP_NET_RAW (busybox's ping): what the application writes is sent as
 * the ICMP message, as it is (its checksum included); every ICMP packet the
 * stack receives is also read by each raw socket, whole (IP header first),
 * from a connected socket's peer only. Raw sockets of other protocols and
 * IP_HDRINCL are not implemented (EPROTONOSUPPORT, ENOPROTOOPT).
 */
export class RawIcmpSocket extends IcmpSocket {
  constructor(env: InetEnv, nonblock: number) {
    super(env, nonblock);
    this.stack.rawIcmp.add(this.ep);
  }

  /** No ports: the socket takes every ICMP packet. */
  protected override autobind(): void {}

  override bind(t: FileCtx, raw: Buffer): void {
    const sa = parseSockaddr(raw, AF_INET);
    if (!isAny(sa.ip) && !this.stack.isOwn(sa.ip)) throw new Errno(E.EADDRNOTAVAIL);
    this.bound = sa.ip;
  }
  private bound: Ip | null = null;

  protected override localIp(): Ip {
    return this.bound ?? super.localIp();
  }

  override sendmsg(t: FileCtx, req: SendRequest): number {
    const dst = this.icmpDestination(req);
    const len = req.data.length;
    const route = this.stack.route(dst);
    const src = this.bound && !isAny(this.bound) ? this.bound : route.src;
    this.stack.sendRaw(src, dst, IPPROTO_ICMP, req.data.slice(0, len));
    this.stack.flush();
    return len;
  }

  protected override release(): void {
    this.stack.rawIcmp.delete(this.ep);
    super.release();
  }
}
