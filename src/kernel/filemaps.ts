// A file that shrinks takes its pages past the new end out of every address
// space of the sandbox that maps it (Linux's truncate_pagecache): a touch there
// is then SIGBUS, and after the file grows back the mapping sees its new data.

import type { Kernel } from './kernel';
import type { MemoryManager } from '../mm/mm';
import type { Vma } from '../mm/vma';
import type { Mappable } from '../mm/mappable';
import { PAGE_SIZE as PAGE } from '../abi/mm';

/** Every live address space of the sandbox, once each (threads and vfork children share one). */
function* addressSpaces(k: Kernel): Generator<MemoryManager> {
  const seen = new Set<MemoryManager>();
  for (const t of k.tasks.values()) {
    if (seen.has(t.mm) || t.state === 'dead') continue;
    seen.add(t.mm);
    yield t.mm;
  }
}

export function unmapPastEof(k: Kernel, dev: number, ino: number, size: number): void {
  for (const mm of addressSpaces(k)) mm.dropPastEof(dev, ino, size);
}

/** Whether v maps the file (dev, ino); device 0 is no file system's (SysV segments use it). */
function mapsFile(v: Vma, dev: number, ino: number): boolean {
  return v.file !== null && dev !== 0 && v.file.dev === dev && v.file.ino === ino;
}

/**
 * Punch [off, off+len) out of the file (dev, ino) with `punch` (its
 * fallocate): the whole pages it frees leave every mapping too (Linux's
 * unmap_mapping_range), so the mappings read the hole's zeros. The frames
 * are noted first, to tell a private mapping's page that was still the
 * file's from a private copy, which stays.
 */
export function punchMapped(k: Kernel, m: Mappable | null, dev: number, ino: number, off: number, len: number, punch: () => void): void {
  const from = Math.ceil(off / PAGE), to = Math.floor(Math.min(off + len, Number.MAX_SAFE_INTEGER) / PAGE);
  const frames = to > from && m?.framesIn ? m.framesIn(from, to) : null;
  punch();
  if (!frames?.size) return;
  for (const mm of addressSpaces(k)) mm.dropObjectPages((v) => mapsFile(v, dev, ino), from, to, frames);
}

/** The same for a shared anonymous object (MADV_REMOVE on MAP_SHARED|MAP_ANONYMOUS memory). */
export function unmapPunchedShared(k: Kernel, shm: object, from: number, to: number): void {
  for (const mm of addressSpaces(k)) mm.dropObjectPages((v) => v.shm === shm, from, to, null);
}

/**
 * Whether some address space maps (dev, ino) shared and may write it
 * (Linux's i_mmap_writable: VM_SHARED with VM_MAYWRITE, even read-only
 * now): F_SEAL_WRITE is refused then (EBUSY). Rare: a linear walk.
 */
export function sharedWritable(k: Kernel, dev: number, ino: number): boolean {
  for (const mm of addressSpaces(k)) {
    for (const v of mm.vmas) if (v.shared && v.maywrite && mapsFile(v, dev, ino)) return true;
  }
  return false;
}
