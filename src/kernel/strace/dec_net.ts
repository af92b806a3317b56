// Sockets as strace shows them: families, types, addresses, message flags.

import { bitNames, enumName, failed, hex, inArg, quote, struct, type Call, type Table } from './format';

const FAMILIES: Record<number, string> = {
  0: 'AF_UNSPEC', 1: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6', 16: 'AF_NETLINK', 17: 'AF_PACKET',
};
const TYPES: Record<number, string> = {
  1: 'SOCK_STREAM', 2: 'SOCK_DGRAM', 3: 'SOCK_RAW', 4: 'SOCK_RDM', 5: 'SOCK_SEQPACKET', 6: 'SOCK_DCCP', 10: 'SOCK_PACKET',
};
const MSG_BITS = [
  [0x1, 'MSG_OOB'], [0x2, 'MSG_PEEK'], [0x4, 'MSG_DONTROUTE'], [0x8, 'MSG_CTRUNC'], [0x10, 'MSG_PROXY'],
  [0x20, 'MSG_TRUNC'], [0x40, 'MSG_DONTWAIT'], [0x80, 'MSG_EOR'], [0x100, 'MSG_WAITALL'], [0x200, 'MSG_FIN'],
  [0x400, 'MSG_SYN'], [0x800, 'MSG_CONFIRM'], [0x1000, 'MSG_RST'], [0x2000, 'MSG_ERRQUEUE'],
  [0x4000, 'MSG_NOSIGNAL'], [0x8000, 'MSG_MORE'], [0x10000, 'MSG_WAITFORONE'], [0x20000000, 'MSG_FASTOPEN'],
  [0x40000000, 'MSG_CMSG_CLOEXEC'],
] as const;
const SHUT: Record<number, string> = { 0: 'SHUT_RD', 1: 'SHUT_WR', 2: 'SHUT_RDWR' };

function sockType(v: number): string {
  const parts = [TYPES[v & 0xf] ?? hex(v & 0xf)];
  if (v & 0o4000) parts.push('SOCK_NONBLOCK');
  if (v & 0o2000000) parts.push('SOCK_CLOEXEC');
  const rest = v & ~(0xf | 0o4000 | 0o2000000);
  if (rest) parts.push(hex(rest >>> 0));
  return parts.join('|');
}

/** The protocol argument: strace names it for the inet families. */
function protocol(c: Call, i: number): string {
  const v = c.args[i] | 0;
  const family = c.args[0] | 0;
  if (family !== 2 && family !== 10) return String(v);
  return enumName(v, { 0: 'IPPROTO_IP', 1: 'IPPROTO_ICMP', 6: 'IPPROTO_TCP', 17: 'IPPROTO_UDP', 58: 'IPPROTO_ICMPV6', 255: 'IPPROTO_RAW' }, 'IPPROTO_???');
}

function ipv6(b: Buffer): string {
  const words: string[] = [];
  for (let k = 0; k < 8; k++) words.push(b.readUInt16BE(k * 2).toString(16));
  // The longest run of zero words (at least two) becomes "::".
  let best = -1;
  let bestLen = 1;
  for (let k = 0; k < 8; ) {
    if (words[k] !== '0') {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && words[e] === '0') e++;
    if (e - k > bestLen) {
      best = k;
      bestLen = e - k;
    }
    k = e;
  }
  if (best < 0) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}

/** struct sockaddr of len bytes. */
export function sockaddr(b: Buffer): string {
  if (b.length < 2) return '{}';
  const family = b.readUInt16LE(0);
  const head = `sa_family=${FAMILIES[family] ?? family}`;
  if (family === 1) {
    const path = b.subarray(2);
    if (path.length === 0) return `{${head}}`;
    if (path[0] === 0) return `{${head}, sun_path=@${quote(path.subarray(1, trimNul(path, 1)))}}`;
    return `{${head}, sun_path=${quote(path.subarray(0, trimNul(path, 0)))}}`;
  }
  if (family === 2 && b.length >= 8) {
    return `{${head}, sin_port=htons(${b.readUInt16BE(2)}), sin_addr=inet_addr("${[...b.subarray(4, 8)].join('.')}")}`;
  }
  if (family === 10 && b.length >= 24) {
    const scope = b.length >= 28 ? b.readUInt32LE(24) : 0;
    return `{${head}, sin6_port=htons(${b.readUInt16BE(2)}), sin6_flowinfo=htonl(${b.readUInt32BE(4)}), ` +
      `inet_pton(AF_INET6, "${ipv6(b.subarray(8, 24))}", &sin6_addr), sin6_scope_id=${scope}}`;
  }
  return `{${head}, sa_data=${quote(b.subarray(2))}}`;
}

function trimNul(b: Buffer, from: number): number {
  const z = b.indexOf(0, from);
  return z < 0 ? b.length : z;
}

export const netDecoders: Table = {
  sock_domain: { fmt: (c, i) => enumName(c.args[i] >>> 0, FAMILIES, 'AF_???') },
  sock_type: { fmt: (c, i) => sockType(c.args[i] | 0) },
  sock_proto: { fmt: protocol },
  /** An address the application passes, its length next. */
  sockaddr: inArg((c, v, i) => {
    const b = struct(c.t, v, Math.max(0, Math.min(c.args[i + 1] >>> 0, 128)));
    return b && sockaddr(b);
  }),
  /** An address the kernel writes, its length through the pointer next (accept, getsockname). */
  sockaddr_out: { out: true, fmt: (c, i) => {
    const v = c.args[i];
    if (v === 0) return 'NULL';
    if (failed(c)) return hex(v);
    const lenb = struct(c.t, c.args[i + 1], 4);
    const b = lenb && struct(c.t, v, Math.min(lenb.readUInt32LE(0), 128));
    return b ? sockaddr(b) : hex(v);
  } },
  msg_flags: { fmt: (c, i) => bitNames(c.args[i], MSG_BITS, '0') },
  shut_how: { fmt: (c, i) => enumName(c.args[i] >>> 0, SHUT, 'SHUT_???') },
};
