// IP_PKTINFO (struct in_pktinfo, ip(7)) and IPV6_PKTINFO (struct in6_pktinfo,
// RFC 3542) control messages: the interface a datagram came in on and its
// destination (recvmsg), the interface and source address of one datagram
// (sendmsg). The application's bytes are checked here by their length, as
// Linux's ip_cmsg_send and ip6_datagram_send_ctl do; whether the interface
// and address exist is the socket's question.
import { Errno, E } from '../abi/errno';
import { ipFromBytes, writeIp, type Ip } from './ip/addr';

const IN_PKTINFO_SIZE = 12;
const IN6_PKTINFO_SIZE = 20;

export interface PktInfo {
  /** 0: the socket's own choice. */
  ifindex: number;
  /** The source address asked for (or, received, the destination), 32 hex digits. */
  addr: Ip;
}

/** sendmsg's IP_PKTINFO: exactly an in_pktinfo (EINVAL otherwise); ipi_spec_dst is the source. */
export function parseInPktinfo(data: Buffer): PktInfo {
  if (data.length !== IN_PKTINFO_SIZE) throw new Errno(E.EINVAL);
  return { ifindex: data.readInt32LE(0), addr: ipFromBytes(data, 4, 4) };
}

/** sendmsg's IPV6_PKTINFO: at least an in6_pktinfo (EINVAL otherwise). */
export function parseIn6Pktinfo(data: Buffer): PktInfo {
  if (data.length < IN6_PKTINFO_SIZE) throw new Errno(E.EINVAL);
  return { ifindex: data.readInt32LE(16), addr: ipFromBytes(data, 0, 16) };
}

/** recvmsg's IP_PKTINFO of a datagram to dst (an IPv4 address) that came in on ifindex: ipi_spec_dst and ipi_addr are both its destination, as Linux gives for unicast. */
export function inPktinfo(ifindex: number, dst: Ip): Buffer {
  const b = Buffer.alloc(IN_PKTINFO_SIZE);
  b.writeInt32LE(ifindex, 0);
  writeIp(dst, b, 4, true);
  writeIp(dst, b, 8, true);
  return b;
}

/** recvmsg's IPV6_PKTINFO of a datagram to dst (an IPv4 one mapped) that came in on ifindex. */
export function in6Pktinfo(ifindex: number, dst: Ip): Buffer {
  const b = Buffer.alloc(IN6_PKTINFO_SIZE);
  writeIp(dst, b, 0, false);
  b.writeInt32LE(ifindex, 16);
  return b;
}
