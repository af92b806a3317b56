// Taking over the interfaces of the network namespace this process is in
// (an OCI container's, where Docker or CNI put a veth), for the sandbox's
// own stack: read each Ethernet interface's MAC address, MTU, addresses and
// default routes; open an AF_PACKET socket bound to it (the Sentry's, made
// here because a confined Sentry may not); then remove its addresses from
// the host kernel's view (IPv6 ones too, link-local included, with IPv6's
// own address generation and router advertisements off there), so that the
// host kernel neither answers ARP or neighbour solicitations for them nor
// resets connections to the container's ports: the frames are the Sentry's
// alone.
// Loopback is brought up (the host socket that carries Docker's embedded DNS
// needs 127.0.0.11 there) and otherwise left alone.
//
// After start the namespace keeps changing (`docker network connect` moves
// a new veth in, `ip addr add` or `ip route del default` inside it): a
// NETLINK_ROUTE socket subscribed to its link, address and route groups
// tells the Sentry, which calls sync() again. The host's main table keeps
// each taken interface's routes: its addresses' networks as link routes
// without a source (a route added later through a gateway there is then
// accepted, as Docker's gateway change does, IPv4 and IPv6), its other
// routes and its default routes, so that a default route deleted or
// replaced there is seen; two rules per family keep the namespace's own
// traffic off those (without an address it would leave from 0.0.0.0 and
// wait, as Docker's resolver forwarding a query, instead of failing at
// once).
import * as fs from 'node:fs';
import * as libc from './libc';
import {
  AF_NETLINK, ARPHRD_ETHER, IFF_LOOPBACK, IFF_UP, IFINFOMSG_LEN, IFA_LOCAL, IFA_ADDRESS, NETLINK_ROUTE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_ACK,
  NLM_F_REQUEST, IFA_F_NODAD, RTA_DST, RTA_GATEWAY, RTA_OIF, RTM_NEWLINK, RTM_NEWROUTE, RTMSG_LEN, RTN_UNICAST, RTPROT_BOOT, RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN, type LinkAddr, type LinkConfig, type LinkRoute, type LinkUpdate, type NetSnapshot,
} from '../abi/netif';
import { AF_INET, AF_INET6, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOL_SOCKET, SO_RCVBUFFORCE } from '../abi/socket';
import { HostInterfaces } from './hostnetinfo';
import { RouteWatch, sameHostRoute } from './route_watch';
import { TakeoverError, check, packetSocket } from './packet_socket';

const RTM_DELADDR = 21;
const RT_SCOPE_LINK = 253;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
/** rtnetlink's multicast groups: links, IPv4 and IPv6 addresses and routes. */
const RTMGRP_LINK = 0x1, RTMGRP_IPV4_IFADDR = 0x10, RTMGRP_IPV4_ROUTE = 0x40, RTMGRP_IPV6_IFADDR = 0x100, RTMGRP_IPV6_ROUTE = 0x400;
/** RTM_NEWRULE, struct fib_rule_hdr's actions and the attributes used: where the rules that keep the namespace's own traffic off its default routes go (before main's 32766). */
const RTM_NEWRULE = 32, FR_ACT_TO_TBL = 1, FR_ACT_UNREACHABLE = 7, FRA_PRIORITY = 6, FRA_SUPPRESS_PREFIXLEN = 14, FRA_TABLE = 15, RULE_PREF = 32764;
const EEXIST = 17, EADDRNOTAVAIL = 99, ENETDOWN = 100;
/** Interfaces taken over at most (more are left to the host, and logged by the caller through the update's silence). */
const MAX_LINKS = 32;
/** The monitor socket's receive buffer: a burst of changes; an overflow (ENOBUFS) only means a look is due. */
const MONITOR_BUFFER = 256 << 10;

/** One netlink request, and its acknowledgement's error (0, or a negative errno). */
function request(fd: number, type: number, body: Buffer, seq: number, flags = 0): number {
  const msg = Buffer.alloc(NLMSG_HDRLEN + body.length);
  msg.writeUInt32LE(msg.length, 0);
  msg.writeUInt16LE(type, 4);
  msg.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK | flags, 6);
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

/** A netlink attribute holding a 32-bit number. */
const u32attr = (type: number, v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v, 0);
  return rtattr(type, b);
};

/** A netlink attribute (struct rtattr) holding data. */
function rtattr(type: number, data: Buffer): Buffer {
  const a = Buffer.alloc((4 + data.length + 3) & ~3);
  a.writeUInt16LE(4 + data.length, 0);
  a.writeUInt16LE(type, 2);
  data.copy(a, 4);
  return a;
}

/**
 * RTM_NEWROUTE of an IPv4 or IPv6 route of the main table through interface
 * index: 0 when added or there already, else the error.
 */
function addRoute(nl: number, index: number, r: LinkRoute, seq: number): number {
  const rtm = Buffer.alloc(RTMSG_LEN);
  rtm[0] = r.dst.length === 4 ? AF_INET : AF_INET6;
  rtm[1] = r.prefix;
  rtm[4] = RT_TABLE_MAIN;
  rtm[5] = RTPROT_BOOT;
  rtm[6] = r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rtm[7] = RTN_UNICAST;
  const oif = Buffer.alloc(4);
  oif.writeUInt32LE(index, 0);
  const body = Buffer.concat([rtm, ...(r.prefix > 0 ? [rtattr(RTA_DST, r.dst)] : []), ...(r.gateway ? [rtattr(RTA_GATEWAY, r.gateway)] : []), rtattr(RTA_OIF, oif)]);
  const err = request(nl, RTM_NEWROUTE, body, seq, NLM_F_CREATE | NLM_F_EXCL);
  return err === -EEXIST ? 0 : err;
}

/** RTM_DELADDR for one address of interface index. */
function deleteAddress(nl: number, index: number, family: number, prefix: number, scope: number, addr: Buffer, seq: number): void {
  const attr = (type: number) => rtattr(type, addr);
  const msg = Buffer.alloc(8);
  msg[0] = family;
  msg[1] = prefix;
  msg[3] = scope;
  msg.writeUInt32LE(index, 4);
  const body = Buffer.concat([msg, attr(IFA_LOCAL), ...(family === AF_INET6 ? [] : [attr(IFA_ADDRESS)])]);
  const err = request(nl, RTM_DELADDR, body, seq);
  // ENOADDR (EADDRNOTAVAIL): gone already.
  if (err !== 0 && err !== -EADDRNOTAVAIL) throw new TakeoverError(`network take-over: removing an address of interface ${index}: errno ${-err}`);
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

/** One Ethernet interface of a snapshot: its configuration as the host shows it, and the addresses to delete from the host's view. */
interface Seen {
  index: number;
  up: boolean;
  link: Omit<LinkConfig, 'fd' | 'vnetHdr'>;
  remove: Array<{ family: number; prefix: number; scope: number; addr: Buffer }>;
  /** The networks of the main table's link routes through it (IPv6 link-local's too), to tell which of its addresses' networks the host lost. */
  nets: LinkRoute[];
}

/**
 * seen with the routes the host has now: deleting an interface's last IPv4
 * address flushes every route through it, so one added since the snapshot
 * (Docker sets the gateway right after it brings the interface up) would be
 * lost unless read again just before.
 */
function freshen(seen: Seen, s: NetSnapshot): Seen {
  const routes = new HostInterfaces().routes();
  if (!routes) return seen;
  const again = configured({ ...s, routes }).find((x) => x.index === seen.index);
  return again ? { ...seen, link: { ...seen.link, gateway4: again.link.gateway4, gateway6: again.link.gateway6, routes: again.link.routes } } : seen;
}

/** What the namespace's Ethernet interfaces are configured with, as the host shows them. */
function configured(s: NetSnapshot): Seen[] {
  const out: Seen[] = [];
  for (const l of s.links) {
    if (l.type !== ARPHRD_ETHER || (l.flags & IFF_LOOPBACK) || l.hwaddr.length !== 6) continue;
    const own = s.addrs.filter((a) => a.index === l.index && (a.family === AF_INET || a.family === AF_INET6));
    // IPv6's link-local addresses are the sandbox's too (as under runc, `ip -6 addr` shows them); IPv4's link-scope ones stay the host's.
    const addrs: LinkAddr[] = own.filter((a) => a.scope !== RT_SCOPE_LINK || a.family === AF_INET6).map((a) => ({
      addr: Buffer.from(a.local ?? a.address), prefix: a.prefixlen, ...(a.scope === RT_SCOPE_LINK ? { scope: RT_SCOPE_LINK } : {}), ...(a.flags & IFA_F_NODAD ? { flags: IFA_F_NODAD } : {}),
    }));
    const gw = (family: number) => s.routes.find((r) => r.family === family && r.dstLen === 0 && r.table === RT_TABLE_MAIN && r.oif === l.index && r.gateway)?.gateway ?? null;
    out.push({
      index: l.index, up: (l.flags & IFF_UP) !== 0,
      link: { name: l.name, mac: Buffer.from(l.hwaddr), mtu: l.mtu || 1500, addrs, gateway4: gw(AF_INET), gateway6: gw(AF_INET6), routes: otherRoutes(s, l.index, addrs), hostIndex: l.index },
      remove: own.map((a) => ({ family: a.family, prefix: a.prefixlen, scope: a.scope, addr: Buffer.from(a.local ?? a.address) })),
      nets: s.routes.filter((r) => r.table === RT_TABLE_MAIN && r.oif === l.index && !r.gateway && r.dst && r.dstLen > 0).map((r) => ({ dst: prefixOf(r.dst as Buffer, r.dstLen), prefix: r.dstLen, gateway: null })),
    });
  }
  return out;
}

/** An interface taken over: its configuration as the Sentry has it (the host's view holds none of its addresses). */
interface Taken {
  link: Omit<LinkConfig, 'fd' | 'vnetHdr'> & { addrs: LinkAddr[]; routes: LinkRoute[] };
  vnetHdr: boolean;
  /** Its IPv6 is off in the host's view (see takeOver): no IPv6 route goes back there. */
  ipv6Off: boolean;
}

const sameAddr = (a: LinkAddr, b: LinkAddr): boolean => a.prefix === b.prefix && a.addr.equals(b.addr);
const sameRoute = (a: LinkRoute, b: LinkRoute): boolean => a.prefix === b.prefix && a.dst.equals(b.dst) && (a.gateway === null ? b.gateway === null : b.gateway !== null && a.gateway.equals(b.gateway));
const sameGw = (a: Buffer | null, b: Buffer | null): boolean => (a === null ? b === null : b !== null && a.equals(b));
/** Whether route r is the network of one of addrs (a link route the kernel made for it, or one put back). */
const ownNetwork = (r: LinkRoute, addrs: readonly LinkAddr[]): boolean => !r.gateway && addrs.some((a) => a.addr.length === r.dst.length && a.prefix === r.prefix && prefixOf(a.addr, a.prefix).equals(r.dst));

/** Write a sysctl of interface name (IPv6's: none in a kernel without IPv6). */
function ipv6Conf(name: string, key: string, value: string): void {
  try {
    fs.writeFileSync(`/proc/sys/net/ipv6/conf/${name}/${key}`, value);
  } catch {
    // no IPv6 in this kernel
  }
}

/** A NETLINK_ROUTE socket subscribed to this namespace's link, address and route changes (non-blocking). */
function openMonitor(): number {
  const fd = check(libc.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE) as number, 'socket(AF_NETLINK)');
  try {
    const snl = Buffer.alloc(12);
    snl.writeUInt16LE(AF_NETLINK, 0);
    snl.writeUInt32LE(RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE, 8);
    check(libc.bind(fd, snl, snl.length) as number, 'bind(AF_NETLINK groups)');
    const size = Buffer.alloc(4);
    size.writeInt32LE(MONITOR_BUFFER, 0);
    libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4);
    return fd;
  } catch (e) {
    libc.close(fd);
    throw e;
  }
}

/**
 * The Ethernet interfaces of this process's network namespace, taken over
 * for the sandbox's stack, at start and as they change (needs CAP_NET_ADMIN
 * and CAP_NET_RAW in the namespace). Throws TakeoverError.
 */
export class NamespaceLinks {
  /** By index in the namespace. */
  private readonly taken = new Map<number, Taken>();
  private seq = 1;
  /** What went wrong without stopping a look, for the update's errors. */
  private notes: string[] = [];

  /**
   * The monitor socket (opened before the first look, so that no change
   * after it is missed) and the interfaces as of now, taken over (none: an
   * empty list, as with `docker run --network none`).
   */
  start(): { links: LinkConfig[]; monitorFd: number } {
    const monitorFd = openMonitor();
    try {
      return { links: this.sync(true).added, monitorFd };
    } catch (e) {
      libc.close(monitorFd);
      throw e;
    }
  }

  /**
   * Look at the namespace again: interfaces that appeared (up; at the first
   * look all of them) are taken over, new addresses on taken ones are taken
   * too, routes through them followed, and interfaces gone are reported.
   */
  sync(first = false): LinkUpdate {
    const snap = new HostInterfaces().snapshot();
    // Every namespace has a loopback: no link at all is a dump that failed, not interfaces gone.
    if (snap.links.length === 0) throw new TakeoverError('network take-over: the namespace\'s interfaces could not be read');
    const nl = check(libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE) as number, 'socket(AF_NETLINK)');
    const added: LinkConfig[] = [];
    const changed = new Set<number>();
    const removed: number[] = [];
    const errors: string[] = [];
    try {
      if (first) {
        this.loopbackUp(nl, snap);
        errors.push(...this.defaultsUnused(nl));
      }
      for (const index of [...this.taken.keys()]) {
        if (snap.links.some((l) => l.index === index)) continue;
        this.taken.delete(index);
        removed.push(index);
      }
      for (const shown of configured(snap)) {
        const t = this.taken.get(shown.index);
        // Addresses to delete: the routes read again first (freshen), and the routes added from then on heard (RouteWatch).
        const deleting = shown.remove.length > 0 && (t || first || shown.up);
        const watch = deleting ? new RouteWatch() : null;
        const seen = deleting ? freshen(shown, snap) : shown;
        try {
          if (!t) {
            if ((!first && !seen.up) || this.taken.size >= MAX_LINKS) continue;
            added.push(this.takeOver(nl, seen, watch, first));
          } else if (this.follow(nl, seen, t, watch)) {
            changed.add(seen.index);
          }
        } catch (e) {
          // At start every interface must be taken; later one that fails is left (takeOver undid itself), and the others go on.
          if (first || !(e instanceof TakeoverError)) throw e;
          errors.push(e.message);
        } finally {
          watch?.close();
        }
      }
    } catch (e) {
      for (const l of added) {
        libc.close(l.fd);
        this.taken.delete(l.hostIndex as number);
      }
      throw e;
    } finally {
      libc.close(nl);
    }
    const configOf = (index: number): LinkConfig => {
      const t = this.taken.get(index) as Taken;
      return { ...t.link, addrs: [...t.link.addrs], routes: [...t.link.routes], fd: -1, vnetHdr: t.vnetHdr };
    };
    errors.push(...this.notes);
    this.notes = [];
    const fresh = new Set(added.map((l) => l.hostIndex));
    return { added: added.map((l) => ({ ...configOf(l.hostIndex as number), fd: l.fd })), changed: [...changed].filter((i) => !fresh.has(i) && this.taken.has(i)).map(configOf), removed, errors };
  }

  /**
   * The host's view keeps the default routes (so that deleting or replacing
   * one there is seen and followed), but the namespace's own traffic must
   * not use them: without an address it would leave from 0.0.0.0 and wait
   * (Docker's resolver forwarding a query) instead of failing at once. Two
   * rules per family ahead of the main table's: the main table without its
   * default routes, then unreachable. What could not be done, for the log.
   */
  private defaultsUnused(nl: number): string[] {
    const errors: string[] = [];
    for (const family of [AF_INET, AF_INET6]) {
      for (const [pref, action, attrs] of [[RULE_PREF, FR_ACT_TO_TBL, [u32attr(FRA_TABLE, RT_TABLE_MAIN), u32attr(FRA_SUPPRESS_PREFIXLEN, 0)]], [RULE_PREF + 1, FR_ACT_UNREACHABLE, []]] as const) {
        const hdr = Buffer.alloc(12);
        hdr[0] = family;
        hdr[4] = action === FR_ACT_TO_TBL ? RT_TABLE_MAIN : 0;
        hdr[7] = action;
        const err = request(nl, RTM_NEWRULE, Buffer.concat([hdr, u32attr(FRA_PRIORITY, pref), ...attrs]), this.seq++, NLM_F_CREATE | NLM_F_EXCL);
        // EEXIST: a Sentry of this namespace before (docker restart keeps no namespace, but a second start would).
        if (err !== 0 && err !== -EEXIST) errors.push(`the rules that keep the namespace's own traffic off its default routes (family ${family}): errno ${-err}`);
      }
    }
    return errors;
  }

  private loopbackUp(nl: number, snap: NetSnapshot): void {
    const lo = snap.links.find((l) => l.flags & IFF_LOOPBACK);
    if (!lo || (lo.flags & IFF_UP)) return;
    const ifi = Buffer.alloc(IFINFOMSG_LEN);
    ifi.writeInt32LE(lo.index, 4);
    ifi.writeUInt32LE(IFF_UP, 8);
    ifi.writeUInt32LE(IFF_UP, 12);
    const err = request(nl, RTM_NEWLINK, ifi, this.seq++);
    if (err !== 0) throw new TakeoverError(`network take-over: bringing loopback up: errno ${-err}`);
  }

  /** A new interface: its packet socket, IPv6's autoconfiguration off, its addresses and default routes out of the host's view, its other routes put back. */
  private takeOver(nl: number, seen: Seen, watch: RouteWatch | null, first: boolean): LinkConfig {
    const sock = packetSocket(seen.index);
    // At start, an interface without a global IPv6 address (an IPv4-only network) has its IPv6 turned off in the host's view, as before
    // IPv6 was followed there: with it left on, one of three full runs of docker_net.test.js had a runc client's first connection to a
    // tsvisor server on Docker's default bridge refused (not understood yet).
    const ipv6Off = first && !seen.link.addrs.some((a) => a.addr.length === 16 && a.scope === undefined);
    try {
      if (ipv6Off) {
        ipv6Conf(seen.link.name, 'disable_ipv6', '1');
      } else {
        // IPv6 stays on (an IPv6 gateway Docker or an administrator gives it later must find its IPv6 link route in the host's view);
        // no IPv6 address of the kernel's own making (link-local, SLAAC) comes back once its addresses are deleted.
        ipv6Conf(seen.link.name, 'addr_gen_mode', '1');
        ipv6Conf(seen.link.name, 'accept_ra', '0');
        ipv6Conf(seen.link.name, 'autoconf', '0');
      }
      const link = { ...seen.link, addrs: [...seen.link.addrs], routes: [...(seen.link.routes ?? [])] };
      const t = { link, vnetHdr: sock.vnetHdr, ipv6Off };
      this.taken.set(seen.index, t);
      this.release(nl, seen);
      this.putBack(nl, seen.index, t);
      this.recover(nl, seen.index, t, watch);
    } catch (e) {
      this.taken.delete(seen.index);
      libc.close(sock.fd);
      throw e;
    }
    return { ...seen.link, ...sock };
  }

  /** A taken interface as the host shows it now: new addresses taken, routes followed. Whether the Sentry's configuration changed. */
  private follow(nl: number, seen: Seen, t: Taken, watch: RouteWatch | null): boolean {
    let changed = false;
    for (const a of seen.link.addrs) {
      if (t.link.addrs.some((b) => sameAddr(a, b))) continue;
      t.link.addrs.push(a);
      changed = true;
    }
    // The default routes are the host's view's (added, replaced or deleted there, by Docker moving the gateway or by hand).
    if (!sameGw(seen.link.gateway4, t.link.gateway4) || !sameGw(seen.link.gateway6, t.link.gateway6)) {
      t.link = { ...t.link, gateway4: seen.link.gateway4, gateway6: seen.link.gateway6 };
      changed = true;
    }
    // The host's routes through it are the Sentry's; its own networks are not "other" routes.
    const hostRoutes = (seen.link.routes ?? []).filter((r) => !ownNetwork(r, t.link.addrs));
    const mine = t.link.routes;
    if (hostRoutes.length !== mine.length || hostRoutes.some((r) => !mine.some((m) => sameRoute(r, m)))) {
      t.link.routes = [...hostRoutes];
      changed = true;
    }
    const released = this.release(nl, seen);
    const missing = t.link.addrs.some((a) => !(t.ipv6Off && a.addr.length === 16) && !seen.nets.some((r) => ownNetwork(r, [a])));
    // A link that is down has no routes (Docker sets it down before taking it out of the namespace); they are put back when it is up again.
    // Its default routes only after a flush of ours (a link that went down lost them, as under runc).
    if ((released || missing) && seen.up) this.putBack(nl, seen.index, t, released);
    return (released && this.recover(nl, seen.index, t, watch)) || changed;
  }

  /**
   * Routes through interface index that the host announced while its
   * addresses were deleted and that the deletion flushed (RouteWatch): put
   * back, and the Sentry's. Whether there were any.
   */
  private recover(nl: number, index: number, t: Taken, watch: RouteWatch | null): boolean {
    const heard = watch?.heard(index) ?? [];
    const now = heard.length > 0 ? new HostInterfaces().routes() : null;
    if (!now) return false;
    let any = false;
    for (const r of heard) {
      if (now.some((x) => x.oif === index && sameHostRoute(x, r))) continue;
      const lr = { dst: r.dst ? prefixOf(r.dst, r.dstLen) : Buffer.alloc(r.family === AF_INET ? 4 : 16), prefix: r.dstLen, gateway: r.gateway };
      if (addRoute(nl, index, lr, this.seq++) !== 0) continue;
      any = true;
      if (r.dstLen === 0 && r.gateway) t.link = { ...t.link, ...(r.family === AF_INET ? { gateway4: r.gateway } : { gateway6: r.gateway }) };
      else if (!ownNetwork(lr, t.link.addrs) && !t.link.routes.some((m) => sameRoute(m, lr))) t.link.routes.push(lr);
    }
    return any;
  }

  /** Delete what the host shows of seen's addresses (the Sentry has them). Whether there were any. */
  private release(nl: number, seen: Seen): boolean {
    for (const a of seen.remove) deleteAddress(nl, seen.index, a.family, a.prefix, a.scope, a.addr, this.seq++);
    return seen.remove.length > 0;
  }

  /**
   * The host's routes through a taken interface, which deleting its last
   * address flushed: its networks as link routes, then its other routes,
   * then its default routes.
   */
  private putBack(nl: number, index: number, t: Taken, withDefaults = true): void {
    const nets = t.link.addrs.map((a) => ({ dst: prefixOf(a.addr, a.prefix), prefix: a.prefix, gateway: null }));
    const gateways = withDefaults ? [t.link.gateway4, t.link.gateway6] : [];
    const defaults = gateways.filter((gw): gw is Buffer => gw !== null).map((gw) => ({ dst: Buffer.alloc(gw.length), prefix: 0, gateway: gw }));
    for (const r of [...nets, ...t.link.routes, ...defaults]) {
      if (t.ipv6Off && r.dst.length === 16) continue;
      const err = addRoute(nl, index, r, this.seq++);
      // A default route the host no longer takes leaves the interface to the others (logged), as the host's view shows it.
      if (err !== 0 && r.prefix === 0) {
        this.notes.push(`a default route of interface ${index} could not be put back: errno ${-err}`);
        continue;
      }
      // ENETDOWN: it went down meanwhile (see follow).
      if (err !== 0 && err !== -ENETDOWN) throw new TakeoverError(`network take-over: a route of interface ${index}: errno ${-err}`);
    }
  }

}
