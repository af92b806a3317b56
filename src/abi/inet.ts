// Constants of the Internet families on x86-64 Linux (ip(7), ipv6(7), tcp(7),
// udp(7), socket(7)) and the sizes of their structures.

export const IPPROTO_IP = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** UDP-Lite (RFC 3828) and its SOL_UDPLITE options (udplite(7)). */
export const IPPROTO_UDPLITE = 136;
export const UDPLITE_SEND_CSCOV = 10;
export const UDPLITE_RECV_CSCOV = 11;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_RAW = 255;

export const SOCK_RAW = 3;

/** sizeof(struct sockaddr_in), sizeof(struct sockaddr_in6). */
export const SOCKADDR_IN_SIZE = 16;
export const SOCKADDR_IN6_SIZE = 28;

// SOL_SOCKET options beyond the unix ones (abi/socket.ts).
export const SO_DEBUG = 1;
export const SO_DONTROUTE = 5;
export const SO_BROADCAST = 6;
export const SO_KEEPALIVE = 9;
export const SO_OOBINLINE = 10;
export const SO_NO_CHECK = 11;
export const SO_PRIORITY = 12;
export const SO_LINGER = 13;
export const SO_REUSEPORT = 15;
export const SO_RCVLOWAT = 18;
export const SO_SNDLOWAT = 19;
export const SO_RCVTIMEO_OLD = 20;
export const SO_SNDTIMEO_OLD = 21;
export const SO_BINDTODEVICE = 25;
export const SO_BINDTOIFINDEX = 62;
/** CAP_NET_RAW: raw sockets, and changing the interface a socket is tied to. */
export const CAP_NET_RAW = 13;
export const SO_TIMESTAMP_OLD = 29;
export const SO_TIMESTAMPNS_OLD = 35;
export const SO_TIMESTAMP_NEW = 63;
export const SO_TIMESTAMPNS_NEW = 64;
export const TIMESTAMP_OPTIONS: readonly number[] = [SO_TIMESTAMP_OLD, SO_TIMESTAMPNS_OLD, SO_TIMESTAMP_NEW, SO_TIMESTAMPNS_NEW];
/** SO_TIMESTAMPING (Documentation/networking/timestamping.rst): the option, its control message (SCM_TIMESTAMPING, three timespecs) and a send's per-message flags share the numbers. */
export const SO_TIMESTAMPING_OLD = 37;
export const SO_TIMESTAMPING_NEW = 65;
export const SCM_TIMESTAMPING_PKTINFO = 58;
export const SO_MARK = 36;
export const SO_COOKIE = 57;
export const SO_RCVTIMEO_NEW = 66;
export const SO_SNDTIMEO_NEW = 67;

// IPPROTO_TCP options.
export const TCP_NODELAY = 1;
export const TCP_MAXSEG = 2;
export const TCP_CORK = 3;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;
export const TCP_SYNCNT = 7;
export const TCP_LINGER2 = 8;
export const TCP_DEFER_ACCEPT = 9;
export const TCP_WINDOW_CLAMP = 10;
export const TCP_INFO = 11;
export const TCP_QUICKACK = 12;
export const TCP_CONGESTION = 13;
export const TCP_USER_TIMEOUT = 18;
export const TCP_NOTSENT_LOWAT = 25;
/** sizeof(struct tcp_info) in the uapi headers of Linux 6.x. */
export const TCP_INFO_SIZE = 232;

// IPPROTO_IP options.
export const IP_TOS = 1;
export const IP_TTL = 2;
export const IP_HDRINCL = 3;
export const IP_PKTINFO = 8;
/** Ask for the TTL and TOS of received datagrams (IP_TTL, an int, and IP_TOS, a byte, as control messages). */
export const IP_RECVTTL = 12;
export const IP_RECVTOS = 13;
/** Ask for a datagram's original destination (an IP_ORIGDSTADDR control message, a sockaddr_in); the same number names both. */
export const IP_RECVORIGDSTADDR = 20;
export const IP_MTU_DISCOVER = 10;
export const IP_RECVERR = 11;
/** IPv4 options (ip(7)): the sticky ones, those a datagram came with (IP_RECVOPTS) and the reply's (IP_RECVRETOPTS, whose control message is IP_RETOPTS, as is the per-message option of a send). */
export const IP_OPTIONS = 4;
export const IP_RECVOPTS = 6;
export const IP_RETOPTS = 7;
export const IP_RECVRETOPTS = IP_RETOPTS;
export const IP_MTU = 14;
export const IP_FREEBIND = 15;
export const IP_BIND_ADDRESS_NO_PORT = 24;

// IPPROTO_IPV6 options.
export const IPV6_UNICAST_HOPS = 16;
export const IPV6_RECVERR = 25;
export const IPV6_V6ONLY = 26;
/** SOL_RAW's IPV6_CHECKSUM (where the kernel puts a raw IPv6 socket's checksum) and IPPROTO_ICMPV6's ICMP6_FILTER (RFC 3542). */
export const SOL_RAW = 255;
export const IPV6_CHECKSUM = 7;
export const ICMP6_FILTER = 1;
export const IPV6_RECVPKTINFO = 49;
/** RFC 3542's in6_pktinfo control message: a datagram's destination and interface (recvmsg), or its source and interface (sendmsg). */
export const IPV6_PKTINFO = 50;
export const IPV6_TCLASS = 67;
/** RFC 3542: ask for the hop limit and traffic class of received datagrams (IPV6_HOPLIMIT and IPV6_TCLASS control messages). */
export const IPV6_RECVHOPLIMIT = 51;
export const IPV6_HOPLIMIT = 52;
export const IPV6_RECVTCLASS = 66;
/** IPV6_ORIGDSTADDR's control message (a sockaddr_in6) and the option asking for it share the number. */
export const IPV6_RECVORIGDSTADDR = 74;

export const MSG_CONFIRM = 0x800;
export const MSG_ERRQUEUE = 0x2000;
export const MSG_MORE = 0x8000;
export const MSG_FASTOPEN = 0x20000000;

/** ioctls: SIOCINQ is FIONREAD; SIOCOUTQ is TIOCOUTQ; SIOCOUTQNSD. */
export const SIOCINQ = 0x541b;
export const SIOCOUTQ = 0x5411;
/** ioctl: is the next byte read at the urgent mark (int). */
export const SIOCATMARK = 0x8905;
/** The last datagram's time: struct timeval (SIOCGSTAMP) or timespec (SIOCGSTAMPNS); the _NEW forms (64-bit fields either way) carry the size in the number. */
export const SIOCGSTAMP_OLD = 0x8906;
export const SIOCGSTAMPNS_OLD = 0x8907;
export const SIOCGSTAMP_NEW = 0x80108906;
export const SIOCGSTAMPNS_NEW = 0x80108907;
export const STAMP_IOCTLS: readonly number[] = [SIOCGSTAMP_OLD, SIOCGSTAMPNS_OLD, SIOCGSTAMP_NEW, SIOCGSTAMPNS_NEW];
export const SIOCOUTQNSD = 0x894b;

/** TCP states as Linux numbers them (tcp_info, /proc/net/tcp). */
export const enum TcpState {
  ESTABLISHED = 1,
  SYN_SENT = 2,
  SYN_RECV = 3,
  FIN_WAIT1 = 4,
  FIN_WAIT2 = 5,
  TIME_WAIT = 6,
  CLOSE = 7,
  CLOSE_WAIT = 8,
  LAST_ACK = 9,
  LISTEN = 10,
  CLOSING = 11,
}

/** net.ipv4.ip_local_port_range defaults. */
export const EPHEMERAL_LOW = 32768;
export const EPHEMERAL_HIGH = 60999;

/** net.ipv4.tcp_rmem[1] and tcp_wmem[1]: SO_RCVBUF and SO_SNDBUF of a new TCP socket. */
export const TCP_RMEM_DEFAULT = 131072;
export const TCP_WMEM_DEFAULT = 16384;

// RFC 3542's IPv6 extension headers: sticky options and control messages of the same numbers (IPV6_RTHDRDSTOPTS is send only; a received destination options header before a routing header comes as IPV6_DSTOPTS), and the options asking for them on receive.
export const IPV6_RECVHOPOPTS = 53;
export const IPV6_HOPOPTS = 54;
export const IPV6_RTHDRDSTOPTS = 55;
export const IPV6_RECVRTHDR = 56;
export const IPV6_RTHDR = 57;
export const IPV6_RECVDSTOPTS = 58;
export const IPV6_DSTOPTS = 59;
