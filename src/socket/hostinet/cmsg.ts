// Control messages of host-mode sockets, the one place where they cross
// between the application and its host socket, each way through an
// allowlist of (level, type) pairs with the lengths Linux takes or gives:
// - sendmsg: IP_RETOPTS (IP options, up to 40 bytes), IP_PKTINFO, IP_TTL,
//   IP_TOS, IPV6_PKTINFO, IPV6_HOPLIMIT, IPV6_TCLASS and the IPv6 extension
//   headers (exthdr.ts), copied into a fresh buffer after their length is checked
//   (EINVAL otherwise, as Linux's ip_cmsg_send and ip6_datagram_send_ctl);
//   another type of the destination's IP level (SOL_IP for IPv4 and an
//   IPv6 socket's mapped destinations, SOL_IPV6 else) is EINVAL (unknown
//   to Linux, or not passed here), other messages are dropped, as Linux
//   ignores them. Of SOL_SOCKET's only SO_TIMESTAMPING's per-message flags
//   (an int) get here and cross (on a stream socket too, where the IP levels'
//   mean nothing to Linux and are dropped): the syscall layer takes
//   SCM_RIGHTS and SCM_CREDENTIALS apart and hostinet.ts drops them.
// - recvmsg: what the host wrote for the options options.ts lets through
//   (SO_TIMESTAMP, SO_TIMESTAMPNS and their _NEW forms, IP_RECVOPTS and
//   IP_RECVRETOPTS (up to 40 bytes each), IP_PKTINFO, IP_RECVTTL, IP_RECVTOS, IP_RECVORIGDSTADDR, and
//   IPV6_RECVPKTINFO, IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS,
//   IPV6_RECVORIGDSTADDR, and IPV6_RECVHOPOPTS, IPV6_RECVDSTOPTS and
//   IPV6_RECVRTHDR's headers, whose length field must say their size),
//   each of its exact size, and SO_TIMESTAMPING's SCM_TIMESTAMPING (three
//   timespecs) and SCM_TIMESTAMPING_PKTINFO; on the error queue also the
//   extended error (IP_RECVERR, IPV6_RECVERR: a sock_extended_err and the
//   offender's sockaddr); anything else, which no
//   allowed option asks for, is dropped, so a host descriptor can never
//   reach the application.
// Interface indices are the host's on both sides: host mode shows the
// application the host's interfaces (host/hostnetinfo.ts), so an index
// passes unchanged.
import { Errno, E } from '../../abi/errno';
import { CMSG_HDR, SOL_SOCKET, cmsgAlign, cmsgSpace } from '../../abi/socket';
import { IP_PKTINFO, IP_RECVERR, IP_RECVORIGDSTADDR, IP_TOS, IP_TTL, IPV6_HOPLIMIT, IPV6_RECVERR, SCM_TIMESTAMPING_PKTINFO, SO_TIMESTAMPING_NEW, SO_TIMESTAMPING_OLD, IPV6_PKTINFO, IPV6_RECVORIGDSTADDR, IPV6_RTHDRDSTOPTS, IPV6_TCLASS, SO_TIMESTAMPNS_NEW, SO_TIMESTAMPNS_OLD, SO_TIMESTAMP_NEW, SO_TIMESTAMP_OLD } from '../../abi/inet';
import type { Credentials } from '../../auth/creds';
import type { Cmsg } from '../socket';
import { SOL_IP, SOL_IPV6 } from './options';
import { EXT_HDRS, EXT_HDR_RECV_MAX, receivedHeaderOk, sentHeaderLen } from './exthdr';

const AF_INET6 = 10;
const IN_PKTINFO = 12;
/** The most bytes of IPv4 options (a header of 60 bytes less its 20). */
const IP_OPTIONS_MAX = 40;
const IP_RECVOPTS = 6;
const IP_RETOPTS = 7;
const IN6_PKTINFO = 20;

/** How many bytes of a sent message's data the host gets, or -1: EINVAL. */
type SendLen = (len: number) => number;
const exactly = (...sizes: number[]): SendLen => (len) => (sizes.includes(len) ? len : -1);
/** IP_RETOPTS: up to 40 bytes of IP options are passed, the rest cut, as Linux's ip_cmsg_send (the host checks them). */
const upTo = (max: number): SendLen => (len) => Math.min(len, max);
/** An in6_pktinfo: longer is accepted and its first 20 bytes are read, as Linux does. */
const atLeast = (size: number): SendLen => (len) => (len >= size ? size : -1);

const SEND = new Map<number, Map<number, SendLen>>([
  // SO_TIMESTAMPING's flags for this message's send stamps: exactly an int, as Linux's __sock_cmsg_send (the host checks the flags).
  [SOL_SOCKET, new Map([[SO_TIMESTAMPING_OLD, exactly(4)], [SO_TIMESTAMPING_NEW, exactly(4)]])],
  [SOL_IP, new Map([
    [IP_RETOPTS, upTo(IP_OPTIONS_MAX)],
    [IP_PKTINFO, exactly(IN_PKTINFO)],
    [IP_TTL, exactly(4)],
    [IP_TOS, exactly(1, 4)],
  ])],
  [SOL_IPV6, new Map([
    [IPV6_PKTINFO, atLeast(IN6_PKTINFO)],
    [IPV6_HOPLIMIT, exactly(4)],
    [IPV6_TCLASS, exactly(4)],
  ])],
]);

/** The sizes of the messages a host socket gives for the allowed options. */
const RECV = new Map<number, Map<number, number>>([
  // SO_TIMESTAMP, SO_TIMESTAMPNS and their _NEW forms: a 16-byte time each.
  // SO_TIMESTAMPING's: three timespecs (software, deprecated, raw hardware), and an scm_ts_pktinfo.
  [SOL_SOCKET, new Map([[SO_TIMESTAMP_OLD, 16], [SO_TIMESTAMPNS_OLD, 16], [SO_TIMESTAMP_NEW, 16], [SO_TIMESTAMPNS_NEW, 16], [SO_TIMESTAMPING_OLD, 48], [SO_TIMESTAMPING_NEW, 48], [SCM_TIMESTAMPING_PKTINFO, 16]])],
  [SOL_IP, new Map([[IP_PKTINFO, IN_PKTINFO], [IP_TTL, 4], [IP_TOS, 1], [IP_RECVORIGDSTADDR, 16]])],
  [SOL_IPV6, new Map([[IPV6_PKTINFO, IN6_PKTINFO], [IPV6_HOPLIMIT, 4], [IPV6_TCLASS, 4], [IPV6_RECVORIGDSTADDR, 28]])],
]);

/** Messages of a variable size, up to the most the host gives: the IP options a datagram came with (IP_RECVOPTS) and their reverse route (IP_RECVRETOPTS). */
const RECV_UP_TO = new Map<number, Map<number, number>>([
  [SOL_IP, new Map([[IP_RECVOPTS, IP_OPTIONS_MAX], [IP_RETOPTS, IP_OPTIONS_MAX]])],
  // The IPv6 extension headers (received ones are never IPV6_RTHDRDSTOPTS).
  [SOL_IPV6, new Map([...EXT_HDRS].filter((t) => t !== IPV6_RTHDRDSTOPTS).map((t) => [t, EXT_HDR_RECV_MAX]))],
]);

/** What an error queue entry adds: its extended error, a sock_extended_err (16 bytes) and the offender's sockaddr_in or sockaddr_in6. */
const ERRQUEUE = new Map<number, Map<number, number>>([
  [SOL_IP, new Map([[IP_RECVERR, 16 + 16]])],
  [SOL_IPV6, new Map([[IPV6_RECVERR, 16 + 28]])],
]);

/** Room for every message the allowed options can bring with one datagram. */
export const RECV_CONTROL_ROOM = 256;
/** With the IPv6 extension headers asked for: up to four of them (hop-by-hop, two destination options, routing), each up to 2 KiB. */
export const RECV_CONTROL_ROOM_EXT = RECV_CONTROL_ROOM + 4 * (EXT_HDR_RECV_MAX + 16);

/**
 * The control data of a host sendmsg for the application's messages, or
 * null when none crosses. v4dst says whether an IPv6 socket's datagram goes
 * to an IPv4 (mapped) address, null when not known (no destination: the
 * host then fails the call); asked only when a message is not listed.
 */
export function hostSendControl(family: number, stream: boolean, control: Cmsg[] | undefined, v4dst: () => boolean | null, creds: Credentials): Buffer | null {
  const out: Buffer[] = [];
  let own: number | null | undefined;
  for (const m of control ?? []) {
    if (stream && m.level !== SOL_SOCKET) continue;
    // An IPv4 socket ignores the IPv6 headers, as Linux's ip_cmsg_send (nothing of them reaches the host).
    if (m.level === SOL_IPV6 && EXT_HDRS.has(m.type) && family !== AF_INET6) continue;
    const len = m.level === SOL_IPV6 && EXT_HDRS.has(m.type) ? sentHeaderLen(creds, m.type, m.data) : SEND.get(m.level)?.get(m.type)?.(m.data.length);
    if (len === undefined) {
      if (own === undefined) {
        const v4 = family === AF_INET6 ? v4dst() : true;
        own = v4 === null ? null : v4 ? SOL_IP : SOL_IPV6;
      }
      if (m.level === own) throw new Errno(E.EINVAL);
      continue;
    }
    if (len < 0) throw new Errno(E.EINVAL);
    const b = Buffer.alloc(cmsgSpace(len));
    b.writeBigUInt64LE(BigInt(CMSG_HDR + len), 0);
    b.writeInt32LE(m.level, 8);
    b.writeInt32LE(m.type, 12);
    m.data.copy(b, CMSG_HDR, 0, len);
    out.push(b);
  }
  return out.length ? Buffer.concat(out) : null;
}

/** The messages of a host recvmsg's control data the application is given (undefined: none); errQueue: an error queue entry's. */
export function appRecvControl(ctl: Buffer, errQueue = false): Cmsg[] | undefined {
  const out: Cmsg[] = [];
  for (let off = 0; off + CMSG_HDR <= ctl.length; ) {
    const clen = Number(ctl.readBigUInt64LE(off));
    if (clen < CMSG_HDR || clen > ctl.length - off) break;
    const level = ctl.readInt32LE(off + 8), type = ctl.readInt32LE(off + 12);
    const len = clen - CMSG_HDR;
    const upToMax = RECV_UP_TO.get(level)?.get(type);
    const data = ctl.subarray(off + CMSG_HDR, off + clen);
    const whole = level !== SOL_IPV6 || !EXT_HDRS.has(type) || receivedHeaderOk(data);
    if (RECV.get(level)?.get(type) === len || (errQueue && ERRQUEUE.get(level)?.get(type) === len) || (upToMax !== undefined && len <= upToMax && whole)) out.push({ level, type, data: Buffer.from(data) });
    off += cmsgAlign(clen);
  }
  return out.length ? out : undefined;
}
