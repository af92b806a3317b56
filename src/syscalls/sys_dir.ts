// Directories: getdents, chdir/fchdir/getcwd, mkdir, rmdir, mknod.
import { Errno, E } from '../abi/errno';
import type { Task } from '../kernel/task';
import { checkAccess, MAY_EXEC } from '../vfs/perm';
import { readPath, resolverOf, startOf, vfsOf } from './sysutil';
import { makedev, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFMT, S_IFREG, S_IFSOCK } from '../abi/fs';
import { capableInit } from '../auth/userns';
import { CAP_MKNOD } from '../abi/capability';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { notifyFile } from '../vfs/fsnotify';
import { IN_ACCESS } from '../abi/inotify';

function getdents(t: Task, fd: number, buf: number, count: number, dirent64: boolean): number {
  const f = t.fdTable.get(fd);
  // The count is an int inside Linux: past INT_MAX no entry "fits".
  if (count > 0x7fffffff) throw new Errno(E.EINVAL);
  const before = f.offset;
  // Entries go out whole up to the first fault in the buffer, as filldir copies them.
  const data = f.getdents(count, dirent64, t.mm.prefix(buf, count, true));
  try {
    if (data.length) t.mm.copyOut(buf, data);
  } catch (e) {
    // A bad buffer must not consume entries: the position goes back.
    f.offset = before;
    throw e;
  }
  // Linux's iterate_dir reports an access even at the end of the directory.
  if (f.inode) notifyFile(f.path ? f.path.dentry : null, f.inode, IN_ACCESS);
  return data.length;
}

function mkdir(t: Task, dirfd: number, pathAddr: number, mode: number): number {
  const path = readPath(t, pathAddr);
  vfsOf(t).mkdir(resolverOf(t), startOf(t, dirfd, path), path, mode & 0o1777);
  return 0;
}

function mknod(t: Task, dirfd: number, pathAddr: number, mode: number, dev: number): number {
  const path = readPath(t, pathAddr);
  let type = mode & S_IFMT;
  if (type === 0) type = S_IFREG;
  // Device nodes need CAP_MKNOD (as Linux for a device that is not a whiteout); opening one whose
  // device the sandbox does not have is ENXIO (vfs.openAt).
  if (type === S_IFDIR) throw new Errno(E.EPERM);
  if (type !== S_IFREG && type !== S_IFIFO && type !== S_IFSOCK && type !== S_IFCHR && type !== S_IFBLK) throw new Errno(E.EINVAL);
  // The 32-bit dev_t of the system call: 12-bit major, 20-bit minor, split as Linux's new_decode_dev.
  const d = dev >>> 0;
  const rdev = makedev((d & 0xfff00) >>> 8, (d & 0xff) | ((d >>> 12) & 0xfff00));
  vfsOf(t).mknod(resolverOf(t), startOf(t, dirfd, path), path, type, mode & 0o7777, rdev, capableInit(t.creds, CAP_MKNOD));
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 78, name: 'getdents', args: ['fd', 'dirents', 'size'], fn: (t, a) => getdents(t, i32(a[0]), a[1], u32(a[2]), false) },
  { nr: 217, name: 'getdents64', args: ['fd', 'dirents', 'size'], fn: (t, a) => getdents(t, i32(a[0]), a[1], u32(a[2]), true) },
  {
    nr: 80, name: 'chdir', args: ['str'],
    fn: (t, a) => {
      const path = readPath(t, a[0]);
      const p = vfsOf(t).resolve(resolverOf(t), startOf(t, -100, path), path, true);
      if ((p.dentry.inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
      checkAccess(t.creds, p.dentry.inode.attrs(), MAY_EXEC);
      t.fs.setCwd(p);
      return 0;
    },
  },
  {
    nr: 81, name: 'fchdir', args: ['fd'],
    fn: (t, a) => {
      const f = t.fdTable.getRaw(i32(a[0]));
      if (!f.path) throw new Errno(E.ENOTDIR);
      if ((f.path.dentry.inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
      checkAccess(t.creds, f.path.dentry.inode.attrs(), MAY_EXEC);
      t.fs.setCwd(f.path);
      return 0;
    },
  },
  {
    nr: 79, name: 'getcwd', args: ['cstr_out', 'size'],
    fn: (t, a) => {
      const { path, reachable, outside } = vfsOf(t).pathname(resolverOf(t), t.fs.cwd);
      if (!reachable) throw new Errno(E.ENOENT); // cwd was removed
      // A cwd outside the caller's root (left there by chroot) is marked as Linux marks it, so that
      // it cannot be taken for a path under the root (glibc's getcwd then fails with ENOENT).
      const b = Buffer.from((outside ? '(unreachable)' : '') + path + '\0', 'latin1');
      if (u32(a[1]) < b.length) throw new Errno(E.ERANGE);
      t.mm.copyOut(a[0], b);
      return b.length;
    },
  },
  { nr: 83, name: 'mkdir', args: ['str', 'oct'], fn: (t, a) => mkdir(t, -100, a[0], u32(a[1])) },
  { nr: 258, name: 'mkdirat', args: ['atfd', 'str', 'oct'], fn: (t, a) => mkdir(t, i32(a[0]), a[1], u32(a[2])) },
  {
    nr: 84, name: 'rmdir', args: ['str'],
    fn: (t, a) => {
      const path = readPath(t, a[0]);
      vfsOf(t).rmdir(resolverOf(t), startOf(t, -100, path), path);
      return 0;
    },
  },
  { nr: 133, name: 'mknod', args: ['str', 'oct', 'hex'], fn: (t, a) => mknod(t, -100, a[0], u32(a[1]), a[2]) },
  { nr: 259, name: 'mknodat', args: ['atfd', 'str', 'oct', 'hex'], fn: (t, a) => mknod(t, i32(a[0]), a[1], u32(a[2]), a[3]) },
];
