// The sandbox's pool of 2 MiB huge pages (Linux's hstate for hugepages-2048kB):
// vm.nr_hugepages sets its persistent size, MAP_HUGETLB mappings reserve pages
// of it when they are made and take them when first touched. A pool page is a
// run of HUGE_FRAMES frames of the memory file, allocated (and so charged to
// the sandbox's memory limit) when the pool grows: growth stops at the first
// page the limit refuses, as Linux stops growing its pool when memory runs
// out, and the pool can never hold more than the sandbox may. The memory
// file is mapped in small pages: a huge page is contiguous in the file, not
// one host TLB entry (docs/COMPATIBILITY.md).
import { E, Errno } from '../abi/errno';
import { PAGE_SIZE } from '../abi/mm';

/** Linux's default huge page size on x86-64 (Hugepagesize), in bytes. */
export const HUGE_SIZE = 2 * 1024 * 1024;
/** Small frames per huge page. */
export const HUGE_FRAMES = HUGE_SIZE / PAGE_SIZE;

/** How many of the huge page indices in pages hold small pages [from, to) (smaps' *_Hugetlb): one pass over the pages held. */
export function hugePagesIn(pages: Iterable<number>, from: number, to: number): number {
  const first = Math.floor(from / HUGE_FRAMES), end = Math.ceil(to / HUGE_FRAMES);
  let n = 0;
  for (const hp of pages) if (hp >= first && hp < end) n++;
  return n;
}

/** The part of MemoryFile the pool uses (a fake in unit tests). */
export interface HugeFrames {
  alloc(npages: number): number;
  decRef(frame: number, n: number): void;
}

/** The counters /proc/meminfo and /sys/kernel/mm/hugepages show. */
export interface HugeCounts {
  total: number;
  free: number;
  resv: number;
  surplus: number;
}

export class HugePool {
  /** Pages the pool holds (persistent and surplus): HugePages_Total, nr_hugepages. */
  private total = 0;
  /** Pages beyond the persistent size, kept only while in use or reserved (HugePages_Surp). */
  private surplus = 0;
  /** Reserved pages not yet taken (HugePages_Rsvd): at most freeRuns.length. */
  private resv = 0;
  /** First frames of the free pages (HugePages_Free is their number). */
  private readonly freeRuns: number[] = [];
  /** vm.nr_overcommit_hugepages: how many surplus pages reservations and unreserved touches may add beyond the persistent pool. */
  overcommit = 0;

  constructor(private readonly frames: HugeFrames) {}

  counts(): HugeCounts {
    return { total: this.total, free: this.freeRuns.length, resv: this.resv, surplus: this.surplus };
  }

  /**
   * vm.nr_hugepages = n: the persistent pool grows page by page until the
   * memory limit refuses one (the write still succeeds, the value read back
   * is what was reached) or shrinks by its free, unreserved pages; pages in
   * use or reserved beyond n become surplus, given back as they are freed.
   */
  setPersistent(n: number): void {
    let persistent = this.total - this.surplus;
    // Surplus pages are made persistent first, as Linux does.
    while (persistent < n && this.surplus > 0) {
      this.surplus--;
      persistent++;
    }
    while (persistent < n) {
      let base: number;
      try {
        base = this.frames.alloc(HUGE_FRAMES);
      } catch (e) {
        if (e instanceof Errno && e.errno === E.ENOMEM) break;
        throw e;
      }
      this.freeRuns.push(base);
      this.total++;
      persistent++;
    }
    while (persistent > n && this.freeRuns.length > this.resv) {
      this.frames.decRef(this.freeRuns.pop()!, HUGE_FRAMES);
      this.total--;
      persistent--;
    }
    this.surplus += persistent - n > 0 ? persistent - n : 0;
  }

  /**
   * Reserve n pages for a mapping: false when the pool's free, unreserved
   * pages cannot cover them and nr_overcommit_hugepages does not let enough
   * surplus pages be added (or the memory limit refuses them), as Linux's
   * gather_surplus_pages; the pages added for it go again then.
   */
  reserve(n: number): boolean {
    const short = n - (this.freeRuns.length - this.resv);
    if (short > 0) {
      if (this.surplus + short > this.overcommit) return false;
      let added = 0;
      while (added < short && this.addSurplus()) added++;
      if (added < short) {
        this.shedSurplus();
        return false;
      }
    }
    this.resv += n;
    return true;
  }

  /** One surplus page more in the free list (false: the memory limit refuses it). */
  private addSurplus(): boolean {
    try {
      this.freeRuns.push(this.frames.alloc(HUGE_FRAMES));
    } catch (e) {
      if (e instanceof Errno && e.errno === E.ENOMEM) return false;
      throw e;
    }
    this.surplus++;
    this.total++;
    return true;
  }

  /** Give back n reservations never taken; surplus pages no longer needed leave the pool. */
  unreserve(n: number): void {
    this.resv -= n;
    if (this.resv < 0) throw new Error('huge page reservations below zero');
    this.shedSurplus();
  }

  /**
   * A page for a first touch: reserved, one of the mapping's reservations;
   * otherwise (MAP_NORESERVE) only a page nobody reserved. -1: none (the
   * fault is SIGBUS). Its frames are zero (fresh from the memory file).
   */
  take(reserved: boolean): number {
    if (reserved) {
      if (this.resv <= 0) throw new Error('huge page taken on a reservation never made');
      this.resv--;
    } else if (this.freeRuns.length <= this.resv && !(this.surplus < this.overcommit && this.addSurplus())) return -1;
    return this.freeRuns.pop()!;
  }

  /**
   * A page's last user is gone: its frames go back to the memory file (they
   * are zeros again when allocated anew) and a fresh run takes its place, or
   * the pool shrinks by a surplus page.
   */
  release(base: number): void {
    this.frames.decRef(base, HUGE_FRAMES);
    if (this.surplus > 0) {
      this.surplus--;
      this.total--;
      return;
    }
    try {
      this.freeRuns.push(this.frames.alloc(HUGE_FRAMES));
    } catch (e) {
      if (!(e instanceof Errno && e.errno === E.ENOMEM)) throw e;
      // The memory just given back was taken meanwhile: the pool is one page smaller.
      this.total--;
    }
  }

  /** Surplus pages free and unreserved are given back to the memory file. */
  private shedSurplus(): void {
    while (this.surplus > 0 && this.freeRuns.length > this.resv) {
      this.frames.decRef(this.freeRuns.pop()!, HUGE_FRAMES);
      this.surplus--;
      this.total--;
    }
  }
}
