// A segment arrives at a connection (RFC 9293 3.10.7.3 and 3.10.7.4, with
// RFC 5961's challenge ACKs): the SYN-SENT handshake, the acceptability test
// against the receive window, RST and SYN in a synchronized state, the ACK
// (new data acknowledged, duplicate ACKs, window updates), the data (in order
// to the receive queue, beyond a hole to the out-of-order queue) and the FIN
// with the state changes it makes.
import { E } from '../../abi/errno';
import { TcpState } from '../../abi/inet';
import { count } from '../ip/ip';
import { ACK, FIN, RST, SYN, URG, segment, seqAdd, seqDiff, seqLE, seqLT, type TcpSegment } from './segment';
import { URG_NOTYET, URG_VALID } from './params';
import type { Tcb } from './tcb';

/** What the stack does for a segment no connection takes: a RST unless it is one (RFC 9293's CLOSED state). */
export function resetFor(seg: TcpSegment): { seq: number; ack: number; flags: number } | null {
  if (seg.flags & RST) return null;
  if (seg.flags & ACK) return { seq: seg.ack, ack: 0, flags: RST };
  const len = seg.data.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
  return { seq: 0, ack: seqAdd(seg.seq, len), flags: RST | ACK };
}

export function tcpInput(c: Tcb, seg: TcpSegment): void {
  c.heard();
  if (c.state === TcpState.SYN_SENT) return synSent(c, seg);
  if (c.state === TcpState.CLOSE) return;

  // Timestamps: remember the peer's clock for our echoes (RFC 7323 4.3, simplified: at or before rcv_nxt).
  if (c.tsOk && seg.ts && seqLE(seg.seq, c.rcvNxt)) c.tsRecent = seg.tsVal;

  const segLen = seg.data.length + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);
  const wnd = Math.max(0, seqDiff(c.rcvAdv, c.rcvNxt));
  if (!acceptable(c.rcvNxt, wnd, seg.seq, segLen)) {
    if (!(seg.flags & RST)) {
      count(c.host.counters, 'TCPOutOfWindow');
      // A retransmitted FIN in TIME_WAIT restarts it (RFC 9293).
      if (c.state === TcpState.TIME_WAIT && seg.flags & FIN) c.enterTimeWait();
      c.sendAck();
    }
    return;
  }

  if (seg.flags & RST) {
    if (seg.seq !== c.rcvNxt) {
      c.sendAck(); // RFC 5961 3.2: a RST in the window but not exact gets a challenge ACK
      return;
    }
    count(c.host.counters, 'TcpEstabResets');
    if (c.state === TcpState.SYN_RECV) c.close();
    else if (c.state === TcpState.TIME_WAIT || c.state === TcpState.LAST_ACK || c.state === TcpState.CLOSING) c.close();
    else c.close(c.state === TcpState.CLOSE_WAIT ? E.EPIPE : E.ECONNRESET);
    return;
  }

  if (seg.flags & SYN) {
    c.sendAck(); // RFC 5961 4.2: a SYN in a synchronized state
    return;
  }
  if (!(seg.flags & ACK)) return;

  // The ACK.
  if (c.state === TcpState.SYN_RECV) {
    if (seqLT(seg.ack, seqAdd(c.sndUna, 1)) || seqLT(c.sndMax, seg.ack)) {
      c.host.transmit(c, segment(c.lport, c.rport, seg.ack, 0, RST, 0));
      return;
    }
    c.sndWnd = seg.window << c.sndWscale;
    c.maxSndWnd = Math.max(c.maxSndWnd, c.sndWnd);
    c.sndWl1 = seg.seq;
    c.sndWl2 = seg.ack;
    c.sndUna = seqAdd(c.sndUna, 1);
    c.established();
    if (c.finQueued) c.state = TcpState.FIN_WAIT1;
    readyToAccept(c, seg.data.length > 0);
  }
  processAck(c, seg);
  if ((c.state as TcpState) === TcpState.CLOSE) return;

  // The data and the FIN.
  if (c.state === TcpState.ESTABLISHED || c.state === TcpState.FIN_WAIT1 || c.state === TcpState.FIN_WAIT2) {
    if (seg.data.length > 0 && c.orphan) {
      // Nobody will read it: the peer learns at once (Linux resets on data after close).
      c.abort();
      return;
    }
    if (seg.flags & URG || c.urgData === URG_NOTYET) urgent(c, seg);
    receiveData(c, seg);
  } else if (seg.flags & FIN && (c.state === TcpState.TIME_WAIT)) {
    c.sendAck();
    c.enterTimeWait();
  }
}

function acceptable(rcvNxt: number, wnd: number, seq: number, len: number): boolean {
  const inWin = (s: number): boolean => seqLE(rcvNxt, s) && seqLT(s, seqAdd(rcvNxt, wnd));
  if (len === 0) return wnd === 0 ? seq === rcvNxt : inWin(seq);
  if (wnd === 0) return false;
  return inWin(seq) || inWin(seqAdd(seq, len - 1));
}

function synSent(c: Tcb, seg: TcpSegment): void {
  if (seg.flags & ACK && (seqLE(seg.ack, c.iss) || seqLT(c.sndMax, seg.ack))) {
    if (!(seg.flags & RST)) c.host.transmit(c, segment(c.lport, c.rport, seg.ack, 0, RST, 0));
    return;
  }
  if (seg.flags & RST) {
    if (seg.flags & ACK) {
      count(c.host.counters, 'TcpAttemptFails');
      c.close(E.ECONNREFUSED);
    }
    return;
  }
  if (!(seg.flags & SYN)) return;
  c.irs = seg.seq;
  c.rcvNxt = seqAdd(seg.seq, 1);
  c.rcvAdv = c.rcvNxt;
  c.negotiate(seg);
  if (seg.flags & ACK) {
    c.sndUna = seg.ack;
    c.sndWnd = seg.window; // a SYN's window is not scaled
    c.maxSndWnd = c.sndWnd;
    c.sndWl1 = seg.seq;
    c.sndWl2 = seg.ack;
    if (c.tsOk && seg.tsEcr) c.ackedUpTo(seg.ack, seg);
    c.established();
    count(c.host.counters, 'TcpActiveOpens');
    c.sendAck();
    c.output();
    c.owner?.wake();
    return;
  }
  // Simultaneous open.
  c.state = TcpState.SYN_RECV;
  c.sendAck();
}

/** A passive connection became established: the listener hears of it now, or with TCP_DEFER_ACCEPT when data comes. */
function readyToAccept(c: Tcb, hasData: boolean): void {
  if (!c.parent) {
    c.owner?.wake(); // simultaneous open
    return;
  }
  if (c.opts.deferAccept > 0 && !hasData) {
    c.deferUntil(c.host.nowMs() + c.opts.deferAccept * 1000);
    return;
  }
  c.parent.childReady?.(c);
}

function processAck(c: Tcb, seg: TcpSegment): void {
  const ack = seg.ack;
  if (seqLT(c.sndMax, ack)) {
    // Acknowledges what was never sent: answer with an ACK and drop (RFC 9293).
    c.sendAck();
    return;
  }
  const win = seg.window << c.sndWscale;
  if (seqLT(c.sndUna, ack)) {
    c.ackedUpTo(ack, seg);
    c.owner?.wake();
  } else if (ack === c.sndUna && seg.data.length === 0 && !(seg.flags & FIN) && win === c.sndWnd && c.sndUna !== c.sndMax) {
    c.duplicateAck();
  }
  // The send window, from the newest segment (RFC 9293 SND.WL1/WL2).
  if (seqLT(c.sndWl1, seg.seq) || (c.sndWl1 === seg.seq && seqLE(c.sndWl2, ack))) {
    const opened = win > c.sndWnd;
    c.sndWnd = win;
    c.maxSndWnd = Math.max(c.maxSndWnd, win);
    c.sndWl1 = seg.seq;
    c.sndWl2 = ack;
    if (opened) c.output();
  }
  const finAcked = c.finSent && seqLT(c.finSeq, c.sndUna);
  switch (c.state) {
    case TcpState.FIN_WAIT1:
      if (finAcked) c.finWait2();
      break;
    case TcpState.CLOSING:
      if (finAcked) c.enterTimeWait();
      break;
    case TcpState.LAST_ACK:
      if (finAcked) c.close();
      return;
    default:
      break;
  }
  c.output();
}

/**
 * The urgent pointer (RFC 9293 3.10.7.4 step 6, as Linux reads it: it points
 * one past the urgent byte, RFC 6093). A newer mark than the one held
 * replaces it (the older byte becomes ordinary data, unless the reader stands
 * on it: then it is passed over), the owner hears of it (SIGURG), and the
 * byte is taken when the segment carrying it arrives; it stays in the stream,
 * where reads pass over it unless SO_OOBINLINE.
 */
function urgent(c: Tcb, seg: TcpSegment): void {
  if (seg.flags & URG) {
    const ptr = seqAdd(seg.seq, seg.urgent ? seg.urgent - 1 : 0);
    // Not one already read, not one behind what arrived in order (never seen again), not an older or the same mark.
    if (!seqLT(ptr, c.copiedSeq) && !seqLT(ptr, c.rcvNxt) && !(c.urgData && seqLE(ptr, c.urgSeq))) {
      c.owner?.urgent?.();
      if (c.urgData && c.urgSeq === c.copiedSeq && !c.opts.oobinline && c.recvq.length > 0) c.skipUrgentByte();
      c.urgData = URG_NOTYET;
      c.urgSeq = ptr;
    }
  }
  if (c.urgData === URG_NOTYET) {
    const off = seqDiff(c.urgSeq, seg.seq);
    if (off >= 0 && off < seg.data.length) {
      c.urgData = URG_VALID | seg.data[off];
      c.owner?.wake();
    }
  }
}

function receiveData(c: Tcb, seg: TcpSegment): void {
  let seq = seg.seq;
  let data = seg.data;
  let fin = (seg.flags & FIN) !== 0;
  // Trim what was received already, and what lies beyond the window.
  if (seqLT(seq, c.rcvNxt)) {
    const cut = seqDiff(c.rcvNxt, seq);
    data = data.subarray(Math.min(cut, data.length));
    seq = c.rcvNxt;
  }
  const wnd = Math.max(0, seqDiff(c.rcvAdv, c.rcvNxt));
  const room = wnd - seqDiff(seq, c.rcvNxt);
  if (data.length > room) {
    data = data.subarray(0, Math.max(0, room));
    fin = false;
  }
  if (data.length > 0) {
    if (!c.chargeRecv(data.length)) {
      count(c.host.counters, 'TCPRcvQDrop');
      c.sendAck();
      return;
    }
    c.bytesReceived += data.length;
    if (seq === c.rcvNxt) {
      c.recvq.push(data);
      // As if every segment were coalesced into the last one queued (loopback's case on Linux): reads report the newest arrival.
      if (c.stampNow) c.recvStampNs = c.stampNow();
      c.rcvNxt = seqAdd(c.rcvNxt, data.length);
      const filledHole = !c.ooo.empty;
      if (filledHole) {
        const { parts, dropped } = c.ooo.takeFrom(c.rcvNxt);
        if (dropped) c.giveBack(dropped);
        for (const d of parts) {
          c.recvq.push(d);
          c.rcvNxt = seqAdd(c.rcvNxt, d.length);
        }
        if (c.ooo.finSeq !== null && c.ooo.finSeq === c.rcvNxt) fin = true;
      }
      if (!fin) c.scheduleAck(filledHole);
    } else {
      const added = c.ooo.insert(seq, data);
      // The queue keeps only new bytes: give back the charge for the rest.
      if (added < data.length) c.giveBack(data.length - added);
      count(c.host.counters, 'TCPOFOQueue');
      if (fin) c.ooo.finSeq = seqAdd(seq, data.length);
      c.sendAck(seq); // a duplicate ACK at once, with SACK blocks (RFC 5681 4.2)
      c.owner?.wake();
      return;
    }
    if (c.parent && c.state === TcpState.ESTABLISHED) c.parent.childReady?.(c);
  } else if (fin && seq !== c.rcvNxt) {
    c.ooo.finSeq = seq;
    c.sendAck();
    return;
  }
  if (fin) {
    c.rcvNxt = seqAdd(c.rcvNxt, 1);
    c.finReceived = true;
    c.ooo.finSeq = null;
    switch (c.state) {
      case TcpState.ESTABLISHED:
        c.state = TcpState.CLOSE_WAIT;
        break;
      case TcpState.FIN_WAIT1:
        if (c.finSent && seqLT(c.finSeq, c.sndUna)) c.enterTimeWait();
        else c.state = TcpState.CLOSING;
        break;
      case TcpState.FIN_WAIT2:
        c.enterTimeWait();
        break;
      default:
        break;
    }
    c.sendAck();
    if (c.parent && c.state === TcpState.CLOSE_WAIT) c.parent.childReady?.(c);
  }
  c.owner?.wake();
}
