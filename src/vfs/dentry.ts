// Dentries name inodes within a mount; mounts stack file systems on dentries.
// Dentries of non-dynamic file systems are cached in their parent so that the
// same path yields the same Dentry object as long as anything holds it: mount
// points and the cwd are held as Dentry references and stay right across
// renames (the VFS moves the cached dentry when it renames). The cache holds
// its entries weakly; the VFS's DentryCache bounds what it keeps alive.
import type { FilesystemImpl, Inode } from './inode';
import type { WeakNames } from './weak_names';

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

export class Mount {
  /** Mounts stacked on dentries of this mount. */
  readonly children = new Map<Dentry, Mount>();

  constructor(
    /** Unique in its VFS (mnt_id, /proc/PID/mountinfo): the VFS hands them out. */
    public readonly id: number,
    public readonly fs: FilesystemImpl,
    public readonly root: Dentry,
    public readonly parent: Mount | null,
    public readonly mountpoint: Dentry | null,
    public readonly flags: { readonly: boolean; noexec: boolean; nosuid?: boolean },
  ) {}
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
 * from the namespace root. reachable=false when p was unlinked.
 */
export function pathOf(p: VPath, root: VPath | null): { path: string; reachable: boolean } {
  const parts: string[] = [];
  let m = p.mount;
  let d = p.dentry;
  let reachable = true;
  for (;;) {
    if (root && m === root.mount && d === root.dentry) break;
    if (d.dead) reachable = false;
    if (d === m.root) {
      if (!m.parent || !m.mountpoint) break;
      d = m.mountpoint;
      m = m.parent;
      continue;
    }
    if (!d.parent) break;
    parts.push(d.name);
    d = d.parent;
  }
  parts.reverse();
  return { path: '/' + parts.join('/'), reachable };
}
