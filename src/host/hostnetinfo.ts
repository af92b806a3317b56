// The host's interface table, for host network mode: links, addresses and
// routes read live from a host NETLINK_ROUTE socket (dumps, as `ip` does) and
// decoded into the records every reader of interfaces in the Sentry shares.
// Only the composition root (sandbox/) makes one (test/unit/host_access.test.js).
import * as libc from './libc';
import {
  AF_NETLINK, IFA_ADDRESS, IFA_BROADCAST, IFA_CACHEINFO, IFA_FLAGS, IFA_LABEL, IFA_LOCAL, IFADDRMSG_LEN, IFINFOMSG_LEN, IFLA_ADDRESS,
  IFLA_BROADCAST, IFLA_GROUP, IFLA_IFNAME, IFLA_LINK, IFLA_LINKMODE, IFLA_MTU, IFLA_OPERSTATE, IFLA_QDISC, IFLA_STATS64, IFLA_TXQLEN, NETLINK_ROUTE,
  NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_DUMP, NLM_F_REQUEST, RTA_DST, RTA_GATEWAY, RTA_OIF, RTA_PREF, RTA_PREFSRC, RTA_PRIORITY,
  RTA_TABLE, RTM_GETADDR, RTM_GETLINK, RTM_GETROUTE, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE, RTMSG_LEN, netlinkAttrs, nlmsgAlign, zeroStats,
  type NetAddr, type NetLink, type NetRoute, type NetSnapshot,
} from '../abi/netif';

const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;


const u32 = (b: Buffer | undefined, d = 0): number => (b && b.length >= 4 ? b.readUInt32LE(0) : d);
const str = (b: Buffer | undefined): string => (b ? b.toString('latin1').replace(/\0.*$/s, '') : '');
const copy = (b: Buffer | undefined): Buffer | null => (b ? Buffer.from(b) : null);

/** One dump's messages of type want (bodies), or null when the host refuses. */
function dump(fd: number, type: number, bodyLen: number, want: number): Buffer[] | null {
  const req = Buffer.alloc(NLMSG_HDRLEN + bodyLen);
  req.writeUInt32LE(req.length, 0);
  req.writeUInt16LE(type, 4);
  req.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6);
  req.writeUInt32LE(1, 8);
  if ((libc.send(fd, req, req.length, 0) as number) < 0) return null;
  const out: Buffer[] = [];
  const buf = Buffer.alloc(1 << 16);
  for (;;) {
    const n = Number(libc.recv(fd, buf, buf.length, 0));
    if (n <= 0) return null;
    for (let off = 0; off + NLMSG_HDRLEN <= n; ) {
      const len = buf.readUInt32LE(off);
      const t = buf.readUInt16LE(off + 4);
      if (len < NLMSG_HDRLEN || off + len > n) return null;
      if (t === NLMSG_DONE) return out;
      if (t === NLMSG_ERROR) return null;
      if (t === want) out.push(Buffer.from(buf.subarray(off + NLMSG_HDRLEN, off + len)));
      off += nlmsgAlign(len);
    }
  }
}

function link(b: Buffer): NetLink | null {
  if (b.length < IFINFOMSG_LEN) return null;
  const a = netlinkAttrs(b, IFINFOMSG_LEN);
  const s = a.get(IFLA_STATS64);
  const stats = zeroStats();
  if (s && s.length >= 72) {
    const q = (i: number) => Number(s.readBigUInt64LE(8 * i));
    Object.assign(stats, { rxPackets: q(0), txPackets: q(1), rxBytes: q(2), txBytes: q(3), rxErrors: q(4), txErrors: q(5), rxDropped: q(6), txDropped: q(7), multicast: q(8) });
  }
  return {
    index: b.readInt32LE(4), name: str(a.get(IFLA_IFNAME)), type: b.readUInt16LE(2), flags: b.readUInt32LE(8), mtu: u32(a.get(IFLA_MTU)),
    link: a.has(IFLA_LINK) ? u32(a.get(IFLA_LINK)) : null,
    hwaddr: copy(a.get(IFLA_ADDRESS)) ?? Buffer.alloc(0), broadcast: copy(a.get(IFLA_BROADCAST)) ?? Buffer.alloc(0), qdisc: str(a.get(IFLA_QDISC)),
    txqlen: u32(a.get(IFLA_TXQLEN)), operstate: a.get(IFLA_OPERSTATE)?.[0] ?? 0, linkmode: a.get(IFLA_LINKMODE)?.[0] ?? 0, group: u32(a.get(IFLA_GROUP)), stats,
  };
}

function addr(b: Buffer): NetAddr | null {
  if (b.length < IFADDRMSG_LEN) return null;
  const a = netlinkAttrs(b, IFADDRMSG_LEN);
  const address = copy(a.get(IFA_ADDRESS) ?? a.get(IFA_LOCAL));
  if (!address) return null;
  const ci = a.get(IFA_CACHEINFO);
  return {
    family: b[0], prefixlen: b[1], scope: b[3], index: b.readUInt32LE(4), flags: u32(a.get(IFA_FLAGS), b[2]), address, local: copy(a.get(IFA_LOCAL)),
    broadcast: copy(a.get(IFA_BROADCAST)), label: a.has(IFA_LABEL) ? str(a.get(IFA_LABEL)) : null,
    preferred: ci && ci.length >= 8 ? ci.readUInt32LE(0) : 0xffffffff, valid: ci && ci.length >= 8 ? ci.readUInt32LE(4) : 0xffffffff,
  };
}

/** A route message's body (struct rtmsg and its attributes) decoded, or null when short. */
export function decodeRoute(b: Buffer): NetRoute | null {
  if (b.length < RTMSG_LEN) return null;
  const a = netlinkAttrs(b, RTMSG_LEN);
  return {
    family: b[0], dstLen: b[1], srcLen: b[2], tos: b[3], table: a.has(RTA_TABLE) ? u32(a.get(RTA_TABLE)) : b[4], protocol: b[5], scope: b[6], type: b[7],
    flags: b.readUInt32LE(8), dst: copy(a.get(RTA_DST)), gateway: copy(a.get(RTA_GATEWAY)), prefsrc: copy(a.get(RTA_PREFSRC)),
    oif: a.has(RTA_OIF) ? u32(a.get(RTA_OIF)) : null, priority: a.has(RTA_PRIORITY) ? u32(a.get(RTA_PRIORITY)) : null, pref: a.get(RTA_PREF)?.[0] ?? null,
  };
}

const notNull = <T>(x: T | null): x is T => x !== null;

/** The host's links, addresses and routes as of now (empty lists for what the host refused). */
export class HostInterfaces {
  /** The routes alone, as of now (null: the host refused). */
  routes(): NetRoute[] | null {
    const fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE) as number;
    if (fd < 0) return null;
    try {
      return dump(fd, RTM_GETROUTE, RTMSG_LEN, RTM_NEWROUTE)?.map(decodeRoute).filter(notNull) ?? null;
    } finally {
      libc.close(fd);
    }
  }

  snapshot(): NetSnapshot {
    const fd = libc.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE) as number;
    if (fd < 0) return { links: [], addrs: [], routes: [] };
    try {
      return {
        links: (dump(fd, RTM_GETLINK, IFINFOMSG_LEN, RTM_NEWLINK) ?? []).map(link).filter(notNull),
        addrs: (dump(fd, RTM_GETADDR, IFADDRMSG_LEN, RTM_NEWADDR) ?? []).map(addr).filter(notNull),
        routes: (dump(fd, RTM_GETROUTE, RTMSG_LEN, RTM_NEWROUTE) ?? []).map(decodeRoute).filter(notNull),
      };
    } finally {
      libc.close(fd);
    }
  }
}
