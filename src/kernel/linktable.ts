// The interface table of a sandbox whose stack took over its container's
// interfaces (net/packet/): loopback, and each interface as the container's
// network namespace had it configured (name, MAC address, MTU, addresses,
// default routes), with the routes Linux derives from those addresses, so
// that `ip addr` and `ip route` in the container show what runc's would.
import { AF_INET, AF_INET6 } from '../abi/socket';
import {
  ARPHRD_ETHER, IFA_F_PERMANENT, IFF_BROADCAST, IFF_LOWER_UP, IFF_MULTICAST, IFF_RUNNING, IFF_UP, IF_OPER_UP, RTN_LOCAL, RTN_UNICAST,
  RTPROT_BOOT, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, RT_TABLE_LOCAL, RT_TABLE_MAIN, type LinkConfig, type NetSnapshot,
} from '../abi/netif';
import { FOREVER, LoopbackTable, RTN_BROADCAST, route } from './netinfo';

const RTN_MULTICAST = 5;
/** ff00::/8. */
const FF00 = Buffer.from('ff' + '00'.repeat(15), 'hex');

/** The interface index the sandbox gives the i-th taken-over link (1 is loopback). */
export const linkIndex = (i: number): number => 2 + i;

/** addr with the bits past prefix cleared (the network), or set (the broadcast address). */
export function networkOf(addr: Buffer, prefix: number, ones = false): Buffer {
  const out = Buffer.from(addr);
  for (let bit = prefix; bit < out.length * 8; bit++) {
    const m = 0x80 >> (bit & 7);
    out[bit >> 3] = ones ? out[bit >> 3] | m : out[bit >> 3] & ~m;
  }
  return out;
}

export class LinkTable extends LoopbackTable {
  constructor(private readonly links: readonly LinkConfig[]) {
    super();
  }

  /**
   * A container whose networks are all IPv4-only has IPv6 turned off by
   * Docker in its whole namespace (net.ipv6.conf.all.disable_ipv6, and so no
   * ::1 on its loopback either); its interfaces came with no IPv6 address.
   */
  ipv6Off(): boolean {
    return this.links.length > 0 && !this.links.some((l) => l.addrs.some((a) => a.addr.length === 16));
  }

  protected override own(): NetSnapshot {
    const s = super.own();
    if (this.ipv6Off()) {
      s.addrs = s.addrs.filter((a) => a.family !== AF_INET6);
      s.routes = s.routes.filter((r) => r.family !== AF_INET6);
    }
    this.links.forEach((l, i) => {
      const index = l.index ?? linkIndex(i);
      s.links.push({
        index, name: l.name, type: ARPHRD_ETHER, flags: IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_LOWER_UP, mtu: l.mtu, link: null,
        hwaddr: Buffer.from(l.mac), broadcast: Buffer.alloc(6, 0xff), qdisc: 'noqueue', txqlen: 1000, operstate: IF_OPER_UP, linkmode: 0, group: 0,
        stats: this.stats(index),
      });
      for (const a of l.addrs) {
        const v4 = a.addr.length === 4;
        const net = networkOf(a.addr, a.prefix);
        if (v4) {
          const bcast = networkOf(a.addr, a.prefix, true);
          s.addrs.splice(1 + i, 0, {
            family: AF_INET, index, prefixlen: a.prefix, scope: RT_SCOPE_UNIVERSE, flags: IFA_F_PERMANENT, address: a.addr, local: a.addr,
            broadcast: a.prefix < 31 ? bcast : null, label: l.name, preferred: FOREVER, valid: FOREVER,
          });
          s.routes.unshift(route({ family: AF_INET, dstLen: a.prefix, table: RT_TABLE_MAIN, type: RTN_UNICAST, scope: RT_SCOPE_LINK, dst: net, prefsrc: a.addr, oif: index }));
          s.routes.push(route({ family: AF_INET, dstLen: 32, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_HOST, dst: a.addr, prefsrc: a.addr, oif: index }));
          if (a.prefix < 31) s.routes.push(route({ family: AF_INET, dstLen: 32, table: RT_TABLE_LOCAL, type: RTN_BROADCAST, scope: RT_SCOPE_LINK, dst: bcast, prefsrc: a.addr, oif: index }));
        } else {
          s.addrs.push({
            family: AF_INET6, index, prefixlen: a.prefix, scope: a.scope ?? RT_SCOPE_UNIVERSE, flags: IFA_F_PERMANENT | (a.flags ?? 0), address: a.addr, local: null, broadcast: null,
            label: null, preferred: FOREVER, valid: FOREVER,
          });
          s.routes.push(route({ family: AF_INET6, dstLen: a.prefix, table: RT_TABLE_MAIN, type: RTN_UNICAST, scope: RT_SCOPE_UNIVERSE, dst: net, oif: index, priority: 256, pref: 0 }));
          s.routes.push(route({ family: AF_INET6, dstLen: 128, table: RT_TABLE_LOCAL, type: RTN_LOCAL, scope: RT_SCOPE_UNIVERSE, dst: a.addr, oif: index, priority: 0, pref: 0 }));
        }
      }
      if (l.gateway4) s.routes.unshift(route({ family: AF_INET, dstLen: 0, table: RT_TABLE_MAIN, type: RTN_UNICAST, scope: RT_SCOPE_UNIVERSE, protocol: RTPROT_BOOT, gateway: l.gateway4, oif: index }));
      for (const r of l.routes ?? []) {
        const v4 = r.dst.length === 4;
        s.routes.push(route({
          family: v4 ? AF_INET : AF_INET6, dstLen: r.prefix, table: RT_TABLE_MAIN, type: RTN_UNICAST, scope: r.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
          protocol: RTPROT_BOOT, dst: r.dst, gateway: r.gateway, oif: index, ...(v4 ? {} : { priority: 1024, pref: 0 }),
        }));
      }
      if (l.gateway6) s.routes.push(route({ family: AF_INET6, dstLen: 0, table: RT_TABLE_MAIN, type: RTN_UNICAST, scope: RT_SCOPE_UNIVERSE, protocol: RTPROT_BOOT, gateway: l.gateway6, oif: index, priority: 1024, pref: 0 }));
      // Linux's multicast route of an interface with IPv6 (in the local table; busybox's `ip -6 route` shows it).
      if (l.addrs.some((a) => a.addr.length === 16)) {
        s.routes.push(route({ family: AF_INET6, dstLen: 8, table: RT_TABLE_LOCAL, type: RTN_MULTICAST, scope: RT_SCOPE_UNIVERSE, dst: FF00, oif: index, priority: 256, pref: 0 }));
      }
    });
    return s;
  }
}
