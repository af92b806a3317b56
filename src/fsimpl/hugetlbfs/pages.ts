// The huge pages of one hugetlbfs file: the page at each huge page index
// that has one (a run of HUGE_FRAMES frames taken from the pool), and the
// indices reserved for it but not yet given a page (Linux's resv_map: a
// shared mapping reserves the file's range once, however often it is
// mapped). Both are bounded by the pool, never by a file size or length the
// application chose: every walk over a range first checks that the range
// could be covered by the pool at all, else visits only the entries held.
import { HUGE_FRAMES, HUGE_SIZE, hugePagesIn } from '../../mm/hugetlb';
import type { MemoryAccess } from '../../mm/access';
import type { FrameSource } from '../../mm/mappable';
import type { HugeAccount } from './account';

export class HugeFilePages {
  /** First frame of each huge page present, by huge page index. */
  readonly bases = new Map<number, number>();
  /** Huge page indices holding a reservation of the pool, without a page yet. */
  private readonly reserved = new Set<number>();

  constructor(private readonly acct: HugeAccount, private readonly frames: Pick<FrameSource, 'bytes'>) {}

  /**
   * Reserve [first, end) (huge page indices) for a shared mapping: the
   * indices neither present nor reserved take a reservation each. False,
   * nothing changed, when the mount's size= or the pool cannot cover them.
   */
  reserve(first: number, end: number): boolean {
    // Cheap refusal first: a range longer than all the file holds plus what could still be reserved is never walked.
    if (end - first > this.bases.size + this.reserved.size + this.acct.available()) return false;
    const need: number[] = [];
    for (let i = first; i < end; i++) if (!this.bases.has(i) && !this.reserved.has(i)) need.push(i);
    if (!this.acct.reserve(need.length)) return false;
    for (const i of need) this.reserved.add(i);
    return true;
  }

  /** The page at huge page index hp, taken now if absent (from its reservation if it has one); -1 when none can be had. */
  page(hp: number): number {
    let base = this.bases.get(hp);
    if (base !== undefined) return base;
    const had = this.reserved.delete(hp);
    base = this.acct.take(had);
    if (base < 0) return -1;
    this.bases.set(hp, base);
    return base;
  }

  /** Whether every index of [first, end) has a page, or could have one without a reservation being needed (fallocate's check). */
  missing(first: number, end: number): number {
    let have = 0;
    for (const hp of this.bases.keys()) if (hp >= first && hp < end) have++;
    return end - first - have;
  }

  /** Pages and reservations of [first, end) go back (truncate, hole punch, the file gone). */
  drop(first: number, end: number): void {
    for (const [hp, base] of this.bases) {
      if (hp < first || hp >= end) continue;
      this.bases.delete(hp);
      this.acct.release(base);
    }
    let n = 0;
    for (const hp of this.reserved) {
      if (hp < first || hp >= end) continue;
      this.reserved.delete(hp);
      n++;
    }
    this.acct.unreserve(n);
  }

  /** Zero bytes [from, to) of the huge page at hp if present (a hole's partial edges). */
  zero(hp: number, from: number, to: number): void {
    const base = this.bases.get(hp);
    if (base === undefined || to <= from) return;
    for (let p = Math.floor(from / 4096); p * 4096 < to; p++) {
      const a = Math.max(from, p * 4096) - p * 4096, b = Math.min(to, (p + 1) * 4096) - p * 4096;
      this.frames.bytes(base + p).fill(0, a, b);
    }
  }

  /** The frames of small pages [from, to) present, by small page index (only present huge pages are visited). */
  framesIn(from: number, to: number): Map<number, number> {
    const m = new Map<number, number>();
    for (const [hp, base] of this.bases) {
      const a = Math.max(from, hp * HUGE_FRAMES), b = Math.min(to, (hp + 1) * HUGE_FRAMES);
      for (let p = a; p < b; p++) m.set(p, base + (p - hp * HUGE_FRAMES));
    }
    return m;
  }

  /** Huge pages present that hold small pages [from, to) (smaps' Shared/Private_Hugetlb). */
  pagesIn(from: number, to: number): number {
    return hugePagesIn(this.bases.keys(), from, to);
  }

  /** read(2): bytes [off, end) into the reader's memory, pages not present as zeros. */
  readToUser(off: number, end: number, mem: MemoryAccess, addr: number): number {
    let pos = off;
    return mem.fillFrom(addr, end - off, (dst) => {
      for (let at = 0; at < dst.length; ) {
        const p = Math.floor((pos + at) / 4096), po = (pos + at) % 4096;
        const n = Math.min(4096 - po, dst.length - at);
        const base = this.bases.get(Math.floor(p / HUGE_FRAMES));
        if (base === undefined) dst.fill(0, at, at + n);
        else this.frames.bytes(base + (p % HUGE_FRAMES)).copy(dst, at, po, po + n);
        at += n;
      }
      pos += dst.length;
      return dst.length;
    });
  }

  /** Bytes of the pages present (st_blocks). */
  get bytes(): number {
    return this.bases.size * HUGE_SIZE;
  }
}
