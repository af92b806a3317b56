// stat family, statfs, access, readlink.
import { SECBIT_NO_SETUID_FIXUP } from '../abi/capability';
import { attrsSeenFrom, uidTo } from '../auth/userns';
import { Errno, E } from '../abi/errno';
import type { Task } from '../kernel/task';
import { encodeStat, encodeStatfs, encodeStatx } from '../vfs/abi';
import type { VPath } from '../vfs/dentry';
import type { FileDescription } from '../vfs/file';
import { checkAccess } from '../vfs/perm';
import { readPath, resolveAt, resolverOf, startOf, vfsOf } from './sysutil';
import { AT_EACCESS, AT_EMPTY_PATH, AT_NO_AUTOMOUNT, AT_STATX_SYNC_TYPE, AT_SYMLINK_NOFOLLOW, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, W_OK } from '../abi/fs';
import { i32, u32, type SyscallDef } from '../kernel/syscall';

function statOf(t: Task, p: VPath | null, f: FileDescription | null): { buf: Buffer; x: (mask: number) => Buffer } {
  if (p && !(f && !f.inode)) {
    const a = attrsSeenFrom(t.creds.userns, p.dentry.inode.attrs());
    const dev = p.mount.fs.dev;
    const ino = p.dentry.inode.ino;
    const fs = p.mount.fs;
    const from = { flagsKept: fs.statxFlags ?? 0, mountRoot: p.dentry === p.mount.root, btime: !fs.noBirthTime };
    return { buf: encodeStat(a, dev, ino), x: (mask) => encodeStatx(a, dev, ino, p.mount.id, mask, p.mount.uniqueId, from) };
  }
  // A file of no mount (pipes, sockets, anonymous inodes): Linux's pipefs, sockfs and anon_inodefs keep no birth time.
  const file = f as FileDescription;
  const a = attrsSeenFrom(t.creds.userns, file.stat());
  const { dev, ino } = file.ids();
  return { buf: encodeStat(a, dev, ino), x: (mask) => encodeStatx(a, dev, ino, 0, mask, 0, { flagsKept: 0, mountRoot: false, btime: false }) };
}

function statPath(t: Task, dirfd: number, pathAddr: number, out: number, flags: number): number {
  if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT)) throw new Errno(E.EINVAL);
  const path = readPath(t, pathAddr);
  const r = resolveAt(t, dirfd, path, flags);
  t.mm.copyOut(out, statOf(t, r.p, r.file).buf);
  return 0;
}

function fstat(t: Task, fd: number, out: number): number {
  const f = t.fdTable.getRaw(fd);
  t.mm.copyOut(out, statOf(t, f.path, f).buf);
  return 0;
}

function statfsOf(p: VPath | null): Buffer {
  if (!p) return encodeStatfs({ type: 0x50495045 /* PIPEFS_MAGIC */, bsize: 4096, blocks: 0, bfree: 0, bavail: 0, files: 0, ffree: 0, namelen: 255, flags: 0 }, 0);
  const s = p.mount.fs.statfs();
  const f = p.mount.flags;
  // ST_RDONLY (the mount's or the file system's own), ST_NOSUID, ST_NODEV, ST_NOEXEC: the mount's flags.
  s.flags |= (f.readonly || p.mount.fs.readonly ? 1 : 0) | (f.nosuid ? 2 : 0) | (f.nodev ? 4 : 0) | (f.noexec ? 8 : 0);
  // ST_VALID (Linux sets it on every answer: glibc's statvfs then trusts f_flags), ST_NOATIME, ST_NODIRATIME, ST_RELATIME (the default), ST_NOSYMFOLLOW.
  s.flags |= 0x20 | (f.atime === 'noatime' ? 1024 : 0) | (f.nodiratime ? 2048 : 0) | (f.atime === undefined ? 0x1000 : 0) | (f.nosymfollow ? 0x2000 : 0);
  return encodeStatfs(s, p.mount.fs.dev);
}

function access(t: Task, dirfd: number, pathAddr: number, mode: number, flags: number): number {
  if (mode & ~7) throw new Errno(E.EINVAL);
  if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw new Errno(E.EINVAL);
  const path = readPath(t, pathAddr);
  // access() checks with the real ids unless AT_EACCESS.
  let creds = t.creds;
  if (!(flags & AT_EACCESS)) {
    creds = t.creds.clone();
    creds.fsuid = creds.uid;
    creds.fsgid = creds.gid;
    // Checked as the real user: root's (the user namespace's uid 0) permitted capabilities, nobody else's.
    if (!(creds.securebits & SECBIT_NO_SETUID_FIXUP)) creds.capEffective = creds.uid === uidTo(creds.userns, 0) ? creds.capPermitted : 0n;
  }
  const r = { creds, root: t.fs.root, ctx: t };
  let p: VPath | null;
  if (path.length === 0) {
    if (!(flags & AT_EMPTY_PATH)) throw new Errno(E.ENOENT);
    p = dirfd === -100 ? t.fs.cwd : t.fdTable.getRaw(dirfd).path;
    if (!p) return 0;
  } else {
    p = vfsOf(t).resolve(r, startOf(t, dirfd, path), path, !(flags & AT_SYMLINK_NOFOLLOW));
  }
  if (mode === 0) return 0;
  const a = p.dentry.inode.attrs();
  if (mode & W_OK) {
    const type = a.mode & S_IFMT;
    if (type === S_IFREG || type === S_IFDIR || type === S_IFLNK) vfsOf(t).checkWritable(p);
  }
  checkAccess(creds, a, mode);
  return 0;
}

function readlink(t: Task, dirfd: number, pathAddr: number, buf: number, size: number): number {
  if (size <= 0) throw new Errno(E.EINVAL);
  const path = readPath(t, pathAddr);
  let target: string;
  if (path.length === 0) {
    // readlinkat(fd, "") reads the symlink an O_PATH|O_NOFOLLOW fd refers to.
    const f = dirfd === -100 ? null : t.fdTable.getRaw(dirfd);
    const p = f ? f.path : t.fs.cwd;
    if (!p || (p.dentry.inode.mode & S_IFMT) !== S_IFLNK) throw new Errno(E.ENOENT);
    target = p.dentry.inode.readlink(t);
  } else {
    target = vfsOf(t).readlink(resolverOf(t), startOf(t, dirfd, path), path);
  }
  const b = Buffer.from(target, 'latin1').subarray(0, size);
  t.mm.copyOut(buf, b);
  return b.length;
}

export const defs: SyscallDef[] = [
  { nr: 4, name: 'stat', args: ['str', 'stat_out'], fn: (t, a) => statPath(t, -100, a[0], a[1], 0) },
  { nr: 6, name: 'lstat', args: ['str', 'stat_out'], fn: (t, a) => statPath(t, -100, a[0], a[1], AT_SYMLINK_NOFOLLOW) },
  { nr: 5, name: 'fstat', args: ['fd', 'stat_out'], fn: (t, a) => fstat(t, i32(a[0]), a[1]) },
  { nr: 262, name: 'newfstatat', args: ['atfd', 'str', 'stat_out', 'atflags'], fn: (t, a) => statPath(t, i32(a[0]), a[1], a[2], u32(a[3])) },
  {
    nr: 332, name: 'statx', args: ['atfd', 'str', 'atflags', 'statx_mask', 'ptr_out'],
    fn: (t, a) => {
      const flags = u32(a[2]);
      if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE)) throw new Errno(E.EINVAL);
      if ((flags & AT_STATX_SYNC_TYPE) === AT_STATX_SYNC_TYPE) throw new Errno(E.EINVAL);
      if (u32(a[3]) & 0x80000000) throw new Errno(E.EINVAL); // STATX__RESERVED
      const path = readPath(t, a[1]);
      const r = resolveAt(t, i32(a[0]), path, flags);
      t.mm.copyOut(a[4], statOf(t, r.p, r.file).x(u32(a[3])));
      return 0;
    },
  },
  {
    nr: 137, name: 'statfs', args: ['str', 'ptr_out'],
    fn: (t, a) => {
      const path = readPath(t, a[0]);
      const p = vfsOf(t).resolve(resolverOf(t), startOf(t, -100, path), path, true);
      t.mm.copyOut(a[1], statfsOf(p));
      return 0;
    },
  },
  {
    nr: 138, name: 'fstatfs', args: ['fd', 'ptr_out'],
    fn: (t, a) => {
      t.mm.copyOut(a[1], statfsOf(t.fdTable.getRaw(i32(a[0])).path));
      return 0;
    },
  },
  { nr: 21, name: 'access', args: ['str', 'access_mode'], fn: (t, a) => access(t, -100, a[0], i32(a[1]), 0) },
  { nr: 269, name: 'faccessat', args: ['atfd', 'str', 'access_mode'], fn: (t, a) => access(t, i32(a[0]), a[1], i32(a[2]), 0) },
  { nr: 439, name: 'faccessat2', args: ['atfd', 'str', 'access_mode', 'access_atflags'], fn: (t, a) => access(t, i32(a[0]), a[1], i32(a[2]), u32(a[3])) },
  { nr: 89, name: 'readlink', args: ['str', 'buf', 'size'], fn: (t, a) => readlink(t, -100, a[0], a[1], i32(a[2])) },
  { nr: 267, name: 'readlinkat', args: ['atfd', 'str', 'buf', 'size'], fn: (t, a) => readlink(t, i32(a[0]), a[1], a[2], i32(a[3])) },
];
