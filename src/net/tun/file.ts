// /dev/net/tun's open files (Documentation/networking/tuntap.rst,
// linux/if_tun.h): TUNSETIFF makes or attaches a tun device of the opener's
// network namespace (net/tun/device.ts), then read takes the packets the
// stack routed to it and write hands packets to the stack, each with a
// 4-byte packet information header (flags, protocol) unless IFF_NO_PI: IP
// packets for a TUN device, Ethernet frames for a TAP one.
// Every value the application gives is checked here: the ifreq's name and
// flags, the ioctl's argument, a written packet's length and IP version.
import { Errno, E } from '../../abi/errno';
import { O_NONBLOCK, type InodeAttrs } from '../../abi/fs';
import { CAP_NET_ADMIN } from '../../abi/capability';
import { EVENT_ERR, EVENT_IN, EVENT_OUT, EVENT_RDNORM, EVENT_WRNORM } from '../../abi/waitqueue';
import { nsCapable } from '../../auth/userns';
import type { Task } from '../../kernel/task';
import type { MemoryAccess } from '../../mm/access';
import type { FileCtx } from '../../vfs/ctx';
import type { VPath } from '../../vfs/dentry';
import { FileDescription, userRoom, type MaybePromise } from '../../vfs/file';
import type { Inode } from '../../vfs/inode';
import { ETH_HLEN, ETH_P_IP, ETH_P_IPV6 } from '../ip/ip';
import { LoopbackTable } from '../../kernel/netinfo';
import { stackOf } from '../factory';
import { TunLinks, type TunDevice } from './device';

// linux/if_tun.h: ioctls ('T', nr) and flags.
const TUNSETNOCSUM = 0x400454c8;
const TUNSETDEBUG = 0x400454c9;
const TUNSETIFF = 0x400454ca;
const TUNSETPERSIST = 0x400454cb;
const TUNSETOWNER = 0x400454cc;
const TUNSETGROUP = 0x400454ce;
const TUNGETFEATURES = 0x800454cf;
const TUNSETOFFLOAD = 0x400454d0;
const TUNGETIFF = 0x800454d2;
const TUNGETSNDBUF = 0x800454d3;
const TUNSETSNDBUF = 0x400454d4;
const IFF_TUN = 0x1;
const IFF_TAP = 0x2;
const IFF_NAPI = 0x10;
const IFF_NAPI_FRAGS = 0x20;
const IFF_MULTI_QUEUE = 0x100;
const IFF_PERSIST = 0x800;
const IFF_NO_PI = 0x1000;
const IFF_ONE_QUEUE = 0x2000;
const IFF_VNET_HDR = 0x4000;
/** What TUNGETFEATURES offers: IP and Ethernet devices, with or without packet information (IFF_ONE_QUEUE is ignored, as by Linux). */
const FEATURES = IFF_TUN | IFF_TAP | IFF_NO_PI | IFF_ONE_QUEUE;
/** Features Linux has and this one refuses (EINVAL): several queues, virtio headers, NAPI. */
const REFUSED = IFF_MULTI_QUEUE | IFF_VNET_HDR | IFF_NAPI | IFF_NAPI_FRAGS;
const TUN_PKT_STRIP = 0x1;
const PI_LEN = 4;
const IFREQ_SIZE = 40;
const IFNAMSIZ = 16;
/** The largest IP packet, and the largest write taken (and dropped) beyond it: Linux fails bigger ones when it cannot allocate them. */
const MAX_PACKET = 65535;
const MAX_WRITE = 16 << 20;
const READ_EVENTS = EVENT_IN | EVENT_RDNORM;

export class TunFile extends FileDescription {
  /** Linux gives this file no splice operations (splice: EINVAL). */
  override canSplice(): boolean {
    return false;
  }

  private dev: TunDevice | null = null;
  private sndbuf = 0x7fffffff;


  override stat(): InodeAttrs {
    return this.inode!.attrs();
  }

  override canPoll(): boolean {
    return true;
  }

  override supportsNowait(): boolean {
    return true;
  }

  override readiness(mask: number): number {
    if (!this.dev) return EVENT_ERR & mask;
    return ((this.dev.packets.length ? READ_EVENTS : 0) | EVENT_OUT | EVENT_WRNORM) & mask;
  }

  private attached(): TunDevice {
    if (!this.dev) throw new Errno(E.EBADFD);
    return this.dev;
  }

  override ioctl(t: FileCtx, cmd: number, arg: number): number {
    const mem = (t as Task).mm;
    switch (cmd) {
      case TUNGETFEATURES: {
        const b = Buffer.alloc(4);
        b.writeUInt32LE(FEATURES, 0);
        mem.copyOut(arg, b);
        return 0;
      }
      case TUNSETIFF: {
        if (this.dev) throw new Errno(E.EEXIST);
        const req = Buffer.from(mem.copyIn(arg, IFREQ_SIZE));
        this.setIff(t as Task, req);
        const d = this.attached();
        req.fill(0, 0, IFNAMSIZ);
        req.write(d.name, 0, 'latin1');
        mem.copyOut(arg, req);
        return 0;
      }
      default: break;
    }
    const d = this.attached();
    switch (cmd) {
      case TUNGETIFF: {
        const req = Buffer.alloc(IFREQ_SIZE);
        req.write(d.name, 0, 'latin1');
        req.writeUInt16LE((d.tap ? IFF_TAP : IFF_TUN) | d.flags | (d.persist ? IFF_PERSIST : 0), IFNAMSIZ);
        mem.copyOut(arg, req);
        return 0;
      }
      case TUNSETPERSIST:
        d.persist = arg !== 0;
        return 0;
      case TUNSETOWNER:
        d.owner = arg | 0;
        return 0;
      case TUNSETGROUP:
        d.group = arg | 0;
        return 0;
      case TUNSETNOCSUM:
      case TUNSETDEBUG:
        return 0;
      case TUNSETOFFLOAD:
        // No offloads: only none is taken.
        if (arg !== 0) throw new Errno(E.EINVAL);
        return 0;
      case TUNGETSNDBUF: {
        const b = Buffer.alloc(4);
        b.writeInt32LE(this.sndbuf, 0);
        mem.copyOut(arg, b);
        return 0;
      }
      case TUNSETSNDBUF: {
        const v = mem.copyIn(arg, 4).readInt32LE(0);
        if (v <= 0) throw new Errno(E.EINVAL);
        this.sndbuf = v;
        return 0;
      }
      default:
        throw new Errno(E.EINVAL);
    }
  }

  /**
   * TUNSETIFF: a new device (CAP_NET_ADMIN over the namespace), or the
   * existing one of that name, which its owner or group may attach to
   * without it; one file per device.
   */
  private setIff(t: Task, req: Buffer): void {
    const flags = req.readUInt16LE(IFNAMSIZ);
    // IFF_TUN wins over IFF_TAP, as in Linux's tun_set_iff.
    if (!(flags & (IFF_TUN | IFF_TAP)) || flags & REFUSED) throw new Errno(E.EINVAL);
    const tap = (flags & IFF_TUN) === 0;
    const raw = req.subarray(0, IFNAMSIZ);
    const end = raw.indexOf(0);
    const name = raw.subarray(0, end < 0 ? IFNAMSIZ - 1 : end).toString('latin1') || 'tun%d';
    if (name.includes('/') || name === '.' || name === '..' || /\s|:/.test(name)) throw new Errno(E.EINVAL);
    const ns = t.nsproxy.net;
    const table = ns.config.interfaces;
    // Host mode's first namespace is the host's: its interfaces are not the Sentry's to add to.
    if (!(table instanceof LoopbackTable)) throw new Errno(E.EPERM);
    const stack = stackOf(t.kernel, ns);
    const links = (stack.tun ??= new TunLinks(stack, () => Math.max(0, ...table.snapshot().links.map((l) => l.index)) + 1));
    table.extra = links;
    const admin = nsCapable(t.creds, ns.owner, CAP_NET_ADMIN);
    let d = links.byName(name);
    if (d) {
      const mine = (d.owner !== -1 && d.owner === t.creds.euid) || (d.group !== -1 && (d.group === t.creds.egid || t.creds.groups.includes(d.group)));
      if (!admin && !mine) throw new Errno(E.EPERM);
      if ((d.tap !== null) !== tap) throw new Errno(E.EINVAL);
      if (d.reader) throw new Errno(E.EBUSY);
    } else {
      if (!admin) throw new Errno(E.EPERM);
      d = links.create(name, tap);
    }
    d.flags = flags & IFF_NO_PI;
    d.reader = this;
    this.dev = d;
  }

  override read(t: FileCtx, len: number, nowait = false): MaybePromise<Buffer> {
    const d = this.attached();
    if (len === 0) return Buffer.alloc(0);
    const pi = (d.flags & IFF_NO_PI) === 0;
    if (pi && len < PI_LEN) throw new Errno(E.EINVAL);
    const p = d.take();
    if (!p) {
      if (this.flags & O_NONBLOCK || nowait) throw new Errno(E.EAGAIN);
      return t.block(this, READ_EVENTS).then(() => this.read(t, len, nowait));
    }
    if (!pi) return p.subarray(0, len);
    const out = Buffer.alloc(PI_LEN + p.length);
    out.writeUInt16BE(PI_LEN + p.length > len ? TUN_PKT_STRIP : 0, 0);
    out.writeUInt16BE(d.tap ? p.readUInt16BE(12) : p[0] >> 4 === 6 ? ETH_P_IPV6 : ETH_P_IP, 2);
    p.copy(out, PI_LEN);
    return out.subarray(0, len);
  }

  override writeFromUser(t: FileCtx, mem: MemoryAccess, addr: number, len: number): MaybePromise<number> {
    this.attached();
    if (len > MAX_WRITE) throw new Errno(E.ENOBUFS);
    // Only what a packet can be is copied: a longer write is taken whole and dropped.
    const want = Math.min(len, MAX_PACKET + PI_LEN + 1);
    const room = userRoom(mem, addr, want, false);
    if (room < want) throw new Errno(E.EFAULT);
    return this.take(mem.copyIn(addr, want), len);
  }

  override write(_t: FileCtx, data: Buffer): number {
    return this.take(data, data.length);
  }

  /** A written packet (data: its first bytes, len: what the write asked), checked as Linux's tun_get_user does. */
  private take(data: Buffer, len: number): number {
    const d = this.attached();
    let proto: number;
    let pkt: Buffer;
    if (d.flags & IFF_NO_PI) {
      if (data.length === 0) throw new Errno(E.EINVAL);
      if (d.tap) {
        if (data.length < ETH_HLEN) throw new Errno(E.EINVAL);
        return this.deliver(d, data, 0, len);
      }
      const v = data[0] >> 4;
      if (v !== 4 && v !== 6) throw new Errno(E.EINVAL);
      proto = v === 4 ? ETH_P_IP : ETH_P_IPV6;
      pkt = data;
    } else {
      if (data.length < PI_LEN) throw new Errno(E.EINVAL);
      proto = data.readUInt16BE(2);
      pkt = data.subarray(PI_LEN);
      if (d.tap && pkt.length < ETH_HLEN) throw new Errno(E.EINVAL);
    }
    return this.deliver(d, pkt, proto, len);
  }

  private deliver(d: TunDevice, pkt: Buffer, proto: number, len: number): number {
    if (!d.up) throw new Errno(E.EIO);
    if (pkt.length > MAX_PACKET + (d.tap ? ETH_HLEN : 0)) d.stats.rxDropped++;
    else d.inject(pkt, proto);
    return len;
  }

  protected override release(): void {
    this.dev?.detach();
    this.dev = null;
  }
}

/**
 * open of /dev/net/tun: a file attached to nothing until TUNSETIFF.
 * @public sandbox/mounts.ts requires this module when /dev/net/tun is first opened (a lazy require, which knip does not follow).
 */
export function openTun(_ctx: unknown, path: VPath, inode: Inode, flags: number): FileDescription {
  return new TunFile(path, inode, flags);
}
