// A virtual memory area: a page-aligned range of an address space with one
// protection and one backing. Each page records the memory-file frame that
// backs it (-1 while none was needed yet). Whether a private page may be
// written in place follows from the frame's reference count: a frame shared
// with another address space or with a file cache is copied on write.

import { samePolicy, type NumaPolicy } from '../abi/mempolicy';
import type { Mappable } from './mappable';
import { FrameTable } from './frame_table';
import type { MemoryFile } from '../platform/memfile';
import type { SharedAnon } from './shm';
import type { UserfaultCtx } from './userfault';
import { PAGE_SIZE as PAGE } from '../abi/mm';

export { PAGE };

/** Vma.untouched looks at VMAs of up to PROBE_PAGES frames and reads at most PROBE_READ pages of data. */
const PROBE_PAGES = 8192;
const PROBE_READ = 256;

/** Vma.locked: VM_LOCKED, and VM_LOCKONFAULT (locked, but filled only as touched). */
export const LOCK_ON = 1;
export const LOCK_ONFAULT = 2;

/** Vma.thp: MADV_HUGEPAGE's VM_HUGEPAGE, MADV_NOHUGEPAGE's VM_NOHUGEPAGE. */
export const THP_HUGE = 1;
export const THP_NEVER = 2;

export interface VmaFile {
  mappable: Mappable;
  /** For /proc/PID/maps: as it was at mmap. */
  name: string;
  /** The name now (" (deleted)" once the file is unlinked after the mmap), when the file can tell. */
  nameNow?: () => string;
  dev: number;
  ino: number;
  /** Keeps the open file alive for as long as the mapping exists. */
  hold?: { incRef(): void; decRef(): void };
}

export class Vma {
  /**
   * Which anonymous pages this VMA's private pages belong with (Linux's
   * anon_vma), null until it first gets pages it may write. Halves of a split
   * share it; a fork child gets a new one. Two VMAs that both have one merge
   * only if it is the same.
   */
  anon: object | null = null;
  /** A shared anonymous mapping's object (Linux gives each its own shmem file): only its own pieces merge. */
  shm: SharedAnon | null = null;
  /** Linux's VM_ACCOUNT: private writable memory charged when mapped or first made writable. */
  accounted = false;
  /** MAP_NORESERVE (VM_NORESERVE): never charged. */
  noreserve = false;
  /** Some page is known to have been written (see untouched). */
  written = false;
  /** mbind's policy for this range (null: the default); only VMAs with equal policies merge. */
  policy: NumaPolicy | null = null;
  /** mlock state: 0, VM_LOCKED, or VM_LOCKED|VM_LOCKONFAULT (LOCK_* below). Not inherited by fork. */
  locked = 0;
  /** MADV_DONTFORK (VM_DONTCOPY): a fork child does not get this range. */
  dontfork = false;
  /** MADV_WIPEONFORK (VM_WIPEONFORK): a fork child gets zero-filled pages here. */
  wipeonfork = false;
  /**
   * VM_MAYWRITE: mprotect may add PROT_WRITE. False only for a shared file
   * mapping of a descriptor not open for writing, or of a file sealed
   * against writes (F_SEAL_WRITE, F_SEAL_FUTURE_WRITE) when it was made.
   */
  maywrite = true;
  /** MADV_DONTDUMP (VM_DONTDUMP): left out of core dumps; only VMAs that agree merge. */
  dontdump = false;
  /** MADV_HUGEPAGE / MADV_NOHUGEPAGE (VM_HUGEPAGE, VM_NOHUGEPAGE): a hint kept for /proc (THP_*), nothing more. */
  thp = 0;
  /**
   * MAP_STACK: a thread's stack, of which a few pages are ever used. Filled
   * only as touched, a small chunk at a time, never all at once (as Linux
   * 6.7+ marks it VM_NOHUGEPAGE, it merges only with its like).
   */
  lazy = false;
  /**
   * mseal (VM_SEALED, Linux 6.10): the range may no longer be unmapped,
   * moved, replaced, re-protected, nor discarded while read-only private
   * anonymous memory (MemoryManager.checkUnsealed). Kept by fork, gone at exec.
   */
  sealed = false;
  /** The userfaultfd this range is registered with (VM_UFFD_*), and its UFFDIO_REGISTER_MODE_* bits (mm/userfault.ts). */
  uffd: UserfaultCtx | null = null;
  uffdMode = 0;
  /** Pages (indices in this VMA) a userfaultfd write-protected (UFFDIO_WRITEPROTECT): present ones only, so bounded by the frames. */
  wp: Set<number> | null = null;
  /** Missing pages a userfaultfd poisoned (UFFDIO_POISON): a touch is SIGBUS, until MADV_DONTNEED or munmap. */
  poison: Set<number> | null = null;

  constructor(
    public start: number,
    public end: number,
    public prot: number,
    public shared: boolean,
    public frames: FrameTable,
    public file: VmaFile | null,
    /** File offset of `start`, in pages (anonymous private memory: start / PAGE when created, as Linux's vm_pgoff). */
    public pgoff: number,
    public growsDown = false,
    public name: string | null = null,
  ) {}

  get pages(): number {
    return (this.end - this.start) / PAGE;
  }

  pageIndex(addr: number): number {
    return Math.floor((addr - this.start) / PAGE);
  }

  /** Split at addr; this keeps [start, addr), the returned VMA is [addr, end). */
  splitAt(addr: number): Vma {
    const n = this.pageIndex(addr);
    const [left, rightFrames] = this.frames.split(n);
    const right = new Vma(addr, this.end, this.prot, this.shared, rightFrames, this.file, this.pgoff + n, this.growsDown, this.name);
    right.copyFlags(this);
    // A split keeps the registration; a fork child or a moved VMA does not (copyFlags) unless its context asked for the fork or remap event (userfault_events.ts).
    right.uffd = this.uffd;
    right.uffdMode = this.uffdMode;
    right.wp = splitSet(this.wp, n);
    right.poison = splitSet(this.poison, n);
    this.frames = left;
    this.end = addr;
    right.retain();
    return right;
  }

  /** Take over the attributes that are not constructor arguments (a split half, a fork child, a moved VMA). */
  copyFlags(from: Vma): void {
    this.anon = from.anon;
    this.shm = from.shm;
    this.accounted = from.accounted;
    this.noreserve = from.noreserve;
    this.written = from.written;
    this.policy = from.policy;
    this.locked = from.locked;
    this.dontfork = from.dontfork;
    this.wipeonfork = from.wipeonfork;
    this.maywrite = from.maywrite;
    this.dontdump = from.dontdump;
    this.thp = from.thp;
    this.lazy = from.lazy;
    this.sealed = from.sealed;
  }

  /**
   * Whether `next`, right after this VMA, could share this one's anonymous
   * pages: same backing at the continuing offset and the same flags except
   * the protection (Linux's anon_vma_compatible).
   */
  compatible(next: Vma): boolean {
    return (
      this.end === next.start &&
      this.shared === next.shared &&
      sameFile(this.file, next.file) &&
      this.shm === next.shm &&
      next.pgoff === this.pgoff + this.pages &&
      this.growsDown === next.growsDown &&
      this.accounted === next.accounted &&
      this.noreserve === next.noreserve &&
      this.name === next.name &&
      this.locked === next.locked &&
      this.dontfork === next.dontfork &&
      this.lazy === next.lazy &&
      this.wipeonfork === next.wipeonfork &&
      this.maywrite === next.maywrite &&
      this.dontdump === next.dontdump &&
      this.thp === next.thp &&
      this.sealed === next.sealed &&
      this.uffd === next.uffd &&
      this.uffdMode === next.uffdMode &&
      samePolicy(this.policy, next.policy)
    );
  }

  /** Whether `next` continues this VMA exactly, so the two can be one (Linux's vma_merge conditions). */
  canMerge(next: Vma): boolean {
    return this.compatible(next) && this.prot === next.prot && (this.anon === null || next.anon === null || this.anon === next.anon);
  }

  /**
   * Whether no page was written, as far as the Sentry can tell: no frame is
   * shared and all read as zeros (a few lseeks per run of consecutive
   * frames; only pages the host holds are read). Bounded: a VMA with many
   * frames, or more data to read than PROBE_READ pages, counts as written,
   * so an application cannot make each mprotect scan gigabytes. Once seen
   * written, always written (as Linux keeps an anon_vma once it has one).
   */
  untouched(memfile: MemoryFile): boolean {
    if (this.written) return false;
    if (this.frames.count() > PROBE_PAGES) return false;
    const budget = { pages: PROBE_READ };
    let runStart = -1;
    let runLen = 0;
    let shared = false;
    let data = false;
    this.frames.forEachPresent(0, this.pages, (_p, f) => {
      if (shared || data || memfile.isZeroFrame(f)) return;
      if (memfile.refCount(f) > 1) shared = true;
      else if (runLen > 0 && f === runStart + runLen) runLen++;
      else {
        if (runLen > 0 && !memfile.allZero(runStart, runLen, budget)) data = true;
        runStart = f;
        runLen = 1;
      }
    });
    if (!shared && !data && runLen > 0 && !memfile.allZero(runStart, runLen, budget)) data = true;
    if (shared || (data && budget.pages >= 0)) this.written = true;
    return !shared && !data;
  }

  /** Become this VMA followed by next (canMerge holds); next is consumed. */
  absorb(next: Vma): void {
    if (next.wp) for (const p of next.wp) (this.wp ??= new Set()).add(p + this.pages);
    if (next.poison) for (const p of next.poison) (this.poison ??= new Set()).add(p + this.pages);
    this.frames = FrameTable.concat(this.frames, next.frames);
    this.end = next.end;
    this.anon ??= next.anon;
    this.written ||= next.written;
    next.release();
  }

  /** One more VMA maps this one's file or shared object (a split, a fork, a move): keep it alive. */
  retain(): void {
    this.file?.hold?.incRef();
    this.shm?.incRef();
  }

  /** This VMA no longer maps its file or shared object. */
  release(): void {
    this.file?.hold?.decRef();
    this.shm?.decRef();
  }
}

/** The page indices of set at n and above leave it, renumbered from n, for the right half of a split (null: none). */
function splitSet(set: Set<number> | null, n: number): Set<number> | null {
  if (set === null) return null;
  let right: Set<number> | null = null;
  for (const p of [...set]) {
    if (p < n) continue;
    set.delete(p);
    (right ??= new Set()).add(p - n);
  }
  return right;
}

function sameFile(a: VmaFile | null, b: VmaFile | null): boolean {
  // Linux compares the open file: two opens of one file do not merge, two
  // mmaps of one fd do (each mmap gets its own Mappable object, the same hold).
  return a === b || (a !== null && b !== null && a.hold !== undefined && a.hold === b.hold);
}

export function pageAlignUp(x: number): number {
  return Math.ceil(x / PAGE) * PAGE;
}

export function pageAlignDown(x: number): number {
  return Math.floor(x / PAGE) * PAGE;
}
