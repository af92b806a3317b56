// Network interfaces as rtnetlink(7) and netdevice(7) describe them: the
// records of an interface table (links, addresses, routes) and the constants
// of their messages and ioctls (x86-64 Linux).

export const AF_NETLINK = 16;
export const NETLINK_ROUTE = 0;

/** struct nlmsghdr: len u32, type u16, flags u16, seq u32, pid u32. */
export const NLMSG_HDRLEN = 16;
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
/** NLMSG_ERROR flag: the original request is not echoed after the error. */
export const NLM_F_CAPPED = 0x100;
export const nlmsgAlign = (n: number): number => (n + 3) & ~3;

/** The attributes (type -> payload) of a netlink message body from off; a malformed one ends the walk. */
export function netlinkAttrs(b: Buffer, off: number): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  while (off + 4 <= b.length) {
    const len = b.readUInt16LE(off);
    if (len < 4 || off + len > b.length) break;
    m.set(b.readUInt16LE(off + 2) & 0x3fff, b.subarray(off + 4, off + len));
    off += nlmsgAlign(len);
  }
  return m;
}

export const RTM_NEWLINK = 16;
export const RTM_SETLINK = 19;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
/** NLM_F_EXCL of a NEW request: fail with EEXIST if the object exists. */
export const NLM_F_EXCL = 0x200;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
/** The first and last message types rtnetlink knows (RTM_BASE .. RTM_MAX). */
export const RTM_BASE = 16;
export const RTM_MAX = 127;

/** Netlink socket options (SOL_NETLINK). */
export const SOL_NETLINK = 270;
export const NETLINK_ADD_MEMBERSHIP = 1;
export const NETLINK_DROP_MEMBERSHIP = 2;
export const NETLINK_PKTINFO = 3;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;
export const NETLINK_GET_STRICT_CHK = 12;

/** struct ifinfomsg (16 bytes), ifaddrmsg (8), rtmsg (12). */
export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const RTMSG_LEN = 12;

export const IFLA_ADDRESS = 1;
export const IFLA_BROADCAST = 2;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_QDISC = 6;
export const IFLA_STATS = 7;
export const IFLA_TXQLEN = 13;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKMODE = 17;
export const IFLA_STATS64 = 23;
export const IFLA_GROUP = 27;
export const IFLA_EXT_MASK = 29;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_CACHEINFO = 6;
export const IFA_FLAGS = 8;

export const RTA_DST = 1;
export const RTA_SRC = 2;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_TABLE = 15;
export const RTA_PREF = 20;

export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;
export const RTN_UNICAST = 1;
export const RTN_LOCAL = 2;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;

export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;
/** The flags dev_change_flags lets a caller set (UP, DEBUG, NOTRAILERS, NOARP, PROMISC, ALLMULTI, MULTICAST, PORTSEL, AUTOMEDIA, DYNAMIC); the rest are the device's. */
export const IFF_CHANGEABLE = 0x1 | 0x4 | 0x20 | 0x80 | 0x100 | 0x200 | 0x1000 | 0x2000 | 0x4000 | 0x8000;

export const ARPHRD_ETHER = 1;
export const ARPHRD_LOOPBACK = 772;
/** IF_OPER_UNKNOWN, IF_OPER_DOWN, IF_OPER_UP. */
export const IF_OPER_UNKNOWN = 0;
export const IF_OPER_DOWN = 2;
export const IF_OPER_UP = 6;
export const IFA_F_PERMANENT = 0x80;
export const IFA_F_NODAD = 0x02;
export const IFNAMSIZ = 16;
/** struct ifreq is 40 bytes on x86-64: the name, then a 24-byte union. */
export const IFREQ_SIZE = 40;

export const SIOCGIFNAME = 0x8910;
export const SIOCGIFCONF = 0x8912;
export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const SIOCGIFADDR = 0x8915;
export const SIOCSIFADDR = 0x8916;
export const SIOCGIFDSTADDR = 0x8917;
export const SIOCSIFDSTADDR = 0x8918;
export const SIOCGIFBRDADDR = 0x8919;
export const SIOCSIFBRDADDR = 0x891a;
export const SIOCGIFNETMASK = 0x891b;
export const SIOCSIFNETMASK = 0x891c;
export const SIOCGIFMETRIC = 0x891d;
export const SIOCSIFMETRIC = 0x891e;
export const SIOCGIFMTU = 0x8921;
export const SIOCSIFMTU = 0x8922;
export const SIOCSIFNAME = 0x8923;
export const SIOCSIFHWADDR = 0x8924;
export const SIOCGIFHWADDR = 0x8927;
export const SIOCGIFINDEX = 0x8933;
export const SIOCGIFTXQLEN = 0x8942;
export const SIOCSIFTXQLEN = 0x8943;
export const SIOCOUTQ = 0x5411;
export const SIOCINQ = 0x541b;

/** Traffic counters of a link (struct rtnl_link_stats64's first eight, plus multicast). */
export interface LinkStats {
  rxPackets: number;
  txPackets: number;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
  multicast: number;
}

/** A link (struct ifinfomsg and its attributes). */
export interface NetLink {
  index: number;
  name: string;
  /** ARPHRD_*. */
  type: number;
  /** IFF_*. */
  flags: number;
  mtu: number;
  /** IFLA_LINK: the link this one is stacked on or paired with (a veth's peer), null if none. */
  link: number | null;
  /** Hardware address and broadcast address (6 bytes for Ethernet and loopback). */
  hwaddr: Buffer;
  broadcast: Buffer;
  qdisc: string;
  txqlen: number;
  operstate: number;
  linkmode: number;
  group: number;
  stats: LinkStats;
}

/** An address of a link (struct ifaddrmsg and its attributes). */
export interface NetAddr {
  family: number;
  index: number;
  prefixlen: number;
  scope: number;
  /** IFA_F_* (the 32-bit IFA_FLAGS value). */
  flags: number;
  /** IFA_ADDRESS: the peer on point-to-point links, else the local address. */
  address: Buffer;
  /** IFA_LOCAL (IPv4). */
  local: Buffer | null;
  broadcast: Buffer | null;
  label: string | null;
  /** IFA_CACHEINFO lifetimes in seconds (0xffffffff: forever). */
  preferred: number;
  valid: number;
}

/** A route (struct rtmsg and its attributes). */
export interface NetRoute {
  family: number;
  dstLen: number;
  srcLen: number;
  tos: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
  flags: number;
  dst: Buffer | null;
  gateway: Buffer | null;
  prefsrc: Buffer | null;
  oif: number | null;
  priority: number | null;
  /** RTA_PREF (IPv6 router preference), null when absent. */
  pref: number | null;
}

/** What an interface table answers: a snapshot of links, addresses and routes. */
export interface NetSnapshot {
  links: NetLink[];
  addrs: NetAddr[];
  routes: NetRoute[];
}

export const zeroStats = (): LinkStats => ({ rxPackets: 0, txPackets: 0, rxBytes: 0, txBytes: 0, rxErrors: 0, txErrors: 0, rxDropped: 0, txDropped: 0, multicast: 0 });

/** An address of a taken-over interface: 4 or 16 bytes and its prefix length. */
export interface LinkAddr {
  readonly addr: Buffer;
  readonly prefix: number;
  /** RT_SCOPE_LINK for an IPv6 link-local address (fe80::/10); absent: global. */
  readonly scope?: number;
  /** The IFA_F_* flags the host showed that `ip addr` prints (IFA_F_NODAD); absent: none. */
  readonly flags?: number;
}

/** A route through a taken-over interface: to dst/prefix, through gateway (null: on the link). */
export interface LinkRoute {
  readonly dst: Buffer;
  readonly prefix: number;
  readonly gateway: Buffer | null;
}

/**
 * A host interface the sandbox's stack took over (host/netns.ts reads it and
 * removes its addresses from the host's view): what it was configured with,
 * and the Sentry's AF_PACKET socket bound to it.
 */
export interface LinkConfig {
  /** Its name in the namespace (eth0), kept in the sandbox. */
  readonly name: string;
  readonly mac: Buffer;
  readonly mtu: number;
  readonly addrs: readonly LinkAddr[];
  /** The default routes' gateways through it (4 and 16 bytes), if any. */
  readonly gateway4: Buffer | null;
  readonly gateway6: Buffer | null;
  /** Its other routes (main table): neither a default route nor its addresses' own networks; absent: none. */
  readonly routes?: readonly LinkRoute[];
  /** The AF_PACKET socket (a host fd of the Sentry, non-blocking) that carries its frames. */
  readonly fd: number;
  /** The socket has PACKET_VNET_HDR: each frame carries a virtio-net header (segmentation offload both ways). */
  readonly vnetHdr: boolean;
  /** Its index in the container's namespace (what identifies it in later updates); absent: not known. */
  readonly hostIndex?: number;
  /** Its index in the sandbox (given when the stack attaches it, never reused); absent: 2 + its place in the table. */
  readonly index?: number;
}

/**
 * What changed in the container's namespace since the last look
 * (host/netns.ts's NamespaceLinks.sync): interfaces taken over now (with
 * their packet sockets), interfaces already taken whose addresses or routes
 * changed (the whole new configuration, fd -1), and the host indexes of
 * interfaces that left the namespace.
 */
export interface LinkUpdate {
  readonly added: LinkConfig[];
  readonly changed: LinkConfig[];
  readonly removed: number[];
  /** What could not be done (an interface left to the host), for the debug log. */
  readonly errors?: string[];
}

/**
 * The container namespace's interfaces after start: monitorFd is a
 * NETLINK_ROUTE socket subscribed to the namespace's link, address and
 * route changes (non-blocking; its messages only say that something
 * changed), and sync() takes over what is new and reports it.
 */
export interface LinkSource {
  readonly monitorFd: number;
  sync(): LinkUpdate;
}
