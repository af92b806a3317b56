// The interface ioctls of netdevice(7) on any socket (Linux serves them for
// every family: sock_ioctl falls back to dev_ioctl), answered from the
// sandbox's interface table. struct ifreq is 40 bytes: the name, then a
// union (a sockaddr, flags, an index, an MTU). Setting is EPERM without
// CAP_NET_ADMIN over the network namespace, and in a table that cannot
// change (the initial namespace's); a new namespace's loopback can be
// brought up or down (SIOCSIFFLAGS), nothing else (EOPNOTSUPP).
import { Errno, E } from '../abi/errno';
import { AF_INET } from '../abi/socket';
import {
  IFNAMSIZ, IFREQ_SIZE, SIOCGIFADDR, SIOCGIFBRDADDR, SIOCGIFCONF, SIOCGIFDSTADDR, SIOCGIFFLAGS, SIOCGIFHWADDR, SIOCGIFINDEX, SIOCGIFMETRIC,
  SIOCGIFMTU, SIOCGIFNAME, SIOCGIFNETMASK, SIOCGIFTXQLEN, SIOCSIFADDR, SIOCSIFBRDADDR, SIOCSIFDSTADDR, SIOCSIFFLAGS, SIOCSIFHWADDR,
  SIOCSIFMETRIC, SIOCSIFMTU, SIOCSIFNAME, SIOCSIFNETMASK, SIOCSIFTXQLEN, IFF_CHANGEABLE, IFF_UP, type NetAddr, type NetSnapshot,
} from '../abi/netif';
import type { InterfaceTable } from '../kernel/netinfo';

const GETTERS = new Set([SIOCGIFNAME, SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFDSTADDR, SIOCGIFBRDADDR, SIOCGIFNETMASK, SIOCGIFMETRIC, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX, SIOCGIFTXQLEN]);
const SETTERS = new Set([SIOCSIFFLAGS, SIOCSIFADDR, SIOCSIFDSTADDR, SIOCSIFBRDADDR, SIOCSIFNETMASK, SIOCSIFMETRIC, SIOCSIFMTU, SIOCSIFNAME, SIOCSIFHWADDR, SIOCSIFTXQLEN]);

/** The memory calls the ioctls need (Task.mm satisfies it). */
export interface IfMem {
  copyIn(addr: number, len: number): Buffer;
  copyOut(addr: number, data: Uint8Array): void;
}

export function isIfIoctl(cmd: number): boolean {
  return GETTERS.has(cmd) || SETTERS.has(cmd);
}

function sockaddrIn(a: Buffer | null): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  if (a) a.copy(b, 4, 0, 4);
  return b;
}

function netmask(prefix: number): Buffer {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const b = Buffer.alloc(4);
  b.writeUInt32BE(m, 0);
  return b;
}

/** An interface's IPv4 addresses under its name or an alias label (eth0:1), as Linux keys them. */
function v4Of(s: NetSnapshot, name: string): NetAddr | null {
  const base = name.split(':')[0];
  const l = s.links.find((x) => x.name === base);
  if (!l) throw new Errno(E.ENODEV);
  return s.addrs.find((a) => a.family === AF_INET && a.index === l.index && (a.label ?? base) === name) ?? null;
}

/** SIOCGIFCONF: an ifreq per IPv4 address, or (no buffer) the length they need. */
function ifconf(s: NetSnapshot, mem: IfMem, arg: number): number {
  const hdr = mem.copyIn(arg, 16);
  const len = hdr.readInt32LE(0);
  const buf = Number(hdr.readBigUInt64LE(8));
  const v4 = s.addrs.filter((a) => a.family === AF_INET);
  const out: Buffer[] = [];
  for (const a of v4) {
    const r = Buffer.alloc(IFREQ_SIZE);
    const name = a.label ?? s.links.find((l) => l.index === a.index)?.name ?? '';
    r.write(name.slice(0, IFNAMSIZ - 1), 0, 'latin1');
    sockaddrIn(a.local ?? a.address).copy(r, 16);
    out.push(r);
  }
  let used: number;
  if (buf === 0) used = out.length * IFREQ_SIZE;
  else {
    if (len < 0) throw new Errno(E.EINVAL);
    const fit = out.slice(0, Math.floor(len / IFREQ_SIZE));
    if (fit.length) mem.copyOut(buf, Buffer.concat(fit));
    used = fit.length * IFREQ_SIZE;
  }
  const b = Buffer.alloc(4);
  b.writeInt32LE(used, 0);
  mem.copyOut(arg, b);
  return 0;
}

/** The IPv4 address requests: only an AF_INET socket serves them (Linux's devinet_ioctl); others ENOTTY. */
const ADDR_REQS = new Set([SIOCGIFADDR, SIOCSIFADDR, SIOCGIFDSTADDR, SIOCSIFDSTADDR, SIOCGIFBRDADDR, SIOCSIFBRDADDR, SIOCGIFNETMASK, SIOCSIFNETMASK]);

/** admin: the caller has CAP_NET_ADMIN over the table's network namespace. */
export function ifIoctl(table: InterfaceTable, mem: IfMem, family: number, cmd: number, arg: number, admin: boolean): number {
  if (ADDR_REQS.has(cmd) && family !== AF_INET) throw new Errno(E.ENOTTY);
  if (SETTERS.has(cmd)) return setIf(table, mem, cmd, arg, admin);
  const s = table.snapshot();
  if (cmd === SIOCGIFCONF) return ifconf(s, mem, arg);
  const req = Buffer.from(mem.copyIn(arg, IFREQ_SIZE));
  if (cmd === SIOCGIFNAME) {
    const l = s.links.find((x) => x.index === req.readInt32LE(16));
    if (!l) throw new Errno(E.ENODEV);
    req.fill(0, 0, IFNAMSIZ);
    req.write(l.name.slice(0, IFNAMSIZ - 1), 0, 'latin1');
    mem.copyOut(arg, req);
    return 0;
  }
  req[IFNAMSIZ - 1] = 0;
  const name = req.subarray(0, IFNAMSIZ).toString('latin1').replace(/\0.*$/s, '');
  const l = s.links.find((x) => x.name === name.split(':')[0]);
  if (!l) throw new Errno(E.ENODEV);
  const u = Buffer.alloc(IFREQ_SIZE - IFNAMSIZ);
  switch (cmd) {
    case SIOCGIFFLAGS: u.writeUInt16LE(l.flags & 0xffff, 0); break;
    case SIOCGIFINDEX: u.writeInt32LE(l.index, 0); break;
    case SIOCGIFMTU: u.writeInt32LE(l.mtu, 0); break;
    case SIOCGIFMETRIC: u.writeInt32LE(0, 0); break;
    case SIOCGIFTXQLEN: u.writeInt32LE(l.txqlen, 0); break;
    case SIOCGIFHWADDR:
      u.writeUInt16LE(l.type, 0);
      l.hwaddr.copy(u, 2, 0, Math.min(l.hwaddr.length, 14));
      break;
    default: {
      const a = v4Of(s, name);
      if (!a) throw new Errno(E.EADDRNOTAVAIL);
      const which = cmd === SIOCGIFADDR ? a.local ?? a.address : cmd === SIOCGIFNETMASK ? netmask(a.prefixlen) : cmd === SIOCGIFBRDADDR ? a.broadcast : a.address;
      sockaddrIn(which).copy(u, 0);
    }
  }
  u.copy(req, IFNAMSIZ);
  mem.copyOut(arg, req);
  return 0;
}

/** SIOCSIF*: the up flag of a table that can change; a tun device's IPv4 address and netmask, MTU and queue length too. */
function setIf(table: InterfaceTable, mem: IfMem, cmd: number, arg: number, admin: boolean): number {
  if (!admin || !table.setUp || table.changeable?.() === false) throw new Errno(E.EPERM);
  const req = Buffer.from(mem.copyIn(arg, IFREQ_SIZE));
  req[IFNAMSIZ - 1] = 0;
  const name = req.subarray(0, IFNAMSIZ).toString('latin1').replace(/\0.*$/s, '');
  const s = table.snapshot();
  const l = s.links.find((x) => x.name === name);
  if (cmd === SIOCSIFADDR || cmd === SIOCSIFNETMASK) return setIfAddr(table, s, l?.index ?? 0, cmd, req);
  if (cmd === SIOCSIFMTU || cmd === SIOCSIFTXQLEN) {
    if (!l) throw new Errno(E.ENODEV);
    if (l.index === 1 || !table.setLinkValue || !table.canChange?.(l.index)) throw new Errno(E.EOPNOTSUPP);
    const v = req.readInt32LE(IFNAMSIZ);
    if (v < 0) throw new Errno(E.EINVAL);
    table.setLinkValue(l.index, cmd === SIOCSIFMTU ? 'mtu' : 'txqlen', v);
    return 0;
  }
  if (cmd !== SIOCSIFFLAGS) throw new Errno(E.EOPNOTSUPP);
  if (!l) throw new Errno(E.ENODEV);
  if (table.canChange?.(l.index) === false) throw new Errno(E.EPERM);
  const want = req.readUInt16LE(IFNAMSIZ);
  if ((want ^ l.flags) & IFF_CHANGEABLE & ~IFF_UP) throw new Errno(E.EOPNOTSUPP);
  table.setUp(l.index, (want & IFF_UP) !== 0);
  return 0;
}

/**
 * SIOCSIFADDR and SIOCSIFNETMASK on a tun device (net/tun/): the address
 * replaces the interface's IPv4 one, with the prefix of its class as Linux's
 * devinet_ioctl gives (or the one it had); the netmask changes the prefix of
 * the address it has (EADDRNOTAVAIL without one), and must be contiguous.
 */
function setIfAddr(table: InterfaceTable, s: NetSnapshot, index: number, cmd: number, req: Buffer): number {
  if (!index) throw new Errno(E.ENODEV);
  // The loopback (index 1) keeps its addresses; only a device the application made takes new ones.
  if (index === 1 || !table.addAddress || !table.canChange?.(index)) throw new Errno(E.EOPNOTSUPP);
  if (req.readUInt16LE(IFNAMSIZ) !== AF_INET) throw new Errno(E.EINVAL);
  const v = req.subarray(IFNAMSIZ + 4, IFNAMSIZ + 8);
  const cur = s.addrs.find((a) => a.index === index && a.family === AF_INET);
  if (cmd === SIOCSIFADDR) {
    const first = v[0];
    const prefix = cur ? cur.prefixlen : first < 128 ? 8 : first < 192 ? 16 : 24;
    table.addAddress(index, AF_INET, Buffer.from(v), prefix, true);
    return 0;
  }
  if (!cur) throw new Errno(E.EADDRNOTAVAIL);
  const m = v.readUInt32BE(0);
  const bits = 32 - Math.log2(((~m) >>> 0) + 1);
  if (!Number.isInteger(bits)) throw new Errno(E.EINVAL);
  table.addAddress(index, AF_INET, cur.local ?? cur.address, bits, true);
  return 0;
}
