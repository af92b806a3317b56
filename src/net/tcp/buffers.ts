// The byte queues of a TCP connection. SendQueue holds what the application
// wrote from snd_una on: acknowledged bytes leave its front, and any range
// can be copied into a segment again (retransmission). RecvQueue holds what
// arrived in order, as views into the received packets (no copy until the
// application reads), and OooQueue what arrived beyond a hole, trimmed so
// that no byte is held twice.
import { seqAdd, seqDiff, seqLE, seqLT } from './segment';

export class SendQueue {
  private chunks: Buffer[] = [];
  /** Bytes of chunks[0] already dropped (acknowledged). */
  private headOff = 0;
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }

  /** Copy n bytes starting off bytes into the queue to dst at dstOff. */
  copyTo(dst: Buffer, dstOff: number, off: number, n: number): void {
    let skip = off + this.headOff;
    for (const c of this.chunks) {
      if (n === 0) return;
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      const k = Math.min(c.length - skip, n);
      c.copy(dst, dstOff, skip, skip + k);
      dstOff += k;
      n -= k;
      skip = 0;
    }
  }

  /** n bytes starting off bytes into the queue: a view when one chunk holds them (chunks are never written after push), else a copy. */
  slice(off: number, n: number): Buffer {
    let skip = off + this.headOff;
    for (const c of this.chunks) {
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      if (c.length - skip >= n) return c.subarray(skip, skip + n);
      break;
    }
    const b = Buffer.allocUnsafe(n);
    this.copyTo(b, 0, off, n);
    return b;
  }

  /** Drop n bytes from the front. */
  drop(n: number): void {
    this.length -= n;
    n += this.headOff;
    let i = 0;
    while (i < this.chunks.length && n >= this.chunks[i].length) n -= this.chunks[i++].length;
    if (i > 0) this.chunks = this.chunks.slice(i);
    this.headOff = n;
  }

  clear(): void {
    this.chunks = [];
    this.headOff = 0;
    this.length = 0;
  }
}

export class RecvQueue {
  private chunks: Buffer[] = [];
  private head = 0;
  length = 0;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.length += b.length;
  }

  /** Up to n bytes from the front (taken unless peek). */
  read(n: number, peek: boolean): Buffer {
    n = Math.min(n, this.length);
    const first = this.chunks[this.head];
    if (n === 0) return Buffer.alloc(0);
    // The common case: one chunk covers the read.
    if (first.length >= n) {
      const out = Buffer.from(first.subarray(0, n));
      if (!peek) this.take(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    for (let i = this.head; at < n; i++) {
      const c = this.chunks[i];
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
    }
    if (!peek) this.take(n);
    return out;
  }

  private take(n: number): void {
    this.length -= n;
    while (n > 0) {
      const c = this.chunks[this.head];
      if (c.length <= n) {
        n -= c.length;
        this.head++;
      } else {
        this.chunks[this.head] = c.subarray(n);
        n = 0;
      }
    }
    if (this.head > 32 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.length = 0;
  }
}

interface OooSeg {
  seq: number;
  data: Buffer;
}

/** Segments beyond rcv_nxt, kept sorted by sequence and without overlap. */
export class OooQueue {
  readonly segs: OooSeg[] = [];
  bytes = 0;
  /** Whether a FIN arrived at this sequence (after the held data). */
  finSeq: number | null = null;

  get empty(): boolean {
    return this.segs.length === 0;
  }

  /** Insert [seq, seq+len) with the bytes already held cut away; the bytes added. */
  insert(seq: number, data: Buffer): number {
    let added = 0;
    const pieces: OooSeg[] = [{ seq, data }];
    for (const s of this.segs) {
      const sEnd = seqAdd(s.seq, s.data.length);
      for (let i = 0; i < pieces.length; i++) {
        const p = pieces[i];
        const pEnd = seqAdd(p.seq, p.data.length);
        if (seqLE(pEnd, s.seq) || seqLE(sEnd, p.seq)) continue;
        const out: OooSeg[] = [];
        if (seqLT(p.seq, s.seq)) out.push({ seq: p.seq, data: p.data.subarray(0, seqDiff(s.seq, p.seq)) });
        if (seqLT(sEnd, pEnd)) out.push({ seq: sEnd, data: p.data.subarray(seqDiff(sEnd, p.seq)) });
        pieces.splice(i, 1, ...out);
        i += out.length - 1;
      }
    }
    for (const p of pieces) {
      if (p.data.length === 0) continue;
      let at = this.segs.findIndex((s) => seqLT(p.seq, s.seq));
      if (at < 0) at = this.segs.length;
      this.segs.splice(at, 0, p);
      added += p.data.length;
    }
    this.bytes += added;
    return added;
  }

  /**
   * The data that now follows rcvNxt in order, removed from the queue; bytes
   * before rcvNxt (an in-order segment covered them) are dropped and counted
   * in dropped, for the caller to give their charge back.
   */
  takeFrom(rcvNxt: number): { parts: Buffer[]; dropped: number } {
    const parts: Buffer[] = [];
    let dropped = 0;
    let nxt = rcvNxt;
    while (this.segs.length) {
      const s = this.segs[0];
      const end = seqAdd(s.seq, s.data.length);
      if (seqLT(nxt, s.seq)) break;
      this.segs.shift();
      this.bytes -= s.data.length;
      if (seqLE(end, nxt)) {
        dropped += s.data.length;
        continue;
      }
      const skip = seqDiff(nxt, s.seq);
      dropped += skip;
      parts.push(s.data.subarray(skip));
      nxt = end;
    }
    return { parts, dropped };
  }

  /** Up to 4 SACK blocks (RFC 2018): the contiguous runs held, the one just touched first. */
  sackBlocks(recent: number | null): number[] {
    const runs: Array<[number, number]> = [];
    for (const s of this.segs) {
      const end = seqAdd(s.seq, s.data.length);
      const last = runs[runs.length - 1];
      if (last && last[1] === s.seq) last[1] = end;
      else runs.push([s.seq, end]);
    }
    if (recent !== null) {
      const i = runs.findIndex(([l, r]) => seqLE(l, recent) && seqLT(recent, r));
      if (i > 0) runs.unshift(...runs.splice(i, 1));
    }
    return runs.slice(0, 3).flat();
  }

  clear(): void {
    this.segs.length = 0;
    this.bytes = 0;
    this.finSeq = null;
  }
}
