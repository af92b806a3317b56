// A TCP connection's state and its send side (RFC 9293): segmentation with
// Nagle, TCP_CORK and MSG_MORE, the window it advertises, ACKs (delayed or
// at once), acknowledgements taken off the send queue with the RTT estimate
// and retransmission timer of RFC 6298, NewReno congestion control (RFC 5681
// and 6582) with fast retransmit, and window probes. The Tcb (tcb.ts) adds
// opening, the application's calls, closing and the timers.
import { E } from '../../abi/errno';
import { TcpState } from '../../abi/inet';
import type { Ip } from '../ip/addr';
import { count } from '../ip/ip';
import { OooQueue, RecvQueue, SendQueue } from './buffers';
import type { NetTimer, TcbOwner, TcpHost, TimerTarget } from './host';
import { CORK_MS, TSO_WIN_DIVISOR, DELACK_MS, RCV_WSCALE, RTO_INIT, RTO_MAX, RTO_MIN, TCB_COST, type TcbOptions } from './params';
import { ACK, FIN, PSH, SYN, URG, segment, seqAdd, seqDiff, seqLE, seqLT, type TcpSegment } from './segment';
export abstract class TcbSender implements TimerTarget {
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
  /** The interface the connection is tied to (its socket's SO_BINDTODEVICE or link-local scope; 0: routed freely). */
  oif = 0;
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
  /** Realtime ns of the last data queued for reading, kept while the socket wants receive stamps (stampNow set; socket/timestamp.ts); 0 otherwise. */
  recvStampNs = 0;
  stampNow: (() => number) | null = null;
  readonly ooo = new OooQueue();
  finReceived = false;
  /** The urgent byte (see URG_*) and its sequence number; 0: none. */
  urgData = 0;
  urgSeq = 0;
  /** Data bytes received and not acknowledged, segments since the last ACK, quick ACKs left. */
  protected ackPending = false;
  protected segsUnacked = 0;
  protected quickAcks = 16;

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
  protected rttSeq: number | null = null;
  protected rttStart = 0;
  retries = 0;
  totalRetrans = 0;

  // Timers: deadlines in ms, 0 when off; one host timer at the earliest.
  protected readonly timer: NetTimer;
  protected rtxAt = 0;
  protected persistAt = 0;
  protected persistBackoff = 0;
  protected delackAt = 0;
  protected keepAt = 0;
  protected probesOut = 0;
  /** TIME_WAIT's end, an orphan's FIN_WAIT_2 limit, or a deferred child's limit. */
  protected endAt = 0;
  protected corkAt = 0;
  /** Send a partial segment now whatever TCP_CORK, MSG_MORE and Nagle say (the cork's time ran out, or uncorked). */
  flushPartial = false;
  lastRecvMs = 0;
  lastSendMs = 0;
  // Statistics for TCP_INFO.
  segsIn = 0;
  segsOut = 0;
  bytesAcked = 0;
  bytesReceived = 0;
  protected charged = 0;

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
  /** The NIC's segmentation offload limit toward the peer (asked once; 0: none). */
  private gso = -1;
  private get gsoLimit(): number {
    if (this.gso < 0) {
      try {
        this.gso = this.host.gsoMax?.(this.remote, this.oif) ?? 0;
      } catch {
        this.gso = 0;
      }
    }
    return this.gso;
  }
  /** Bytes of IPv4 options every segment carries (IP_OPTIONS), out of the MSS. */
  private get ipOptsLen(): number {
    return this.v4 ? this.opts.ipOpts.length : 0;
  }
  /** The payload of a full segment: the MSS less the IPv4 options' room, bounded by half the largest window the peer offered (Linux's tcp_bound_to_half_wnd). */
  get sendMss(): number {
    const w = this.maxSndWnd;
    const cutoff = w > 536 ? w >> 1 : w;
    const mss = this.mss - this.ipOptsLen;
    return cutoff && mss > cutoff ? Math.max(cutoff, 68 - 20 - (this.tsOk ? 12 : 0)) : mss;
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
  protected now(): number {
    return this.host.nowMs();
  }
  protected tsNow(): number {
    return (Math.floor(this.now()) + this.tsOffset) >>> 0;
  }

  protected uncharge(n: number): void {
    n = Math.min(n, this.charged);
    this.charged -= n;
    this.host.heap?.uncharge(n);
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

  /** A SYN (or SYN-ACK, ack) with the options we offer or accepted. */
  protected sendSyn(ack: boolean): void {
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

  // ------------------------------------------------------------ output

  protected emit(seg: TcpSegment): void {
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
      let len = Math.max(0, Math.min(avail, mss, room));
      // Segmentation offload: whole segments at once, which the NIC cuts (urgent data goes as it would without).
      if (len === mss && !this.sndUrg && this.gsoLimit > mss) {
        const big = Math.min(avail, room, this.gsoLimit);
        len = big - (big % mss);
      }
      const fin = this.finQueued && !this.finSent && len === avail;
      if (len === 0 && !fin) break;
      // Segmentation offload held back by the window while data is in flight: wait for the ACKs that let a larger segment go (Linux's tcp_tso_should_defer, its window divisor 3), one host send per 64 KiB instead of one per ACK.
      if (len >= mss && len < avail && this.gsoLimit > mss && this.sndNxt !== this.sndUna && len < Math.min(this.gsoLimit - (this.gsoLimit % mss), Math.floor(wnd / TSO_WIN_DIVISOR))) break;
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
    const len = Math.min(this.mss - this.ipOptsLen, dataLeft);
    const fin = this.finSent && len === dataLeft && seqLE(seqAdd(this.sndUna, len), this.finSeq);
    this.sendData(this.sndUna, len, fin && seqAdd(this.sndUna, len) === this.finSeq);
    this.totalRetrans++;
    count(this.host.counters, 'TcpRetransSegs');
  }

  // ------------------------------------------------------------ timers

  /** One host timer, at the earliest deadline. */
  protected rearm(): void {
    let at = 0;
    for (const d of [this.rtxAt, this.persistAt, this.delackAt, this.keepAt, this.endAt, this.corkAt]) if (d && (!at || d < at)) at = d;
    if (at) this.timer.arm(at);
    else this.timer.cancel();
  }

  /** A segment below the window (seq snd_una - 1, no data): the peer answers with an ACK carrying its window. */
  protected probe(): void {
    const o = segment(this.lport, this.rport, seqAdd(this.sndUna, -1), this.rcvNxt, ACK, this.rcvWindowToAdvertise() >>> this.rcvWscale);
    this.stamp(o);
    this.emit(o);
  }

  abstract onTimer(): void;
}
