// Routes the kernel announced while the take-over (host/netns.ts) deleted an
// interface's addresses. Deleting an interface's last IPv4 address flushes
// every route through it without a notification, so a route Docker added
// between the take-over's last read of the routes and that deletion (the
// gateway it sets right after bringing a new interface up) would be gone
// unseen. A socket subscribed to the route groups before that read hears
// the addition: what it heard added and not deleted, but the host no
// longer has, was flushed by the take-over and is put back.
import { SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW } from '../abi/socket';
import * as libc from './libc';
import { AF_NETLINK, NETLINK_ROUTE, NLMSG_HDRLEN, RTM_DELROUTE, RTM_NEWROUTE, RTN_UNICAST, RT_TABLE_MAIN, nlmsgAlign, type NetRoute } from '../abi/netif';
import { decodeRoute } from './hostnetinfo';

const RTMGRP_IPV4_ROUTE = 0x40, RTMGRP_IPV6_ROUTE = 0x400;

const key = (r: NetRoute): string => `${r.family}/${r.dstLen}/${r.dst?.toString('hex') ?? ''}/${r.gateway?.toString('hex') ?? ''}`;

/** Whether two routes of the main table are the same one (destination, prefix, gateway). */
export const sameHostRoute = (a: NetRoute, b: NetRoute): boolean => key(a) === key(b);

export class RouteWatch {
  private fd: number;

  /** Listening from now on (a socket that cannot be made hears nothing: the take-over goes on as before). */
  constructor() {
    this.fd = Number(libc.socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (this.fd < 0) return;
    const snl = Buffer.alloc(12);
    snl.writeUInt16LE(AF_NETLINK, 0);
    snl.writeUInt32LE(RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE, 8);
    if (Number(libc.bind(this.fd, snl, snl.length)) < 0) this.close();
  }

  /** The main table's unicast routes through interface index announced and not withdrawn since the watch began; the watch ends. */
  heard(index: number): NetRoute[] {
    const live = new Map<string, NetRoute>();
    const buf = Buffer.alloc(1 << 16);
    // Until EAGAIN (or an overflow, ENOBUFS: what was lost is lost, as before the watch).
    for (let n = this.fd < 0 ? -1 : Number(libc.recv(this.fd, buf, buf.length, 0)); n > 0; n = Number(libc.recv(this.fd, buf, buf.length, 0))) {
      for (let off = 0; off + NLMSG_HDRLEN <= n; ) {
        const len = buf.readUInt32LE(off);
        const type = buf.readUInt16LE(off + 4);
        if (len < NLMSG_HDRLEN || off + len > n) break;
        const r = type === RTM_NEWROUTE || type === RTM_DELROUTE ? decodeRoute(buf.subarray(off + NLMSG_HDRLEN, off + len)) : null;
        if (r && r.oif === index && r.table === RT_TABLE_MAIN && r.type === RTN_UNICAST) {
          if (type === RTM_NEWROUTE) live.set(key(r), r);
          else live.delete(key(r));
        }
        off += nlmsgAlign(len);
      }
    }
    this.close();
    return [...live.values()];
  }

  close(): void {
    if (this.fd >= 0) libc.close(this.fd);
    this.fd = -1;
  }
}
