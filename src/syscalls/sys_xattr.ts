// Extended attributes (getxattr & co, and the *xattrat calls of Linux 6.13).
// Attributes live in memory with the inode, like everything the sandbox
// writes. Names must carry a known
// namespace; values up to 64 KiB; XATTR_CREATE/XATTR_REPLACE and the size
// probe (size 0 returns the size) follow Linux.

import { notifyFile } from '../vfs/fsnotify';
import type { Dentry } from '../vfs/dentry';
import { IN_ATTRIB } from '../abi/inotify';
import { capableInit } from '../auth/userns';
import { hasCapability, validFileCapsValue } from '../auth/creds';
import { CAP_SETFCAP, CAP_SYS_ADMIN } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import type { Task } from '../kernel/task';
import type { Inode } from '../vfs/inode';
import { checkAccess, checkMutable, MAY_WRITE, XATTR_SECURITY_CAPABILITY } from '../vfs/perm';
import { xattrsOf } from '../vfs/xattrs';
import { copyStructIn, readPath, resolveAt, resolveAtMaybeNull } from './sysutil';
import type { FileDescription } from '../vfs/file';
import type { VPath } from '../vfs/dentry';
import { PAGE_SIZE } from '../abi/mm';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, S_IFDIR, S_IFMT, S_IFREG } from '../abi/fs';
import { i32, u32, type SyscallDef } from '../kernel/syscall';

const XATTR_CREATE = 1, XATTR_REPLACE = 2;
const XATTR_NAME_MAX = 255, XATTR_SIZE_MAX = 65536, XATTR_LIST_MAX = 65536;
const XATTR_ARGS_SIZE_VER0 = 16;
const NAMESPACES = ['user.', 'trusted.', 'security.', 'system.'];


/** dentry: where the file was reached, for fsnotify's event to its directory. */
type Target = { inode: Inode; readonly: boolean; dentry: Dentry | null };
/**
 * The file, found only when asked: Linux reads the attribute's name (and a
 * value to set) before it looks the path up, so a bad name is EFAULT even
 * for a missing file.
 */
type Resolve = () => Target;

function ofPath(p: VPath): Target {
  return { inode: p.dentry.inode, readonly: p.mount.flags.readonly || p.dentry.inode.fs.readonly, dentry: p.dentry };
}

function byPath(t: Task, pathAddr: number, follow: boolean): Resolve {
  return () => {
    const path = readPath(t, pathAddr);
    const r = resolveAt(t, AT_FDCWD, path, follow ? 0 : AT_SYMLINK_NOFOLLOW);
    if (!r.p) throw new Errno(E.ENOENT);
    return ofPath(r.p);
  };
}

/** The f* calls: an open file, not an O_PATH one (EBADF, as Linux's fdget). */
function byFd(t: Task, fd: number): Resolve {
  return () => ofFile(t.fdTable.get(i32(fd)));
}

function ofFile(f: FileDescription): Target {
  const inode = f.path?.dentry.inode ?? f.inode;
  if (!inode) throw new Errno(E.EOPNOTSUPP);
  return { inode, readonly: (f.path?.mount.flags.readonly ?? false) || inode.fs.readonly, dentry: f.path ? f.path.dentry : null };
}

/**
 * The *xattrat calls (Linux 6.13): AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH
 * only (others EINVAL, checked at once); an empty or NULL path with
 * AT_EMPTY_PATH is dirfd's open file (resolveAtMaybeNull).
 */
function byAt(t: Task, dirfd: number, pathAddr: number, atFlags: number): Resolve {
  if (atFlags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw new Errno(E.EINVAL);
  return () => {
    const r = resolveAtMaybeNull(t, dirfd, pathAddr, atFlags);
    return r.file ? ofFile(r.file) : ofPath(r.p!);
  };
}

/** The attribute's name: ERANGE when empty or longer than XATTR_NAME_MAX, EFAULT for a bad pointer. */
function readName(t: Task, addr: number): string {
  let name: string;
  try {
    name = t.mm.readCString(addr, XATTR_NAME_MAX + 1);
  } catch (e) {
    if (e instanceof Errno && e.errno === E.ENAMETOOLONG) throw new Errno(E.ERANGE);
    throw e;
  }
  if (name.length === 0) throw new Errno(E.ERANGE);
  return name;
}

/** A name outside the known namespaces, or any name on a file system without attributes: EOPNOTSUPP, once the file is found (Linux's xattr_resolve_name). */
function checkNamespace(name: string, inode: Inode): void {
  if (inode.fs.noXattrs || !NAMESPACES.some((ns) => name.startsWith(ns) && name.length > ns.length)) throw new Errno(E.EOPNOTSUPP);
}

/** user.* attributes exist only on regular files and directories (Linux: EPERM elsewhere). */
function checkUserNamespace(name: string, inode: Inode): void {
  const type = inode.mode & S_IFMT;
  if (name.startsWith('user.') && type !== S_IFREG && type !== S_IFDIR) throw new Errno(E.EPERM);
}

/** File capabilities are set and removed with CAP_SETFCAP; the other privileged namespaces need CAP_SYS_ADMIN. */
function checkPrivilegedName(t: Task, name: string): void {
  const cap = name === XATTR_SECURITY_CAPABILITY ? CAP_SETFCAP : CAP_SYS_ADMIN;
  if (!hasCapability(t.creds, cap)) throw new Errno(E.EPERM);
}

/** A size_t buffer size as Linux caps it (a "negative" one is huge). */
function capSize(size: number, max: number): number {
  return size < 0 || size > max ? max : size;
}

function get(t: Task, resolve: Resolve, nameAddr: number, value: number, size: number): number {
  const name = readName(t, nameAddr);
  const tg = resolve();
  checkNamespace(name, tg.inode);
  if (name.startsWith('trusted.') && !capableInit(t.creds, CAP_SYS_ADMIN)) throw new Errno(E.ENODATA);
  const v = tg.inode.xattrs?.get(name);
  if (!v) throw new Errno(E.ENODATA);
  if (size === 0) return v.length;
  if (capSize(size, XATTR_SIZE_MAX) < v.length) throw new Errno(E.ERANGE);
  t.mm.copyOut(value, v);
  return v.length;
}

function set(t: Task, resolve: Resolve, nameAddr: number, value: number, size: number, flags: number): number {
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) throw new Errno(E.EINVAL);
  const name = readName(t, nameAddr);
  if (size > XATTR_SIZE_MAX || size < 0) throw new Errno(E.E2BIG);
  const data = size ? t.mm.copyIn(value, size) : Buffer.alloc(0);
  const tg = resolve();
  checkNamespace(name, tg.inode);
  if (tg.readonly) throw new Errno(E.EROFS);
  checkMutable(tg.inode.attrs());
  checkUserNamespace(name, tg.inode);
  if (name.startsWith('trusted.') || name.startsWith('security.') || name.startsWith('system.')) {
    checkPrivilegedName(t, name);
    // exec reads it as file capabilities: only a well-formed v2 or v3 value is stored, as Linux checks.
    if (name === XATTR_SECURITY_CAPABILITY && !validFileCapsValue(data)) throw new Errno(E.EINVAL);
  } else {
    checkAccess(t.creds, tg.inode.attrs(), MAY_WRITE);
  }
  const exists = tg.inode.xattrs?.has(name) ?? false;
  if (flags & XATTR_CREATE && exists) throw new Errno(E.EEXIST);
  if (flags & XATTR_REPLACE && !exists) throw new Errno(E.ENODATA);
  xattrsOf(tg.inode, t.mm.memfile.heap).set(name, data);
  tg.inode.touchCtime();
  notifyFile(tg.dentry, tg.inode, IN_ATTRIB);
  return 0;
}

function list(t: Task, resolve: Resolve, buf: number, size: number): number {
  const tg = resolve();
  const names = (tg.inode.xattrs?.names() ?? []).filter((n) => !n.startsWith('trusted.') || capableInit(t.creds, CAP_SYS_ADMIN));
  const out = Buffer.from(names.map((n) => n + '\0').join(''), 'latin1');
  if (out.length > XATTR_LIST_MAX) throw new Errno(E.E2BIG);
  if (size === 0) return out.length;
  if (capSize(size, XATTR_LIST_MAX) < out.length) throw new Errno(E.ERANGE);
  t.mm.copyOut(buf, out);
  return out.length;
}

function remove(t: Task, resolve: Resolve, nameAddr: number): number {
  const name = readName(t, nameAddr);
  const tg = resolve();
  checkNamespace(name, tg.inode);
  if (tg.readonly) throw new Errno(E.EROFS);
  checkMutable(tg.inode.attrs());
  checkUserNamespace(name, tg.inode);
  if (name.startsWith('user.')) checkAccess(t.creds, tg.inode.attrs(), MAY_WRITE);
  else checkPrivilegedName(t, name);
  if (!tg.inode.xattrs?.delete(name)) throw new Errno(E.ENODATA);
  tg.inode.touchCtime();
  notifyFile(tg.dentry, tg.inode, IN_ATTRIB);
  return 0;
}

/** struct xattr_args of setxattrat/getxattrat: value pointer, size, flags (16 bytes; a larger struct with a zero tail is accepted). */
function xattrArgs(t: Task, addr: number, usize: number): { value: number; size: number; flags: number } {
  if (usize >= 0 && usize < XATTR_ARGS_SIZE_VER0) throw new Errno(E.EINVAL);
  if (usize < 0 || usize > PAGE_SIZE) throw new Errno(E.E2BIG);
  const raw = copyStructIn(t, addr, usize, XATTR_ARGS_SIZE_VER0);
  return { value: Number(raw.readBigUInt64LE(0)), size: raw.readUInt32LE(8), flags: raw.readUInt32LE(12) };
}

function setxattrat(t: Task, a: number[]): number {
  const x = xattrArgs(t, a[4], a[5]);
  return set(t, byAt(t, a[0], a[1], u32(a[2])), a[3], x.value, x.size, x.flags);
}

function getxattrat(t: Task, a: number[]): number {
  const x = xattrArgs(t, a[4], a[5]);
  if (x.flags !== 0) throw new Errno(E.EINVAL);
  return get(t, byAt(t, a[0], a[1], u32(a[2])), a[3], x.value, x.size);
}

const P = 'attributes are kept in memory with the inode (like all sandbox writes), except on a read-write bind mount, where they are the host file\'s own; an overlay copy-up does not carry host attributes';

export const defs: SyscallDef[] = [
  { nr: 191, name: 'getxattr', fn: (t, a) => get(t, byPath(t, a[0], true), a[1], a[2], a[3]), args: ['str', 'str', 'ptr', 'size'], partial: P },
  { nr: 192, name: 'lgetxattr', fn: (t, a) => get(t, byPath(t, a[0], false), a[1], a[2], a[3]), args: ['str', 'str', 'ptr', 'size'], partial: P },
  { nr: 193, name: 'fgetxattr', fn: (t, a) => get(t, byFd(t, a[0]), a[1], a[2], a[3]), args: ['fd', 'str', 'ptr', 'size'], partial: P },
  { nr: 188, name: 'setxattr', fn: (t, a) => set(t, byPath(t, a[0], true), a[1], a[2], a[3], i32(a[4])), args: ['str', 'str', 'ptr', 'size', 'hex'], partial: P },
  { nr: 189, name: 'lsetxattr', fn: (t, a) => set(t, byPath(t, a[0], false), a[1], a[2], a[3], i32(a[4])), args: ['str', 'str', 'ptr', 'size', 'hex'], partial: P },
  { nr: 190, name: 'fsetxattr', fn: (t, a) => set(t, byFd(t, a[0]), a[1], a[2], a[3], i32(a[4])), args: ['fd', 'str', 'ptr', 'size', 'hex'], partial: P },
  { nr: 194, name: 'listxattr', fn: (t, a) => list(t, byPath(t, a[0], true), a[1], a[2]), args: ['str', 'ptr', 'size'], partial: P },
  { nr: 195, name: 'llistxattr', fn: (t, a) => list(t, byPath(t, a[0], false), a[1], a[2]), args: ['str', 'ptr', 'size'], partial: P },
  { nr: 196, name: 'flistxattr', fn: (t, a) => list(t, byFd(t, a[0]), a[1], a[2]), args: ['fd', 'ptr', 'size'], partial: P },
  { nr: 197, name: 'removexattr', fn: (t, a) => remove(t, byPath(t, a[0], true), a[1]), args: ['str', 'str'], partial: P },
  { nr: 198, name: 'lremovexattr', fn: (t, a) => remove(t, byPath(t, a[0], false), a[1]), args: ['str', 'str'], partial: P },
  { nr: 199, name: 'fremovexattr', fn: (t, a) => remove(t, byFd(t, a[0]), a[1]), args: ['fd', 'str'], partial: P },
  { nr: 463, name: 'setxattrat', fn: setxattrat, args: ['atfd', 'str', 'atflags', 'str', 'ptr', 'size'], partial: P },
  { nr: 464, name: 'getxattrat', fn: getxattrat, args: ['atfd', 'str', 'atflags', 'str', 'ptr', 'size'], partial: P },
  { nr: 465, name: 'listxattrat', fn: (t, a) => list(t, byAt(t, a[0], a[1], u32(a[2])), a[3], a[4]), args: ['atfd', 'str', 'atflags', 'ptr', 'size'], partial: P },
  { nr: 466, name: 'removexattrat', fn: (t, a) => remove(t, byAt(t, a[0], a[1], u32(a[2])), a[3]), args: ['atfd', 'str', 'atflags', 'str'], partial: P },
];
