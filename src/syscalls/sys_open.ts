// open, openat, openat2, creat, close, close_range.
import { Errno, E } from '../abi/errno';
import type { Task } from '../kernel/task';
import type { FileDescription } from '../vfs/file';
import { copyStructIn, readPath, resolverOf, startOf, vfsOf } from './sysutil';
import { O_ACCMODE, O_CLOEXEC, O_CREAT, O_DIRECTORY, O_PATH, O_RDONLY, O_TMPFILE, O_TRUNC, O_WRONLY } from '../abi/fs';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { unshareFdTable } from './sys_ns';
import { RESOLVE_ALL, RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT } from '../abi/fs';

// Flags open(2) knows; others are silently ignored by open/openat and rejected by openat2.
const VALID_FLAGS = 0o37777703;
/** __O_TMPFILE: O_TMPFILE without its O_DIRECTORY part. */
const O_TMPFILE_BIT = O_TMPFILE & ~O_DIRECTORY;

async function doOpen(t: Task, dirfd: number, pathAddr: number, flags: number, mode: number, strict: boolean, resolve = 0): Promise<number> {
  const path = readPath(t, pathAddr);
  if (strict && flags & ~VALID_FLAGS) throw new Errno(E.EINVAL);
  if (flags & O_PATH) flags &= O_PATH | O_DIRECTORY | 0o400000 /* O_NOFOLLOW */ | O_CLOEXEC;
  else if (flags & O_TMPFILE_BIT) {
    // Linux's checks first (O_TMPFILE needs O_DIRECTORY, no O_CREAT, write access), then the directory.
    if ((flags & (O_TMPFILE | O_CREAT)) !== O_TMPFILE || (flags & O_ACCMODE) === O_RDONLY) throw new Errno(E.EINVAL);
    if (resolve & RESOLVE_CACHED) throw new Errno(E.EAGAIN);
    // The directory is looked up as an O_PATH open would (openat2's resolve flags apply).
    const r = resolverOf(t);
    const d = await vfsOf(t).open(t, r, startOf(t, dirfd, resolve ? '.' : path), path, O_PATH | O_DIRECTORY, 0, resolve);
    const dir = d.path;
    d.decRef();
    if (!dir) throw new Errno(E.ENOTDIR);
    return install(t, await vfsOf(t).openTmpfile(t, r, dir, flags & ~O_TMPFILE, mode & 0o7777), flags);
  } else if (flags & O_CREAT && flags & O_DIRECTORY) throw new Errno(E.EINVAL);
  // The umask is the VFS's to apply (resolverOf), after the set-group-ID decision on the mode asked for.
  const m = mode & 0o7777;
  const vfs = vfsOf(t);
  // RESOLVE_CACHED promises no blocking lookup: one that would create or truncate cannot keep it.
  if (resolve & RESOLVE_CACHED && flags & (O_CREAT | O_TRUNC | O_TMPFILE_BIT)) throw new Errno(E.EAGAIN);
  // With resolve flags the directory counts for absolute paths too (the scope's root, the mount to stay on).
  const start = startOf(t, dirfd, resolve ? '.' : path);
  return install(t, await vfs.open(t, resolverOf(t), start, path, flags, m, resolve), flags);
}

function install(t: Task, f: FileDescription, flags: number): number {
  try {
    return t.fdTable.install(f, (flags & O_CLOEXEC) !== 0);
  } catch (e) {
    f.decRef();
    throw e;
  }
}

const TMPFILE = 'O_TMPFILE only on tmpfs (elsewhere EOPNOTSUPP, as a Linux file system without tmpfile)';

export const defs: SyscallDef[] = [
  { nr: 2, name: 'open', args: ['str', 'openflags', 'open_mode'], fn: (t, a) => doOpen(t, -100, a[0], u32(a[1]), u32(a[2]), false), partial: TMPFILE },
  { nr: 257, name: 'openat', args: ['atfd', 'str', 'openflags', 'open_mode'], fn: (t, a) => doOpen(t, i32(a[0]), a[1], u32(a[2]), u32(a[3]), false), partial: TMPFILE },
  {
    nr: 437, name: 'openat2', args: ['atfd', 'str', 'ptr', 'size'],
    partial: 'RESOLVE_CACHED lookups are not limited to cached entries (none blocks); ' + TMPFILE,
    fn: (t, a) => {
      const size = a[3];
      if (size < 24) throw new Errno(E.EINVAL);
      if (size > 4096) throw new Errno(E.E2BIG);
      const how = copyStructIn(t, a[2], size, 24);
      const flags = how.readBigUInt64LE(0);
      const mode = how.readBigUInt64LE(8);
      const resolve = how.readBigUInt64LE(16);
      if (flags > 0xffffffffn || resolve & ~BigInt(RESOLVE_ALL)) throw new Errno(E.EINVAL);
      const res = Number(resolve);
      if ((res & (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) === (RESOLVE_BENEATH | RESOLVE_IN_ROOT)) throw new Errno(E.EINVAL);
      const fl = Number(flags);
      if (mode > 0o7777n || (mode !== 0n && !(fl & O_CREAT) && (fl & O_TMPFILE) !== O_TMPFILE)) throw new Errno(E.EINVAL);
      return doOpen(t, i32(a[0]), a[1], fl, Number(mode), true, res);
    },
  },
  { nr: 85, name: 'creat', args: ['str', 'oct'], fn: (t, a) => doOpen(t, -100, a[0], O_CREAT | O_WRONLY | O_TRUNC, u32(a[1]), false) },
  {
    nr: 3, name: 'close', args: ['fd'],
    fn: (t, a) => {
      const fd = i32(a[0]);
      const f = t.fdTable.getRaw(fd);
      t.fdTable.close(fd);
      const wait = f.closeWait(t);
      return wait ? wait.then(() => 0) : 0;
    },
  },
  {
    nr: 436, name: 'close_range', args: ['uint', 'uint', 'hex'],
    fn: (t, a) => {
      const first = u32(a[0]);
      const last = u32(a[1]);
      const flags = u32(a[2]);
      if (flags & ~(2 | 4) || first > last) throw new Errno(E.EINVAL);
      if (flags & 2) unshareFdTable(t);
      t.fdTable.closeRange(first, last, (flags & 4) !== 0);
      return 0;
    },
  },
];
