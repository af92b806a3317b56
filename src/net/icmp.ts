// ICMP and ICMPv6, the part the stack needs: echo requests are answered
// (and echo replies go to the ping socket whose identifier they carry), a
// datagram to a port nobody has is answered with "port unreachable" (RFC 1122
// 3.2.2.1, RFC 4443 3.1), and such an error quoting one of our datagrams gives
// its connected UDP socket ECONNREFUSED; a destination unreachable quoting a
// SYN ends that connect with the error Linux gives (ENETUNREACH, EHOSTUNREACH,
// ECONNREFUSED). Malformed messages are dropped and
// counted.
import { echoOptions, wireOptions } from './ip/ipopts';
import { E } from '../abi/errno';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE } from '../abi/inet';
import { ipFromBytes, type Ip } from './ip/addr';
import { checksumOf, count, foldSum, IPV4_HLEN, IPV6_HLEN, pseudoSum, sumBytes, type IpPacket } from './ip/ip';
import type { Stack } from './stack';

const ICMP_HLEN = 8;
/** RFC 4443 2.4(c): an ICMPv6 error fits the minimum MTU of 1280. */
const ICMP6_ERROR_MAX = 1280 - IPV6_HLEN;

/** The ICMP (or ICMPv6, over its pseudo-header) checksum written into body. */
export function finish(body: Buffer, v4: boolean, src: Ip, dst: Ip): Buffer {
  const sum = v4 ? sumBytes(body, 0, body.length) : sumBytes(body, 0, body.length, pseudoSum(false, src, dst, IPPROTO_ICMPV6, body.length));
  body.writeUInt16BE(checksumOf(sum), 2);
  return body;
}

/** Answer a datagram nobody receives with port unreachable, quoting it. */
export function portUnreachable(stack: Stack, frame: Buffer, pkt: IpPacket): void {
  const quoted = frame.subarray(pkt.netOff, pkt.netOff + (pkt.v4 ? (frame[pkt.netOff] & 0xf) * 4 + 8 : ICMP6_ERROR_MAX - ICMP_HLEN));
  const body = Buffer.alloc(ICMP_HLEN + quoted.length);
  body[0] = pkt.v4 ? 3 : 1;
  body[1] = pkt.v4 ? 3 : 4;
  quoted.copy(body, ICMP_HLEN);
  count(stack.counters, pkt.v4 ? 'IcmpOutDestUnreachs' : 'Icmp6OutDestUnreachs');
  stack.sendRaw(pkt.dst, pkt.src, pkt.v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, finish(body, pkt.v4, pkt.dst, pkt.src));
}

export function handleIcmp(stack: Stack, pkt: IpPacket, _verify: boolean): void {
  const p = pkt.payload;
  const c = stack.counters;
  const name = pkt.v4 ? 'Icmp' : 'Icmp6';
  if (pkt.v4 !== (pkt.proto === IPPROTO_ICMP)) return void count(c, `${name}InErrors`);
  if (p.length < ICMP_HLEN) return void count(c, `${name}InErrors`);
  const sum = pkt.v4 ? sumBytes(p, 0, p.length) : sumBytes(p, 0, p.length, pseudoSum(false, pkt.src, pkt.dst, IPPROTO_ICMPV6, p.length));
  if (foldSum(sum) !== 0xffff) return void count(c, `${name}InCsumErrors`);
  count(c, `${name}InMsgs`);
  if (!pkt.v4 && stack.rawIcmp6.size > 0) stack.raw6Receive(pkt);
  const type = p[0];
  if ((pkt.v4 && type === 8) || (!pkt.v4 && type === 128)) {
    const reply = Buffer.from(p);
    reply[0] = pkt.v4 ? 0 : 129;
    reply.writeUInt16BE(0, 2);
    count(c, `${name}OutEchoReps`);
    // The request's IPv4 options come back echoed (record route and timestamps, with this hop's entry), as Linux's icmp_reply.
    const opts = pkt.options ? echoOptions(pkt.options) : null;
    const options = opts?.length ? wireOptions(opts, pkt.dst, pkt.src, stack.clockMs()) : undefined;
    stack.sendRaw(pkt.dst, pkt.src, pkt.proto, finish(reply, pkt.v4, pkt.dst, pkt.src), 0, options);
    return;
  }
  if (type === (pkt.v4 ? 0 : 129)) {
    stack.pingReceive(pkt);
    return;
  }
  const u = unreachableErrno(pkt.v4, type, p[1]);
  if (!u) return;
  const err = u.err;
  // The quoted packet: its IP header, then at least the UDP ports.
  const q = p.subarray(ICMP_HLEN);
  let src: Ip;
  let dst: Ip;
  let proto: number;
  let off: number;
  if (pkt.v4) {
    if (q.length < IPV4_HLEN || q[0] >> 4 !== 4) return void count(c, `${name}InErrors`);
    off = (q[0] & 0xf) * 4;
    proto = q[9];
    src = ipFromBytes(q, 12, 4);
    dst = ipFromBytes(q, 16, 4);
  } else {
    if (q.length < IPV6_HLEN || q[0] >> 4 !== 6) return void count(c, `${name}InErrors`);
    off = IPV6_HLEN;
    proto = q[6];
    src = ipFromBytes(q, 8, 16);
    dst = ipFromBytes(q, 24, 16);
  }
  if (q.length < off + 4) return;
  // A connected UDP socket learns the hard errors only (Linux's __udp4_lib_err and __udp6_lib_err without IP_RECVERR).
  if ((proto === IPPROTO_UDP || proto === IPPROTO_UDPLITE) && u.fatal) stack.udpUnreachable(src, q.readUInt16BE(off), dst, q.readUInt16BE(off + 2), err, proto === IPPROTO_UDPLITE);
  else if (proto === IPPROTO_TCP) stack.tcpUnreachable(src, q.readUInt16BE(off), dst, q.readUInt16BE(off + 2), err);
}

/**
 * The error a destination unreachable message means and whether it is hard
 * (Linux's icmp_err_convert and icmpv6_err_convert), null for other messages.
 */
function unreachableErrno(v4: boolean, type: number, code: number): { err: number; fatal: boolean } | null {
  if (v4) {
    if (type !== 3) return null;
    if (code === 0) return { err: E.ENETUNREACH, fatal: false };
    if (code === 1) return { err: E.EHOSTUNREACH, fatal: false };
    if (code === 3) return { err: E.ECONNREFUSED, fatal: true };
    if (code === 10 || code === 13) return { err: E.EHOSTUNREACH, fatal: true };
    return null;
  }
  if (type !== 1) return null;
  if (code === 4) return { err: E.ECONNREFUSED, fatal: true };
  if (code === 0) return { err: E.ENETUNREACH, fatal: false };
  if (code === 2 || code === 3) return { err: E.EHOSTUNREACH, fatal: false };
  // Administratively prohibited, source address failed policy, reject route.
  if (code === 1 || code === 5 || code === 6) return { err: E.EACCES, fatal: true };
  return null;
}

/** An ICMP destination unreachable from the stack itself (the NAT's answer to a flow it cannot carry), quoting the packet. */
export function destUnreachable(stack: { sendRaw(src: Ip, dst: Ip, proto: number, body: Buffer): void }, from: Ip, frame: Buffer, pkt: IpPacket, code: number): void {
  const quoted = frame.subarray(pkt.netOff, pkt.netOff + (pkt.v4 ? (frame[pkt.netOff] & 0xf) * 4 + 8 : Math.min(frame.length - pkt.netOff, ICMP6_ERROR_MAX - ICMP_HLEN)));
  const body = Buffer.alloc(ICMP_HLEN + quoted.length);
  body[0] = pkt.v4 ? 3 : 1;
  body[1] = code;
  quoted.copy(body, ICMP_HLEN);
  stack.sendRaw(from, pkt.src, pkt.v4 ? IPPROTO_ICMP : IPPROTO_ICMPV6, finish(body, pkt.v4, from, pkt.src));
}
