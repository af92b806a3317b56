// Faults and copy-on-write of an address space (MemoryManager's): a host
// fault resolved by mapping the page (a window of pages around it, as Linux's
// fault-around), breaking copy-on-write, growing a MAP_GROWSDOWN stack, or
// SIGBUS/SIGSEGV; kernel-side accesses that make pages present with the OOM
// killer's help; and the reclaim of frames handed out but never touched.

import { E, Errno } from '../abi/errno';
import { PROT_WRITE } from '../abi/mm';
import { copyAround, faultWindow } from './fault_around';
import type { MemoryManager } from './mm';
import { PAGE, type Vma } from './vma';
import { faultCtx } from './userfault';

/** A fault in a large VMA fills this many pages around it (one host mmap). */
const FAULT_CHUNK = 256; // 1 MiB
/** Pages a fault fills in a MAP_STACK mapping (Vma.lazy). */
const LAZY_CHUNK = 16;

/**
 * Resolve a host fault at addr. Returns 'ok' when the page is now accessible,
 * 'segv' for an access the VMA forbids, 'bus' for a file page beyond EOF,
 * 'uffd' for a missing page a userfaultfd serves.
 * unmapped: the host had no mapping at addr (SEGV_MAPERR).
 */
export function handleFault(mm: MemoryManager, addr: number, unmapped = false): 'ok' | 'segv' | 'bus' | 'oom' | 'uffd' {
  let v = mm.findVma(addr);
  if (!v) {
    v = growStack(mm, addr);
    if (!v) return 'segv';
  }
  if (v.prot === 0) return 'segv';
  const p = v.pageIndex(addr);
  const f = v.frames.get(p);
  // A missing page of a userfaultfd's range, or a write to a page it write-protected (reads pass): its context serves it (kernel/userfault.ts).
  // Poisoned pages stay so once the context is gone (Linux's poison markers): filled one page at a time.
  if ((v.uffd !== null || v.poison !== null) && (f < 0 || !unmapped)) {
    if (faultCtx(v, p) !== null || (f < 0 && v.poison !== null && v.poison.has(p))) return 'uffd';
    // A page the context does not intercept fills alone, as Linux does (fault-around would fill intercepted ones).
    if (f < 0) return fillOne(mm, v, p);
  }
  // One fault makes at most a chunk's runs and a few calls more, each
  // adding up to two host mappings: room for them all, so none is dropped.
  mm.as.reserveMappings(2 * (FAULT_CHUNK + 4));
  try {
    if (f >= 0 && unmapped) {
      // The platform dropped its host mappings to stay under the host's
      // limit: map the chunk's pages again as they are.
      const c0 = Math.floor(p / FAULT_CHUNK) * FAULT_CHUNK;
      mm.syncHost(v, c0, Math.min(v.pages, c0 + FAULT_CHUNK));
      return 'ok';
    }
    if (f < 0) {
      // Not mapped yet (a file page, a large VMA filled as touched): map it;
      // a write to a copy-on-write page retries and breaks COW then.
      const c0 = Math.max(0, Math.floor(p / FAULT_CHUNK) * FAULT_CHUNK);
      if (v.shm && v.pgoff + p >= v.shm.pages) throw new Errno(E.EFAULT);
      if (v.file) {
        if ((v.pgoff + p) * PAGE >= v.file.mappable.size()) throw new Errno(E.EFAULT);
        const [from, to] = faultWindow(mm.memfile, v, p, mm.charge);
        mm.populate(v, from, to, true);
      } else if (v.lazy && mm.memfile.fits(LAZY_CHUNK, mm.charge)) {
        // A thread stack grows a little at a time: a small chunk around the page.
        const l0 = Math.floor(p / LAZY_CHUNK) * LAZY_CHUNK;
        mm.populate(v, l0, Math.min(v.pages, l0 + LAZY_CHUNK), true);
      } else if (mm.memfile.fits(FAULT_CHUNK, mm.charge)) {
        mm.populate(v, c0, Math.min(v.pages, c0 + FAULT_CHUNK), true);
      } else if (!v.shared) {
        // Near the limit a read must not cost a frame (Linux maps its zero
        // page): the zero frame, read-only; a write faults again and copies it.
        const z = mm.memfile.zero();
        mm.memfile.incRef(z);
        v.frames.set(p, z);
        mm.syncHost(v, p, p + 1);
      } else {
        makePresent(mm, v, p, false);
      }
      return 'ok';
    }
    // Present but the host refused: in a writable VMA this is a write to a
    // page still mapped read-only (copy-on-write, or the other side of a
    // fork already copied it away). The caller catches a fault that repeats.
    if (v.prot & PROT_WRITE) {
      // Private: the window's shared pages are copied and all its private
      // pages (a fork's other side may have copied them away) made writable.
      const [from, to] = faultWindow(mm.memfile, v, p, mm.charge);
      if (!v.shared && copyAround(mm.memfile, v, from, to, mm.charge)) mm.syncHost(v, from, to);
      else makePresent(mm, v, p, true);
      return 'ok';
    }
  } catch (e) {
    // Beyond EOF, or a shared page of a full tmpfs: SIGBUS, as on Linux.
    if (e instanceof Errno && (e.errno === E.EFAULT || e.errno === E.ENOSPC)) return 'bus';
    if (e instanceof Errno && e.errno === E.ENOMEM) return 'oom';
    throw e;
  }
  return 'segv';
}

/** handleFault's fill of one page of a userfaultfd's range. */
function fillOne(mm: MemoryManager, v: Vma, p: number): 'ok' | 'bus' | 'oom' {
  try {
    makePresent(mm, v, p, false);
    return 'ok';
  } catch (e) {
    if (e instanceof Errno && (e.errno === E.EFAULT || e.errno === E.ENOSPC)) return 'bus';
    if (e instanceof Errno && e.errno === E.ENOMEM) return 'oom';
    throw e;
  }
}

/**
 * Under memory pressure: give back the frames of private anonymous pages
 * that were handed out (mapped eagerly) but never touched, so the limit
 * counts what the application really uses. Only for an address space whose
 * tasks are all stopped: a running stub could touch a page between the
 * check and the unmap. Returns the number of frames freed.
 */
export function reclaimUntouched(mm: MemoryManager): number {
  let freed = 0;
  const zero = mm.memfile.zero();
  const budget = { pages: Infinity };
  for (const v of mm.vmas) {
    // A userfaultfd's page once dropped would be missing again: a fault its context never expects.
    if (v.file || v.shared || v.uffd !== null) continue;
    const gone: number[] = [];
    const zeros: number[] = [];
    v.frames.forEachPresent(0, v.pages, (p, f) => {
      if (mm.memfile.refCount(f) !== 1) return;
      if (mm.memfile.isHole(f)) gone.push(p);
      // Touched, but only read (or written with zeros): Linux's memcg would
      // not count it (a read maps the zero page); it becomes the zero frame.
      else if (mm.memfile.allZero(f, 1, budget)) zeros.push(p);
    });
    for (const p of zeros) {
      mm.memfile.decRef(v.frames.get(p));
      mm.memfile.incRef(zero);
      v.frames.set(p, zero);
      mm.syncHost(v, p, p + 1);
    }
    freed += zeros.length;
    for (let i = 0; i < gone.length; ) {
      let j = i + 1;
      while (j < gone.length && gone[j] === gone[j - 1] + 1) j++;
      mm.as.unmap(v.start + gone[i] * PAGE, (j - i) * PAGE);
      i = j;
    }
    for (const p of gone) {
      mm.memfile.decRef(v.frames.get(p));
      v.frames.set(p, -1);
    }
    freed += gone.length;
  }
  return freed;
}

/** Ensure page p of v has a frame that may be accessed (and written, if write), updating the stub. */
export function makePresent(mm: MemoryManager, v: Vma, p: number, write: boolean): number {
  let f = v.frames.get(p);
  if (f < 0) {
    if (v.file) {
      if ((v.pgoff + p) * PAGE >= v.file.mappable.size()) throw new Errno(E.EFAULT);
      f = v.file.mappable.frameFor(v.pgoff + p, v.shared && write, mm.charge);
      mm.memfile.incRef(f);
    } else if (v.shm) {
      if (v.pgoff + p >= v.shm.pages) throw new Errno(E.EFAULT);
      v.shm.fill(v.pgoff + p, v.pgoff + p + 1, (_i, g) => (f = g));
      mm.memfile.incRef(f);
    } else {
      f = mm.memfile.alloc(1, mm.charge);
    }
    v.frames.set(p, f);
    if (!write || v.shared) {
      mm.syncHost(v, p, p + 1);
      return f;
    }
  }
  if (write && !v.shared && mm.memfile.refCount(f) > 1) {
    const copy = mm.memfile.copyFrame(f, mm.charge);
    mm.memfile.decRef(f);
    f = copy;
    v.frames.set(p, f);
    // A private copy of a file page no longer follows the file.
    mm.as.mapFrames(v.start + p * PAGE, 1, f, v.prot);
    return f;
  }
  mm.syncHost(v, p, p + 1);
  return f;
}

/**
 * makePresent for a kernel-side access (copyOut, a read into the buffer):
 * past the memory limit the OOM killer runs as for the application's own
 * fault (MemoryFile.userOom, set by the kernel) and the access retries;
 * EFAULT once the killer freed nothing or chose this address space's process.
 */
export function presentForKernel(mm: MemoryManager, v: Vma, p: number, write: boolean): number {
  for (;;) {
    try {
      return makePresent(mm, v, p, write);
    } catch (e) {
      if (!(e instanceof Errno && e.errno === E.ENOMEM)) throw e;
      // Progress: the sandbox's frames, or the charge group's, went down.
      const used = mm.memfile.usedPages;
      const charged = mm.charge?.usedPages ?? 0;
      if (!mm.memfile.userOom?.(mm) || (mm.memfile.usedPages >= used && (mm.charge?.usedPages ?? 0) >= charged)) throw new Errno(E.EFAULT, 'out of memory');
    }
  }
}

/** MAP_GROWSDOWN: a fault just below a stack VMA extends it (within the stack limit). */
export function growStack(mm: MemoryManager, addr: number): Vma | null {
  const v = mm.vmas.lowerBound(addr);
  if (!v || !v.growsDown || addr >= v.start) return null;
  const newStart = Math.floor(addr / PAGE) * PAGE;
  if (v.end - newStart > mm.stackLimit) return null;
  const prev = mm.vmas.prev(v);
  if (prev && prev.end > newStart - PAGE) return null; // keep a guard gap
  try {
    mm.claim(newStart, v.start, 0);
  } catch (e) {
    if (e instanceof Errno) return null;
    throw e;
  }
  const extra = (v.start - newStart) / PAGE;
  v.frames.growFront(extra);
  v.start = newStart;
  v.pgoff -= extra;
  mm.vmas.update(v);
  mm.populate(v, 0, extra);
  return v;
}
