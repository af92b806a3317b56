// Pages leaving mappings without the mappings going: a file truncated under
// them, a punched hole in a file or shared object, MADV_DONTNEED.

import { E, Errno } from '../abi/errno';
import type { MemoryManager } from './mm';
import { PAGE, type Vma } from './vma';

/**
 * The file (dev, ino) shrank to size bytes: its pages past the new end leave
 * every mapping of it, shared ones and private copies alike (Linux's
 * truncate unmaps COW pages too), so a touch there is SIGBUS and, once the
 * file grows back, a fault maps the file's new page.
 */
export function dropPastEof(mm: MemoryManager, dev: number, ino: number, size: number): void {
  const endPage = Math.ceil(size / PAGE);
  for (const v of mm.vmas) {
    // Device 0 is no filesystem's (SysV segments use it): never a match.
    if (!v.file || dev === 0 || v.file.dev !== dev || v.file.ino !== ino) continue;
    const from = Math.max(0, endPage - v.pgoff);
    if (from >= v.pages) continue;
    mm.dropFrames(v, from, v.pages);
    mm.as.unmap(v.start + from * PAGE, (v.pages - from) * PAGE);
  }
}

/**
 * Pages [from, to) of a file or shared object (page indices in it) were
 * punched out: they leave the VMAs that match, shared pages and private
 * ones that were still the object's frame (`frames`, page to frame, taken
 * before the punch; null: shared mappings only), as Linux's
 * unmap_mapping_range without its private copies. A touch then faults in
 * the object's new (zero) page.
 */
export function dropObjectPages(mm: MemoryManager, match: (v: Vma) => boolean, from: number, to: number, frames: Map<number, number> | null): void {
  for (const v of mm.vmas) {
    if (!match(v)) continue;
    const a = Math.max(0, from - v.pgoff), b = Math.min(v.pages, to - v.pgoff);
    if (a >= b) continue;
    const gone: number[] = [];
    v.frames.forEachPresent(a, b, (p, f) => {
      if (v.shared || frames?.get(v.pgoff + p) === f) gone.push(p);
    });
    for (const p of gone) {
      mm.memfile.decRef(v.frames.get(p));
      v.frames.set(p, -1);
    }
    for (let i = 0; i < gone.length; ) {
      let j = i + 1;
      while (j < gone.length && gone[j] === gone[j - 1] + 1) j++;
      mm.as.unmap(v.start + gone[i] * PAGE, (j - i) * PAGE);
      i = j;
    }
  }
}

/** MADV_DONTNEED: private pages read as zeros (or the file's contents) again; shared pages keep their data. */
export function discard(mm: MemoryManager, addr: number, len: number): void {
  const end = addr + len;
  for (let a = addr; a < end; ) {
    const v = mm.findVma(a);
    if (!v) throw new Errno(E.ENOMEM);
    a = Math.min(v.end, end);
  }
  for (let a = addr; a < end; ) {
    const v = mm.findVma(a)!;
    const from = v.pageIndex(a);
    const stop = Math.min(v.end, end);
    const to = v.pageIndex(stop - 1) + 1;
    // A shared page stays in its object: dropping the mapping's reference changes nothing, except
    // in a userfaultfd's range, where the next touch is a minor fault (or missing, once punched).
    if (!v.shared || v.uffd !== null) {
      // A poisoned page reads as a fresh one again.
      if (v.poison) for (let p = from; p < to; p++) v.poison.delete(p);
      mm.dropFrames(v, from, to);
      mm.as.unmap(v.start + from * PAGE, (to - from) * PAGE);
      mm.populate(v, from, to);
    }
    a = stop;
  }
}
