// The tunables of the sandbox's TCP (the values Linux uses by default) and
// the options a connection takes from its socket (setsockopt(2) values the
// send and receive sides read).
/** Linux's TCP_RTO_MIN, TCP_RTO_MAX and initial RTO (RFC 6298 says 1 s). */
export const RTO_MIN = 200;
export const RTO_MAX = 120_000;
export const RTO_INIT = 1000;
/** Delayed ACK timeout (Linux's TCP_DELACK_MIN) and TCP_CORK's ceiling. */
export const DELACK_MS = 40;
export const CORK_MS = 200;
/** A segment for the NIC to cut waits for more window unless it is at least this fraction of the window (Linux's tcp_tso_win_divisor). */
export const TSO_WIN_DIVISOR = 3;
/** TIME_WAIT (2 MSL) and an orphan's FIN_WAIT_2 (tcp_fin_timeout), in ms. */
export const TIME_WAIT_MS = 60_000;
export const FIN_TIMEOUT_MS = 60_000;
/** tcp_syn_retries, tcp_synack_retries, tcp_retries2. */
export const SYN_RETRIES = 6;
export const SYNACK_RETRIES = 5;
export const RETRIES2 = 15;
/** Our window scale (Linux uses 7 with its default buffers). */
export const RCV_WSCALE = 7;
/** Initial congestion window (RFC 6928), in segments. */
export const IW = 10;
/** The heap a connection costs beyond its queued bytes (estimated). */
export const TCB_COST = 4096;

export interface TcbOptions {
  nodelay: boolean;
  cork: boolean;
  keepalive: boolean;
  keepIdle: number;
  keepIntvl: number;
  keepCnt: number;
  /** Bytes the receive queue may hold (what the window offers). */
  rcvLimit: number;
  /** Bytes the send queue may hold. */
  sndLimit: number;
  /** TCP_MAXSEG set by the application (0: none). */
  userMss: number;
  /** TCP_DEFER_ACCEPT in seconds. */
  deferAccept: number;
  tos: number;
  ttl: number;
  /** SO_OOBINLINE: the urgent byte stays in the stream. */
  oobinline: boolean;
  /** IP_OPTIONS: the IPv4 options every segment carries (checked, net/ip/ipopts.ts); a full segment's payload is that much smaller. */
  ipOpts: Buffer;
}

export const defaultTcbOptions = (): TcbOptions => ({
  nodelay: false, cork: false, keepalive: false, keepIdle: 7200, keepIntvl: 75, keepCnt: 9,
  rcvLimit: 256 * 1024, sndLimit: 256 * 1024, userMss: 0, deferAccept: 0, tos: 0, ttl: 64, oobinline: false, ipOpts: Buffer.alloc(0),
});

/**
 * The urgent byte's state (urgData), as Linux keeps it: announced by an
 * urgent pointer but not received yet, received (VALID with the byte in the
 * low 8 bits), or read with MSG_OOB.
 */
export const URG_VALID = 0x100;
export const URG_NOTYET = 0x200;
export const URG_READ = 0x400;
