// /proc/net: the interface table (kernel/netinfo.ts) as dev, route,
// ipv6_route and if_inet6 show it, the sandbox's bound unix sockets, and the TCP and UDP
// sockets of its own stack. One network
// namespace: /proc/net and /proc/PID/net are the same files.
import { AF_INET, AF_INET6, AF_UNIX } from '../../abi/socket';
import { RTN_LOCAL, RTN_UNICAST, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_TABLE_LOCAL, RT_TABLE_MAIN, type NetRoute, type NetSnapshot } from '../../abi/netif';
import type { Entry, NodeMaker } from './nodes';
import type { ProcFs } from './procfs';
import type { NetNamespace } from '../../kernel/net_ns';
import { callerOf } from './task_info';

const RTF_UP = 0x1, RTF_GATEWAY = 0x2, RTF_HOST = 0x4;
const RT_SCOPE_SITE = 200;
/** IPv6's route flags beyond those (include/uapi/linux/ipv6_route.h). */
const RTF_REJECT = 0x200, RTF_NONEXTHOP = 0x200000, RTF_LOCAL = 0x80000000;

export function devText(s: NetSnapshot): string {
  let out = 'Inter-|   Receive                                                |  Transmit\n' +
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
  const w = (v: number, n: number) => String(v).padStart(n);
  for (const l of s.links) {
    const st = l.stats;
    out += `${l.name.padStart(6)}: ${w(st.rxBytes, 7)} ${w(st.rxPackets, 7)} ${w(st.rxErrors, 4)} ${w(st.rxDropped, 4)} ${w(0, 4)} ${w(0, 5)} ${w(0, 10)} ${w(st.multicast, 9)} ` +
      `${w(st.txBytes, 8)} ${w(st.txPackets, 7)} ${w(st.txErrors, 4)} ${w(st.txDropped, 4)} ${w(0, 4)} ${w(0, 5)} ${w(0, 7)} ${w(0, 10)}\n`;
  }
  return out;
}

/** An IPv4 address as /proc/net/route prints it: the four bytes read as a little-endian word. */
const hex4 = (b: Buffer | null): string => (b && b.length >= 4 ? b.readUInt32LE(0) : 0).toString(16).toUpperCase().padStart(8, '0');

export function routeText(s: NetSnapshot): string {
  let out = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT'.padEnd(127) + '\n';
  for (const r of s.routes) {
    if (r.family !== AF_INET || r.table !== RT_TABLE_MAIN || r.type !== RTN_UNICAST) continue;
    const dev = s.links.find((l) => l.index === r.oif)?.name ?? '*';
    const mask = Buffer.alloc(4);
    mask.writeUInt32BE(r.dstLen === 0 ? 0 : (0xffffffff << (32 - r.dstLen)) >>> 0, 0);
    const flags = RTF_UP | (r.gateway ? RTF_GATEWAY : 0) | (r.dstLen === 32 ? RTF_HOST : 0);
    const line = `${dev}\t${hex4(r.dst)}\t${hex4(r.gateway)}\t${flags.toString(16).toUpperCase().padStart(4, '0')}\t0\t0\t${r.priority ?? 0}\t${hex4(mask)}\t0\t0\t0`;
    out += line.padEnd(127) + '\n';
  }
  return out;
}

/**
 * The IPv6 routes of the main and then the local table, each ended by
 * Linux's null entry where it has no default route: destination, prefix,
 * source (none), next hop, metric, reference and use counts (not kept: 1
 * and 0), flags, device.
 */
export function ipv6RouteText(s: NetSnapshot): string {
  const zero = '0'.repeat(32);
  const h8 = (v: number) => (v >>> 0).toString(16).padStart(8, '0');
  const line = (dst: string, len: number, gw: string, metric: number, flags: number, dev: string) =>
    `${dst} ${len.toString(16).padStart(2, '0')} ${zero} 00 ${gw} ${h8(metric)} ${h8(1)} ${h8(0)} ${h8(flags)} ${dev.padStart(8)}\n`;
  let out = '';
  const dst = (r: NetRoute) => (r.dstLen === 0 ? zero : r.dst?.toString('hex') ?? zero);
  for (const table of [RT_TABLE_MAIN, RT_TABLE_LOCAL]) {
    // Linux walks each table's tree: by address, its root (::/0) last, which is the null entry where the table has no default route.
    const routes = s.routes.filter((r) => r.family === AF_INET6 && r.table === table);
    const inner = routes.filter((r) => r.dstLen > 0).sort((a, b) => (dst(a) < dst(b) ? -1 : dst(a) > dst(b) ? 1 : 0));
    for (const r of [...inner, ...routes.filter((x) => x.dstLen === 0)]) {
      const flags = RTF_UP | (r.gateway ? RTF_GATEWAY : 0) | (r.type === RTN_LOCAL ? RTF_LOCAL | RTF_NONEXTHOP : 0);
      const dev = s.links.find((l) => l.index === r.oif)?.name ?? '';
      out += line(dst(r), r.dstLen, r.gateway?.toString('hex') ?? zero, r.priority ?? 0, flags, dev);
    }
    if (!routes.some((r) => r.dstLen === 0)) out += line(zero, 0, zero, 0xffffffff, RTF_REJECT | RTF_NONEXTHOP, 'lo');
  }
  return out;
}

function v6Scope(scope: number): number {
  if (scope === RT_SCOPE_HOST) return 0x10;
  if (scope === RT_SCOPE_LINK) return 0x20;
  if (scope === RT_SCOPE_SITE) return 0x40;
  return 0;
}

export function ifInet6Text(s: NetSnapshot): string {
  let out = '';
  for (const a of s.addrs) {
    if (a.family !== AF_INET6) continue;
    const name = s.links.find((l) => l.index === a.index)?.name ?? '';
    const h2 = (v: number) => v.toString(16).padStart(2, '0');
    out += `${a.address.toString('hex')} ${h2(a.index)} ${h2(a.prefixlen)} ${h2(v6Scope(a.scope))} ${h2(a.flags & 0xff)} ${name.padStart(8)}\n`;
  }
  return out;
}

/** What /proc/net/unix reads of a bound unix socket (socket/unix/unix.ts has these fields). */
interface UnixView {
  family: number;
  type: number;
  ino: number;
  refs: number;
  listening: boolean;
  connected: boolean;
  name: Buffer | null;
}

function isUnixView(o: object): o is UnixView {
  const v = o as Partial<UnixView>;
  return v.family === AF_UNIX && typeof v.ino === 'number' && typeof v.listening === 'boolean';
}

const SO_ACCEPTCON = 1 << 16;
const SS_UNCONNECTED = 1, SS_CONNECTED = 3;

export function unixText(names: Map<string, object>): string {
  let out = 'Num       RefCount Protocol Flags    Type St Inode Path\n';
  const h = (v: number, n: number) => (v >>> 0).toString(16).toUpperCase().padStart(n, '0');
  for (const s of new Set(names.values())) {
    if (!isUnixView(s)) continue;
    let path = '';
    if (s.name && s.name.length > 2) {
      const raw = s.name.subarray(2);
      path = raw[0] === 0 ? '@' + raw.subarray(1).toString('latin1') : raw.toString('latin1').replace(/\0.*$/s, '');
    }
    out += `0000000000000000: ${h(s.refs, 8)} ${h(0, 8)} ${h(s.listening ? SO_ACCEPTCON : 0, 8)} ${h(s.type, 4)} ${h(s.connected ? SS_CONNECTED : SS_UNCONNECTED, 2)} ${String(s.ino).padStart(5)}${path ? ' ' + path : ''}\n`;
  }
  return out;
}

/** The network namespace of the reader (Linux shows /proc/net through the reading task's). */
function netOf(fs: ProcFs, ctx: unknown): NetNamespace {
  return callerOf(fs.kernel, ctx)?.nsproxy.net ?? fs.kernel.rootNs.net;
}

export function netDir(fs: ProcFs, m: NodeMaker): Entry {
  const snap = (ctx: unknown) => netOf(fs, ctx).config.interfaces.snapshot();
  return m.staticDir('net', (n) => [
    n.file('dev', (ctx) => devText(snap(ctx))),
    n.file('route', (ctx) => routeText(snap(ctx))),
    n.file('if_inet6', (ctx) => ifInet6Text(snap(ctx))),
    n.file('ipv6_route', (ctx) => ipv6RouteText(snap(ctx))),
    n.file('unix', () => unixText(fs.kernel.unixNames)),
    ...inetFiles(fs, n),
  ]);
}

const HEAD4 = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const HEAD6 = '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';

/**
 * tcp, tcp6, udp, udp6: the sockets of the sandbox's own stack, which lives
 * above procfs (net/) and answers through the reader's NetNamespace; before the first
 * inet socket (and in host mode) the tables are empty.
 */
function inetFiles(fs: ProcFs, n: NodeMaker): Entry[] {
  return (['tcp', 'tcp6', 'udp', 'udp6'] as const).map((name) =>
    n.file(name, (ctx) => netOf(fs, ctx).stack?.procNet(name) ?? (name.endsWith('6') ? HEAD6 : HEAD4)),
  );
}
