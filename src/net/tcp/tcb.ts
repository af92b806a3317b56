// A TCP connection (RFC 9293) on top of its send side (send.ts): the opening
// handshake, the application's writes, reads (up to the urgent mark) and
// shutdown, closing and aborting with the memory given back, and the timers
// (retransmission timeout, persist, delayed ACK, TCP_CORK, keepalive,
// TIME_WAIT, an orphan's FIN_WAIT_2). What happens when a segment arrives is
// in input.ts.
import { E } from '../../abi/errno';
import { TcpState } from '../../abi/inet';
import type { Ip } from '../ip/addr';
import { count } from '../ip/ip';
import { FIN_TIMEOUT_MS, IW, RETRIES2, RTO_MAX, SYNACK_RETRIES, SYN_RETRIES, TIME_WAIT_MS } from './params';
import { ACK, RST, segment, seqAdd, seqDiff, seqLE, seqLT, type TcpSegment } from './segment';
import { TcbSender } from './send';

export class Tcb extends TcbSender {
  get key(): string {
    return connKey(this.local, this.lport, this.remote, this.rport);
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
    let b: Buffer;
    if (skip && peek) b = this.recvq.read(n + 1, true).subarray(1);
    else {
      if (skip) this.recvq.read(1, false);
      b = this.recvq.read(n, peek);
    }
    if (!peek && this.urgData && seqLT(this.urgSeq, this.copiedSeq)) this.urgData = 0;
    if (!peek && b.length + skip) {
      this.uncharge(b.length + skip);
      // Tell the peer the window opened when what it may still send is at most half the buffer and the window now is at least twice that
      // (Linux's tcp_cleanup_rbuf): a window update per read would be one more frame for every read.
      const shown = Math.max(0, seqDiff(this.rcvAdv, this.rcvNxt));
      const now = this.rcvWindowToAdvertise();
      const opened = 2 * shown <= this.opts.rcvLimit && now > 0 && now >= 2 * shown;
      // An ACK held back is sent once the reader emptied the queue (as Linux's tcp_cleanup_rbuf): the sender may be waiting on it (Nagle).
      const drained = this.ackPending && this.recvq.length === 0;
      if (this.synchronized && (drained || opened)) this.sendAck();
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

  /** Charge n received bytes; false when the sandbox's budget is spent (the segment is dropped, the peer sends it again). */
  chargeRecv(n: number): boolean {
    if (this.host.heap && !this.host.heap.tryCharge(n)) return false;
    this.charged += n;
    return true;
  }

  // ------------------------------------------------------------ timers

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
