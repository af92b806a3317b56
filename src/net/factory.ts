// socket(AF_INET|AF_INET6, ...) in the sandbox's own network mode: the
// socket types and protocols Linux takes for these families, and the stack,
// made on the first socket and kept on its network namespace (one per
// namespace), with the kernel's clock, timers and heap budget.
import { Errno, E } from '../abi/errno';
import { SOCK_DGRAM, SOCK_STREAM } from '../abi/socket';
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, SOCK_RAW } from '../abi/inet';
import { AF_INET, AF_INET6 } from '../abi/socket';
import { hasCapability } from '../auth/creds';
import { SIGURG, SI_KERNEL } from '../abi/signals';
import { randomBytes } from '../host/random';
import type { Kernel } from '../kernel/kernel';
import type { NetNamespace } from '../kernel/net_ns';
import type { Task } from '../kernel/task';
import { KernelTimer } from '../kernel/timers';
import type { SocketFile } from '../socket/socket';
import type { InetEnv } from './inet_socket';
import { LoopbackTable } from '../kernel/netinfo';
import { zeroStats, type LinkStats } from '../abi/netif';
import { PingSocket, RawIcmpSocket } from './ping_socket';
import { procNetText } from './procnet';
import { Stack } from './stack';
import type { NetTimer, TimerTarget } from './tcp/host';
import type { TunLinks } from './tun/device';
import { TcpSocket } from './tcp_socket';
import { UdpSocket } from './udp_socket';

/** CAP_NET_RAW. */
const CAP_NET_RAW = 13;

/** A network stack timer on the kernel's timer queue. */
class KernelNetTimer implements NetTimer {
  private readonly tm: KernelTimer<'net'>;
  constructor(private readonly k: Kernel, target: TimerTarget) {
    this.tm = new KernelTimer('net', target);
  }
  arm(atMs: number): void {
    this.k.timers.arm(this.tm, Math.ceil(atMs * 1e6));
  }
  cancel(): void {
    this.k.timers.cancel(this.tm);
  }
}

/** The stack of the sandbox that k runs, made on first use, and the NAT behind its eth0 in sandbox mode with one configured. */
export class SandboxNetwork extends Stack {
  /** The NAT behind eth0 (net/nat/start.ts attaches it in sandbox mode when one is configured). */
  nat: { shutdown(): void } | null = null;
  /** The container interfaces the stack took over (net/packet/start.ts). */
  links: { shutdown(): void } | null = null;
  /** The namespace's tun devices (net/tun/), made by the first TUNSETIFF. */
  tun: TunLinks | null = null;
  procNet(file: 'tcp' | 'tcp6' | 'udp' | 'udp6'): string {
    return procNetText(this, file);
  }
  shutdown(): void {
    this.nat?.shutdown();
    this.links?.shutdown();
  }
  /** A NIC's counters for the interface table (/proc/net/dev, RTM_GETLINK). */
  linkStats(index: number): LinkStats | null {
    const n = this.nics.find((x) => x.index === index);
    if (!n) return null;
    return { ...zeroStats(), rxPackets: n.stats.rxPackets, rxBytes: n.stats.rxBytes, txPackets: n.stats.txPackets, txBytes: n.stats.txBytes, rxDropped: n.stats.rxDropped };
  }
}

/** The stack of network namespace ns (the sandbox's initial one by default), made on first use. */
export function stackOf(k: Kernel, ns: NetNamespace = k.rootNs.net): SandboxNetwork {
  if (ns.stack instanceof SandboxNetwork) return ns.stack;
  const pool: { buf: Buffer; at: number } = { buf: Buffer.alloc(0), at: 0 };
  const table = ns.config.interfaces;
  const s = new SandboxNetwork({
    heap: k.memfile.heap,
    nowMs: () => k.monotonicNs() / 1e6,
    newTimer: (target) => new KernelNetTimer(k, target),
    randomU32: () => {
      // Random numbers (ISNs, ports, timestamp offsets) come from getrandom in batches.
      if (pool.at + 4 > pool.buf.length) {
        pool.buf = randomBytes(1024);
        pool.at = 0;
      }
      const v = pool.buf.readUInt32LE(pool.at);
      pool.at += 4;
      return v;
    },
    ...(table.isUp ? { loopbackUp: () => table.isUp?.(1) ?? true } : {}),
    ...(table.ipv6Off ? { ipv6Off: () => table.ipv6Off?.() ?? false } : {}),
  });
  ns.stack = s;
  if (table instanceof LoopbackTable) table.linkStats = (i) => s.linkStats(i);
  ns.stackSetup?.(s);
  return s;
}

/**
 * socket(2) for AF_INET and AF_INET6 (type already stripped of SOCK_NONBLOCK and SOCK_CLOEXEC).
 * @public syscalls/sys_socket.ts requires this module at the first inet socket (a lazy require, which knip does not follow).
 */
export function inetSocket(t: Task, family: number, kind: number, proto: number, nonblock: number): SocketFile {
  const k = t.kernel;
  const env = (): InetEnv => ({
    stack: stackOf(k, t.nsproxy.net), sockfs: k.sockfs, sysctl: t.nsproxy.net.config.sysctl, nowNs: () => k.monotonicNs(), realtimeNs: () => k.realtimeNs(),
    sigurg: (f) => {
      // Always SIGURG, whatever F_SETSIG says, and without O_ASYNC (Linux's sk_send_sigurg).
      if (f.async) k.signals.sendToOwner(f.async.ownerType, f.async.owner, SIGURG, { signo: SIGURG, code: SI_KERNEL }, f.async.landlock);
    },
  });
  if (kind === SOCK_RAW) {
    if (!hasCapability(t.creds, CAP_NET_RAW)) throw new Errno(E.EPERM);
    if ((family === AF_INET && proto === IPPROTO_ICMP) || (family === AF_INET6 && proto === IPPROTO_ICMPV6)) return new RawIcmpSocket(env(), family, nonblock);
    t.kernel.logOnce('socket-raw', 'socket(SOCK_RAW): raw IP sockets other than ICMP and ICMPv6 are not implemented (logged once)');
    throw new Errno(E.EPROTONOSUPPORT);
  }
  if (kind !== SOCK_STREAM && kind !== SOCK_DGRAM) throw new Errno(E.ESOCKTNOSUPPORT);
  const e = env();
  if (kind === SOCK_STREAM) {
    if (proto !== 0 && proto !== IPPROTO_TCP) throw new Errno(E.EPROTONOSUPPORT);
    return new TcpSocket(e, family, nonblock);
  }
  // An ICMP echo socket: every group may have one (ping_socket.ts).
  if ((proto === IPPROTO_ICMP && family === AF_INET) || (proto === IPPROTO_ICMPV6 && family === AF_INET6)) return new PingSocket(e, family, nonblock);
  if (proto === IPPROTO_UDPLITE) return new UdpSocket(e, family, nonblock, IPPROTO_UDPLITE);
  if (proto !== 0 && proto !== IPPROTO_UDP) throw new Errno(E.EPROTONOSUPPORT);
  return new UdpSocket(e, family, nonblock);
}
