// The network layer's bytes: Ethernet II framing (so a NIC that carries real
// frames, a veth later, takes the same packets as loopback), IPv4 headers with
// their checksum and IPv6 headers, and the Internet checksum (RFC 1071) that
// TCP and UDP use over their pseudo-headers. Parsing checks every length
// against the bytes there are; a packet that fails is dropped and counted,
// never thrown out of the stack.
import { type Ip, ipFromBytes, writeIp } from './addr';

export const ETH_HLEN = 14;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const IPV4_HLEN = 20;
export const IPV6_HLEN = 40;

/** Counters of the stack (as /proc/net/snmp and netstat -s count them), by name. */
export type Counters = Record<string, number>;

export function count(c: Counters, name: string): void {
  c[name] = (c[name] ?? 0) + 1;
}

/** One's complement sum of b[off, off+len) added to sum, not yet folded. */
export function sumBytes(b: Buffer, off: number, len: number, sum = 0): number {
  let i = off;
  const end = off + len - 1;
  for (; i < end; i += 2) sum += (b[i] << 8) | b[i + 1];
  if (i === end) sum += b[i] << 8;
  return sum;
}

export function foldSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The checksum field for data whose unfolded sum is sum. */
export const checksumOf = (sum: number): number => ~foldSum(sum) & 0xffff;

/** Sum of the TCP/UDP pseudo-header (RFC 793, RFC 8200 section 8.1). */
export function pseudoSum(v4: boolean, src: Ip, dst: Ip, proto: number, len: number): number {
  let s = 0;
  const from = v4 ? 24 : 0;
  for (let i = from; i < 32; i += 4) s += parseInt(src.slice(i, i + 4), 16) + parseInt(dst.slice(i, i + 4), 16);
  return s + proto + (len & 0xffff) + Math.floor(len / 0x10000);
}

/** Room before the transport header in a frame (optLen: bytes of IPv4 options, a multiple of 4). */
export const headerRoom = (v4: boolean, optLen = 0): number => ETH_HLEN + (v4 ? IPV4_HLEN + optLen : IPV6_HLEN);

export interface IpHeader {
  v4: boolean;
  src: Ip;
  dst: Ip;
  proto: number;
  /** IPv4 TOS or the IPv6 traffic class. */
  tos: number;
  ttl: number;
  /** IPv4 identification. */
  id: number;
  /** IPv4 options as sent (ipopts.ts wireOptions: checked, a multiple of 4 bytes, at most 40): the header grows by them. */
  options?: Buffer;
}

/** Write the Ethernet and IP headers in front of the transport bytes (frame = headerRoom + transport length). */
export function writeHeaders(frame: Buffer, h: IpHeader): void {
  const optLen = h.v4 && h.options ? h.options.length : 0;
  const tlen = frame.length - headerRoom(h.v4, optLen);
  frame.fill(0, 0, 12); // loopback: zero MAC addresses, as Linux's lo
  frame.writeUInt16BE(h.v4 ? ETH_P_IP : ETH_P_IPV6, 12);
  const o = ETH_HLEN;
  if (h.v4) {
    const hlen = IPV4_HLEN + optLen;
    frame[o] = 0x40 | (hlen >> 2);
    frame[o + 1] = h.tos & 0xff;
    frame.writeUInt16BE(hlen + tlen, o + 2);
    frame.writeUInt16BE(h.id & 0xffff, o + 4);
    frame.writeUInt16BE(0x4000, o + 6); // DF, no fragments
    frame[o + 8] = h.ttl;
    frame[o + 9] = h.proto;
    frame.writeUInt16BE(0, o + 10);
    writeIp(h.src, frame, o + 12, true);
    writeIp(h.dst, frame, o + 16, true);
    if (h.options) h.options.copy(frame, o + IPV4_HLEN);
    frame.writeUInt16BE(checksumOf(sumBytes(frame, o, hlen)), o + 10);
    return;
  }
  frame.writeUInt32BE((0x60000000 | ((h.tos & 0xff) << 20)) >>> 0, o);
  frame.writeUInt16BE(tlen, o + 4);
  frame[o + 6] = h.proto;
  frame[o + 7] = h.ttl;
  writeIp(h.src, frame, o + 8, false);
  writeIp(h.dst, frame, o + 24, false);
}

export interface IpPacket extends IpHeader {
  /** The transport bytes (a view into the frame). */
  payload: Buffer;
  /** The frame's network header offset and length, for ICMP errors that quote it. */
  netOff: number;
  /** The index of the interface it came in on (set by the stack's receive path; absent: unknown). */
  iif?: number;
}

/** The IP packet in frame, or null (counted in c) when it is malformed or not for the stack. */
export function parseFrame(frame: Buffer, c: Counters): IpPacket | null {
  if (frame.length < ETH_HLEN) return drop(c, 'LinkTruncated');
  const type = frame.readUInt16BE(12);
  const o = ETH_HLEN;
  const avail = frame.length - o;
  if (type === ETH_P_IP) {
    count(c, 'IpInReceives');
    if (avail < IPV4_HLEN || frame[o] >> 4 !== 4) return drop(c, 'IpInHdrErrors');
    const ihl = (frame[o] & 0xf) * 4;
    const total = frame.readUInt16BE(o + 2);
    if (ihl < IPV4_HLEN || total < ihl || total > avail) return drop(c, 'IpInHdrErrors');
    if (foldSum(sumBytes(frame, o, ihl)) !== 0xffff) return drop(c, 'IpInCsumErrors');
    // Fragments are not reassembled: the stack never fragments what it sends.
    if (frame.readUInt16BE(o + 6) & 0x3fff) return drop(c, 'IpReasmFails');
    return {
      v4: true, tos: frame[o + 1], id: frame.readUInt16BE(o + 4), ttl: frame[o + 8], proto: frame[o + 9],
      src: ipFromBytes(frame, o + 12, 4), dst: ipFromBytes(frame, o + 16, 4), payload: frame.subarray(o + ihl, o + total), netOff: o,
      // The options (a view), checked by the stack's input (ipopts.ts receivedOptions), which replaces them with its copy.
      options: ihl > IPV4_HLEN ? frame.subarray(o + IPV4_HLEN, o + ihl) : undefined,
    };
  }
  if (type === ETH_P_IPV6) {
    count(c, 'Ip6InReceives');
    if (avail < IPV6_HLEN || frame[o] >> 4 !== 6) return drop(c, 'Ip6InHdrErrors');
    const plen = frame.readUInt16BE(o + 4);
    if (IPV6_HLEN + plen > avail) return drop(c, 'Ip6InTruncatedPkts');
    // A multicast source is never valid (RFC 4291 2.7).
    if (frame[o + 8] === 0xff) return drop(c, 'Ip6InAddrErrors');
    const end = o + IPV6_HLEN + plen;
    const t = skipExtensions(frame, o + IPV6_HLEN, end, frame[o + 6], c);
    if (!t) return null;
    return {
      v4: false, tos: (frame.readUInt16BE(o) >> 4) & 0xff, id: 0, ttl: frame[o + 7], proto: t.proto,
      src: ipFromBytes(frame, o + 8, 16), dst: ipFromBytes(frame, o + 24, 16), payload: frame.subarray(t.off, end), netOff: o,
    };
  }
  return drop(c, 'LinkUnknownProto');
}

/** IPv6 extension headers (RFC 8200 4): hop-by-hop options (first only), routing, fragment, destination options, no next header. */
const HOPOPTS = 0, ROUTING = 43, FRAGMENT = 44, NONE = 59, DSTOPTS = 60;
/** Extension headers a packet may carry before its transport header; more is a hostile chain, dropped. */
const MAX_EXTENSIONS = 8;

/**
 * The transport protocol and its offset after the extension headers from off
 * to end, or null (counted). Options headers and a routing header with no
 * segments left are passed over (no option the stack acts on is defined for
 * them); a fragment is dropped, as IPv4's are (nothing is reassembled: the
 * stack never fragments); a routing header still to be followed is dropped
 * (the stack is no router).
 */
function skipExtensions(frame: Buffer, off: number, end: number, next: number, c: Counters): { proto: number; off: number } | null {
  for (let n = 0; ; n++) {
    switch (next) {
      case HOPOPTS:
        if (n !== 0) return drop(c, 'Ip6InHdrErrors');
        break;
      case DSTOPTS:
      case ROUTING:
        break;
      case FRAGMENT:
        return drop(c, 'Ip6ReasmFails');
      case NONE:
        return drop(c, 'Ip6InNoNextHeader');
      default:
        return { proto: next, off };
    }
    if (n >= MAX_EXTENSIONS) return drop(c, 'Ip6InHdrErrors');
    if (off + 8 > end) return drop(c, 'Ip6InTruncatedPkts');
    const len = (frame[off + 1] + 1) * 8;
    if (off + len > end) return drop(c, 'Ip6InTruncatedPkts');
    if (next === ROUTING && frame[off + 3] !== 0) return drop(c, 'Ip6InHdrErrors');
    next = frame[off];
    off += len;
  }
}

function drop(c: Counters, name: string): null {
  count(c, name);
  return null;
}
