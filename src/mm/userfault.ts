// The memory side of userfaultfd(2): which pages of an address space a
// context serves (VMAs registered with UFFDIO_REGISTER_MODE_MISSING), whether
// a page there is missing (a fault then becomes a message to the context
// instead of a filled page), and the resolutions UFFDIO_COPY and
// UFFDIO_ZEROPAGE, which fill missing pages only. The context itself (its
// messages, its blocked tasks) is the file's (fsimpl/userfaultfd).

import { E, Errno } from '../abi/errno';
import { PROT_WRITE } from '../abi/mm';
import {
  UFFD_PAGEFAULT_FLAG_MINOR, UFFD_PAGEFAULT_FLAG_WP, UFFD_PAGEFAULT_FLAG_WRITE, UFFDIO_REGISTER_MODE_MINOR,
  UFFDIO_REGISTER_MODE_MISSING, UFFDIO_REGISTER_MODE_WP,
} from '../abi/userfaultfd';
import { WaitQueue } from '../abi/waitqueue';
import type { MemoryManager } from './mm';
import type { UffdEvent } from './userfault_events';
import { PAGE, type Vma } from './vma';

/** A userfaultfd context as the memory manager sees it. */
export interface UserfaultCtx {
  /** UFFD_USER_MODE_ONLY: the Sentry's own accesses to a missing page fail (EFAULT) instead of waiting. */
  readonly userModeOnly: boolean;
  /** UFFD_FEATURE_SIGBUS: a fault is SIGBUS (EFAULT for the Sentry's accesses) instead of a message. */
  readonly sigbus: boolean;
  /** Queue the message of a fault at addr (UFFD_PAGEFAULT_FLAG_* flags) by task tid; the task then waits on the result. */
  fault(addr: number, flags: number, tid: number): PendingFault;
  /** The task stopped waiting (woken, a signal, its death): its message, if nobody read it yet, goes. */
  forget(pf: PendingFault): void;
  /** The UFFD_FEATURE_* bits chosen at UFFDIO_API. */
  readonly features: number;
  /** Events noted and not yet read or given up (Linux's mmap_changing): fills are EAGAIN meanwhile. */
  changing: number;
  /** Closed: nobody will read its events. */
  readonly released: boolean;
  /** Queue an event for read(2) (userfault_events.ts); its acting task waits on ev.queue. */
  post(ev: UffdEvent): void;
  /** The acting task stopped waiting for ev (read, its context closed, killed): an unread ev goes, and a fork child's context with it. */
  withdraw(ev: UffdEvent): void;
  /** EVENT_FORK: a context with this one's features for the child's address space. */
  forkCtx(child: MemoryManager): UserfaultCtx;
  /** A fork child's context that nobody will get (the fork failed, the parent gave up): its registrations go. */
  abandon(): void;
}

/** One task waiting for a fault to be served: its message, and the queue its wake-up comes through. */
export class PendingFault {
  /** Handed to the handler by read(2). */
  read = false;
  readonly queue = new WaitQueue();
  constructor(
    readonly addr: number,
    readonly flags: number,
    readonly tid: number,
  ) {}
}

/**
 * A Sentry access (copy-in, copy-out) met a missing page of a registered
 * range: the system call waits for the context to serve it and restarts
 * (kernel/userfault.ts). An EFAULT to every caller that does not know it.
 */
export class UserfaultPending extends Errno {
  constructor(
    readonly ctx: UserfaultCtx,
    readonly addr: number,
    /** The message's UFFD_PAGEFAULT_FLAG_* bits. */
    readonly flags: number,
  ) {
    super(E.EFAULT, 'userfaultfd: missing page');
  }
}

/** Whether v is shared memory (shmem: a shared anonymous mapping, or a file whose pages are memory, tmpfs and memfd). */
function shmem(v: Vma): boolean {
  return v.shm !== null || (v.file !== null && v.shared && v.file.mappable.framesIn !== undefined && v.file.mappable.punch !== undefined);
}

/** Whether page p of shmem VMA v has a page in its object (Linux's page cache): another mapping, write(2) or an earlier touch filled it. */
function inCache(v: Vma, p: number): boolean {
  if (v.shm) return v.shm.frameAt(v.pgoff + p) >= 0;
  if (v.file?.mappable.framesIn) return v.file.mappable.framesIn(v.pgoff + p, v.pgoff + p + 1).has(v.pgoff + p);
  return false;
}

/**
 * The context that serves the application's fault on page p of v, and the
 * message's flags: a page not mapped here, missing (no page in the
 * object either) in a MISSING range or in the object in a MINOR one, or a
 * write-protected page (only a write faults there).
 */
export function faultCtx(v: Vma, p: number): { ctx: UserfaultCtx; flags: number } | null {
  if (v.uffd === null) return null;
  if (v.frames.get(p) < 0) {
    const cached = inCache(v, p);
    if (!cached && v.uffdMode & UFFDIO_REGISTER_MODE_MISSING) return { ctx: v.uffd, flags: 0 };
    if (cached && v.uffdMode & UFFDIO_REGISTER_MODE_MINOR) return { ctx: v.uffd, flags: UFFD_PAGEFAULT_FLAG_MINOR };
    return null;
  }
  if (v.wp !== null && v.wp.has(p)) return { ctx: v.uffd, flags: UFFD_PAGEFAULT_FLAG_WRITE | UFFD_PAGEFAULT_FLAG_WP };
  return null;
}

/**
 * A Sentry access to page p of v: an error when the page is missing in a
 * registered range, or write-protected and written (the context's to
 * serve, or EFAULT for a user-mode-only or SIGBUS context), nothing otherwise.
 */
export function checkKernelAccess(v: Vma, p: number, addr: number, write: boolean): void {
  if (v.poison !== null && v.poison.has(p) && v.frames.get(p) < 0) throw new Errno(E.EFAULT);
  const at = faultCtx(v, p);
  // A read passes a write-protected page.
  if (at === null || (!write && at.flags & UFFD_PAGEFAULT_FLAG_WP)) return;
  if (at.ctx.userModeOnly || at.ctx.sigbus) throw new Errno(E.EFAULT);
  throw new UserfaultPending(at.ctx, addr, at.flags | (write ? UFFD_PAGEFAULT_FLAG_WRITE : 0));
}

/**
 * Whether a VMA may be registered in mode: anonymous memory and shmem
 * files, in every mode but minor faults, which are for shmem only (write
 * protection of shmem needs no feature: Linux with uffd-wp PTE markers).
 */
function registrable(v: Vma, mode = UFFDIO_REGISTER_MODE_MISSING): boolean {
  if (v.file !== null && !shmem(v)) return false;
  return !(mode & UFFDIO_REGISTER_MODE_MINOR && !shmem(v));
}

/**
 * UFFDIO_REGISTER of [start, end) (page aligned, checked by the caller) for
 * ctx. Every VMA in the range must be anonymous (EINVAL) and not registered
 * with another context (EBUSY); a range with no VMA is EINVAL (holes are fine), as Linux.
 * Pages that were handed out but hold only zeros become missing, so that
 * the first touch asks the context (the Sentry hands frames out eagerly;
 * Linux would not have allocated them yet).
 */
export function registerRange(mm: MemoryManager, ctx: UserfaultCtx, start: number, end: number, mode: number): void {
  const vmas = mm.vmasIn(start, end);
  if (vmas.length === 0) throw new Errno(E.EINVAL);
  for (const v of vmas) {
    if (!registrable(v, mode)) throw new Errno(E.EINVAL);
    if (v.shared && !v.maywrite) throw new Errno(E.EPERM);
    if (v.uffd !== null && v.uffd !== ctx) throw new Errno(E.EBUSY);
  }
  mm.changeVmas(start, end, (v) => {
    // A new mode replaces the old one, as a second UFFDIO_REGISTER does on Linux.
    if (v.uffd !== null && !(mode & UFFDIO_REGISTER_MODE_WP)) clearWp(mm, v);
    v.uffd = ctx;
    v.uffdMode = mode;
    // Anonymous pages handed out eagerly that hold only zeros are not there on Linux (for a shared object, punching zeros changes nothing).
    if (v.file === null && (mode & UFFDIO_REGISTER_MODE_MISSING || (v.shm && mode & UFFDIO_REGISTER_MODE_MINOR))) dropUntouched(mm, v);
    // A file's pages were mapped when the mapping was made, where Linux maps them at the first touch:
    // in a minor-fault range they leave the mapping (not the file), so the first touch asks the context.
    else if (v.file !== null && mode & UFFDIO_REGISTER_MODE_MINOR) unmapAll(mm, v);
  });
}

/** UFFDIO_UNREGISTER: [start, end) is no longer ctx's (holes and unregistered VMAs are skipped; a file mapping is EINVAL). */
export function unregisterRange(mm: MemoryManager, ctx: UserfaultCtx, start: number, end: number): void {
  const all = mm.vmasIn(start, end);
  if (all.length === 0) throw new Errno(E.EINVAL);
  for (const v of all) if (!registrable(v)) throw new Errno(E.EINVAL);
  const vmas = all.filter((v) => v.uffd === ctx);
  if (vmas.length === 0) return;
  mm.changeVmas(Math.max(start, vmas[0].start), Math.min(end, vmas[vmas.length - 1].end), (v) => {
    if (v.uffd !== ctx) return;
    clearWp(mm, v);
    v.uffd = null;
    v.uffdMode = 0;
  });
}

/** Every range ctx registered in mm (the context is released). */
export function unregisterAll(mm: MemoryManager, ctx: UserfaultCtx): void {
  const mine = [...mm.vmas].filter((v) => v.uffd === ctx).map((v) => [v.start, v.end]);
  for (const [s, e] of mine) {
    const v = mm.findVma(s);
    if (v && v.uffd === ctx) {
      clearWp(mm, v);
      v.uffd = null;
      v.uffdMode = 0;
    }
    mm.vmas.mergeAround(s, e);
  }
}

/** Every page of v leaves the mapping (a shared one: its object keeps it). */
function unmapAll(mm: MemoryManager, v: Vma): void {
  if (v.frames.count() === 0) return;
  mm.dropFrames(v, 0, v.pages);
  mm.as.unmap(v.start, v.end - v.start);
}

/** v's pages are write-protected no more: the host may write them again. */
function clearWp(mm: MemoryManager, v: Vma): void {
  if (v.wp === null) return;
  const pages = [...v.wp];
  v.wp = null;
  for (const p of pages) mm.syncHost(v, p, p + 1);
}

/**
 * UFFDIO_WRITEPROTECT: write-protect (on) or release the present pages of
 * [start, end) in VMAs registered for write protection (ENOENT for another
 * VMA in the range; holes are skipped). A page not present stays so: it
 * fills writable, as Linux without UFFD_FEATURE_WP_UNPOPULATED.
 */
export function writeProtect(mm: MemoryManager, start: number, end: number, on: boolean): void {
  const vmas = mm.vmasIn(start, end);
  if (vmas.length === 0) throw new Errno(E.ENOENT);
  for (const v of vmas) if (v.uffd === null || !(v.uffdMode & UFFDIO_REGISTER_MODE_WP)) throw new Errno(E.ENOENT);
  for (const v of vmas) {
    const from = v.pageIndex(Math.max(start, v.start));
    const to = v.pageIndex(Math.min(end, v.end) - 1) + 1;
    const pages: number[] = [];
    v.frames.forEachPresent(from, to, (p) => pages.push(p));
    if (on) {
      if (pages.length === 0) continue;
      const wp = (v.wp ??= new Set());
      for (const p of pages) wp.add(p);
    } else if (v.wp !== null) {
      for (let p = from; p < to; p++) v.wp.delete(p);
    }
    mm.syncHost(v, from, to);
  }
}

/** Frames of v that hold only zeros and that nobody else holds go back: those pages are missing now. */
function dropUntouched(mm: MemoryManager, v: Vma): void {
  const budget = { pages: Infinity };
  const gone: number[] = [];
  v.frames.forEachPresent(0, v.pages, (p, f) => {
    // Private: only this VMA holds it. Shared: the object and this VMA (no other mapping sees it).
    const holders = v.shm ? 2 : 1;
    if (mm.memfile.isZeroFrame(f) || mm.memfile.refCount(f) !== holders) return;
    if (v.shm && v.shm.frameAt(v.pgoff + p) !== f) return;
    if (mm.memfile.allZero(f, 1, budget)) gone.push(p);
  });
  for (const p of gone) {
    mm.memfile.decRef(v.frames.get(p));
    v.frames.set(p, -1);
    v.wp?.delete(p);
    if (v.shm) v.shm.punch(v.pgoff + p, v.pgoff + p + 1);
  }
  for (let i = 0; i < gone.length; ) {
    let j = i + 1;
    while (j < gone.length && gone[j] === gone[j - 1] + 1) j++;
    mm.as.unmap(v.start + gone[i] * PAGE, (j - i) * PAGE);
    i = j;
  }
}

/**
 * The VMA registered with ctx that holds all of [start, end), for a
 * resolution (UFFDIO_COPY, ZEROPAGE): ENOENT when the range is not mapped
 * or not ctx's, as Linux's mfill_atomic.
 */
function registeredVma(mm: MemoryManager, ctx: UserfaultCtx, start: number, end: number): Vma {
  const v = mm.findVma(start);
  if (!v || v.end < end || v.uffd !== ctx) throw new Errno(E.ENOENT);
  return v;
}

/** Poisoned pages an address space may hold (1 GiB of them). */
const MAX_POISONED = 262144;
/** Pages one UFFDIO_COPY or ZEROPAGE fills at most (64 MiB): a longer range is partial (EAGAIN), and the caller goes on. */
export const FILL_MAX = 16384;
/** Pages filled with one allocation and one host mapping. */
const FILL_RUN = 256;

/**
 * UFFDIO_COPY / UFFDIO_ZEROPAGE: fill the missing pages of [start, end)
 * with data (fill copies page i of the source into its buffer) or zeros,
 * in runs (one allocation, one host mapping each). Returns the bytes
 * filled: a page already present ends the fill, with EEXIST when nothing
 * was filled yet (as a bad source does with its error), else the count so
 * far, as Linux's partial copy.
 */
export function fillMissing(mm: MemoryManager, ctx: UserfaultCtx, start: number, end: number, fill: ((page: number, into: Buffer) => void) | null, wp = false): number {
  const v = registeredVma(mm, ctx, start, end);
  // UFFDIO_COPY_MODE_WP: the pages arrive write-protected, in a range registered for it only.
  if (wp && !(v.uffdMode & UFFDIO_REGISTER_MODE_WP)) throw new Errno(E.EINVAL);
  const present = (p: number) => v.frames.get(p) >= 0 || inCache(v, p);
  const first = v.pageIndex(start);
  const last = Math.min(v.pageIndex(end - 1) + 1, first + FILL_MAX);
  let p = first;
  while (p < last) {
    if (present(p)) {
      if (p === first) throw new Errno(E.EEXIST);
      break;
    }
    let q = p + 1;
    while (q < last && q - p < FILL_RUN && !present(q)) q++;
    // The source is read before any page changes, so a bad source leaves its page missing.
    let data: Buffer | null = null;
    let stop = false;
    if (fill) {
      data = Buffer.alloc((q - p) * PAGE);
      for (let k = 0; k < q - p; k++) {
        try {
          fill(p - first + k, data.subarray(k * PAGE, (k + 1) * PAGE));
        } catch (e) {
          if (p + k === first) throw e;
          q = p + k;
          stop = true;
          break;
        }
      }
    }
    if (q > p) {
      let frames: number[];
      try {
        frames = frameRun(mm, v, p, q);
      } catch (e) {
        if (p === first) throw e;
        break;
      }
      for (let k = 0; k < q - p; k++) {
        if (data) mm.memfile.bytes(frames[k]).set(data.subarray(k * PAGE, (k + 1) * PAGE));
        v.frames.set(p + k, frames[k]);
        if (wp) (v.wp ??= new Set()).add(p + k);
      }
      if (!v.shared && v.prot & PROT_WRITE) mm.vmas.prepareAnon(v);
      mm.syncHost(v, p, q);
    }
    p = q;
    if (stop) break;
  }
  return (p - first) * PAGE;
}

/** Frames for missing pages [p, q) of v: the shared object's (made now), or new private ones in one run. */
function frameRun(mm: MemoryManager, v: Vma, p: number, q: number): number[] {
  const frames: number[] = [];
  if (v.shm) {
    v.shm.fill(v.pgoff + p, v.pgoff + q, (_i, g) => frames.push(g));
    for (const g of frames) mm.memfile.incRef(g);
  } else if (v.file) {
    for (let k = p; k < q; k++) frames.push(shmemFrame(mm, v, k));
  } else {
    const base = mm.memfile.alloc(q - p, mm.charge);
    for (let k = 0; k < q - p; k++) frames.push(base + k);
  }
  return frames;
}

/** The object's frame of page p of shmem VMA v (made now if it has none), with v's reference taken. */
function shmemFrame(mm: MemoryManager, v: Vma, p: number): number {
  let f = -1;
  if (v.shm) v.shm.fill(v.pgoff + p, v.pgoff + p + 1, (_i, g) => (f = g));
  else f = v.file!.mappable.frameFor(v.pgoff + p, (v.prot & PROT_WRITE) !== 0, mm.charge);
  mm.memfile.incRef(f);
  return f;
}

/**
 * UFFDIO_CONTINUE: map the object's pages of [start, end) where the range
 * (registered for minor faults: EINVAL otherwise) does not map them yet.
 * Returns the bytes mapped; a page mapped already ends it (EEXIST if
 * first), as does one the object lacks (EFAULT if first).
 */
export function continueRange(mm: MemoryManager, ctx: UserfaultCtx, start: number, end: number): number {
  const v = registeredVma(mm, ctx, start, end);
  if (!(v.uffdMode & UFFDIO_REGISTER_MODE_MINOR)) throw new Errno(E.EINVAL);
  const first = v.pageIndex(start);
  const last = Math.min(v.pageIndex(end - 1) + 1, first + FILL_MAX);
  let p = first;
  for (; p < last; p++) {
    const err = v.frames.get(p) >= 0 ? E.EEXIST : inCache(v, p) ? 0 : E.EFAULT;
    if (err !== 0) {
      if (p === first) throw new Errno(err);
      break;
    }
    v.frames.set(p, shmemFrame(mm, v, p));
  }
  mm.syncHost(v, first, p);
  return (p - first) * PAGE;
}

/** Whether the application's touch at addr meets a page a userfaultfd poisoned (SIGBUS). */
export function poisonedAt(mm: MemoryManager, addr: number): boolean {
  const v = mm.findVma(addr);
  if (v === null || v.poison === null) return false;
  const p = v.pageIndex(addr);
  return v.poison.has(p) && v.frames.get(p) < 0;
}

/**
 * UFFDIO_POISON: mark the missing pages of [start, end) poisoned, so that a
 * touch is SIGBUS as on a hardware memory error. Returns the bytes marked;
 * a page present (or poisoned) ends it, EEXIST if first.
 */
export function poisonRange(mm: MemoryManager, ctx: UserfaultCtx, start: number, end: number): number {
  const v = registeredVma(mm, ctx, start, end);
  // Linux keeps its markers in the page tables; here they are Sentry memory, so an address space holds at most MAX_POISONED.
  let held = 0;
  for (const w of mm.vmas) held += w.poison?.size ?? 0;
  const first = v.pageIndex(start);
  const last = Math.min(v.pageIndex(end - 1) + 1, first + FILL_MAX);
  let p = first;
  for (; p < last; p++) {
    if (v.frames.get(p) >= 0 || inCache(v, p) || v.poison?.has(p)) {
      if (p === first) throw new Errno(E.EEXIST);
      break;
    }
    if (held++ >= MAX_POISONED) {
      if (p === first) throw new Errno(E.ENOMEM);
      break;
    }
    (v.poison ??= new Set()).add(p);
  }
  return (p - first) * PAGE;
}
