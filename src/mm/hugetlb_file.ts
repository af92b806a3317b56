// A hugetlb object: the pages of one MAP_HUGETLB mapping (Linux makes each an
// unlinked file of an internal hugetlbfs mount), taken from the sandbox's
// pool (hugetlb.ts) at their first touch, whole: every small page of a huge
// page is a frame of the pool's run. Pages the mapping reserved at mmap are
// taken from its reservations; a MAP_NORESERVE mapping's pages only while
// the pool has unreserved ones, else the touch is SIGBUS. When the last VMA
// mapping it goes, its pages and the reservations it never used go back.
import { E, Errno } from '../abi/errno';
import { HUGE_FRAMES, HUGE_SIZE, hugePagesIn, type HugePool } from './hugetlb';
import type { Mappable } from './mappable';

export class HugeFile implements Mappable {
  /** Huge pages are 2 MiB: what smaps shows and what munmap/mprotect must align to. */
  readonly pageSize = HUGE_SIZE;
  /**
   * The first frame of each huge page touched, by index: at most the pool's
   * size (a vast MAP_NORESERVE mapping costs nothing until touched). Without
   * MAP_NORESERVE every page not in it holds a reservation of the pool.
   */
  private readonly bases = new Map<number, number>();
  /** VMAs mapping it (their pieces, in every address space). */
  refs = 0;
  /** Reservations of the pool not yet taken by a first touch. */
  private resvLeft: number;

  /** npages huge pages, reserved from pool unless noreserve (ENOMEM when the pool cannot cover them). */
  constructor(private readonly pool: HugePool, readonly npages: number, noreserve: boolean) {
    if (!noreserve && !pool.reserve(npages)) throw new Errno(E.ENOMEM, 'huge page pool cannot cover the mapping');
    this.resvLeft = noreserve ? 0 : npages;
  }

  frameFor(pageIndex: number): number {
    const hp = Math.floor(pageIndex / HUGE_FRAMES);
    if (hp >= this.npages) throw new Errno(E.EFAULT);
    let base = this.bases.get(hp);
    if (base === undefined) {
      base = this.pool.take(this.resvLeft > 0);
      // No page for it (MAP_NORESERVE beyond the pool): SIGBUS, as Linux.
      if (base < 0) throw new Errno(E.EFAULT, 'no free huge page');
      if (this.resvLeft > 0) this.resvLeft--;
      this.bases.set(hp, base);
    }
    return base + (pageIndex % HUGE_FRAMES);
  }

  size(): number {
    return this.npages * HUGE_SIZE;
  }

  /** Only the pages touched so far: mapping the object gives it no pages. */
  framesIn(from: number, to: number): Map<number, number> {
    const m = new Map<number, number>();
    for (let p = from; p < to; p++) {
      const base = this.bases.get(Math.floor(p / HUGE_FRAMES));
      if (base !== undefined) m.set(p, base + (p % HUGE_FRAMES));
    }
    return m;
  }

  pagesIn(from: number, to: number): number {
    return hugePagesIn(this.bases.keys(), from, to);
  }

  /** A VMA maps it (VmaFile.hold). */
  incRef(): void {
    this.refs++;
  }

  /** A VMA no longer maps it: with the last one its pages and reservations go back to the pool. */
  decRef(): void {
    if (--this.refs > 0) return;
    for (const base of this.bases.values()) this.pool.release(base);
    this.bases.clear();
    if (this.resvLeft > 0) this.pool.unreserve(this.resvLeft);
    this.resvLeft = 0;
  }

  /**
   * A private mapping partly unmapped, all of its remaining VMAs covering
   * the huge page ranges given ([first, end) indices): the pages outside
   * them go back to the pool, and so do the reservations beyond what the
   * remaining pages without one could use (Linux releases a private
   * mapping's reservations with the part of the VMA that goes).
   */
  trim(ranges: Array<[number, number]>): void {
    const covered = (hp: number) => ranges.some(([a, b]) => hp >= a && hp < b);
    for (const [hp, base] of this.bases) {
      if (covered(hp)) continue;
      this.bases.delete(hp);
      this.pool.release(base);
    }
    let want = 0;
    for (const [a, b] of ranges) want += Math.max(0, Math.min(b, this.npages) - a);
    for (const hp of this.bases.keys()) if (covered(hp)) want--;
    if (want < this.resvLeft) {
      this.pool.unreserve(this.resvLeft - want);
      this.resvLeft = want;
    }
  }
}
