// ICMP echo through the NAT, so that ping works in the sandbox as far as the
// host lets the Sentry ping. Each flow (the sandbox's echo identifier to one
// destination) is one connected host ICMP socket (SOCK_DGRAM, IPPROTO_ICMP:
// what net.ipv4.ping_group_range grants without privileges); the host
// kernel puts its own identifier in what the Sentry sends and matches the
// replies, and the NAT puts the sandbox's identifier back. Destinations
// follow the TCP and UDP rules (Nat.destination: the gateway is the host's
// loopback only with --allow-host-loopback, the host's own addresses are
// refused the same way); 10.0.2.3 is the host's resolver. ICMPv6 echo
// (to fd00::2, fd00::3 and IPv6 destinations) goes the same way over host
// ICMPv6 sockets. A host that
// refuses the socket (outside ping_group_range, no CAP_NET_RAW either) gets
// the echo dropped, counted and logged once: the application's ping times
// out, as it would behind a firewall. Flows idle for a minute are closed;
// there are at most MAX_ICMP_FLOWS, and nothing is queued in the Sentry.
import { E } from '../../abi/errno';
import { IPPROTO_ICMP, IPPROTO_ICMPV6 } from '../../abi/inet';
import { AF_INET, AF_INET6, SOCK_DGRAM } from '../../abi/socket';
import { finish } from '../icmp';
import { isV4, type Ip } from '../ip/addr';
import { count, type IpPacket } from '../ip/ip';
import type { NetTimer } from '../tcp/host';
import { closeIdle, HostSock } from './hostio';
import { GUEST, GUEST6, HOST_UNREACH, type Nat } from './nat';

const MAX_ICMP_FLOWS = 64;
const ICMP_IDLE_MS = 60_000;
const SWEEP_MS = 10_000;
const ECHO_REPLY = 0, ECHO = 8, ICMP_HLEN = 8;
const ECHO6_REPLY = 129, ECHO6 = 128;

class IcmpFlow {
  lastUsed: number;
  constructor(readonly sock: HostSock, readonly id: number, readonly dst: Ip, now: number) {
    this.lastUsed = now;
  }
}

export class IcmpFlows {
  private readonly flows = new Map<string, IcmpFlow>();
  private readonly timer: NetTimer;
  private armed = false;
  private warned = false;

  constructor(private readonly nat: Nat) {
    this.timer = nat.newTimer({ onTimer: () => this.sweep() });
  }

  /** An ICMP message the sandbox sent out of eth0: echo requests are carried, the rest dropped (counted). */
  fromSandbox(frame: Buffer, pkt: IpPacket): void {
    const nat = this.nat;
    const p = pkt.payload;
    const v4 = pkt.v4;
    if (p.length < ICMP_HLEN || p[0] !== (v4 ? ECHO : ECHO6) || p[1] !== 0 || pkt.src !== (v4 ? GUEST : GUEST6)) return void count(nat.counters, 'NatIcmpDropped');
    const id = p.readUInt16BE(4);
    const key = `${id}:${pkt.dst}`;
    let f = this.flows.get(key);
    if (!f) {
      const to = nat.icmpDestination(pkt.dst);
      if ('refuse' in to) return nat.refuse(frame, pkt, to.refuse);
      // An echo of one family to a host address of the other (fd00::3 standing for an IPv4 resolver) cannot be carried.
      if ((to.sa.length === 16) !== v4) return nat.refuse(frame, pkt, HOST_UNREACH);
      if (this.flows.size >= MAX_ICMP_FLOWS) return void count(nat.counters, 'NatIcmpFlowLimit');
      let s: HostSock;
      let flow: IcmpFlow | null = null;
      try {
        s = HostSock.create(nat.env, v4 ? AF_INET : AF_INET6, SOCK_DGRAM, () => nat.enter(() => flow && this.ready(flow)), v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6);
      } catch (e) {
        count(nat.counters, 'NatIcmpNoHostSocket');
        if (!this.warned) nat.log(`ping: the host refuses the Sentry an ICMP socket (${String(e)}; net.ipv4.ping_group_range): echo requests are dropped`);
        this.warned = true;
        return;
      }
      const r = s.connect(to.sa);
      if (r < 0) {
        s.close();
        return nat.refuseErrno(frame, pkt, -r);
      }
      flow = f = new IcmpFlow(s, id, pkt.dst, nat.nowMs());
      this.flows.set(key, f);
      this.arm();
    }
    f.lastUsed = nat.nowMs();
    // The host sets its identifier and the checksum.
    if (f.sock.send(Buffer.from(p)) < 0) count(nat.counters, 'NatIcmpSendDrops');
  }

  /** Replies from the host: echo replies with the sandbox's identifier, from the address it pinged. */
  private ready(f: IcmpFlow): void {
    const buf = this.nat.scratch;
    for (let errs = 0; ; ) {
      const n = f.sock.recv(buf);
      if (n === -E.EAGAIN) return;
      // An error the host queued (an ICMP error for an earlier echo) is reported once; a few in a row end the round.
      if (n < 0) {
        if (++errs > 8) return;
        continue;
      }
      const v4 = isV4(f.dst);
      if (n < ICMP_HLEN || buf[0] !== (v4 ? ECHO_REPLY : ECHO6_REPLY)) continue;
      f.lastUsed = this.nat.nowMs();
      const reply = Buffer.from(buf.subarray(0, n));
      reply.writeUInt16BE(f.id, 4);
      reply.writeUInt16BE(0, 2);
      const guest = v4 ? GUEST : GUEST6;
      this.nat.sendRaw(f.dst, guest, v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, finish(reply, v4, f.dst, guest));
    }
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    this.timer.arm(this.nat.nowMs() + SWEEP_MS);
  }

  private sweep(): void {
    this.armed = false;
    closeIdle(this.flows, this.nat.nowMs() - ICMP_IDLE_MS);
    if (this.flows.size > 0) this.arm();
  }

  shutdown(): void {
    for (const f of this.flows.values()) f.sock.close();
    this.flows.clear();
    this.timer.cancel();
    this.armed = false;
  }
}
