// mremap as Linux 6.x does it: shrink in place (the tail may span several
// VMAs), grow in place when the space after is free, move (MREMAP_MAYMOVE, or
// to a fixed address), move several VMAs at once (MREMAP_FIXED at the same
// size: gaps between them stay gaps), duplicate a shared mapping (old size 0),
// and move without unmapping the source (MREMAP_DONTUNMAP: private pages of
// the source read as zeros or the file again, shared ones still see the
// object). The syscall layer checked the flags and the alignment.

import { E, Errno } from '../abi/errno';
import { MREMAP_DONTUNMAP, MREMAP_MAYMOVE } from '../abi/mm';
import { FrameTable } from './frame_table';
import type { MemoryManager } from './mm';
import { PAGE, Vma } from './vma';
import { noteRemap } from './userfault_events';

export function remap(mm: MemoryManager, old: number, oldLen: number, newLen: number, flags: number, fixedAddr: number): number {
  const mayMove = (flags & MREMAP_MAYMOVE) !== 0;
  const dontUnmap = (flags & MREMAP_DONTUNMAP) !== 0;
  const v = mm.findVma(old);
  if (!v) throw new Errno(E.EFAULT);
  // A sealed source is never shrunk, grown, moved or duplicated (a sealed target: unmapRange's check).
  mm.checkUnsealed(old, old + Math.max(oldLen, PAGE));
  if (oldLen === 0) {
    // A second mapping of the same shared pages (only shared ones: private pages have no object to share).
    if (!v.shared) throw new Errno(E.EINVAL, 'mremap duplicate of a private mapping');
    if (!mayMove) throw new Errno(E.ENOMEM);
    if (fixedAddr >= 0 && old > fixedAddr && fixedAddr + newLen > old) throw new Errno(E.EINVAL);
    const to = fixedAddr >= 0 ? fixedAddr : mm.findFree(newLen);
    return duplicate(mm, v, old, newLen, to);
  }
  if (fixedAddr >= 0) {
    if (fixedAddr < old + oldLen && old < fixedAddr + newLen) throw new Errno(E.EINVAL);
    // Linux's mremap_to keeps two more in reserve for the target's unmapping.
    mm.roomToMove(2);
    if (oldLen === newLen) return moveMany(mm, old, oldLen, fixedAddr, dontUnmap);
    if (old + oldLen > v.end) throw new Errno(E.EFAULT);
    mm.claim(fixedAddr, fixedAddr + newLen, 2 + mm.splitsAt(old, old + oldLen) + mm.splitsAt(fixedAddr, fixedAddr + newLen));
    mm.unmapRange(fixedAddr, newLen);
    return movePiece(mm, old, oldLen, newLen, fixedAddr, dontUnmap);
  }
  if (newLen < oldLen && !dontUnmap) {
    // The tail is unmapped as munmap would, whatever VMAs it spans.
    mm.unmapRange(old + newLen, oldLen - newLen);
    return old;
  }
  if (old + oldLen > v.end) throw new Errno(E.EFAULT);
  if (newLen === oldLen && !dontUnmap) return old;
  if (!dontUnmap && old + oldLen === v.end && mm.isFree(v.end, old + newLen)) {
    mm.claim(v.end, old + newLen, mm.splitsAt(old, old + oldLen));
    mm.splitAround(old, old + oldLen);
    mm.extendVma(mm.findVma(old)!, old + newLen);
    mm.vmas.mergeAround(old, old + newLen);
    return old;
  }
  if (!mayMove) throw new Errno(E.ENOMEM);
  mm.roomToMove(0);
  const to = mm.findFree(newLen);
  mm.claim(to, to + newLen, 2 + mm.splitsAt(old, old + oldLen));
  return movePiece(mm, old, oldLen, newLen, to, dontUnmap);
}

/**
 * MREMAP_FIXED at the same size: each VMA of [old, old+len) moves to the
 * same offset from `to`; the source must start mapped (EFAULT), holes stay holes.
 */
function moveMany(mm: MemoryManager, old: number, len: number, to: number, dontUnmap: boolean): number {
  const pieces: Array<[number, number]> = [];
  for (const v of mm.vmas.overlapping(old, old + len)) pieces.push([Math.max(v.start, old), Math.min(v.end, old + len)]);
  mm.claim(to, to + len, 2 * pieces.length + mm.splitsAt(old, old + len) + mm.splitsAt(to, to + len));
  mm.unmapRange(to, len);
  for (const [s, e] of pieces) movePiece(mm, s, e - s, e - s, to + (s - old), dontUnmap);
  return to;
}

/**
 * Move [old, old+oldLen) (inside one VMA) to [to, to+newLen), which is free
 * and claimed: the frames follow, the rest of a grown range fills as usual.
 */
function movePiece(mm: MemoryManager, old: number, oldLen: number, newLen: number, to: number, dontUnmap: boolean): number {
  mm.splitAround(old, old + oldLen);
  const src = mm.findVma(old)!;
  const keep = Math.min(oldLen, newLen) / PAGE;
  const frames = src.frames.moved(newLen / PAGE, 0);
  frames.forEachPresent(0, keep, (_p, f) => mm.memfile.incRef(f));
  const moved = new Vma(to, to + newLen, src.prot, src.shared, frames, src.file, src.pgoff, src.growsDown, src.name);
  moved.copyFlags(src);
  // Private anonymous pages are numbered by address only when created: a moved area keeps its numbers (vm_pgoff).
  moved.retain();
  if (dontUnmap) {
    // The source stays mapped: its private pages are gone (zeros, or the
    // file again), a shared mapping still sees the object's pages.
    if (!src.shared) mm.discard(old, oldLen);
    // The lock moves with the pages (Linux clears VM_LOCKED on the source).
    src.locked = 0;
    if (!src.file && !src.shared) src.anon = null;
  }
  // Linux's order of events: the target's unmapping, the move, then the source's unmapping.
  noteRemap(mm, src, moved, old, oldLen);
  if (!dontUnmap) mm.unmapRange(old, oldLen);
  mm.vmas.insert(moved);
  mm.syncHost(moved, 0, keep);
  mm.populate(moved, keep, moved.pages);
  mm.vmas.mergeAround(to, to + newLen);
  return to;
}

/** mremap with old size 0: a new VMA over the same file or shared object, from the page at old. */
function duplicate(mm: MemoryManager, v: Vma, old: number, newLen: number, to: number): number {
  mm.claim(to, to + newLen, 1 + mm.splitsAt(to, to + newLen));
  const pgoff = v.pgoff + (old - v.start) / PAGE;
  // The destination may cover the source VMA itself: hold its object across the unmap.
  v.retain();
  try {
    mm.unmapRange(to, newLen);
    // As Linux, the destination goes first: if that took the source page, there is nothing to duplicate.
    if (!mm.findVma(old)) throw new Errno(E.EFAULT);
  } catch (e) {
    v.release();
    throw e;
  }
  const d = new Vma(to, to + newLen, v.prot, true, new FrameTable(newLen / PAGE), v.file, pgoff, false, v.name);
  d.copyFlags(v);
  d.anon = null;
  // d takes over the reference held above.
  mm.vmas.insert(d);
  mm.populate(d, 0, d.pages);
  mm.vmas.mergeAround(to, to + newLen);
  return to;
}
