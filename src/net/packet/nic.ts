// A taken-over interface of the container's network namespace (host/netns.ts
// removed its addresses from the host kernel): the stack's frames go out of
// the Sentry's AF_PACKET socket bound to it, and every frame the link brings
// comes in through that socket. This NIC is the link layer the stack's
// other NICs do not need: Ethernet addresses, ARP and IPv6 neighbour
// discovery (neigh.ts), the choice of next hop (the destination when on
// the interface's networks, else the default gateway). Frames not for us,
// too short or malformed are dropped and counted; the socket is read a
// bounded number of frames at a time (level-triggered, so what is left
// comes back at the next turn) into the stack's bounded receive queue.
import { IPPROTO_ICMPV6, IPPROTO_TCP } from '../../abi/inet';
import * as hs from '../../host/hostsocket';
import type { LinkConfig } from '../../abi/netif';
import { HOST_IN, type HostEvents, type HostWatch } from '../../platform/platform';
import { finish } from '../icmp';
import { ipFromBytes, isV4, samePrefix, type Ip } from '../ip/addr';
import { count, ETH_HLEN, ETH_P_IP, ETH_P_IPV6, IPV6_HLEN, foldSum, pseudoSum, sumBytes, writeHeaders } from '../ip/ip';
import type { Nic, NicStats } from '../link';
import type { Stack } from '../stack';
import { Neighbours, writeArpBody } from './neigh';

const ETH_P_ARP = 0x0806;
const ARP_LEN = 28;
const EAGAIN = 11;
/** Frames read per readiness callback; the rest wait for the next turn of the kernel's loop. */
const RX_BUDGET = 256;
/** The stack's receive queue is drained after this many frames. */
const RX_BATCH = 64;
/** The largest frame read: a 64 KiB IP packet the host segments later (GSO over a veth) and its Ethernet header. */
const RX_MAX = 65536 + ETH_HLEN + 64 + 10;
const NS = 135, NA = 136;
/** Receive errors in a row after which the interface is no longer read. */
const MAX_FAILURES = 64;
/** struct virtio_net_hdr (without num_buffers): flags, gso_type, hdr_len, gso_size, csum_start, csum_offset. */
const VNET_HLEN = 10;
/** The checksum is partial: to be finished from csum_start, written at csum_start + csum_offset (Linux's CHECKSUM_PARTIAL). */
const VNET_F_NEEDS_CSUM = 1;
/** The host checked the checksums already (CHECKSUM_UNNECESSARY). */
const VNET_F_DATA_VALID = 2;
/** Where TCP's checksum field is in its header. */
const TCP_CSUM_OFF = 16;
/** A frame at least this long is handed to the stack in the receive buffer itself (a new one is taken): at most half of a buffer kept is unused. */
const RX_HANDOVER = RX_MAX >> 1;
const VNET_GSO_TCPV4 = 1, VNET_GSO_TCPV6 = 4;
/** The largest TCP payload handed to the host to cut (the IPv4 total length is 16 bits). */
const GSO_MAX = 65000;
const BROADCAST = Buffer.alloc(6, 0xff);

interface OwnAddr {
  ip: Ip;
  /** The prefix in bits of the 128-bit form (an IPv4 /24 is 120). */
  bits: number;
}

/** The host I/O a packet NIC needs. */
export interface PacketEnv {
  readonly events: HostEvents;
  log(msg: string): void;
}

export class PacketNic implements Nic {
  readonly name: string;
  readonly mtu: number;
  /**
   * Without virtio-net headers, transport checksums are not verified: the
   * host hands its own TCP segments over unfinished (CHECKSUM_PARTIAL), and
   * nothing tells those frames from others. With them, each frame says
   * (readable()): a partial or host-checked checksum is taken as it is,
   * others are verified. IPv4 header checksums are verified always.
   */
  readonly checksumOffload: boolean;
  /** With virtio-net headers the host finishes the TCP checksums of what the Sentry sends (withHeader). */
  readonly txChecksumOffload: boolean;
  /** Frames made by allocFrame: room for the virtio-net header in front of them. */
  private readonly roomy = new WeakSet<Buffer>();
  readonly stats: NicStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0 };
  readonly mac: Buffer;
  private own: OwnAddr[] = [];
  /** Routes other than on-link and default (LinkConfig.routes), longest prefix first: their gateway (null: on the link). */
  private routes: Array<{ ip: Ip; bits: number; gw: Ip | null }> = [];
  private gw4: Ip | null = null;
  private gw6: Ip | null = null;
  private readonly neigh: Neighbours;
  private rx = Buffer.allocUnsafeSlow(RX_MAX);
  private watch: HostWatch | null;
  private readonly fd: number;
  /** Frames carry a virtio-net header (PACKET_VNET_HDR): the host cuts large TCP segments. */
  private readonly vnet: boolean;
  readonly gsoMax: number;
  private closed = false;
  /** Receive errors in a row. */
  private failures = 0;
  /** Where a frame is put behind its virtio-net header to be sent. */
  private readonly tx: Buffer;

  constructor(private readonly stack: Stack, private readonly env: PacketEnv, cfg: LinkConfig, readonly index: number) {
    this.name = cfg.name;
    this.mtu = cfg.mtu;
    this.fd = cfg.fd;
    this.vnet = cfg.vnetHdr;
    this.checksumOffload = !cfg.vnetHdr;
    this.txChecksumOffload = cfg.vnetHdr;
    this.gsoMax = cfg.vnetHdr ? GSO_MAX : 0;
    this.tx = Buffer.alloc(cfg.vnetHdr ? VNET_HLEN + ETH_HLEN + 60 + 60 + GSO_MAX : 0);
    this.mac = Buffer.from(cfg.mac);
    this.reconfigure(cfg);
    this.neigh = new Neighbours({ solicit: (ip) => this.solicit(ip), send: (f, mac, gso) => this.send(f, mac, gso), nowMs: () => stack.nowMs() }, stack.counters);
    this.watch = env.events.watch(this.fd, HOST_IN, () => this.readable());
  }

  /**
   * The interface's addresses, routes and gateways (at start, and when the
   * namespace's configuration changed: the stack is then told again).
   * Neighbours already known stay.
   */
  reconfigure(cfg: LinkConfig): void {
    this.own = cfg.addrs.map((a) => ({ ip: ipFromBytes(a.addr, 0, a.addr.length === 4 ? 4 : 16), bits: a.addr.length === 4 ? 96 + a.prefix : a.prefix }));
    this.routes = (cfg.routes ?? []).filter((r) => r.dst.length === 4 || r.dst.length === 16).map((r) => {
      const v4 = r.dst.length === 4;
      const gw = r.gateway && r.gateway.length === r.dst.length ? ipFromBytes(r.gateway, 0, v4 ? 4 : 16) : null;
      return { ip: ipFromBytes(r.dst, 0, v4 ? 4 : 16), bits: Math.min(v4 ? 96 + r.prefix : r.prefix, 128), gw };
    }).sort((a, b) => b.bits - a.bits);
    this.gw4 = cfg.gateway4 && cfg.gateway4.length === 4 ? ipFromBytes(cfg.gateway4, 0, 4) : null;
    this.gw6 = cfg.gateway6 && cfg.gateway6.length === 16 ? ipFromBytes(cfg.gateway6, 0, 16) : null;
  }

  /** The address of each family its default route leaves from: the first of the family, for a family with a gateway. */
  get defaultSources(): Ip[] {
    const out: Ip[] = [];
    for (const [v4, gw] of [[true, this.gw4], [false, this.gw6]] as const) {
      const a = gw ? this.source(v4) : undefined;
      if (a) out.push(a);
    }
    return out;
  }

  /** What leaves off the link in family v4 goes from: its first address of the family that is not IPv6 link-local (else that one). */
  private source(v4: boolean): Ip | undefined {
    const fam = this.own.filter((o) => isV4(o.ip) === v4);
    return (fam.find((o) => !/^fe[89ab]/.test(o.ip)) ?? fam[0])?.ip;
  }

  /** The addresses the stack gives this NIC. */
  get addresses(): Ip[] {
    return this.own.map((a) => a.ip);
  }

  /** The networks of this NIC's addresses (on-link routes). */
  get networks(): ReadonlyArray<{ ip: Ip; bits: number }> {
    return this.own;
  }

  /** The destinations of its other routes, with the address of the family it sends them from (none: not routed here). */
  get routed(): Array<{ ip: Ip; bits: number; src: Ip }> {
    const out = [];
    for (const r of this.routes) {
      const src = this.source(isV4(r.ip));
      if (src) out.push({ ip: r.ip, bits: r.bits, src });
    }
    return out;
  }

  // ------------------------------------------------------------ transmit

  transmit(frame: Buffer, gsoSize = 0): void {
    const v4 = frame.readUInt16BE(12) === ETH_P_IP;
    const dst = v4 ? ipFromBytes(frame, ETH_HLEN + 16, 4) : ipFromBytes(frame, ETH_HLEN + 24, 16);
    const group = this.groupMac(dst, v4);
    if (group) return this.send(frame, group);
    const onLink = this.own.some((a) => isV4(a.ip) === v4 && samePrefix(a.ip, dst, a.bits));
    const r = onLink ? undefined : this.routes.find((x) => isV4(x.ip) === v4 && samePrefix(x.ip, dst, x.bits));
    const hop = onLink ? dst : r ? r.gw ?? dst : v4 ? this.gw4 : this.gw6;
    if (!hop) return void count(this.stack.counters, 'LinkNoRoute');
    this.neigh.output(hop, frame, this.vnet ? gsoSize : 0);
  }

  /** The Ethernet address of a broadcast or multicast destination, else null. */
  private groupMac(dst: Ip, v4: boolean): Buffer | null {
    if (v4) {
      const a = parseInt(dst.slice(24), 16) >>> 0;
      if (a === 0xffffffff) return BROADCAST;
      if (a >>> 28 === 0xe) return Buffer.from([0x01, 0x00, 0x5e, (a >> 16) & 0x7f, (a >> 8) & 0xff, a & 0xff]);
      for (const o of this.own) if (isV4(o.ip) && o.bits < 127 && samePrefix(o.ip, dst, o.bits) && /^f*$/.test(this.hostBits(dst, o.bits))) return BROADCAST;
      return null;
    }
    if (dst.startsWith('ff')) return Buffer.from('3333' + dst.slice(24), 'hex');
    return null;
  }

  /** The hex digits of a past the first bits bits, with partial nibbles' network bits set (for the all-ones test). */
  private hostBits(a: Ip, bits: number): string {
    const nib = bits >> 2;
    const rest = bits & 3;
    if (!rest) return a.slice(nib);
    return (parseInt(a[nib], 16) | ((0xf0 >> rest) & 0xf)).toString(16) + a.slice(nib + 1);
  }

  /** A frame's buffer with the virtio-net header's room in front of it, so that withHeader copies nothing. */
  allocFrame(len: number): Buffer {
    if (!this.vnet) return Buffer.allocUnsafe(len);
    const f = Buffer.allocUnsafe(VNET_HLEN + len).subarray(VNET_HLEN);
    this.roomy.add(f);
    return f;
  }

  private send(frame: Buffer, mac: Buffer, gso = 0): void {
    mac.copy(frame, 0);
    this.mac.copy(frame, 6);
    const n = hs.sendto(this.fd, this.vnet ? this.withHeader(frame, gso) : frame, 0, null);
    if (n < 0) return void count(this.stack.counters, 'LinkTxDrops');
    this.stats.txPackets++;
    this.stats.txBytes += frame.length;
  }

  /**
   * frame behind its virtio-net header (in the room allocFrame kept, else in
   * a copy). Every TCP segment the stack sends here holds the pseudo-header's
   * sum only (txChecksumOffload: writeTcp's partial), so its header asks the
   * host to finish the checksum, as Linux's CHECKSUM_PARTIAL; one to cut
   * (gso > 0) also says the segment size and where the headers end.
   */
  private withHeader(frame: Buffer, gso: number): Buffer {
    let out: Buffer;
    if (this.roomy.has(frame)) out = Buffer.from(frame.buffer, frame.byteOffset - VNET_HLEN, VNET_HLEN + frame.length);
    else {
      out = this.tx.subarray(0, VNET_HLEN + frame.length);
      frame.copy(out, VNET_HLEN);
    }
    out.fill(0, 0, VNET_HLEN);
    const v4 = frame.readUInt16BE(12) === ETH_P_IP;
    if (!v4 && frame.readUInt16BE(12) !== ETH_P_IPV6) return out;
    const proto = v4 ? frame[ETH_HLEN + 9] : frame[ETH_HLEN + 6];
    if (proto !== IPPROTO_TCP) return out;
    const t = ETH_HLEN + (v4 ? (frame[ETH_HLEN] & 0xf) * 4 : IPV6_HLEN);
    out[0] = VNET_F_NEEDS_CSUM;
    out.writeUInt16LE(t, 6);
    out.writeUInt16LE(TCP_CSUM_OFF, 8);
    if (gso > 0) {
      out[1] = v4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
      out.writeUInt16LE(t + (frame[t + 12] >> 4) * 4, 2);
      out.writeUInt16LE(gso, 4);
    }
    return out;
  }

  /** An ARP request, or an IPv6 neighbour solicitation, for ip. */
  private solicit(ip: Ip): void {
    const v4 = isV4(ip);
    const src = this.own.find((a) => isV4(a.ip) === v4 && samePrefix(a.ip, ip, a.bits)) ?? this.own.find((a) => isV4(a.ip) === v4);
    if (!src) return;
    if (v4) {
      const f = this.allocFrame(ETH_HLEN + ARP_LEN).fill(0);
      f.writeUInt16BE(ETH_P_ARP, 12);
      writeArpBody(f, this.mac, 1, src.ip, Buffer.alloc(6), ip);
      this.send(f, BROADCAST);
      return;
    }
    // To the solicited-node multicast group of ip (RFC 4861 7.2.2), with our link-layer address.
    const group = 'ff0200000000000000000001ff' + ip.slice(26);
    const body = Buffer.alloc(32);
    body[0] = NS;
    body.write(ip, 8, 'hex');
    body[24] = 1;
    body[25] = 1;
    this.mac.copy(body, 26);
    this.sendNdp(src.ip, group, finish(body, false, src.ip, group), Buffer.from('3333' + group.slice(24), 'hex'));
  }

  private sendNdp(src: Ip, dst: Ip, body: Buffer, mac: Buffer): void {
    const f = this.allocFrame(ETH_HLEN + IPV6_HLEN + body.length);
    body.copy(f, ETH_HLEN + IPV6_HLEN);
    writeHeaders(f, { v4: false, src, dst, proto: IPPROTO_ICMPV6, tos: 0, ttl: 255, id: 0 });
    this.send(f, mac);
  }


  // ------------------------------------------------------------ receive

  private readable(): void {
    let n = 0;
    for (; n < RX_BUDGET; n++) {
      const len = hs.recv(this.fd, this.rx, 0);
      if (len < 0) {
        if (-len !== EAGAIN) this.recvFailed(-len);
        break;
      }
      this.failures = 0;
      if (!this.vnet) this.input(this.rx.subarray(0, len), this.checksumOffload);
      else if (len < VNET_HLEN) this.drop('LinkTruncated');
      else this.input(this.rx.subarray(VNET_HLEN, len), this.checksumTrusted(len - VNET_HLEN));
      if (n % RX_BATCH === RX_BATCH - 1) this.stack.flush();
    }
    this.stack.flush();
  }

  /**
   * Whether the transport checksum of the frame (of len bytes) behind the
   * virtio-net header in the receive buffer needs no check: the host checked
   * it (DATA_VALID), or it is partial (NEEDS_CSUM: a host's own stack made
   * the segment and left the sum to hardware, which a veth has not; it
   * crossed no wire), with its start and field inside the frame. The
   * segmentation type (a large segment the host did not cut) needs nothing.
   */
  private checksumTrusted(len: number): boolean {
    const flags = this.rx[0];
    if (flags & VNET_F_DATA_VALID) return true;
    if (!(flags & VNET_F_NEEDS_CSUM)) return false;
    const start = this.rx.readUInt16LE(6);
    const field = start + this.rx.readUInt16LE(8);
    if (start < ETH_HLEN || field + 2 > len) {
      count(this.stack.counters, 'LinkBadCsumOffsets');
      return false;
    }
    return true;
  }

  /**
   * A receive error (ENETDOWN once when the interface goes away). Errors in
   * a row without a frame between them stop the watch, so that a socket
   * that stays in error cannot keep the kernel's loop busy.
   */
  private recvFailed(errno: number): void {
    count(this.stack.counters, 'LinkRxErrors');
    if (++this.failures < MAX_FAILURES) return;
    this.env.log(`${this.name}: recv failed ${MAX_FAILURES} times in a row (errno ${errno}): the interface is no longer read`);
    if (this.watch) this.env.events.unwatch(this.watch);
    this.watch = null;
  }

  /** One frame from the link (a view of the receive buffer: kept frames are copied, or the buffer handed over), its transport checksum taken as verified or not. */
  private input(f: Buffer, verified: boolean): void {
    if (f.length < ETH_HLEN) return this.drop('LinkTruncated');
    // Ours, broadcast or multicast: a bridge floods unicast for others too, which a NIC ignores.
    if ((f[0] & 1) === 0 && !this.mac.equals(f.subarray(0, 6))) return void count(this.stack.counters, 'LinkOtherHost');
    this.stats.rxPackets++;
    this.stats.rxBytes += f.length;
    const type = f.readUInt16BE(12);
    if (type === ETH_P_ARP) return this.arp(f);
    if (type === ETH_P_IPV6 && f.length >= ETH_HLEN + IPV6_HLEN + 24 && f[ETH_HLEN + 6] === IPPROTO_ICMPV6) {
      const t = f[ETH_HLEN + IPV6_HLEN];
      if (t === NS || t === NA) return this.ndp(f, t);
    }
    if (type !== ETH_P_IP && type !== ETH_P_IPV6) return this.drop('LinkUnknownProto');
    this.stack.receive(this, this.keep(f), verified);
  }

  /** The frame f of the receive buffer, for the stack to keep: a large one in the buffer itself (a new buffer is taken for what follows), a small one copied. */
  private keep(f: Buffer): Buffer {
    if (f.length < RX_HANDOVER) return Buffer.from(f);
    this.rx = Buffer.allocUnsafeSlow(RX_MAX);
    return f;
  }

  private drop(why: string): void {
    this.stats.rxDropped++;
    count(this.stack.counters, why);
  }

  private isOwn(ip: Ip): boolean {
    return this.own.some((a) => a.ip === ip);
  }

  private arp(f: Buffer): void {
    const o = ETH_HLEN;
    if (f.length < o + ARP_LEN || f.readUInt16BE(o) !== 1 || f.readUInt16BE(o + 2) !== ETH_P_IP || f[o + 4] !== 6 || f[o + 5] !== 4) return this.drop('ArpInvalid');
    const op = f.readUInt16BE(o + 6);
    const sha = f.subarray(o + 8, o + 14);
    const spa = ipFromBytes(f, o + 14, 4);
    const tpa = ipFromBytes(f, o + 24, 4);
    if ((op !== 1 && op !== 2) || (sha[0] & 1)) return this.drop('ArpInvalid');
    count(this.stack.counters, 'ArpIn');
    // A probe (sender 0.0.0.0) teaches nothing.
    const known = spa.slice(24) !== '00000000';
    const forUs = this.isOwn(tpa);
    if (known) this.neigh.learn(spa, sha, op === 1 && forUs);
    if (op !== 1 || !forUs) return;
    const r = this.allocFrame(ETH_HLEN + ARP_LEN).fill(0);
    r.writeUInt16BE(ETH_P_ARP, 12);
    writeArpBody(r, this.mac, 2, tpa, Buffer.from(sha), known ? spa : tpa);
    this.send(r, Buffer.from(sha));
  }

  private ndp(f: Buffer, type: number): void {
    const o = ETH_HLEN;
    const plen = f.readUInt16BE(o + 4);
    if (o + IPV6_HLEN + plen > f.length || plen < 24) return this.drop('Icmp6InErrors');
    const src = ipFromBytes(f, o + 8, 16);
    const dst = ipFromBytes(f, o + 24, 16);
    const body = f.subarray(o + IPV6_HLEN, o + IPV6_HLEN + plen);
    // RFC 4861 7.1.1: hop limit 255 (not forwarded), code 0, a valid checksum.
    if (f[o + 7] !== 255 || body[1] !== 0 || foldSum(sumBytes(body, 0, body.length, pseudoSum(false, src, dst, IPPROTO_ICMPV6, body.length))) !== 0xffff) return this.drop('Icmp6InErrors');
    const target = ipFromBytes(body, 8, 16);
    // The link-layer address option (source for a solicitation, target for an advertisement).
    let ll: Buffer | null = null;
    for (let p = 24; p + 8 <= body.length; ) {
      const len = body[p + 1] * 8;
      if (len === 0) return this.drop('Icmp6InErrors');
      if (body[p] === (type === NS ? 1 : 2) && len >= 8) ll = body.subarray(p + 2, p + 8);
      p += len;
    }
    if (ll && (ll[0] & 1)) return this.drop('Icmp6InErrors');
    if (type === NA) {
      if (ll) this.neigh.learn(target, ll, false);
      return;
    }
    if (!this.isOwn(target)) return;
    const unspecified = /^0+$/.test(src);
    if (ll && !unspecified) this.neigh.learn(src, ll, true);
    // The advertisement: solicited (to a unicast asker), override, with our link-layer address.
    const na = Buffer.alloc(32);
    na[0] = NA;
    na.writeUInt32BE(unspecified ? 0x20000000 : 0x60000000, 4);
    na.write(target, 8, 'hex');
    na[24] = 2;
    na[25] = 1;
    this.mac.copy(na, 26);
    const to = unspecified ? 'ff020000000000000000000000000001' : src;
    this.sendNdp(target, to, finish(na, false, target, to), unspecified ? Buffer.from('333300000001', 'hex') : Buffer.from(ll ?? f.subarray(6, 12)));
  }

  /** The sandbox ends: stop watching and close the socket. */
  close(): void {
    if (this.fd < 0 || this.closed) return;
    this.closed = true;
    if (this.watch) this.env.events.unwatch(this.watch);
    this.watch = null;
    hs.close(this.fd);
  }
}
