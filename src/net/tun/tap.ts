// The Ethernet side of a TAP device (IFF_TAP): the stack's IPv4 packets
// leave as frames to the next hop's link-layer address, learnt by ARP
// (packet/neigh.ts's table, bounded), and frames the application writes are
// taken when addressed to the device (its address, broadcast or multicast):
// ARP answered and learnt from here, IP handed to the stack. IPv6 over a TAP
// device would need neighbour discovery, which this link does not do: such
// packets are dropped and counted.
import { ipFromBytes, isV4, samePrefix, type Ip } from '../ip/addr';
import { count, ETH_HLEN, ETH_P_IP } from '../ip/ip';
import { Neighbours, writeArpBody } from '../packet/neigh';
import type { Stack } from '../stack';

const ETH_P_ARP = 0x0806;
const ARP_LEN = 28;
const BROADCAST = Buffer.alloc(6, 0xff);

/** What the link needs of its device. */
export interface TapDevice {
  /** The device's addresses in the stack's form with their prefix (of the 128-bit form). */
  ownAddrs(): Array<{ ip: Ip; bits: number }>;
  /** Queue a whole frame for the application. */
  queueFrame(frame: Buffer): void;
  dropOut(): void;
}

export class TapLink {
  readonly mac: Buffer;
  private readonly neigh: Neighbours;

  constructor(private readonly d: TapDevice, private readonly stack: Stack) {
    // A random locally administered unicast address, as Linux's eth_random_addr.
    const r = Buffer.alloc(8);
    r.writeUInt32LE(stack.randomU32() >>> 0, 0);
    r.writeUInt32LE(stack.randomU32() >>> 0, 4);
    this.mac = Buffer.from([(r[0] & 0xfe) | 0x02, r[1], r[2], r[3], r[4], r[5]]);
    this.neigh = new Neighbours({ solicit: (ip) => this.solicit(ip), send: (f, mac) => this.send(f, mac), nowMs: () => stack.nowMs() }, stack.counters);
  }

  /** A frame from the stack (Ethernet header room with its type): to its next hop, a broadcast, or dropped. */
  output(frame: Buffer): void {
    if (frame.readUInt16BE(12) !== ETH_P_IP || frame.length < ETH_HLEN + 20) return this.d.dropOut();
    const dst = ipFromBytes(frame, ETH_HLEN + 16, 4);
    const a = parseInt(dst.slice(24), 16) >>> 0;
    if (a === 0xffffffff || this.subnetBroadcast(dst)) return this.send(frame, BROADCAST);
    if (a >>> 28 === 0xe) return this.send(frame, Buffer.from([0x01, 0x00, 0x5e, (a >> 16) & 0x7f, (a >> 8) & 0xff, a & 0xff]));
    this.neigh.output(dst, frame, 0);
  }

  private subnetBroadcast(dst: Ip): boolean {
    for (const o of this.d.ownAddrs()) {
      if (!isV4(o.ip) || o.bits >= 127 || !samePrefix(o.ip, dst, o.bits)) continue;
      const host = ((1 << (128 - o.bits)) - 1) >>> 0;
      if (((parseInt(dst.slice(24), 16) >>> 0) & host) === host) return true;
    }
    return false;
  }

  private send(frame: Buffer, mac: Buffer): void {
    mac.copy(frame, 0);
    this.mac.copy(frame, 6);
    this.d.queueFrame(frame);
  }

  /** An ARP request for ip, from the device's address on its network (or its first). */
  private solicit(ip: Ip): void {
    const own = this.d.ownAddrs().filter((o) => isV4(o.ip));
    const src = own.find((o) => samePrefix(o.ip, ip, o.bits)) ?? own[0];
    if (!src) return;
    const f = Buffer.alloc(ETH_HLEN + ARP_LEN);
    f.writeUInt16BE(ETH_P_ARP, 12);
    writeArpBody(f, this.mac, 1, src.ip, Buffer.alloc(6), ip);
    count(this.stack.counters, 'ArpOut');
    this.send(f, BROADCAST);
  }


  /** A frame the application wrote: whether the stack is to take it (IP for this device); ARP is answered here. */
  input(f: Buffer): boolean {
    const dst = f.subarray(0, 6);
    if (!(dst[0] & 1) && !dst.equals(this.mac)) {
      count(this.stack.counters, 'LinkOtherHost');
      return false;
    }
    if (f.readUInt16BE(12) !== ETH_P_ARP) return true;
    this.arp(f);
    return false;
  }

  private arp(f: Buffer): void {
    const o = ETH_HLEN;
    if (f.length < o + ARP_LEN || f.readUInt16BE(o) !== 1 || f.readUInt16BE(o + 2) !== ETH_P_IP || f[o + 4] !== 6 || f[o + 5] !== 4) return void count(this.stack.counters, 'ArpInvalid');
    const op = f.readUInt16BE(o + 6);
    const sha = Buffer.from(f.subarray(o + 8, o + 14));
    const spa = ipFromBytes(f, o + 14, 4);
    const tpa = ipFromBytes(f, o + 24, 4);
    if ((op !== 1 && op !== 2) || sha[0] & 1) return void count(this.stack.counters, 'ArpInvalid');
    count(this.stack.counters, 'ArpIn');
    const mine = this.d.ownAddrs().some((a) => a.ip === tpa);
    // Learnt from an answer, or from a question to us (RFC 826's merge); others only refresh what is known.
    this.neigh.learn(spa, sha, op === 2 || mine);
    if (op !== 1 || !mine) return;
    const r = Buffer.alloc(ETH_HLEN + ARP_LEN);
    r.writeUInt16BE(ETH_P_ARP, 12);
    writeArpBody(r, this.mac, 2, tpa, sha, spa);
    this.send(r, sha);
  }
}
