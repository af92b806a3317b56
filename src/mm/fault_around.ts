// Fault-around: each fault stop costs a ptrace round trip plus a host batch,
// far more than mapping or copying a few more pages, so one fault serves the
// aligned 64 KiB window around the faulting page (Linux maps the same window
// around a file read fault, fault_around_bytes). A read fault on a file page
// maps the window's pages of the file; a write fault on a copy-on-write page
// gives every shared page of the window its private copy, so a program that
// writes a large private area (python's .data, a heap after fork) takes one
// fault per 16 pages instead of one per page.

import type { MemoryFile } from '../platform/memfile';
import type { MemCharge } from '../platform/memcharge';
import { PAGE, type Vma } from './vma';

/** Pages served by one fault: 64 KiB, Linux's default fault_around_bytes. */
export const FAULT_AROUND_PAGES = 16;
const WINDOW_BYTES = FAULT_AROUND_PAGES * PAGE;

/**
 * Pages [from, to) of v in the window around page p: the 64 KiB-aligned
 * range of addresses that holds it, clipped to v. When that many frames
 * would not fit under the memory limit, just p (a fault must not OOM-kill
 * for pages nobody asked for).
 */
export function faultWindow(memfile: MemoryFile, v: Vma, p: number, charge: MemCharge | null): [number, number] {
  const at = Math.floor((v.start + p * PAGE) / WINDOW_BYTES) * WINDOW_BYTES;
  const from = Math.max(0, (at - v.start) / PAGE);
  const to = Math.min(v.pages, (at + WINDOW_BYTES - v.start) / PAGE);
  if (!memfile.fits(to - from, charge)) return [p, p + 1];
  return [from, to];
}

/**
 * Before a write fault on a private page: give every page of [from, to)
 * whose frame is shared (with the other side of a fork, or a file's page
 * cache) a private copy now, all in one contiguous run of frames, so that
 * one host batch makes the window writable. Copying early is exact for a
 * fork's pages (a shared frame is never written while shared); a file page
 * copied before the program writes it no longer follows later writes to the
 * file, which POSIX leaves unspecified for MAP_PRIVATE (as for the small
 * private mappings copied when mapped). False when the copies would not fit
 * under the memory limit (the single-page path, which may reclaim, does it).
 */
export function copyAround(memfile: MemoryFile, v: Vma, from: number, to: number, charge: MemCharge | null): boolean {
  const pages: number[] = [];
  v.frames.forEachPresent(from, to, (p, f) => {
    if (memfile.refCount(f) > 1) pages.push(p);
  });
  if (pages.length === 0) return true;
  if (!memfile.fits(pages.length, charge)) return false;
  const base = memfile.alloc(pages.length, charge);
  pages.forEach((p, i) => {
    const f = v.frames.get(p);
    memfile.copyPage(f, base + i);
    memfile.decRef(f);
    v.frames.set(p, base + i);
  });
  return true;
}
