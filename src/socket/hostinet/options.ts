// The socket options a host-mode socket passes to its host socket: an
// allowlist of (level, name) with the sizes Linux takes. A value is copied
// through only after its length is checked here; anything not listed is
// ENOPROTOOPT and never reaches the host (an unknown option could change the
// host socket in ways the Sentry does not track, such as attaching a filter or
// asking for control messages it would not decode).
import { SOL_SOCKET } from '../../abi/socket';
import { EXT_HDR_MAX } from './exthdr';

export const SOL_IP = 0;
export const SOL_TCP = 6;
export const SOL_UDP = 17;
export const SOL_IPV6 = 41;

export const SO_RCVTIMEO = 20;
export const SO_SNDTIMEO = 21;

export interface OptionSpec {
  /** Smallest value setsockopt takes (EINVAL below), and the most bytes passed either way. */
  min: number;
  max: number;
  get: boolean;
  set: boolean;
  /** A longer value is EINVAL (IP_OPTIONS), where the others are cut to max as Linux reads only what it needs. */
  strict?: boolean;
}

const int = (get = true, set = true): OptionSpec => ({ min: 4, max: 4, get, set });
/** A SOL_IP switch: Linux takes an int, a byte, or nothing (0). */
const bool = (): OptionSpec => ({ min: 0, max: 4, get: true, set: true });
const ro = (max = 4): OptionSpec => ({ min: max, max, get: true, set: false });

const TABLE = new Map<number, Map<number, OptionSpec>>([
  [SOL_SOCKET, new Map([
    [2, int()], // SO_REUSEADDR
    [3, ro()], // SO_TYPE
    [4, ro()], // SO_ERROR
    [5, int()], // SO_DONTROUTE
    [6, int()], // SO_BROADCAST
    [7, int()], // SO_SNDBUF
    [8, int()], // SO_RCVBUF
    [9, int()], // SO_KEEPALIVE
    [10, int()], // SO_OOBINLINE
    [12, int()], // SO_PRIORITY
    [13, { min: 8, max: 8, get: true, set: true }], // SO_LINGER
    [15, int()], // SO_REUSEPORT
    [18, int()], // SO_RCVLOWAT
    [25, { min: 0, max: 16, get: true, set: true }], // SO_BINDTODEVICE (a name, checked by hostinet.ts)
    [62, int()], // SO_BINDTOIFINDEX (checked by hostinet.ts)
    [29, int()], // SO_TIMESTAMP (its control messages: cmsg.ts)
    [35, int()], // SO_TIMESTAMPNS
    [63, int()], // SO_TIMESTAMP_NEW
    [64, int()], // SO_TIMESTAMPNS_NEW
    // SO_TIMESTAMPING and its _NEW form: an int of flags or a struct so_timestamping (flags and a PHC index), checked by the host; its stamps come as control messages (cmsg.ts), the send stamps on the error queue.
    [37, { min: 4, max: 8, get: true, set: true }],
    [65, { min: 4, max: 8, get: true, set: true }],
    [30, ro()], // SO_ACCEPTCONN
    [38, ro()], // SO_PROTOCOL
    [39, ro()], // SO_DOMAIN
  ])],
  [SOL_TCP, new Map([
    [1, int()], // TCP_NODELAY
    [2, int()], // TCP_MAXSEG
    [3, int()], // TCP_CORK
    [4, int()], // TCP_KEEPIDLE
    [5, int()], // TCP_KEEPINTVL
    [6, int()], // TCP_KEEPCNT
    [7, int()], // TCP_SYNCNT
    [8, int()], // TCP_LINGER2
    [9, int()], // TCP_DEFER_ACCEPT
    [10, int()], // TCP_WINDOW_CLAMP
    [11, { min: 0, max: 232, get: true, set: false }], // TCP_INFO
    [12, int()], // TCP_QUICKACK
    [13, { min: 1, max: 16, get: true, set: true }], // TCP_CONGESTION (a name)
    [18, int()], // TCP_USER_TIMEOUT
    [25, int()], // TCP_NOTSENT_LOWAT
  ])],
  [SOL_UDP, new Map([
    [1, int()], // UDP_CORK
  ])],
  [SOL_IP, new Map([
    [1, int()], // IP_TOS
    [2, int()], // IP_TTL
    [4, { min: 0, max: 40, get: true, set: true, strict: true }], // IP_OPTIONS (the host parses them; 0 bytes clear them)
    [6, bool()], // IP_RECVOPTS (its control messages: cmsg.ts)
    [7, bool()], // IP_RECVRETOPTS
    [10, int()], // IP_MTU_DISCOVER
    [8, bool()], // IP_PKTINFO (its control messages: cmsg.ts)
    [11, int()], // IP_RECVERR (glibc's resolver sets it; the queue is read with MSG_ERRQUEUE, its extended error passed by cmsg.ts)
    [12, bool()], // IP_RECVTTL
    [13, bool()], // IP_RECVTOS
    [20, bool()], // IP_RECVORIGDSTADDR
    [14, ro()], // IP_MTU
    [15, int()], // IP_FREEBIND
    [24, int()], // IP_BIND_ADDRESS_NO_PORT
    [32, { min: 4, max: 12, get: true, set: true }], // IP_MULTICAST_IF (in_addr or ip_mreqn)
    [33, int()], // IP_MULTICAST_TTL
    [34, int()], // IP_MULTICAST_LOOP
    [35, { min: 8, max: 12, get: false, set: true }], // IP_ADD_MEMBERSHIP
    [36, { min: 8, max: 12, get: false, set: true }], // IP_DROP_MEMBERSHIP
  ])],
  [SOL_IPV6, new Map([
    [16, int()], // IPV6_UNICAST_HOPS
    [17, int()], // IPV6_MULTICAST_IF
    [18, int()], // IPV6_MULTICAST_HOPS
    [19, int()], // IPV6_MULTICAST_LOOP
    [20, { min: 20, max: 20, get: false, set: true }], // IPV6_ADD_MEMBERSHIP
    [21, { min: 20, max: 20, get: false, set: true }], // IPV6_DROP_MEMBERSHIP
    [23, int()], // IPV6_MTU_DISCOVER
    [24, ro()], // IPV6_MTU
    [25, int()], // IPV6_RECVERR
    [26, int()], // IPV6_V6ONLY
    [49, int()], // IPV6_RECVPKTINFO
    [50, { min: 20, max: 20, get: false, set: true }], // IPV6_PKTINFO, sticky (RFC 3542): an in6_pktinfo; Linux reads it back as ENOPROTOOPT
    [51, int()], // IPV6_RECVHOPLIMIT
    [66, int()], // IPV6_RECVTCLASS
    [67, int()], // IPV6_TCLASS
    [74, int()], // IPV6_RECVORIGDSTADDR
    [53, int()], // IPV6_RECVHOPOPTS (its control messages, as the three below: cmsg.ts and exthdr.ts)
    [56, int()], // IPV6_RECVRTHDR
    [58, int()], // IPV6_RECVDSTOPTS
    // The sticky extension headers, checked by exthdr.ts; a longer value is cut there to its length field's.
    [54, { min: 0, max: EXT_HDR_MAX, get: true, set: true }], // IPV6_HOPOPTS
    [55, { min: 0, max: EXT_HDR_MAX, get: true, set: true }], // IPV6_RTHDRDSTOPTS
    [57, { min: 0, max: EXT_HDR_MAX, get: true, set: true }], // IPV6_RTHDR
    [59, { min: 0, max: EXT_HDR_MAX, get: true, set: true }], // IPV6_DSTOPTS
  ])],
]);

/** SO_PASSCRED, SO_PASSSEC, SO_PASSPIDFD: EOPNOTSUPP on inet sockets since Linux 6.16, whatever the host kernel says (the sandbox answers as one kernel). */
export const PASS_OPTIONS: ReadonlySet<number> = new Set([16, 34, 76]);

/** The spec of an option, or null when it is not passed to the host. */
export function optionSpec(level: number, name: number, family: number, stream: boolean): OptionSpec | null {
  if (level === SOL_IPV6 && family !== 10) return null;
  if (level === SOL_TCP && !stream) return null;
  if (level === SOL_UDP && stream) return null;
  return TABLE.get(level)?.get(name) ?? null;
}

/** Listed for the syscall table's note. */
export const OPTION_NOTE = 'host mode: SOL_SOCKET SO_REUSEADDR/REUSEPORT/KEEPALIVE/LINGER/SNDBUF/RCVBUF/RCVTIMEO/SNDTIMEO/BROADCAST/OOBINLINE/PRIORITY/RCVLOWAT/DONTROUTE/BINDTODEVICE/BINDTOIFINDEX/TIMESTAMP/TIMESTAMPNS/TIMESTAMPING (old and new forms; SO_TIMESTAMPING\'s software stamps on receive and on the error queue, OPT_STATS\' messages are not passed) and the read-only ones; SOL_TCP NODELAY/CORK/KEEPIDLE/KEEPINTVL/KEEPCNT/SYNCNT/LINGER2/DEFER_ACCEPT/WINDOW_CLAMP/INFO/QUICKACK/CONGESTION/USER_TIMEOUT/NOTSENT_LOWAT/MAXSEG; UDP_CORK; IP TOS/TTL/OPTIONS/RECVOPTS/RECVRETOPTS/MTU_DISCOVER/MTU/RECVERR/FREEBIND/BIND_ADDRESS_NO_PORT/PKTINFO/RECVTTL/RECVTOS/RECVORIGDSTADDR/multicast; IPV6 V6ONLY/RECVERR/TCLASS/hops/MTU/multicast/RECVPKTINFO/RECVHOPLIMIT/RECVTCLASS/RECVORIGDSTADDR, the extension headers HOPOPTS/DSTOPTS/RTHDRDSTOPTS/RTHDR (checked as Linux does, CAP_NET_RAW the application\'s) and RECVHOPOPTS/RECVDSTOPTS/RECVRTHDR, and the sticky PKTINFO (set only, as Linux)';
