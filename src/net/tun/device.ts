// tun devices (Documentation/networking/tuntap.rst): interfaces of a network
// namespace's stack whose far side is a file, /dev/net/tun opened and
// attached by TUNSETIFF (tun/file.ts). What the stack routes to one waits
// in its queue (at most txqlen packets, Linux's default 500; more are
// dropped and counted) until the application reads it; what the application
// writes is received by the stack as if it came in on the interface.
// A TAP device (IFF_TAP) carries Ethernet frames instead, through its
// TapLink (tap.ts: ARP, IPv4 only). Nothing here reaches the host's network.
import { Errno, E } from '../../abi/errno';
import { AF_INET } from '../../abi/socket';
import {
  ARPHRD_ETHER, IFA_F_PERMANENT, IFF_BROADCAST, IFF_LOWER_UP, IFF_MULTICAST, IFF_NOARP, IFF_RUNNING, IFF_UP, IF_OPER_DOWN, IF_OPER_UNKNOWN, RT_SCOPE_HOST, RT_SCOPE_LINK,
  RT_SCOPE_UNIVERSE, RT_TABLE_LOCAL, RT_TABLE_MAIN, RTN_LOCAL, RTN_UNICAST, RTPROT_BOOT, zeroStats, type NetSnapshot,
} from '../../abi/netif';
import { FOREVER, route, type ExtraLinks } from '../../kernel/netinfo';
import type { WaitQueue } from '../../abi/waitqueue';
import { EVENT_IN, EVENT_RDNORM } from '../../abi/waitqueue';
import { ipFromBytes, type Ip } from '../ip/addr';
import { ETH_HLEN } from '../ip/ip';
import type { Nic, NicStats } from '../link';
import type { Stack } from '../stack';
import { TapLink } from './tap';

/** IFF_POINTOPOINT: a tun device's link has one peer and no broadcast. */
const IFF_POINTOPOINT = 0x10;
/** RTNH_F_LINKDOWN: a route through a device without carrier (no file attached). */
const RTNH_F_LINKDOWN = 0x10;
/** ARPHRD_NONE: a tun device carries bare IP packets. */
const ARPHRD_NONE = 0xfffe;
/** Linux's tun default queue length (TUN_READQ_SIZE) and MTU. */
export const TUN_TXQLEN = 500;
const TUN_MTU = 1500;
const MIN_MTU = 68;
const MAX_MTU = 65535;
/** Devices a namespace may hold at once (Linux has no such bound; each here costs Sentry memory up to its queue). */
export const MAX_TUN_DEVICES = 64;
/** Routes the application may add through one device. */
const MAX_ROUTES = 256;
/** What a device costs the heap budget besides its queue. */
const DEVICE_COST = 4096;

export interface TunAddr {
  family: number;
  addr: Buffer;
  prefixlen: number;
}

/** The bits of the file's side a device knows: where packets go, and whom to wake. */
export interface TunReader {
  readonly queue: WaitQueue;
}

export class TunDevice implements Nic {
  mtu = TUN_MTU;
  /** The queue's length in packets (ip link set DEV txqueuelen N); what it holds is also charged to the heap budget. */
  txqlen = TUN_TXQLEN;
  readonly checksumOffload = false;
  readonly stats: NicStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0 };
  txDropped = 0;
  up = false;
  persist = false;
  /** TUNSETOWNER/TUNSETGROUP: who may attach besides CAP_NET_ADMIN (-1: anyone with it). */
  owner = -1;
  group = -1;
  /** IFF_NO_PI and the other per-attachment flags (TUN_FEATURES' part). */
  flags = 0;
  /** The file attached, or null (packets for the device are then dropped, as Linux's carrier is off). */
  reader: TunReader | null = null;
  /** Packets to read: IP packets, without the stack's Ethernet header room. */
  readonly packets: Buffer[] = [];
  private queuedBytes = 0;
  readonly addrs: TunAddr[] = [];
  /** Routes through the device the application added (ip route add NET dev DEV): prefixlen is the route's length. */
  readonly routes: TunAddr[] = [];

  /** The Ethernet link of a TAP device (IFF_TAP), or null for TUN. */
  readonly tap: TapLink | null;

  constructor(readonly name: string, readonly index: number, private readonly links: TunLinks, tap = false) {
    this.tap = tap ? new TapLink(this, links.stack) : null;
  }

  transmit(frame: Buffer): void {
    if (this.tap) this.tap.output(frame);
    else this.queueFrame(frame.subarray(ETH_HLEN));
  }

  /** A packet (a frame for TAP) for the reader: queued while there is one, the device is up and the queue has room, else dropped and counted. */
  queueFrame(pkt: Buffer): void {
    const heap = this.links.stack.heap;
    if (!this.reader || !this.up || this.packets.length >= this.txqlen || (heap && !heap.tryCharge(pkt.length))) return this.dropOut();
    this.packets.push(pkt);
    this.queuedBytes += pkt.length;
    this.stats.txPackets++;
    this.stats.txBytes += pkt.length;
    this.reader.queue.notify(EVENT_IN | EVENT_RDNORM);
  }

  dropOut(): void {
    this.txDropped++;
  }

  /** Its addresses as the stack writes them, with their prefix in the 128-bit form (TapLink's). */
  ownAddrs(): Array<{ ip: Ip; bits: number }> {
    return this.addrs.map((a) => {
      const v4 = a.family === AF_INET;
      return { ip: ipFromBytes(a.addr, 0, v4 ? 4 : 16), bits: (v4 ? 96 : 0) + a.prefixlen };
    });
  }

  /** The next packet for the reader, or undefined. */
  take(): Buffer | undefined {
    const p = this.packets.shift();
    if (p) {
      this.queuedBytes -= p.length;
      this.links.stack.heap?.uncharge(p.length);
    }
    return p;
  }

  /** A packet the application wrote (IPv4 or IPv6, the version already checked; for TAP a whole frame, at least its header) goes to the stack's receive path. */
  inject(pkt: Buffer, ethertype: number): void {
    let frame: Buffer;
    if (this.tap) frame = Buffer.from(pkt);
    else {
      frame = Buffer.alloc(ETH_HLEN + pkt.length);
      frame.writeUInt16BE(ethertype, 12);
      pkt.copy(frame, ETH_HLEN);
    }
    this.stats.rxPackets++;
    this.stats.rxBytes += pkt.length;
    const s = this.links.stack;
    if (!this.up) {
      this.stats.rxDropped++;
      return;
    }
    if (this.tap && !this.tap.input(frame)) return;
    s.receive(this, frame);
    s.flush();
  }

  /** The file went away: queued packets are dropped. */
  detach(): void {
    this.reader = null;
    while (this.packets.length) this.take();
    if (!this.persist) this.links.remove(this);
  }

  /** Its flags as SIOCGIFFLAGS and RTM_GETLINK show them: running while up with a file attached. */
  ifFlags(): number {
    const base = this.tap ? IFF_BROADCAST | IFF_MULTICAST : IFF_POINTOPOINT | IFF_NOARP | IFF_MULTICAST;
    if (!this.up) return base;
    return base | IFF_UP | (this.reader ? IFF_RUNNING | IFF_LOWER_UP : 0);
  }
}

const prefixNet = (a: Buffer, bits: number): Buffer => {
  const out = Buffer.from(a);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    out[i] &= (0xff00 >> keep) & 0xff;
  }
  return out;
};

/** A namespace's tun devices, as its interface table's ExtraLinks and the stack's NICs. */
export class TunLinks implements ExtraLinks {
  readonly devices = new Map<string, TunDevice>();
  private nextIndex = 0;

  constructor(readonly stack: Stack, private readonly firstFree: () => number) {}

  get size(): number {
    return this.devices.size;
  }

  byName(name: string): TunDevice | undefined {
    return this.devices.get(name);
  }

  private byIndex(index: number): TunDevice | undefined {
    for (const d of this.devices.values()) if (d.index === index) return d;
    return undefined;
  }

  /** A new device named name, or with a %d in it the first free number; indexes are never reused (as Linux's). */
  create(pattern: string, tap = false): TunDevice {
    if (this.devices.size >= MAX_TUN_DEVICES) throw new Errno(E.ENOMEM);
    let name = pattern;
    if (pattern.includes('%d')) {
      if (pattern.indexOf('%d') !== pattern.lastIndexOf('%d') || pattern.replace('%d', '').includes('%')) throw new Errno(E.EINVAL);
      let i = 0;
      while (this.nameTaken(pattern.replace('%d', String(i)))) i++;
      name = pattern.replace('%d', String(i));
      if (name.length > 15) throw new Errno(E.ENFILE);
    } else if (this.nameTaken(name)) throw new Errno(E.EEXIST);
    this.stack.heap?.charge(DEVICE_COST, E.ENOMEM);
    this.nextIndex = Math.max(this.nextIndex, this.firstFree());
    const d = new TunDevice(name, this.nextIndex++, this, tap);
    this.devices.set(name, d);
    this.stack.nics.push(d);
    return d;
  }

  private nameTaken(name: string): boolean {
    return this.devices.has(name) || this.stack.nicByName(name) !== undefined || name === 'lo';
  }

  /** The device leaves the namespace: its routes with it. */
  remove(d: TunDevice): void {
    if (this.devices.get(d.name) !== d) return;
    this.devices.delete(d.name);
    this.stack.detach(d);
    this.stack.heap?.uncharge(DEVICE_COST);
  }

  has(index: number): boolean {
    return this.byIndex(index) !== undefined;
  }

  isUp(index: number): boolean {
    return this.byIndex(index)?.up ?? false;
  }

  setUp(index: number, up: boolean): void {
    const d = this.byIndex(index);
    if (!d) throw new Errno(E.ENODEV);
    d.up = up;
    this.configure(d);
  }

  /** A tun device's MTU is 68 to 65535 (Linux's bounds), its queue length any count. */
  setLinkValue(index: number, what: 'mtu' | 'txqlen', value: number): void {
    const d = this.byIndex(index);
    if (!d) throw new Errno(E.ENODEV);
    if (what === 'txqlen') {
      d.txqlen = value >>> 0;
      return;
    }
    if (value < MIN_MTU || value > MAX_MTU) throw new Errno(E.EINVAL);
    d.mtu = value;
  }

  addAddress(index: number, family: number, addr: Buffer, prefixlen: number, replace: boolean): boolean {
    const d = this.byIndex(index);
    if (!d) throw new Errno(E.ENODEV);
    const same = d.addrs.find((a) => a.family === family && a.addr.equals(addr));
    if (same && same.prefixlen === prefixlen) return false;
    if (same) same.prefixlen = prefixlen;
    else {
      const at = replace ? d.addrs.findIndex((a) => a.family === family) : -1;
      if (at >= 0) d.addrs[at] = { family, addr: Buffer.from(addr), prefixlen };
      else if (d.addrs.length >= 16) throw new Errno(E.ENOSPC);
      else d.addrs.push({ family, addr: Buffer.from(addr), prefixlen });
    }
    this.configure(d);
    return true;
  }

  delAddress(index: number, family: number, addr: Buffer): boolean {
    const d = this.byIndex(index);
    if (!d) throw new Errno(E.ENODEV);
    const at = d.addrs.findIndex((a) => a.family === family && a.addr.equals(addr));
    if (at < 0) return false;
    d.addrs.splice(at, 1);
    this.configure(d);
    return true;
  }

  /** A route through d: kept as given (the network's bits), bounded per device. */
  changeRoute(index: number, family: number, dst: Buffer, dstLen: number, add: boolean): boolean {
    const d = this.byIndex(index);
    if (!d) throw new Errno(E.ENODEV);
    const net = prefixNet(dst, dstLen);
    const at = d.routes.findIndex((r) => r.family === family && r.prefixlen === dstLen && r.addr.equals(net));
    if (add === at >= 0) return false;
    if (!add) d.routes.splice(at, 1);
    else if (d.routes.length >= MAX_ROUTES) throw new Errno(E.ENOSPC);
    else d.routes.push({ family, addr: net, prefixlen: dstLen });
    this.configure(d);
    return true;
  }

  /** The stack's addresses and on-link routes of d: none while it is down (Linux removes the routes of a down device). */
  private configure(d: TunDevice): void {
    this.stack.forget(d);
    const ips: Ip[] = d.addrs.map((a) => ipFromBytes(a.addr, 0, a.family === AF_INET ? 4 : 16));
    // The addresses are the host's even while the device is down (Linux answers to them over lo).
    this.stack.attach(d, ips, false);
    if (!d.up) return;
    d.addrs.forEach((a, i) => {
      const bits = (a.family === AF_INET ? 96 : 0) + a.prefixlen;
      this.stack.addOnLink(d, ips[i], bits);
    });
    // Added routes leave from the device's first address of their family; without one the stack has no source for them and they route nothing.
    for (const r of d.routes) {
      const v4 = r.family === AF_INET;
      const src = d.addrs.findIndex((a) => a.family === r.family);
      if (src >= 0) this.stack.addOnLink(d, ipFromBytes(r.addr, 0, v4 ? 4 : 16), (v4 ? 96 : 0) + r.prefixlen, ips[src]);
    }
  }

  addTo(s: NetSnapshot): void {
    for (const d of this.devices.values()) {
      s.links.push({
        index: d.index, name: d.name, type: d.tap ? ARPHRD_ETHER : ARPHRD_NONE, flags: d.ifFlags(), mtu: d.mtu, link: null,
        hwaddr: d.tap ? d.tap.mac : Buffer.alloc(0), broadcast: d.tap ? Buffer.alloc(6, 0xff) : Buffer.alloc(0),
        qdisc: d.up ? 'pfifo_fast' : 'noop', txqlen: d.txqlen, operstate: d.up && d.reader ? IF_OPER_UNKNOWN : IF_OPER_DOWN, linkmode: 0, group: 0,
        stats: { ...zeroStats(), rxPackets: d.stats.rxPackets, rxBytes: d.stats.rxBytes, txPackets: d.stats.txPackets, txBytes: d.stats.txBytes, rxDropped: d.stats.rxDropped, txDropped: d.txDropped },
      });
      for (const a of d.addrs) {
        const v4 = a.family === AF_INET;
        s.addrs.push({
          family: a.family, index: d.index, prefixlen: a.prefixlen, scope: RT_SCOPE_UNIVERSE, flags: IFA_F_PERMANENT, address: a.addr, local: v4 ? a.addr : null,
          broadcast: null, label: v4 ? d.name : null, preferred: FOREVER, valid: FOREVER,
        });
        s.routes.push(route({ family: a.family, dstLen: v4 ? 32 : 128, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_HOST, dst: a.addr, prefsrc: v4 ? a.addr : null, oif: d.index, ...(v4 ? {} : { priority: 0, pref: 0 }) }));
        if (!d.up) continue;
        s.routes.push(route({
          family: a.family, dstLen: a.prefixlen, table: RT_TABLE_MAIN, type: RTN_UNICAST, scope: v4 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE, dst: prefixNet(a.addr, a.prefixlen),
          prefsrc: v4 ? a.addr : null, oif: d.index, flags: d.reader ? 0 : RTNH_F_LINKDOWN, ...(v4 ? {} : { priority: 256, pref: 0 }),
        }));
      }
      for (const r of d.routes) {
        const v4 = r.family === AF_INET;
        s.routes.push(route({
          family: r.family, dstLen: r.prefixlen, table: RT_TABLE_MAIN, type: RTN_UNICAST, scope: v4 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE, protocol: RTPROT_BOOT,
          dst: r.prefixlen ? r.addr : null, oif: d.index, flags: d.reader ? 0 : RTNH_F_LINKDOWN, ...(v4 ? {} : { priority: 1024, pref: 0 }),
        }));
      }
    }
  }
}
