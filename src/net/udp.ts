// UDP (RFC 768) and UDP-Lite (RFC 3828: the length field is the checksum's
// coverage, the checksum is mandatory): the header with its checksum, and the
// receive side of a UDP or UDP-Lite socket: whole datagrams with their sender, bounded by SO_RCVBUF (a datagram
// that does not fit is dropped and counted, as Linux does) and charged to the
// sandbox's heap budget.
import type { HeapBudget } from '../abi/accounting';
import { IPPROTO_UDP, IPPROTO_UDPLITE } from '../abi/inet';
import { ANY6, type Ip } from './ip/addr';
import { type Counters, count, checksumOf, foldSum, pseudoSum, sumBytes } from './ip/ip';
import type { Binding } from './ports';

export const UDP_HLEN = 8;
/** What a queued datagram costs beyond its bytes (Linux counts the skb's truesize). */
const DGRAM_OVERHEAD = 256;

export interface UdpHeader {
  srcPort: number;
  dstPort: number;
  data: Buffer;
  /** UDP-Lite: the bytes the checksum covers (header included; the whole datagram when it is all). */
  cscov?: number;
}

/** A UDP-Lite datagram: its coverage (0 or 8 to the length, RFC 3828 3.1) and mandatory checksum over the covered bytes, always checked (no NIC offloads partial coverage). */
export function parseUdpLite(p: Buffer, v4: boolean, src: Ip, dst: Ip, c: Counters): UdpHeader | null {
  if (p.length < UDP_HLEN) return bad(c, 'UdpLiteInErrors');
  const field = p.readUInt16BE(4);
  const cov = field === 0 ? p.length : field;
  if (cov < UDP_HLEN || cov > p.length) return bad(c, 'UdpLiteInErrors');
  if (p.readUInt16BE(6) === 0 || foldSum(sumBytes(p, 0, cov, pseudoSum(v4, src, dst, IPPROTO_UDPLITE, p.length))) !== 0xffff) {
    count(c, 'UdpLiteInCsumErrors');
    return bad(c, 'UdpLiteInErrors');
  }
  return { srcPort: p.readUInt16BE(0), dstPort: p.readUInt16BE(2), data: p.subarray(UDP_HLEN), cscov: cov };
}

/** A UDP-Lite header with coverage field cscov (0: all) and the checksum over what it covers. */
export function writeUdpLite(b: Buffer, off: number, srcPort: number, dstPort: number, data: Buffer, v4: boolean, src: Ip, dst: Ip, cscov: number): void {
  const len = UDP_HLEN + data.length;
  b.writeUInt16BE(srcPort, off);
  b.writeUInt16BE(dstPort, off + 2);
  b.writeUInt16BE(cscov, off + 4);
  b.writeUInt16BE(0, off + 6);
  data.copy(b, off + UDP_HLEN);
  let sum = checksumOf(sumBytes(b, off, cscov === 0 ? len : cscov, pseudoSum(v4, src, dst, IPPROTO_UDPLITE, len)));
  if (sum === 0) sum = 0xffff;
  b.writeUInt16BE(sum, off + 6);
}

export function parseUdp(p: Buffer, v4: boolean, src: Ip, dst: Ip, verifySum: boolean, c: Counters): UdpHeader | null {
  if (p.length < UDP_HLEN) return bad(c);
  const len = p.readUInt16BE(4);
  if (len < UDP_HLEN || len > p.length) return bad(c);
  const sum = p.readUInt16BE(6);
  // IPv4 may send no checksum (0); IPv6 must (RFC 8200 8.1).
  if (!v4 && sum === 0) return bad(c);
  if (verifySum && sum !== 0 && foldSum(sumBytes(p, 0, len, pseudoSum(v4, src, dst, IPPROTO_UDP, len))) !== 0xffff) {
    count(c, 'UdpInCsumErrors');
    return bad(c);
  }
  return { srcPort: p.readUInt16BE(0), dstPort: p.readUInt16BE(2), data: p.subarray(UDP_HLEN, len) };
}

function bad(c: Counters, name = 'UdpInErrors'): null {
  count(c, name);
  return null;
}

export function writeUdp(b: Buffer, off: number, srcPort: number, dstPort: number, data: Buffer, v4: boolean, src: Ip, dst: Ip): void {
  const len = UDP_HLEN + data.length;
  b.writeUInt16BE(srcPort, off);
  b.writeUInt16BE(dstPort, off + 2);
  b.writeUInt16BE(len, off + 4);
  b.writeUInt16BE(0, off + 6);
  data.copy(b, off + UDP_HLEN);
  let sum = checksumOf(sumBytes(b, off, len, pseudoSum(v4, src, dst, IPPROTO_UDP, len)));
  if (sum === 0) sum = 0xffff; // 0 means "none"
  b.writeUInt16BE(sum, off + 6);
}

export interface Datagram {
  data: Buffer;
  from: Ip;
  port: number;
  cost: number;
  /** The IP header's TTL (hop limit) and TOS (traffic class), for IPV6_RECVHOPLIMIT and IPV6_RECVTCLASS. */
  ttl: number;
  tos: number;
  /** The index of the interface it came in on (a link-local sender's scope id), and the address it was sent to (IP_PKTINFO). */
  ifindex: number;
  dst: Ip;
  /** Realtime ns of its arrival, 0 if the socket wanted no stamps then (net/timestamp.ts). */
  stampNs: number;
  /** Its IPv4 options as received (checked, with what this hop recorded), for IP_RECVOPTS and IP_RECVRETOPTS; at most 40 bytes. */
  ipOpts?: Buffer;
}

export class UdpEndpoint {
  binding: Binding | null = null;
  /** connect(2)ed peer: only its datagrams are received, and sends go there by default. */
  remote: Ip | null = null;
  rport = 0;
  readonly queue: Datagram[] = [];
  queued = 0;
  /** A pending error (a hard ICMP error on a connected socket: ECONNREFUSED for port unreachable). */
  err = 0;
  rcvLimit: number;

  constructor(
    private readonly heap: HeapBudget | null,
    rcvLimit: number,
    /** Readiness may have changed. */
    readonly wake: () => void,
    /** The stamp of a datagram arriving now (RecvStamps.arrival). */
    private readonly arrivalNs: () => number,
  ) {
    this.rcvLimit = rcvLimit;
  }

  /** UDP-Lite's UDPLITE_RECV_CSCOV: null while unset (any coverage), 0 whole datagrams only, else the least coverage taken. */
  minCov: number | null = null;

  /** Whether a UDP-Lite datagram of len bytes covered by cscov is taken (Linux drops partial coverage below the socket's minimum). */
  coverageOk(cscov: number, len: number): boolean {
    if (this.minCov === null || cscov >= len) return true;
    return this.minCov !== 0 && cscov >= this.minCov;
  }

  /** The interface the socket is tied to (SO_BINDTODEVICE): datagrams that came in on another are not its. 0: any. */
  dev = 0;

  /** Whether a datagram from (ip, port) that came in on the interface of index iif is for this endpoint. */
  accepts(ip: Ip, port: number, iif = 0): boolean {
    if (!this.onDev(iif)) return false;
    return this.remote === null || (this.remote === ip && this.rport === port);
  }

  /** Whether what came in on the interface of index iif (0: unknown) may reach a socket tied to dev. */
  onDev(iif = 0): boolean {
    return this.dev === 0 || iif === 0 || this.dev === iif;
  }

  deliver(data: Buffer, from: Ip, port: number, c: Counters, ttl = 64, tos = 0, ifindex = 0, dst: Ip = ANY6, ipOpts?: Buffer): void {
    const cost = data.length + DGRAM_OVERHEAD + (ipOpts?.length ?? 0);
    if (this.queued + cost > this.rcvLimit || (this.heap && !this.heap.tryCharge(cost))) {
      count(c, 'UdpRcvbufErrors');
      return;
    }
    count(c, 'UdpInDatagrams');
    // The packet buffer may be large (a view of a whole frame): keep only the datagram.
    this.queue.push({ data: Buffer.from(data), from, port, cost, ttl, tos, ifindex, dst, stampNs: this.arrivalNs(), ipOpts });
    this.queued += cost;
    this.wake();
  }

  shift(): Datagram | undefined {
    const d = this.queue.shift();
    if (d) {
      this.queued -= d.cost;
      this.heap?.uncharge(d.cost);
    }
    return d;
  }

  unreachable(err: number): void {
    if (this.remote === null) return;
    this.err = err;
    this.wake();
  }

  close(): void {
    while (this.queue.length) this.shift();
  }
}
