// inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch (man 7
// inotify). The instance is fsimpl/inotify; the events come from the VFS's
// hooks (vfs/fsnotify.ts).
import { E, Errno } from '../abi/errno';
import { O_NONBLOCK, O_RDONLY, S_IFDIR, S_IFMT } from '../abi/fs';
import { ALL_INOTIFY_BITS, IN_CLOEXEC, IN_DONT_FOLLOW, IN_MASK_ADD, IN_MASK_CREATE, IN_NONBLOCK, IN_ONLYDIR } from '../abi/inotify';
import type { Task } from '../kernel/task';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { InotifyFile } from '../fsimpl/inotify/inotify';
import { checkAccess, MAY_READ } from '../vfs/perm';
import { readPath, resolverOf, startOf, vfsOf } from './sysutil';

function init1(t: Task, flags: number): number {
  if (flags & ~(IN_CLOEXEC | IN_NONBLOCK)) throw new Errno(E.EINVAL);
  const limits = vfsOf(t).notify;
  const uid = t.creds.euid;
  if (limits.user(uid).instances >= limits.maxUserInstances) {
    limits.settle(uid);
    throw new Errno(E.EMFILE);
  }
  const f = new InotifyFile(O_RDONLY | (flags & O_NONBLOCK), limits, uid, t.heapBudget);
  try {
    return t.fdTable.install(f, (flags & IN_CLOEXEC) !== 0);
  } catch (e) {
    f.decRef();
    throw e;
  }
}

function instance(t: Task, fd: number): InotifyFile {
  const f = t.fdTable.get(fd);
  if (!(f instanceof InotifyFile)) throw new Errno(E.EINVAL);
  return f;
}

/** Checks in Linux's order: the mask, the descriptor, the path, read permission, then the watch itself. */
function addWatch(t: Task, fd: number, pathAddr: number, mask: number): number {
  if (mask & IN_MASK_ADD && mask & IN_MASK_CREATE) throw new Errno(E.EINVAL);
  if (!(mask & ALL_INOTIFY_BITS)) throw new Errno(E.EINVAL);
  const f = instance(t, fd);
  const path = readPath(t, pathAddr);
  const p = vfsOf(t).resolve(resolverOf(t), startOf(t, -100, path), path, !(mask & IN_DONT_FOLLOW));
  const inode = p.dentry.inode;
  if (mask & IN_ONLYDIR && (inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
  checkAccess(t.creds, inode.attrs(), MAY_READ);
  return f.addWatch(inode, mask, p.mount.fs.dev);
}

export const defs: SyscallDef[] = [
  { nr: 253, name: 'inotify_init', args: [], fn: (t) => init1(t, 0) },
  { nr: 294, name: 'inotify_init1', args: ['fdflags'], fn: (t, a) => init1(t, u32(a[0])) },
  {
    nr: 254, name: 'inotify_add_watch', args: ['fd', 'str', 'hex'], fn: (t, a) => addWatch(t, i32(a[0]), a[1], u32(a[2])),
    partial: 'changes made on the host are reported for files of bind mounts (not of the root image; with --gofer the Gofer watches on the host), without the host\'s OPEN, ACCESS and CLOSE events, at most 1024 host-watched files per bind; two names of one host file not yet copied up are watched apart',
  },
  {
    nr: 255, name: 'inotify_rm_watch', args: ['fd', 'int'],
    fn: (t, a) => {
      instance(t, i32(a[0])).rmWatch(i32(a[1]));
      return 0;
    },
  },
];
