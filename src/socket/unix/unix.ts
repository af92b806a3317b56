// AF_UNIX sockets (man 7 unix): stream, datagram and seqpacket, connected in
// pairs (socketpair), through a listener (bind, listen, connect, accept) or,
// for datagrams, addressed per message. Names are paths (a socket node in the
// sandbox's file system) or abstract; both lead through SocketNames to the
// bound socket. The data path is in transfer.ts.
import { RecvStamps } from '../timestamp';
import { TIMESTAMP_OPTIONS } from '../../abi/inet';
import { LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET } from '../../abi/landlock';
import { landlockScoped } from '../../auth/landlock';
import type { LandlockDomain } from '../../auth/creds';
import { Errno, E } from '../../abi/errno';
import type { HeapBudget } from '../../abi/accounting';
import type { MemCharge } from '../../platform/memcharge';
import type { MemoryFile } from '../../platform/memfile';
import {
  AF_UNIX, MAX_DGRAM_QLEN, RCV_SHUTDOWN, RMEM_MAX, SEND_SHUTDOWN, SHUT_RDWR, SOCK_DGRAM, SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF,
  SOCK_STREAM, SOL_SOCKET, SOMAXCONN, SO_ACCEPTCONN, SO_DOMAIN, SO_ERROR, SO_PASSCRED, SO_PASSPIDFD, SO_PEERCRED, SO_PROTOCOL,
  SO_RCVBUF, SO_REUSEADDR, SO_SNDBUF, SO_TYPE, WMEM_DEFAULT, WMEM_MAX,
} from '../../abi/socket';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDHUP, EVENT_RDNORM, EVENT_WRNORM, ALL_EVENTS } from '../../abi/waitqueue';
import { O_NONBLOCK } from '../../abi/fs';
import type { FileCtx } from '../../vfs/ctx';
import type { PseudoFs } from '../../vfs/numbering';
import type { MaybePromise } from '../../vfs/file';
import { credOf, SocketFile, type RecvResult, type SendRequest, type SocketNames, type UCred } from '../socket';
import { abstractKey, nodeKey, parseUnixAddr, unixSockaddr } from './names';
import { MsgQueue } from './queue';
import { recvDgram, recvStream, sendDgram, sendStream } from './transfer';

/** Heap a socket object costs the sandbox (estimated), beyond its queued data. */
const SOCKET_COST = 2048;

/** The sandbox-wide things a unix socket needs. */
export interface UnixEnv {
  readonly heap: HeapBudget | null;
  /** The memory file, under whose limit queued messages count (absent in unit tests). */
  readonly kmem?: Pick<MemoryFile, 'chargeKernel' | 'unchargeKernel'>;
  /** The charge group of the task making the socket: what its sends queue is charged to. */
  readonly charge?: MemCharge | null;
  readonly sockfs: PseudoFs;
  readonly table: Map<string, object>;
  /** Sockets with references in flight (for collectCycles). */
  readonly inflight: Set<object>;
  /** The network namespace's part of abstract names' keys (names.ts): abstract names are per namespace, paths are not. */
  readonly abstractScope?: string;
  /** Realtime ns, for receive timestamps (absent in unit tests: 0). */
  readonly realtimeNs?: () => number;
}

export class UnixSocket extends SocketFile {
  /** The connected socket (stream, seqpacket), or the default destination (datagram). */
  peer: UnixSocket | null = null;
  connected = false;
  listening = false;
  backlog = 0;
  /** Server ends of connections not yet accepted (owned here until accept). */
  readonly pending: UnixSocket[] = [];
  /** sk_shutdown: RCV_SHUTDOWN, SEND_SHUTDOWN. */
  shut = 0;
  /** SO_ERROR, reported once. */
  err = 0;
  name: Buffer | null = null;
  private nameKey: string | null = null;
  readonly recvQ: MsgQueue;
  inFlight = 0;
  sndbuf = WMEM_DEFAULT;
  rcvbuf = WMEM_DEFAULT;
  passcred = false;
  /** SO_PASSPIDFD (Linux 6.5): received messages carry SCM_PIDFD. */
  passpidfd = false;
  /** SO_TIMESTAMP and its kin: datagrams and seqpacket messages carry their arrival (a stream takes the options and gives none, as Linux). */
  readonly stamps = new RecvStamps();
  private reuseaddr = 0;
  /** SO_PEERCRED: the peer's credentials when the connection was made (a listener's own, from listen; none for datagrams). */
  peerCred: UCred | null = null;
  /** Ours as a listener or socketpair end gives them. */
  ownCred: UCred;
  dead = false;
  private charged = 0;
  /** Landlock: the domain of the task that made the socket (its file's credentials), for the abstract socket scope. */
  landlock: LandlockDomain | null = null;

  constructor(readonly env: UnixEnv, type: number, nonblock: number, cred: UCred) {
    super(AF_UNIX, type, 0, nonblock, env.sockfs);
    env.heap?.charge(SOCKET_COST, E.ENOBUFS);
    this.charged = SOCKET_COST;
    this.recvQ = new MsgQueue(env.heap, env.inflight, env.kmem ?? null);
    this.ownCred = cred;
  }

  get connBased(): boolean {
    return this.type !== SOCK_DGRAM;
  }
  get nonblocking(): boolean {
    return (this.flags & O_NONBLOCK) !== 0;
  }

  /** Wake whoever waits on this socket (readiness may have changed). */
  wake(): void {
    this.queue.notify(ALL_EVENTS);
  }
  wakeSender(): void {
    this.wake();
  }
  get memCharge(): MemCharge | null {
    return this.env.charge ?? null;
  }

  /** Join two fresh sockets (socketpair, or a connection a listener accepted). */
  static pair(a: UnixSocket, b: UnixSocket): void {
    a.peer = b;
    b.peer = a;
    a.connected = b.connected = true;
    a.peerCred = b.ownCred;
    b.peerCred = a.ownCred;
  }

  // ------------------------------------------------------------------ names

  bind(_t: FileCtx, addr: Buffer, names?: SocketNames): void {
    const a = parseUnixAddr(addr);
    // A path is made before the check (EADDRINUSE wins), as on Linux.
    if (this.name && (a === null || a.abstract)) throw new Errno(E.EINVAL);
    if (a === null) return this.autobind();
    if (a.abstract) {
      const key = abstractKey(this.type, a.abstract, this.env.abstractScope);
      if (this.env.table.has(key)) throw new Errno(E.EADDRINUSE);
      this.setName(key, unixSockaddr(a));
      return;
    }
    if (!names) throw new Errno(E.EINVAL);
    if (a.path.length === 0) throw new Errno(E.ENOENT);
    let id;
    try {
      id = names.makeNode(a.path);
    } catch (e) {
      if (e instanceof Errno && e.errno === E.EEXIST) throw new Errno(E.EADDRINUSE);
      throw e;
    }
    if (this.name) throw new Errno(E.EINVAL);
    this.setName(nodeKey(id), unixSockaddr(a));
  }

  /** A free abstract name of five hex digits, as Linux gives an unbound socket that needs one. */
  autobind(): void {
    if (this.name) return;
    const start = Math.floor(Math.random() * 0x100000);
    for (let i = 0; i < 0x100000; i++) {
      const name = Buffer.from('\0' + ((start + i) % 0x100000).toString(16).padStart(5, '0'), 'latin1');
      const key = abstractKey(this.type, name, this.env.abstractScope);
      if (this.env.table.has(key)) continue;
      this.setName(key, unixSockaddr({ abstract: name, path: null }));
      return;
    }
    throw new Errno(E.ENOSPC);
  }

  private setName(key: string, sa: Buffer): void {
    this.env.table.set(key, this);
    this.nameKey = key;
    this.name = sa;
  }

  /** The socket bound at addr, of our type (ECONNREFUSED if none, EPROTOTYPE if of another type). */
  lookup(addr: Buffer, names: SocketNames | undefined): UnixSocket {
    const a = parseUnixAddr(addr);
    if (a === null) throw new Errno(E.EINVAL);
    let key: string;
    if (a.abstract) key = abstractKey(this.type, a.abstract, this.env.abstractScope);
    else {
      if (!names) throw new Errno(E.EINVAL);
      if (a.path.length === 0) throw new Errno(E.ENOENT);
      key = nodeKey(names.findNode(a.path));
    }
    const s = this.env.table.get(key);
    if (!(s instanceof UnixSocket) || s.dead) throw new Errno(E.ECONNREFUSED);
    if (s.type !== this.type) throw new Errno(E.EPROTOTYPE);
    return s;
  }

  /**
   * Landlock's unix_stream_connect and unix_may_send hooks (ABI 6): EPERM
   * when other is an abstract socket made outside a domain of the caller
   * scoped for them.
   */
  checkScope(t: FileCtx, other: UnixSocket): void {
    if (!t.creds.landlock || !other.nameKey?.startsWith('@')) return;
    if (landlockScoped(t.creds.landlock, other.landlock, LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET)) throw new Errno(E.EPERM);
  }

  sockname(): Buffer {
    return this.name ?? unixSockaddr(null);
  }
  peername(): Buffer {
    const p = this.peer;
    if (!p || (this.connBased && !this.connected)) throw new Errno(E.ENOTCONN);
    return p.name ?? unixSockaddr(null);
  }

  // ------------------------------------------------------------ connections

  listen(t: FileCtx, backlog: number): void {
    if (!this.connBased) throw new Errno(E.EOPNOTSUPP);
    if (!this.name || this.connected) throw new Errno(E.EINVAL);
    this.backlog = backlog >>> 0 > SOMAXCONN ? SOMAXCONN : backlog;
    // Linux sets a listener's credentials at every listen, and reports them as its SO_PEERCRED.
    this.ownCred = this.peerCred = credOf(t);
    this.listening = true;
    this.wake();
  }

  connect(t: FileCtx, addr: Buffer, names?: SocketNames): MaybePromise<void> {
    if (!this.connBased) return this.connectDgram(t, addr, names);
    if (this.connected) throw new Errno(E.EISCONN);
    if (this.listening) throw new Errno(E.EINVAL);
    const l = this.lookup(addr, names);
    if (!l.listening) throw new Errno(E.ECONNREFUSED);
    // Linux's test: the queue is full once it holds more than the backlog.
    if (l.pending.length > l.backlog) {
      if (this.nonblocking) throw new Errno(E.EAGAIN);
      return t.block(l, EVENT_OUT).then(() => this.connect(t, addr, names));
    }
    this.checkScope(t, l);
    if (this.passcred || this.passpidfd) this.autobind();
    const srv = new UnixSocket(this.env, this.type, 0, l.ownCred);
    srv.name = l.name;
    srv.passcred = l.passcred;
    srv.passpidfd = l.passpidfd;
    this.ownCred = credOf(t);
    UnixSocket.pair(this, srv);
    l.pending.push(srv);
    l.wake();
    this.wake();
  }

  private connectDgram(t: FileCtx, addr: Buffer, names?: SocketNames): void {
    if (addr.length >= 2 && addr.readUInt16LE(0) === 0) {
      this.peer = null; // AF_UNSPEC: dissolve the association
      this.wake();
      return;
    }
    const p = this.lookup(addr, names);
    if (p !== this.peer) this.checkScope(t, p);
    if (this.passcred || this.passpidfd) this.autobind();
    // No SO_PEERCRED for a datagram association: Linux copies credentials on stream connects and socketpair only.
    this.peer = p;
    this.wake();
  }

  accept(t: FileCtx, nonblock: number): MaybePromise<SocketFile> {
    if (!this.listening) throw new Errno(E.EINVAL);
    const s = this.pending.shift();
    if (!s) {
      if (this.nonblocking) throw new Errno(E.EAGAIN);
      return t.block(this, EVENT_IN).then(() => this.accept(t, nonblock));
    }
    s.flags |= nonblock;
    this.wake(); // room in the backlog for a blocked connect
    return s;
  }

  shutdown(how: number): void {
    if (how < 0 || how > SHUT_RDWR) throw new Errno(E.EINVAL);
    const mode = how + 1;
    this.shut |= mode;
    const p = this.peer;
    if (p && this.connBased) {
      p.shut |= (mode & RCV_SHUTDOWN ? SEND_SHUTDOWN : 0) | (mode & SEND_SHUTDOWN ? RCV_SHUTDOWN : 0);
      p.wake();
    }
    this.wake();
  }

  // ------------------------------------------------------------------- data

  sendmsg(t: FileCtx, req: SendRequest): MaybePromise<number> {
    const fail = (e: unknown): never => {
      if (req.rights) for (const f of req.rights) f.decRef(); // not queued: the references go
      req.rights = null;
      throw e;
    };
    try {
      const r = this.type === SOCK_STREAM ? sendStream(this, t, req, 0) : sendDgram(this, t, req);
      return r instanceof Promise ? r.catch(fail) : r;
    } catch (e) {
      return fail(e);
    }
  }

  recvmsg(t: FileCtx, len: number, flags: number): MaybePromise<RecvResult> {
    return this.type === SOCK_STREAM ? recvStream(this, t, len, flags) : recvDgram(this, t, len, flags);
  }

  /** SIGPIPE unless MSG_NOSIGNAL; the error to throw. */
  pipeError(t: FileCtx, flags: number): Errno {
    return this.brokenPipe(t, flags);
  }

  /** Whether a datagram to this socket from s must wait: a full queue (unless the two are connected both ways). */
  dgramQueueFull(from: UnixSocket): boolean {
    return this.peer !== from && this.recvQ.length > MAX_DGRAM_QLEN;
  }

  // ---------------------------------------------------------------- options

  /** The realtime clock, for stamps. */
  realtimeNs(): number {
    return this.env.realtimeNs?.() ?? 0;
  }

  /** The stamp of a message arriving now. */
  arrivalNs(): number {
    return this.stamps.arrival(() => this.realtimeNs());
  }

  getsockopt(_t: FileCtx, level: number, name: number): Buffer {
    if (level !== SOL_SOCKET) throw new Errno(E.EOPNOTSUPP);
    const int = (v: number): Buffer => {
      const b = Buffer.alloc(4);
      b.writeInt32LE(v, 0);
      return b;
    };
    if (TIMESTAMP_OPTIONS.includes(name)) return int(this.stamps.get(name));
    switch (name) {
      case SO_TYPE: return int(this.type);
      case SO_DOMAIN: return int(AF_UNIX);
      case SO_PROTOCOL: return int(0);
      case SO_ERROR: {
        const e = this.err;
        this.err = 0;
        return int(e);
      }
      case SO_ACCEPTCONN: return int(this.listening ? 1 : 0);
      case SO_SNDBUF: return int(this.sndbuf);
      case SO_RCVBUF: return int(this.rcvbuf);
      case SO_PASSCRED: return int(this.passcred ? 1 : 0);
      case SO_PASSPIDFD: return int(this.passpidfd ? 1 : 0);
      case SO_REUSEADDR: return int(this.reuseaddr);
      case SO_PEERCRED: {
        const b = Buffer.alloc(12);
        const c = this.peerCred;
        b.writeInt32LE(c ? c.pid : 0, 0);
        b.writeInt32LE(c ? c.uid : -1, 4);
        b.writeInt32LE(c ? c.gid : -1, 8);
        return b;
      }
      default: throw new Errno(E.ENOPROTOOPT);
    }
  }

  /** SO_PEERPIDFD's process (the syscall layer makes the pidfd): ENODATA without a peer's credentials, as Linux. */
  peerProcess(): object {
    const p = this.peerCred?.proc;
    if (!p) throw new Errno(E.ENODATA);
    return p;
  }

  setsockopt(_t: FileCtx, level: number, name: number, val: Buffer): void {
    if (level !== SOL_SOCKET) throw new Errno(E.EOPNOTSUPP);
    if (val.length < 4) throw new Errno(E.EINVAL);
    const v = val.readInt32LE(0);
    if (TIMESTAMP_OPTIONS.includes(name)) return this.stamps.set(name, v !== 0);
    switch (name) {
      case SO_SNDBUF:
        // Linux doubles the value (for its bookkeeping) and reports it so.
        this.sndbuf = Math.max(Math.min(v >>> 0, WMEM_MAX) * 2, SOCK_MIN_SNDBUF);
        this.wake();
        return;
      case SO_RCVBUF:
        this.rcvbuf = Math.max(Math.min(v >>> 0, RMEM_MAX) * 2, SOCK_MIN_RCVBUF);
        return;
      case SO_PASSCRED:
        this.passcred = v !== 0;
        return;
      case SO_PASSPIDFD:
        this.passpidfd = v !== 0;
        return;
      case SO_REUSEADDR:
        this.reuseaddr = v !== 0 ? 1 : 0;
        return;
      default: throw new Errno(E.ENOPROTOOPT);
    }
  }

  // -------------------------------------------------------------- readiness

  override readiness(mask: number): number {
    let r = 0;
    if (this.err) r |= EVENT_ERR;
    if (this.listening) {
      if (this.pending.length > 0) r |= EVENT_IN | EVENT_RDNORM;
      return r & (mask | EVENT_ERR | EVENT_HUP);
    }
    if (this.shut === (RCV_SHUTDOWN | SEND_SHUTDOWN)) r |= EVENT_HUP;
    if (this.shut & RCV_SHUTDOWN) r |= EVENT_RDHUP | EVENT_IN | EVENT_RDNORM;
    if (this.recvQ.length > 0) r |= EVENT_IN | EVENT_RDNORM;
    if (this.connBased && !this.connected) r |= EVENT_HUP;
    let writable = this.inFlight * 4 <= this.sndbuf;
    if (!this.connBased && this.peer && !this.peer.dead && this.peer.dgramQueueFull(this)) writable = false;
    if (writable) r |= EVENT_OUT | EVENT_WRNORM;
    return r & (mask | EVENT_ERR | EVENT_HUP);
  }

  override available(): number {
    if (this.listening) throw new Errno(E.EINVAL);
    if (this.type !== SOCK_STREAM) {
      const m = this.recvQ.at(0);
      return m ? m.data.length : 0;
    }
    let n = 0;
    for (let i = 0; i < this.recvQ.length; i++) {
      const m = this.recvQ.at(i);
      if (m) n += m.data.length - m.off;
    }
    return n;
  }

  override decRef(): void {
    super.decRef();
    // Only references in flight are left: this may close a cycle nobody can reach.
    if (this.refs > 0 && this.refs === this.inflight) collectCycles(this.env.inflight);
  }

  protected override release(): void {
    this.dead = true;
    if (this.nameKey && this.env.table.get(this.nameKey) === this) this.env.table.delete(this.nameKey);
    // Connections nobody accepted: their clients see a reset.
    for (const s of this.pending.splice(0)) {
      if (s.peer) s.peer.err = E.ECONNRESET;
      s.decRef();
    }
    const p = this.peer;
    if (p && this.connBased) {
      p.shut = RCV_SHUTDOWN | SEND_SHUTDOWN;
      if (this.recvQ.length > 0) p.err = E.ECONNRESET;
      p.wake();
    }
    this.recvQ.purge();
    this.wake(); // connects waiting for room in our backlog see ECONNREFUSED
    this.env.heap?.uncharge(this.charged);
    this.charged = 0;
  }
}

/**
 * Sockets reachable only through messages queued on each other (a socket
 * sent over itself, or two sent over each other, then closed) would never be
 * released. Candidates are sockets all of whose references are in flight;
 * those with a reference from outside the candidates' queues are live, and so
 * is whatever their queues hold. The rest are garbage: emptying their queues
 * drops the references that kept them.
 */
function collectCycles(inflight: Set<object>): void {
  const cand = new Set<UnixSocket>();
  for (const s of inflight) if (s instanceof UnixSocket && !s.dead && s.refs === s.inflight) cand.add(s);
  if (cand.size === 0) return;
  const inner = new Map<UnixSocket, number>();
  const eachHeld = (s: UnixSocket, fn: (held: UnixSocket) => void): void => {
    for (let i = 0; i < s.recvQ.length; i++) {
      for (const f of s.recvQ.at(i)?.rights ?? []) if (f instanceof UnixSocket && cand.has(f)) fn(f);
    }
  };
  for (const s of cand) eachHeld(s, (h) => inner.set(h, (inner.get(h) ?? 0) + 1));
  const live = [...cand].filter((s) => s.refs > (inner.get(s) ?? 0));
  const seen = new Set(live);
  for (let s = live.pop(); s; s = live.pop()) {
    eachHeld(s, (h) => {
      if (!seen.has(h)) {
        seen.add(h);
        live.push(h);
      }
    });
  }
  const garbage = [...cand].filter((s) => !seen.has(s));
  for (const s of garbage) s.incRef(); // held while the queues are emptied
  for (const s of garbage) s.recvQ.purge();
  for (const s of garbage) s.decRef();
}
