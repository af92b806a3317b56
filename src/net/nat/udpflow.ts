// UDP through the NAT. Outbound, each flow (the sandbox's address and port
// to one destination) is one connected host UDP socket, so replies come back
// from that destination only, as a NAT's mapping lets them; a flow idle for
// a minute is closed. Inbound (--publish .../udp), each host client of a
// published port gets a gateway-side port of its own, so the sandbox's
// replies find their way back. Datagrams are never queued in the Sentry: a
// host socket that cannot take one now drops it (counted), and replies go to
// the stack's bounded receive queue; so a flood costs at most the number of
// flows, which is bounded.
import { E } from '../../abi/errno';
import { IPPROTO_UDP } from '../../abi/inet';
import { AF_INET, AF_INET6, SOCK_DGRAM } from '../../abi/socket';
import { destUnreachable } from '../icmp';
import { isV4, type Ip } from '../ip/addr';
import { count, ETH_HLEN, headerRoom, writeHeaders, type IpPacket } from '../ip/ip';
import type { NetTimer } from '../tcp/host';
import { UDP_HLEN, writeUdp } from '../udp';
import { closeIdle, HostSock } from './hostio';
import { GATEWAY, GUEST, type Nat } from './nat';

/** Flows at once, each a host socket. */
const MAX_UDP_FLOWS = 1024;
/** A flow with no datagram either way for this long is closed (ms). */
const UDP_IDLE_MS = 60_000;
const SWEEP_MS = 10_000;
const PORT_UNREACH = 3, PORT_UNREACH6 = 4;

class UdpFlow {
  lastUsed: number;
  constructor(
    readonly sock: HostSock,
    readonly src: Ip, readonly sport: number, readonly dst: Ip, readonly dport: number,
    now: number,
  ) {
    this.lastUsed = now;
  }
}

/** A host client of a published UDP port, and the gateway port that stands for it in the sandbox. */
interface Inbound {
  readonly listener: HostSock;
  readonly client: Buffer;
  readonly gport: number;
  readonly port: number;
  lastUsed: number;
}

export class UdpFlows {
  private readonly out = new Map<string, UdpFlow>();
  private readonly inByPort = new Map<number, Inbound>();
  private readonly inByClient = new Map<string, Inbound>();
  private readonly timer: NetTimer;
  private armed = false;

  constructor(private readonly nat: Nat) {
    this.timer = nat.newTimer({ onTimer: () => this.sweep() });
  }

  get size(): number {
    return this.out.size + this.inByPort.size;
  }

  /** A datagram the sandbox sent out of eth0. */
  fromSandbox(frame: Buffer, pkt: IpPacket, sport: number, dport: number, data: Buffer): void {
    const nat = this.nat;
    const back = pkt.dst === GATEWAY ? this.inByPort.get(dport) : undefined;
    if (back && pkt.src === GUEST && sport === back.port) {
      back.lastUsed = nat.nowMs();
      if (back.listener.sendTo(data, back.client) < 0) count(nat.counters, 'NatUdpSendDrops');
      return;
    }
    const key = `${pkt.src}:${sport}:${pkt.dst}:${dport}`;
    let f = this.out.get(key);
    if (!f) {
      const to = nat.destination(pkt.dst, dport);
      if ('refuse' in to) return nat.refuse(frame, pkt, to.refuse);
      if (this.size >= MAX_UDP_FLOWS) return void count(nat.counters, 'NatUdpFlowLimit');
      let s: HostSock;
      let flow: UdpFlow | null = null;
      try {
        s = HostSock.create(nat.env, to.sa.length === 16 ? AF_INET : AF_INET6, SOCK_DGRAM, () => nat.enter(() => flow && this.ready(flow)));
      } catch {
        return void count(nat.counters, 'NatHostSocketErrors');
      }
      const r = s.connect(to.sa);
      if (r < 0) {
        s.close();
        return nat.refuseErrno(frame, pkt, -r);
      }
      flow = f = new UdpFlow(s, pkt.src, sport, pkt.dst, dport, nat.nowMs());
      this.out.set(key, f);
      this.arm();
    }
    f.lastUsed = nat.nowMs();
    const r = f.sock.send(data);
    if (r === -E.ECONNREFUSED) this.portUnreachable(f);
    else if (r < 0) count(nat.counters, 'NatUdpSendDrops');
  }

  /** Replies from the host: each becomes a datagram from the flow's destination. */
  private ready(f: UdpFlow): void {
    const buf = this.nat.scratch;
    for (;;) {
      const n = f.sock.recv(buf);
      if (n === -E.EAGAIN) return;
      if (n === -E.ECONNREFUSED) {
        this.portUnreachable(f);
        continue;
      }
      if (n < 0) return;
      f.lastUsed = this.nat.nowMs();
      this.nat.sendUdp(f.dst, f.dport, f.src, f.sport, Buffer.from(buf.subarray(0, n)));
    }
  }

  /** The host was told nobody listens there: the sandbox hears it as Linux would (ICMP port unreachable quoting its datagram). */
  private portUnreachable(f: UdpFlow): void {
    const v4 = isV4(f.dst);
    const quoted = Buffer.alloc(headerRoom(v4) + UDP_HLEN);
    writeUdp(quoted, headerRoom(v4), f.sport, f.dport, Buffer.alloc(0), v4, f.src, f.dst);
    writeHeaders(quoted, { v4, src: f.src, dst: f.dst, proto: IPPROTO_UDP, tos: 0, ttl: 64, id: 0 });
    const pkt: IpPacket = { v4, src: f.src, dst: f.dst, proto: IPPROTO_UDP, tos: 0, ttl: 64, id: 0, payload: Buffer.alloc(0), netOff: ETH_HLEN };
    destUnreachable(this.nat, f.dst, quoted, pkt, v4 ? PORT_UNREACH : PORT_UNREACH6);
  }

  /** A datagram from a host client to a published UDP port (listener), for the sandbox's port. */
  fromPublished(listener: HostSock, port: number, client: Buffer, data: Buffer): void {
    const nat = this.nat;
    const ck = `${port}:${client.toString('hex')}`;
    let e = this.inByClient.get(ck);
    if (!e) {
      if (this.size >= MAX_UDP_FLOWS) return void count(nat.counters, 'NatUdpFlowLimit');
      let gport = 0;
      for (let i = 0; i < 64 && gport === 0; i++) {
        const p = 32768 + (nat.randomU32() % (61000 - 32768));
        if (!this.inByPort.has(p)) gport = p;
      }
      if (gport === 0) return void count(nat.counters, 'NatUdpFlowLimit');
      e = { listener, client: Buffer.from(client), gport, port, lastUsed: 0 };
      this.inByClient.set(ck, e);
      this.inByPort.set(gport, e);
      this.arm();
    }
    e.lastUsed = nat.nowMs();
    nat.sendUdp(GATEWAY, e.gport, GUEST, port, data);
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    this.timer.arm(this.nat.nowMs() + SWEEP_MS);
  }

  private sweep(): void {
    this.armed = false;
    const old = this.nat.nowMs() - UDP_IDLE_MS;
    closeIdle(this.out, old);
    for (const [k, e] of this.inByClient) {
      if (e.lastUsed > old) continue;
      this.inByClient.delete(k);
      this.inByPort.delete(e.gport);
    }
    if (this.size > 0) this.arm();
  }

  /** A published listener closes: its clients' mappings go. */
  forget(listener: HostSock): void {
    for (const [k, e] of this.inByClient) {
      if (e.listener !== listener) continue;
      this.inByClient.delete(k);
      this.inByPort.delete(e.gport);
    }
  }

  shutdown(): void {
    for (const f of this.out.values()) f.sock.close();
    this.out.clear();
    this.inByClient.clear();
    this.inByPort.clear();
    this.timer.cancel();
    this.armed = false;
  }
}
