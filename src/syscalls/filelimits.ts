// What every change of a regular file's data goes through: RLIMIT_FSIZE
// (SIGXFSZ, then EFBIG: the signal's default action ends the process; a
// caught or ignored one leaves the error) and the loss of set-ID bits and
// file capabilities a modification implies (vfs/perm.ts).
import { Errno, E } from '../abi/errno';
import { RLIMIT_FSIZE } from '../abi/resource';
import { SIGXFSZ } from '../abi/signals';
import { O_APPEND, SEEK_CUR, S_IFMT, S_IFREG } from '../abi/fs';
import type { Task } from '../kernel/task';
import type { FileDescription } from '../vfs/file';
import type { Inode } from '../vfs/inode';
import { removePrivileges } from '../vfs/perm';
import { rl } from './sys_info';

function fsizeLimit(t: Task): number {
  return rl(t.tg.rlimits[RLIMIT_FSIZE].cur);
}

function tooBig(t: Task): never {
  t.sendSignal(SIGXFSZ);
  throw new Errno(E.EFBIG);
}

function regular(f: FileDescription): Inode | null {
  return f.inode && (f.inode.mode & S_IFMT) === S_IFREG ? f.inode : null;
}

/**
 * Before a write of count bytes at off (null: the file offset) to f: how
 * many bytes may be written. A write starting at or past the limit fails;
 * one crossing it is cut short. Nothing is checked or dropped for an empty
 * write, as on Linux. A host file given as stdio has no inode here: the
 * limit still applies to it (its size from fstat), privileges stay the host's.
 */
export function beforeWrite(t: Task, f: FileDescription, off: number | null, count: number, append = false, noAppend = false): number {
  if (count === 0) return count;
  const inode = regular(f);
  const lim = fsizeLimit(t);
  if (lim !== Infinity && (inode || !f.inode)) {
    const size = inode ? inode.attrs().size : hostFileSize(f);
    if (size >= 0) {
      const pos = append || (f.flags & O_APPEND && !noAppend) ? size : off ?? (inode ? f.offset : f.seek(0, SEEK_CUR));
      if (pos >= lim) tooBig(t);
      count = Math.min(count, lim - pos);
    }
  }
  if (inode) removePrivileges(t.creds, inode);
  return count;
}

/** The size of a regular file without an inode (a host fd), or -1 for anything else. */
function hostFileSize(f: FileDescription): number {
  const st = f.stat();
  return (st.mode & S_IFMT) === S_IFREG ? st.size : -1;
}

/** Before truncate/ftruncate/fallocate make inode newSize bytes long. */
export function beforeResize(t: Task, inode: Inode, newSize: number): void {
  if (newSize > inode.attrs().size && newSize > fsizeLimit(t)) tooBig(t);
  removePrivileges(t.creds, inode);
}
