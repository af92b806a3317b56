// Helpers shared by the file system calls: where a *at() path starts, reading
// path arguments, and resolving (dirfd, path, flags) triples.
import { Errno, E } from '../abi/errno';
import type { Task } from '../kernel/task';
import type { VPath } from '../vfs/dentry';
import type { FileDescription } from '../vfs/file';
import { AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW, PATH_MAX, S_IFDIR, S_IFMT } from '../abi/fs';
import type { VirtualFilesystem } from '../vfs/vfs';
import type { Resolver } from '../vfs/walk';
import { USER_RANGE_END } from '../abi/mm';

export function vfsOf(t: Task): VirtualFilesystem {
  return t.kernel.vfs;
}

export function resolverOf(t: Task): Resolver {
  return t.fs.resolver(t.creds, t);
}

/** A path argument (ENAMETOOLONG beyond PATH_MAX, EFAULT for a bad pointer). */
export function readPath(t: Task, addr: number): string {
  if (addr === 0) throw new Errno(E.EFAULT);
  return t.mm.readCString(addr, PATH_MAX);
}

/** The starting point of a relative path given dirfd (absolute paths ignore it). */
export function startOf(t: Task, dirfd: number, path: string): VPath {
  if (path.charCodeAt(0) === 47) return t.fs.root;
  dirfd = dirfd | 0;
  if (dirfd === AT_FDCWD) return t.fs.cwd;
  const f = t.fdTable.getRaw(dirfd);
  if (!f.path) throw new Errno(E.ENOTDIR);
  if ((f.path.dentry.inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
  return f.path;
}

/**
 * Resolve (dirfd, path, flags) for stat-like calls: AT_EMPTY_PATH with "" means
 * the file dirfd itself (returned as file when it has no path, e.g. a pipe).
 */
export function resolveAt(t: Task, dirfd: number, path: string, flags: number, followDefault = true): { p: VPath | null; file: FileDescription | null } {
  if (path.length === 0) {
    if (!(flags & AT_EMPTY_PATH)) throw new Errno(E.ENOENT);
    dirfd = dirfd | 0;
    if (dirfd === AT_FDCWD) return { p: t.fs.cwd, file: null };
    const f = t.fdTable.getRaw(dirfd);
    return { p: f.path, file: f };
  }
  const follow = followDefault && !(flags & AT_SYMLINK_NOFOLLOW);
  return { p: vfsOf(t).resolve(resolverOf(t), startOf(t, dirfd, path), path, follow), file: null };
}

/** The iovec array of readv/writev & co: [base, len] pairs, EINVAL past IOV_MAX or a negative total. */
export function readIovecs(t: Task, addr: number, cnt: number): Array<[number, number]> {
  if (cnt < 0 || cnt > 1024) throw new Errno(E.EINVAL);
  const out: Array<[number, number]> = [];
  if (cnt === 0) return out;
  const raw = t.mm.copyIn(addr, cnt * 16);
  let total = 0;
  for (let i = 0; i < cnt; i++) {
    const base = Number(raw.readBigUInt64LE(i * 16));
    const len = raw.readBigInt64LE(i * 16 + 8);
    // A length that is negative as ssize_t is an error; the total is not:
    // like Linux, the vector is cut to MAX_RW bytes and the call moves less.
    if (len < 0n) throw new Errno(E.EINVAL);
    // access_ok() of every vector, before anything moves.
    if (BigInt(base) + len > BigInt(USER_RANGE_END)) throw new Errno(E.EFAULT);
    const n = Math.min(Number(len), MAX_RW - total);
    total += n;
    out.push([base, n]);
  }
  return out;
}

/** Linux caps one read/write at MAX_RW_COUNT (INT_MAX rounded down to a page). */
export const MAX_RW = 0x7ffff000;

/**
 * A versioned argument struct (Linux's copy_struct_from_user): `usize` bytes
 * at addr, of which the kernel knows `ksize`; a shorter one reads as
 * zero-extended, a longer one is E2BIG unless its unknown tail is all zero.
 * The caller bounds usize (EINVAL below the first version, E2BIG beyond a page).
 */
export function copyStructIn(t: Task, addr: number, usize: number, ksize: number): Buffer {
  const raw = t.mm.copyIn(addr, usize);
  if (raw.subarray(ksize).some((b) => b !== 0)) throw new Errno(E.E2BIG);
  const out = Buffer.alloc(ksize);
  raw.copy(out, 0, 0, Math.min(ksize, usize));
  return out;
}

/**
 * (dirfd, path, AT_ flags) of the calls that take AT_EMPTY_PATH with an
 * empty or NULL path to mean dirfd's open file (Linux's getname_maybe_null:
 * *xattrat, file_getattr/setattr): then an O_PATH descriptor is EBADF, as
 * for the f* calls; AT_FDCWD means the working directory.
 */
export function resolveAtMaybeNull(t: Task, dirfd: number, pathAddr: number, atFlags: number): { p: VPath | null; file: FileDescription | null } {
  const path = atFlags & AT_EMPTY_PATH && pathAddr === 0 ? '' : readPath(t, pathAddr);
  if (path === '' && atFlags & AT_EMPTY_PATH && (dirfd | 0) >= 0) {
    const f = t.fdTable.get(dirfd | 0);
    return { p: f.path, file: f };
  }
  const r = resolveAt(t, dirfd, path, atFlags);
  if (!r.p) throw new Errno(E.ENOENT);
  return r;
}
