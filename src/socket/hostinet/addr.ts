// Socket addresses of host-mode sockets, checked as Linux checks them before
// anything reaches the host: the length first (EINVAL), then the family
// (EAFNOSUPPORT). What the host gets is a fresh copy of the fixed-size
// structure, never the application's bytes past it.
import { Errno, E } from '../../abi/errno';
import { AF_INET, AF_INET6, AF_UNSPEC } from '../../abi/socket';

const SOCKADDR_IN = 16;
const SOCKADDR_IN6 = 28;
/** The RFC 2133 sockaddr_in6, without sin6_scope_id: Linux accepts it. */
const SIN6_LEN_RFC2133 = 24;

function in4(addr: Buffer): Buffer {
  if (addr.length < SOCKADDR_IN) throw new Errno(E.EINVAL);
  const sa = Buffer.from(addr.subarray(0, SOCKADDR_IN));
  sa.writeUInt16LE(AF_INET, 0);
  sa.fill(0, 8);
  return sa;
}

function in6(addr: Buffer): Buffer {
  if (addr.length < SIN6_LEN_RFC2133) throw new Errno(E.EINVAL);
  const sa = Buffer.alloc(SOCKADDR_IN6);
  addr.copy(sa, 0, 0, Math.min(addr.length, SOCKADDR_IN6));
  return sa;
}

/**
 * The address to give the host for a call, or null for none:
 * bind: the socket's family (on IPv4 also AF_UNSPEC with INADDR_ANY, as Linux
 * accepts from old programs); connect (stream or datagram): AF_UNSPEC
 * dissolves the association, a datagram IPv6 socket may name an IPv4 peer;
 * sendto: a datagram's destination (IPv4 reads AF_UNSPEC as AF_INET, IPv6
 * as "no address").
 */
export function checkAddr(family: number, addr: Buffer, use: 'bind' | 'connect' | 'dconnect' | 'sendto'): Buffer | null {
  if (addr.length < 2) throw new Errno(E.EINVAL);
  const fam = addr.readUInt16LE(0);
  if (fam === AF_UNSPEC && (use === 'connect' || use === 'dconnect')) return Buffer.alloc(SOCKADDR_IN);
  if (family === AF_INET) {
    if (addr.length < SOCKADDR_IN) throw new Errno(E.EINVAL);
    if (fam === AF_INET) return in4(addr);
    if (fam === AF_UNSPEC && (use === 'sendto' || addr.readUInt32LE(4) === 0)) return in4(addr);
    throw new Errno(E.EAFNOSUPPORT);
  }
  if (use === 'sendto') {
    if (fam === AF_INET6) return in6(addr);
    if (fam === AF_INET) return in4(addr);
    if (fam === AF_UNSPEC) return null;
    throw new Errno(E.EINVAL);
  }
  if (use === 'dconnect' && fam === AF_INET && addr.length >= SOCKADDR_IN) return in4(addr);
  if (addr.length < SIN6_LEN_RFC2133) throw new Errno(E.EINVAL);
  if (fam !== AF_INET6) throw new Errno(E.EAFNOSUPPORT);
  return in6(addr);
}

/** Whether a checked sockaddr names an IPv4 address: AF_INET, or AF_INET6 with an IPv4-mapped address (::ffff:a.b.c.d). */
export function isV4Sockaddr(sa: Buffer): boolean {
  if (sa.readUInt16LE(0) === AF_INET) return true;
  return sa.length >= SIN6_LEN_RFC2133 && sa.subarray(8, 18).every((b) => b === 0) && sa.readUInt16BE(18) === 0xffff;
}
