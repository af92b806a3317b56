// Caching hints: fadvise64, readahead, sync_file_range. File data here is in
// the Sentry's memory or read from the host on each access, so there is no page
// cache to fill or drop: what remains is Linux's argument checking, in its
// order, and for sync_file_range the write-out of a host file (fdatasync).
import { Errno, E } from '../abi/errno';
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

export const defs: SyscallDef[] = [
  { nr: 221, name: 'fadvise64', args: ['fd', 'long', 'size', 'int'], fn: (t, a) => fadvise(fileOf(t, a[0]), a[2], i32(a[3])) },
  { nr: 187, name: 'readahead', args: ['fd', 'long', 'size'], fn: readahead },
  { nr: 277, name: 'sync_file_range', args: ['fd', 'long', 'long', 'hex'], fn: syncFileRange },
];
