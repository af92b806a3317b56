// The ioctls of a userfaultfd (ioctl_userfaultfd(2)): the API handshake,
// registering ranges for missing faults, and serving them (COPY, ZEROPAGE,
// WAKE). Every argument the application passes is checked here, Linux's
// way: a range must be page aligned, non-empty, above mmap_min_addr and
// below the top of the address space (EINVAL), and the structure readable
// (EFAULT). Minor faults are for shmem (shared anonymous memory, tmpfs and
// memfd files), write protection for anonymous memory and shmem; MOVE moves
// private anonymous pages (mm/userfault_move.ts). While an event of the
// context is unread (Linux's mmap_changing) every fill is EAGAIN.

import { E, Errno } from '../../abi/errno';
import { PAGE_SIZE, TASK_SIZE } from '../../abi/mm';
import { CAP_SYS_PTRACE } from '../../abi/capability';
import {
  NR_API, NR_CONTINUE, NR_COPY, NR_MOVE, NR_POISON, NR_REGISTER, NR_UNREGISTER, NR_WAKE, NR_WRITEPROTECT, NR_ZEROPAGE, UFFD_API, UFFD_FEATURE_EVENT_FORK,
  UFFD_FEATURE_MINOR_SHMEM, UFFD_FEATURE_PAGEFAULT_FLAG_WP, UFFD_FEATURE_POISON, UFFDIO_POISON, UFFDIO_POISON_MODE_DONTWAKE, UFFDIO_CONTINUE, UFFDIO_CONTINUE_MODE_DONTWAKE,
  UFFDIO_COPY_MODE_WP, UFFDIO_REGISTER_MODE_MINOR, UFFDIO_REGISTER_MODE_WP, UFFDIO_WRITEPROTECT,
  UFFDIO_WRITEPROTECT_MODE_DONTWAKE, UFFDIO_WRITEPROTECT_MODE_WP,
  UFFD_FEATURE_EXACT_ADDRESS, UFFD_FEATURE_MISSING_SHMEM, UFFD_FEATURE_SIGBUS, UFFD_FEATURE_THREAD_ID,
  UFFD_FEATURE_EVENT_REMAP, UFFD_FEATURE_EVENT_REMOVE, UFFD_FEATURE_WP_HUGETLBFS_SHMEM, UFFD_FEATURE_EVENT_UNMAP, UFFD_FEATURE_MOVE, UFFDIO_MOVE, UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES,
  UFFDIO_MOVE_MODE_DONTWAKE,
  UFFDIO_API, UFFDIO_COPY, UFFDIO_COPY_MODE_DONTWAKE, UFFDIO_REGISTER, UFFDIO_REGISTER_MODE_MISSING,
  UFFDIO_UNREGISTER, UFFDIO_WAKE, UFFDIO_ZEROPAGE, UFFDIO_ZEROPAGE_MODE_DONTWAKE,
} from '../../abi/userfaultfd';
import { capableInit } from '../../auth/userns';
import { continueRange, fillMissing, poisonRange, registerRange, unregisterRange, writeProtect } from '../../mm/userfault';
import { movePages } from '../../mm/userfault_move';
import type { Task } from '../../kernel/task';
import type { UserfaultFile } from './userfaultfd';

/** The features this implementation has (UFFDIO_API reports them; asking for another is EINVAL). */
export const UFFD_FEATURES = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_MINOR_SHMEM | UFFD_FEATURE_POISON | UFFD_FEATURE_SIGBUS | UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_EXACT_ADDRESS
  | UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP | UFFD_FEATURE_MOVE | UFFD_FEATURE_WP_HUGETLBFS_SHMEM;
const API_IOCTLS = (1n << BigInt(NR_REGISTER)) | (1n << BigInt(NR_UNREGISTER)) | (1n << BigInt(NR_API));
/** What UFFDIO_REGISTER reports for a range (WRITEPROTECT with the WP mode only; MOVE for every range, as Linux 6.18, though only private anonymous memory moves). */
const RANGE_IOCTLS = (1n << BigInt(NR_WAKE)) | (1n << BigInt(NR_COPY)) | (1n << BigInt(NR_ZEROPAGE)) | (1n << BigInt(NR_MOVE)) | (1n << BigInt(NR_POISON));
const WP_IOCTL = 1n << BigInt(NR_WRITEPROTECT);
const CONTINUE_IOCTL = 1n << BigInt(NR_CONTINUE);
const MODES = BigInt(UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP | UFFDIO_REGISTER_MODE_MINOR);
/** vm.mmap_min_addr: ranges below it are EINVAL. */
const MMAP_MIN_ADDR = 0x10000;

/** Linux's validate_unaligned_range: a range inside the address space, non-empty, a multiple of pages long. */
function checkUnaligned(start: bigint, len: bigint): void {
  const top = BigInt(TASK_SIZE);
  if (len % BigInt(PAGE_SIZE) !== 0n || len === 0n || start < BigInt(MMAP_MIN_ADDR) || start >= top || len > top - start) {
    throw new Errno(E.EINVAL);
  }
}

/** validate_range: the same, and page aligned. Returns [start, end) as numbers (below 2^47 once checked). */
function checkRange(start: bigint, len: bigint): [number, number] {
  if (start % BigInt(PAGE_SIZE) !== 0n) throw new Errno(E.EINVAL);
  checkUnaligned(start, len);
  return [Number(start), Number(start + len)];
}

export function userfaultIoctl(t: Task, f: UserfaultFile, cmd: number, arg: number): number {
  if (cmd !== UFFDIO_API && !f.initialized) throw new Errno(E.EINVAL);
  switch (cmd) {
    case UFFDIO_API:
      return api(t, f, arg);
    case UFFDIO_REGISTER: {
      const b = t.mm.copyIn(arg, 24);
      const mode = b.readBigUInt64LE(16);
      if (mode === 0n || mode & ~MODES) throw new Errno(E.EINVAL);
      const [start, end] = checkRange(b.readBigUInt64LE(0), b.readBigUInt64LE(8));
      registerRange(f.mm, f, start, end, Number(mode));
      let ioctls = RANGE_IOCTLS;
      if (mode & BigInt(UFFDIO_REGISTER_MODE_WP)) ioctls |= WP_IOCTL;
      if (mode & BigInt(UFFDIO_REGISTER_MODE_MINOR)) ioctls |= CONTINUE_IOCTL;
      t.mm.writeU64(arg + 24, Number(ioctls));
      return 0;
    }
    case UFFDIO_UNREGISTER: {
      const b = t.mm.copyIn(arg, 16);
      const [start, end] = checkRange(b.readBigUInt64LE(0), b.readBigUInt64LE(8));
      unregisterRange(f.mm, f, start, end);
      f.wake(start, end);
      return 0;
    }
    case UFFDIO_WAKE: {
      const b = t.mm.copyIn(arg, 16);
      const [start, end] = checkRange(b.readBigUInt64LE(0), b.readBigUInt64LE(8));
      f.wake(start, end);
      return 0;
    }
    case UFFDIO_COPY:
      return copy(t, f, arg);
    case UFFDIO_CONTINUE:
      return rangeOp(t, f, arg, UFFDIO_CONTINUE_MODE_DONTWAKE, (start, end) => continueRange(f.mm, f, start, end));
    case UFFDIO_POISON:
      return rangeOp(t, f, arg, UFFDIO_POISON_MODE_DONTWAKE, (start, end) => poisonRange(f.mm, f, start, end));
    case UFFDIO_WRITEPROTECT: {
      const b = t.mm.copyIn(arg, 24);
      const [start, end] = checkRange(b.readBigUInt64LE(0), b.readBigUInt64LE(8));
      const mode = b.readBigUInt64LE(16);
      if (mode & ~BigInt(UFFDIO_WRITEPROTECT_MODE_WP | UFFDIO_WRITEPROTECT_MODE_DONTWAKE)) throw new Errno(E.EINVAL);
      const on = (mode & BigInt(UFFDIO_WRITEPROTECT_MODE_WP)) !== 0n;
      const dontwake = (mode & BigInt(UFFDIO_WRITEPROTECT_MODE_DONTWAKE)) !== 0n;
      if (on && dontwake) throw new Errno(E.EINVAL);
      if (f.changing > 0) throw new Errno(E.EAGAIN);
      writeProtect(f.mm, start, end, on);
      // Releasing a page wakes the writers waiting for it.
      if (!on && !dontwake) f.wake(start, end);
      return 0;
    }
    case UFFDIO_MOVE:
      return move(t, f, arg);
    case UFFDIO_ZEROPAGE:
      return rangeOp(t, f, arg, UFFDIO_ZEROPAGE_MODE_DONTWAKE, (start, end) => fillMissing(f.mm, f, start, end, null));
    default:
      throw new Errno(E.EINVAL);
  }
}

/**
 * UFFDIO_API: the handshake, once. The answer lists every feature and
 * ioctl there is, whatever was asked; an unknown API, an unknown feature or
 * a second handshake is EINVAL (the structure zeroed, except after a second
 * handshake, as Linux).
 */
function api(t: Task, f: UserfaultFile, arg: number): number {
  const b = t.mm.copyIn(arg, 24);
  const want = b.readBigUInt64LE(8);
  const fail = (errno: number): never => {
    t.mm.copyOut(arg, Buffer.alloc(24));
    throw new Errno(errno);
  };
  if (b.readBigUInt64LE(0) !== BigInt(UFFD_API)) fail(E.EINVAL);
  if (want & BigInt(UFFD_FEATURE_EVENT_FORK) && !capableInit(t.creds, CAP_SYS_PTRACE)) fail(E.EPERM);
  if (want & ~BigInt(UFFD_FEATURES)) fail(E.EINVAL);
  const out = Buffer.alloc(24);
  out.writeBigUInt64LE(BigInt(UFFD_API), 0);
  out.writeBigUInt64LE(BigInt(UFFD_FEATURES), 8);
  out.writeBigUInt64LE(API_IOCTLS, 16);
  t.mm.copyOut(arg, out);
  if (f.initialized) throw new Errno(E.EINVAL);
  f.initialized = true;
  f.features = Number(want);
  return 0;
}

/** UFFDIO_COPY: struct uffdio_copy { dst, src, len, mode; s64 copy }. */
function copy(t: Task, f: UserfaultFile, arg: number): number {
  const b = t.mm.copyIn(arg, 32);
  const [start, end] = checkRange(b.readBigUInt64LE(0), b.readBigUInt64LE(16));
  const src = b.readBigUInt64LE(8);
  checkUnaligned(src, b.readBigUInt64LE(16));
  const mode = b.readBigUInt64LE(24);
  if (mode & ~BigInt(UFFDIO_COPY_MODE_DONTWAKE | UFFDIO_COPY_MODE_WP)) throw new Errno(E.EINVAL);
  const from = Number(src);
  const wp = (mode & BigInt(UFFDIO_COPY_MODE_WP)) !== 0n;
  return settle(t, f, arg + 32, start, end, (mode & BigInt(UFFDIO_COPY_MODE_DONTWAKE)) !== 0n, () =>
    fillMissing(f.mm, f, start, end, (page, into) => t.mm.copyInto(from + page * PAGE_SIZE, into), wp));
}

/**
 * UFFDIO_MOVE: struct uffdio_move { dst, src, len, mode; s64 move }, by the
 * context's own address space only (EINVAL from another, as Linux refuses
 * cross-mm moves); both ranges checked as a fill's.
 */
function move(t: Task, f: UserfaultFile, arg: number): number {
  if (t.mm !== f.mm) throw new Errno(E.EINVAL);
  const b = t.mm.copyIn(arg, 40);
  const len = b.readBigUInt64LE(16);
  const [dst, end] = checkRange(b.readBigUInt64LE(0), len);
  const [src] = checkRange(b.readBigUInt64LE(8), len);
  const mode = b.readBigUInt64LE(24);
  if (mode & ~BigInt(UFFDIO_MOVE_MODE_DONTWAKE | UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES)) throw new Errno(E.EINVAL);
  const holes = (mode & BigInt(UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES)) !== 0n;
  return settle(t, f, arg + 32, dst, end, (mode & BigInt(UFFDIO_MOVE_MODE_DONTWAKE)) !== 0n, () => movePages(f.mm, f, dst, src, end - dst, holes));
}

/** ZEROPAGE, CONTINUE and POISON: struct { range; mode (only DONTWAKE); s64 result }, reported by settle. */
function rangeOp(t: Task, f: UserfaultFile, arg: number, dontwake: number, op: (start: number, end: number) => number): number {
  const b = t.mm.copyIn(arg, 24);
  const [start, end] = checkRange(b.readBigUInt64LE(0), b.readBigUInt64LE(8));
  const mode = b.readBigUInt64LE(16);
  if (mode & ~BigInt(dontwake)) throw new Errno(E.EINVAL);
  return settle(t, f, arg + 24, start, end, mode !== 0n, () => op(start, end));
}

/**
 * Run a fill and report it as Linux: the bytes filled (or the error) go to
 * the structure's result field (EFAULT if that cannot be written), the
 * filled range's waiters wake unless DONTWAKE, and a partial fill is EAGAIN.
 */
function settle(t: Task, f: UserfaultFile, resultAt: number, start: number, end: number, dontwake: boolean, fill: () => number): number {
  let done: number;
  try {
    if (f.changing > 0) throw new Errno(E.EAGAIN);
    done = fill();
  } catch (e) {
    if (!(e instanceof Errno)) throw e;
    t.mm.writeI64(resultAt, -e.errno);
    throw e;
  }
  t.mm.writeI64(resultAt, done);
  if (!dontwake) f.wake(start, start + done);
  if (start + done !== end) throw new Errno(E.EAGAIN);
  return 0;
}
