// unlink, rename, link, symlink and their *at() forms.
import { Errno, E } from '../abi/errno';
import type { Task } from '../kernel/task';
import { readPath, resolverOf, startOf, vfsOf } from './sysutil';
import { AT_EMPTY_PATH, AT_REMOVEDIR, AT_SYMLINK_FOLLOW, S_IFDIR, S_IFMT } from '../abi/fs';
import { i32, u32, type SyscallDef } from '../kernel/syscall';

function unlinkat(t: Task, dirfd: number, pathAddr: number, flags: number): number {
  if (flags & ~AT_REMOVEDIR) throw new Errno(E.EINVAL);
  const path = readPath(t, pathAddr);
  const start = startOf(t, dirfd, path);
  if (flags & AT_REMOVEDIR) vfsOf(t).rmdir(resolverOf(t), start, path);
  else vfsOf(t).unlink(resolverOf(t), start, path);
  return 0;
}

function renameat(t: Task, od: number, op: number, nd: number, np: number, flags: number): number {
  const oldPath = readPath(t, op);
  const newPath = readPath(t, np);
  vfsOf(t).rename(resolverOf(t), startOf(t, od, oldPath), oldPath, startOf(t, nd, newPath), newPath, flags);
  return 0;
}

function linkat(t: Task, od: number, op: number, nd: number, np: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) throw new Errno(E.EINVAL);
  const oldPath = readPath(t, op);
  const newPath = readPath(t, np);
  const vfs = vfsOf(t);
  const r = resolverOf(t);
  if (oldPath.length === 0) {
    if (!(flags & AT_EMPTY_PATH)) throw new Errno(E.ENOENT);
    // linkat(fd, "", ...) links the file fd refers to: link through its own location.
    const f = t.fdTable.getRaw(od);
    if (!f.path) throw new Errno(E.ENOENT);
    if ((f.path.dentry.inode.mode & S_IFMT) === S_IFDIR) throw new Errno(E.EPERM);
    vfs.linkTo(r, f.path, startOf(t, nd, newPath), newPath);
    return 0;
  }
  vfs.link(r, startOf(t, od, oldPath), oldPath, (flags & AT_SYMLINK_FOLLOW) !== 0, startOf(t, nd, newPath), newPath);
  return 0;
}

function symlinkat(t: Task, targetAddr: number, dirfd: number, pathAddr: number): number {
  const target = readPath(t, targetAddr);
  const path = readPath(t, pathAddr);
  vfsOf(t).symlink(resolverOf(t), target, startOf(t, dirfd, path), path);
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 87, name: 'unlink', args: ['str'], fn: (t, a) => unlinkat(t, -100, a[0], 0) },
  { nr: 263, name: 'unlinkat', args: ['atfd', 'str', 'unlink_flags'], fn: (t, a) => unlinkat(t, i32(a[0]), a[1], u32(a[2])) },
  { nr: 82, name: 'rename', args: ['str', 'str'], fn: (t, a) => renameat(t, -100, a[0], -100, a[1], 0) },
  { nr: 264, name: 'renameat', args: ['atfd', 'str', 'atfd', 'str'], fn: (t, a) => renameat(t, i32(a[0]), a[1], i32(a[2]), a[3], 0) },
  { nr: 316, name: 'renameat2', args: ['atfd', 'str', 'atfd', 'str', 'rename_flags'], partial: 'RENAME_WHITEOUT is refused', fn: (t, a) => renameat(t, i32(a[0]), a[1], i32(a[2]), a[3], u32(a[4])) },
  { nr: 86, name: 'link', args: ['str', 'str'], fn: (t, a) => linkat(t, -100, a[0], -100, a[1], 0) },
  { nr: 265, name: 'linkat', args: ['atfd', 'str', 'atfd', 'str', 'atflags'], fn: (t, a) => linkat(t, i32(a[0]), a[1], i32(a[2]), a[3], u32(a[4])) },
  { nr: 88, name: 'symlink', args: ['str', 'str'], fn: (t, a) => symlinkat(t, a[0], -100, a[1]) },
  { nr: 266, name: 'symlinkat', args: ['str', 'atfd', 'str'], fn: (t, a) => symlinkat(t, a[0], i32(a[1]), a[2]) },
];
