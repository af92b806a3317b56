// AF_NETLINK sockets of protocol NETLINK_ROUTE, served by the Sentry from the
// sandbox's interface table in every network mode (no host netlink socket is
// involved). A send is parsed one message at a time; a malformed one ends the
// walk (as Linux's netlink_rcv_skb does) and a request that fails gets an
// NLMSG_ERROR with the errno. Dumps are packed into datagrams when they are
// read, sized by what the reader asks (as Linux sizes them by the largest
// read so far), so a 4 KiB reader (glibc) and a 32 KiB one (iproute2) both
// get whole messages.
import { Errno, E } from '../../abi/errno';
import { MSG_DONTWAIT, MSG_PEEK, MSG_TRUNC, SOL_SOCKET, SO_DOMAIN, SO_ERROR, SO_PASSCRED, SO_PASSPIDFD, SO_PASSSEC, SO_PROTOCOL, SO_RCVBUF, SO_SNDBUF, SO_TYPE, WMEM_DEFAULT } from '../../abi/socket';
import { EVENT_IN, EVENT_OUT, EVENT_RDNORM, EVENT_WRNORM, ALL_EVENTS } from '../../abi/waitqueue';
import { O_NONBLOCK } from '../../abi/fs';
import {
  AF_NETLINK, NETLINK_ADD_MEMBERSHIP, NETLINK_CAP_ACK, NETLINK_DROP_MEMBERSHIP, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK,
  NETLINK_ROUTE, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_MULTI, NLM_F_REQUEST, RTM_BASE, RTM_DELADDR, RTM_DELROUTE, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE, RTM_SETLINK, SOL_NETLINK,
  nlmsgAlign,
} from '../../abi/netif';
import type { InterfaceTable } from '../../kernel/netinfo';
import type { FileCtx } from '../../vfs/ctx';
import type { PseudoFs } from '../../vfs/numbering';
import type { MaybePromise } from '../../vfs/file';
import { SocketFile, type RecvResult, type SendRequest } from '../socket';
import { addAddr, answer, changeRoute, delAddr, nlmsg, setLink } from './route';

const SOCKADDR_NL = 12;
/** NLMSG_GOODSIZE on x86-64: the first datagram of a dump is at least this big. */
const NLMSG_GOODSIZE = 3776;
/** A dump datagram is at most this big (Linux's 32 KiB allocation). */
const DUMP_MAX = 32768;

/** The sandbox-wide things a netlink socket needs. */
export interface NetlinkEnv {
  readonly sockfs: PseudoFs;
  readonly interfaces: InterfaceTable;
  /** Bound port ids of the namespace's netlink sockets. */
  readonly ports: Set<number>;
  /** The opener had CAP_NET_ADMIN over the network namespace: it may change what the table lets change. */
  readonly admin?: boolean;
}

const int = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return b;
};

function sockaddrNl(pid: number, groups: number): Buffer {
  const b = Buffer.alloc(SOCKADDR_NL);
  b.writeUInt16LE(AF_NETLINK, 0);
  b.writeUInt32LE(pid >>> 0, 4);
  b.writeUInt32LE(groups >>> 0, 8);
  return b;
}

export class NetlinkSocket extends SocketFile {
  private portid = 0;
  private groups = 0;
  /** Datagrams ready to read, and the messages of a dump not yet packed into one. */
  private readonly ready: Buffer[] = [];
  private readyBytes = 0;
  private dump: Buffer[] = [];
  private maxRecv = 0;
  private err = 0;
  private sndbuf = WMEM_DEFAULT;
  private rcvbuf = WMEM_DEFAULT;
  private capAck = false;
  private readonly flagsSet = new Map<number, number>();

  constructor(private readonly env: NetlinkEnv, type: number, nonblock: number) {
    super(AF_NETLINK, type, NETLINK_ROUTE, nonblock, env.sockfs);
  }

  // ---------------------------------------------------------------- names

  private checkNl(addr: Buffer): { pid: number; groups: number } {
    if (addr.length < SOCKADDR_NL) throw new Errno(E.EINVAL);
    if (addr.readUInt16LE(0) !== AF_NETLINK) throw new Errno(E.EINVAL);
    return { pid: addr.readUInt32LE(4), groups: addr.readUInt32LE(8) };
  }

  /** A port id: the task's tgid if free, else a free negative number (as Linux's autobind). */
  private autobind(t: FileCtx): void {
    if (this.portid) return;
    let id = t.pid;
    for (let n = -4096; this.env.ports.has(id); n--) id = n >>> 0;
    this.env.ports.add(id);
    this.portid = id;
  }

  bind(t: FileCtx, addr: Buffer): void {
    const a = this.checkNl(addr);
    if (this.portid) {
      if (a.pid !== 0 && a.pid !== this.portid) throw new Errno(E.EINVAL);
    } else if (a.pid !== 0) {
      if (this.env.ports.has(a.pid)) throw new Errno(E.EADDRINUSE);
      this.env.ports.add(a.pid);
      this.portid = a.pid;
    } else this.autobind(t);
    // Route notifications are never sent (the table is read, not watched): a subscription is kept and reported.
    this.groups = a.groups;
  }

  listen(): void {
    throw new Errno(E.EOPNOTSUPP);
  }
  accept(): SocketFile {
    throw new Errno(E.EOPNOTSUPP);
  }

  connect(t: FileCtx, addr: Buffer): void {
    if (addr.length >= 2 && addr.readUInt16LE(0) === 0) return;
    const a = this.checkNl(addr);
    if (a.pid !== 0) throw new Errno(E.ECONNREFUSED); // only the kernel answers here
    this.autobind(t);
  }

  shutdown(how: number): void {
    if (how < 0 || how > 2) throw new Errno(E.EINVAL);
  }

  sockname(): Buffer {
    return sockaddrNl(this.portid, this.groups);
  }
  peername(): Buffer {
    return sockaddrNl(0, 0);
  }

  // ----------------------------------------------------------------- data

  sendmsg(t: FileCtx, req: SendRequest): number {
    if (req.rights) {
      for (const f of req.rights) f.decRef();
      req.rights = null;
    }
    if (req.addr && req.addr.length > 0) {
      const a = this.checkNl(req.addr);
      if (a.pid !== 0) throw new Errno(E.ECONNREFUSED);
    }
    const len = req.data.length;
    if (len > this.sndbuf - 32) throw new Errno(E.EMSGSIZE);
    this.autobind(t);
    const data = req.data.slice(0, len);
    for (let off = 0; off + NLMSG_HDRLEN <= data.length; ) {
      const mlen = data.readUInt32LE(off);
      if (mlen < NLMSG_HDRLEN || mlen > data.length - off) break;
      this.handle(data.subarray(off, off + mlen));
      off += nlmsgAlign(mlen);
    }
    this.queue.notify(ALL_EVENTS);
    return len;
  }

  /** One request message: its answer, or its error, queued. */
  private handle(m: Buffer): void {
    const type = m.readUInt16LE(4);
    const flags = m.readUInt16LE(6);
    const seq = m.readUInt32LE(8);
    let err = 0;
    // Not a request, or a control message (NOOP, ERROR, DONE...): acknowledged if asked, as Linux.
    if (flags & NLM_F_REQUEST && type >= RTM_BASE) {
      try {
        const body = m.subarray(NLMSG_HDRLEN);
        // A change has no reply of its own: the ack below, when asked.
        if (type === RTM_NEWLINK || type === RTM_SETLINK) setLink(this.env.interfaces, this.env.admin === true, body);
        else if (type === RTM_NEWADDR) addAddr(this.env.interfaces, this.env.admin === true, flags, body);
        else if (type === RTM_DELADDR) delAddr(this.env.interfaces, this.env.admin === true, body);
        else if (type === RTM_NEWROUTE || type === RTM_DELROUTE) changeRoute(this.env.interfaces, this.env.admin === true, type === RTM_NEWROUTE, flags, body);
        else if (this.reply(type, flags, seq, body)) return; // no ack after a dump, as Linux
      } catch (e) {
        if (!(e instanceof Errno)) throw e;
        err = e.errno;
      }
    }
    if (err === 0 && !(flags & NLM_F_ACK)) return;
    // The ack or error echoes the request's header (the whole request on an error unless NETLINK_CAP_ACK).
    const echo = err && !this.capAck ? m : m.subarray(0, NLMSG_HDRLEN);
    this.enqueue(nlmsg(NLMSG_ERROR, echo.length === NLMSG_HDRLEN ? NLM_F_CAPPED : 0, seq, this.portid, [int(-err), echo]));
  }

  /** A GET request's replies queued, or (true) its dump prepared. */
  private reply(type: number, flags: number, seq: number, body: Buffer): boolean {
    const dump = (flags & NLM_F_DUMP) === NLM_F_DUMP;
    if (dump && this.dump.length > 0) throw new Errno(E.EBUSY);
    const replies = answer(this.env.interfaces.snapshot(), { type, flags, seq, body });
    if (dump) {
      this.dump = replies.map((r) => nlmsg(r.type, NLM_F_MULTI, seq, this.portid, r.parts));
      this.dump.push(nlmsg(NLMSG_DONE, NLM_F_MULTI, seq, this.portid, [int(0)]));
      return true;
    }
    for (const r of replies) this.enqueue(nlmsg(r.type, 0, seq, this.portid, r.parts));
    return false;
  }

  /** A datagram for the reader; dropped with ENOBUFS reported when the receive buffer is full. */
  private enqueue(d: Buffer): void {
    if (this.readyBytes + d.length > this.rcvbuf) {
      this.err = E.ENOBUFS;
      return;
    }
    this.ready.push(d);
    this.readyBytes += d.length;
  }

  /** Pack the next dump datagram, as big as the reader's largest read allows. */
  private packDump(): void {
    if (this.ready.length > 0 || this.dump.length === 0) return;
    const limit = Math.max(NLMSG_GOODSIZE, Math.min(this.maxRecv, DUMP_MAX));
    let n = 0;
    let size = 0;
    while (n < this.dump.length && (n === 0 || size + this.dump[n].length <= limit)) size += this.dump[n++].length;
    const d = Buffer.concat(this.dump.splice(0, n));
    this.ready.push(d);
    this.readyBytes += d.length;
  }

  recvmsg(t: FileCtx, len: number, flags: number): MaybePromise<RecvResult> {
    if (this.err) {
      const e = this.err;
      this.err = 0;
      throw new Errno(e);
    }
    this.maxRecv = Math.max(this.maxRecv, len);
    this.packDump();
    const d = this.ready[0];
    if (!d) {
      if ((this.flags & O_NONBLOCK) || (flags & MSG_DONTWAIT)) throw new Errno(E.EAGAIN);
      return t.block(this, EVENT_IN).then(() => this.recvmsg(t, len, flags));
    }
    if (!(flags & MSG_PEEK)) {
      this.ready.shift();
      this.readyBytes -= d.length;
    }
    const n = Math.min(len, d.length);
    return { data: Buffer.from(d.subarray(0, n)), n: flags & MSG_TRUNC ? d.length : n, flags: d.length > len ? MSG_TRUNC : 0, addr: sockaddrNl(0, 0), rights: null, cred: null };
  }

  override readiness(mask: number): number {
    let r = EVENT_OUT | EVENT_WRNORM;
    if (this.ready.length > 0 || this.dump.length > 0 || this.err) r |= EVENT_IN | EVENT_RDNORM;
    return r & mask;
  }

  override available(): number {
    this.packDump();
    return this.ready[0]?.length ?? 0;
  }

  // -------------------------------------------------------------- options

  getsockopt(_t: FileCtx, level: number, name: number): Buffer {
    if (level === SOL_SOCKET) {
      switch (name) {
        case SO_TYPE: return int(this.type);
        case SO_DOMAIN: return int(AF_NETLINK);
        case SO_PROTOCOL: return int(NETLINK_ROUTE);
        case SO_SNDBUF: return int(this.sndbuf);
        case SO_RCVBUF: return int(this.rcvbuf);
        case SO_PASSCRED:
        case SO_PASSSEC: return int(0);
        case SO_PASSPIDFD: throw new Errno(E.EOPNOTSUPP);
        case SO_ERROR: {
          const e = this.err;
          this.err = 0;
          return int(e);
        }
        default: throw new Errno(E.ENOPROTOOPT);
      }
    }
    if (level !== SOL_NETLINK) throw new Errno(E.ENOPROTOOPT);
    if (name === NETLINK_CAP_ACK || name === NETLINK_EXT_ACK || name === NETLINK_GET_STRICT_CHK) return int(this.flagsSet.get(name) ?? 0);
    throw new Errno(E.ENOPROTOOPT);
  }

  setsockopt(_t: FileCtx, level: number, name: number, val: Buffer): void {
    if (val.length < 4) throw new Errno(E.EINVAL);
    const v = val.readInt32LE(0);
    if (level === SOL_SOCKET) {
      // Doubled as Linux reports them, within its bounds.
      if (name === SO_SNDBUF) this.sndbuf = Math.max(Math.min(v >>> 0, WMEM_DEFAULT) * 2, 4608);
      else if (name === SO_RCVBUF) this.rcvbuf = Math.max(Math.min(v >>> 0, WMEM_DEFAULT) * 2, 2304);
      // Taken and not acted on: the kernel's messages carry no credentials here (Linux sends pid 0's). A pidfd passes on AF_UNIX only (6.16).
      else if (name === SO_PASSCRED || name === SO_PASSSEC) return;
      else if (name === SO_PASSPIDFD) throw new Errno(E.EOPNOTSUPP);
      else throw new Errno(E.ENOPROTOOPT);
      return;
    }
    if (level !== SOL_NETLINK) throw new Errno(E.ENOPROTOOPT);
    switch (name) {
      case NETLINK_ADD_MEMBERSHIP:
      case NETLINK_DROP_MEMBERSHIP:
        if (v < 0 || v > 32) throw new Errno(E.EINVAL);
        if (v > 0) this.groups = name === NETLINK_ADD_MEMBERSHIP ? this.groups | (1 << (v - 1)) : this.groups & ~(1 << (v - 1));
        return;
      case NETLINK_CAP_ACK:
        this.capAck = v !== 0;
        this.flagsSet.set(name, v ? 1 : 0);
        return;
      case NETLINK_EXT_ACK:
      case NETLINK_GET_STRICT_CHK:
        this.flagsSet.set(name, v ? 1 : 0);
        return;
      default: throw new Errno(E.ENOPROTOOPT);
    }
  }

  protected override release(): void {
    if (this.portid) this.env.ports.delete(this.portid);
    this.ready.length = 0;
    this.dump = [];
  }
}
