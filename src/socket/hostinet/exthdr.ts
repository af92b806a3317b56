// IPv6 extension headers of host-mode sockets (RFC 3542: IPV6_HOPOPTS,
// IPV6_DSTOPTS, IPV6_RTHDRDSTOPTS, IPV6_RTHDR), checked here before any
// byte reaches the host, as Linux checks them:
// - setsockopt (ipv6_set_opt_hdr): CAP_NET_RAW for all but the routing
//   header (EPERM, the application's, not the Sentry's), then a length that
//   is 0 (the header is removed) or a multiple of 8 from 8 up to 8*255, and
//   the header's own length field ((hdrlen+1)*8 bytes) within it (EINVAL);
//   the host keeps those bytes only, and is given only them.
// - sendmsg (ip6_datagram_send_ctl): at least the fixed part (2 bytes, 4
//   for a routing header) and the header's own length within the message
//   (EINVAL), then CAP_NET_RAW for the options headers (EPERM).
// - recvmsg: a header the host gives is passed on only when its length
//   field says exactly its size.
// What the headers hold (option types, the routing header's type and
// segments) is the host's to check, as for IP_OPTIONS.
import { Errno, E } from '../../abi/errno';
import { CAP_NET_RAW, IPV6_DSTOPTS, IPV6_HOPOPTS, IPV6_RTHDR, IPV6_RTHDRDSTOPTS } from '../../abi/inet';
import { hasCapability, type Credentials } from '../../auth/creds';

/** The most bytes of one header: a length field of 255 would be 2048, which setsockopt refuses (received ones may be that long). */
export const EXT_HDR_MAX = 8 * 255;
export const EXT_HDR_RECV_MAX = 8 * 256;
export const EXT_HDRS: ReadonlySet<number> = new Set([IPV6_HOPOPTS, IPV6_DSTOPTS, IPV6_RTHDRDSTOPTS, IPV6_RTHDR]);

/** A header's size as its length field says. */
const hdrLen = (b: Buffer): number => (b[1] + 1) * 8;

function needRaw(creds: Credentials, name: number): void {
  if (name !== IPV6_RTHDR && !hasCapability(creds, CAP_NET_RAW)) throw new Errno(E.EPERM);
}

/** setsockopt of a sticky header: the bytes the host is given (empty: remove it). */
export function stickyHeader(creds: Credentials, name: number, val: Buffer): Buffer {
  needRaw(creds, name);
  if (val.length === 0) return Buffer.alloc(0);
  if (val.length < 8 || val.length % 8 !== 0 || val.length > EXT_HDR_MAX || hdrLen(val) > val.length) throw new Errno(E.EINVAL);
  return Buffer.from(val.subarray(0, hdrLen(val)));
}

/** A sendmsg control message's header: how many of its bytes the host is given. */
export function sentHeaderLen(creds: Credentials, type: number, data: Buffer): number {
  if (data.length < (type === IPV6_RTHDR ? 4 : 2) || hdrLen(data) > data.length) throw new Errno(E.EINVAL);
  needRaw(creds, type);
  return hdrLen(data);
}

/** Whether a header the host gave is whole and consistent. */
export function receivedHeaderOk(data: Buffer): boolean {
  return data.length >= 8 && data.length <= EXT_HDR_RECV_MAX && hdrLen(data) === data.length;
}
