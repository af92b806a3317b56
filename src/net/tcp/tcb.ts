// A TCP connection (RFC 9293): its state, the send side (segmentation,
// Nagle, TCP_CORK, retransmission with the RFC 6298 timer, NewReno congestion
// control, zero-window probes), the receive side's window, and the timers
// (retransmission, persist, delayed ACK, keepalive, TIME_WAIT). What happens
// when a segment arrives is in input.ts.
import { E } from '../../abi/errno';
import { TcpState } from '../../abi/inet';
import type { Ip } from '../ip/addr';
import { count } from '../ip/ip';
import { OooQueue, RecvQueue, SendQueue } from './buffers';
import type { NetTimer, TcbOwner, TcpHost, TimerTarget } from './host';
import { ACK, FIN, PSH, RST, SYN, URG, segment, seqAdd, seqDiff, seqLE, seqLT, type TcpSegment } from './segment';

/** Linux's TCP_RTO_MIN, TCP_RTO_MAX and initial RTO (RFC 6298 says 1 s). */
const RTO_MIN = 200;
const RTO_MAX = 120_000;
const RTO_INIT = 1000;
/** Delayed ACK timeout (Linux's TCP_DELACK_MIN) and TCP_CORK's ceiling. */
const DELACK_MS = 40;
const CORK_MS = 200;
/** TIME_WAIT (2 MSL) and an orphan's FIN_WAIT_2 (tcp_fin_timeout), in ms. */
export const TIME_WAIT_MS = 60_000;
const FIN_TIMEOUT_MS = 60_000;
/** tcp_syn_retries, tcp_synack_retries, tcp_retries2. */
const SYN_RETRIES = 6;
const SYNACK_RETRIES = 5;
const RETRIES2 = 15;
/** Our window scale (Linux uses 7 with its default buffers). */
const RCV_WSCALE = 7;
/** Initial congestion window (RFC 6928), in segments. */
const IW = 10;
/** The heap a connection costs beyond its queued bytes (estimated). */
export const TCB_COST = 4096;

export interface TcbOptions {
  nodelay: boolean;
  cork: boolean;
  keepalive: boolean;
  keepIdle: number;
  keepIntvl: number;
  keepCnt: number;
  /** Bytes the receive queue may hold (what the window offers). */
  rcvLimit: number;
  /** Bytes the send queue may hold. */
  sndLimit: number;
  /** TCP_MAXSEG set by the application (0: none). */
  userMss: number;
  /** TCP_DEFER_ACCEPT in seconds. */
  deferAccept: number;
  tos: number;
  ttl: number;
  /** SO_OOBINLINE: the urgent byte stays in the stream. */
  oobinline: boolean;
}

export const defaultTcbOptions = (): TcbOptions => ({
  nodelay: false, cork: false, keepalive: false, keepIdle: 7200, keepIntvl: 75, keepCnt: 9,
  rcvLimit: 256 * 1024, sndLimit: 256 * 1024, userMss: 0, deferAccept: 0, tos: 0, ttl: 64, oobinline: false,
});

/**
 * The urgent byte's state (urgData), as Linux keeps it: announced by an
 * urgent pointer but not received yet, received (VALID with the byte in the
 * low 8 bits), or read with MSG_OOB.
 */
export const URG_VALID = 0x100;
export const URG_NOTYET = 0x200;
export const URG_READ = 0x400;

export class Tcb implements TimerTarget {
  state = TcpState.CLOSE;
  readonly v4: boolean;
  opts: TcbOptions;
  owner: TcbOwner | null = null;
  /** The listener this connection came through, until it is accepted. */
  parent: TcbOwner | null = null;
  /** Closed by the application: nobody reads; data arriving now is answered with RST. */
  orphan = false;
  /** The inode number and owner of the socket it belongs to (/proc/net/tcp). */
  ino = 0;
  uid = 0;
  /** The error the socket reports (SO_ERROR, the next call), 0: none. */
  err = 0;
  /** Why it ended, for calls after the error was reported (ECONNRESET, ETIMEDOUT...), 0: not ended abnormally. */
  reset = 0;

  // Send side.
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  /** The highest sequence sent (sndNxt goes back on a timeout). */
  sndMax = 0;
  sndWnd = 0;
  maxSndWnd = 0;
  sndWl1 = 0;
  sndWl2 = 0;
  sndWscale = 0;
  readonly sendq = new SendQueue();
  /** The application asked for a FIN (shutdown(SHUT_WR) or close). */
  finQueued = false;
  finSent = false;
  finSeq = 0;
  /** MSG_MORE on the last send: hold a partial segment as TCP_CORK does. */
  more = false;
  /** MSG_OOB: segments before sndUp carry the urgent pointer (the sequence after the urgent byte) until it is acknowledged. */
  sndUrg = false;
  sndUp = 0;

  // Receive side.
  irs = 0;
  rcvNxt = 0;
  /** The right edge of the window last advertised (never moved left). */
  rcvAdv = 0;
  rcvWscale = RCV_WSCALE;
  readonly recvq = new RecvQueue();
  readonly ooo = new OooQueue();
  finReceived = false;
  /** The urgent byte (see URG_*) and its sequence number; 0: none. */
  urgData = 0;
  urgSeq = 0;
  /** Data bytes received and not acknowledged, segments since the last ACK, quick ACKs left. */
  private ackPending = false;
  private segsUnacked = 0;
  private quickAcks = 16;

  // Negotiated.
  /** Effective send MSS (payload per segment, options taken off). */
  mss = 536;
  advMss: number;
  tsOk = false;
  tsRecent = 0;
  private readonly tsOffset: number;
  sackOk = false;
  wsOk = false;

  // Congestion control (NewReno, RFC 5681 and 6582).
  cwnd = 0;
  ssthresh = 0x7fffffff;
  dupAcks = 0;
  inRecovery = false;
  recover = 0;

  // RTT and the retransmission timer (RFC 6298).
  srtt = 0;
  rttvar = 0;
  rto = RTO_INIT;
  private rttSeq: number | null = null;
  private rttStart = 0;
  retries = 0;
  totalRetrans = 0;

  // Timers: deadlines in ms, 0 when off; one host timer at the earliest.
  private readonly timer: NetTimer;
  private rtxAt = 0;
  private persistAt = 0;
  private persistBackoff = 0;
  private delackAt = 0;
  private keepAt = 0;
  private probesOut = 0;
  /** TIME_WAIT's end, an orphan's FIN_WAIT_2 limit, or a deferred child's limit. */
  private endAt = 0;
  private corkAt = 0;
  /** Send a partial segment now whatever TCP_CORK, MSG_MORE and Nagle say (the cork's time ran out, or uncorked). */
  flushPartial = false;
  lastRecvMs = 0;
  lastSendMs = 0;
  // Statistics for TCP_INFO.
  segsIn = 0;
  segsOut = 0;
  bytesAcked = 0;
  bytesReceived = 0;
  private charged = 0;

  constructor(
    readonly host: TcpHost,
    readonly local: Ip,
    readonly lport: number,
    readonly remote: Ip,
    readonly rport: number,
    v4: boolean,
    opts: TcbOptions,
    mtu: number,
  ) {
    this.v4 = v4;
    this.opts = { ...opts };
    this.advMss = Math.min(mtu, 65535) - (v4 ? 40 : 60);
    if (opts.userMss) this.advMss = Math.min(this.advMss, opts.userMss);
    this.timer = host.newTimer(this);
    this.tsOffset = host.randomU32();
    host.heap?.charge(TCB_COST, E.ENOBUFS);
    this.charged = TCB_COST;
    this.lastRecvMs = host.nowMs();
  }

  get key(): string {
    return connKey(this.local, this.lport, this.remote, this.rport);
  }
  get synchronized(): boolean {
    return this.state !== TcpState.CLOSE && this.state !== TcpState.SYN_SENT && this.state !== TcpState.LISTEN && this.state !== TcpState.SYN_RECV;
  }
  /** Bytes sent and not acknowledged. */
  get inFlight(): number {
    return seqDiff(this.sndNxt, this.sndUna);
  }
  get canSend(): boolean {
    return (this.state === TcpState.ESTABLISHED || this.state === TcpState.CLOSE_WAIT) && !this.finQueued;
  }
  /** The payload of a full segment: the MSS, bounded by half the largest window the peer offered (Linux's tcp_bound_to_half_wnd). */
  get sendMss(): number {
    const w = this.maxSndWnd;
    const cutoff = w > 536 ? w >> 1 : w;
    return cutoff && this.mss > cutoff ? Math.max(cutoff, 68 - 20 - (this.tsOk ? 12 : 0)) : this.mss;
  }
  /** The sequence number of the next byte the application reads. */
  get copiedSeq(): number {
    return seqAdd(this.rcvNxt, -(this.recvq.length + (this.finReceived ? 1 : 0)));
  }
  /** SIOCATMARK: the next byte read is the urgent one (or was, read with MSG_OOB). */
  get atMark(): boolean {
    return this.urgData !== 0 && this.urgSeq === this.copiedSeq;
  }
  /** FIONREAD: the bytes before the mark while one is ahead and the urgent byte is out of band, else all. */
  get inq(): number {
    if (this.opts.oobinline || !this.urgData) return this.recvq.length;
    const off = seqDiff(this.urgSeq, this.copiedSeq);
    return off < 0 || off >= this.recvq.length ? this.recvq.length : off;
  }
  get sndSpace(): number {
    return Math.max(0, this.opts.sndLimit - this.sendq.length);
  }
  private now(): number {
    return this.host.nowMs();
  }
  private tsNow(): number {
    return (Math.floor(this.now()) + this.tsOffset) >>> 0;
  }

  // ------------------------------------------------------------ opening

  /** Active open: send the SYN. */
  connect(): void {
    this.iss = this.host.randomU32();
    this.sndUna = this.iss;
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    this.state = TcpState.SYN_SENT;
    this.sendSyn(false);
    this.rttSeq = this.iss;
    this.rttStart = this.now();
    this.rtxAt = this.now() + this.rto;
    this.rearm();
  }

  /** Passive open: a SYN came to a listener; answer with SYN-ACK. */
  acceptSyn(seg: TcpSegment): void {
    this.irs = seg.seq;
    this.rcvNxt = seqAdd(seg.seq, 1);
    this.negotiate(seg);
    this.iss = this.host.randomU32();
    this.sndUna = this.iss;
    this.sndNxt = this.sndMax = seqAdd(this.iss, 1);
    this.sndWnd = seg.window;
    this.sndWl1 = seg.seq;
    this.sndWl2 = this.iss;
    this.state = TcpState.SYN_RECV;
    this.sendSyn(true);
    this.rttSeq = this.iss;
    this.rttStart = this.now();
    this.rtxAt = this.now() + this.rto;
    this.rearm();
  }

  /** Options from the peer's SYN: window scaling, timestamps and SACK only if both sides offer them. */
  negotiate(seg: TcpSegment): void {
    this.wsOk = seg.wscale >= 0;
    this.sndWscale = this.wsOk ? seg.wscale : 0;
    if (!this.wsOk) this.rcvWscale = 0;
    this.tsOk = seg.ts;
    if (seg.ts) this.tsRecent = seg.tsVal;
    this.sackOk = seg.sackOk;
    const peerMss = seg.mss || 536;
    this.mss = Math.max(64, Math.min(peerMss, this.advMss) - (this.tsOk ? 12 : 0));
    this.cwnd = IW * this.mss;
  }

  private sendSyn(ack: boolean): void {
    const o = segment(this.lport, this.rport, this.iss, ack ? this.rcvNxt : 0, SYN | (ack ? ACK : 0), 0);
    o.mss = this.advMss;
    o.wscale = ack && !this.wsOk ? -1 : this.rcvWscale;
    o.sackOk = ack ? this.sackOk : true;
    o.ts = ack ? this.tsOk : true;
    if (o.ts) {
      o.tsVal = this.tsNow();
      o.tsEcr = ack ? this.tsRecent : 0;
    }
    // A SYN's window is never scaled; Linux offers a whole number of segments.
    const seg = this.advMss - 12;
    const win = Math.floor(Math.min(this.rcvSpace(), 65535) / seg) * seg || Math.min(this.rcvSpace(), 65535);
    this.rcvAdv = seqAdd(this.rcvNxt, win);
    o.window = win;
    this.emit(o);
  }

  /** The handshake completed (our SYN acknowledged). */
  established(): void {
    this.state = TcpState.ESTABLISHED;
    this.rtxAt = 0;
    this.retries = 0;
    this.lastRecvMs = this.now();
    if (this.opts.keepalive) this.keepAt = this.now() + this.opts.keepIdle * 1000;
    this.rearm();
  }

  // ------------------------------------------------------------ the application

  /** Queue data the application wrote (the caller checked sndSpace and charged nothing yet); urgent: its last byte is (MSG_OOB). */
  write(b: Buffer, more: boolean, urgent = false): boolean {
    if (this.host.heap && !this.host.heap.tryCharge(b.length)) return false;
    this.charged += b.length;
    this.sendq.push(b);
    this.more = more;
    if (urgent && b.length > 0) {
      this.sndUrg = true;
      this.sndUp = seqAdd(this.sndUna, this.sendq.length);
    }
    this.output();
    return true;
  }

  /**
   * Up to n bytes the application reads (taken unless peek); opens the window
   * as it drains. A read stops at the urgent mark; at the mark an urgent byte
   * out of band is passed over (and so not read with MSG_OOB any more).
   */
  read(n: number, peek: boolean): Buffer {
    let skip = 0;
    if (this.urgData) {
      const off = seqDiff(this.urgSeq, this.copiedSeq);
      if (off > 0) n = Math.min(n, off);
      else if (off === 0 && !this.opts.oobinline) skip = 1;
    }
    const before = this.rcvWindowToAdvertise();
    let b: Buffer;
    if (skip && peek) b = this.recvq.read(n + 1, true).subarray(1);
    else {
      if (skip) this.recvq.read(1, false);
      b = this.recvq.read(n, peek);
    }
    if (!peek && this.urgData && seqLT(this.urgSeq, this.copiedSeq)) this.urgData = 0;
    if (!peek && b.length + skip) {
      this.uncharge(b.length + skip);
      // Tell the peer the window opened when it grew enough to matter (RFC 9293's receiver SWS rule).
      const after = this.rcvWindowToAdvertise();
      // An ACK held back is sent once the reader emptied the queue (as Linux's tcp_cleanup_rbuf): the sender may be waiting on it (Nagle).
      const drained = this.ackPending && this.recvq.length === 0;
      if (this.synchronized && (drained || after - before >= Math.min(2 * this.mss, this.opts.rcvLimit >> 1) || (before === 0 && after > 0))) this.sendAck();
    }
    return b;
  }

  /** A newer urgent mark came while the reader stands on the old urgent byte: that byte is dropped unread. */
  skipUrgentByte(): void {
    this.recvq.read(1, false);
    this.uncharge(1);
  }

  /** shutdown(SHUT_WR) or close(): a FIN after the queued data. */
  shutdownWrite(): void {
    if (this.finQueued) return;
    switch (this.state) {
      case TcpState.SYN_SENT:
        this.close();
        return;
      case TcpState.SYN_RECV:
      case TcpState.ESTABLISHED:
        this.finQueued = true;
        if (this.state === TcpState.ESTABLISHED) this.state = TcpState.FIN_WAIT1;
        break;
      case TcpState.CLOSE_WAIT:
        this.finQueued = true;
        this.state = TcpState.LAST_ACK;
        break;
      default:
        return;
    }
    this.more = false;
    this.opts.cork = false;
    this.output();
  }

  /** close(2) of the socket: abort if data is left unread (RFC 2525) or SO_LINGER 0 asked it, else a graceful FIN. */
  applicationClose(abort: boolean): void {
    this.orphan = true;
    this.owner = null;
    if (this.state === TcpState.CLOSE || this.state === TcpState.TIME_WAIT) return;
    if (abort || this.recvq.length > 0 || this.state === TcpState.SYN_SENT) {
      if (this.recvq.length > 0) count(this.host.counters, 'TCPAbortOnClose');
      this.abort();
      return;
    }
    this.shutdownWrite();
    if (this.state === TcpState.FIN_WAIT2) this.endAt = this.now() + FIN_TIMEOUT_MS;
    this.rearm();
  }

  /** Send RST and drop the connection. */
  abort(): void {
    if (this.synchronized || this.state === TcpState.SYN_RECV) {
      this.emit(segment(this.lport, this.rport, this.sndNxt, this.rcvNxt, RST | ACK, 0));
      count(this.host.counters, 'TcpOutRsts');
    }
    this.close();
  }

  /** The connection is gone (CLOSED): timers off, memory back, out of the tables. */
  close(err = 0): void {
    if (err) {
      this.err = err;
      this.reset = err;
    }
    const was = this.state;
    this.state = TcpState.CLOSE;
    this.timer.cancel();
    this.rtxAt = this.persistAt = this.delackAt = this.keepAt = this.endAt = this.corkAt = 0;
    this.sendq.clear();
    this.ooo.clear();
    if (this.orphan) this.recvq.clear();
    this.uncharge(this.charged - (this.orphan ? 0 : this.recvq.length));
    if (was !== TcpState.CLOSE) this.host.remove(this);
    if (this.parent && this.parent.childGone) this.parent.childGone(this);
    this.owner?.wake();
  }

  /** The socket is gone and nothing is left to read: the rest of the memory goes back. */
  released(): void {
    this.recvq.clear();
    this.uncharge(this.charged);
  }

  /** Heap charged for bytes not kept after all. */
  giveBack(n: number): void {
    this.uncharge(n);
  }

  private uncharge(n: number): void {
    n = Math.min(n, this.charged);
    this.charged -= n;
    this.host.heap?.uncharge(n);
  }

  /** Charge n received bytes; false when the sandbox's budget is spent (the segment is dropped, the peer sends it again). */
  chargeRecv(n: number): boolean {
    if (this.host.heap && !this.host.heap.tryCharge(n)) return false;
    this.charged += n;
    return true;
  }

  // ------------------------------------------------------------ receive window

  rcvSpace(): number {
    return Math.max(0, this.opts.rcvLimit - this.recvq.length - this.ooo.bytes);
  }

  /** The window we would offer now: free space, not less than what we already promised, 0 below one MSS (silly window avoidance). */
  rcvWindowToAdvertise(): number {
    let win = this.rcvSpace();
    if (win < Math.min(this.advMss, this.opts.rcvLimit >> 1)) win = 0;
    win = Math.floor(win / (1 << this.rcvWscale)) * (1 << this.rcvWscale);
    win = Math.min(win, 65535 * (1 << this.rcvWscale));
    const promised = seqDiff(this.rcvAdv, this.rcvNxt);
    return Math.max(win, promised);
  }

  // ------------------------------------------------------------ output

  private emit(seg: TcpSegment): void {
    this.segsOut++;
    this.lastSendMs = this.now();
    if (seg.flags & ACK) {
      this.ackPending = false;
      this.segsUnacked = 0;
      this.delackAt = 0;
    }
    this.host.transmit(this, seg);
  }

  /** A segment carrying [seq, seq+len) of the send queue (and the FIN when fin), with the current ACK and window. */
  private sendData(seq: number, len: number, fin: boolean): void {
    const win = this.rcvWindowToAdvertise();
    const o = segment(this.lport, this.rport, seq, this.rcvNxt, ACK | (fin ? FIN : 0) | (len > 0 ? PSH : 0), win >>> this.rcvWscale);
    if (len > 0) o.data = this.sendq.slice(seqDiff(seq, this.sndUna), len);
    if (this.sndUrg && seqLT(seq, this.sndUp)) {
      // The pointer is 16 bits: one further ahead points as far as it can (RFC 6093).
      o.flags |= URG;
      o.urgent = Math.min(seqDiff(this.sndUp, seq), 0xffff);
    }
    this.stamp(o);
    this.rcvAdv = seqAdd(this.rcvNxt, win);
    this.emit(o);
  }

  /** A bare ACK now (with SACK blocks when out-of-order data is held). */
  sendAck(recentSeq: number | null = null): void {
    if (this.state === TcpState.CLOSE || this.state === TcpState.SYN_SENT || this.state === TcpState.LISTEN) return;
    if (this.state === TcpState.SYN_RECV) {
      this.sendSyn(true);
      return;
    }
    const win = this.rcvWindowToAdvertise();
    const o = segment(this.lport, this.rport, this.sndNxt, this.rcvNxt, ACK, win >>> this.rcvWscale);
    this.stamp(o);
    if (this.sackOk && !this.ooo.empty) o.sack = this.ooo.sackBlocks(recentSeq);
    this.rcvAdv = seqAdd(this.rcvNxt, win);
    this.emit(o);
  }

  /** The timestamp option on a segment, when the connection uses timestamps. */
  private stamp(o: TcpSegment): void {
    if (!this.tsOk) return;
    o.ts = true;
    o.tsVal = this.tsNow();
    o.tsEcr = this.tsRecent;
  }

  /** Data arrived: acknowledge at once (every second full segment, quick-ACK mode, or asked), else within DELACK_MS. */
  scheduleAck(now: boolean): void {
    this.ackPending = true;
    this.segsUnacked++;
    if (now || this.quickAcks > 0 || this.segsUnacked >= 2) {
      if (this.quickAcks > 0) this.quickAcks--;
      // output() may carry the ACK on data; if it sends nothing, a bare one.
      this.output();
      if (this.ackPending) this.sendAck();
      return;
    }
    if (!this.delackAt) {
      this.delackAt = this.now() + DELACK_MS;
      this.rearm();
    }
  }

  /** Send what the windows, Nagle and TCP_CORK allow, and the FIN when it is due. */
  output(): void {
    const s = this.state;
    if (s !== TcpState.ESTABLISHED && s !== TcpState.CLOSE_WAIT && s !== TcpState.FIN_WAIT1 && s !== TcpState.LAST_ACK && s !== TcpState.CLOSING) return;
    for (;;) {
      const off = seqDiff(this.sndNxt, this.sndUna);
      const avail = this.sendq.length - off;
      const wnd = Math.min(this.sndWnd, this.cwnd);
      const room = wnd - off;
      const mss = this.sendMss;
      const len = Math.max(0, Math.min(avail, mss, room));
      const fin = this.finQueued && !this.finSent && len === avail;
      if (len === 0 && !fin) break;
      if (len < mss && !fin) {
        if (len < avail) {
          // Held back by the window: a small piece only when nothing is in flight (sender SWS avoidance).
          if (this.sndNxt !== this.sndUna) break;
        } else if (this.sndUrg) {
          // Urgent data goes at once, whatever TCP_CORK, MSG_MORE and Nagle say (as Linux).
        } else if ((this.opts.cork || this.more) && !this.flushPartial) {
          // TCP_CORK (and MSG_MORE) hold a partial segment, at most CORK_MS.
          if (!this.corkAt) this.corkAt = this.now() + CORK_MS;
          break;
        } else if (!this.opts.nodelay && this.sndNxt !== this.sndUna && !this.flushPartial) {
          break; // Nagle: one partial segment in flight at a time
        }
      }
      this.corkAt = 0;
      const seq = this.sndNxt;
      this.sendData(seq, len, fin);
      if (fin) {
        this.finSent = true;
        this.finSeq = seqAdd(seq, len);
      }
      this.sndNxt = seqAdd(seq, len + (fin ? 1 : 0));
      if (seqLT(this.sndMax, this.sndNxt)) {
        this.sndMax = this.sndNxt;
        if (this.rttSeq === null && !this.tsOk) {
          this.rttSeq = seq;
          this.rttStart = this.now();
        }
      } else {
        this.totalRetrans++;
      }
      if (!this.rtxAt) this.rtxAt = this.now() + this.rto;
      this.persistAt = 0;
      if (fin) break;
    }
    // Nothing in flight and a closed window: probe it.
    if (this.sendq.length > seqDiff(this.sndNxt, this.sndUna) && this.sndNxt === this.sndUna && this.sndWnd === 0 && !this.persistAt) {
      this.persistAt = this.now() + Math.min(this.rto * (1 << this.persistBackoff), RTO_MAX);
    }
    this.rearm();
  }

  // ------------------------------------------------------------ acknowledgements

  /** A new ACK took [sndUna, ack) off the send queue. */
  ackedUpTo(ack: number, seg: TcpSegment): void {
    let acked = seqDiff(ack, this.sndUna);
    if (this.finSent && seqLT(this.finSeq, ack)) acked--; // the FIN
    const data = Math.min(acked, this.sendq.length);
    this.sendq.drop(data);
    this.uncharge(data);
    this.bytesAcked += data;
    this.sndUna = ack;
    if (seqLT(this.sndNxt, ack)) this.sndNxt = ack;
    if (this.sndUrg && seqLE(this.sndUp, ack)) this.sndUrg = false;
    this.retries = 0;
    this.persistBackoff = 0;
    // RTT: from the echoed timestamp, else from the one timed segment (Karn: never a retransmitted one).
    if (this.tsOk && seg.ts && seg.tsEcr) this.rttSample(seqDiff(this.tsNow(), seg.tsEcr));
    else if (this.rttSeq !== null && seqLT(this.rttSeq, ack)) {
      this.rttSample(this.now() - this.rttStart);
      this.rttSeq = null;
    }
    this.congestionOnAck(ack, data);
    this.rtxAt = this.sndUna === this.sndMax ? 0 : this.now() + this.rto;
    this.dupAcks = 0;
    this.rearm();
  }

  private rttSample(ms: number): void {
    if (ms < 0) return;
    if (this.srtt === 0) {
      this.srtt = ms;
      this.rttvar = ms / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - ms);
      this.srtt = 0.875 * this.srtt + 0.125 * ms;
    }
    this.rto = Math.min(RTO_MAX, Math.max(RTO_MIN, this.srtt + Math.max(1, 4 * this.rttvar)));
  }

  private congestionOnAck(ack: number, acked: number): void {
    if (this.inRecovery) {
      if (seqLE(this.recover, ack)) {
        // Full acknowledgement: leave fast recovery (RFC 6582 3.2 step 3).
        this.cwnd = Math.min(this.ssthresh, Math.max(this.inFlight, this.mss) + this.mss);
        this.inRecovery = false;
      } else {
        // Partial acknowledgement: the next hole is lost too; deflate by what was acked.
        this.retransmitFirst();
        this.cwnd = Math.max(this.mss, this.cwnd - acked + this.mss);
      }
      return;
    }
    if (this.cwnd < this.ssthresh) this.cwnd += Math.min(acked, this.mss);
    else this.cwnd += Math.max(1, Math.floor((this.mss * this.mss) / this.cwnd));
  }

  /** A duplicate ACK: the third starts fast retransmit (RFC 5681 3.2), later ones inflate the window. */
  duplicateAck(): void {
    this.dupAcks++;
    count(this.host.counters, 'TCPDupAcks');
    if (this.inRecovery) {
      this.cwnd += this.mss;
      this.output();
      return;
    }
    if (this.dupAcks === 3 && seqLT(this.recover, this.sndUna) || this.dupAcks === 3 && this.recover === 0) {
      this.ssthresh = Math.max(this.inFlight >> 1, 2 * this.mss);
      this.recover = this.sndMax;
      this.inRecovery = true;
      count(this.host.counters, 'TCPFastRetrans');
      this.retransmitFirst();
      this.cwnd = this.ssthresh + 3 * this.mss;
      this.output();
    }
  }

  /** Send again the first unacknowledged segment. */
  private retransmitFirst(): void {
    const outstanding = seqDiff(this.sndMax, this.sndUna);
    if (outstanding <= 0) return;
    const dataLeft = this.sendq.length;
    const len = Math.min(this.mss, dataLeft);
    const fin = this.finSent && len === dataLeft && seqLE(seqAdd(this.sndUna, len), this.finSeq);
    this.sendData(this.sndUna, len, fin && seqAdd(this.sndUna, len) === this.finSeq);
    this.totalRetrans++;
    count(this.host.counters, 'TcpRetransSegs');
  }

  // ------------------------------------------------------------ timers

  private rearm(): void {
    let at = 0;
    for (const d of [this.rtxAt, this.persistAt, this.delackAt, this.keepAt, this.endAt, this.corkAt]) if (d && (!at || d < at)) at = d;
    if (at) this.timer.arm(at);
    else this.timer.cancel();
  }

  onTimer(): void {
    const now = this.now();
    if (this.endAt && now >= this.endAt) {
      this.endAt = 0;
      if (this.state === TcpState.TIME_WAIT || this.orphan) {
        this.close();
        return;
      }
      if (this.parent && this.parent.childReady) this.parent.childReady(this); // TCP_DEFER_ACCEPT ran out
    }
    if (this.rtxAt && now >= this.rtxAt) {
      this.rtxAt = 0;
      this.retransmitTimeout();
      if (this.state === TcpState.CLOSE) return;
    }
    if (this.persistAt && now >= this.persistAt) {
      this.persistAt = 0;
      this.persistBackoff = Math.min(this.persistBackoff + 1, 10);
      this.probe();
      this.persistAt = now + Math.min(this.rto * (1 << this.persistBackoff), RTO_MAX);
    }
    if (this.delackAt && now >= this.delackAt) {
      this.delackAt = 0;
      if (this.ackPending) {
        count(this.host.counters, 'DelayedACKs'); // an ACK the timer sent (netstat -s: "delayed acks sent")
        this.sendAck();
      }
    }
    if (this.corkAt && now >= this.corkAt) {
      this.corkAt = 0;
      count(this.host.counters, 'TcpCorkTimeouts'); // a partial segment TCP_CORK, MSG_MORE held until the timer

      this.flushPartial = true;
      this.output();
      this.flushPartial = false;
    }
    if (this.keepAt && now >= this.keepAt) this.keepaliveTimer(now);
    if (this.state !== TcpState.CLOSE) this.rearm();
  }

  private retransmitTimeout(): void {
    const limit = this.state === TcpState.SYN_SENT ? SYN_RETRIES : this.state === TcpState.SYN_RECV ? SYNACK_RETRIES : RETRIES2;
    if (this.retries >= limit) {
      count(this.host.counters, 'TCPTimeouts');
      if (this.state === TcpState.SYN_RECV) this.close();
      else this.close(E.ETIMEDOUT);
      return;
    }
    this.retries++;
    this.rto = Math.min(this.rto * 2, RTO_MAX);
    this.rttSeq = null;
    count(this.host.counters, 'TcpRetransSegs');
    this.totalRetrans++;
    if (this.state === TcpState.SYN_SENT) {
      this.sendSyn(false);
    } else if (this.state === TcpState.SYN_RECV) {
      this.sendSyn(true);
    } else {
      // RFC 5681 (4) after a timeout: one segment, slow start again from sndUna.
      this.ssthresh = Math.max(this.inFlight >> 1, 2 * this.mss);
      this.cwnd = this.mss;
      this.inRecovery = false;
      this.recover = this.sndMax;
      this.dupAcks = 0;
      this.sndNxt = this.sndUna;
      if (this.finSent && seqLE(this.sndNxt, this.finSeq)) this.finSent = false;
      this.output();
    }
    this.rtxAt = this.now() + this.rto;
  }

  /** A segment below the window (seq snd_una - 1, no data): the peer answers with an ACK carrying its window. */
  private probe(): void {
    const o = segment(this.lport, this.rport, seqAdd(this.sndUna, -1), this.rcvNxt, ACK, this.rcvWindowToAdvertise() >>> this.rcvWscale);
    this.stamp(o);
    this.emit(o);
  }

  private keepaliveTimer(now: number): void {
    this.keepAt = 0;
    if (!this.opts.keepalive || (this.state !== TcpState.ESTABLISHED && this.state !== TcpState.CLOSE_WAIT)) return;
    const idle = now - this.lastRecvMs;
    if (idle < this.opts.keepIdle * 1000 && this.probesOut === 0) {
      this.keepAt = this.lastRecvMs + this.opts.keepIdle * 1000;
      return;
    }
    if (this.probesOut >= this.opts.keepCnt) {
      this.abort();
      this.err = this.reset = E.ETIMEDOUT;
      this.owner?.wake();
      return;
    }
    this.probesOut++;
    count(this.host.counters, 'TCPKeepAlive');
    this.probe();
    this.keepAt = now + this.opts.keepIntvl * 1000;
  }

  /** Any segment from the peer: it is alive. */
  heard(): void {
    this.segsIn++;
    this.lastRecvMs = this.now();
    if (this.probesOut) this.probesOut = 0;
    if (this.opts.keepalive && this.synchronized) this.keepAt = this.lastRecvMs + this.opts.keepIdle * 1000;
  }

  /** Keepalive settings changed. */
  keepaliveChanged(): void {
    this.keepAt = this.opts.keepalive && this.synchronized ? this.lastRecvMs + this.opts.keepIdle * 1000 : 0;
    this.rearm();
  }

  enterTimeWait(): void {
    this.state = TcpState.TIME_WAIT;
    this.rtxAt = this.persistAt = this.keepAt = this.corkAt = 0;
    this.sendq.clear();
    this.endAt = this.now() + TIME_WAIT_MS;
    this.rearm();
  }

  finWait2(): void {
    this.state = TcpState.FIN_WAIT2;
    if (this.orphan) this.endAt = this.now() + FIN_TIMEOUT_MS;
    this.rearm();
  }

  /** TCP_DEFER_ACCEPT: the limit for an established child without data. */
  deferUntil(ms: number): void {
    this.endAt = ms;
    this.rearm();
  }
}

export const connKey = (lip: Ip, lport: number, rip: Ip, rport: number): string => `${lip}:${lport}:${rip}:${rport}`;
