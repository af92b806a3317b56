// FICLONE and FICLONERANGE (ioctl_ficlone(2)): Linux's VFS answers them for
// every file before its driver does. The checks of vfs_clone_file_range run
// in its order (the source descriptor, one file system, regular files, the
// source readable and the destination writable without O_APPEND); then, as
// no file system of the sandbox shares extents between files, EOPNOTSUPP:
// what Linux gives on tmpfs or ext4, and what cp --reflink=auto falls back on.
import { Errno, E } from '../abi/errno';
import { O_APPEND, S_IFDIR, S_IFMT, S_IFREG } from '../abi/fs';
import { i32 } from '../kernel/syscall';
import type { Task } from '../kernel/task';
import type { FileDescription } from '../vfs/file';

const FICLONE = 0x40049409;
const FICLONERANGE = 0x4020940d;
/** struct file_clone_range: src_fd (s64), src_offset, src_length, dest_offset. */
const CLONE_RANGE_SIZE = 32;

export function remapIoctl(t: Task, dst: FileDescription, cmd: number, arg: number): number | null {
  let srcFd: number;
  if (cmd === FICLONE) srcFd = i32(arg);
  else if (cmd === FICLONERANGE) srcFd = t.mm.copyIn(arg, CLONE_RANGE_SIZE).readInt32LE(0);
  else return null;
  const src = t.fdTable.get(srcFd);
  const fsOf = (f: FileDescription) => f.path?.mount.fs ?? f.inode?.fs ?? null;
  if (fsOf(src) === null || fsOf(src) !== fsOf(dst)) throw new Errno(E.EXDEV);
  const types = [src, dst].map((f) => (f.inode?.mode ?? 0) & S_IFMT);
  if (types.includes(S_IFDIR)) throw new Errno(E.EISDIR);
  if (types.some((x) => x !== S_IFREG)) throw new Errno(E.EINVAL);
  if (!src.readable || !dst.writable || dst.flags & O_APPEND) throw new Errno(E.EBADF);
  throw new Errno(E.EOPNOTSUPP);
}
