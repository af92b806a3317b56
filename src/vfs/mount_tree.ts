// The mount tree of a namespace and the lookups path resolution
// (vfs/walk.ts) steps through: mounting, crossing mount points, the dentry
// cache, and "..". The name operations and open build on it (vfs.ts).
import { Errno, E } from '../abi/errno';
import { Credentials } from '../auth/creds';
import type { UserNamespace } from '../auth/userns';
import { Dentry, Mount, pathOf, samePath, type MountFlags, type VPath } from './dentry';
import { DEFAULT_DENTRY_CACHE, DentryCache } from './dentry_cache';
import { walk, walkParent, walkState, type ParentResult, type Resolver, type WalkState } from './walk';
import type { FilesystemImpl, Inode, LookupAhead } from './inode';
import { AnonDevs, PseudoFs } from './numbering';
import { dynamicMountpoint, FsTypes, MOUNT_MAX, subtree } from './mount_ns';
import { attachTree } from './propagate';
import { PeerGroups } from './propagation';
import { Fsnotify } from './fsnotify';
import { S_IFDIR, S_IFMT } from '../abi/fs';

/** Credentials used by setup-time resolution (mountAt). */
const rootCreds = new Credentials();

export class MountTree {
  readonly rootMount: Mount;
  /** What keeps cached dentries alive, bounded (see dentry_cache.ts). */
  readonly dentries = new DentryCache(Number(process.env.TSVISOR_DENTRY_CACHE ?? DEFAULT_DENTRY_CACHE));
  private nextMountId = 1;
  /** Peer group ids and members of every namespace's mounts (shared subtrees, propagation.ts). */
  readonly peers = new PeerGroups();
  /** The mounts one namespace may hold, propagated ones included (Linux's fs.mount-max). */
  readonly mountMax = MOUNT_MAX;
  /** Device numbers of this namespace's file systems (the composition root takes them for each fs it makes). */
  readonly devs: AnonDevs;
  /** Pipes made by pipe(2) and FIFOs: their st_dev and inode numbers. */
  readonly pipefs: PseudoFs;
  /** What mount(2) can make (the composition root registers them). */
  readonly fsTypes = new FsTypes();
  /** Rename cookies and the inotify limits (vfs/fsnotify.ts). */
  readonly notify = new Fsnotify();
  /** Makes the file system memfd_create's files live on (the composition root sets it). */
  shmFs: (() => FilesystemImpl) | null = null;
  /** Makes the internal hugetlbfs that MFD_HUGETLB memfds and SHM_HUGETLB segments live on (the composition root sets it). */
  hugeFs: (() => FilesystemImpl) | null = null;
  /** The block devices with a capacity, for /proc/partitions (the composition root sets it: the loop devices). */
  blockDevices: () => Array<{ major: number; minor: number; sectors: number; name: string }> = () => [];
  private shmMnt: Mount | null = null;
  private hugeMnt: Mount | null = null;

  constructor(rootFs: FilesystemImpl, devs?: AnonDevs) {
    this.devs = devs ?? new AnonDevs();
    this.pipefs = new PseudoFs(this.devs.take());
    this.rootMount = new Mount(this.allocMountId(), rootFs, new Dentry(rootFs.root(), '', null), null, null, { readonly: false, noexec: false });
  }

  /** A mount id no other mount of this VFS has (also for mounts outside the tree, such as procfs's anonymous one). */
  allocMountId(): number {
    return this.nextMountId++;
  }

  /**
   * The mount of memfd_create's files (Linux's internal shm mount): in no
   * namespace's tree, made at the first memfd so that sandboxes without one
   * number their mounts as before.
   */
  shmMount(): Mount {
    return (this.shmMnt ??= this.internalMount(this.shmFs));
  }

  /** The internal hugetlbfs mount (Linux's hugetlbfs_vfsmount), made at its first use. */
  hugeMount(): Mount {
    return (this.hugeMnt ??= this.internalMount(this.hugeFs));
  }

  private internalMount(make: (() => FilesystemImpl) | null): Mount {
    if (!make) throw new Errno(E.ENOSYS, 'no file system for memfd_create');
    const fs = make();
    return new Mount(this.allocMountId(), fs, new Dentry(fs.root(), '', null), null, null, { readonly: false, noexec: false });
  }

  get root(): VPath {
    return { mount: this.rootMount, dentry: this.rootMount.root };
  }

  /** Mount fs on the directory at (an absolute path in the namespace), and wherever the mount there propagates to (ENOSPC past mountMax). */
  mount(fs: FilesystemImpl, at: VPath, flags: MountFlags = { readonly: false, noexec: false }, root?: Dentry, about?: { source: string; fsOwner: UserNamespace | null }): Mount {
    if ((at.dentry.inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
    // Mount on top of whatever is mounted there already (stacking, like Linux).
    let top = at;
    for (let m = top.mount.children.get(top.dentry); m; m = top.mount.children.get(top.dentry)) top = { mount: m, dentry: m.root };
    const m = new Mount(this.allocMountId(), fs, root ?? new Dentry(fs.root(), '', null), null, null, { ...flags });
    // Set before attaching: propagated copies take them from m.
    if (about) Object.assign(m, about);
    attachTree(this, m, top.mount, top.dentry);
    return m;
  }

  /** Mount fs at an absolute path, resolved as root with the namespace root (for setup and procfs). */
  mountAt(path: string, fs: FilesystemImpl, flags: MountFlags = { readonly: false, noexec: false }): Mount {
    const r: Resolver = { creds: rootCreds, root: this.root, ctx: null };
    return this.mount(fs, this.resolve(r, this.root, path, true), flags);
  }

  /** All mounts, parents first (for /proc/mounts). */
  mounts(): Mount[] {
    return subtree(this.rootMount);
  }

  /** Dentries reachable through the cache now (counted for --stats and tests; walks everything). */
  countCachedDentries(): number {
    let n = 0;
    // A stack, not recursion: a program may nest directories deeper than the JavaScript stack.
    const todo = this.mounts().map((m) => m.root);
    for (let d = todo.pop(); d; d = todo.pop()) {
      if (!d.children) continue;
      for (const c of d.children.values()) {
        n++;
        todo.push(c);
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- walking

  private crossMounts(p: VPath): VPath {
    for (let m = p.mount.children.get(p.dentry); m; m = p.mount.children.get(p.dentry)) p = { mount: m, dentry: m.root };
    return p;
  }

  /** The dentry for name in dir (same mount, no mount crossing), or null; ahead: what a path walk looks up next (a hint). */
  lookupRaw(r: Resolver, dir: VPath, name: string, ahead?: LookupAhead): Dentry | null {
    const d = dir.dentry;
    const fs = dir.mount.fs;
    if (!fs.dynamic) {
      const c = d.children?.get(name);
      // A mount point stays what it is; anything else may have changed behind the VFS (the host tree).
      if (c && (dir.mount.children.has(c) || d.inode.revalidate(name, c.inode, r.ctx, ahead))) {
        this.dentries.touch(c);
        return c;
      }
      if (c) this.dropChild(dir, name);
    }
    const inode = d.inode.lookup(name, r.ctx, ahead);
    if (!inode) return null;
    // A mount point of a dynamic file system keeps its dentry: it is the key of the mount.
    if (fs.dynamic && dir.mount.children.size) {
      const mp = dynamicMountpoint(dir.mount, d, name);
      if (mp) return mp;
    }
    const c = new Dentry(inode, name, d);
    if (!fs.dynamic) this.cache(d, name, c);
    return c;
  }

  lookupChild(r: Resolver, dir: VPath, name: string, ahead?: LookupAhead): VPath | null {
    const d = this.lookupRaw(r, dir, name, ahead);
    return d ? this.crossMounts({ mount: dir.mount, dentry: d }) : null;
  }

  parentOf(r: Resolver, p: VPath): VPath {
    for (;;) {
      if (samePath(p, r.root)) return p;
      if (p.dentry !== p.mount.root) break;
      if (!p.mount.parent || !p.mount.mountpoint) return p;
      p = { mount: p.mount.parent, dentry: p.mount.mountpoint };
    }
    return p.dentry.parent ? { mount: p.mount, dentry: p.dentry.parent } : p;
  }

  /** Resolve all but the last component of path. */
  resolveParent(r: Resolver, start: VPath, path: string): ParentResult {
    return walkParent(this, 'links' in r ? (r as WalkState) : walkState(r), start, path);
  }

  /** Resolve path from start (relative paths) or r.root (absolute). follow: follow a final symlink; openRead: the file is read next (a hint, LookupAhead). */
  resolve(r: Resolver, start: VPath, path: string, follow: boolean, openRead = false): VPath {
    const st = walkState(r);
    if (openRead) st.openRead = true;
    return walk(this, st, start, path, follow);
  }

  /** The path of p as the resolver sees it (getcwd, /proc/self/fd, /proc/self/exe). */
  pathname(r: Resolver | null, p: VPath): { path: string; reachable: boolean; outside: boolean } {
    return pathOf(p, r ? r.root : null);
  }

  // ------------------------------------------- checks and the dentry cache

  checkWritable(p: VPath): void {
    if (p.mount.flags.readonly || p.mount.fs.readonly) throw new Errno(E.EROFS);
  }

  protected isMountpoint(p: VPath): boolean {
    return p.mount.children.has(p.dentry) || p.dentry === p.mount.root;
  }

  protected cacheChild(dir: VPath, name: string, inode: Inode): Dentry {
    const d = new Dentry(inode, name, dir.dentry);
    if (!dir.mount.fs.dynamic) this.cache(dir.dentry, name, d);
    return d;
  }

  /** Cache c under name in dir (a non-dynamic file system's). */
  protected cache(dir: Dentry, name: string, c: Dentry): void {
    if (!dir.children) dir.children = this.dentries.names();
    dir.children.set(name, c);
    this.dentries.touch(c);
  }

  protected dropChild(dir: VPath, name: string): void {
    const d = dir.dentry.children?.get(name);
    if (d) {
      d.dead = true;
      dir.dentry.children?.delete(name);
      this.dentries.forget(d);
    }
  }

  /** The device of that type and number some mounted file system provides (DevFs), or null. */
  protected deviceNode(type: number, rdev: number): Inode | null {
    for (const m of this.mounts()) {
      const d = m.fs.deviceNode?.(type, rdev);
      if (d) return d;
    }
    return null;
  }
}
