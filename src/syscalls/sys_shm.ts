// System V shared memory: shmget, shmat, shmdt, shmctl (the segments are
// kernel/ipc/shm.ts, one set per sandbox).
import { E, Errno } from '../abi/errno';
import { CAP_IPC_LOCK } from '../abi/capability';
import { PAGE_SIZE as PAGE, PROT_EXEC, PROT_READ, PROT_WRITE } from '../abi/mm';
import { hasCapability } from '../auth/creds';
import type { Task } from '../kernel/task';
import { i32, type SyscallDef } from '../kernel/syscall';
import { checkAccess, encodePerm, getOrCreate, IPC_INFO, newPerm } from '../kernel/ipc/ipc';
import { commonCtl, type CtlKind } from './sysv_ctl';
import { SHMMIN, ShmSegment } from '../kernel/ipc/shm';
import { S_IFREG } from '../abi/fs';
import { HUGE_SIZE } from '../mm/hugetlb';
import type { Mappable } from '../mm/mappable';
import { HugeInode, HugetlbFs } from '../fsimpl/hugetlbfs/hugetlbfs';

const SHM_RDONLY = 0o10000, SHM_RND = 0o20000, SHM_REMAP = 0o40000, SHM_EXEC = 0o100000;
const SHM_HUGETLB = 0o4000, SHM_NORESERVE = 0o10000;
const SHM_HUGE_SHIFT = 26, SHM_HUGE_MASK = 0x3f, HUGE_SHIFT = 21;
/** vm.hugetlb_shm_group: the group whose members may make SHM_HUGETLB segments without CAP_IPC_LOCK. */
const HUGETLB_SHM_GROUP = 0;
const SHM_LOCK = 11, SHM_UNLOCK = 12, SHM_STAT = 13, SHM_INFO = 14, SHM_STAT_ANY = 15;
const SHM_LOCKED = 0o2000;
const SHMLBA = PAGE;

function shmget(t: Task, key: number, size: number, flags: number): number {
  const ns = t.nsproxy.ipc.shm;
  return getOrCreate(ns.set, t.creds, key, flags, ((flags >> 6) | (flags >> 3) | flags) & 7, (s) => {
    if (size > s.segsz) throw new Errno(E.EINVAL);
  }, () => {
    if (size < SHMMIN || BigInt(size) > ns.shmmax) throw new Errno(E.EINVAL);
    const pages = Math.ceil(size / PAGE);
    if (BigInt(ns.totalPages + pages) > ns.shmall) throw new Errno(E.ENOSPC);
    const huge = flags & SHM_HUGETLB ? hugeSegment(t, size, flags) : null;
    // Linux's overcommit heuristic refuses one segment larger than all memory (hugetlb segments are the pool's instead).
    if (!huge && pages > (ns.memory.limitPages ?? Infinity)) throw new Errno(E.ENOMEM);
    const s = new ShmSegment(ns, newPerm(t.creds, key, flags), size, t.tg.pid, t.kernel.realtimeNs());
    if (huge) s.setHuge(huge);
    ns.totalPages += pages;
    return s;
  });
}

/**
 * A SHM_HUGETLB segment's pages: a file of the internal hugetlbfs mount,
 * size rounded up to huge pages, all of them reserved now (ENOMEM when the
 * pool cannot) unless SHM_NORESERVE, as Linux's hugetlb_file_setup. Only
 * the 2 MiB size (SHM_HUGE_2MB or the default; others EINVAL), and only for
 * CAP_IPC_LOCK or members of vm.hugetlb_shm_group (0) (EPERM).
 */
function hugeSegment(t: Task, size: number, flags: number): { mappable: Mappable; release(): void } {
  const sizeLog = (flags >>> SHM_HUGE_SHIFT) & SHM_HUGE_MASK;
  if (sizeLog !== 0 && sizeLog !== HUGE_SHIFT) throw new Errno(E.EINVAL);
  if (!hasCapability(t.creds, CAP_IPC_LOCK) && !t.creds.inGroup(HUGETLB_SHM_GROUP)) throw new Errno(E.EPERM);
  const fs = t.kernel.vfs.hugeMount().fs;
  if (!(fs instanceof HugetlbFs)) throw new Errno(E.ENOSYS);
  const n = Math.ceil(size / HUGE_SIZE);
  const inode = fs.newInode({ type: S_IFREG, mode: 0o600, uid: t.creds.fsuid, gid: t.creds.fsgid });
  if (!(inode instanceof HugeInode)) throw new Error('hugetlbfs made no huge file');
  inode.a.nlink = 0;
  inode.incOpen();
  if (!(flags & SHM_NORESERVE) && !inode.pages.reserve(0, n)) {
    inode.decOpen();
    throw new Errno(E.ENOMEM, 'huge page pool cannot cover the segment');
  }
  inode.a.size = n * HUGE_SIZE;
  return { mappable: inode.mappable(), release: () => inode.decOpen() };
}

function shmat(t: Task, id: number, addr: number, flags: number): number {
  const s = t.nsproxy.ipc.shm.set.get(id);
  const ro = (flags & SHM_RDONLY) !== 0;
  checkAccess(t.creds, s.perm, ro ? 4 : 6);
  if (flags & SHM_EXEC) checkAccess(t.creds, s.perm, 1);
  const len = s.size();
  const mm = t.mm;
  // A hugetlb segment is mapped at a huge page boundary (an unaligned address, even rounded by SHM_RND, is EINVAL).
  const align = s.pageSize ?? PAGE;
  if (addr) {
    if (addr % SHMLBA) {
      if (!(flags & SHM_RND)) throw new Errno(E.EINVAL);
      addr -= addr % SHMLBA;
      if (addr === 0) throw new Errno(E.EINVAL);
    }
    if (addr % align) throw new Errno(E.EINVAL);
    if (addr + len > mm.top) throw new Errno(E.EINVAL);
    if (!(flags & SHM_REMAP) && mm.anyMapped(addr, addr + len)) throw new Errno(E.EINVAL);
  } else {
    if (flags & SHM_REMAP) throw new Errno(E.EINVAL);
    addr = align === PAGE ? mm.findFree(len) : Math.ceil(mm.findFree(len + align - PAGE) / align) * align;
  }
  const prot = PROT_READ | (ro ? 0 : PROT_WRITE) | (flags & SHM_EXEC ? PROT_EXEC : 0);
  mm.mapAt(addr, len, prot, true, { mappable: s, name: `/SYSV${(s.perm.key >>> 0).toString(16).padStart(8, '0')} (deleted)`, dev: 0, ino: s.id, hold: s }, 0);
  s.atimeNs = t.kernel.realtimeNs();
  s.lpid = t.tg.pid;
  return addr;
}

/** Detach the segment attached at addr: every VMA of it from there on (Linux's shmdt walks them too). */
function shmdt(t: Task, addr: number): number {
  if (addr % PAGE) throw new Errno(E.EINVAL);
  const v = t.mm.findVma(addr);
  const seg = v && v.start === addr && v.file?.mappable instanceof ShmSegment ? v.file.mappable : null;
  if (!v || !seg || v.pgoff !== 0) throw new Errno(E.EINVAL);
  const end = addr + seg.size();
  for (let a = addr; a < end; ) {
    const w = t.mm.findVma(a);
    if (!w || w.file?.mappable !== seg) break;
    const stop = Math.min(w.end, end);
    // A sealed piece (mseal) stays: Linux's shmdt skips what it may not unmap and still succeeds.
    if (!t.mm.firstSealed(w.start, stop)) t.mm.unmapRange(w.start, stop - w.start);
    a = stop;
  }
  seg.lpid = t.tg.pid;
  return 0;
}

function shmidDs(s: ShmSegment): Buffer {
  const b = Buffer.alloc(112);
  encodePerm(b, 0, s.perm);
  b.writeBigUInt64LE(BigInt(s.segsz), 48);
  b.writeBigInt64LE(BigInt(Math.floor(s.atimeNs / 1e9)), 56);
  b.writeBigInt64LE(BigInt(Math.floor(s.dtimeNs / 1e9)), 64);
  b.writeBigInt64LE(BigInt(Math.floor(s.ctimeNs / 1e9)), 72);
  b.writeInt32LE(s.cpid, 80);
  b.writeInt32LE(s.lpid, 84);
  b.writeBigUInt64LE(BigInt(s.nattch), 88);
  return b;
}

const SHM_CTL: CtlKind<ShmSegment> = { stat: SHM_STAT, statAny: SHM_STAT_ANY, ds: shmidDs, dsSize: 112 };

function shmctl(t: Task, id: number, cmd: number, buf: number): number {
  const ns = t.nsproxy.ipc.shm;
  cmd &= ~0x100; // IPC_64: every layout here is the 64-bit one
  switch (cmd) {
    case IPC_INFO: {
      const b = Buffer.alloc(72);
      b.writeBigUInt64LE(ns.shmmax, 0);
      b.writeBigUInt64LE(BigInt(SHMMIN), 8);
      b.writeBigUInt64LE(BigInt(ns.shmmni), 16);
      b.writeBigUInt64LE(BigInt(ns.shmmni), 24); // shmseg: unused by Linux, reported as shmmni
      b.writeBigUInt64LE(ns.shmall, 32);
      t.mm.copyOut(buf, b);
      return ns.set.maxIndex;
    }
    case SHM_INFO: {
      const b = Buffer.alloc(48);
      let rss = 0;
      for (const s of ns.set.values()) rss += s.resident;
      b.writeInt32LE(ns.set.size, 0);
      b.writeBigUInt64LE(BigInt(ns.totalPages), 8);
      b.writeBigUInt64LE(BigInt(rss), 16);
      t.mm.copyOut(buf, b);
      return ns.set.maxIndex;
    }
    case SHM_LOCK: case SHM_UNLOCK: {
      const s = ns.set.get(id);
      if (!hasCapability(t.creds, CAP_IPC_LOCK) && t.creds.euid !== s.perm.uid && t.creds.euid !== s.perm.cuid) throw new Errno(E.EPERM);
      s.locked = cmd === SHM_LOCK;
      s.perm.mode = s.locked ? s.perm.mode | SHM_LOCKED : s.perm.mode & ~SHM_LOCKED;
      return 0;
    }
  }
  const common = commonCtl(t, ns, SHM_CTL, cmd, id, buf);
  if (common === undefined) throw new Errno(E.EINVAL);
  return common;
}

export const defs: SyscallDef[] = [
  {
    nr: 29, name: 'shmget', args: ['int', 'size', 'hex'], fn: (t, a) => shmget(t, i32(a[0]), a[1], i32(a[2])),
    partial: 'SHM_HUGETLB segments are files of the internal hugetlbfs mount (2 MiB pages, size rounded up, all reserved at shmget unless SHM_NORESERVE, attached at huge page boundaries); vm.hugetlb_shm_group is fixed at 0',
  },
  { nr: 30, name: 'shmat', args: ['int', 'ptr', 'hex'], fn: (t, a) => shmat(t, i32(a[0]), a[1], i32(a[2])) },
  { nr: 67, name: 'shmdt', args: ['ptr'], fn: (t, a) => shmdt(t, a[0]) },
  {
    nr: 31, name: 'shmctl', args: ['int', 'int', 'ptr'], fn: (t, a) => shmctl(t, i32(a[0]), i32(a[1]), a[2]),
    partial: 'SHM_LOCK/SHM_UNLOCK only set the flag (no memory is ever swapped)',
  },
];
