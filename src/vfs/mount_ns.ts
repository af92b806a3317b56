// Mount namespaces (man 7 mount_namespaces): a tree of Mounts with its own
// root, owned by the user namespace that was current when it was made.
// unshare/clone with CLONE_NEWNS copies the whole tree (the same file
// systems and dentries, new Mount objects); mount(2) attaches new mounts to
// the caller's tree only. Propagation is private only: no mount is ever
// shared, so MS_PRIVATE and MS_SLAVE (a slave of nothing is private) are
// true statements and MS_SHARED is refused by the syscall.
import { E, Errno } from '../abi/errno';
import type { Credentials } from '../auth/creds';
import type { UserNamespace } from '../auth/userns';
import { Dentry, Mount, type MountFlags, type VPath } from './dentry';
import type { FilesystemImpl } from './inode';

/** Hands out mount ids (the VFS). */
export interface MountIds {
  allocMountId(): number;
}

export class MountNamespace {
  constructor(
    public root: Mount,
    readonly owner: UserNamespace,
    readonly inum: number,
  ) {
    for (const m of subtree(root)) m.ns = this;
  }

  /** Every mount of the namespace in the order they were made (ids grow), as /proc/PID/mountinfo lists them. */
  mounts(): Mount[] {
    return subtree(this.root).sort((a, b) => a.id - b.id);
  }

  /**
   * A copy for a new namespace owned by owner: every mount duplicated with its
   * flags. Returns the map from old to new mounts, to move roots and working
   * directories over. Copied into a less privileged owner, mounts are locked.
   */
  copy(ids: MountIds, owner: UserNamespace, inum: number): { ns: MountNamespace; map: Map<Mount, Mount> } {
    const map = new Map<Mount, Mount>();
    const lock = owner !== this.owner;
    const root = copyTree(ids, this.root, this.root.root, true, map, false);
    if (lock) {
      for (const m of map.values()) {
        m.locked = true;
        m.lockedFlags = { ...m.flags };
      }
    }
    return { ns: new MountNamespace(root, owner, inum), map };
  }

  /** A location of the old tree in this copy (through the map copy() returned). */
  static translate(p: VPath, map: Map<Mount, Mount>): VPath {
    const m = map.get(p.mount);
    return m ? { mount: m, dentry: p.dentry } : p;
  }
}

/** m and every mount below it, parents first (a stack: trees may be deep). */
export function subtree(m: Mount): Mount[] {
  const out: Mount[] = [];
  const todo = [m];
  for (let x = todo.pop(); x; x = todo.pop()) {
    out.push(x);
    for (const c of x.children.values()) todo.push(c);
  }
  return out;
}

/** d is anc or below it in the same file system. */
export function isUnder(d: Dentry, anc: Dentry): boolean {
  for (let x: Dentry | null = d; x; x = x.parent) if (x === anc) return true;
  return false;
}

function cloneMount(ids: MountIds, m: Mount, root: Dentry, flags?: MountFlags): Mount {
  const n = new Mount(ids.allocMountId(), m.fs, root, null, null, { ...(flags ?? m.flags) });
  n.source = m.source;
  n.fsOwner = m.fsOwner;
  n.unbindable = m.unbindable;
  n.locked = m.locked;
  n.lockedFlags = m.lockedFlags;
  return n;
}

/**
 * Copy mount m as seen from dentry root (a bind mount of that directory),
 * with the mounts below it when recursive. bind: skip unbindable submounts,
 * as a recursive bind mount does.
 */
export function copyTree(ids: MountIds, m: Mount, root: Dentry, recursive: boolean, map: Map<Mount, Mount>, bind: boolean): Mount {
  const top = cloneMount(ids, m, root);
  map.set(m, top);
  if (!recursive) return top;
  const todo: Array<[Mount, Mount]> = [[m, top]];
  for (let e = todo.pop(); e; e = todo.pop()) {
    const [src, dst] = e;
    for (const [mp, c] of src.children) {
      if (src === m && !isUnder(mp, root)) continue;
      if (bind && c.unbindable) continue;
      const cc = cloneMount(ids, c, c.root);
      map.set(c, cc);
      attachAt(cc, dst, mp);
      todo.push([c, cc]);
    }
  }
  return top;
}

/** Stack m on dentry mp of parent (the mount point must be free: callers pass the top of a stack). */
export function attachAt(m: Mount, parent: Mount, mp: Dentry): void {
  m.parent = parent;
  m.mountpoint = mp;
  parent.children.set(mp, m);
  if (parent.ns) for (const x of subtree(m)) x.ns = parent.ns;
}

/** Take m (and what is below it) out of its tree. */
export function detach(m: Mount): void {
  if (m.parent && m.mountpoint && m.parent.children.get(m.mountpoint) === m) m.parent.children.delete(m.mountpoint);
  m.parent = null;
  m.mountpoint = null;
  for (const x of subtree(m)) x.ns = null;
}

/** Same names from the file system's root (dentries of dynamic file systems are made afresh at each lookup). */
function sameFsPath(a: Dentry | null, b: Dentry | null): boolean {
  for (; a && b; a = a.parent, b = b.parent) {
    if (a === b) return true;
    if (a.name !== b.name) return false;
  }
  return a === b;
}

/** In a dynamic file system, the mount point dentry named name under dir, if one is mounted on. */
export function dynamicMountpoint(m: Mount, dir: Dentry, name: string): Dentry | null {
  for (const mp of m.children.keys()) if (mp.name === name && sameFsPath(mp.parent, dir)) return mp;
  return null;
}

/** The mount on top of the stack at p (p itself when nothing is mounted there). */
export function topOf(p: VPath): VPath {
  for (let m = p.mount.children.get(p.dentry); m; m = p.mount.children.get(p.dentry)) p = { mount: m, dentry: m.root };
  return p;
}

/** What mount(2) gets from a file system type: the file system, and the dentry to mount when it is mounted already. */
export interface MadeFs {
  fs: FilesystemImpl;
  root: Dentry | null;
  /** The user namespace owning a userns type's instance when it is not the caller's (mqueue: its IPC namespace's owner). */
  owner?: UserNamespace;
}

/** A file system type mount(2) can make: a new instance (tmpfs) or the sandbox's one (proc, sysfs). */
export interface FsType {
  /**
   * Build (or find) the file system for mount(2)'s source and option string
   * (EINVAL for bad options); IDs in options are creds'. caller: the task
   * mounting (opaque here; null while the sandbox is set up), whose
   * namespaces decide which instance a per-namespace type (mqueue) gives.
   * readonly: the mount asks for a read-only file system (a disk file
   * system then never writes its device).
   */
  make(source: string, data: string, creds: Credentials, caller: unknown, readonly?: boolean): MadeFs;
  /**
   * Check one option of make's data string as make would (EINVAL, with
   * "Unknown parameter" as the message for a key it does not know), making
   * nothing: fsconfig checks each parameter as it is set. Absent: options
   * are checked by make only.
   */
  check?(option: string, creds: Credentials): void;
  /** FS_USERNS_MOUNT with a new superblock owned by the caller's user namespace: the mount namespace's owner may make it. */
  readonly userns: boolean;
}

/** The file system types of one sandbox (Linux's register_filesystem), filled by the composition root. */
export class FsTypes {
  private readonly types = new Map<string, FsType>();

  register(name: string, t: FsType): void {
    this.types.set(name, t);
  }

  get(name: string): FsType {
    const t = this.types.get(name);
    if (!t) throw new Errno(E.ENODEV);
    return t;
  }

  names(): string[] {
    return [...this.types.keys()];
  }
}
