// A listening TCP socket's queues: connections in the handshake (the SYN
// queue) and established ones waiting for accept(2) (the accept queue). Both
// are bounded: a SYN that finds either full is dropped (the client sends it
// again later), as Linux does without SYN cookies; so a flood of connects
// costs at most the two queues.
import { echoOptions } from '../ip/ipopts';
import { TcpState } from '../../abi/inet';
import { count } from '../ip/ip';
import type { TcbOwner, TcpHost } from './host';
import type { TcpSegment } from './segment';
import type { TcbOptions } from './params';
import { Tcb } from './tcb';
import { isLinkLocal, type Ip } from '../ip/addr';

/** The SYN queue's floor (Linux sizes it from the backlog and tcp_max_syn_backlog). */
const MIN_SYN_QUEUE = 16;

export class Listener implements TcbOwner {
  readonly synQ = new Set<Tcb>();
  readonly acceptQ: Tcb[] = [];
  closed = false;

  constructor(
    readonly host: TcpHost,
    public backlog: number,
    /** What children inherit (the listener's options when the SYN came). */
    public opts: TcbOptions,
    /** The listening socket's wake-up. */
    private readonly socketWake: () => void,
    /** Put a new child in the stack's tables (connection and port); false when it cannot be. */
    private readonly adopt: (c: Tcb) => boolean,
  ) {}

  get acceptQueueFull(): boolean {
    return this.acceptQ.length > this.backlog;
  }

  /** The interface the listening socket is tied to (SO_BINDTODEVICE; 0: any): its connections are too. */
  dev = 0;

  /**
   * A SYN for this listener: a child in SYN-RECEIVED, unless a queue is full.
   * iif: the interface it came in on, which a connection from a link-local
   * peer is tied to; ipOpts: the SYN's IPv4 options (checked), whose echo
   * (record route and timestamps) the connection carries, as Linux's
   * tcp_v4_save_options does by default, not the listener's own.
   */
  onSyn(seg: TcpSegment, local: Ip, remote: Ip, v4: boolean, mtu: number, iif = 0, ipOpts?: Buffer): void {
    if (this.acceptQueueFull) {
      count(this.host.counters, 'ListenOverflows');
      return;
    }
    if (this.synQ.size >= Math.max(MIN_SYN_QUEUE, this.backlog)) {
      count(this.host.counters, 'ListenDrops');
      return;
    }
    let c: Tcb;
    try {
      c = new Tcb(this.host, local, seg.dstPort, remote, seg.srcPort, v4, { ...this.opts, ipOpts: ipOpts ? echoOptions(ipOpts) : Buffer.alloc(0) }, mtu);
    } catch {
      count(this.host.counters, 'ListenDrops'); // the sandbox's budget is spent
      return;
    }
    c.parent = this;
    c.oif = this.dev || (isLinkLocal(remote) ? iif : 0);
    if (!this.adopt(c)) return;
    this.synQ.add(c);
    count(this.host.counters, 'TcpPassiveOpens');
    c.acceptSyn(seg);
  }

  childReady(c: Tcb): void {
    if (!this.synQ.delete(c)) return;
    this.acceptQ.push(c);
    this.socketWake();
  }

  childGone(c: Tcb): void {
    this.synQ.delete(c);
    const i = this.acceptQ.indexOf(c);
    if (i >= 0) this.acceptQ.splice(i, 1);
  }

  wake(): void {
    this.socketWake();
  }

  /** The next connection for accept(2), now owned by the caller. */
  take(): Tcb | null {
    const c = this.acceptQ.shift() ?? null;
    if (c) c.parent = null;
    return c;
  }

  /** The listener closes: connections nobody accepted are reset. */
  close(): void {
    this.closed = true;
    for (const c of [...this.synQ, ...this.acceptQ]) {
      c.parent = null;
      c.orphan = true;
      if (c.state !== TcpState.CLOSE) c.abort();
    }
    this.synQ.clear();
    this.acceptQ.length = 0;
  }
}
