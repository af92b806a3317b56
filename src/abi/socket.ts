// Socket constants of the x86-64 Linux ABI (socket(7), unix(7), cmsg(3)).

export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;

export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_SEQPACKET = 5;
export const SOCK_TYPE_MASK = 0xf;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;

export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
/** sk_shutdown bits: what the socket may no longer receive / send. */
export const RCV_SHUTDOWN = 1;
export const SEND_SHUTDOWN = 2;

export const MSG_OOB = 0x1;
export const MSG_PEEK = 0x2;
export const MSG_CTRUNC = 0x8;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_EOR = 0x80;
export const MSG_WAITALL = 0x100;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CMSG_CLOEXEC = 0x40000000;

export const SOL_SOCKET = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_PASSCRED = 16;
export const SO_PEERCRED = 17;
/** Linux 6.5: SCM_PIDFD on received messages; a pidfd of the peer (include/uapi/asm-generic/socket.h). */
export const SO_PASSPIDFD = 76;
/** SO_PASSSEC: the sender's security label as SCM_SECURITY. */
export const SO_PASSSEC = 34;
export const SO_PEERPIDFD = 77;
export const SO_ACCEPTCONN = 30;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SO_PROTOCOL = 38;
export const SO_DOMAIN = 39;

export const SCM_RIGHTS = 1;
export const SCM_CREDENTIALS = 2;
export const SCM_PIDFD = 4;
/** SCM_MAX_FD: descriptors one message may carry. */
export const SCM_MAX_FD = 253;

/** offsetof(struct sockaddr_un, sun_path) and sizeof(struct sockaddr_un). */
export const SUN_PATH_OFFSET = 2;
export const SOCKADDR_UN_SIZE = 110;

/** net.core.wmem_default / rmem_default (what SO_SNDBUF/SO_RCVBUF report unset) and the _max a setsockopt is clamped to. */
export const WMEM_DEFAULT = 212992;
export const WMEM_MAX = 212992;
export const RMEM_MAX = 212992;
/** SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF on x86-64. */
export const SOCK_MIN_SNDBUF = 4608;
export const SOCK_MIN_RCVBUF = 2304;
/** net.core.somaxconn: listen()'s backlog is capped at it. */
export const SOMAXCONN = 4096;
/** net.unix.max_dgram_qlen: datagrams a receive queue holds. */
export const MAX_DGRAM_QLEN = 10;

/** struct cmsghdr is 16 bytes; payloads are aligned to 8. */
export const CMSG_HDR = 16;
export const cmsgAlign = (n: number): number => (n + 7) & ~7;
export const cmsgSpace = (n: number): number => CMSG_HDR + cmsgAlign(n);
