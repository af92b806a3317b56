// The receive queue of a unix socket: messages as sent (a stream reads across
// them, a datagram socket one at a time). Each message is charged to its
// sender's send buffer (SO_SNDBUF, as Linux counts unix sockets), to the
// sandbox's heap budget and to the memory limit (the sender's charge group,
// as Linux charges the skbs to the sending task's memory cgroup) until the
// receiver takes it.
import { E, Errno } from '../../abi/errno';
import type { HeapBudget } from '../../abi/accounting';
import type { MemCharge } from '../../platform/memcharge';
import type { MemoryFile } from '../../platform/memfile';
import type { FileDescription } from '../../vfs/file';
import { SocketFile, type UCred } from '../socket';

/** What a queued message costs beyond its bytes (Linux's skb overhead is of this order). */
export const MSG_OVERHEAD = 512;

/** The sending side of a message, credited back when the message is taken. */
export interface MsgSender {
  inFlight: number;
  /** The charge group of the task that made the sending socket (null: the sandbox's own). */
  readonly memCharge: MemCharge | null;
  wakeSender(): void;
}

export interface Msg {
  data: Buffer;
  /** Bytes of data already read (streams read messages in parts). */
  off: number;
  from: MsgSender;
  /** The sender's name when it sent (datagrams report it), or null. */
  addr: Buffer | null;
  rights: FileDescription[] | null;
  cred: UCred;
  /** Realtime ns of its arrival (a datagram to a socket that wants stamps: socket/timestamp.ts), else 0. */
  stampNs: number;
  cost: number;
}

/**
 * Count descriptions going into (delta 1) or out of (-1) flight; sockets in
 * flight are kept in the sandbox's set for the cycle collector.
 */
export function countInFlight(files: FileDescription[], delta: number, inflight: Set<object>): void {
  for (const f of files) {
    if (!(f instanceof SocketFile)) continue;
    f.inflight += delta;
    if (f.inflight > 0) inflight.add(f);
    else inflight.delete(f);
  }
}

export class MsgQueue {
  readonly msgs: Msg[] = [];
  private head = 0;

  constructor(
    private readonly heap: HeapBudget | null,
    private readonly inflight: Set<object>,
    /** Where queued bytes count under the memory limit (absent in unit tests). */
    private readonly kmem: Pick<MemoryFile, 'chargeKernel' | 'unchargeKernel'> | null = null,
  ) {}

  get length(): number {
    return this.msgs.length - this.head;
  }
  at(i: number): Msg | undefined {
    return this.msgs[this.head + i];
  }

  /** Queue a message (ENOBUFS when the sandbox's budget is spent, or past the memory limit or the sender's group's). */
  push(m: Omit<Msg, 'off' | 'cost'>): void {
    // Descriptions in flight cost their slots too.
    const cost = m.data.length + MSG_OVERHEAD + (m.rights ? m.rights.length * 16 : 0);
    this.heap?.charge(cost, E.ENOBUFS);
    try {
      this.kmem?.chargeKernel(cost, m.from.memCharge);
    } catch (e) {
      this.heap?.uncharge(cost);
      // As Linux's failed skb allocation (sock_alloc_send_pskb).
      throw e instanceof Errno ? new Errno(E.ENOBUFS, e.message) : e;
    }
    m.from.inFlight += cost;
    if (m.rights) countInFlight(m.rights, 1, this.inflight);
    // One literal of a fixed shape: a spread followed by more properties costs V8 microseconds per object (measured for the netstack's segments).
    this.msgs.push({ data: m.data, off: 0, from: m.from, addr: m.addr, rights: m.rights, cred: m.cred, stampNs: m.stampNs, cost });
  }

  /** Remove the first message: its charges are given back and its sender may write again. */
  shift(): Msg {
    const m = this.msgs[this.head++];
    if (this.head > 64 && this.head * 2 > this.msgs.length) {
      this.msgs.splice(0, this.head);
      this.head = 0;
    }
    this.heap?.uncharge(m.cost);
    this.kmem?.unchargeKernel(m.cost, m.from.memCharge);
    m.from.inFlight -= m.cost;
    m.from.wakeSender();
    return m;
  }

  /** Take m's descriptions out of flight: the caller owns their references now. */
  takeRights(m: Msg): FileDescription[] | null {
    const r = m.rights;
    if (r) countInFlight(r, -1, this.inflight);
    m.rights = null;
    return r;
  }

  /** Drop everything (the socket is gone): descriptions in flight lose the reference they held. */
  purge(): void {
    while (this.length > 0) {
      const m = this.shift();
      const r = m.rights;
      m.rights = null;
      if (r) {
        countInFlight(r, -1, this.inflight);
        for (const f of r) f.decRef();
      }
    }
  }
}
