// The boundary to host files. HostFiles is what the host tree file system
// (fsimpl/hostfs) is given to reach the rootfs or a bind mount's source: an
// injected object, so the Gofer client can take the place of
// host/hosttree.ts without touching the file system. It deals in HostNode
// handles, never in host paths or host descriptor numbers. Names are byte
// strings (latin1 JS strings), always one component (never "", ".", "..",
// nor containing "/" or NUL: EINVAL).
//
// HostFiles reads; WritableHostFiles adds the writes of a read-write bind
// mount. A read-only tree is read-only by type: fsimpl/hostfs writes only
// when given a WritableHostFiles.
// Descriptors donated to the sandbox (stdio, tty) are host/hostfd.ts.

import type { StatFs } from '../abi/fs';

export interface HostStat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  birthtimeNs: bigint;
}

/** A host error carrying the Linux errno. */
export class HostError extends Error {
  constructor(readonly errno: number, msg: string) {
    super(msg);
  }
}

/** One file of the host tree, identified by (dev, ino); stat is as of its last lookup or stat. */
export interface HostNode {
  readonly dev: number;
  readonly ino: number;
  readonly stat: HostStat;
}

/** A directory entry as the host lists it; type is the d_type (DT_*), 0 if the host does not know. */
export interface HostDirent {
  name: string;
  ino: number;
  type: number;
}

/**
 * Read-only access to a host directory tree. Every method names files by
 * node; lookup never follows a host symlink (a symlink is a node of its
 * own). A node whose names no longer lead to it fails with ESTALE.
 */
export interface HostFiles {
  root(): HostNode;
  /** Release every host descriptor it holds (a removed pod container's trees); later calls fail. */
  close?(): void;
  /**
   * The entry name in directory dir as it is now, or null. ahead, from a
   * path walk: names[at] is name, names[at + 1] and on are looked up next
   * if name is a directory, and the last is then opened for reading if
   * open (vfs/inode.ts LookupAhead): a server across a socket may bring
   * them in the same round trip; only read during the call.
   */
  lookup(dir: HostNode, name: string, ahead?: HostLookupAhead): HostNode | null;
  /** Fresh attributes of n. */
  stat(n: HostNode): HostStat;
  readdir(dir: HostNode): HostDirent[];
  readlink(n: HostNode): string;
  pread(n: HostNode, buf: Buffer, off: number): number;
  /** The sandbox opened n: keep it readable even if its names change on the host. */
  pin(n: HostNode): void;
  unpin(n: HostNode): void;
  /** Where changes made on the host to files of this tree are reported; absent where the server cannot watch (the Gofer today). */
  changes?(): HostChangeFeed;
}

/** What a path walk looks up after a name (the VFS's LookupAhead, which has the same shape: host/ does not import the VFS). */
export interface HostLookupAhead {
  readonly names: readonly string[];
  readonly at: number;
  readonly open: boolean;
}

/** A change the host reported for a watched file: id from HostChangeFeed.add; name set for an entry of a watched directory. */
export interface HostChange {
  id: number;
  /** Linux's IN_* bits as the host gave them (IN_ISDIR, IN_IGNORED included). */
  mask: number;
  cookie: number;
  name: string | null;
}

/**
 * The host's change notification for one tree (inotify). Only changes are
 * watched (entries created, deleted, moved; data modified; attributes), not
 * accesses, opens or closes, which the serving process itself makes.
 */
export interface HostChangeFeed {
  /** Readable while changes are queued (for the host event service). */
  readonly fd: number;
  /** Watch n (a directory: its entries too); the same file gives the same id. HostError when the host refuses (its limits). */
  add(n: HostNode): number;
  remove(id: number): void;
  /** The changes queued now, oldest first (none: an empty list). */
  take(): HostChange[];
}

/** Host uid/gid a new file gets; -1 leaves the one the host gives it (the serving process's). */
export interface HostOwner {
  uid: number;
  gid: number;
}

/** A time to set: nanoseconds since the epoch, the host's current time, or left as it is. */
export type HostTime = bigint | 'now' | 'omit';

/** Attributes to change; a field left out is not changed. */
export interface HostSetAttr {
  /** Permission bits (07777). */
  mode?: number;
  /** Host ids; given together, they change in one host call (lchown semantics: a symlink itself). */
  uid?: number;
  gid?: number;
  /** truncate(2)/ftruncate(2) of a regular file. */
  size?: number;
  atime?: HostTime;
  mtime?: HostTime;
}

/** statfs(2) of the host file system holding a tree: the sandbox's StatFs and the fragment size. */
export interface HostStatFs extends StatFs {
  frsize: number;
}

/**
 * A host tree the sandbox may change (a read-write bind mount's source).
 * Every operation names its files by node and a single name under a
 * directory node, never by path; nothing follows a host symlink (a name that
 * is a symlink is acted on as the symlink itself, or refused: ELOOP where an
 * open would have had to follow it). Errors are HostError with the Linux
 * errno the host gave (EEXIST, ENOENT, ENOTEMPTY, EXDEV, EPERM, EACCES,
 * ENOSPC, EDQUOT, EROFS, ...), or ESTALE when a node is no longer reachable
 * under the names it was found by. Permission checks are the Sentry's; the
 * host enforces its own on top (the serving process's credentials).
 *
 * Creating calls return the new node with fresh attributes. The owner given
 * is applied on the host (chown after create, before the node is returned);
 * when the host refuses it (an unprivileged server), the call fails with
 * that errno and leaves no file behind.
 */
export interface WritableHostFiles extends HostFiles {
  readonly writable: true;
  /** A regular file, exclusively (O_CREAT|O_EXCL): EEXIST if name exists, whatever it is (a dangling symlink too). mode: 07777 bits. */
  create(dir: HostNode, name: string, mode: number, owner: HostOwner): HostNode;
  mkdir(dir: HostNode, name: string, mode: number, owner: HostOwner): HostNode;
  /** target is stored as given (bytes), never resolved by the host. */
  symlink(dir: HostNode, name: string, target: string, owner: HostOwner): HostNode;
  /** mode carries the type: S_IFIFO and S_IFSOCK always; S_IFCHR/S_IFBLK only where the host allows (EPERM otherwise). */
  mknod(dir: HostNode, name: string, mode: number, rdev: number, owner: HostOwner): HostNode;
  /** A new name for target (not a directory: EPERM) in dir; returns target with its new link count. */
  link(target: HostNode, dir: HostNode, name: string): HostNode;
  /** unlinkat(dir, name): rmdir when dir is true (ENOTDIR/EISDIR/ENOTEMPTY as the host says). */
  unlink(dir: HostNode, name: string, isDir: boolean): void;
  /** renameat2 with Linux's RENAME_NOREPLACE (1) / RENAME_EXCHANGE (2) flags (abi/fs); EINVAL for flags the host file system does not support. */
  rename(oldDir: HostNode, oldName: string, newDir: HostNode, newName: string, flags: number): void;
  /** Change attributes; returns the attributes after the change. size on a non-regular file: EINVAL (EISDIR for a directory). */
  setattr(n: HostNode, a: HostSetAttr): HostStat;
  /** Write buf at off (a regular file); returns the count written (short only on ENOSPC-like ends). */
  pwrite(n: HostNode, buf: Buffer, off: number): number;
  /** fsync(2), or fdatasync(2) when dataOnly, of a regular file or directory. */
  fsync(n: HostNode, dataOnly: boolean): void;
  /** fallocate(2) of a regular file (mode: FALLOC_FL_* bits; EOPNOTSUPP where the host lacks one). */
  fallocate(n: HostNode, mode: number, off: number, len: number): void;
  /** The value of extended attribute name; ENODATA if absent. */
  getxattr(n: HostNode, name: string): Buffer;
  /** Linux's XATTR_CREATE (1) / XATTR_REPLACE (2) flags; EEXIST/ENODATA as the host says. */
  setxattr(n: HostNode, name: string, value: Buffer, flags: number): void;
  listxattr(n: HostNode): string[];
  removexattr(n: HostNode, name: string): void;
  statfs(): HostStatFs;
}
