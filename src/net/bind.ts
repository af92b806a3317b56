// bind(2) for inet sockets: the sockaddr checked as Linux checks it (family,
// length, a local address, a privileged port), then a binding in the
// protocol's port table.
import { Errno, E } from '../abi/errno';
import { AF_INET, AF_UNSPEC } from '../abi/socket';
import { hasCapability } from '../auth/creds';
import type { FileCtx } from '../vfs/ctx';
import { isAny, isV4, parseSockaddr, type SockAddr } from './ip/addr';

const CAP_NET_BIND_SERVICE = 10;

/**
 * The address of a bind(2) on a socket of family fam, checked: EAFNOSUPPORT, EINVAL, EADDRNOTAVAIL, EACCES
 * (a port below unprivilegedStart, net.ipv4.ip_unprivileged_port_start, without CAP_NET_BIND_SERVICE), and
 * for a link-local address ENODEV (linkLocal's checks).
 */
export function bindAddress(t: FileCtx, fam: number, raw: Buffer, v6only: boolean, isOwn: (ip: string) => boolean, unprivilegedStart: number, linkLocal?: (sa: SockAddr) => boolean): SockAddr {
  // AF_INET takes AF_UNSPEC with INADDR_ANY, for old programs (Linux's __inet_bind).
  if (fam === AF_INET && raw.length >= 16 && raw.readUInt16LE(0) === AF_UNSPEC) {
    if (raw.readUInt32BE(4) !== 0) throw new Errno(E.EAFNOSUPPORT);
    raw = Buffer.from(raw);
    raw.writeUInt16LE(AF_INET, 0);
  }
  const sa = parseSockaddr(raw, fam);
  // A link-local address is checked against the interface its scope id names (linkLocal: InetSocket.bindLinkLocal).
  if (!linkLocal?.(sa) && !isAny(sa.ip) && !isOwn(sa.ip)) throw new Errno(E.EADDRNOTAVAIL);
  if (v6only && isV4(sa.ip)) throw new Errno(E.EINVAL);
  if (sa.port !== 0 && sa.port < unprivilegedStart && !hasCapability(t.creds, CAP_NET_BIND_SERVICE)) throw new Errno(E.EACCES);
  return sa;
}
