// The memory side of userfaultfd(2): which pages of an address space a
// context serves (VMAs registered with UFFDIO_REGISTER_MODE_MISSING), whether
// a page there is missing (a fault then becomes a message to the context
// instead of a filled page), and the resolutions UFFDIO_COPY and
// UFFDIO_ZEROPAGE, which fill missing pages only. The context itself (its
// messages, its blocked tasks) is the file's (fsimpl/userfaultfd).

import { E, Errno } from '../abi/errno';
import { PROT_WRITE } from '../abi/mm';
import { UFFDIO_REGISTER_MODE_MISSING } from '../abi/userfaultfd';
import { WaitQueue } from '../abi/waitqueue';
import type { MemoryManager } from './mm';
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
    readonly write: boolean,
  ) {
    super(E.EFAULT, 'userfaultfd: missing page');
  }
}

/** The context that serves a fault on page p of v, when the page is missing in a range registered for missing faults. */
export function missingCtx(v: Vma, p: number): UserfaultCtx | null {
  if (v.uffd === null || !(v.uffdMode & UFFDIO_REGISTER_MODE_MISSING) || v.frames.get(p) >= 0) return null;
  // A shared page another mapping of the object filled is not missing.
  if (v.shm && v.shm.frameAt(v.pgoff + p) >= 0) return null;
  return v.uffd;
}

/**
 * A Sentry access to page p of v: an error when the page is missing in a
 * registered range (the context's to serve, or EFAULT for a user-mode-only
 * or SIGBUS context), nothing otherwise.
 */
export function checkKernelAccess(v: Vma, p: number, addr: number, write: boolean): void {
  const c = missingCtx(v, p);
  if (c === null) return;
  if (c.userModeOnly || c.sigbus) throw new Errno(E.EFAULT);
  throw new UserfaultPending(c, addr, write);
}

/** Whether a VMA may be registered: anonymous memory, private or shared (shmem). */
function registrable(v: Vma): boolean {
  return v.file === null;
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
    if (!registrable(v)) throw new Errno(E.EINVAL);
    if (v.shared && !v.maywrite) throw new Errno(E.EPERM);
    if (v.uffd !== null && v.uffd !== ctx) throw new Errno(E.EBUSY);
  }
  mm.changeVmas(start, end, (v) => {
    v.uffd = ctx;
    v.uffdMode = mode;
    dropUntouched(mm, v);
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
      v.uffd = null;
      v.uffdMode = 0;
    }
    mm.vmas.mergeAround(s, e);
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

/** Pages one UFFDIO_COPY or ZEROPAGE fills at most (64 MiB): a longer range is partial (EAGAIN), and the caller goes on. */
const FILL_MAX = 16384;
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
export function fillMissing(mm: MemoryManager, ctx: UserfaultCtx, start: number, end: number, fill: ((page: number, into: Buffer) => void) | null): number {
  const v = registeredVma(mm, ctx, start, end);
  const present = (p: number) => v.frames.get(p) >= 0 || (v.shm !== null && v.shm.frameAt(v.pgoff + p) >= 0);
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
  } else {
    const base = mm.memfile.alloc(q - p, mm.charge);
    for (let k = 0; k < q - p; k++) frames.push(base + k);
  }
  return frames;
}
