// Dentries name inodes within a mount; mounts stack file systems on dentries.
// Dentries of non-dynamic file systems are cached in their parent so that the
// same path yields the same Dentry object as long as anything holds it: mount
// points and the cwd are held as Dentry references and stay right across
// renames (the VFS moves the cached dentry when it renames). The cache holds
// its entries weakly; the VFS's DentryCache bounds what it keeps alive.
import type { UserNamespace } from '../auth/userns';
import type { FilesystemImpl, Inode } from './inode';
import type { WeakNames } from './weak_names';
import type { Propagation } from './propagation';

export class Dentry {
  /** Cached children by name (only positive entries); made by the VFS at the first one. */
  children: WeakNames<Dentry> | null = null;
  /** Unlinked or replaced: no longer reachable by name (getcwd appends " (deleted)"). */
  dead = false;
  /** Links of the VFS's DentryCache list. */
  lruPrev: Dentry | null = null;
  lruNext: Dentry | null = null;
  lruIn = false;

  constructor(
    public inode: Inode,
    public name: string,
    public parent: Dentry | null,
  ) {}

  get isRoot(): boolean {
    return this.parent === null;
  }
}

/** Per-mount flags (MS_RDONLY, MS_NOEXEC, MS_NOSUID, MS_NODEV); changed by a remount. */
export interface MountFlags {
  readonly: boolean;
  noexec: boolean;
  nosuid?: boolean;
  nodev?: boolean;
  /** Access times: relatime when absent (the default), or noatime or strictatime (mount_setattr, fsmount). */
  atime?: 'noatime' | 'strictatime';
  nodiratime?: boolean;
  /** Symlinks on the mount are not followed by path walks (ELOOP); readlink still reads them. */
  nosymfollow?: boolean;
}

export const MNT_UNIQUE_ID_OFFSET = 2 ** 31;

export class Mount {
  /** Mounts stacked on dentries of this mount. */
  readonly children = new Map<Dentry, Mount>();
  /** The mount namespace this mount is attached in (null: detached, or set up before the namespace existed). */
  ns: MountNamespaceRef | null = null;
  /**
   * Copied into a namespace owned by a less privileged user namespace: it
   * cannot be unmounted alone, and its flags cannot be relaxed (MNT_LOCKED
   * and the locked atime/ro/nosuid/nodev/noexec flags).
   */
  locked = false;
  /** The flags a less privileged namespace received it with: those set here cannot be cleared by a remount. */
  lockedFlags: MountFlags | null = null;
  /** MS_UNBINDABLE: bind mounts of it are refused, recursive ones skip it. */
  unbindable = false;
  /** Its peer group, master and slaves (vfs/propagation.ts); null: private, and nothing receives from it. */
  prop: Propagation | null = null;
  /** MNT_EXPIRE marked it, and nothing used it since. */
  expiring = false;
  /** The user namespace owning the file system (a tmpfs made by mount(2) in a user namespace); null: the initial one. */
  fsOwner: UserNamespace | null = null;
  /** What /proc/PID/mounts shows as the source (mount(2)'s source argument); null: the file system's name. */
  source: string | null = null;

  /**
   * The 64-bit mount id of statx(STATX_MNT_ID_UNIQUE), statmount and
   * listmount: never reused, above 2^31 as Linux's (MNT_UNIQUE_ID_OFFSET),
   * so that it cannot be taken for a /proc/PID/mountinfo id. The VFS never
   * reuses `id`, so the offset id is unique too.
   */
  get uniqueId(): number {
    return MNT_UNIQUE_ID_OFFSET + this.id;
  }

  constructor(
    /** Unique in its VFS (mnt_id, /proc/PID/mountinfo): the VFS hands them out. */
    public readonly id: number,
    public readonly fs: FilesystemImpl,
    public readonly root: Dentry,
    public parent: Mount | null,
    public mountpoint: Dentry | null,
    public readonly flags: MountFlags,
  ) {}
}

/** What a mount knows of its namespace (the class is in mount_ns.ts). */
export interface MountNamespaceRef {
  readonly inum: number;
  readonly owner: UserNamespace;
  /** Mounts attached in it, counted against the VFS's mountMax (Linux's fs.mount-max). */
  nrMounts: number;
  /** An anonymous namespace (a detached tree of fsmount or open_tree): propagation never reaches into it. */
  readonly anon?: boolean;
}

/** A location in the mount namespace. */
export interface VPath {
  mount: Mount;
  dentry: Dentry;
}

export function samePath(a: VPath, b: VPath): boolean {
  return a.mount === b.mount && a.dentry === b.dentry;
}

/**
 * The absolute path of p as seen from root (byte string). If p is not under
 * root (e.g. a chrooted task's fd of an outside file), the path is as seen
 * from the namespace root and outside=true. reachable=false when p was unlinked.
 */
export function pathOf(p: VPath, root: VPath | null): { path: string; reachable: boolean; outside: boolean } {
  const parts: string[] = [];
  let m = p.mount;
  let d = p.dentry;
  let reachable = true;
  for (;;) {
    if (root && m === root.mount && d === root.dentry) return done(parts, reachable, false);
    if (d.dead) reachable = false;
    if (d === m.root) {
      if (!m.parent || !m.mountpoint) break;
      d = m.mountpoint;
      m = m.parent;
      continue;
    }
    // A named dentry outside any tree (a namespace file, "mnt:[4026531840]") is its own name.
    if (!d.parent) {
      if (d.name && parts.length === 0 && m.root !== d) return { path: d.name, reachable, outside: false };
      break;
    }
    parts.push(d.name);
    d = d.parent;
  }
  return done(parts, reachable, root !== null);
}

function done(parts: string[], reachable: boolean, outside: boolean): { path: string; reachable: boolean; outside: boolean } {
  parts.reverse();
  return { path: '/' + parts.join('/'), reachable, outside };
}
