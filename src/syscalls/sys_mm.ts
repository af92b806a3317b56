// Memory system calls: mmap, munmap, mprotect, mremap, brk, madvise, mincore,
// msync, mlock family. The MemoryManager does the work; this file validates
// arguments the way Linux does.

import { E, Errno } from '../abi/errno';
import type { Task } from '../kernel/task';
import { PAGE, pageAlignDown, pageAlignUp, type VmaFile } from '../mm/vma';
import {
  MAP_ANONYMOUS, MAP_DENYWRITE, MAP_EXECUTABLE, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_HUGETLB, MAP_LOCKED,
  MAP_NONBLOCK, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_STACK, MAP_SYNC, MAP_TYPE,
  MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PROT_EXEC, PROT_READ, PROT_WRITE,
} from '../abi/mm';
import type { FileDescription } from '../vfs/file';
import { makedev } from '../abi/fs';
import { i32, type SyscallDef } from '../kernel/syscall';

const KNOWN_FLAGS = MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_LOCKED |
  MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | MAP_SYNC | MAP_FIXED_NOREPLACE;
const PROT_GROWSDOWN = 0x01000000, PROT_GROWSUP = 0x02000000;
const O_ACCMODE = 3, O_WRONLY = 1, O_RDWR = 2;

function mmap(t: Task, a: number[]): number {
  let addr = a[0];
  const len = a[1];
  const prot = i32(a[2]);
  const flags = i32(a[3]);
  const fd = i32(a[4]);
  const off = a[5];
  const mm = t.mm;
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) throw new Errno(E.EINVAL);
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) throw new Errno(E.EINVAL);
  if (type === MAP_SHARED_VALIDATE && flags & ~KNOWN_FLAGS) throw new Errno(E.EOPNOTSUPP);
  if (flags & MAP_HUGETLB) throw new Errno(E.EINVAL, 'MAP_HUGETLB');
  if (len <= 0) throw new Errno(E.EINVAL);
  const size = pageAlignUp(len);
  if (size > mm.top) throw new Errno(E.ENOMEM);
  if (off % PAGE !== 0 || off < 0) throw new Errno(E.EINVAL);
  const shared = type !== MAP_PRIVATE;
  const p = prot & (PROT_READ | PROT_WRITE | PROT_EXEC);
  let file: VmaFile | null = null;
  if (!(flags & MAP_ANONYMOUS)) {
    const f = t.fdTable.get(fd);
    const acc = f.flags & O_ACCMODE;
    if (f.flags & 0o10000000 /* O_PATH */) throw new Errno(E.EBADF);
    if (acc === O_WRONLY) throw new Errno(E.EACCES);
    if (shared && p & PROT_WRITE && acc !== O_RDWR) throw new Errno(E.EACCES);
    if (shared && p & PROT_WRITE && f.flags & 0o2000 /* O_APPEND */) throw new Errno(E.EACCES);
    const m = f.mappable();
    if (!m && isDevZero(f)) {
      // /dev/zero maps as anonymous memory (shared or private), as on Linux.
    } else if (!m) throw new Errno(E.ENODEV);
    else file = { mappable: m, name: fileName(t, f), dev: f.inode?.fs.dev ?? 0, ino: f.inode?.ino ?? 0, hold: f };
  }
  if (flags & MAP_FIXED || flags & MAP_FIXED_NOREPLACE) {
    if (addr % PAGE !== 0) throw new Errno(E.EINVAL);
    // mm.top is this address space's TASK_SIZE: the stub and the host's vDSO lie above it.
    if (addr < 0x1000) throw new Errno(flags & MAP_FIXED ? E.EPERM : E.ENOMEM);
    if (addr + size > mm.top) throw new Errno(E.ENOMEM);
    if (!(flags & MAP_FIXED) && flags & MAP_FIXED_NOREPLACE) {
      // Any existing mapping in the range is a conflict.
      if (mm.anyMapped(addr, addr + size)) throw new Errno(E.EEXIST);
    }
  } else {
    addr = mm.findFree(size, addr ? pageAlignDown(addr) : 0);
  }
  const growsDown = (flags & MAP_GROWSDOWN) !== 0;
  mm.mapAt(addr, size, p, shared, file, off / PAGE, growsDown, null, (flags & MAP_NORESERVE) !== 0);
  return addr;
}

function isDevZero(f: { stat(): { mode: number; rdev: number } }): boolean {
  const st = f.stat();
  return (st.mode & 0o170000) === 0o020000 && st.rdev === makedev(1, 5);
}

/** The path /proc/PID/maps shows for a file mapping. */
function fileName(t: Task, f: FileDescription): string {
  return f.path ? t.kernel.vfs.pathname(null, f.path).path : '';
}

/**
 * A page-aligned range: beyond the top of the address space munmap says
 * EINVAL and the calls that look the range up (mprotect, madvise, msync) ENOMEM.
 */
function checkRange(t: Task, addr: number, len: number, beyond: number = E.ENOMEM): number {
  if (addr % PAGE !== 0 || addr < 0) throw new Errno(E.EINVAL);
  if (len < 0) throw new Errno(E.EINVAL);
  if (addr + len > t.mm.top) throw new Errno(beyond);
  return pageAlignUp(len);
}

function munmap(t: Task, a: number[]): number {
  const len = checkRange(t, a[0], a[1], E.EINVAL);
  if (len === 0) throw new Errno(E.EINVAL);
  t.mm.unmapRange(a[0], len);
  return 0;
}

function mprotect(t: Task, a: number[]): number {
  const prot = i32(a[2]);
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_GROWSDOWN | PROT_GROWSUP)) throw new Errno(E.EINVAL);
  const len = checkRange(t, a[0], a[1]);
  if (len === 0) return 0;
  t.mm.protect(a[0], len, prot & 7);
  return 0;
}

function mremap(t: Task, a: number[]): number {
  const [old, oldLenRaw, newLenRaw, flagsRaw, newAddr] = a;
  const flags = i32(flagsRaw);
  if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) throw new Errno(E.EINVAL);
  if (flags & MREMAP_FIXED && !(flags & MREMAP_MAYMOVE)) throw new Errno(E.EINVAL);
  if (flags & MREMAP_DONTUNMAP) throw new Errno(E.EINVAL, 'MREMAP_DONTUNMAP');
  if (old % PAGE !== 0) throw new Errno(E.EINVAL);
  const oldLen = pageAlignUp(oldLenRaw);
  const newLen = pageAlignUp(newLenRaw);
  if (newLen === 0) throw new Errno(E.EINVAL);
  // Linux: a fixed destination beyond TASK_SIZE is EINVAL (here, beyond the stub's floor).
  if (flags & MREMAP_FIXED && (newAddr < 0 || newAddr + newLen > t.mm.top)) throw new Errno(E.EINVAL);
  return t.mm.remap(old, oldLen, newLen, (flags & MREMAP_MAYMOVE) !== 0, flags & MREMAP_FIXED ? newAddr : -1);
}

/** RLIMIT_DATA bounds the heap (infinity unless the program set it). */
function dataLimit(t: Task): number {
  const r = t.tg.rlimits[2];
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

/** ENOMEM unless every page of [start, end) is mapped (madvise, msync, mlock, mincore). */
function requireMapped(t: Task, start: number, end: number): void {
  for (let x = start; x < end; ) {
    const v = t.mm.findVma(x);
    if (!v) throw new Errno(E.ENOMEM);
    x = v.end;
  }
}

function madvise(t: Task, a: number[]): number {
  const advice = i32(a[2]);
  const MADV_DONTNEED = 4, MADV_FREE = 8, MADV_REMOVE = 9;
  const known = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 100, 101];
  if (!known.includes(advice)) throw new Errno(E.EINVAL);
  const len = checkRange(t, a[0], a[1]);
  if (len === 0) return 0;
  if (advice === MADV_DONTNEED || advice === MADV_FREE || advice === MADV_REMOVE) {
    t.mm.discard(a[0], len);
  } else {
    requireMapped(t, a[0], a[0] + len);
  }
  return 0;
}

function mincore(t: Task, a: number[]): number {
  const addr = a[0];
  if (addr % PAGE !== 0) throw new Errno(E.EINVAL);
  const len = pageAlignUp(a[1]);
  if (a[1] < 0 || addr + len > t.mm.top) throw new Errno(E.ENOMEM);
  if (len === 0) return 0;
  // Check the whole range before sizing a buffer by it.
  requireMapped(t, addr, addr + len);
  const pages = len / PAGE;
  t.mm.checkRange(a[2], pages, true);
  const out = Buffer.alloc(pages);
  for (let i = 0; i < pages; i++) {
    const x = addr + i * PAGE;
    const v = t.mm.findVma(x);
    if (!v) throw new Errno(E.ENOMEM);
    out[i] = v.frames.get(v.pageIndex(x)) >= 0 ? 1 : 0;
  }
  t.mm.copyOut(a[2], out);
  return 0;
}

function msync(t: Task, a: number[]): number {
  const MS_ASYNC = 1, MS_INVALIDATE = 2, MS_SYNC = 4;
  const flags = i32(a[2]);
  if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC) || (flags & MS_ASYNC && flags & MS_SYNC)) throw new Errno(E.EINVAL);
  const len = checkRange(t, a[0], a[1]);
  // Mapped file pages are the file's own frames: there is nothing to write back.
  requireMapped(t, a[0], a[0] + len);
  return 0;
}

function mlock(t: Task, a: number[]): number {
  requireMapped(t, pageAlignDown(a[0]), pageAlignUp(a[0] + a[1]));
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 9, name: 'mmap', fn: mmap, args: ['ptr', 'size', 'prot', 'mapflags', 'fd', 'offhex'], partial: 'MAP_HUGETLB unsupported; MAP_LOCKED/POPULATE are hints' },
  { nr: 11, name: 'munmap', fn: munmap, args: ['ptr', 'size'] },
  { nr: 10, name: 'mprotect', fn: mprotect, args: ['ptr', 'size', 'prot'], partial: 'PROT_GROWSDOWN/GROWSUP accepted but not applied to neighbouring pages' },
  { nr: 25, name: 'mremap', fn: mremap, args: ['ptr', 'size', 'size', 'mremap_flags', 'ptr'], partial: 'no MREMAP_DONTUNMAP' },
  { nr: 12, name: 'brk', fn: brk, args: ['ptr'] },
  { nr: 28, name: 'madvise', fn: madvise, args: ['ptr', 'size', 'madvise'], partial: 'only DONTNEED/FREE/REMOVE act; other advice is validated and ignored' },
  { nr: 27, name: 'mincore', fn: mincore, args: ['ptr', 'size', 'ptr'] },
  { nr: 26, name: 'msync', fn: msync, args: ['ptr', 'size', 'msync_flags'] },
  { nr: 149, name: 'mlock', fn: mlock, args: ['ptr', 'size'], partial: 'memory is never swapped: locking only validates' },
  { nr: 325, name: 'mlock2', fn: mlock, args: ['ptr', 'size', 'hex'], partial: 'as mlock' },
  { nr: 150, name: 'munlock', fn: mlock, args: ['ptr', 'size'] },
  { nr: 151, name: 'mlockall', fn: () => 0, args: ['mlockall_flags'], partial: 'memory is never swapped: nothing to lock' },
  { nr: 152, name: 'munlockall', fn: () => 0, args: [] },
];
