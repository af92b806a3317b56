// fork of an address space: the child gets every VMA (but MADV_DONTFORK
// ones); private writable pages become copy-on-write in both, except small
// writable areas, which are copied at once (a copy-on-write fault costs a
// trap and a host mapping here, far more than copying a page).

import type { AddressSpace } from '../platform/platform';
import { PROT_WRITE } from '../abi/mm';
import { FrameTable } from './frame_table';
import { EAGER_COPY_VMA, MemoryManager } from './mm';
import { Vma } from './vma';
import type { UserfaultCtx } from './userfault';
import { forkRegistration, noteFork } from './userfault_events';

/** fork copies private writable VMAs of up to EAGER_COPY_VMA pages at once instead of sharing them copy-on-write, up to this many pages per fork in all. */
const EAGER_COPY_BUDGET = 1024;

export function forkMemory(parent: MemoryManager, as: AddressSpace): MemoryManager {
  const child = new MemoryManager(parent.memfile, as, parent.sysctl);
  child.charge = parent.charge;
  child.mdwe = parent.inheritMdwe();
  Object.assign(child, {
    brkStart: parent.brkStart, brkEnd: parent.brkEnd, mmapBase: parent.mmapBase, stackTop: parent.stackTop,
    argStart: parent.argStart, argEnd: parent.argEnd, envStart: parent.envStart, envEnd: parent.envEnd, auxv: parent.auxv, stackLimit: parent.stackLimit,
  });
  // The child's userfaultfd contexts (EVENT_FORK), one per parent context: the parent's monitor learns of them once the fork is made.
  const made = new Map<UserfaultCtx, UserfaultCtx>();
  try {
    forkInto(parent, child, made);
    noteFork(parent, made, child);
  } catch (e) {
    for (const nctx of made.values()) nctx.abandon();
    // Past the memory limit (ENOMEM): the half-built child gives everything back.
    child.release();
    throw e;
  }
  return child;
}

function forkInto(parent: MemoryManager, child: MemoryManager, made: Map<UserfaultCtx, UserfaultCtx>): void {
  let budget = EAGER_COPY_BUDGET;
  for (const v of parent.vmas) {
    // MADV_DONTFORK: the child does not get this range at all.
    if (v.dontfork) continue;
    const c = new Vma(v.start, v.end, v.prot, v.shared, new FrameTable(0), v.file, v.pgoff, v.growsDown, v.name);
    c.copyFlags(v);
    // Memory locks are not inherited.
    c.locked = 0;
    // A userfaultfd's poisoned pages are, as Linux copies its poison markers (the registration only with EVENT_FORK).
    if (v.poison) c.poison = new Set(v.poison);
    forkRegistration(v, c, child, made);
    // The child's private pages get their own identity, as Linux's anon_vma_fork gives a new anon_vma.
    if (v.anon) c.anon = {};
    c.retain();
    child.vmas.insert(c);
    if (v.wipeonfork) {
      // MADV_WIPEONFORK: the child's pages start as zeros.
      c.frames = new FrameTable(v.pages);
      c.anon = null;
      child.populate(c, 0, c.pages);
      continue;
    }
    const present = v.frames.count();
    if (!v.shared && v.prot & PROT_WRITE && present > 0 && present <= EAGER_COPY_VMA && present <= budget) {
      // Small writable areas (data, bss, heap, stack tops) are copied for
      // the child now, and the parent keeps its pages.
      budget -= present;
      c.frames = copyFrames(parent, v);
    } else {
      c.frames = v.frames.slice(0, v.pages);
      c.frames.forEachPresent(0, v.pages, (_p, f) => parent.memfile.incRef(f));
      if (!v.shared && v.prot & PROT_WRITE) parent.as.protect(v.start, v.end - v.start, v.prot & ~PROT_WRITE);
    }
    child.syncHost(c, 0, c.pages);
  }
}

/** Fresh frames (one contiguous run) holding a copy of v's present pages. */
function copyFrames(mm: MemoryManager, v: Vma): FrameTable {
  const out = new FrameTable(v.pages);
  const pages: Array<[number, number]> = [];
  v.frames.forEachPresent(0, v.pages, (p, f) => pages.push([p, f]));
  const base = mm.memfile.alloc(pages.length, mm.charge);
  pages.forEach(([p, f], i) => {
    mm.memfile.copyPage(f, base + i);
    out.set(p, base + i);
  });
  return out;
}
