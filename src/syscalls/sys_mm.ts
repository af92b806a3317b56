// Memory system calls: mmap, munmap, mprotect, mremap, brk, madvise, mincore,
// msync, mlock family. The MemoryManager does the work; this file validates
// arguments the way Linux does.

import { E, Errno } from '../abi/errno';
import type { Task } from '../kernel/task';
import { PAGE, pageAlignDown, pageAlignUp, type VmaFile } from '../mm/vma';
import {
  MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_HUGETLB,
  MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MAP_SYNC, MAP_TYPE,
  MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_EXEC, PROT_READ, PROT_WRITE, TASK_SIZE,
} from '../abi/mm';
import { RLIMIT_DATA } from '../abi/resource';
import type { FileDescription } from '../vfs/file';
import { makedev } from '../abi/fs';
import { i32, type SyscallDef } from '../kernel/syscall';
import { checkCommit, checkExpand, checkProtect, isData } from './vmlimits';
import { lockFits, lockOnMap, lockRange, mlockDefs } from './sys_mlock';
import { F_SEAL_ANY_WRITE } from '../abi/memfd';
import { punchMapped, unmapPunchedShared } from '../kernel/filemaps';
import { LOCK_ON, THP_HUGE, THP_NEVER, type Vma } from '../mm/vma';
import { noteRemove } from '../mm/userfault_events';
import { HUGE_FRAMES, HUGE_SIZE } from '../mm/hugetlb';
import { HugeFile } from '../mm/hugetlb_file';
import { HugeInode } from '../fsimpl/hugetlbfs/hugetlbfs';
import { mapHugeFile } from '../fsimpl/hugetlbfs/mapping';

/** MAP_HUGE_SHIFT/MASK: log2 of the page size asked for; 21 is 2 MiB. */
const MAP_HUGE_SHIFT = 26, MAP_HUGE_MASK = 0x3f, HUGE_SHIFT = 21;
/** st_dev of the internal hugetlbfs mount /proc/PID/maps shows for MAP_HUGETLB mappings (0:0 until it exists). */
const HUGETLB_DEV = 0;

const PROT_GROWSDOWN = 0x01000000, PROT_GROWSUP = 0x02000000;
const O_ACCMODE = 3, O_WRONLY = 1, O_RDWR = 2;

/** Bits MAP_SHARED_VALIDATE refuses on a file (EOPNOTSUPP): what Linux's legacy mask and the file's own flags leave out. */
const VALIDATE_UNKNOWN = 0x600 | MAP_SYNC | MAP_FIXED_NOREPLACE | 0x3e00000;
const MAP_32BIT = 0x40;
/** MAP_32BIT places a mapping in the second GiB, as Linux does on x86-64. */
const LOW_WINDOW = [0x40000000, 0x80000000];

/** A size_t argument: beyond 2^53 (or "negative") it can only be too large. */
function usize(x: number): number {
  return x < 0 || x > Number.MAX_SAFE_INTEGER ? Infinity : x;
}

function mmap(t: Task, a: number[]): number {
  const hint = a[0];
  const prot = i32(a[2]);
  const flags = i32(a[3]);
  const fd = i32(a[4]);
  const off = a[5];
  const mm = t.mm;
  // The order of Linux's checks: the offset, the file, the length, the address, the type.
  if (off % PAGE !== 0) throw new Errno(E.EINVAL);
  const f = flags & MAP_ANONYMOUS ? null : t.fdTable.get(fd);
  // A hugetlbfs file maps in huge pages with or without MAP_HUGETLB.
  const hfile = f?.inode instanceof HugeInode ? f.inode : null;
  const huge = (flags & MAP_HUGETLB) !== 0 || hfile !== null;
  if (flags & MAP_HUGETLB) hugeMapCheck(flags, f, hfile);
  const len = usize(a[1]);
  if (len === 0) throw new Errno(E.EINVAL);
  // A hugetlb mapping is made of whole huge pages, at an address aligned to them.
  const size = huge ? Math.ceil(len / HUGE_SIZE) * HUGE_SIZE : pageAlignUp(len);
  if (size > TASK_SIZE) throw new Errno(E.ENOMEM);
  if (huge && flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) && hint % HUGE_SIZE !== 0) throw new Errno(E.EINVAL);
  let addr: number;
  if (flags & MAP_FIXED) {
    // mm.top is this address space's TASK_SIZE: the stub and the host's vDSO lie above it.
    if (hint < 0 || hint + size > mm.top) throw new Errno(E.ENOMEM);
    if (hint % PAGE !== 0) throw new Errno(E.EINVAL);
    if (hint < 0x1000) throw new Errno(E.EPERM);
    addr = hint;
  } else if (flags & MAP_FIXED_NOREPLACE) {
    if (hint < 0 || hint + size > mm.top) throw new Errno(E.ENOMEM);
    if (hint % PAGE !== 0) throw new Errno(E.EINVAL);
    if (hint < 0x1000) throw new Errno(E.ENOMEM);
    // Any existing mapping in the range is a conflict.
    if (mm.anyMapped(hint, hint + size)) throw new Errno(E.EEXIST);
    addr = hint;
  } else {
    // A hint that is negative or beyond the top is no hint (Linux looks elsewhere).
    const h = hint > 0 && hint + size <= mm.top ? pageAlignDown(hint) : 0;
    // A hugetlb mapping's place: the hint rounded up to a huge page if that is free, else a gap a huge page longer, its aligned part.
    const hh = Math.ceil(h / HUGE_SIZE) * HUGE_SIZE;
    if (huge && hh > 0 && hh + size <= mm.top && !mm.anyMapped(hh, hh + size)) addr = hh;
    else {
      const need = huge ? size + HUGE_SIZE - PAGE : size;
      addr = flags & MAP_32BIT ? mm.findFree(need, h, LOW_WINDOW[0], LOW_WINDOW[1]) : mm.findFree(need, huge ? 0 : h);
      if (huge) addr = Math.ceil(addr / HUGE_SIZE) * HUGE_SIZE;
    }
  }
  const type = flags & MAP_TYPE;
  const p = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
  let file: VmaFile | null = null;
  let shared: boolean;
  let maywrite = true;
  if (f) {
    if (type === MAP_SHARED_VALIDATE && flags & VALIDATE_UNKNOWN) throw new Errno(E.EOPNOTSUPP);
    if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) throw new Errno(E.EINVAL);
    shared = type !== MAP_PRIVATE;
    // The largest file offset is 2^63 - 1: a mapping must end below it.
    if (off < 0 || off + size > Number.MAX_SAFE_INTEGER) throw new Errno(E.EOVERFLOW);
    const acc = f.flags & O_ACCMODE;
    if (f.flags & 0o10000000 /* O_PATH */) throw new Errno(E.EBADF);
    if (acc === O_WRONLY) throw new Errno(E.EACCES);
    if (shared && p & PROT_WRITE && acc !== O_RDWR) throw new Errno(E.EACCES);
    if (shared && p & PROT_WRITE && f.flags & 0o2000 /* O_APPEND */) throw new Errno(E.EACCES);
    if (flags & MAP_GROWSDOWN) throw new Errno(E.EINVAL);
    // A file sealed against writes refuses new writable shared mappings, and
    // its read-only ones can never be made writable (VM_MAYWRITE cleared).
    const sealed = ((f.inode?.seals ?? 0) & F_SEAL_ANY_WRITE) !== 0;
    if (shared && sealed && p & PROT_WRITE) throw new Errno(E.EPERM);
    maywrite = !shared || (acc === O_RDWR && !sealed);
    const m = hfile ? null : f.mappable();
    if (hfile) {
      const hm = mapHugeFile(hfile, f, off, size, shared, noreserveOf(flags), (p & PROT_WRITE) !== 0);
      const vfs = t.kernel.vfs;
      file = { mappable: hm.mappable, name: fileName(vfs, f), nameNow: () => fileName(vfs, f), dev: hfile.fs.dev, ino: hfile.ino, hold: hm.hold };
    } else if (!m && isDevZero(f)) {
      // /dev/zero maps as anonymous memory (shared or private), as on Linux.
    } else if (!m) throw new Errno(E.ENODEV);
    else {
      const vfs = t.kernel.vfs;
      file = { mappable: m, name: fileName(vfs, f), nameNow: () => fileName(vfs, f), dev: f.inode?.fs.dev ?? 0, ino: f.inode?.ino ?? 0, hold: f };
    }
  } else {
    if (type !== MAP_SHARED && type !== MAP_PRIVATE) throw new Errno(E.EINVAL);
    shared = type === MAP_SHARED;
  }
  const growsDown = (flags & MAP_GROWSDOWN) !== 0;
  const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0;
  const noreserve = (flags & MAP_NORESERVE) !== 0;
  if (huge && !file) return mapHuge(t, addr, size, p, shared, noreserve, flags);
  if (huge && file) return mapHugeVma(t, addr, size, p, shared, file, off, flags, maywrite);
  const locked = lockOnMap(t, flags, size);
  checkExpand(t, size, isData(p, shared, growsDown), fixed ? addr : 0, fixed ? addr + size : 0);
  if (!noreserve && ((!shared && p & PROT_WRITE) || (shared && !file))) checkCommit(t, size);
  mm.checkMdwe(p, (p & PROT_EXEC) !== 0);
  // A thread stack (MAP_STACK) is filled as touched: its few used pages, not all of its megabytes.
  const v = mm.mapAt(addr, size, p, shared, file, off / PAGE, growsDown, null, noreserve, (flags & MAP_STACK) !== 0 && !file, maywrite);
  if (locked && v.locked !== locked) {
    try {
      lockRange(t, addr, addr + size, locked);
    } catch (e) {
      // Linux ignores a failure to fill a MAP_LOCKED mapping (mm_populate): the mapping stands.
      if (!(e instanceof Errno && e.errno === E.EAGAIN)) throw e;
    }
  }
  return addr;
}

/** MAP_HUGETLB's own checks: anonymous memory or a hugetlbfs file, and the one page size the sandbox has. */
function hugeMapCheck(flags: number, f: FileDescription | null, hfile: HugeInode | null): void {
  if (f) {
    // Of a file only a hugetlbfs one (whose size the flags do not choose).
    if (!hfile) throw new Errno(E.EINVAL, 'MAP_HUGETLB of a file not on hugetlbfs');
    return;
  }
  const sizeLog = (flags >>> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
  // MAP_HUGE_2MB, or 0 for the default size; any other size is a pool the sandbox has not (Linux: EINVAL).
  if (sizeLog !== 0 && sizeLog !== HUGE_SHIFT) throw new Errno(E.EINVAL);
}

function noreserveOf(flags: number): boolean {
  return (flags & MAP_NORESERVE) !== 0;
}

/** A mapping of a hugetlbfs file (its reservations made by mapHugeFile): not VM_ACCOUNT, as Linux never charges hugetlb memory to the commit limit. */
function mapHugeVma(t: Task, addr: number, size: number, prot: number, shared: boolean, file: VmaFile, off: number, flags: number, maywrite: boolean): number {
  file.hold!.incRef();
  try {
    checkExpand(t, size, isData(prot, shared, false), flags & MAP_FIXED ? addr : 0, flags & MAP_FIXED ? addr + size : 0);
    t.mm.checkMdwe(prot, (prot & PROT_EXEC) !== 0);
    t.mm.mapAt(addr, size, prot, shared, file, off / PAGE, false, null, true, false, maywrite);
  } finally {
    // The VMA holds it now; a failed mapping gives a private mapping's reservations back.
    file.hold!.decRef();
  }
  return addr;
}

/** A MAP_HUGETLB anonymous mapping: a hugetlb object of its own, its pages reserved from the pool now (ENOMEM) unless MAP_NORESERVE. */
function mapHuge(t: Task, addr: number, size: number, prot: number, shared: boolean, noreserve: boolean, flags: number): number {
  // MAP_FIXED over private hugetlb mappings: what it replaces goes first, with its reservations (as Linux's mmap_region before the new mapping reserves).
  if (flags & MAP_FIXED && !t.mm.firstSealed(addr, addr + size)) {
    const huge = privateHugeIn(t, addr, addr + size);
    if (huge.length) {
      hugeSplitCheck(t, addr, addr + size);
      t.mm.unmapRange(addr, size);
      trimHuge(t, huge);
    }
  }
  const hf = new HugeFile(t.kernel.hugePool, size / HUGE_SIZE, noreserve);
  const file: VmaFile = { mappable: hf, name: '/anon_hugepage (deleted)', dev: HUGETLB_DEV, ino: 0, hold: hf };
  hf.incRef();
  try {
    checkExpand(t, size, isData(prot, shared, false), flags & MAP_FIXED ? addr : 0, flags & MAP_FIXED ? addr + size : 0);
    t.mm.mapAt(addr, size, prot, shared, file, 0, false, null, true, false, true);
  } finally {
    // The VMA holds it now; a failed mapping gives its reservations back.
    hf.decRef();
  }
  return addr;
}

/** munmap, mprotect: a hugetlb mapping splits only at huge page boundaries (EINVAL). */
function hugeSplitCheck(t: Task, start: number, end: number): void {
  for (const v of t.mm.vmas.overlapping(start, end)) {
    const ps = v.file?.mappable.pageSize;
    if (ps === undefined) continue;
    if ((start > v.start && start % ps !== 0) || (end < v.end && end % ps !== 0)) throw new Errno(E.EINVAL);
  }
}

function isDevZero(f: { stat(): { mode: number; rdev: number } }): boolean {
  const st = f.stat();
  return (st.mode & 0o170000) === 0o020000 && st.rdev === makedev(1, 5);
}

/** The path /proc/PID/maps shows for a file mapping (an unlinked file's, a memfd's, with " (deleted)"). */
function fileName(vfs: Task['kernel']['vfs'], f: FileDescription): string {
  if (!f.path) return '';
  const r = vfs.pathname(null, f.path);
  return r.reachable ? r.path : `${r.path} (deleted)`;
}

const U64 = 2 ** 64;

/** An address argument as the unsigned value Linux sees (arguments arrive as signed 64-bit). */
function uaddr(x: number): number {
  return x < 0 ? x + U64 : x;
}

/** Whether start + len passes 2^64 (Linux's "end < start"). */
function wraps(start: number, len: number): boolean {
  return uaddr(start) + usize(len) >= U64;
}

function munmap(t: Task, a: number[]): number {
  const start = uaddr(a[0]);
  const len = usize(a[1]);
  // mm.top is this address space's TASK_SIZE: the stub's pages answer as beyond it on Linux.
  if (start % PAGE !== 0 || start > t.mm.top || len > t.mm.top - start) throw new Errno(E.EINVAL);
  const size = pageAlignUp(len);
  if (size === 0) throw new Errno(E.EINVAL);
  hugeSplitCheck(t, start, start + size);
  const huge = privateHugeIn(t, start, start + size);
  t.mm.unmapRange(start, size);
  trimHuge(t, huge);
  return 0;
}

/** The hugetlb objects of the private MAP_HUGETLB mappings in [start, end). */
function privateHugeIn(t: Task, start: number, end: number): HugeFile[] {
  const out: HugeFile[] = [];
  for (const v of t.mm.vmas.overlapping(start, end)) if (!v.shared && v.file?.mappable instanceof HugeFile) out.push(v.file.mappable);
  return out;
}

/**
 * After part of private hugetlb mappings went: each object whose remaining
 * VMAs are all in this address space (no fork child shares its pages) and
 * all private gives back the pages and reservations of what went.
 */
function trimHuge(t: Task, objs: HugeFile[]): void {
  for (const hf of new Set(objs)) {
    const ranges: Array<[number, number]> = [];
    let pieces = 0, shared = false;
    for (const v of t.mm.vmas) {
      if (v.file?.mappable !== hf) continue;
      pieces++;
      shared ||= v.shared;
      ranges.push([Math.floor(v.pgoff / HUGE_FRAMES), Math.ceil((v.pgoff + v.pages) / HUGE_FRAMES)]);
    }
    if (pieces > 0 && pieces === hf.refs && !shared) hf.trim(ranges);
  }
}

function mprotect(t: Task, a: number[]): number {
  const prot = i32(a[2]);
  // Linux's order: alignment, an empty range, a wrapping one, then the protection.
  if (a[0] % PAGE !== 0) throw new Errno(E.EINVAL);
  if (a[1] === 0) return 0;
  if (wraps(a[0], pageAlignUp(usize(a[1])))) throw new Errno(E.ENOMEM);
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) throw new Errno(E.EINVAL);
  const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
  if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) throw new Errno(E.EINVAL);
  let start = uaddr(a[0]);
  const end = start + pageAlignUp(usize(a[1]));
  if (grows) {
    // PROT_GROWSDOWN reaches down to the start of a grows-down mapping (the
    // stack); x86 has no grows-up mappings, so PROT_GROWSUP is always EINVAL.
    const v = t.mm.findVma(start);
    if (!v || v.start >= end) throw new Errno(E.ENOMEM);
    if (grows === PROT_GROWSUP || !v.growsDown) throw new Errno(E.EINVAL);
    start = v.start;
  }
  const len = end - start;
  requireMapped(t, start, start + len);
  hugeSplitCheck(t, start, end);
  // A shared mapping that may not become writable (a read-only descriptor's, a sealed file's): EACCES.
  if (prot & PROT_WRITE) for (const v of t.mm.vmas.overlapping(start, start + len)) if (v.shared && !v.maywrite) throw new Errno(E.EACCES);
  checkProtect(t, start, start + len, prot);
  for (const v of t.mm.vmas.overlapping(start, start + len)) t.mm.checkMdwe(prot, (v.prot & PROT_EXEC) !== 0);
  if (prot & PROT_WRITE) {
    // Private memory first made writable is charged (VM_ACCOUNT): the overcommit check applies.
    let becoming = 0;
    for (const v of t.mm.vmas.overlapping(start, start + len)) {
      if (!v.shared && !v.accounted && !v.noreserve) becoming += Math.min(v.end, start + len) - Math.max(v.start, start);
    }
    if (becoming) checkCommit(t, becoming);
  }
  t.mm.protect(start, len, prot & 7);
  return 0;
}

function mremap(t: Task, a: number[]): number {
  const [old, oldLenRaw, newLenRaw, flagsRaw, newAddr] = a;
  const flags = i32(flagsRaw);
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) throw new Errno(E.EINVAL);
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) throw new Errno(E.EINVAL);
  if (flags & MREMAP_DONTUNMAP && (!(flags & MREMAP_MAYMOVE) || oldLenRaw !== newLenRaw)) throw new Errno(E.EINVAL);
  if (old % PAGE !== 0) throw new Errno(E.EINVAL);
  const oldLen = pageAlignUp(usize(oldLenRaw));
  const newLen = pageAlignUp(usize(newLenRaw));
  if (newLen === 0 || newLen > TASK_SIZE) throw new Errno(E.EINVAL);
  if (wraps(old, oldLen)) throw new Errno(E.EINVAL);
  if (flags & MREMAP_FIXED) {
    if (newAddr % PAGE !== 0) throw new Errno(E.EINVAL);
    // Linux: a fixed destination beyond TASK_SIZE is EINVAL (here, beyond the stub's floor: see ARCHITECTURE.md).
    if (newAddr < 0 || newAddr + newLen > t.mm.top) throw new Errno(E.EINVAL);
  }
  const v = t.mm.findVma(uaddr(old));
  const ps = v?.file?.mappable.pageSize;
  // A hugetlb mapping resized or moved: in whole huge pages, never grown (EINVAL); the same size in place is a no-op first.
  if (ps !== undefined && (oldLen !== newLen || flags & (MREMAP_FIXED | MREMAP_DONTUNMAP))) {
    if (old % ps !== 0 || oldLen % ps !== 0 || newLen % ps !== 0 || newLen > oldLen || oldLen === 0) throw new Errno(E.EINVAL);
  }
  const added = flags & MREMAP_DONTUNMAP || oldLen === 0 ? newLen : newLen - oldLen;
  if (v && added > 0) {
    checkExpand(t, added, isData(v.prot, v.shared, v.growsDown));
    if (v.locked && !lockFits(t, added)) throw new Errno(E.EAGAIN);
    if (v.accounted) checkCommit(t, added);
  }
  return t.mm.remap(uaddr(old), oldLen, newLen, flags, flags & MREMAP_FIXED ? newAddr : -1);
}

/** RLIMIT_DATA bounds the heap (infinity unless the program set it). */
function dataLimit(t: Task): number {
  const r = t.tg.rlimits[RLIMIT_DATA];
  return r && r.cur >= 0 ? r.cur : Number.MAX_SAFE_INTEGER;
}

function brk(t: Task, a: number[]): number {
  const mm = t.mm;
  const want = a[0];
  if (want === 0 || want < mm.brkStart) return mm.brkEnd;
  const oldTop = pageAlignUp(mm.brkEnd);
  const newTop = pageAlignUp(want);
  try {
    if (newTop > oldTop) {
      // One lookup for the whole range (a hostile brk may ask for terabytes).
      if (newTop > mm.top || newTop - mm.brkStart > dataLimit(t)) return mm.brkEnd;
      if (mm.anyMapped(oldTop, newTop)) return mm.brkEnd;
      checkExpand(t, newTop - oldTop, true);
      checkCommit(t, newTop - oldTop);
      if (mm.defLock && !lockFits(t, newTop - oldTop)) return mm.brkEnd;
      const prev = mm.findVma(oldTop - 1);
      if (prev && prev.end === oldTop && prev.name === '[heap]') mm.extendVma(prev, newTop);
      else mm.mapAt(oldTop, newTop - oldTop, PROT_READ | PROT_WRITE, false, null, 0, false, '[heap]');
    } else if (newTop < oldTop) {
      mm.unmapRange(newTop, oldTop - newTop);
    }
  } catch (e) {
    if (e instanceof Errno) return mm.brkEnd;
    throw e;
  }
  mm.brkEnd = want;
  return want;
}

/** ENOMEM unless every page of [start, end) is mapped (mprotect, madvise, msync, mlock, mincore). */
function requireMapped(t: Task, start: number, end: number): void {
  for (let x = start; x < end; ) {
    const v = t.mm.findVma(x);
    if (!v) throw new Errno(E.ENOMEM);
    x = v.end;
  }
}

const MADV_DONTNEED = 4, MADV_FREE = 8, MADV_REMOVE = 9, MADV_DONTFORK = 10, MADV_DOFORK = 11;
const MADV_HUGEPAGE = 14, MADV_NOHUGEPAGE = 15, MADV_DONTDUMP = 16, MADV_DODUMP = 17;
const MADV_WIPEONFORK = 18, MADV_KEEPONFORK = 19, MADV_DONTNEED_LOCKED = 24;
const DISCARDING = [MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_DONTFORK, MADV_WIPEONFORK, MADV_DONTNEED_LOCKED];

/**
 * MADV_REMOVE: punch the range out of the shared file or shared anonymous
 * object behind each VMA, as fallocate(PUNCH_HOLE) would (Linux's
 * madvise_remove: EINVAL for locked or anonymous private memory, EACCES
 * unless the mapping is shared and may write).
 */
function madviseRemove(t: Task, start: number, end: number): void {
  for (const v of [...t.mm.vmas.overlapping(start, end)]) {
    if (v.locked) throw new Errno(E.EINVAL);
    if (!v.file && !v.shm) throw new Errno(E.EINVAL);
    if (!v.shared || !v.maywrite) throw new Errno(E.EACCES);
    const a = Math.max(start, v.start), b = Math.min(end, v.end);
    const from = v.pgoff + (a - v.start) / PAGE, to = from + (b - a) / PAGE;
    if (v.shm) {
      const shm = v.shm;
      unmapPunchedShared(t.kernel, shm, from, to);
      shm.punch(from, to);
      continue;
    }
    const file = v.file!;
    const m = file.mappable;
    if (!m.punch) throw new Errno(E.EOPNOTSUPP);
    punchMapped(t.kernel, m, file.dev, file.ino, from * PAGE, (to - from) * PAGE, () => m.punch!(from * PAGE, (to - from) * PAGE));
  }
}

/** madvise's check of every VMA before advice that drops pages: a locked one is EINVAL (and for MADV_FREE, any but private anonymous memory). */
function checkDroppable(vmas: Iterable<Vma>, anonOnly: boolean): void {
  for (const v of vmas) if (v.locked || (anonOnly && (v.file || v.shared))) throw new Errno(E.EINVAL);
}

function madvise(t: Task, a: number[]): number {
  const advice = i32(a[2]);
  // No KSM (MADV_MERGEABLE 12, UNMERGEABLE 13): EINVAL, as Linux built without it; the sandbox has no /sys/kernel/mm/ksm.
  // No memory-failure injection (MADV_HWPOISON 100, SOFT_OFFLINE 101): EINVAL, as Linux without CONFIG_MEMORY_FAILURE.
  const known = [0, 1, 2, 3, 4, 8, 9, 10, 11, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25];
  if (!known.includes(advice)) throw new Errno(E.EINVAL);
  if (a[0] % PAGE !== 0) throw new Errno(E.EINVAL);
  const len = pageAlignUp(usize(a[1]));
  if (a[1] !== 0 && len === 0) throw new Errno(E.EINVAL);
  if (wraps(a[0], len)) throw new Errno(E.EINVAL);
  if (len === 0) return 0;
  const start = uaddr(a[0]);
  const end = start + len;
  requireMapped(t, start, end);
  const mm = t.mm;
  // mseal: advice that throws pages away stops at the first sealed VMA the
  // application could not write (Linux's is_discard, VMA by VMA: those
  // before it get the advice), EPERM.
  const sealed = DISCARDING.includes(advice) ? mm.firstSealed(start, end, true) : null;
  if (sealed) {
    if (sealed.start > start) applyAdvice(t, advice, start, sealed.start);
    throw new Errno(E.EPERM, 'sealed (mseal)');
  }
  applyAdvice(t, advice, start, end);
  return 0;
}

/** madvise's work on [start, end), every page mapped. */
function applyAdvice(t: Task, advice: number, start: number, end: number): void {
  const mm = t.mm;
  const len = end - start;
  switch (advice) {
    case MADV_DONTNEED:
    case MADV_FREE:
      checkDroppable(mm.vmas.overlapping(start, end), advice === MADV_FREE);
      // A userfaultfd with EVENT_REMOVE learns of it first: the pages go as its events are read (kernel/userfault.ts).
      if (noteRemove(mm, start, end, (a, b) => mm.discard(a, b - a))) break;
      // MADV_FREE's pages may be dropped at any time until written: now is one such time.
      mm.discard(start, len);
      break;
    case MADV_REMOVE:
      // Punched at once, told after (Linux tells first).
      noteRemove(mm, start, end);
      madviseRemove(t, start, end);
      break;
    case MADV_DONTFORK:
    case MADV_DOFORK:
      mm.changeVmas(start, end, (v) => (v.dontfork = advice === MADV_DONTFORK));
      break;
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
      // Only private anonymous memory can be wiped (Linux: EINVAL for the rest).
      if (advice === MADV_WIPEONFORK) for (const v of mm.vmas.overlapping(start, end)) if (v.shared || v.file) throw new Errno(E.EINVAL);
      mm.changeVmas(start, end, (v) => (v.wipeonfork = advice === MADV_WIPEONFORK));
      break;
    case MADV_DONTDUMP:
    case MADV_DODUMP:
      mm.changeVmas(start, end, (v) => (v.dontdump = advice === MADV_DONTDUMP));
      break;
    case MADV_HUGEPAGE:
    case MADV_NOHUGEPAGE:
      // Pages stay 4 KiB (the memory file is mapped in small pages): the flag is kept for /proc and merging.
      mm.changeVmas(start, end, (v) => (v.thp = advice === MADV_HUGEPAGE ? THP_HUGE : THP_NEVER));
      break;
  }
}

function mincore(t: Task, a: number[]): number {
  const addr = a[0];
  if (addr % PAGE !== 0) throw new Errno(E.EINVAL);
  const len = pageAlignUp(usize(a[1]));
  if (addr < 0 || addr + len > TASK_SIZE) throw new Errno(E.ENOMEM);
  if (len === 0) return 0;
  // Check the whole range before sizing a buffer by it.
  requireMapped(t, addr, addr + len);
  const pages = len / PAGE;
  t.mm.checkRange(a[2], pages, true);
  const out = Buffer.alloc(pages);
  const memfile = t.mm.memfile;
  const budget = { pages: Infinity };
  // The host's own record of the pages the application touched, read a window at a time, only where needed.
  const WINDOW = 512;
  let window = -1;
  let touched: Uint8Array | null = null;
  const hostTouched = (i: number): boolean => {
    const w = Math.floor(i / WINDOW);
    if (w !== window) {
      window = w;
      touched = t.mm.as.touchedPages(addr + w * WINDOW * PAGE, Math.min(WINDOW, pages - w * WINDOW));
    }
    return touched !== null && touched[i % WINDOW] === 1;
  };
  for (let i = 0; i < pages; i++) {
    const x = addr + i * PAGE;
    const v = t.mm.findVma(x);
    if (!v) throw new Errno(E.ENOMEM);
    const f = v.frames.get(v.pageIndex(x));
    // Small anonymous mappings get their frames when mapped (MemoryManager.populate): a
    // frame still all zeros was never written, which Linux would not count as resident,
    // unless the application touched it in its host mapping (it wrote zeros: mlock201).
    // Read-only use maps the zero frame.
    if (f < 0) {
      // Not mapped here: a file page counts as resident when the file's page cache
      // holds it (Linux's mincore_page), whoever brought it in (mincore04: a child's mlock).
      out[i] = v.file && v.file.mappable.framesIn && v.file.mappable.framesIn(v.pgoff + v.pageIndex(x), v.pgoff + v.pageIndex(x) + 1).size > 0 ? 1 : 0;
      continue;
    }
    out[i] = v.file || v.locked === LOCK_ON || memfile.isZeroFrame(f) || !memfile.allZero(f, 1, budget) || hostTouched(i) ? 1 : 0;
  }
  t.mm.copyOut(a[2], out);
  return 0;
}

function msync(t: Task, a: number[]): number {
  const MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;
  const flags = i32(a[2]);
  if (a[0] % PAGE !== 0) throw new Errno(E.EINVAL);
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC) || (flags & MS_ASYNC && flags & MS_SYNC)) throw new Errno(E.EINVAL);
  const len = pageAlignUp(usize(a[1]));
  if (wraps(a[0], len)) throw new Errno(E.ENOMEM);
  // MS_INVALIDATE cannot drop locked pages.
  if (flags & MS_INVALIDATE) for (const v of t.mm.vmas.overlapping(uaddr(a[0]), uaddr(a[0]) + len)) if (v.locked) throw new Errno(E.EBUSY);
  requireMapped(t, uaddr(a[0]), uaddr(a[0]) + len);
  // Mapped file pages are the file's own frames, except a host file's page cache: that goes to the host.
  for (const v of t.mm.vmas.overlapping(uaddr(a[0]), uaddr(a[0]) + len)) if (v.shared) v.file?.mappable.writeback?.();
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 9, name: 'mmap', fn: mmap, args: ['ptr', 'size', 'prot', 'mapflags', 'fd', 'offhex'], partial: 'MAP_HUGETLB of anonymous memory (private and shared) from the sandbox\'s 2 MiB huge page pool (vm.nr_hugepages, default 0): lengths in whole huge pages, aligned addresses (EINVAL for an unaligned MAP_FIXED), pages reserved at mmap (ENOMEM past the pool) unless MAP_NORESERVE (a touch past the pool is SIGBUS), munmap/mprotect only at huge page boundaries, mremap never growing one, MAP_HUGE_2MB (other MAP_HUGE_* sizes EINVAL: no 1 GiB pool), KernelPageSize 2048 kB in smaps. A huge page is 512 contiguous frames of the memory file, mapped in small pages (one host TLB entry per 4 KiB); a private huge page written is copied into ordinary frames (charged, not taken from the pool), and a private mapping partly unmapped (or replaced by MAP_FIXED) gives back the pages and reservations of the part that went only while no fork child shares it; surplus pages come from a shrunk pool and from vm.nr_overcommit_hugepages (reservations and touches beyond the free pages, within the memory limit). hugetlbfs files (with or without MAP_HUGETLB; MAP_HUGETLB of another file is EINVAL) map in huge pages at huge page offsets, reserved at mmap (the file\'s range once for shared mappings, per mapping for private ones), a writable private mapping copying a file page into its own huge page at the first touch (Linux at the first write); MAP_DROPPABLE is EINVAL; MAP_POPULATE is a hint; MAP_FIXED must end below the stub, not at TASK_SIZE' },
  { nr: 11, name: 'munmap', fn: munmap, args: ['ptr', 'size'], partial: 'a range past the stub\'s floor is EINVAL, as beyond TASK_SIZE' },
  { nr: 10, name: 'mprotect', fn: mprotect, args: ['ptr', 'size', 'prot'] },
  { nr: 25, name: 'mremap', fn: mremap, args: ['ptr', 'size', 'size', 'mremap_flags', 'ptr'], partial: 'a fixed destination must end below the stub, not at TASK_SIZE (EINVAL)' },
  { nr: 12, name: 'brk', fn: brk, args: ['ptr'] },
  { nr: 28, name: 'madvise', fn: madvise, args: ['ptr', 'size', 'madvise'], partial: 'DONTNEED/FREE/REMOVE/DONTFORK/DOFORK/WIPEONFORK/KEEPONFORK/DONTDUMP/DODUMP/HUGEPAGE/NOHUGEPAGE act (FREE drops pages at once; HUGEPAGE is only a flag); REMOVE of System V segments and host files is EOPNOTSUPP; MERGEABLE/UNMERGEABLE and HWPOISON/SOFT_OFFLINE are EINVAL (a kernel without KSM and CONFIG_MEMORY_FAILURE); other advice is validated and ignored' },
  { nr: 27, name: 'mincore', fn: mincore, args: ['ptr', 'size', 'ptr'] },
  { nr: 26, name: 'msync', fn: msync, args: ['ptr', 'size', 'msync_flags'] },
  ...mlockDefs,
];
