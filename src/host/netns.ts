// Taking over the interfaces of the network namespace this process is in
// (an OCI container's, where Docker or CNI put a veth), for the sandbox's
// own stack: read each Ethernet interface's MAC address, MTU, addresses and
// default routes; open an AF_PACKET socket bound to it (the Sentry's, made
// here because a confined Sentry may not); then remove its addresses from
// the host kernel's view and turn off its IPv6, so that the host kernel
// neither answers ARP or neighbour solicitations for them nor resets
// connections to the container's ports: the frames are the Sentry's alone.
// Loopback is brought up (the host socket that carries Docker's embedded DNS
// needs 127.0.0.11 there) and otherwise left alone.
import * as fs from 'node:fs';
import * as libc from './libc';
import {
  AF_NETLINK, ARPHRD_ETHER, IFF_LOOPBACK, IFF_UP, IFINFOMSG_LEN, IFA_LOCAL, IFA_ADDRESS, NETLINK_ROUTE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_ACK,
  NLM_F_REQUEST, RTM_NEWLINK, RTN_UNICAST, RT_TABLE_MAIN, type LinkAddr, type LinkConfig, type LinkRoute, type NetSnapshot,
} from '../abi/netif';
import { AF_INET, AF_INET6 } from '../abi/socket';
import { HostInterfaces } from './hostnetinfo';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const ETH_P_ALL = 0x0003;
const SOL_SOCKET = 1;
const SO_RCVBUFFORCE = 33;
const SO_SNDBUFFORCE = 32;
const SOL_PACKET = 263;
const PACKET_IGNORE_OUTGOING = 23;
const PACKET_VNET_HDR = 15;
const RTM_DELADDR = 21;
const RT_SCOPE_LINK = 253;
/** The socket buffers of a packet socket: room for a burst of full-size (GSO) frames. */
const PACKET_BUFFER = 4 << 20;

const htons = (v: number): number => ((v & 0xff) << 8) | (v >> 8);

/** A host failure of the take-over, with what was being done. */
export class TakeoverError extends Error {}

function check(rc: number | bigint, what: string): number {
  const n = Number(rc);
  if (n < 0) throw new TakeoverError(`network take-over: ${what}: errno ${libc.errno()}`);
  return n;
}

/** One netlink request, and its acknowledgement's error (0, or a negative errno). */
function request(fd: number, type: number, body: Buffer, seq: number): number {
  const msg = Buffer.alloc(NLMSG_HDRLEN + body.length);
  msg.writeUInt32LE(msg.length, 0);
  msg.writeUInt16LE(type, 4);
  msg.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK, 6);
  msg.writeUInt32LE(seq, 8);
  body.copy(msg, NLMSG_HDRLEN);
  check(libc.send(fd, msg, msg.length, 0), 'netlink send');
  const buf = Buffer.alloc(4096);
  for (;;) {
    const n = check(libc.recv(fd, buf, buf.length, 0), 'netlink recv');
    for (let off = 0; off + NLMSG_HDRLEN <= n; ) {
      const len = buf.readUInt32LE(off);
      if (len < NLMSG_HDRLEN) break;
      if (buf.readUInt16LE(off + 4) === NLMSG_ERROR && buf.readUInt32LE(off + 8) === seq) return buf.readInt32LE(off + NLMSG_HDRLEN);
      off += (len + 3) & ~3;
    }
  }
}

/** RTM_DELADDR for one address of interface index. */
function deleteAddress(nl: number, index: number, family: number, prefix: number, scope: number, addr: Buffer, seq: number): void {
  const attr = (type: number) => {
    const a = Buffer.alloc((4 + addr.length + 3) & ~3);
    a.writeUInt16LE(4 + addr.length, 0);
    a.writeUInt16LE(type, 2);
    addr.copy(a, 4);
    return a;
  };
  const msg = Buffer.alloc(8);
  msg[0] = family;
  msg[1] = prefix;
  msg[3] = scope;
  msg.writeUInt32LE(index, 4);
  const body = Buffer.concat([msg, attr(IFA_LOCAL), ...(family === AF_INET6 ? [] : [attr(IFA_ADDRESS)])]);
  const err = request(nl, RTM_DELADDR, body, seq);
  // ENOADDR (EADDRNOTAVAIL): gone already (IPv6 was turned off first).
  if (err !== 0 && err !== -99) throw new TakeoverError(`network take-over: removing an address of interface ${index}: errno ${-err}`);
}

/**
 * An AF_PACKET socket bound to interface index, non-blocking, with large
 * buffers, not seeing its own transmissions, and with virtio-net headers if
 * the host allows them (the host then cuts the Sentry's large TCP segments
 * and hands it its own unsegmented).
 */
function packetSocket(index: number): { fd: number; vnetHdr: boolean } {
  const fd = check(libc.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL)) as number, 'socket(AF_PACKET)');
  try {
    const sll = Buffer.alloc(20);
    sll.writeUInt16LE(AF_PACKET, 0);
    sll.writeUInt16BE(ETH_P_ALL, 2);
    sll.writeInt32LE(index, 4);
    check(libc.bind(fd, sll, sll.length) as number, 'bind(AF_PACKET)');
    const one = Buffer.alloc(4);
    one.writeInt32LE(1, 0);
    check(libc.setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, one, 4) as number, 'PACKET_IGNORE_OUTGOING');
    const vnetHdr = Number(libc.setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, one, 4)) === 0;
    const size = Buffer.alloc(4);
    size.writeInt32LE(PACKET_BUFFER, 0);
    libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4);
    libc.setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, size, 4);
    return { fd, vnetHdr };
  } catch (e) {
    libc.close(fd);
    throw e;
  }
}

/** The first prefix bits of addr, the rest zero. */
function prefixOf(addr: Buffer, prefix: number): Buffer {
  const out = Buffer.from(addr);
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return out;
}

/**
 * The main table's unicast routes through interface index other than the
 * default routes and its addresses' own networks (the kernel's), and other
 * than IPv6's link-local and multicast ones: what CNI or a hook added.
 */
function otherRoutes(s: NetSnapshot, index: number, addrs: readonly LinkAddr[]): LinkRoute[] {
  const out: LinkRoute[] = [];
  for (const r of s.routes) {
    if (r.table !== RT_TABLE_MAIN || r.type !== RTN_UNICAST || r.oif !== index || r.dstLen === 0 || !r.dst) continue;
    if (r.family !== AF_INET && r.family !== AF_INET6) continue;
    if (r.family === AF_INET6 && (r.dst[0] === 0xff || (r.dst[0] === 0xfe && (r.dst[1] & 0xc0) === 0x80))) continue;
    const own = !r.gateway && addrs.some((a) => a.addr.length === r.dst?.length && a.prefix === r.dstLen && prefixOf(a.addr, a.prefix).equals(r.dst));
    if (own) continue;
    out.push({ dst: prefixOf(r.dst, r.dstLen), prefix: r.dstLen, gateway: r.gateway ? Buffer.from(r.gateway) : null });
  }
  return out;
}

/** What the namespace's Ethernet interfaces are configured with (their fd still -1). */
function configured(s: NetSnapshot): Array<{ index: number; link: Omit<LinkConfig, 'fd' | 'vnetHdr'>; remove: Array<{ family: number; prefix: number; scope: number; addr: Buffer }> }> {
  const out = [];
  for (const l of s.links) {
    if (l.type !== ARPHRD_ETHER || (l.flags & IFF_LOOPBACK) || l.hwaddr.length !== 6) continue;
    const own = s.addrs.filter((a) => a.index === l.index && (a.family === AF_INET || a.family === AF_INET6));
    const addrs: LinkAddr[] = own.filter((a) => a.scope !== RT_SCOPE_LINK).map((a) => ({ addr: Buffer.from(a.local ?? a.address), prefix: a.prefixlen }));
    const gw = (family: number) => s.routes.find((r) => r.family === family && r.dstLen === 0 && r.table === RT_TABLE_MAIN && r.oif === l.index && r.gateway)?.gateway ?? null;
    out.push({
      index: l.index,
      link: { name: l.name, mac: Buffer.from(l.hwaddr), mtu: l.mtu || 1500, addrs, gateway4: gw(AF_INET), gateway6: gw(AF_INET6), routes: otherRoutes(s, l.index, addrs) },
      remove: own.map((a) => ({ family: a.family, prefix: a.prefixlen, scope: a.scope, addr: Buffer.from(a.local ?? a.address) })),
    });
  }
  return out;
}

/**
 * Take over the Ethernet interfaces of this process's network namespace
 * (none: an empty list, as with `docker run --network none`). Needs
 * CAP_NET_ADMIN and CAP_NET_RAW in the namespace. Throws TakeoverError.
 */
export function takeOverInterfaces(): LinkConfig[] {
  const snap = new HostInterfaces().snapshot();
  const found = configured(snap);
  const nl = check(libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE) as number, 'socket(AF_NETLINK)');
  const out: LinkConfig[] = [];
  try {
    let seq = 1;
    const lo = snap.links.find((l) => l.flags & IFF_LOOPBACK);
    if (lo && !(lo.flags & IFF_UP)) {
      const ifi = Buffer.alloc(IFINFOMSG_LEN);
      ifi.writeInt32LE(lo.index, 4);
      ifi.writeUInt32LE(IFF_UP, 8);
      ifi.writeUInt32LE(IFF_UP, 12);
      const err = request(nl, RTM_NEWLINK, ifi, seq++);
      if (err !== 0) throw new TakeoverError(`network take-over: bringing loopback up: errno ${-err}`);
    }
    for (const f of found) {
      out.push({ ...f.link, ...packetSocket(f.index) });
      // IPv6 off first: the kernel then forgets its IPv6 addresses (link-local too) and does no neighbour discovery or autoconfiguration on it.
      try {
        fs.writeFileSync(`/proc/sys/net/ipv6/conf/${f.link.name}/disable_ipv6`, '1');
      } catch {
        // no IPv6 in this kernel: nothing to turn off
      }
      for (const a of f.remove) deleteAddress(nl, f.index, a.family, a.prefix, a.scope, a.addr, seq++);
    }
  } catch (e) {
    for (const l of out) libc.close(l.fd);
    throw e;
  } finally {
    libc.close(nl);
  }
  return out;
}
