// Inode flags through ioctl (ioctl_iflags(2)): FS_IOC_GETFLAGS/SETFLAGS and
// their XFS-style forms FS_IOC_FSGETXATTR/FSSETXATTR, for the file systems
// that keep flags (tmpfs: immutable, append-only, nodump, noatime). As in
// Linux these requests are answered for the inode before the file's own
// ioctl, which gets them where the file system keeps no flags (ENOTTY for
// most). Changing flags needs ownership (or CAP_FOWNER), and changing
// immutable or append-only CAP_LINUX_IMMUTABLE; what the flags forbid is
// enforced where Linux does it (vfs/perm.ts, the VFS's open, link, unlink and
// rename, chmod/chown/utimes, truncate, fallocate, xattrs, F_SETFL).
import { Errno, E } from '../abi/errno';
import { CAP_LINUX_IMMUTABLE } from '../abi/capability';
import { FS_APPEND_FL, FS_IMMUTABLE_FL, FS_NOATIME_FL, FS_NODUMP_FL } from '../abi/fs';
import { nowNs } from '../host/clock';
import { hasCapability } from '../auth/creds';
import { isOwnerOrCapable } from '../vfs/perm';
import { notifyFile } from '../vfs/fsnotify';
import { IN_ATTRIB } from '../abi/inotify';
import type { FileDescription } from '../vfs/file';
import type { Inode } from '../vfs/inode';
import type { VPath } from '../vfs/dentry';
import type { Task } from '../kernel/task';
import { vfsOf } from './sysutil';

const FS_IOC_GETFLAGS = 0x80086601;
const FS_IOC_SETFLAGS = 0x40086602;
const FS_IOC_FSGETXATTR = 0x801c581f;
const FS_IOC_FSSETXATTR = 0x401c5820;
/** struct fsxattr: xflags, extsize, nextents, projid, cowextsize, 8 bytes of padding. */
const FSXATTR_SIZE = 28;

/** FS_XFLAG_* of the inode flags that have one. */
const XFLAGS: Array<[number, number]> = [[FS_IMMUTABLE_FL, 0x8], [FS_APPEND_FL, 0x10], [FS_NOATIME_FL, 0x40], [FS_NODUMP_FL, 0x80]];

export function toXflags(flags: number): number {
  let x = 0;
  for (const [fl, xf] of XFLAGS) if (flags & fl) x |= xf;
  return x;
}

/** The request's answer, or null when it is not an inode-flag request for a file system keeping flags. */
export function fileattrIoctl(t: Task, f: FileDescription, cmd: number, arg: number): number | null {
  if (cmd !== FS_IOC_GETFLAGS && cmd !== FS_IOC_SETFLAGS && cmd !== FS_IOC_FSGETXATTR && cmd !== FS_IOC_FSSETXATTR) return null;
  const inode = f.inode;
  switch (cmd) {
    case FS_IOC_GETFLAGS: {
      const cur = inode?.inodeFlags() ?? null;
      if (cur === null) return null;
      t.mm.writeI32(arg, cur);
      return 0;
    }
    case FS_IOC_FSGETXATTR: {
      const cur = inode?.inodeFlags() ?? null;
      if (cur === null) return null;
      const b = Buffer.alloc(FSXATTR_SIZE);
      b.writeUInt32LE(toXflags(cur), 0);
      t.mm.copyOut(arg, b);
      return 0;
    }
    case FS_IOC_SETFLAGS: {
      const flags = t.mm.readI32(arg); // read first, as Linux
      if (!inode || inode.inodeFlags() === null) return null;
      return setFlags(t, f.path, inode, flags >>> 0);
    }
    default: {
      const b = t.mm.copyIn(arg, FSXATTR_SIZE);
      if (!inode || inode.inodeFlags() === null) return null;
      const { flags, extra } = fromXflags(b.readUInt32LE(0), b.readUInt32LE(4) !== 0 || b.readUInt32LE(12) !== 0 || b.readUInt32LE(16) !== 0);
      return setFlags(t, f.path, inode, flags, extra);
    }
  }
}

/**
 * FS_XFLAG_* as inode flags; extra: something no file system here keeps
 * (other XFS flags, extent sizes, project ids; tmpfs answers EOPNOTSUPP).
 * The read-only flags (PREALLOC, HASATTR) are ignored, as Linux does.
 */
export function fromXflags(xflags: number, otherFields: boolean): { flags: number; extra: boolean } {
  const READ_ONLY = 0x2 | 0x80000000;
  let flags = 0;
  let known = READ_ONLY;
  for (const [fl, xf] of XFLAGS) {
    known |= xf;
    if (xflags & xf) flags |= fl;
  }
  return { flags, extra: ((xflags & ~known) >>> 0) !== 0 || otherFields };
}

/** Set an inode's flags for ioctl or file_setattr (path: where it was reached, for the read-only mount check and fsnotify). */
export function setFlags(t: Task, path: VPath | null, inode: Inode, flags: number, unsupported = false): number {
  if (path) vfsOf(t).checkWritable(path);
  if (!isOwnerOrCapable(t.creds, inode.attrs())) throw new Errno(E.EPERM);
  const cur = inode.inodeFlags() ?? 0;
  if ((cur ^ flags) & (FS_IMMUTABLE_FL | FS_APPEND_FL) && !hasCapability(t.creds, CAP_LINUX_IMMUTABLE)) throw new Errno(E.EPERM);
  if (unsupported) throw new Errno(E.EOPNOTSUPP);
  inode.setInodeFlags(flags, nowNs());
  notifyFile(path ? path.dentry : null, inode, IN_ATTRIB);
  return 0;
}
