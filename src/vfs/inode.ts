// The interface every file system implements (tmpfs, hostfs, overlay, devfs,
// and later procfs/sysfs). The VFS does all generic work (path walk, mounts,
// permission checks, type checks such as ENOTDIR/EISDIR/ENOTEMPTY, dentry
// cache); a file system only answers for one inode at a time.
//
// How to write a file system (e.g. procfs with synthetic files):
//  - implement FilesystemImpl: a root() inode, statfs(), a device number, and
//    `dynamic: true` if entries can appear/disappear without going through the
//    VFS (then the VFS never caches its dentries: every walk calls lookup()).
//  - subclass Inode; override only what applies. A synthetic read-only file
//    overrides attrs() (S_IFREG|0444) and readAt() (generate content, slice at
//    off); or open() to return its own FileDescription for stateful content.
//    A directory overrides lookup() and readdir(). A symlink overrides
//    readlink(); a "magic link" such as /proc/self/exe or /proc/<pid>/fd/N also
//    overrides resolveLink(ctx) to return a VFS location directly.
//  - `ctx` arguments are the calling task (opaque here, typed `unknown` so
//    the VFS does not depend on the kernel): procfs uses it for "self".
//  - every mutating method defaults to EROFS (read-only file system) or
//    EPERM, so a read-only fs needs no code for them.
import type { XattrSet } from './xattrs';
import { FileLocks } from './locks';
import { Errno, E } from '../abi/errno';
import type { Mappable } from '../mm/mappable';
import type { MemoryAccess } from '../mm/access';
import type { MemCharge } from '../platform/memcharge';
import type { DirEntry, InodeAttrs, SetAttr, StatFs } from '../abi/fs';
import { S_IFMT } from '../abi/fs';
import { nowNs } from '../host/clock';
import type { FileDescription } from './file';
import type { VPath } from './dentry';
import type { Fsnotify, Watch } from './fsnotify';

export interface FilesystemImpl {
  /** File system type name as in /proc/mounts ("tmpfs", "overlay", "proc"). */
  readonly name: string;
  /** st_dev of every inode of this fs (makedev encoding). */
  readonly dev: number;
  /** Mutations return EROFS (checked by the VFS before calling the inode). */
  readonly readonly: boolean;
  /** Entries change behind the VFS's back: do not cache dentries. */
  readonly dynamic: boolean;
  root(): Inode;
  statfs(): StatFs;
  /** The node of a device this file system provides (devtmpfs), to open device nodes made elsewhere with mknod. */
  deviceNode?(type: number, rdev: number): Inode | null;
  /** An inotify watch on inode was made (on) or is gone: a file system whose files change behind the VFS reports those changes while watched. */
  watched?(inode: Inode, on: boolean, notify: Fsnotify): void;
  /**
   * The FS_*_FL inode flags this file system reports through statx's
   * stx_attributes (and so in stx_attributes_mask, with the VFS's own);
   * absent: none.
   */
  readonly statxFlags?: number;
  /**
   * Set the file system's own read-only flag (Linux's SB_RDONLY, which every
   * mount of it obeys and mountinfo's super options show); absent: the flag
   * is fixed, and "ro" can only be a mount's.
   */
  setReadonly?(ro: boolean): void;
  /** It keeps no extended attributes: getting, setting and removing one is EOPNOTSUPP (Linux's inode without xattr handlers), the list is empty. */
  readonly noXattrs?: boolean;
  /** Its last mount went (umount): a disk file system leaves its device clean and lets it go; hugetlbfs gives back its min_size= reservation. */
  shutdown?(): void;
  /** The file system keeps no birth time (Linux's proc, sysfs, devpts, cgroup2, mqueue): statx leaves STATX_BTIME out. */
  readonly noBirthTime?: boolean;
}

/**
 * What a path walk looks up after a name (vfs/walk.ts): names[at] is the name
 * asked for now, names[at + 1] and on follow it (each if the one before is a
 * directory, and "." or ".." as the walk meets them), and open says the
 * walk's last name is then opened for reading. Only a hint: the walk still
 * looks up, checks and crosses mounts one name at a time; the Gofer client
 * (gofer/client.ts) fetches the rest of the path in the same round trip.
 * The walk changes at as it goes: read it during the call, never keep it.
 */
export interface LookupAhead {
  readonly names: readonly string[];
  at: number;
  readonly open: boolean;
}

/** What to create in a directory. */
export interface CreateSpec {
  type: number; // S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFSOCK
  mode: number; // permission bits, umask already applied
  uid: number;
  gid: number;
  target?: string; // symlink target
  rdev?: number;
}

const DAY_NS = 86_400_000_000_000n;

/**
 * Linux's relatime rule (the default mount option): an access updates atime
 * only when atime is not after mtime or ctime, or is a day old, and not when
 * it would not change.
 */
export function relatimeDue(a: InodeAttrs, now: bigint): boolean {
  if (a.atimeNs === now) return false;
  return a.atimeNs <= a.mtimeNs || a.atimeNs <= a.ctimeNs || now - a.atimeNs >= DAY_NS;
}

/**
 * A setattr's metadata (permission bits, owner, times) on attributes a file
 * system keeps in memory, and ctime moves on; what a size change means is
 * each file system's, done before.
 */
export function applyAttrs(a: InodeAttrs, s: SetAttr): void {
  if (s.mode !== undefined) a.mode = (a.mode & S_IFMT) | (s.mode & 0o7777);
  if (s.uid !== undefined) a.uid = s.uid;
  if (s.gid !== undefined) a.gid = s.gid;
  if (s.atimeNs !== undefined) a.atimeNs = s.atimeNs;
  if (s.mtimeNs !== undefined) a.mtimeNs = s.mtimeNs;
  a.ctimeNs = nowNs();
}

export abstract class Inode {
  abstract readonly fs: FilesystemImpl;
  abstract readonly ino: number;
  abstract attrs(): InodeAttrs;
  /** Extended attributes (sys_xattr.ts), created on the first set. */
  xattrs: XattrSet | null = null;
  /** Advisory locks (fcntl, OFD, flock): null until the first lock. */
  locks: FileLocks | null = null;
  /**
   * The pipe behind a FIFO while it is in use (fsimpl/pipe), so every open of
   * the node meets the same one. Typed opaquely: pipes live above the VFS.
   */
  fifo: object | null = null;
  /**
   * Linux's i_writecount: descriptions open for writing (> 0), or programs
   * running from the file (< 0; writing it is ETXTBSY, and executing it
   * while open for writing is ETXTBSY). Kept by the VFS for regular files.
   */
  writeCount = 0;
  /** A memfd: Linux (6.18) lets one run while open for writing, and be written while it runs. */
  execWhileWritable = false;
  /** Descriptions of this regular file the VFS opened (for leases: a write lease needs to be the only one). */
  openDescriptions = 0;
  /** inotify watches on this inode (vfs/fsnotify.ts); null when none. */
  watches: Watch[] | null = null;
  /** Descriptions opened through the VFS and not yet released: fsnotify holds IN_DELETE_SELF back until none. */
  openFiles = 0;
  /** The last name went while open: IN_DELETE_SELF comes at the last close. */
  deletePending = false;
  /**
   * Linux's S_DEAD: a directory that rmdir, or a rename over it, removed.
   * Set by the VFS; nothing more is made in it and getdents is ENOENT.
   */
  removedDir = false;
  /**
   * File seals (fcntl F_ADD_SEALS, abi/memfd.ts): null for files of file
   * systems without them (F_GET_SEALS and F_ADD_SEALS are EINVAL there);
   * the file system enforces the bits it sets.
   */
  seals: number | null = null;

  /**
   * A read or a directory listing accessed the inode. File systems that keep
   * their own times apply relatime (relatimeDue) here; others ignore it (a
   * host file's atime is the host's business).
   */
  accessed(): void {}
  /** Metadata kept outside setattr changed (extended attributes): ctime moves on where the file system keeps it. */
  touchCtime(): void {}

  /**
   * The file's identity within its file system for what must recognise it
   * after this object is gone (Landlock rules): its inode number, unless the
   * file system needs more to tell its files apart.
   */
  identity(): number | string {
    return this.ino;
  }

  /** The file's lock table, made on first use. */
  lockTable(): FileLocks {
    return (this.locks ??= new FileLocks());
  }

  get mode(): number {
    return this.attrs().mode;
  }
  get type(): number {
    return this.mode & S_IFMT;
  }

  // ---- directories (only called on directories) ----
  /**
   * The child named name, or null. name is never "", "." or "..". ahead
   * (path walks only) says what the walk looks up next: a hint a file system
   * whose lookups cost a round trip may fetch with this one (see LookupAhead).
   */
  lookup(_name: string, _ctx: unknown, _ahead?: LookupAhead): Inode | null {
    throw new Errno(E.ENOTDIR);
  }
  /**
   * Is child, cached under name, still what name refers to? File systems
   * whose entries can change outside the sandbox (the host tree) look the
   * name up again; false makes the VFS drop its cached dentry. ahead as for lookup.
   */
  revalidate(_name: string, _child: Inode, _ctx: unknown, _ahead?: LookupAhead): boolean {
    return true;
  }
  /** All entries except "." and "..". */
  readdir(_ctx: unknown): DirEntry[] {
    throw new Errno(E.ENOTDIR);
  }
  /** Create a new entry (name is known not to exist); ctx is the calling task, as for lookup (mqueue charges it). */
  create(_name: string, _spec: CreateSpec, _ctx?: unknown): Inode {
    throw new Errno(E.EROFS);
  }
  /** Add a hard link name -> target (target is of the same fs, not a directory). */
  link(_name: string, _target: Inode): void {
    throw new Errno(E.EROFS);
  }
  /**
   * O_TMPFILE: a new file of this directory's file system with no name (no
   * link yet); EOPNOTSUPP where the file system has none (Linux's missing
   * tmpfile operation).
   */
  createUnnamed(_spec: CreateSpec): Inode {
    throw new Errno(E.EOPNOTSUPP);
  }
  /**
   * Can entries of this directory be removed at all? Linux refuses rmdir in a
   * directory without an rmdir operation (procfs, sysfs) with EPERM before it
   * looks at whether the victim is empty; false gives that order.
   */
  get removesEntries(): boolean {
    return true;
  }
  /** Does this directory hold entries that make rmdir fail with ENOTEMPTY? (cgroupfs's interface files do not.) */
  blocksRmdir(ctx: unknown): boolean {
    return this.readdir(ctx).length > 0;
  }
  /** Remove entry name; the VFS has checked its type and, for directories, that it is empty. */
  unlink(_name: string, _child: Inode): void {
    throw new Errno(E.EROFS);
  }
  /**
   * Move entry oldName to newDir/newName (same fs), replacing what is there
   * (VFS checked compatibility and emptiness), or swapping if RENAME_EXCHANGE.
   */
  rename(_oldName: string, _newDir: Inode, _newName: string, _flags: number): void {
    throw new Errno(E.EROFS);
  }

  // ---- symlinks ----
  readlink(_ctx: unknown): string {
    throw new Errno(E.EINVAL);
  }
  /** Magic links: resolve directly to a location instead of a path string (null: use readlink). */
  resolveLink(_ctx: unknown): VPath | null {
    return null;
  }

  // ---- regular files ----
  readAt(_off: number, _len: number): Buffer {
    throw new Errno(E.EINVAL);
  }
  /** charge: the writer's memory charge group (a file whose pages are memory charges new ones to it). */
  writeAt(_off: number, _data: Buffer, _charge: MemCharge | null = null): number {
    throw new Errno(E.EROFS);
  }
  /** readAt into application memory at addr (checked writable by the caller); returns the count. */
  readToUser(off: number, mem: MemoryAccess, addr: number, len: number): number {
    const b = this.readAt(off, len);
    if (b.length) mem.copyOut(addr, b);
    return b.length;
  }
  /**
   * writeAt with the data taken from application memory at addr; file
   * systems that keep data in pages override it to copy straight in.
   */
  writeFromUser(off: number, mem: MemoryAccess, addr: number, len: number): number {
    return this.writeAt(off, len ? mem.copyIn(addr, len) : Buffer.alloc(0));
  }
  /** fallocate: mode 0 / KEEP_SIZE (1) / PUNCH_HOLE|KEEP_SIZE (3). */
  allocate(_mode: number, _off: number, _len: number, _charge: MemCharge | null = null): void {
    throw new Errno(E.EOPNOTSUPP);
  }
  /** First data offset >= off (SEEK_DATA) or hole (SEEK_HOLE); default: file is all data. */
  seekData(off: number, hole: boolean): number {
    const size = this.attrs().size;
    if (off >= size) throw new Errno(E.ENXIO);
    return hole ? size : off;
  }
  mappable(): Mappable | null {
    return null;
  }
  /**
   * cachestat(2): how many of the pages [first, end) the file's page cache
   * holds, and how many of those await writing out. A file whose data is
   * not kept in pages here (a pipe, a socket, a device, procfs) holds none.
   */
  pageCacheIn(_first: number, _end: number): { cache: number; dirty: number } {
    return { cache: 0, dirty: 0 };
  }

  /**
   * How many names the file has left after one went (fsnotify sends
   * IN_DELETE_SELF at 0). A layered file system whose lower file stays
   * behind a whiteout says 0 itself.
   */
  linksLeft(): number {
    return this.attrs().nlink;
  }

  // ---- all ----
  /**
   * Linux's I_LINKABLE: an O_TMPFILE file opened without O_EXCL may be given
   * a name (linkat) although it has none; any other file without names may
   * not (ENOENT). Cleared by the first link.
   */
  linkable = false;
  /** Inode flags (FS_IOC_GETFLAGS), or null where the file system keeps none (the request goes to the file). */
  inodeFlags(): number | null {
    return null;
  }
  /** Set the inode flags at ctime now (the caller checked ownership and capabilities); EOPNOTSUPP for flags not kept. */
  setInodeFlags(_flags: number, _now: bigint): void {
    throw new Errno(E.ENOTTY);
  }
  /** An open file description now refers to this inode / stopped referring (lets tmpfs free unlinked data). */
  incOpen(): void {}
  decOpen(): void {}
  setattr(_a: SetAttr): void {
    throw new Errno(E.EROFS);
  }
  /** fsync/fdatasync of a regular file or directory: file systems whose data lives elsewhere (a host file) write it there. */
  sync(_dataOnly: boolean): void {}
  /**
   * Custom open (devices, synthetic files with state). Return null for the
   * VFS's default description (regular file on readAt/writeAt, directory, FIFO).
   * openFlags: the flags as open(2) got them, O_NOCTTY included (a terminal's business).
   */
  open(_ctx: unknown, _path: VPath, _flags: number, _openFlags?: number): FileDescription | null {
    return null;
  }
}
