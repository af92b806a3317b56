// struct tcp_info (TCP_INFO), laid out as in the uapi header linux/tcp.h:
// the fields the stack keeps are filled in, the others are 0.
import { TCP_INFO_SIZE, TcpState } from '../../abi/inet';
import type { Listener } from './listener';
import type { Tcb } from './tcb';

export function tcpInfo(c: Tcb | null, l: Listener | null, nowMs: number): Buffer {
  const b = Buffer.alloc(TCP_INFO_SIZE);
  if (l) {
    b[0] = TcpState.LISTEN;
    b.writeUInt32LE(l.acceptQ.length, 24); // tcpi_unacked: the accept queue, as Linux reports it for a listener
    b.writeUInt32LE(l.backlog, 28); // tcpi_sacked: the backlog
    return b;
  }
  if (!c) {
    b[0] = TcpState.CLOSE;
    return b;
  }
  const us = (ms: number): number => Math.min(0xffffffff, Math.round(ms * 1000));
  b[0] = c.state;
  b[1] = c.inRecovery ? 3 : 0; // TCP_CA_Recovery or TCP_CA_Open
  b[2] = c.retries;
  b[4] = c.retries;
  b[5] = (c.tsOk ? 1 : 0) | (c.sackOk ? 2 : 0) | (c.wsOk ? 4 : 0); // TCPI_OPT_TIMESTAMPS, _SACK, _WSCALE
  b[6] = (c.sndWscale & 0xf) | ((c.rcvWscale & 0xf) << 4);
  b.writeUInt32LE(us(c.rto), 8);
  b.writeUInt32LE(40000, 12); // tcpi_ato: the delayed ACK timeout
  b.writeUInt32LE(c.mss, 16);
  b.writeUInt32LE(c.mss, 20);
  b.writeUInt32LE(Math.ceil(Math.max(0, c.inFlight) / Math.max(1, c.mss)), 24);
  b.writeUInt32LE(c.totalRetrans, 36);
  b.writeUInt32LE(Math.max(0, Math.round(nowMs - c.lastSendMs)), 44);
  b.writeUInt32LE(Math.max(0, Math.round(nowMs - c.lastRecvMs)), 52);
  b.writeUInt32LE(Math.max(0, Math.round(nowMs - c.lastRecvMs)), 56);
  b.writeUInt32LE(65536, 60); // tcpi_pmtu: loopback
  b.writeUInt32LE(c.opts.rcvLimit, 64);
  b.writeUInt32LE(us(c.srtt), 68);
  b.writeUInt32LE(us(c.rttvar), 72);
  b.writeUInt32LE(Math.min(c.ssthresh, 0x7fffffff) === 0x7fffffff ? 0x7fffffff : Math.floor(c.ssthresh / c.mss), 76);
  b.writeUInt32LE(Math.floor(c.cwnd / Math.max(1, c.mss)), 80);
  b.writeUInt32LE(c.advMss, 84);
  b.writeUInt32LE(3, 88); // tcpi_reordering: tcp_reordering's default
  b.writeUInt32LE(c.opts.rcvLimit, 96);
  b.writeUInt32LE(c.totalRetrans, 100);
  b.writeBigUInt64LE(BigInt(c.bytesAcked), 120);
  b.writeBigUInt64LE(BigInt(c.bytesReceived), 128);
  b.writeUInt32LE(c.segsOut >>> 0, 136);
  b.writeUInt32LE(c.segsIn >>> 0, 140);
  b.writeUInt32LE(Math.max(0, c.sendq.length - Math.max(0, c.inFlight)), 144);
  b.writeUInt32LE(c.sndWnd >>> 0, 228);
  return b;
}
