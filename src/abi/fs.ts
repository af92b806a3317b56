// Linux ABI constants and small value types shared by the VFS, the file
// systems and the file system calls (values from /usr/include/asm-generic/fcntl.h,
// linux/stat.h, linux/fcntl.h).

export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;

export const O_ACCMODE = 3;
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
export const O_ASYNC = 0o20000;
export const O_DIRECT = 0o40000;
export const O_LARGEFILE = 0o100000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_SYNC = 0o4010000;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20000000 | O_DIRECTORY;

export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_EACCESS = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_EMPTY_PATH = 0x1000;
export const AT_STATX_SYNC_TYPE = 0x6000;

export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;

export const R_OK = 4;
export const W_OK = 2;
export const X_OK = 1;

export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;

export const PATH_MAX = 4096;
export const NAME_MAX = 255;
export const SYMLOOP_MAX = 40;

// d_type values of getdents.
export const DT_UNKNOWN = 0;
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;

export function dtype(mode: number): number {
  return (mode & S_IFMT) >>> 12;
}

/** Attributes of an inode, as stat reports them. Times are ns since the epoch (bigint: they exceed 2^53). */
export interface InodeAttrs {
  mode: number; // file type and permission bits
  uid: number;
  gid: number;
  nlink: number;
  size: number;
  blocks: number; // 512-byte units
  blksize: number;
  rdev: number; // encoded with makedev()
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  btimeNs: bigint;
  /** Inode flags (FS_*_FL of ioctl_iflags(2)) of a file system that keeps them; absent: none. */
  flags?: number;
}

/** Inode flags (ioctl_iflags(2)): no change nor removal; writes only at the end; not dumped; no atime updates. */
export const FS_IMMUTABLE_FL = 0x10;
export const FS_APPEND_FL = 0x20;
export const FS_NODUMP_FL = 0x40;
export const FS_NOATIME_FL = 0x80;

/** A change of attributes (chmod, chown, truncate, utimes). Only set fields change. */
export interface SetAttr {
  mode?: number; // permission bits (07777) only
  uid?: number;
  gid?: number;
  size?: number;
  atimeNs?: bigint;
  mtimeNs?: bigint;
}

export interface DirEntry {
  name: string;
  ino: number;
  type: number; // DT_*
}

export interface StatFs {
  type: number; // f_type magic
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
  namelen: number;
  flags: number; // ST_RDONLY = 1 ...
}

export const TMPFS_MAGIC = 0x01021994;
export const OVERLAYFS_MAGIC = 0x794c7630;
export const PROC_MAGIC = 0x9fa0;
export const SYSFS_MAGIC = 0x62656572;
export const ST_RDONLY = 1;

/** glibc's 64-bit makedev: the st_dev/st_rdev encoding. */
export function makedev(major: number, minor: number): number {
  const lo = (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & 0xfff00) << 12);
  const hi = (major & 0xfffff000) * 0x100000000;
  return hi + (lo >>> 0);
}

export function devMajor(dev: number): number {
  const lo = dev % 0x100000000;
  return (lo >>> 8) & 0xfff;
}

export function devMinor(dev: number): number {
  const lo = dev % 0x100000000;
  return (lo & 0xff) | ((lo >>> 12) & 0xfff00);
}

/** st_dev of a file system made without a namespace's numbering (unit tests building one file system alone). */
export const UNNUMBERED_DEV = makedev(0, 0);


/** The one file-descriptor flag (fcntl F_GETFD/F_SETFD). */
export const FD_CLOEXEC = 1;

// openat2(2)'s resolve flags (struct open_how).
export const RESOLVE_NO_XDEV = 0x01, RESOLVE_NO_MAGICLINKS = 0x02, RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08, RESOLVE_IN_ROOT = 0x10, RESOLVE_CACHED = 0x20;
export const RESOLVE_ALL = 0x3f;
