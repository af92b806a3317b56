// UFFDIO_MOVE (Linux 6.8): pages of private anonymous memory leave the
// source and appear at the destination, a range registered with the
// context. A page is a frame of the memory file, so a move hands the frame
// over (the source's entry cleared, the destination's set, both host
// mappings changed) and copies nothing.

import { E, Errno } from '../abi/errno';
import { PROT_READ, PROT_WRITE, PROT_EXEC } from '../abi/mm';
import type { MemoryManager } from './mm';
import { FILL_MAX, type UserfaultCtx } from './userfault';
import { PAGE, type Vma } from './vma';

const ACCESS = PROT_READ | PROT_WRITE | PROT_EXEC;

/** Linux's validate_move_areas and its callers' checks: both private anonymous, writable alike, the destination ctx's (EINVAL). */
function checkAreas(ctx: UserfaultCtx, sv: Vma, dv: Vma, src: number, dst: number, len: number): void {
  if (sv.shared || dv.shared || src + len > sv.end || dst + len > dv.end) throw new Errno(E.EINVAL);
  if ((sv.prot & ACCESS) !== (dv.prot & ACCESS) || (sv.locked !== 0) !== (dv.locked !== 0)) throw new Errno(E.EINVAL);
  if (!(sv.prot & PROT_WRITE) || dv.uffd !== ctx || sv.file !== null || dv.file !== null) throw new Errno(E.EINVAL);
}

/**
 * Move [src, src+len) to [dst, dst+len) page by page, in order (so
 * overlapping ranges work as Linux's forward walk). A present destination
 * page ends it (EEXIST), as does a source hole unless holes are allowed
 * (ENOENT; skipped otherwise) and a page shared with another address space
 * (EBUSY: copy-on-write after fork); the error is thrown if nothing moved,
 * else the bytes done so far are returned (at most FILL_MAX pages a call).
 */
export function movePages(mm: MemoryManager, ctx: UserfaultCtx, dst: number, src: number, len: number, allowHoles: boolean): number {
  const dv = mm.findVma(dst);
  const sv = mm.findVma(src);
  if (dv === null || sv === null) throw new Errno(E.ENOENT);
  checkAreas(ctx, sv, dv, src, dst, len);
  const n = Math.min(len / PAGE, FILL_MAX);
  // The Sentry hands frames out eagerly: a source frame of zeros the application never touched is a hole on Linux
  // (the host's record of touched pages is asked only when a frame of zeros is met).
  let touched: Uint8Array | null | undefined;
  const untouched = (k: number): boolean => {
    if (touched === undefined) touched = mm.as.touchedPages(src, n);
    return touched === null || touched[k] !== 1;
  };
  const budget = { pages: Infinity };
  const memfile = mm.memfile;
  let err = 0;
  let i = 0;
  const moved: number[] = [];
  for (; i < n; i++) {
    const dp = dv.pageIndex(dst + i * PAGE);
    const sp = sv.pageIndex(src + i * PAGE);
    if (dv.frames.get(dp) >= 0) {
      err = E.EEXIST;
      break;
    }
    const f = sv.frames.get(sp);
    const zero = f >= 0 && memfile.isZeroFrame(f);
    if (f < 0 || (!zero && memfile.refCount(f) === 1 && memfile.allZero(f, 1, budget) && untouched(i))) {
      if (allowHoles) continue;
      err = E.ENOENT;
      break;
    }
    if (!zero && memfile.refCount(f) !== 1) {
      err = E.EBUSY;
      break;
    }
    sv.frames.set(sp, -1);
    sv.wp?.delete(sp);
    dv.frames.set(dp, f);
    moved.push(i);
  }
  // The host follows in runs: every source page moved leaves its mapping,
  // then the destination's present pages are mapped (a source page that is
  // also a destination, in overlapping ranges, is mapped again).
  for (let k = 0; k < moved.length; ) {
    let j = k + 1;
    while (j < moved.length && moved[j] === moved[j - 1] + 1) j++;
    mm.as.unmap(src + moved[k] * PAGE, (j - k) * PAGE);
    k = j;
  }
  if (i > 0) {
    mm.syncHost(dv, dv.pageIndex(dst), dv.pageIndex(dst) + i);
    mm.vmas.prepareAnon(dv);
  }
  if (i === 0 && err !== 0) throw new Errno(err);
  return i * PAGE;
}
