// Mount namespaces (man 7 mount_namespaces): a tree of Mounts with its own
// root, owned by the user namespace that was current when it was made.
// unshare/clone with CLONE_NEWNS copies the whole tree (the same file
// systems and dentries, new Mount objects); mount(2) attaches new mounts to
// the caller's tree only, and propagate.ts spreads it to the peers and
// slaves of the mount it lands on (shared subtrees, propagation.ts). A
// copied namespace's mounts join their originals' peer groups, as Linux's
// copy_mnt_ns; copied into a less privileged owner, shared ones become
// their originals' slaves instead.
import { E, Errno } from '../abi/errno';
import type { Credentials } from '../auth/creds';
import type { UserNamespace } from '../auth/userns';
import { Dentry, Mount, type MountNamespaceRef, type VPath } from './dentry';
import type { FilesystemImpl } from './inode';
import { copyPropagation, type CopyKind, type PeerGroups } from './propagation';

/** Hands out mount ids and peer group ids (the VFS). */
export interface MountIds {
  allocMountId(): number;
  readonly peers: PeerGroups;
}

/** Linux's default fs.mount-max: the mounts one namespace may hold (ENOSPC past it). */
export const MOUNT_MAX = 100000;

export class MountNamespace {
  nrMounts = 0;

  constructor(
    public root: Mount,
    readonly owner: UserNamespace,
    readonly inum: number,
  ) {
    for (const m of subtree(root)) setNs(m, this);
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
    const root = copyTree(ids, this.root, this.root.root, true, map, false, lock ? 'toSlave' : 'same');
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

function cloneMount(ids: MountIds, m: Mount, root: Dentry, kind: CopyKind): Mount {
  const n = new Mount(ids.allocMountId(), m.fs, root, null, null, { ...m.flags });
  n.source = m.source;
  n.fsOwner = m.fsOwner;
  n.unbindable = m.unbindable;
  n.locked = m.locked;
  n.lockedFlags = m.lockedFlags;
  copyPropagation(ids.peers, m, n, kind);
  return n;
}

/**
 * Copy mount m as seen from dentry root (a bind mount of that directory),
 * with the mounts below it when recursive. bind: skip unbindable submounts,
 * as a recursive bind mount does. kind: how the copies relate to their
 * originals' peer groups (propagation.ts).
 */
export function copyTree(ids: MountIds, m: Mount, root: Dentry, recursive: boolean, map: Map<Mount, Mount>, bind: boolean, kind: CopyKind = 'same'): Mount {
  const top = cloneMount(ids, m, root, kind);
  map.set(m, top);
  if (!recursive) return top;
  const todo: Array<[Mount, Mount]> = [[m, top]];
  for (let e = todo.pop(); e; e = todo.pop()) {
    const [src, dst] = e;
    for (const [mp, c] of src.children) {
      if (src === m && !isUnder(mp, root)) continue;
      if (bind && c.unbindable) continue;
      const cc = cloneMount(ids, c, c.root, kind);
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
  if (parent.ns) for (const x of subtree(m)) setNs(x, parent.ns);
}

/** Move m into namespace ns (null: none), keeping both namespaces' counts of mounts. */
export function setNs(m: Mount, ns: MountNamespaceRef | null): void {
  if (m.ns === ns) return;
  if (m.ns) m.ns.nrMounts--;
  m.ns = ns;
  if (ns) ns.nrMounts++;
}

/** Take m (and what is below it) out of its tree. */
export function detach(m: Mount): void {
  if (m.parent && m.mountpoint && m.parent.children.get(m.mountpoint) === m) m.parent.children.delete(m.mountpoint);
  m.parent = null;
  m.mountpoint = null;
  for (const x of subtree(m)) setNs(x, null);
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
