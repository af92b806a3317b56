// Frames for a VMA's pages and their mirror in the stub: a new mapping's
// pages get frames at once when it is small (file pages from the file's
// page cache, anonymous ones next to their neighbours' frames), and every
// run of consecutive frames with one protection becomes one host mapping.

import { PROT_WRITE } from '../abi/mm';
import type { MemoryManager } from './mm';
import { EAGER_COPY_VMA } from './mm';
import { PAGE, type Vma } from './vma';
import { UFFDIO_REGISTER_MODE_MINOR, UFFDIO_REGISTER_MODE_MISSING } from '../abi/userfaultfd';

const MAX_FILL_RUN = 1 << 18;
/** VMAs up to this many pages get frames when created; larger ones when touched. */
const EAGER_PAGES = 8192; // 32 MiB

/**
 * Give pages [from, to) of v frames and map them in the stub. Ranges up to
 * EAGER_PAGES are done at once (memfd pages cost nothing until touched);
 * larger ones fill in by FAULT_CHUNK as they are touched. In a file whose
 * pages are memory (tmpfs: its mappable lists the pages it has), holes get
 * pages only when forced (a fault's window, mlock, MAP_POPULATE): mapping a
 * sparse file allocates nothing, as on Linux. A
 * fault fills its whole 64 KiB window (fault_around.ts), where Linux
 * allocates the touched page only: st_blocks and SEEK_HOLE then see 16
 * pages per touched window, the price of one fault stop per window.
 */
export function populate(mm: MemoryManager, v: Vma, from: number, to: number, force = false): void {
  if (v.prot === 0 || ((to - from > EAGER_PAGES || v.lazy) && !force)) return;
  // A userfaultfd's range gets pages only from its context (UFFDIO_COPY, mm/userfault.ts).
  if ((v.uffd !== null && v.uffdMode & (UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_MINOR)) || v.poison !== null) {
    syncHost(mm, v, from, to);
    return;
  }
  // Near the memory limit, mappings still succeed (Linux overcommits) and get frames when touched.
  if (!force && !mm.memfile.fits(to - from, mm.charge)) return;
  if (v.file) {
    const size = v.file.mappable.size();
    const lastPage = Math.ceil(size / PAGE) - v.pgoff;
    to = Math.min(to, Math.max(from, lastPage));
    // A small private writable file mapping (a library's .data and .got)
    // is written at once by the dynamic loader: give it private copies now
    // rather than share the page cache and take a fault per page.
    const copy = !v.shared && (v.prot & PROT_WRITE) !== 0 && to - from <= EAGER_COPY_VMA && to > from;
    const base = copy ? mm.memfile.alloc(to - from, mm.charge) : -1;
    const has = !force && v.file.mappable.framesIn ? v.file.mappable.framesIn(v.pgoff + from, v.pgoff + to) : null;
    for (let p = from; p < to; p++) {
      if (v.frames.get(p) >= 0) continue;
      if (has && !has.has(v.pgoff + p)) continue;
      const f = v.file.mappable.frameFor(v.pgoff + p, v.shared && (v.prot & PROT_WRITE) !== 0, mm.charge);
      if (copy) {
        mm.memfile.copyPage(f, base + (p - from));
        v.frames.set(p, base + (p - from));
        continue;
      }
      mm.memfile.incRef(f);
      v.frames.set(p, f);
    }
    if (copy) {
      // Frames of the run that stayed unused (pages already present) go back.
      for (let p = from; p < to; p++) if (v.frames.get(p) !== base + (p - from)) mm.memfile.decRef(base + (p - from));
    }
  } else if (v.shm) {
    // Every mapping of the shared object sees its frames; pages past its size stay missing (SIGBUS).
    to = Math.min(to, Math.max(from, v.shm.pages - v.pgoff));
    v.shm.fill(v.pgoff + from, v.pgoff + to, (i, f) => {
      if (v.frames.get(i - v.pgoff) >= 0) return;
      mm.memfile.incRef(f);
      v.frames.set(i - v.pgoff, f);
    });
  } else {
    let p = from;
    while (p < to) {
      if (v.frames.get(p) >= 0) {
        p++;
        continue;
      }
      let q = p;
      while (q < to && v.frames.get(q) < 0 && q - p < MAX_FILL_RUN) q++;
      const f = allocAnon(mm, v, p, q);
      for (let k = p; k < q; k++) v.frames.set(k, f + (k - p));
      p = q;
    }
  }
  if (!v.shared && v.prot & PROT_WRITE) mm.vmas.prepareAnon(v);
  syncHost(mm, v, from, to);
}

/**
 * Frames for pages [p, q) of anonymous v, next to the frames of the page
 * above (mmap hands out addresses top down) or below (brk, a large VMA
 * touched upward) when it has one: merged VMAs then stay one host mapping.
 */
function allocAnon(mm: MemoryManager, v: Vma, p: number, q: number): number {
  const above = v.frames.get(q);
  if (above >= 0) return mm.memfile.allocNear(q - p, above - (q - p), true, mm.charge);
  const below = v.frames.get(p - 1);
  if (below >= 0) return mm.memfile.allocNear(q - p, below + 1, false, mm.charge);
  return mm.memfile.allocNear(q - p, -1, true, mm.charge);
}

/** Host protection for a page: private pages shared with anyone, and pages a userfaultfd write-protected, are mapped read-only until written. */
function hostProt(mm: MemoryManager, v: Vma, p: number, frame: number): number {
  if (frame < 0) return 0;
  if (v.wp !== null && v.wp.has(p)) return v.prot & ~PROT_WRITE;
  // A frame referenced elsewhere (another process, a file's page cache) is copied on write.
  if (!v.shared && v.prot & PROT_WRITE && mm.memfile.refCount(frame) > 1) return v.prot & ~PROT_WRITE;
  return v.prot;
}

/** Mirror pages [from, to) of v into the stub, one mmap per run of consecutive frames with the same protection. */
export function syncHost(mm: MemoryManager, v: Vma, from: number, to: number): void {
  let runStart = -1;
  let runFrame = -1;
  let runLen = 0;
  let runProt = 0;
  const emit = () => {
    if (runLen > 0) mm.as.mapFrames(v.start + runStart * PAGE, runLen, runFrame, runProt);
    runLen = 0;
  };
  v.frames.forEachPresent(from, to, (p, f) => {
    const prot = hostProt(mm, v, p, f);
    if (runLen > 0 && p === runStart + runLen && f === runFrame + runLen && prot === runProt) {
      runLen++;
      return;
    }
    emit();
    runStart = p;
    runFrame = f;
    runProt = prot;
    runLen = 1;
  });
  emit();
}
