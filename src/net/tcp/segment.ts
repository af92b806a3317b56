// TCP segments (RFC 9293) as bytes: the header, the options the stack speaks
// (MSS, window scale, SACK-permitted, SACK blocks, timestamps) and the
// checksum over the pseudo-header. Parsing checks each length against the
// bytes there are: a header or option that runs past the segment drops it
// (counted); a known option of the wrong size is ignored, as Linux does.
import type { Ip } from '../ip/addr';
import { type Counters, count, checksumOf, foldSum, pseudoSum, sumBytes } from '../ip/ip';
import { IPPROTO_TCP } from '../../abi/inet';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;

export const TCP_HLEN = 20;

export interface TcpOptions {
  /** 0: none. */
  mss: number;
  /** -1: none. */
  wscale: number;
  sackOk: boolean;
  ts: boolean;
  tsVal: number;
  tsEcr: number;
  /** SACK blocks as [left, right) pairs, flattened. */
  sack: number[];
}

export interface TcpSegment extends TcpOptions {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  /** The window field as sent (not yet scaled). */
  window: number;
  urgent: number;
  data: Buffer;
}

const EMPTY = Buffer.alloc(0);

/**
 * A segment without options, to be filled in: every segment the stack builds
 * or parses is made here, with one literal, so all share one object shape.
 * (Built as `{ ...noOptions(), srcPort, ... }` instead, V8 took about 20 us
 * per segment in its slow path for spreads followed by more properties:
 * most of the CPU time the NAT spent per request.)
 */
export function segment(srcPort: number, dstPort: number, seq: number, ack: number, flags: number, window: number, data: Buffer = EMPTY): TcpSegment {
  return { mss: 0, wscale: -1, sackOk: false, ts: false, tsVal: 0, tsEcr: 0, sack: [], srcPort, dstPort, seq, ack, flags, window, urgent: 0, data };
}

/** Sequence-space comparisons modulo 2^32. */
export const seqLT = (a: number, b: number): boolean => ((a - b) | 0) < 0;
export const seqLE = (a: number, b: number): boolean => ((a - b) | 0) <= 0;
export const seqAdd = (a: number, n: number): number => (a + n) >>> 0;
export const seqDiff = (a: number, b: number): number => (a - b) | 0;

/** The segment in payload (an IP packet's transport bytes), or null (counted) if malformed. */
export function parseTcp(p: Buffer, v4: boolean, src: Ip, dst: Ip, verifySum: boolean, c: Counters): TcpSegment | null {
  if (p.length < TCP_HLEN) return bad(c, 'TcpInHdrTrunc');
  const doff = (p[12] >> 4) * 4;
  if (doff < TCP_HLEN || doff > p.length) return bad(c, 'TcpInHdrTrunc');
  if (verifySum && foldSum(sumBytes(p, 0, p.length, pseudoSum(v4, src, dst, IPPROTO_TCP, p.length))) !== 0xffff) return bad(c, 'TcpInCsumErrors');
  const s = segment(p.readUInt16BE(0), p.readUInt16BE(2), p.readUInt32BE(4), p.readUInt32BE(8), p[13], p.readUInt16BE(14), p.subarray(doff));
  s.urgent = p.readUInt16BE(18);
  for (let i = TCP_HLEN; i < doff; ) {
    const kind = p[i];
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= doff) return bad(c, 'TcpInBadOptions');
    const len = p[i + 1];
    if (len < 2 || i + len > doff) return bad(c, 'TcpInBadOptions');
    switch (kind) {
      case 2: if (len === 4) s.mss = p.readUInt16BE(i + 2); break;
      case 3: if (len === 3) s.wscale = Math.min(p[i + 2], 14); break;
      case 4: if (len === 2) s.sackOk = true; break;
      case 5:
        if ((len - 2) % 8 === 0) for (let j = i + 2; j < i + len; j += 8) s.sack.push(p.readUInt32BE(j), p.readUInt32BE(j + 4));
        break;
      case 8:
        if (len === 10) {
          s.ts = true;
          s.tsVal = p.readUInt32BE(i + 2);
          s.tsEcr = p.readUInt32BE(i + 6);
        }
        break;
      default: break;
    }
    i += len;
  }
  return s;
}

function bad(c: Counters, name: string): null {
  count(c, name);
  count(c, 'TcpInErrs');
  return null;
}

/** Bytes the options of s take (a multiple of 4). */
export function optionsLength(o: TcpOptions, syn: boolean): number {
  let n = 0;
  if (syn) {
    n += 4; // MSS
    if (o.wscale >= 0) n += 4;
    if (o.sackOk || o.ts) n += o.ts ? 12 : 4;
  } else if (o.ts) n += 12;
  if (o.sack.length) n += 4 + 4 * o.sack.length;
  return n;
}

/**
 * Write the header of s at off in b (room for optionsLength + data follows),
 * the data after it, and the checksum: the layout Linux sends, so a capture
 * reads the same. partial: the NIC finishes the checksum (Nic's
 * txChecksumOffload), which holds the pseudo-header's folded sum only.
 */
export function writeTcp(b: Buffer, off: number, s: TcpSegment, v4: boolean, src: Ip, dst: Ip, partial = false): number {
  const syn = (s.flags & SYN) !== 0;
  const olen = optionsLength(s, syn);
  const hlen = TCP_HLEN + olen;
  b.writeUInt16BE(s.srcPort, off);
  b.writeUInt16BE(s.dstPort, off + 2);
  b.writeUInt32BE(s.seq >>> 0, off + 4);
  b.writeUInt32BE(s.ack >>> 0, off + 8);
  b[off + 12] = (hlen / 4) << 4;
  b[off + 13] = s.flags;
  b.writeUInt16BE(s.window, off + 14);
  b.writeUInt16BE(0, off + 16);
  b.writeUInt16BE(s.urgent, off + 18);
  let i = off + TCP_HLEN;
  const nop = (): void => {
    b[i++] = 1;
  };
  if (syn) {
    b[i] = 2; b[i + 1] = 4; b.writeUInt16BE(s.mss, i + 2); i += 4;
    if (s.sackOk && s.ts) {
      b[i] = 4; b[i + 1] = 2; i += 2;
    } else if (s.sackOk) {
      nop(); nop(); b[i] = 4; b[i + 1] = 2; i += 2;
    } else if (s.ts) {
      nop(); nop();
    }
  } else if (s.ts) {
    nop(); nop();
  }
  if (s.ts) {
    b[i] = 8; b[i + 1] = 10; b.writeUInt32BE(s.tsVal >>> 0, i + 2); b.writeUInt32BE(s.tsEcr >>> 0, i + 6); i += 10;
  }
  if (syn && s.wscale >= 0) {
    nop(); b[i] = 3; b[i + 1] = 3; b[i + 2] = s.wscale; i += 3;
  }
  if (s.sack.length) {
    nop(); nop(); b[i] = 5; b[i + 1] = 2 + 4 * s.sack.length; i += 2;
    for (const v of s.sack) {
      b.writeUInt32BE(v >>> 0, i);
      i += 4;
    }
  }
  if (s.data.length) s.data.copy(b, off + hlen);
  const len = hlen + s.data.length;
  const pseudo = pseudoSum(v4, src, dst, IPPROTO_TCP, len);
  b.writeUInt16BE(partial ? foldSum(pseudo) : checksumOf(sumBytes(b, off, len, pseudo)), off + 16);
  return len;
}
