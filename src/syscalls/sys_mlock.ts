// The mlock family: mlock, mlock2, munlock, mlockall, munlockall, and the
// locks mmap (MAP_LOCKED, mlockall(MCL_FUTURE)) and brk/mremap take. Memory is
// never swapped in the sandbox, so a lock changes what Linux shows and counts:
// VM_LOCKED on the VMAs (/proc/PID/smaps Locked: and "lo", VmLck in status),
// locked pages filled at once unless MLOCK_ONFAULT, and RLIMIT_MEMLOCK for a
// caller without CAP_IPC_LOCK (EPERM at 0, ENOMEM past it for mlock and
// mlockall(MCL_CURRENT), EAGAIN for a mapping locked by MCL_FUTURE).

import { E, Errno } from '../abi/errno';
import { CAP_IPC_LOCK } from '../abi/capability';
import { MAP_LOCKED, PAGE_SIZE as PAGE, TASK_SIZE } from '../abi/mm';
import { hasCapability } from '../auth/creds';
import { i32, type SyscallDef } from '../kernel/syscall';
import type { Task } from '../kernel/task';
import { LOCK_ON, LOCK_ONFAULT } from '../mm/vma';
import { rl } from './sys_info';

const RLIMIT_MEMLOCK = 8;
const MLOCK_ONFAULT = 1;
const MCL_CURRENT = 1, MCL_FUTURE = 2, MCL_ONFAULT = 4;

/** RLIMIT_MEMLOCK in pages (Infinity when unlimited). */
function limitPages(t: Task): number {
  return Math.floor(rl(t.tg.rlimits[RLIMIT_MEMLOCK].cur) / PAGE);
}

function privileged(t: Task): boolean {
  return hasCapability(t.creds, CAP_IPC_LOCK);
}

/** Linux's can_do_mlock: CAP_IPC_LOCK, or a non-zero RLIMIT_MEMLOCK. */
function canLock(t: Task): boolean {
  return privileged(t) || t.tg.rlimits[RLIMIT_MEMLOCK].cur !== 0;
}

/** Whether bytes more of locked memory fit under RLIMIT_MEMLOCK (Linux's mlock_future_ok). */
export function lockFits(t: Task, bytes: number): boolean {
  return privileged(t) || Math.ceil(bytes / PAGE) + t.mm.lockedPages() <= limitPages(t);
}

/** The lock state a new mapping of size bytes gets (MAP_LOCKED, MCL_FUTURE): EPERM/EAGAIN as Linux's do_mmap. */
export function lockOnMap(t: Task, flags: number, size: number): number {
  let lock = t.mm.defLock;
  if (flags & MAP_LOCKED) {
    if (!canLock(t)) throw new Errno(E.EPERM);
    lock = LOCK_ON;
  }
  if (lock && !lockFits(t, size)) throw new Errno(E.EAGAIN);
  return lock;
}

/**
 * Set the lock state of the mapped range [start, end) and fill what becomes
 * locked (not on-fault). Filling past the memory limit is EAGAIN, as Linux
 * says when it cannot fault the pages in; the range stays locked.
 */
export function lockRange(t: Task, start: number, end: number, lock: number): void {
  const mm = t.mm;
  mm.changeVmas(start, end, (v) => (v.locked = lock));
  if (lock !== LOCK_ON) return;
  try {
    for (const v of mm.vmas.overlapping(start, end)) mm.fillVma(v);
  } catch (e) {
    if (e instanceof Errno && e.errno === E.ENOMEM) throw new Errno(E.EAGAIN);
    throw e;
  }
}

/** The page range of an mlock/munlock call: start rounded down, the length up; EINVAL if it wraps. */
function lockSpan(a: number[]): [number, number] {
  const start = a[0] < 0 ? a[0] + 2 ** 64 : a[0];
  const len = a[1] < 0 ? Infinity : a[1];
  const first = Math.floor(start / PAGE) * PAGE;
  const end = first + Math.ceil((len + (start - first)) / PAGE) * PAGE;
  if (end >= 2 ** 64) throw new Errno(E.EINVAL);
  return [first, end];
}

/** ENOMEM unless every page of [start, end) is mapped. */
function requireMapped(t: Task, start: number, end: number): void {
  if (end > TASK_SIZE && end > start) throw new Errno(E.ENOMEM);
  for (let x = start; x < end; ) {
    const v = t.mm.findVma(x);
    if (!v) throw new Errno(E.ENOMEM);
    x = v.end;
  }
}

function doMlock(t: Task, a: number[], lock: number): number {
  if (!canLock(t)) throw new Errno(E.EPERM);
  const [start, end] = lockSpan(a);
  if (!privileged(t) && end - start < Infinity) {
    // Pages already locked in the range do not count twice.
    const after = t.mm.lockedPages() + (end - start) / PAGE - t.mm.lockedPages(start, end);
    if (after > limitPages(t)) throw new Errno(E.ENOMEM);
  }
  if (end === start) return 0;
  requireMapped(t, start, end);
  lockRange(t, start, end, lock);
  return 0;
}

function mlock(t: Task, a: number[]): number {
  return doMlock(t, a, LOCK_ON);
}

function mlock2(t: Task, a: number[]): number {
  const flags = i32(a[2]);
  if (flags & ~MLOCK_ONFAULT) throw new Errno(E.EINVAL);
  return doMlock(t, a, flags & MLOCK_ONFAULT ? LOCK_ON | LOCK_ONFAULT : LOCK_ON);
}

function munlock(t: Task, a: number[]): number {
  const [start, end] = lockSpan(a);
  if (end === start) return 0;
  requireMapped(t, start, end);
  t.mm.changeVmas(start, end, (v) => (v.locked = 0));
  return 0;
}

function mlockall(t: Task, a: number[]): number {
  const flags = i32(a[0]);
  if (!flags || flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) || flags === MCL_ONFAULT) throw new Errno(E.EINVAL);
  if (!canLock(t)) throw new Errno(E.EPERM);
  const mm = t.mm;
  if (flags & MCL_CURRENT && !privileged(t) && mm.usage().size / PAGE > limitPages(t)) throw new Errno(E.ENOMEM);
  const lock = LOCK_ON | (flags & MCL_ONFAULT ? LOCK_ONFAULT : 0);
  mm.defLock = flags & MCL_FUTURE ? lock : 0;
  if (flags & MCL_CURRENT) {
    const all = [...mm.vmas];
    if (all.length) lockAll(t, all[0].start, all[all.length - 1].end, lock);
  }
  return 0;
}

/** mlockall(MCL_CURRENT): Linux ignores a failure to fill the pages (mm_populate's result). */
function lockAll(t: Task, start: number, end: number, lock: number): void {
  try {
    lockRange(t, start, end, lock);
  } catch (e) {
    if (!(e instanceof Errno && e.errno === E.EAGAIN)) throw e;
  }
}

function munlockall(t: Task): number {
  const mm = t.mm;
  mm.defLock = 0;
  for (const v of mm.vmas) v.locked = 0;
  const all = [...mm.vmas];
  if (all.length) mm.vmas.mergeAround(all[0].start, all[all.length - 1].end);
  return 0;
}

export const mlockDefs: SyscallDef[] = [
  { nr: 149, name: 'mlock', fn: mlock, args: ['ptr', 'size'], partial: 'memory is never swapped: a lock is counted and shown, pages are filled' },
  { nr: 325, name: 'mlock2', fn: mlock2, args: ['ptr', 'size', 'hex'], partial: 'as mlock' },
  { nr: 150, name: 'munlock', fn: munlock, args: ['ptr', 'size'] },
  { nr: 151, name: 'mlockall', fn: mlockall, args: ['mlockall_flags'], partial: 'as mlock' },
  { nr: 152, name: 'munlockall', fn: munlockall, args: [] },
];
