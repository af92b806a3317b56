// The sandbox's network configuration: which network the application gets
// (the mode) and the interface table every reader of interfaces shares
// (netlink route sockets, the SIOCGIF* ioctls, /proc/net). In host mode the
// table is the host's (read live, host/hostnetinfo.ts); in sandbox and none
// modes it is the sandbox's own loopback until the user-space stack (src/net)
// gives its own table.
import { E, Errno } from '../abi/errno';
import { AF_INET, AF_INET6 } from '../abi/socket';
import {
  ARPHRD_LOOPBACK, IFA_F_PERMANENT, IF_OPER_DOWN, IFF_LOOPBACK, IFF_LOWER_UP, IFF_RUNNING, IFF_UP, IF_OPER_UNKNOWN, RTN_LOCAL, RTPROT_KERNEL,
  RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, RT_TABLE_LOCAL, zeroStats, type LinkConfig, type NetRoute, type NetSnapshot,
  ARPHRD_ETHER, IFF_BROADCAST, IFF_MULTICAST, IF_OPER_UP, RT_TABLE_MAIN, RTN_UNICAST, RTPROT_BOOT, type LinkStats,
} from '../abi/netif';

/**
 * host: AF_INET/AF_INET6 sockets are host sockets the Sentry owns (the host's
 * stack, as runsc's hostinet). sandbox: the Sentry's own stack. none: only
 * the sandbox's loopback.
 */
export type NetworkMode = 'host' | 'sandbox' | 'none';
export const NETWORK_MODES: readonly NetworkMode[] = ['host', 'sandbox', 'none'];

/** Where interface information comes from. */
export interface InterfaceTable {
  snapshot(): NetSnapshot;
  /** Whether interface index is up (absent: every interface the table shows is). */
  isUp?(index: number): boolean;
  /** Bring interface index up or down (absent: the table cannot be changed, EPERM). Throws ENODEV for an unknown index. */
  setUp?(index: number, up: boolean): void;
  /** Give the loopback its address of family (127.0.0.1/8, ::1/128); false if it has it already. */
  addLoopbackAddress?(family: number): boolean;
  /** IPv6 is off in the whole namespace, the loopback's ::1 included (absent: never). */
  ipv6Off?(): boolean;
  /** Whether interface index may be brought up or down here (absent: each setUp takes). */
  canChange?(index: number): boolean;
  /** Set the MTU or the queue length of a device the application made (absent, or another interface: EOPNOTSUPP). Throws EINVAL for a value out of range. */
  setLinkValue?(index: number, what: 'mtu' | 'txqlen', value: number): void;
  /** Remove an address of a device the application made (RTM_DELADDR); false if it has no such address. */
  delAddress?(index: number, family: number, addr: Buffer): boolean;
  /** Add (or with add false remove) a route to dst/dstLen through a device the application made (RTM_NEWROUTE/DELROUTE); false: there already (add) or not there (remove). */
  changeRoute?(index: number, family: number, dst: Buffer, dstLen: number, add: boolean): boolean;
  /** Whether any interface here may change now (absent: setUp's presence says); false is EPERM before any other check. */
  changeable?(): boolean;
  /** Give a device the application made (a tun device) an address of family with prefixlen bits of network (replace: instead of its first of the family, as SIOCSIFADDR); false if it has it already. */
  addAddress?(index: number, family: number, addr: Buffer, prefixlen: number, replace?: boolean): boolean;
}

/**
 * Interfaces the namespace's stack adds to its table (tun devices,
 * net/tun/), after the table's own: listed in every snapshot, and changed
 * (up, addresses) through the same calls as the table's.
 */
export interface ExtraLinks {
  /** How many there are. */
  readonly size: number;
  /** Add their links, addresses and routes to s. */
  addTo(s: NetSnapshot): void;
  has(index: number): boolean;
  isUp(index: number): boolean;
  setUp(index: number, up: boolean): void;
  addAddress(index: number, family: number, addr: Buffer, prefixlen: number, replace: boolean): boolean;
  setLinkValue(index: number, what: 'mtu' | 'txqlen', value: number): void;
  delAddress(index: number, family: number, addr: Buffer): boolean;
  changeRoute(index: number, family: number, dst: Buffer, dstLen: number, add: boolean): boolean;
}

export interface NetworkConfig {
  readonly mode: NetworkMode;
  readonly interfaces: InterfaceTable;
  /** Host sockets held open for the application (host mode only). */
  readonly hostSockets: HostSocketBudget;
  /** Port ids bound by the sandbox's netlink sockets. */
  readonly netlinkPorts: Set<number>;
  /** The sandbox's network sysctls that change behaviour (/proc/sys/net/ipv4, OCI linux.sysctl). */
  readonly sysctl: NetSysctl;
  /** The user-mode NAT behind the stack's eth0 (sandbox mode of `tsvisor do`); absent: loopback only. */
  readonly nat?: NatConfig;
  /** Interfaces of the container's network namespace the stack took over (sandbox mode of an OCI container, net/packet/). */
  readonly links?: LinkConfig[];
}



export interface NetSysctl {
  /** net.ipv4.ip_unprivileged_port_start: binding a lower port needs CAP_NET_BIND_SERVICE (Docker sets 0). */
  unprivilegedPortStart: number;
  /** net.ipv4.conf.DEV.tag by DEV (all, default, each interface): a label Linux keeps and never acts on; an interface's starts as default's. */
  readonly devTags: Map<string, number>;
}

export function defaultNetSysctl(): NetSysctl {
  return { unprivilegedPortStart: 1024, devTags: new Map() };
}

/** net.ipv4.conf.DEV.tag: an interface first asked about takes default's value, as Linux copies it when the device registers. */
export function devTag(s: NetSysctl, dev: string): number {
  let v = s.devTags.get(dev);
  if (v === undefined) {
    v = dev === 'default' || dev === 'all' ? 0 : devTag(s, 'default');
    s.devTags.set(dev, v);
  }
  return v;
}

/** --publish HOSTPORT:PORT[/tcp|/udp]. */
export interface PublishSpec {
  hostPort: number;
  port: number;
  proto: 'tcp' | 'udp';
}

/** What the NAT (net/nat/) is told about the host. */
export interface NatConfig {
  readonly publish: readonly PublishSpec[];
  /** 10.0.2.2 reaches the host's 127.0.0.1, and the host's other addresses are reachable too. */
  readonly allowHostLoopback: boolean;
  /** The host's resolvers (4 or 16 bytes each), from its /etc/resolv.conf: where 10.0.2.3:53 goes. */
  readonly resolvers: readonly Buffer[];
  /** Whether addr (4 bytes) is one of the host's own addresses. */
  hostOwns(addr: Buffer): boolean;
}

/** Host sockets a sandbox with taken-over interfaces holds at once (the relays of Docker's DNS: 64 UDP, 16 TCP; net/packet/). */
export const LINK_SOCKET_LIMIT = 96;

/** Host sockets the NAT may hold at once (connections, UDP flows, published listeners). */
export const NAT_SOCKET_LIMIT = 4096;

/**
 * Host sockets the sandbox holds, bounded: each is a host fd of the Sentry,
 * and a socket in flight in a unix socket's queue (SCM_RIGHTS) or dup'd many
 * times counts once here while RLIMIT_NOFILE counts descriptors.
 */
export class HostSocketBudget {
  open = 0;
  constructor(readonly limit: number) {}
  take(): void {
    if (this.open >= this.limit) throw new Errno(E.ENFILE);
    this.open++;
  }
  give(): void {
    this.open--;
  }
}

/** The default bound of host sockets: well under the Sentry's own fd limit. */
export const HOST_SOCKET_LIMIT = 16384;

export const RTN_BROADCAST = 3;
export const FOREVER = 0xffffffff;

export function route(r: Partial<NetRoute> & Pick<NetRoute, 'family' | 'dstLen' | 'table' | 'type' | 'scope'>): NetRoute {
  return { srcLen: 0, tos: 0, protocol: RTPROT_KERNEL, flags: 0, dst: null, gateway: null, prefsrc: null, oif: 1, priority: null, pref: null, ...r };
}

/** A new network namespace after `ip link set lo up`, as Linux shows it (the routes are the local table's). */
export class LoopbackTable implements InterfaceTable {
  /** The stack's counters of a link by index, once the stack exists (net/factory.ts sets it). */
  linkStats: ((index: number) => LinkStats | null) | null = null;
  /** The stack's tun devices, once the stack exists (net/factory.ts sets it). */
  extra: ExtraLinks | null = null;

  protected stats(index: number): LinkStats {
    return this.linkStats?.(index) ?? zeroStats();
  }

  snapshot(): NetSnapshot {
    const s = this.own();
    this.extra?.addTo(s);
    return s;
  }

  isUp(index: number): boolean {
    return index === 1 || (this.extra?.isUp(index) ?? false);
  }

  /** Only the stack's own devices change here: this table's are fixed (EPERM), a namespace's loopback is NamespaceLoopbackTable's. */
  setUp(index: number, up: boolean): void {
    if (!this.extra?.has(index)) throw new Errno(index === 1 || this.own().links.some((l) => l.index === index) ? E.EPERM : E.ENODEV);
    this.extra.setUp(index, up);
  }

  canChange(index: number): boolean {
    return this.extra?.has(index) ?? false;
  }

  changeable(): boolean {
    return (this.extra?.size ?? 0) > 0;
  }

  setLinkValue(index: number, what: 'mtu' | 'txqlen', value: number): void {
    if (!this.extra?.has(index)) throw new Errno(E.EOPNOTSUPP);
    this.extra.setLinkValue(index, what, value);
  }

  delAddress(index: number, family: number, addr: Buffer): boolean {
    if (!this.extra?.has(index)) throw new Errno(E.EOPNOTSUPP);
    return this.extra.delAddress(index, family, addr);
  }

  changeRoute(index: number, family: number, dst: Buffer, dstLen: number, add: boolean): boolean {
    if (!this.extra?.has(index)) throw new Errno(E.EOPNOTSUPP);
    return this.extra.changeRoute(index, family, dst, dstLen, add);
  }

  addAddress(index: number, family: number, addr: Buffer, prefixlen: number, replace = false): boolean {
    if (!this.extra?.has(index)) throw new Errno(E.EPERM);
    return this.extra.addAddress(index, family, addr, prefixlen, replace);
  }

  /** The table's own interfaces, without the stack's devices. */
  protected own(): NetSnapshot {
    const v4 = (a: number[]) => Buffer.from(a);
    const lo6 = Buffer.alloc(16);
    lo6[15] = 1;
    return {
      links: [{
        index: 1, name: 'lo', type: ARPHRD_LOOPBACK, flags: IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_LOWER_UP, mtu: 65536, link: null,
        hwaddr: Buffer.alloc(6), broadcast: Buffer.alloc(6), qdisc: 'noqueue', txqlen: 1000, operstate: IF_OPER_UNKNOWN, linkmode: 0, group: 0,
        stats: this.stats(1),
      }],
      addrs: [
        { family: AF_INET, index: 1, prefixlen: 8, scope: RT_SCOPE_HOST, flags: IFA_F_PERMANENT, address: v4([127, 0, 0, 1]), local: v4([127, 0, 0, 1]), broadcast: null, label: 'lo', preferred: FOREVER, valid: FOREVER },
        { family: AF_INET6, index: 1, prefixlen: 128, scope: RT_SCOPE_HOST, flags: IFA_F_PERMANENT, address: lo6, local: null, broadcast: null, label: null, preferred: FOREVER, valid: FOREVER },
      ],
      routes: [
        route({ family: AF_INET, dstLen: 8, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_HOST, dst: v4([127, 0, 0, 0]), prefsrc: v4([127, 0, 0, 1]) }),
        route({ family: AF_INET, dstLen: 32, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_HOST, dst: v4([127, 0, 0, 1]), prefsrc: v4([127, 0, 0, 1]) }),
        route({ family: AF_INET, dstLen: 32, table: RT_TABLE_LOCAL, type: RTN_BROADCAST, scope: RT_SCOPE_LINK, dst: v4([127, 255, 255, 255]), prefsrc: v4([127, 0, 0, 1]) }),
        route({ family: AF_INET6, dstLen: 128, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_UNIVERSE, dst: lo6, priority: 0, pref: 0 }),
      ],
    };
  }
}

/**
 * The loopback of a namespace made by CLONE_NEWNET: down at first, with no
 * address and no route, until `ip link set lo up` (RTM_NEWLINK) or
 * SIOCSIFFLAGS brings it up; coming up gives it 127.0.0.1/8, ::1 and the
 * local routes, as Linux's inetdev and addrconf do. Going down drops ::1 and
 * the routes but 127.0.0.0/8's local ones, and keeps 127.0.0.1/8. Either
 * address may also be added while it is down (bubblewrap adds 127.0.0.1/8
 * before it brings the loopback up).
 */
export class NamespaceLoopbackTable extends LoopbackTable {
  up = false;
  private v4 = false;
  private v6 = false;

  override isUp(index: number): boolean {
    return index === 1 ? this.up : super.isUp(index);
  }

  override canChange(index: number): boolean {
    return index === 1 || super.canChange(index);
  }

  override changeable(): boolean {
    return true;
  }

  override setUp(index: number, up: boolean): void {
    if (index !== 1) return super.setUp(index, up);
    this.up = up;
    this.v4 ||= up;
    this.v6 = up;
  }

  addLoopbackAddress(family: number): boolean {
    const has = this.up || (family === AF_INET6 ? this.v6 : this.v4);
    if (family === AF_INET6) this.v6 = true;
    else this.v4 = true;
    return !has;
  }

  protected override own(): NetSnapshot {
    const s = super.own();
    if (this.up) return s;
    const lo = s.links[0];
    return {
      links: [{ ...lo, flags: IFF_LOOPBACK, qdisc: 'noop', operstate: IF_OPER_DOWN }],
      addrs: s.addrs.filter((a) => (a.family === AF_INET ? this.v4 : this.v6)),
      routes: this.v4 ? s.routes.filter((r) => r.family === AF_INET && r.type === RTN_LOCAL) : [],
    };
  }
}

/**
 * Sandbox mode with the NAT: loopback, and eth0 as slirp4netns configures its
 * tap device (10.0.2.15/24, default route via 10.0.2.2, MTU 1500, slirp's
 * MAC address; fd00::5054:ff:fe12:3456/64, the address SLAAC gives it from
 * slirp's router fd00::2, the IPv6 default route), with the routes Linux adds
 * for those addresses.
 */
export class NatTable extends LoopbackTable {
  protected override own(): NetSnapshot {
    const s = super.own();
    const v4 = (a: number[]) => Buffer.from(a);
    const me = v4([10, 0, 2, 15]);
    s.links.push({
      index: 2, name: 'eth0', type: ARPHRD_ETHER, flags: IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP, mtu: 1500, link: null,
      hwaddr: v4([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]), broadcast: v4([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), qdisc: 'fq_codel', txqlen: 1000,
      operstate: IF_OPER_UP, linkmode: 0, group: 0, stats: this.stats(2),
    });
    s.addrs.splice(1, 0, { family: AF_INET, index: 2, prefixlen: 24, scope: RT_SCOPE_UNIVERSE, flags: IFA_F_PERMANENT, address: me, local: me, broadcast: v4([10, 0, 2, 255]), label: 'eth0', preferred: FOREVER, valid: FOREVER });
    s.routes.unshift(
      route({ family: AF_INET, dstLen: 0, table: RT_TABLE_MAIN, type: RTN_UNICAST, scope: RT_SCOPE_UNIVERSE, protocol: RTPROT_BOOT, gateway: v4([10, 0, 2, 2]), oif: 2 }),
      route({ family: AF_INET, dstLen: 24, table: RT_TABLE_MAIN, type: RTN_UNICAST, scope: RT_SCOPE_LINK, dst: v4([10, 0, 2, 0]), prefsrc: me, oif: 2 }),
    );
    s.routes.push(
      route({ family: AF_INET, dstLen: 32, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_HOST, dst: me, prefsrc: me, oif: 2 }),
      route({ family: AF_INET, dstLen: 32, table: RT_TABLE_LOCAL, type: RTN_BROADCAST, scope: RT_SCOPE_LINK, dst: v4([10, 0, 2, 255]), prefsrc: me, oif: 2 }),
    );
    const v6 = (hex: string) => Buffer.from(hex, 'hex');
    const me6 = v6('fd000000000000005054' + '00fffe123456');
    s.addrs.push({ family: AF_INET6, index: 2, prefixlen: 64, scope: RT_SCOPE_UNIVERSE, flags: IFA_F_PERMANENT, address: me6, local: null, broadcast: null, label: null, preferred: FOREVER, valid: FOREVER });
    const at = s.routes.findIndex((r) => r.family === AF_INET6);
    s.routes.splice(at < 0 ? s.routes.length : at, 0,
      route({ family: AF_INET6, dstLen: 64, table: RT_TABLE_MAIN, type: RTN_UNICAST, scope: RT_SCOPE_UNIVERSE, dst: v6('fd00' + '0'.repeat(28)), oif: 2, priority: 256, pref: 0 }),
      route({ family: AF_INET6, dstLen: 0, table: RT_TABLE_MAIN, type: RTN_UNICAST, scope: RT_SCOPE_UNIVERSE, protocol: RTPROT_BOOT, gateway: v6('fd00' + '0'.repeat(27) + '2'), oif: 2, priority: 1024, pref: 0 }),
    );
    s.routes.push(route({ family: AF_INET6, dstLen: 128, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_UNIVERSE, dst: me6, oif: 2, priority: 0, pref: 0 }));
    return s;
  }
}
