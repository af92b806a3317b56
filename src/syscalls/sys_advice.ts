// Caching hints and the page cache's state: fadvise64, readahead,
// sync_file_range, cachestat. The hints have nothing to fill or drop here (a
// host file's page cache fills itself in 64 KiB blocks, tmpfs pages are the
// file): what remains is Linux's argument checking, in its order, and for
// sync_file_range the write-out of a host file (fdatasync). cachestat counts
// what the inode's page cache holds (Inode.pageCacheIn).
import { Errno, E } from '../abi/errno';
import { MAY_WRITE, checkAccess, checkOwner } from '../vfs/perm';
import { O_PATH, S_IFBLK, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG } from '../abi/fs';
import type { Task } from '../kernel/task';
import type { FileDescription } from '../vfs/file';
import { i32, u32, type SyscallDef } from '../kernel/syscall';

const POSIX_FADV_NOREUSE = 5;
const SYNC_FILE_RANGE_WAIT_BEFORE = 1, SYNC_FILE_RANGE_WRITE = 2, SYNC_FILE_RANGE_WAIT_AFTER = 4;
const SYNC_FILE_RANGE_ALL = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;

/** The description behind fd; O_PATH ones do not exist for these calls (EBADF). */
function fileOf(t: Task, fd: number): FileDescription {
  const f = t.fdTable.get(i32(fd));
  if (f.flags & O_PATH) throw new Errno(E.EBADF);
  return f;
}

function fmt(f: FileDescription): number {
  return f.stat().mode & S_IFMT;
}

/** generic_fadvise's checks: FIFOs are ESPIPE, a negative length or an unknown advice EINVAL. */
function fadvise(f: FileDescription, len: number, advice: number): number {
  if (fmt(f) === S_IFIFO) throw new Errno(E.ESPIPE);
  if (len < 0) throw new Errno(E.EINVAL);
  if (advice < 0 || advice > POSIX_FADV_NOREUSE) throw new Errno(E.EINVAL);
  return 0;
}

function readahead(t: Task, a: number[]): number {
  const f = fileOf(t, a[0]);
  if (!f.readable) throw new Errno(E.EBADF);
  const m = fmt(f);
  // Only files that can have pages read ahead: regular files and block devices.
  if (m !== S_IFREG && m !== S_IFBLK) throw new Errno(E.EINVAL);
  return fadvise(f, a[2], 3 /* POSIX_FADV_WILLNEED */);
}

function syncFileRange(t: Task, a: number[]): number {
  const f = fileOf(t, a[0]);
  const off = a[1], nbytes = a[2], flags = u32(a[3]);
  if (flags & ~SYNC_FILE_RANGE_ALL) throw new Errno(E.EINVAL);
  if (off < 0 || off + nbytes < 0 || nbytes < 0 || off + nbytes > Number.MAX_SAFE_INTEGER) throw new Errno(E.EINVAL);
  const m = fmt(f);
  if (m !== S_IFREG && m !== S_IFBLK && m !== S_IFDIR && m !== S_IFLNK) throw new Errno(E.ESPIPE);
  // Writing out a range is, for the files that have somewhere to write to (a
  // donated host file), the data part of an fsync of the whole file.
  if (flags & SYNC_FILE_RANGE_WRITE && m === S_IFREG) {
    try {
      f.sync(true);
    } catch (e) {
      if (!(e instanceof Errno && e.errno === E.EINVAL)) throw e;
    }
  }
  return 0;
}

const CACHESTAT_RANGE_SIZE = 16;
const U64 = (1n << 64n) - 1n;

/** A page index as a number, or the largest safe one for an index past it (no file reaches there). */
function pageIndex(i: bigint): number {
  return i > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(i);
}

/**
 * cachestat(fd, range, cstat, flags), Linux 6.5 with 6.14's permission rule
 * (a descriptor open for writing, the owner, or write permission; else
 * EPERM), in Linux's order: EBADF, EPERM, the range (EFAULT), flags
 * (EINVAL). Pages [off >> 12, (off + len - 1) >> 12], len 0 to the end,
 * with the u64 arithmetic wrapping as Linux's (an empty range). Nothing is
 * ever under writeback or evicted (there is no swap or shadow entry here).
 */
function cachestat(t: Task, a: number[]): number {
  const f = fileOf(t, a[0]);
  if (!f.writable) {
    const attrs = f.stat();
    try {
      checkOwner(t.creds, attrs);
    } catch {
      try {
        checkAccess(t.creds, attrs, MAY_WRITE);
      } catch {
        throw new Errno(E.EPERM);
      }
    }
  }
  const r = t.mm.copyIn(a[1], CACHESTAT_RANGE_SIZE);
  if (u32(a[3]) !== 0) throw new Errno(E.EINVAL);
  const off = r.readBigUInt64LE(0), len = r.readBigUInt64LE(8);
  const first = off >> 12n;
  const last = len === 0n ? U64 : ((off + len - 1n) & U64) >> 12n;
  const got = last < first || !f.inode ? { cache: 0, dirty: 0 } : f.inode.pageCacheIn(pageIndex(first), pageIndex(last) + 1);
  const out = Buffer.alloc(40);
  out.writeBigUInt64LE(BigInt(got.cache), 0);
  out.writeBigUInt64LE(BigInt(got.dirty), 8);
  t.mm.copyOut(a[2], out);
  return 0;
}

export const defs: SyscallDef[] = [
  {
    nr: 451, name: 'cachestat', args: ['fd', 'ptr', 'ptr', 'hex'], fn: cachestat,
    partial: 'counts tmpfs pages and the Sentry\'s page cache of host files (nothing dirty, under writeback or evicted)',
  },
  { nr: 221, name: 'fadvise64', args: ['fd', 'long', 'size', 'int'], fn: (t, a) => fadvise(fileOf(t, a[0]), a[2], i32(a[3])) },
  { nr: 187, name: 'readahead', args: ['fd', 'long', 'size'], fn: readahead },
  { nr: 277, name: 'sync_file_range', args: ['fd', 'long', 'long', 'hex'], fn: syncFileRange },
];
