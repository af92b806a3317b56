// Sockets: creation, names and connections. AF_UNIX (socket/unix), AF_NETLINK
// route sockets (socket/netlink), and AF_INET/AF_INET6 by network mode
// (makeSocket). The data calls (send*, recv*) are in sys_sockmsg.ts.
import { ACCESS_NET_BIND_TCP, ACCESS_NET_CONNECT_TCP } from '../abi/landlock';
import { landlockCheckNet } from '../auth/landlock';
import { E, Errno } from '../abi/errno';
import { MAY_WRITE, checkAccess } from '../vfs/perm';
import { S_IFMT, S_IFSOCK } from '../abi/fs';
import {
  AF_INET, AF_INET6, AF_UNIX, SO_ACCEPTCONN, SO_DOMAIN, SO_PEERCRED, SO_PEERPIDFD, SO_PROTOCOL, SO_TYPE, SOL_SOCKET, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_RAW, SOCK_SEQPACKET, SOCK_STREAM, SOCK_TYPE_MASK,
} from '../abi/socket';
import type { Task } from '../kernel/task';
import { pidNsOf } from '../kernel/pid_ns';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { credOf, SocketFile, type SocketNames } from '../socket/socket';
import { ThreadGroup } from '../kernel/thread_group';
import { installSocketPidfd } from './sys_pidfd';
import { UnixSocket, type UnixEnv } from '../socket/unix/unix';
import { HostFdFile } from '../fsimpl/hostfd/hostfd';
import { HostInetSocket } from '../socket/hostinet/hostinet';
import { OPTION_NOTE } from '../socket/hostinet/options';
import { NetlinkSocket } from '../socket/netlink/netlink';
import type * as NetFactory from '../net/factory';
import { AF_NETLINK, IFNAMSIZ, NETLINK_ROUTE } from '../abi/netif';
import { IPPROTO_IPV6, SO_BINDTODEVICE } from '../abi/inet';
import { CAP_NET_ADMIN } from '../abi/capability';
import { nsCapable } from '../auth/userns';

type HostSocketKind = { domain: number; type: number; protocol: number; listening: number };
import { resolverOf, startOf, vfsOf } from './sysutil';

/**
 * The stack's socket(2) (net/factory.ts), loaded with the first inet socket: a program that makes none
 * never evaluates the stack's modules. Called here only, so that a confined Sentry run from dist/ without
 * the bundle can load it before it gives up the host (sandbox/confine.ts): Node then finds it again by
 * this directory's require of this name, without a look at the file system.
 */
export function netFactory(): typeof NetFactory {
  return require('../net/factory') as typeof NetFactory;
}

/** The socket behind fd: EBADF for no descriptor, ENOTSOCK for another kind of file. */
export function sockOf(t: Task, fd: number): SocketFile {
  const f = t.fdTable.get(i32(fd));
  if (!(f instanceof SocketFile)) throw new Errno(E.ENOTSOCK);
  return f;
}

/**
 * A host socket donated as stdio (node's child processes get socketpairs)
 * answers the calls that tell what it is: its name is the unnamed address of
 * its family (the host's own address is not the sandbox's business), and
 * SO_TYPE, SO_DOMAIN, SO_PROTOCOL and SO_ACCEPTCONN are the host's (other
 * options ENOPROTOOPT, setting any of them too). Null for anything else.
 */
function hostSocketOf(t: Task, fd: number): HostSocketKind | null {
  const f = t.fdTable.get(i32(fd));
  return f instanceof HostFdFile ? f.socketKind : null;
}

function unnamed(domain: number): Buffer {
  const sa = Buffer.alloc(domain === AF_INET ? 16 : domain === AF_INET6 ? 28 : 2);
  sa.writeUInt16LE(domain, 0);
  return sa;
}

function sockname(t: Task, a: number[], peer: boolean): number {
  const host = hostSocketOf(t, a[0]);
  const sa = host ? unnamed(host.domain) : peer ? sockOf(t, a[0]).peername() : sockOf(t, a[0]).sockname();
  writeSockaddr(t, a[1], a[2], sa);
  return 0;
}

/** Path names resolved for task t: its root, cwd, credentials and umask. */
export function namesFor(t: Task): SocketNames {
  return {
    makeNode(path: string) {
      const p = vfsOf(t).mknod(resolverOf(t), startOf(t, -100, path), path, S_IFSOCK, 0o777);
      return { dev: p.mount.fs.dev, ino: p.dentry.inode.ino };
    },
    findNode(path: string) {
      const p = vfsOf(t).resolve(resolverOf(t), startOf(t, -100, path), path, true);
      const ino = p.dentry.inode;
      checkAccess(t.creds, ino.attrs(), MAY_WRITE);
      if ((ino.mode & S_IFMT) !== S_IFSOCK) throw new Errno(E.ECONNREFUSED);
      return { dev: p.mount.fs.dev, ino: ino.ino };
    },
  };
}

function unixEnv(t: Task): UnixEnv {
  return {
    heap: t.heapBudget, sockfs: t.kernel.sockfs, table: t.kernel.unixNames, inflight: t.kernel.unixInFlight, kmem: t.mm.memfile, charge: t.mm.charge,
    abstractScope: t.nsproxy.net.unixScope, realtimeNs: () => t.kernel.realtimeNs(),
  };
}

/** Checks of socket()/socketpair() arguments common to every family: the flags. */
function checkArgs(type: number): { kind: number; nonblock: number; cloexec: boolean } {
  if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC)) throw new Errno(E.EINVAL);
  return { kind: type & SOCK_TYPE_MASK, nonblock: type & SOCK_NONBLOCK, cloexec: (type & SOCK_CLOEXEC) !== 0 };
}

/** An AF_UNIX socket's type (SOCK_RAW is a datagram socket there) after the protocol check. */
function unixKind(kind: number, proto: number): number {
  if (kind === 3) kind = SOCK_DGRAM;
  if (kind !== SOCK_STREAM && kind !== SOCK_DGRAM && kind !== SOCK_SEQPACKET) throw new Errno(E.ESOCKTNOSUPPORT);
  if (proto !== 0 && proto !== AF_UNIX) throw new Errno(E.EPROTONOSUPPORT);
  return kind;
}

const IPPROTO_ICMP = 1, IPPROTO_TCP = 6, IPPROTO_UDP = 17, IPPROTO_ICMPV6 = 58;

/** An inet socket's protocol: TCP for streams; UDP or ICMP echo (ping sockets) for datagrams. */
function checkInet(domain: number, kind: number, proto: number): void {
  if (kind === SOCK_STREAM) {
    if (proto !== 0 && proto !== IPPROTO_TCP) throw new Errno(E.EPROTONOSUPPORT);
  } else if (kind === SOCK_DGRAM) {
    const icmp = domain === AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
    if (proto !== 0 && proto !== IPPROTO_UDP && proto !== icmp) throw new Errno(E.EPROTONOSUPPORT);
  } else if (kind === SOCK_RAW) throw new Errno(E.EPERM); // no raw host sockets (Linux without CAP_NET_RAW)
  else throw new Errno(E.ESOCKTNOSUPPORT);
}

/** A socket, kept in the caller's network namespace for life. */
function makeSocket(t: Task, domain: number, kind: number, proto: number, nonblock: number): SocketFile {
  const f = makeSocketIn(t, domain, kind, proto, nonblock);
  f.netns = t.nsproxy.net;
  return f;
}

/**
 * The socket of a family, by the network mode of the caller's network
 * namespace for the inet families: a host socket in host mode; in sandbox
 * and none modes the namespace's own stack (net/). AF_NETLINK (route)
 * answers from the namespace's interface table in every mode.
 */
function makeSocketIn(t: Task, domain: number, kind: number, proto: number, nonblock: number): SocketFile {
  const ns = t.nsproxy.net;
  const net = ns.config;
  switch (domain) {
    case AF_UNIX: {
      const u = new UnixSocket(unixEnv(t), unixKind(kind, proto), nonblock, credOf(t));
      u.landlock = t.creds.landlock;
      return u;
    }
    case AF_INET:
    case AF_INET6:
      if (net.mode === 'host') {
        checkInet(domain, kind, proto);
        return HostInetSocket.create({ sockfs: t.kernel.sockfs, events: t.kernel.platform, budget: net.hostSockets }, domain, kind, proto, nonblock);
      }
      // sandbox and none: the Sentry's own stack (loopback only today).
      return netFactory().inetSocket(t, domain, kind, proto, nonblock);
    case AF_NETLINK:
      if (kind !== SOCK_RAW && kind !== SOCK_DGRAM) throw new Errno(E.ESOCKTNOSUPPORT);
      if (proto !== NETLINK_ROUTE) throw new Errno(E.EPROTONOSUPPORT);
      // Changes need CAP_NET_ADMIN over the namespace, held by the socket's opener (Linux's netlink_net_capable).
      return new NetlinkSocket({ sockfs: t.kernel.sockfs, interfaces: net.interfaces, ports: net.netlinkPorts, admin: nsCapable(t.creds, ns.owner, CAP_NET_ADMIN) }, kind, nonblock);
    default:
      throw new Errno(E.EAFNOSUPPORT);
  }
}

function installOrDrop(t: Task, f: SocketFile, cloexec: boolean): number {
  try {
    return t.fdTable.install(f, cloexec);
  } catch (e) {
    f.decRef();
    throw e;
  }
}

function socket(t: Task, a: number[]): number {
  const { kind, nonblock, cloexec } = checkArgs(i32(a[1]));
  return installOrDrop(t, makeSocket(t, i32(a[0]), kind, i32(a[2]), nonblock), cloexec);
}

function socketpair(t: Task, a: number[]): number {
  const flags = checkArgs(i32(a[1]));
  const { nonblock, cloexec } = flags;
  const domain = i32(a[0]);
  if (domain !== AF_UNIX) {
    // Linux makes the socket first (its family, type and protocol errors come first: socket(AF_INET,
    // SOCK_STREAM, IPPROTO_UDP) is EPROTONOSUPPORT), then finds the family has no pairs.
    makeSocket(t, domain, flags.kind, i32(a[2]), nonblock).decRef();
    throw new Errno(E.EOPNOTSUPP);
  }
  const kind = unixKind(flags.kind, i32(a[2]));
  const env = unixEnv(t);
  const x = new UnixSocket(env, kind, nonblock, credOf(t));
  let y: UnixSocket;
  try {
    y = new UnixSocket(env, kind, nonblock, credOf(t));
  } catch (e) {
    x.decRef();
    throw e;
  }
  UnixSocket.pair(x, y);
  x.landlock = y.landlock = t.creds.landlock;
  let fx: number;
  try {
    fx = t.fdTable.install(x, cloexec);
  } catch (e) {
    x.decRef();
    y.decRef();
    throw e;
  }
  const fy = installOrDrop(t, y, cloexec);
  try {
    const b = Buffer.alloc(8);
    b.writeInt32LE(fx, 0);
    b.writeInt32LE(fy, 4);
    t.mm.copyOut(a[3], b);
  } catch (e) {
    t.fdTable.close(fx);
    t.fdTable.close(fy);
    throw e;
  }
  return 0;
}

/** A sockaddr argument: at most sizeof(struct sockaddr_storage) bytes. */
export function readSockaddr(t: Task, addr: number, len: number): Buffer {
  len = i32(len);
  if (len < 0 || len > 128) throw new Errno(E.EINVAL);
  return len === 0 ? Buffer.alloc(0) : t.mm.copyIn(addr, len);
}

/** Give an address back through (addr, *lenAddr): as much as fits, and its full length. */
export function writeSockaddr(t: Task, addr: number, lenAddr: number, sa: Buffer): void {
  if (addr === 0) return;
  const room = t.mm.copyIn(lenAddr, 4).readInt32LE(0);
  if (room < 0) throw new Errno(E.EINVAL);
  if (room > 0 && sa.length > 0) t.mm.copyOut(addr, sa.subarray(0, Math.min(room, sa.length)));
  const b = Buffer.alloc(4);
  b.writeInt32LE(sa.length, 0);
  t.mm.copyOut(lenAddr, b);
}

function bind(t: Task, a: number[]): number {
  const s = sockOf(t, a[0]);
  const addr = readSockaddr(t, a[1], a[2]);
  landlockCheckNet(t.creds, s, addr, ACCESS_NET_BIND_TCP);
  s.bind(t, addr, namesFor(t));
  return 0;
}

async function connect(t: Task, a: number[]): Promise<number> {
  const s = sockOf(t, a[0]);
  const addr = readSockaddr(t, a[1], a[2]);
  landlockCheckNet(t.creds, s, addr, ACCESS_NET_CONNECT_TCP);
  await s.connect(t, addr, namesFor(t));
  return 0;
}

async function accept(t: Task, a: number[], flags: number): Promise<number> {
  if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) throw new Errno(E.EINVAL);
  const s = sockOf(t, a[0]);
  const c = await s.accept(t, flags & SOCK_NONBLOCK);
  const fd = installOrDrop(t, c, (flags & SOCK_CLOEXEC) !== 0);
  try {
    writeSockaddr(t, a[1], a[2], c.acceptedPeer());
  } catch (e) {
    t.fdTable.close(fd);
    throw e;
  }
  return fd;
}

/** A host socket's options: the four that say what it is, read only. */
function hostSockopt(host: HostSocketKind, level: number, name: number, set: boolean): Buffer {
  if (level !== SOL_SOCKET) throw new Errno(E.EOPNOTSUPP);
  const v = name === SO_TYPE ? host.type : name === SO_DOMAIN ? host.domain : name === SO_PROTOCOL ? host.protocol : name === SO_ACCEPTCONN ? host.listening : -1;
  if (v < 0 || set) throw new Errno(E.ENOPROTOOPT);
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return b;
}

function sockopt(t: Task, a: number[], set: boolean): number {
  const level = i32(a[1]);
  const name = i32(a[2]);
  const host = hostSocketOf(t, a[0]);
  const s = host ? null : sockOf(t, a[0]);
  const get = (): Buffer => (s ? s.getsockopt(t, level, name) : host ? hostSockopt(host, level, name, false) : Buffer.alloc(0));
  if (set) {
    const len = i32(a[4]);
    if (len < 0) throw new Errno(E.EINVAL);
    // IPv6 options read nothing from a NULL value (Linux's do_ipv6_setsockopt takes it as the int 0): an int option gets 0, one that needs a struct is EINVAL, not EFAULT.
    const val = a[3] === 0 && level === IPPROTO_IPV6 ? Buffer.alloc(Math.min(len, 4)) : t.mm.copyIn(a[3], Math.min(len, 64));
    if (s) s.setsockopt(t, level, name, val);
    else if (host) hostSockopt(host, level, name, true);
    return 0;
  }
  const room = t.mm.copyIn(a[4], 4).readInt32LE(0);
  if (room < 0) throw new Errno(E.EINVAL);
  if (s && level === SOL_SOCKET && name === SO_PEERPIDFD) return peerPidfd(t, s, a[3], a[4], room);
  const full = get();
  // SO_BINDTODEVICE: a name is never cut; a tied socket's needs IFNAMSIZ bytes of room (Linux's sock_getbindtodevice).
  if (level === SOL_SOCKET && name === SO_BINDTODEVICE && full.length > 0 && room < IFNAMSIZ) throw new Errno(E.EINVAL);
  let v = full.subarray(0, room);
  // The peer's pid as the caller's PID namespace numbers it (0 outside it).
  if (s && level === SOL_SOCKET && name === SO_PEERCRED && v.length >= 4) {
    v = Buffer.from(v);
    v.writeInt32LE(pidNsOf(t).nrOfGlobal(v.readInt32LE(0)), 0);
  }
  if (v.length) t.mm.copyOut(a[3], v);
  const b = Buffer.alloc(4);
  b.writeInt32LE(v.length, 0);
  t.mm.copyOut(a[4], b);
  return 0;
}

/**
 * SO_PEERPIDFD (Linux 6.5): a new close-on-exec pidfd of the peer's process
 * as of connect, socketpair or listen; ENODATA for sockets without peer
 * credentials (other families, datagram associations). The fd is closed
 * again if its number cannot be written, as Linux does.
 */
function peerPidfd(t: Task, s: SocketFile, valPtr: number, lenPtr: number, room: number): number {
  const proc = s instanceof UnixSocket ? s.peerProcess() : null;
  if (!(proc instanceof ThreadGroup)) throw new Errno(E.ENODATA);
  const fd = installSocketPidfd(t, proc);
  const len = Math.min(room, 4);
  const v = Buffer.alloc(4);
  v.writeInt32LE(fd, 0);
  const n = Buffer.alloc(4);
  n.writeInt32LE(len, 0);
  try {
    if (len) t.mm.copyOut(valPtr, v.subarray(0, len));
    t.mm.copyOut(lenPtr, n);
  } catch (e) {
    t.fdTable.close(fd);
    throw e;
  }
  return 0;
}

const SOCKOPT_PARTIAL = `AF_UNIX, SOL_SOCKET: SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_ACCEPTCONN, SO_PEERCRED, SO_PEERPIDFD, SO_SNDBUF (the send buffer limit), SO_RCVBUF (kept, reported), SO_PASSCRED, SO_PASSPIDFD, SO_REUSEADDR, SO_TIMESTAMP/SO_TIMESTAMPNS and their _NEW forms (datagram and seqpacket messages carry their arrival; a stream takes them and gives none, as Linux); other options ENOPROTOOPT, other levels EOPNOTSUPP. AF_NETLINK: SO_SNDBUF/RCVBUF, SO_PASSCRED/PASSSEC (taken, no credentials sent), SO_PASSPIDFD EOPNOTSUPP, NETLINK_ADD/DROP_MEMBERSHIP (no notifications are sent), NETLINK_CAP_ACK/EXT_ACK/GET_STRICT_CHK. Inet in host mode, ${OPTION_NOTE}. Inet on the Sentry\'s stack: SOL_SOCKET as AF_UNIX less SO_PEERCRED, SO_PEERPIDFD, SO_PASSCRED and SO_PASSPIDFD (those two and SO_PASSSEC EOPNOTSUPP on inet sockets in both modes, as Linux 6.16 and later) plus SO_REUSEPORT, SO_KEEPALIVE, SO_LINGER (0 resets on close; with a time only close(2) waits, not dup2, close_range, exec or exit), SO_RCVTIMEO/SNDTIMEO, SO_BROADCAST, SO_OOBINLINE, SO_PRIORITY, SO_RCVLOWAT (kept), SO_BINDTODEVICE/SO_BINDTOIFINDEX (routes and arrivals through that interface only), SO_TIMESTAMP/SO_TIMESTAMPNS and their _NEW forms and SO_TIMESTAMPING with software receive stamps (its send stamps and BIND_PHC EINVAL) (control messages on UDP, UDP-Lite, ping and raw ICMP sockets, with SIOCGSTAMP/SIOCGSTAMPNS; a TCP read gets the newest arrival\'s time among the data queued, as Linux gives when loopback coalesced the segments, where Linux gives a separate segment\'s own; an accepted socket takes its listener\'s flags); IPPROTO_TCP TCP_NODELAY, TCP_CORK, TCP_KEEPIDLE/INTVL/CNT, TCP_MAXSEG, TCP_INFO, TCP_DEFER_ACCEPT, TCP_CONGESTION (reno only), TCP_SYNCNT, TCP_LINGER2, TCP_USER_TIMEOUT, TCP_WINDOW_CLAMP, TCP_NOTSENT_LOWAT, TCP_QUICKACK (kept, not all acted on); IPPROTO_IP IP_TOS, IP_TTL, IP_RECVERR (kept; no extended errors are queued), IP_PKTINFO, IP_RECVTTL, IP_RECVTOS, IP_RECVORIGDSTADDR, IP_OPTIONS (UDP, TCP, ping and raw ICMP sockets), IP_RECVOPTS and IP_RECVRETOPTS; IPPROTO_IPV6 IPV6_V6ONLY, IPV6_UNICAST_HOPS, IPV6_TCLASS, IPV6_RECVERR (kept), the sticky IPV6_PKTINFO (set only, as Linux; its interface is where UDP datagrams, ping sockets\' echoes and connects to IPv6 destinations go when nothing else chose one, its address is kept by Linux but chooses no UDP source, so not here either), and on UDP IPV6_RECVHOPLIMIT, IPV6_RECVTCLASS, IPV6_RECVPKTINFO, IPV6_RECVORIGDSTADDR. Others ENOPROTOOPT. A host socket donated as stdio: SO_TYPE, SO_DOMAIN, SO_PROTOCOL and SO_ACCEPTCONN read only`;
const PARTIAL = 'AF_UNIX; AF_NETLINK with NETLINK_ROUTE only (RTM_GETLINK/GETADDR/GETROUTE, and in a new network namespace RTM_NEWLINK/SETLINK of its loopback\'s up flag and RTM_NEWADDR of 127.0.0.1/8 and ::1 on it; RTM_NEWLINK/SETLINK of the up flag, MTU and queue length, RTM_NEWADDR/DELADDR of any IPv4 or IPv6 address and RTM_NEWROUTE/DELROUTE of main-table unicast routes (RTA_OIF; a gateway is taken and not shown) on a tun device (/dev/net/tun) in any namespace of the Sentry\'s stack; other changes EOPNOTSUPP there, EPERM elsewhere); AF_INET/AF_INET6: in --network=host host sockets (TCP, UDP, ICMP echo; SOCK_RAW is EPERM), in sandbox and none modes the Sentry\'s own stack (TCP, UDP, UDP-Lite and ICMP/ICMPv6 echo over loopback, 127.0.0.0/8 and ::1; in sandbox mode of `tsvisor do` IPv4 and IPv6 beyond it through the user-mode NAT on eth0 (10.0.2.15, fd00::5054:ff:fe12:3456), in an OCI container the interfaces of its network namespace, taken over (ARP and IPv6 neighbour discovery in the Sentry; UDP and TCP to Docker\'s DNS at 127.0.0.11:53 relayed into the namespace), in none mode every other destination ENETUNREACH; SOCK_RAW EPERM without CAP_NET_RAW, ICMP and ICMPv6 only, else EPROTONOSUPPORT)';

export const defs: SyscallDef[] = [
  { nr: 41, name: 'socket', fn: socket, args: ['sock_domain', 'sock_type', 'sock_proto'], partial: PARTIAL },
  { nr: 53, name: 'socketpair', fn: socketpair, args: ['sock_domain', 'sock_type', 'sock_proto', 'fdpair_out'], partial: PARTIAL },
  { nr: 49, name: 'bind', fn: bind, args: ['fd', 'sockaddr', 'size'] },
  { nr: 42, name: 'connect', fn: connect, args: ['fd', 'sockaddr', 'size'] },
  { nr: 50, name: 'listen', args: ['fd', 'int'], fn: (t, a) => (sockOf(t, a[0]).listen(t, i32(a[1])), 0) },
  { nr: 43, name: 'accept', args: ['fd', 'sockaddr_out', 'int_out'], fn: (t, a) => accept(t, a, 0) },
  { nr: 288, name: 'accept4', args: ['fd', 'sockaddr_out', 'int_out', 'fdflags'], fn: (t, a) => accept(t, a, u32(a[3])) },
  { nr: 48, name: 'shutdown', args: ['fd', 'shut_how'], fn: (t, a) => (sockOf(t, a[0]).shutdown(i32(a[1])), 0) },
  { nr: 51, name: 'getsockname', args: ['fd', 'sockaddr_out', 'int_out'], fn: (t, a) => sockname(t, a, false) },
  { nr: 52, name: 'getpeername', args: ['fd', 'sockaddr_out', 'int_out'], fn: (t, a) => sockname(t, a, true) },
  { nr: 54, name: 'setsockopt', args: ['fd', 'int', 'int', 'ptr', 'size'], fn: (t, a) => sockopt(t, a, true), partial: SOCKOPT_PARTIAL },
  { nr: 55, name: 'getsockopt', args: ['fd', 'int', 'int', 'ptr', 'ptr'], fn: (t, a) => sockopt(t, a, false), partial: SOCKOPT_PARTIAL },
];
