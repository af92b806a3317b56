// Attribute changes: chmod, chown, utimes, truncate, fallocate; sync; umask.
import { ACCESS_FS_TRUNCATE } from '../abi/landlock';
import { landlockCheck, landlockCheckTruncate } from '../vfs/landlock';
import { Errno, E } from '../abi/errno';
import type { Task } from '../kernel/task';
import { gidTo, uidTo } from '../auth/userns';
import type { VPath } from '../vfs/dentry';
import { checkAccess, checkChown, checkMutable, checkOwner, dropPrivileges, isOwnerOrCapable, mayAccess, maySetGid, MAY_WRITE } from '../vfs/perm';
import { beforeResize } from './filelimits';
import { punchMapped } from '../kernel/filemaps';
import { readPath, resolveAt, resolverOf, startOf, vfsOf } from './sysutil';
import { AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, FS_APPEND_FL, FS_IMMUTABLE_FL, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_ISGID, type InodeAttrs, type SetAttr } from '../abi/fs';
import { nowNs } from '../host/clock';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { notifyFile } from '../vfs/fsnotify';
import { IN_MODIFY } from '../abi/inotify';

const UTIME_NOW = (1 << 30) - 1;
const UTIME_OMIT = (1 << 30) - 2;

function pathArg(t: Task, dirfd: number, pathAddr: number, flags: number): VPath {
  const path = readPath(t, pathAddr);
  const r = resolveAt(t, dirfd, path, flags);
  if (!r.p) throw new Errno(E.EBADF);
  return r.p;
}

function fdPath(t: Task, fd: number): VPath {
  const f = t.fdTable.get(fd);
  if (!f.path) throw new Errno(E.EBADF);
  return f.path;
}

/**
 * fchmod/fchown: the file's location, or for a file without one that keeps
 * its own attributes (a pipe) those attributes, changed in place.
 */
function fdAttrs(t: Task, fd: number, change: (a: InodeAttrs) => void, onPath: (p: VPath) => number): number {
  const f = t.fdTable.get(fd);
  if (f.path) return onPath(f.path);
  const a = f.ownAttrs();
  if (!a) throw new Errno(E.EBADF);
  change(a);
  a.ctimeNs = nowNs();
  return 0;
}

function fchmod(t: Task, fd: number, mode: number): number {
  return fdAttrs(t, fd, (a) => {
    checkOwner(t.creds, a);
    a.mode = (a.mode & S_IFMT) | (mode & 0o7777);
  }, (p) => chmod(t, p, mode));
}

function fchown(t: Task, fd: number, uid: number, gid: number): number {
  return fdAttrs(t, fd, (a) => {
    checkChown(t.creds, a, uid | 0, gid | 0);
    if ((uid | 0) !== -1) a.uid = uid >>> 0;
    if ((gid | 0) !== -1) a.gid = gid >>> 0;
  }, (p) => chown(t, p, uid, gid));
}

function chmod(t: Task, p: VPath, mode: number): number {
  const a = p.dentry.inode.attrs();
  vfsOf(t).checkWritable(p);
  checkMutable(a);
  // A symlink's mode never changes (Linux 6.6's notify_change; reached by fchmodat2's AT_SYMLINK_NOFOLLOW or an O_PATH link).
  if ((a.mode & S_IFMT) === S_IFLNK) throw new Errno(E.EOPNOTSUPP);
  checkOwner(t.creds, a);
  mode &= 0o7777;
  // Only a member of the file's group (or CAP_FSETID) may set the setgid bit, directories included.
  if (!maySetGid(t.creds, a)) mode &= ~S_ISGID;
  vfsOf(t).setattr(p, { mode });
  return 0;
}

function chown(t: Task, p: VPath, uid: number, gid: number): number {
  uid = uid | 0;
  gid = gid | 0;
  // IDs as the caller's user namespace names them: unmapped ones are EINVAL.
  const ns = t.creds.userns;
  if (uid !== -1 && (uid = uidTo(ns, uid >>> 0) | 0) === -1) throw new Errno(E.EINVAL);
  if (gid !== -1 && (gid = gidTo(ns, gid >>> 0) | 0) === -1) throw new Errno(E.EINVAL);
  const a = p.dentry.inode.attrs();
  vfsOf(t).checkWritable(p);
  checkMutable(a);
  checkChown(t.creds, a, uid, gid);
  const s: SetAttr = {};
  if (uid !== -1) s.uid = uid >>> 0;
  if (gid !== -1) s.gid = gid >>> 0;
  // Any chown, even to the same owner, clears set-user-ID (set-group-ID when
  // group-executable) and the file capabilities of a non-directory.
  const mode = dropPrivileges(t.creds, p.dentry.inode, true);
  if (mode !== undefined) s.mode = mode;
  vfsOf(t).setattr(p, s);
  return 0;
}

/** times: [atimeNs, mtimeNs] with 'now'/'omit' markers; null = both now. */
function setTimes(t: Task, p: VPath, times: Array<bigint | 'now' | 'omit'> | null): number {
  const a = p.dentry.inode.attrs();
  vfsOf(t).checkWritable(p);
  if (times && times.every((x) => x === 'omit')) return 0;
  // Only NULL or both UTIME_NOW is a "touch" (Linux's ATTR_TOUCH); one UTIME_OMIT makes it a setting of times (ATTR_TIMES_SET).
  const allNow = times === null || times.every((x) => x === 'now');
  // Explicit times are refused on immutable and append-only files; the current time on immutable ones only.
  if (allNow && (a.flags ?? 0) & FS_IMMUTABLE_FL) throw new Errno(E.EPERM);
  if (!allNow) checkMutable(a);
  if (!isOwnerOrCapable(t.creds, a)) {
    // Setting the current time needs write permission; explicit times need ownership.
    if (!allNow || !mayAccess(t.creds, a, MAY_WRITE)) throw new Errno(allNow ? E.EACCES : E.EPERM);
  }
  const now = nowNs();
  const s: SetAttr = {};
  const pick = (x: bigint | 'now' | 'omit'): bigint | undefined => (x === 'omit' ? undefined : x === 'now' ? now : x);
  if (times === null) s.atimeNs = s.mtimeNs = now;
  else {
    s.atimeNs = pick(times[0]);
    s.mtimeNs = pick(times[1]);
  }
  vfsOf(t).setattr(p, s);
  return 0;
}

/** struct timespec[2] of utimensat. */
function readTimespecs(t: Task, addr: number): Array<bigint | 'now' | 'omit'> | null {
  if (addr === 0) return null;
  const b = t.mm.copyIn(addr, 32);
  const out: Array<bigint | 'now' | 'omit'> = [];
  for (let i = 0; i < 2; i++) {
    const sec = b.readBigInt64LE(i * 16);
    const nsec = Number(b.readBigInt64LE(i * 16 + 8));
    if (nsec === UTIME_NOW) out.push('now');
    else if (nsec === UTIME_OMIT) out.push('omit');
    else if (nsec < 0 || nsec > 999999999) throw new Errno(E.EINVAL);
    else out.push(sec * 1000000000n + BigInt(nsec));
  }
  return out;
}

/** struct timeval[2] of utimes/futimesat. */
function readTimevals(t: Task, addr: number): bigint[] | null {
  if (addr === 0) return null;
  const b = t.mm.copyIn(addr, 32);
  const out: bigint[] = [];
  for (let i = 0; i < 2; i++) {
    const sec = b.readBigInt64LE(i * 16);
    const usec = b.readBigInt64LE(i * 16 + 8);
    if (usec < 0n || usec > 999999n) throw new Errno(E.EINVAL);
    out.push(sec * 1000000000n + usec * 1000n);
  }
  return out;
}

async function truncate(t: Task, p: VPath, len: number): Promise<number> {
  if (len < 0) throw new Errno(E.EINVAL);
  const a = p.dentry.inode.attrs();
  if ((a.mode & S_IFMT) === S_IFDIR) throw new Errno(E.EISDIR);
  if ((a.mode & S_IFMT) !== S_IFREG) throw new Errno(E.EINVAL);
  vfsOf(t).checkWritable(p);
  checkAccess(t.creds, a, MAY_WRITE);
  if ((a.flags ?? 0) & FS_APPEND_FL) throw new Errno(E.EPERM);
  // A running program's file (vfs/exec.ts DenyWrite).
  const inode = p.dentry.inode;
  if (inode.writeCount < 0) throw new Errno(E.ETXTBSY);
  // Landlock's path_truncate hook (ABI 3), after the permission checks as on Linux.
  landlockCheck(t.creds, p, ACCESS_FS_TRUNCATE);
  // Leases are broken first, the truncate counted as a writer meanwhile (Linux's get_write_access, then break_lease).
  if (inode.locks?.hasLeases) {
    inode.writeCount++;
    try {
      await vfsOf(t).breakLeases(t, inode, true, false);
    } finally {
      inode.writeCount--;
    }
  }
  beforeResize(t, inode, len);
  const old = inode.attrs().size;
  // mtime and ctime move even when the size stays (Linux's do_truncate).
  vfsOf(t).setattr(p, { size: len, mtimeNs: nowNs() });
  if (len < old) vfsOf(t).onShrink?.(p.dentry.inode, len);
  return 0;
}

function syncFd(t: Task, fd: number, dataOnly = false): number {
  t.fdTable.get(fd).sync(dataOnly);
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 90, name: 'chmod', args: ['str', 'oct'], fn: (t, a) => chmod(t, pathArg(t, -100, a[0], 0), u32(a[1])) },
  { nr: 91, name: 'fchmod', args: ['fd', 'oct'], fn: (t, a) => fchmod(t, i32(a[0]), u32(a[1])) },
  {
    nr: 268, name: 'fchmodat', args: ['atfd', 'str', 'oct'],
    fn: (t, a) => chmod(t, pathArg(t, i32(a[0]), a[1], 0), u32(a[2])),
  },
  {
    nr: 452, name: 'fchmodat2', args: ['atfd', 'str', 'oct', 'atflags'],
    fn: (t, a) => {
      const flags = u32(a[3]);
      if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw new Errno(E.EINVAL);
      return chmod(t, pathArg(t, i32(a[0]), a[1], flags), u32(a[2]));
    },
  },
  { nr: 92, name: 'chown', args: ['str', 'int', 'int'], fn: (t, a) => chown(t, pathArg(t, -100, a[0], 0), a[1], a[2]) },
  { nr: 93, name: 'fchown', args: ['fd', 'int', 'int'], fn: (t, a) => fchown(t, i32(a[0]), a[1], a[2]) },
  { nr: 94, name: 'lchown', args: ['str', 'int', 'int'], fn: (t, a) => chown(t, pathArg(t, -100, a[0], AT_SYMLINK_NOFOLLOW), a[1], a[2]) },
  {
    nr: 260, name: 'fchownat', args: ['atfd', 'str', 'int', 'int', 'atflags'],
    fn: (t, a) => {
      const flags = u32(a[4]);
      if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw new Errno(E.EINVAL);
      return chown(t, pathArg(t, i32(a[0]), a[1], flags), a[2], a[3]);
    },
  },
  {
    nr: 132, name: 'utime', args: ['str', 'ptr'],
    fn: (t, a) => {
      let times: bigint[] | null = null;
      if (a[1]) {
        const b = t.mm.copyIn(a[1], 16);
        times = [b.readBigInt64LE(0) * 1000000000n, b.readBigInt64LE(8) * 1000000000n];
      }
      return setTimes(t, pathArg(t, -100, a[0], 0), times);
    },
  },
  { nr: 235, name: 'utimes', args: ['str', 'ptr'], fn: (t, a) => setTimes(t, pathArg(t, -100, a[0], 0), readTimevals(t, a[1])) },
  { nr: 261, name: 'futimesat', args: ['atfd', 'str', 'ptr'], fn: (t, a) => setTimes(t, pathArg(t, i32(a[0]), a[1], 0), readTimevals(t, a[2])) },
  {
    nr: 280, name: 'utimensat', args: ['atfd', 'str', 'ptr', 'atflags'],
    fn: (t, a) => {
      const flags = u32(a[3]);
      if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw new Errno(E.EINVAL);
      const times = readTimespecs(t, a[2]);
      // A NULL path means the file dirfd refers to (futimens): no flags, a real descriptor.
      if (a[1] === 0 && flags) throw new Errno(E.EINVAL);
      if (a[1] === 0 && i32(a[0]) === -100) throw new Errno(E.EFAULT);
      const p = a[1] === 0 ? fdPath(t, i32(a[0])) : pathArg(t, i32(a[0]), a[1], flags);
      return setTimes(t, p, times);
    },
  },
  {
    nr: 76, name: 'truncate', args: ['str', 'long'],
    fn: (t, a) => {
      const path = readPath(t, a[0]);
      return truncate(t, vfsOf(t).resolve(resolverOf(t), startOf(t, -100, path), path, true), a[1]);
    },
  },
  {
    nr: 77, name: 'ftruncate', args: ['fd', 'long'],
    fn: (t, a) => {
      const f = t.fdTable.get(i32(a[0]));
      if (a[1] < 0) throw new Errno(E.EINVAL);
      if (!f.writable || !f.inode || (f.inode.mode & S_IFMT) !== S_IFREG) throw new Errno(E.EINVAL);
      if ((f.inode.attrs().flags ?? 0) & FS_APPEND_FL) throw new Errno(E.EPERM);
      // Landlock's file_truncate hook: what the domain granted when the file was opened.
      landlockCheckTruncate(f.landlockAllowed);
      beforeResize(t, f.inode, a[1]);
      const old = f.inode.attrs().size;
      if (f.path) vfsOf(t).setattr(f.path, { size: a[1], mtimeNs: nowNs() });
      else f.inode.setattr({ size: a[1], mtimeNs: nowNs() });
      if (a[1] < old) vfsOf(t).onShrink?.(f.inode, a[1]);
      return 0;
    },
  },
  {
    nr: 285, name: 'fallocate', args: ['fd', 'falloc_mode', 'long', 'long'],
    partial: 'only modes 0, KEEP_SIZE and PUNCH_HOLE|KEEP_SIZE (others EOPNOTSUPP)',
    fn: (t, a) => {
      const f = t.fdTable.get(i32(a[0]));
      const mode = i32(a[1]);
      const off = a[2];
      const len = a[3];
      if (off < 0 || len <= 0) throw new Errno(E.EINVAL);
      if (!f.writable) throw new Errno(E.EBADF);
      if (mode & ~3) throw new Errno(E.EOPNOTSUPP);
      if (mode === 2) throw new Errno(E.EOPNOTSUPP); // PUNCH_HOLE needs KEEP_SIZE (vfs_fallocate)
      const iflags = f.inode?.attrs().flags ?? 0;
      if ((mode & ~1 && iflags & FS_APPEND_FL) || iflags & FS_IMMUTABLE_FL) throw new Errno(E.EPERM);
      if (!f.inode) throw new Errno(E.ESPIPE);
      const type = f.inode.mode & S_IFMT;
      if (type === S_IFDIR) throw new Errno(E.EISDIR);
      if (type !== S_IFREG) throw new Errno(E.ENODEV);
      beforeResize(t, f.inode, mode & 1 ? 0 : off + len);
      const inode = f.inode;
      // A hole takes its pages out of the mappings too: they read zeros, as the file does.
      if (mode & 2) punchMapped(t.kernel, inode.mappable(), inode.fs.dev, inode.ino, off, len, () => inode.allocate(mode, off, len));
      else inode.allocate(mode, off, len, t.memCharge);
      notifyFile(f.path ? f.path.dentry : null, inode, IN_MODIFY);
      return 0;
    },
  },
  { nr: 74, name: 'fsync', args: ['fd'], fn: (t, a) => syncFd(t, i32(a[0])) },
  { nr: 75, name: 'fdatasync', args: ['fd'], fn: (t, a) => syncFd(t, i32(a[0]), true) },
  { nr: 162, name: 'sync', args: [], fn: () => 0 },
  {
    nr: 306, name: 'syncfs', args: ['fd'],
    fn: (t, a) => {
      t.fdTable.get(i32(a[0]));
      return 0;
    },
  },
  {
    nr: 95, name: 'umask', args: ['oct'],
    fn: (t, a) => {
      const old = t.fs.umask;
      t.fs.umask = u32(a[0]) & 0o777;
      return old;
    },
  },
];
