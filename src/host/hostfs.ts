// The boundary to host files. HostFiles is what the read-only host tree
// (fsimpl/hostfs) is given to reach the rootfs: an injected object, so the
// Gofer client can take the place of host/hosttree.ts without touching the
// file system. It deals in HostNode handles, never in host paths or host
// descriptor numbers. Names are byte strings (latin1 JS strings).
// Descriptors donated to the sandbox (stdio, tty) are host/hostfd.ts.

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
  /** The entry name in directory dir as it is now, or null. */
  lookup(dir: HostNode, name: string): HostNode | null;
  /** Fresh attributes of n. */
  stat(n: HostNode): HostStat;
  readdir(dir: HostNode): HostDirent[];
  readlink(n: HostNode): string;
  pread(n: HostNode, buf: Buffer, off: number): number;
  /** The sandbox opened n: keep it readable even if its names change on the host. */
  pin(n: HostNode): void;
  unpin(n: HostNode): void;
}
