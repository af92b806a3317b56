// How a hugetlbfs mount takes huge pages from the sandbox's pool
// (mm/hugetlb.ts): through its subpool (Linux's hugepage_subpool), which
// size= caps (pages reserved or in use, ENOMEM/ENOSPC beyond) and min_size=
// keeps reserved in the pool from the mount on. A mount without either has
// no subpool: every page and reservation goes straight to the pool.
import { E, Errno } from '../../abi/errno';
import type { HugePool } from '../../mm/hugetlb';

/** size= and min_size= in huge pages (-1: not given). */
export class SubPool {
  /** Pages reserved or in use through this mount (against max). */
  used = 0;
  /** Pool reservations made for min_size and not yet used: taken first. */
  rsv: number;

  constructor(readonly max: number, public min: number) {
    this.rsv = min > 0 ? min : 0;
  }

  /** How many of delta more pages need the pool (the rest come from rsv); -1: past max. Nothing changes on -1. */
  need(delta: number): number {
    if (this.max >= 0 && this.used + delta > this.max) return -1;
    return Math.max(0, delta - this.rsv);
  }

  /** Take delta pages (need() said they fit): the pool's part is returned. */
  get(delta: number): number {
    const g = this.need(delta);
    if (this.max >= 0) this.used += delta;
    this.rsv -= delta - g;
    return g;
  }

  /** delta pages go back: how many of them the pool gets back (the others refill rsv up to min). */
  put(delta: number): number {
    if (this.max >= 0) this.used -= delta;
    if (this.min < 0 || this.used >= this.min) return delta;
    const keep = Math.min(delta, this.min - this.rsv);
    this.rsv += keep;
    return delta - keep;
  }
}

/** A mount's way to the pool: reservations, pages and their return, through its subpool if it has one. */
export class HugeAccount {
  constructor(readonly pool: HugePool, readonly sub: SubPool | null) {}

  /** At most how many more pages could be reserved now (to bound a walk before it starts). */
  available(): number {
    const c = this.pool.counts();
    // Free unreserved pages, min_size's, and the surplus pages nr_overcommit_hugepages still allows.
    const pool = c.free - c.resv + (this.sub?.rsv ?? 0) + Math.max(0, this.pool.overcommit - c.surplus);
    return this.sub && this.sub.max >= 0 ? Math.min(pool, this.sub.max - this.sub.used) : pool;
  }

  /** Reserve n pages (false, nothing changed: size= or the pool cannot cover them). */
  reserve(n: number): boolean {
    if (n === 0) return true;
    const g = this.sub ? this.sub.need(n) : n;
    if (g < 0) return false;
    if (!this.pool.reserve(g)) return false;
    if (this.sub) this.sub.get(n);
    return true;
  }

  /** n reservations never used go back. */
  unreserve(n: number): void {
    if (n === 0) return;
    this.pool.unreserve(this.sub ? this.sub.put(n) : n);
  }

  /** A page for a first touch: reserved (one of the caller's reservations) or not; -1: none (SIGBUS, ENOSPC). */
  take(reserved: boolean): number {
    if (reserved) return this.pool.take(true);
    if (!this.sub) return this.pool.take(false);
    const g = this.sub.need(1);
    if (g < 0) return -1;
    if (g === 0) {
      // One of min_size's reservations.
      this.sub.get(1);
      return this.pool.take(true);
    }
    const base = this.pool.take(false);
    if (base >= 0) this.sub.get(1);
    return base;
  }

  /** A page's last user is gone (truncate, a hole, the file or mapping gone). */
  release(base: number): void {
    this.pool.release(base);
    // A page given back below min_size stays reserved for the mount (Linux's restore_reserve).
    if (this.sub && this.sub.put(1) === 0 && !this.pool.reserve(1)) this.sub.rsv--;
  }
}

/** min_size= at mount: its pages reserved in the pool now (ENOMEM when it cannot, as Linux's mount). */
export function reserveMin(pool: HugePool, min: number): void {
  if (min <= 0) return;
  if (!pool.reserve(min)) throw new Errno(E.ENOMEM, 'min_size= beyond the huge page pool');
}
