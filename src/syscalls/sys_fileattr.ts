// file_getattr and file_setattr (Linux 6.17): the inode flags of
// FS_IOC_FSGETXATTR/FSSETXATTR (fileattr.ts) by path, without opening the
// file. struct file_attr: fa_xflags (u64), fa_extsize, fa_nextents,
// fa_projid, fa_cowextsize (u32 each), 24 bytes; a larger struct reads with a
// zero tail and is written with one.

import { E, Errno } from '../abi/errno';
import { AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW, S_IFLNK, S_IFMT } from '../abi/fs';
import { PAGE_SIZE } from '../abi/mm';
import type { Task } from '../kernel/task';
import { u32, type SyscallDef } from '../kernel/syscall';
import type { Inode } from '../vfs/inode';
import type { VPath } from '../vfs/dentry';
import { fromXflags, setFlags, toXflags } from './fileattr';
import { copyStructIn, resolveAtMaybeNull } from './sysutil';

const FILE_ATTR_SIZE_VER0 = 24;
/** Every FS_XFLAG_* Linux defines (FS_XFLAGS_MASK): anything else is EINVAL. */
const XFLAGS_DEFINED = 0x8001fffbn;

/** at_flags, then the struct's size (Linux's order). */
function checkArgs(atFlags: number, usize: number): void {
  if (atFlags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) throw new Errno(E.EINVAL);
  if (usize < 0 || usize > PAGE_SIZE) throw new Errno(E.E2BIG);
  if (usize < FILE_ATTR_SIZE_VER0) throw new Errno(E.EINVAL);
}

/** The file and the inode whose flags are asked for: EOPNOTSUPP where none are kept (symlinks, proc, ...), as Linux maps ENOTTY. */
function target(t: Task, dirfd: number, pathAddr: number, atFlags: number): { path: VPath | null; inode: Inode; flags: number } {
  const r = resolveAtMaybeNull(t, dirfd, pathAddr, atFlags);
  const inode = r.p?.dentry.inode ?? r.file?.inode ?? null;
  const flags = inode && (inode.mode & S_IFMT) !== S_IFLNK ? inode.inodeFlags() : null;
  if (!inode || flags === null) throw new Errno(E.EOPNOTSUPP);
  return { path: r.p, inode, flags };
}

function fileGetattr(t: Task, a: number[]): number {
  const [dirfd, pathAddr, uattr, usize] = a;
  const atFlags = u32(a[4]);
  checkArgs(atFlags, usize);
  const { flags } = target(t, dirfd, pathAddr, atFlags);
  // Extent sizes, extent counts and project ids: none kept (all zero); the tail past the struct is zeroed.
  const out = Buffer.alloc(usize);
  out.writeUInt32LE(toXflags(flags), 0);
  t.mm.copyOut(uattr, out);
  return 0;
}

function fileSetattr(t: Task, a: number[]): number {
  const [dirfd, pathAddr, uattr, usize] = a;
  const atFlags = u32(a[4]);
  checkArgs(atFlags, usize);
  const raw = copyStructIn(t, uattr, usize, FILE_ATTR_SIZE_VER0);
  const xflags = raw.readBigUInt64LE(0);
  if (xflags & ~XFLAGS_DEFINED) throw new Errno(E.EINVAL);
  // fa_nextents (offset 12) is read-only and ignored.
  const { flags, extra } = fromXflags(Number(xflags & 0xffffffffn), raw.readUInt32LE(8) !== 0 || raw.readUInt32LE(16) !== 0 || raw.readUInt32LE(20) !== 0);
  const tg = target(t, dirfd, pathAddr, atFlags);
  return setFlags(t, tg.path, tg.inode, flags, extra);
}

export const defs: SyscallDef[] = [
  { nr: 468, name: 'file_getattr', fn: fileGetattr, args: ['atfd', 'str', 'ptr', 'size', 'atflags'], partial: 'the flags tmpfs keeps (immutable, append-only, nodump, noatime); extent sizes and project ids read as 0 and are EOPNOTSUPP to set, as on tmpfs' },
  { nr: 469, name: 'file_setattr', fn: fileSetattr, args: ['atfd', 'str', 'ptr', 'size', 'atflags'], partial: 'the flags tmpfs keeps (immutable, append-only, nodump, noatime); extent sizes and project ids read as 0 and are EOPNOTSUPP to set, as on tmpfs' },
];
