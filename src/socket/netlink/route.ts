// NETLINK_ROUTE requests answered from the sandbox's interface table
// (kernel/netinfo.ts): RTM_GETLINK, RTM_GETADDR and RTM_GETROUTE, as dumps or
// (links) single lookups, and RTM_NEWLINK/RTM_SETLINK bringing a link up or
// down and RTM_NEWADDR of the loopback's own addresses where the table allows
// it (a new network namespace's loopback), and on a tun device its MTU and
// queue length, RTM_NEWADDR/DELADDR of any address and RTM_NEWROUTE/DELROUTE
// of routes through it.
// Other changes are EPERM without CAP_NET_ADMIN over the network namespace or
// in a table that cannot change; requests rtnetlink does not serve here are
// EOPNOTSUPP.
import { Errno, E } from '../../abi/errno';
import { AF_INET, AF_INET6, AF_UNSPEC } from '../../abi/socket';
import {
  IFA_ADDRESS, IFA_BROADCAST, IFA_CACHEINFO, IFA_FLAGS, IFA_LABEL, IFA_LOCAL, IFADDRMSG_LEN, IFINFOMSG_LEN, IFLA_ADDRESS, IFLA_BROADCAST,
  IFLA_GROUP, IFLA_IFNAME, IFLA_LINK, IFLA_LINKMODE, IFLA_MTU, IFLA_OPERSTATE, IFLA_QDISC, IFLA_STATS, IFLA_STATS64, IFLA_TXQLEN, NLMSG_HDRLEN,
  NLM_F_DUMP, RTA_DST, RTA_GATEWAY, RTA_OIF, RT_TABLE_MAIN, RTN_UNICAST, RTA_PREF, RTA_PREFSRC, RTA_PRIORITY, RTA_TABLE, RTM_BASE, RTM_GETADDR,
  RTM_GETLINK, RTM_GETROUTE, RTM_MAX, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE, RTMSG_LEN, netlinkAttrs, nlmsgAlign,
  IFF_CHANGEABLE, IFF_UP, NLM_F_EXCL, type NetAddr, type NetLink, type NetRoute, type NetSnapshot,
} from '../../abi/netif';
import type { InterfaceTable } from '../../kernel/netinfo';

/** One netlink attribute (header and payload, padded to 4). */
function attr(type: number, payload: Buffer): Buffer {
  const b = Buffer.alloc(nlmsgAlign(4 + payload.length));
  b.writeUInt16LE(4 + payload.length, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}

const u32 = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
};
const u8 = (v: number): Buffer => Buffer.from([v & 0xff]);
const cstr = (s: string): Buffer => Buffer.from(s + '\0', 'latin1');

/** A whole message: header (length, type, flags, seq, pid) and body. */
export function nlmsg(type: number, flags: number, seq: number, pid: number, body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  const b = Buffer.alloc(NLMSG_HDRLEN + nlmsgAlign(payload.length));
  b.writeUInt32LE(NLMSG_HDRLEN + payload.length, 0);
  b.writeUInt16LE(type, 4);
  b.writeUInt16LE(flags, 6);
  b.writeUInt32LE(seq >>> 0, 8);
  b.writeUInt32LE(pid >>> 0, 12);
  payload.copy(b, NLMSG_HDRLEN);
  return b;
}

function linkBody(l: NetLink): Buffer[] {
  const h = Buffer.alloc(IFINFOMSG_LEN);
  h[0] = AF_UNSPEC;
  h.writeUInt16LE(l.type, 2);
  h.writeInt32LE(l.index, 4);
  h.writeUInt32LE(l.flags >>> 0, 8);
  const s = l.stats;
  const counters = [s.rxPackets, s.txPackets, s.rxBytes, s.txBytes, s.rxErrors, s.txErrors, s.rxDropped, s.txDropped, s.multicast];
  const st32 = Buffer.alloc(24 * 4);
  const st64 = Buffer.alloc(25 * 8);
  counters.forEach((v, i) => {
    st32.writeUInt32LE(v % 0x100000000, 4 * i);
    st64.writeBigUInt64LE(BigInt(v), 8 * i);
  });
  const parts = [
    h, attr(IFLA_IFNAME, cstr(l.name)), attr(IFLA_TXQLEN, u32(l.txqlen)), attr(IFLA_OPERSTATE, u8(l.operstate)), attr(IFLA_LINKMODE, u8(l.linkmode)),
    attr(IFLA_MTU, u32(l.mtu)), attr(IFLA_GROUP, u32(l.group)), attr(IFLA_ADDRESS, l.hwaddr), attr(IFLA_BROADCAST, l.broadcast), attr(IFLA_QDISC, cstr(l.qdisc)),
    attr(IFLA_STATS, st32), attr(IFLA_STATS64, st64),
  ];
  if (l.link !== null) parts.push(attr(IFLA_LINK, u32(l.link)));
  return parts;
}

function addrBody(a: NetAddr): Buffer[] {
  const h = Buffer.alloc(IFADDRMSG_LEN);
  h[0] = a.family;
  h[1] = a.prefixlen;
  h[2] = a.flags & 0xff;
  h[3] = a.scope;
  h.writeUInt32LE(a.index, 4);
  const ci = Buffer.alloc(16);
  ci.writeUInt32LE(a.preferred >>> 0, 0);
  ci.writeUInt32LE(a.valid >>> 0, 4);
  const out = [h, attr(IFA_ADDRESS, a.address)];
  if (a.local) out.push(attr(IFA_LOCAL, a.local));
  if (a.broadcast) out.push(attr(IFA_BROADCAST, a.broadcast));
  if (a.label !== null) out.push(attr(IFA_LABEL, cstr(a.label)));
  out.push(attr(IFA_FLAGS, u32(a.flags)), attr(IFA_CACHEINFO, ci));
  return out;
}

function routeBody(r: NetRoute): Buffer[] {
  const h = Buffer.alloc(RTMSG_LEN);
  [r.family, r.dstLen, r.srcLen, r.tos, Math.min(r.table, 255), r.protocol, r.scope, r.type].forEach((v, i) => (h[i] = v));
  h.writeUInt32LE(r.flags >>> 0, 8);
  const out = [h, attr(RTA_TABLE, u32(r.table))];
  if (r.dst) out.push(attr(RTA_DST, r.dst));
  if (r.priority !== null) out.push(attr(RTA_PRIORITY, u32(r.priority)));
  if (r.prefsrc) out.push(attr(RTA_PREFSRC, r.prefsrc));
  if (r.gateway) out.push(attr(RTA_GATEWAY, r.gateway));
  if (r.oif !== null) out.push(attr(RTA_OIF, u32(r.oif)));
  if (r.pref !== null) out.push(attr(RTA_PREF, u8(r.pref)));
  return out;
}


/** What a request asks: its type, flags, sequence number and body (after the header). */
export interface RouteRequest {
  type: number;
  flags: number;
  seq: number;
  body: Buffer;
}

/** IFLA_EXT_MASK: what a dump should include, harmless in a change. */
const IFLA_EXT_MASK = 29;

/**
 * RTM_NEWLINK or RTM_SETLINK on an existing link (`ip link set DEV up|down`):
 * only the up flag, only where the table can change, and a tun device's MTU
 * and queue length; creating a link, or changing its name, address or other
 * flags is EOPNOTSUPP.
 */
export function setLink(table: InterfaceTable, admin: boolean, body: Buffer): void {
  if (!admin || !table.setUp || table.changeable?.() === false) throw new Errno(E.EPERM);
  if (body.length < IFINFOMSG_LEN) throw new Errno(E.EINVAL);
  const index = body.readInt32LE(4);
  const flags = body.readUInt32LE(8);
  const change = body.readUInt32LE(12);
  const attrs = netlinkAttrs(body, IFINFOMSG_LEN);
  const name = attrs.get(IFLA_IFNAME)?.toString('latin1').replace(/\0.*$/s, '') ?? null;
  const l = table.snapshot().links.find((x) => (index > 0 ? x.index === index : x.name === name));
  if (!l || (index <= 0 && name === null)) throw new Errno(E.ENODEV);
  if (table.canChange?.(l.index) === false) throw new Errno(E.EPERM);
  const values: Array<['mtu' | 'txqlen', number]> = [];
  for (const [a, v] of attrs) {
    if (a === IFLA_IFNAME || a === IFLA_EXT_MASK) continue;
    if ((a !== IFLA_MTU && a !== IFLA_TXQLEN) || !table.setLinkValue || l.index === 1 || !table.canChange?.(l.index)) throw new Errno(E.EOPNOTSUPP);
    if (v.length < 4) throw new Errno(E.EINVAL);
    values.push([a === IFLA_MTU ? 'mtu' : 'txqlen', v.readUInt32LE(0)]);
  }
  for (const [what, v] of values) table.setLinkValue?.(l.index, what, v);
  if (flags === 0 && change === 0) return;
  // Linux's rtnl_dev_combine_flags: the bits in change come from flags, the rest stay (no change mask: all of flags).
  const want = change ? (flags & change) | (l.flags & ~change) : flags;
  if ((want ^ l.flags) & IFF_CHANGEABLE & ~IFF_UP) throw new Errno(E.EOPNOTSUPP);
  table.setUp(l.index, (want & IFF_UP) !== 0);
}

/**
 * RTM_NEWADDR: only the loopback's own address (127.0.0.1/8 or ::1/128 on
 * lo) where the table can change, as bubblewrap and `ip addr add` set up a
 * new namespace; any other address is EOPNOTSUPP. EEXIST with NLM_F_EXCL
 * when it is there already.
 */
export function addAddr(table: InterfaceTable, admin: boolean, flags: number, body: Buffer): void {
  if (!admin || !(table.addLoopbackAddress || table.addAddress) || table.changeable?.() === false) throw new Errno(E.EPERM);
  if (body.length < IFADDRMSG_LEN) throw new Errno(E.EINVAL);
  const family = body[0];
  const prefixlen = body[1];
  const index = body.readInt32LE(4);
  if (!table.snapshot().links.some((l) => l.index === index)) throw new Errno(E.ENODEV);
  const attrs = netlinkAttrs(body, IFADDRMSG_LEN);
  const addr = attrs.get(IFA_LOCAL) ?? attrs.get(IFA_ADDRESS);
  if (!addr) throw new Errno(E.EINVAL);
  // A device the application made (a tun device) takes any unicast address of its family.
  if (table.addAddress && index !== 1 && table.canChange?.(index)) {
    if ((family !== AF_INET || addr.length !== 4 || prefixlen > 32) && (family !== AF_INET6 || addr.length !== 16 || prefixlen > 128)) throw new Errno(E.EINVAL);
    if (!table.addAddress(index, family, addr, prefixlen) && flags & NLM_F_EXCL) throw new Errno(E.EEXIST);
    return;
  }
  if (!table.addLoopbackAddress) throw new Errno(E.EPERM);
  const v4 = family === AF_INET && prefixlen === 8 && addr.length === 4 && addr.equals(Buffer.from([127, 0, 0, 1]));
  const v6 = family === AF_INET6 && prefixlen === 128 && addr.length === 16 && addr.equals(Buffer.from('00000000000000000000000000000001', 'hex'));
  if (index !== 1 || !(v4 || v6)) throw new Errno(E.EOPNOTSUPP);
  if (!table.addLoopbackAddress(family) && flags & NLM_F_EXCL) throw new Errno(E.EEXIST);
}

/** The device a change names, which must be one the application made (a tun device): EPERM without the right, ENODEV for none, EOPNOTSUPP for another. */
function ownDevice(table: InterfaceTable, admin: boolean, index: number): void {
  if (!admin || table.changeable?.() === false) throw new Errno(E.EPERM);
  if (!table.snapshot().links.some((l) => l.index === index)) throw new Errno(E.ENODEV);
  if (index === 1 || !table.canChange?.(index)) throw new Errno(E.EOPNOTSUPP);
}

/** The address bytes of a family (4 or 16), or EINVAL. */
function familyAddr(family: number, a: Buffer | undefined, bits: number): Buffer {
  const len = family === AF_INET ? 4 : family === AF_INET6 ? 16 : 0;
  if (!len || !a || a.length !== len || bits > len * 8) throw new Errno(E.EINVAL);
  return a;
}

/** RTM_DELADDR (`ip addr del`): an address of a tun device; EADDRNOTAVAIL if it has no such address. */
export function delAddr(table: InterfaceTable, admin: boolean, body: Buffer): void {
  if (body.length < IFADDRMSG_LEN) throw new Errno(E.EINVAL);
  const index = body.readInt32LE(4);
  ownDevice(table, admin, index);
  const attrs = netlinkAttrs(body, IFADDRMSG_LEN);
  const addr = familyAddr(body[0], attrs.get(IFA_LOCAL) ?? attrs.get(IFA_ADDRESS), body[1]);
  if (!table.delAddress?.(index, body[0], addr)) throw new Errno(E.EADDRNOTAVAIL);
}

/**
 * RTM_NEWROUTE and RTM_DELROUTE (`ip route add|del NET dev DEV`): a unicast
 * route of the main table through a tun device (RTA_OIF), its gateway, if
 * any, ignored (the device has one peer); other routes EOPNOTSUPP. EEXIST
 * with NLM_F_EXCL when it is there, ESRCH deleting one that is not.
 */
export function changeRoute(table: InterfaceTable, admin: boolean, add: boolean, flags: number, body: Buffer): void {
  if (body.length < RTMSG_LEN) throw new Errno(E.EINVAL);
  const [family, dstLen] = [body[0], body[1]];
  const attrs = netlinkAttrs(body, RTMSG_LEN);
  const oif = attrs.get(RTA_OIF);
  const tableId = attrs.get(RTA_TABLE)?.readUInt32LE(0) ?? body[4];
  if (!oif || oif.length < 4 || (add && body[7] !== RTN_UNICAST) || (tableId !== RT_TABLE_MAIN && !(tableId === 0 && !add))) {
    if (!admin) throw new Errno(E.EPERM);
    throw new Errno(E.EOPNOTSUPP);
  }
  const index = oif.readInt32LE(0);
  ownDevice(table, admin, index);
  const dst = dstLen === 0 && !attrs.get(RTA_DST) ? Buffer.alloc(family === AF_INET ? 4 : 16) : attrs.get(RTA_DST);
  const done = table.changeRoute?.(index, family, familyAddr(family, dst, dstLen), dstLen, add);
  if (!done && (!add || flags & NLM_F_EXCL)) throw new Errno(add ? E.EEXIST : E.ESRCH);
}

const familyOk = (want: number, f: number): boolean => want === AF_UNSPEC || want === f;

/**
 * The reply messages' bodies (type and parts) for a request, in order; for
 * a dump the caller adds NLM_F_MULTI and the NLMSG_DONE. Throws Errno for the
 * error ack.
 */
export function answer(table: NetSnapshot, req: RouteRequest): { type: number; parts: Buffer[] }[] {
  const { type, body } = req;
  if (type < RTM_BASE || type > RTM_MAX) throw new Errno(E.EOPNOTSUPP);
  // rtnetlink's kinds: NEW 0, DEL 1, GET 2, SET 3 (type - RTM_BASE) & 3; only GET is unprivileged.
  if (((type - RTM_BASE) & 3) !== 2) throw new Errno(E.EPERM);
  const dump = (req.flags & NLM_F_DUMP) === NLM_F_DUMP;
  const family = body.length >= 1 ? body[0] : AF_UNSPEC;
  switch (type) {
    case RTM_GETLINK: {
      if (dump) return table.links.map((l) => ({ type: RTM_NEWLINK, parts: linkBody(l) }));
      if (body.length < IFINFOMSG_LEN) throw new Errno(E.EINVAL);
      const index = body.readInt32LE(4);
      const name = netlinkAttrs(body, IFINFOMSG_LEN).get(IFLA_IFNAME);
      const wanted = name ? name.toString('latin1').replace(/\0.*$/s, '') : null;
      if (index <= 0 && wanted === null) throw new Errno(E.EINVAL);
      const l = table.links.find((x) => (index > 0 ? x.index === index : x.name === wanted));
      if (!l) throw new Errno(E.ENODEV);
      return [{ type: RTM_NEWLINK, parts: linkBody(l) }];
    }
    case RTM_GETADDR:
      if (!dump) throw new Errno(E.EOPNOTSUPP);
      if (family !== AF_UNSPEC && family !== AF_INET && family !== AF_INET6) throw new Errno(E.EOPNOTSUPP);
      return table.addrs.filter((a) => familyOk(family, a.family)).map((a) => ({ type: RTM_NEWADDR, parts: addrBody(a) }));
    case RTM_GETROUTE:
      if (!dump) throw new Errno(E.EOPNOTSUPP);
      if (family !== AF_UNSPEC && family !== AF_INET && family !== AF_INET6) throw new Errno(E.EOPNOTSUPP);
      return table.routes.filter((r) => familyOk(family, r.family)).map((r) => ({ type: RTM_NEWROUTE, parts: routeBody(r) }));
    default:
      throw new Errno(E.EOPNOTSUPP);
  }
}

