// IP addresses inside the stack and the sockaddr_in / sockaddr_in6 the
// application passes. An address is one string of 32 hex digits, the 16 bytes
// of its IPv6 form, an IPv4 address as IPv4-mapped (::ffff:a.b.c.d): one key
// for the port tables and the connection table whatever the family, which is
// what a dual-stack socket needs.
import { Errno, E } from '../../abi/errno';
import { AF_INET, AF_INET6 } from '../../abi/socket';
import { SOCKADDR_IN6_SIZE, SOCKADDR_IN_SIZE } from '../../abi/inet';

export type Ip = string;

const MAPPED_PREFIX = '00000000000000000000ffff';
export const ANY6: Ip = '0'.repeat(32);
export const ANY4: Ip = MAPPED_PREFIX + '00000000';
export const LOOP6: Ip = '0'.repeat(31) + '1';
export const LOOP4: Ip = MAPPED_PREFIX + '7f000001';

export const isV4 = (a: Ip): boolean => a.startsWith(MAPPED_PREFIX);
export const isAny = (a: Ip): boolean => a === ANY6 || a === ANY4;

export function ipFromBytes(b: Buffer, off: number, len: 4 | 16): Ip {
  const hex = b.toString('hex', off, off + len);
  return len === 4 ? MAPPED_PREFIX + hex : hex;
}

/** The 4 (IPv4) or 16 bytes of a, written at off. */
export function writeIp(a: Ip, out: Buffer, off: number, v4: boolean): void {
  out.write(v4 ? a.slice(24) : a, off, 'hex');
}

/** Whether a and b (stack addresses, 32 hex digits) agree in their first bits bits. */
export function samePrefix(a: Ip, b: Ip, bits: number): boolean {
  const nib = bits >> 2;
  if (a.slice(0, nib) !== b.slice(0, nib)) return false;
  const rest = bits & 3;
  if (!rest) return true;
  const m = (0xf0 >> rest) & 0xf;
  return (parseInt(a[nib], 16) & m) === (parseInt(b[nib], 16) & m);
}

/** Whether a is an IPv6 link-local unicast address (fe80::/10), which names its interface by a scope id (RFC 4007). */
export function isLinkLocal(a: Ip): boolean {
  return a.startsWith('fe') && '89ab'.includes(a[2]);
}

/** Whether a is an address of this host's loopback interface (all of 127.0.0.0/8, and ::1). */
export function isLocal(a: Ip): boolean {
  if (isV4(a)) return a.slice(24, 26) === '7f';
  return a === LOOP6;
}

export interface SockAddr {
  ip: Ip;
  port: number;
  /** The family the application used (AF_INET or AF_INET6). */
  family: number;
  flowinfo: number;
  scope: number;
}

/**
 * An application's sockaddr for a socket of family fam. Too short is EINVAL;
 * another family EAFNOSUPPORT (except AF_UNSPEC, which the caller handles:
 * bind takes it as INADDR_ANY on AF_INET, connect as a disconnect).
 */
export function parseSockaddr(b: Buffer, fam: number): SockAddr {
  if (b.length < 2) throw new Errno(E.EINVAL);
  const f = b.readUInt16LE(0);
  if (fam === AF_INET) {
    if (b.length < SOCKADDR_IN_SIZE) throw new Errno(E.EINVAL);
    if (f !== AF_INET) throw new Errno(E.EAFNOSUPPORT);
    return { ip: ipFromBytes(b, 4, 4), port: b.readUInt16BE(2), family: AF_INET, flowinfo: 0, scope: 0 };
  }
  // An AF_INET6 sockaddr may omit sin6_scope_id (RFC 2133's 24 bytes).
  if (b.length < 24) throw new Errno(E.EINVAL);
  if (f !== AF_INET6) throw new Errno(E.EAFNOSUPPORT);
  return { ip: ipFromBytes(b, 8, 16), port: b.readUInt16BE(2), family: AF_INET6, flowinfo: b.readUInt32BE(4), scope: b.length >= 28 ? b.readUInt32LE(24) : 0 };
}

/** The sockaddr of (ip, port) as a socket of family fam reports it (IPv4 addresses mapped on AF_INET6), with a link-local address's scope id. */
export function formatSockaddr(fam: number, ip: Ip, port: number, scope = 0): Buffer {
  if (fam === AF_INET) {
    const b = Buffer.alloc(SOCKADDR_IN_SIZE);
    b.writeUInt16LE(AF_INET, 0);
    b.writeUInt16BE(port, 2);
    writeIp(ip, b, 4, true);
    return b;
  }
  const b = Buffer.alloc(SOCKADDR_IN6_SIZE);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  writeIp(ip, b, 8, false);
  if (scope && isLinkLocal(ip)) b.writeUInt32LE(scope, 24);
  return b;
}
