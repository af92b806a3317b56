// Extended attributes (getxattr & co). Attributes live in memory with the
// inode, like everything the sandbox writes. Names must carry a known
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
import { XattrSet } from '../vfs/xattrs';
import { readPath, resolveAt } from './sysutil';
import { S_IFDIR, S_IFMT, S_IFREG } from '../abi/fs';
import { i32, type SyscallDef } from '../kernel/syscall';

const XATTR_CREATE = 1, XATTR_REPLACE = 2;
const XATTR_NAME_MAX = 255, XATTR_SIZE_MAX = 65536, XATTR_LIST_MAX = 65536;
const AT_SYMLINK_NOFOLLOW = 0x100;
const NAMESPACES = ['user.', 'trusted.', 'security.', 'system.'];


/** dentry: where the file was reached, for fsnotify's event to its directory. */
type Target = { inode: Inode; readonly: boolean; dentry: Dentry | null };

function byPath(t: Task, pathAddr: number, follow: boolean): Target {
  const path = readPath(t, pathAddr);
  const r = resolveAt(t, -100, path, follow ? 0 : AT_SYMLINK_NOFOLLOW);
  if (!r.p) throw new Errno(E.ENOENT);
  return { inode: r.p.dentry.inode, readonly: r.p.mount.flags.readonly || r.p.dentry.inode.fs.readonly, dentry: r.p.dentry };
}

function byFd(t: Task, fd: number): Target {
  const f = t.fdTable.get(i32(fd));
  const inode = f.path?.dentry.inode ?? f.inode;
  if (!inode) throw new Errno(E.EOPNOTSUPP);
  return { inode, readonly: (f.path?.mount.flags.readonly ?? false) || inode.fs.readonly, dentry: f.path ? f.path.dentry : null };
}

function readName(t: Task, addr: number): string {
  let name: string;
  try {
    name = t.mm.readCString(addr, XATTR_NAME_MAX + 1);
  } catch (e) {
    if (e instanceof Errno && e.errno === E.ENAMETOOLONG) throw new Errno(E.ERANGE);
    throw e;
  }
  if (name.length === 0) throw new Errno(E.ERANGE);
  if (!NAMESPACES.some((ns) => name.startsWith(ns) && name.length > ns.length)) throw new Errno(E.EOPNOTSUPP);
  return name;
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

function get(t: Task, tg: Target, nameAddr: number, value: number, size: number): number {
  const name = readName(t, nameAddr);
  if (name.startsWith('trusted.') && !capableInit(t.creds, CAP_SYS_ADMIN)) throw new Errno(E.ENODATA);
  const v = tg.inode.xattrs?.get(name);
  if (!v) throw new Errno(E.ENODATA);
  if (size === 0) return v.length;
  if (size < v.length) throw new Errno(E.ERANGE);
  t.mm.copyOut(value, v);
  return v.length;
}

function set(t: Task, tg: Target, nameAddr: number, value: number, size: number, flags: number): number {
  if (flags & ~(XATTR_CREATE | XATTR_REPLACE)) throw new Errno(E.EINVAL);
  const name = readName(t, nameAddr);
  if (size > XATTR_SIZE_MAX || size < 0) throw new Errno(E.E2BIG);
  const data = size ? t.mm.copyIn(value, size) : Buffer.alloc(0);
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
  let m = tg.inode.xattrs;
  const exists = m?.has(name) ?? false;
  if (flags & XATTR_CREATE && exists) throw new Errno(E.EEXIST);
  if (flags & XATTR_REPLACE && !exists) throw new Errno(E.ENODATA);
  if (!m) {
    const heap = t.mm.memfile.heap;
    m = tg.inode.xattrs = new XattrSet(heap);
    heap.track(tg.inode, m.held);
  }
  m.set(name, data);
  tg.inode.touchCtime();
  notifyFile(tg.dentry, tg.inode, IN_ATTRIB);
  return 0;
}

function list(t: Task, tg: Target, buf: number, size: number): number {
  const names = (tg.inode.xattrs?.names() ?? []).filter((n) => !n.startsWith('trusted.') || capableInit(t.creds, CAP_SYS_ADMIN));
  const out = Buffer.from(names.map((n) => n + '\0').join(''), 'latin1');
  if (out.length > XATTR_LIST_MAX) throw new Errno(E.E2BIG);
  if (size === 0) return out.length;
  if (size < out.length) throw new Errno(E.ERANGE);
  t.mm.copyOut(buf, out);
  return out.length;
}

function remove(t: Task, tg: Target, nameAddr: number): number {
  const name = readName(t, nameAddr);
  if (tg.readonly) throw new Errno(E.EROFS);
  checkMutable(tg.inode.attrs());
  if (name.startsWith('user.')) checkAccess(t.creds, tg.inode.attrs(), MAY_WRITE);
  else checkPrivilegedName(t, name);
  if (!tg.inode.xattrs?.delete(name)) throw new Errno(E.ENODATA);
  tg.inode.touchCtime();
  notifyFile(tg.dentry, tg.inode, IN_ATTRIB);
  return 0;
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
];
