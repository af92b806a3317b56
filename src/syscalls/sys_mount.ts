// mount(2), umount2(2), pivot_root(2) and chroot(2) on the caller's mount
// namespace (vfs/mount_ns.ts), never the host's: every path is resolved in
// the sandbox, so a bind mount's source is a place in the sandbox's own
// tree. Changing mounts needs CAP_SYS_ADMIN in the user namespace owning the
// mount namespace; file systems that belong to the sandbox's single PID or
// network namespace (proc, sysfs) or to no namespace (devtmpfs) need it in
// the initial user namespace, as on Linux.
import { CAP_SYS_ADMIN, CAP_SYS_CHROOT } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import { S_IFDIR, S_IFMT } from '../abi/fs';
import {
  MNT_DETACH, MNT_EXPIRE, MNT_FORCE, MS_BIND, MS_MGC_MSK, MS_MGC_VAL, MS_MOVE, MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID,
  MS_NOSYMFOLLOW, MS_PRIVATE, MS_RDONLY, MS_RELATIME, MS_STRICTATIME,
  MS_REC, MS_REMOUNT, MS_SHARED, MS_SILENT, MS_SLAVE, MS_UNBINDABLE, UMOUNT_NOFOLLOW,
} from '../abi/mount';
import { capableInit, nsCapable, type UserNamespace } from '../auth/userns';
import type { Credentials } from '../auth/creds';
import type { Task } from '../kernel/task';
import type { Kernel } from '../kernel/kernel';
import { type SyscallDef } from '../kernel/syscall';
import { Dentry, Mount, samePath, type MountFlags, type VPath } from '../vfs/dentry';
import { attachAt, copyTree, detach, isUnder, setNs, subtree, topOf, type FsType, type MadeFs, type MountNamespace } from '../vfs/mount_ns';
import { attachTree, detachCopies, hasUnbindable, isShared, leavePropagation, propagatedUmounts } from '../vfs/propagate';
import { changeType as changePropagation } from '../vfs/propagation';
import type { FilesystemImpl } from '../vfs/inode';
import { checkAccess, MAY_EXEC } from '../vfs/perm';
import { NsInode } from '../fsimpl/proc/ns';
import { readPath, resolverOf, vfsOf } from './sysutil';

const MS_NOUSER = 0x80000000;
const PAGE = 4096;

/** may_mount(): CAP_SYS_ADMIN over the caller's mount namespace. */
export function mayMount(t: Task): void {
  if (!nsCapable(t.creds, t.nsproxy.mnt.owner, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  // A Landlock domain could be escaped by remounting the tree its rules name: no mount changes under one.
  if (t.creds.landlock) throw new Errno(E.EPERM);
}

function lookup(t: Task, path: string, follow = true): VPath {
  return vfsOf(t).resolve(resolverOf(t), t.fs.cwd, path, follow);
}

/** A string argument that may be NULL. */
function optString(t: Task, addr: number, max: number): string | null {
  return addr ? t.mm.readCString(addr, max) : null;
}

/** The data page of mount(2): up to a page, stopping at the first NUL (the rest may be unmapped). */
function readData(t: Task, addr: number): string {
  if (!addr) return '';
  let out = '';
  for (let off = 0; off < PAGE; off += 256) {
    let chunk: Buffer;
    try {
      chunk = t.mm.copyIn(addr + off, 256);
    } catch (e) {
      if (off === 0) throw e;
      break;
    }
    const nul = chunk.indexOf(0);
    out += chunk.subarray(0, nul < 0 ? chunk.length : nul).toString('latin1');
    if (nul >= 0) break;
  }
  return out;
}

export function isMountRoot(p: VPath): boolean {
  return p.dentry === p.mount.root;
}

/** The mount is in the caller's namespace (check_mnt). */
export function inOwnNs(t: Task, m: Mount): boolean {
  return m.ns === t.nsproxy.mnt;
}

/**
 * A mount's flags from mount(2)'s: relatime unless MS_NOATIME or
 * MS_STRICTATIME, MS_NODIRATIME and MS_NOSYMFOLLOW (remount() keeps the
 * atime choice when no atime flag is given, as Linux).
 */
function flagsFrom(ms: number): MountFlags {
  const f: MountFlags = { readonly: !!(ms & MS_RDONLY), nosuid: !!(ms & MS_NOSUID), nodev: !!(ms & MS_NODEV), noexec: !!(ms & MS_NOEXEC),
    nodiratime: !!(ms & MS_NODIRATIME), nosymfollow: !!(ms & MS_NOSYMFOLLOW) };
  if (ms & MS_NOATIME) f.atime = 'noatime';
  else if (ms & MS_STRICTATIME) f.atime = 'strictatime';
  return f;
}

/** A namespace with fewer privileges got m with these flags set: they stay set. */
export function checkLockedFlags(m: Mount, f: MountFlags): void {
  const l = m.lockedFlags;
  if (!l) return;
  if ((l.readonly && !f.readonly) || (l.nosuid && !f.nosuid) || (l.nodev && !f.nodev) || (l.noexec && !f.noexec)) throw new Errno(E.EPERM);
}

/** MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE, with MS_REC of the tree below too (do_change_type). */
function changeType(t: Task, p: VPath, ms: number): number {
  if (!isMountRoot(p)) throw new Errno(E.EINVAL);
  const type = ms & ~(MS_REC | MS_SILENT);
  if (type !== MS_PRIVATE && type !== MS_SLAVE && type !== MS_UNBINDABLE && type !== MS_SHARED) throw new Errno(E.EINVAL);
  if (!inOwnNs(t, p.mount)) throw new Errno(E.EINVAL);
  changePropagation(vfsOf(t).peers, ms & MS_REC ? subtree(p.mount) : [p.mount], type);
  return 0;
}

function remount(t: Task, p: VPath, ms: number, bind: boolean): number {
  if (!isMountRoot(p)) throw new Errno(E.EINVAL);
  if (!inOwnNs(t, p.mount)) throw new Errno(E.EINVAL);
  const f = flagsFrom(ms);
  // Without an atime flag a remount keeps the atime choice and nodiratime; with one it sets them all (relatime: no key).
  if (ms & (MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME)) f.atime = f.atime ?? undefined;
  else delete f.nodiratime;
  checkLockedFlags(p.mount, f);
  // A remount of the file system (no MS_BIND) needs CAP_SYS_ADMIN over the user namespace owning it.
  if (!bind && !nsCapable(t.creds, p.mount.fsOwner ?? t.creds.userns.root, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  // MS_RDONLY in a remount of the file system is its own flag as well (Linux's reconfigure_super), which may refuse.
  if (!bind) p.mount.fs.setReadonly?.(f.readonly);
  Object.assign(p.mount.flags, f);
  return 0;
}

function bindMount(t: Task, source: string | null, target: VPath, ms: number): number {
  if (!source) throw new Errno(E.EINVAL);
  const src = lookup(t, source);
  const top = topOf(target);
  if (!inOwnNs(t, top.mount)) throw new Errno(E.EINVAL);
  checkBindable(t, src, (ms & MS_REC) !== 0);
  if (((top.dentry.inode.mode & S_IFMT) === S_IFDIR) !== ((src.dentry.inode.mode & S_IFMT) === S_IFDIR)) throw new Errno(E.ENOTDIR);
  attachTree(vfsOf(t), cloneForBind(t, src, (ms & MS_REC) !== 0), top.mount, top.dentry);
  return 0;
}

/** The checks of a bind mount's source (__do_loopback; open_tree's clone too). */
export function checkBindable(t: Task, src: VPath, recursive: boolean): void {
  if (src.mount.unbindable) throw new Errno(E.EINVAL);
  // A namespace file (/proc/PID/ns/*) may be bound anywhere: that keeps a namespace at hand, as `unshare --mount=FILE` does.
  if (!inOwnNs(t, src.mount) && !(src.dentry.inode instanceof NsInode)) throw new Errno(E.EINVAL);
  // A plain bind would uncover what locked mounts below the source hide.
  if (!recursive && [...src.mount.children.values()].some((c) => c.locked && c.mountpoint && isUnder(c.mountpoint, src.dentry))) throw new Errno(E.EINVAL);
}

/** A copy of the mount (and with recursive what is below it) at src, attached nowhere yet. */
export function cloneForBind(t: Task, src: VPath, recursive: boolean): Mount {
  const m = copyTree(vfsOf(t), src.mount, src.dentry, recursive, new Map(), true);
  // The new mount itself is the caller's to unmount; locked mounts copied below it stay locked.
  m.locked = false;
  return m;
}

function moveMount(t: Task, source: string | null, target: VPath): number {
  if (!source) throw new Errno(E.EINVAL);
  return moveMountFrom(t, lookup(t, source), target);
}

/** Move the mount whose root src is onto target (do_move_mount for an attached mount). */
export function moveMountFrom(t: Task, src: VPath, target: VPath): number {
  if (!isMountRoot(src) || !inOwnNs(t, src.mount) || !inOwnNs(t, target.mount)) throw new Errno(E.EINVAL);
  if (src.mount.locked || !src.mount.parent) throw new Errno(E.EINVAL);
  const top = topOf(target);
  // A directory onto a file or the reverse: EINVAL here (a bind mount's is ENOTDIR).
  if (((top.dentry.inode.mode & S_IFMT) === S_IFDIR) !== ((src.dentry.inode.mode & S_IFMT) === S_IFDIR)) throw new Errno(E.EINVAL);
  // A mount whose parent is shared stays where its peers' copies are; a tree with unbindable mounts is not copied into peers.
  if (src.mount.parent && isShared(src.mount.parent)) throw new Errno(E.EINVAL);
  if (isShared(top.mount) && hasUnbindable(src.mount)) throw new Errno(E.EINVAL);
  // Moving a mount below itself would cut it loose from the tree.
  if (subtree(src.mount).includes(top.mount)) throw new Errno(E.ELOOP);
  const from = src.mount.parent;
  const fromMp = src.mount.mountpoint;
  detach(src.mount);
  try {
    attachTree(vfsOf(t), src.mount, top.mount, top.dentry);
  } catch (e) {
    // Too many copies for a namespace (ENOSPC): the mount stays where it was.
    if (fromMp) attachAt(src.mount, from, fromMp);
    throw e;
  }
  return 0;
}

/** Make a file system of type for mount(2) or fsconfig(FSCONFIG_CMD_CREATE); owner: the user namespace owning it (null: the initial one). */
export function makeFs(t: Task, type: FsType, source: string, data: string, creds: Credentials, readonly = false): { made: MadeFs; owner: UserNamespace | null } {
  // Only a file system that may live in a user namespace (tmpfs, mqueue) is the mount namespace owner's to make.
  if (!type.userns && !capableInit(t.creds, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  const made = type.make(source, data, creds, t, readonly);
  // Such a file system belongs to a user namespace (the caller's, or for mqueue its IPC namespace's owner): CAP_SYS_ADMIN there.
  const owner = made.owner ?? creds.userns;
  if (type.userns && !nsCapable(t.creds, owner, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  return { made, owner: type.userns ? owner : null };
}

function newMount(t: Task, source: string | null, target: VPath, fstype: string | null, ms: number, data: string): number {
  if (!fstype) throw new Errno(E.EINVAL);
  const { made, owner } = makeFs(t, vfsOf(t).fsTypes.get(fstype), source ?? '', data, t.creds, (ms & MS_RDONLY) !== 0);
  const top = topOf(target);
  if ((top.dentry.inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
  if (!inOwnNs(t, top.mount)) throw new Errno(E.EINVAL);
  // MS_RDONLY makes a new file system read-only itself (SB_RDONLY), besides the mount.
  if (ms & MS_RDONLY) made.fs.setReadonly?.(true);
  vfsOf(t).mount(made.fs, top, flagsFrom(ms), made.root ?? undefined, { source: source ?? 'none', fsOwner: owner });
  return 0;
}

function mount(t: Task, a: number[]): number {
  const source = optString(t, a[0], PAGE);
  const targetPath = readPath(t, a[1]);
  const fstype = optString(t, a[2], PAGE);
  let ms = a[3] >>> 0;
  const data = readData(t, a[4]);
  const target = lookup(t, targetPath);
  // The magic number old callers put in the top half (unsigned: JavaScript's & is signed).
  if ((ms & MS_MGC_MSK) >>> 0 === MS_MGC_VAL) ms = (ms & ~MS_MGC_MSK) >>> 0;
  if (ms & MS_NOUSER) throw new Errno(E.EINVAL);
  mayMount(t);
  if ((ms & (MS_REMOUNT | MS_BIND)) === (MS_REMOUNT | MS_BIND)) return remount(t, target, ms, true);
  if (ms & MS_REMOUNT) return remount(t, target, ms, false);
  if (ms & MS_BIND) return bindMount(t, source, target, ms);
  if (ms & (MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)) return changeType(t, target, ms);
  if (ms & MS_MOVE) return moveMount(t, source, target);
  return newMount(t, source, target, fstype, ms, data);
}

/** Something holds a place inside m itself: a working directory, a root, an open file (mappings are not counted). */
function busy(t: Task, m: Mount): boolean {
  for (const x of t.kernel.tasks.values()) {
    if (x.state === 'dead') continue;
    if (x.fs.cwd.mount === m || x.fs.root.mount === m) return true;
    // O_PATH descriptors hold their mount too.
    for (const fd of x.fdTable.fds()) if (x.fdTable.getRaw(fd).path?.mount === m) return true;
  }
  return false;
}

function umount2(t: Task, a: number[]): number {
  const flags = a[1] | 0;
  if (flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) throw new Errno(E.EINVAL);
  mayMount(t);
  // Like Linux's path_mountpoint: the mount on top of the final place, whatever "." or ".." reached.
  const p = topOf(lookup(t, readPath(t, a[0]), !(flags & UMOUNT_NOFOLLOW)));
  const m = p.mount;
  if (!isMountRoot(p) || !inOwnNs(t, m) || m.locked) throw new Errno(E.EINVAL);
  if (flags & MNT_FORCE && !capableInit(t.creds, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  if (!m.parent) throw new Errno(E.EINVAL);
  if (flags & MNT_EXPIRE) {
    if (m === t.fs.root.mount || flags & (MNT_FORCE | MNT_DETACH)) throw new Errno(E.EINVAL);
    if (m.children.size || busy(t, m)) throw new Errno(E.EBUSY);
    if (!m.expiring) {
      m.expiring = true;
      throw new Errno(E.EAGAIN);
    }
  }
  if (!(flags & MNT_DETACH)) {
    if (m === t.fs.root.mount || m.children.size || busy(t, m)) throw new Errno(E.EBUSY);
  }
  // The copies at the same place in the parent's peers and slaves go too, where nothing else is mounted on them.
  const copies = propagatedUmounts(flags & MNT_DETACH ? subtree(m) : [m]);
  if (!(flags & MNT_DETACH) && copies.some((c) => busy(t, c))) throw new Errno(E.EBUSY);
  const all = subtree(m);
  detach(m);
  all.push(...detachCopies(copies));
  leavePropagation(vfsOf(t).peers, all);
  // Lazily: the tree goes now, what still uses it keeps it until done.
  const gone = all.filter((x) => !(flags & MNT_DETACH && busy(t, x))).map((x) => x.fs);
  // A file system mounted nowhere else is shut down: inotify tells its watches (IN_UNMOUNT).
  for (const fs of new Set(gone)) {
    if (mountedAnywhere(t.kernel, fs)) continue;
    vfsOf(t).notify.unmounted(fs);
    fs.shutdown?.();
  }
  return 0;
}

/** Is fs mounted in any mount namespace a task is in? */
export function mountedAnywhere(kernel: Kernel, fs: FilesystemImpl): boolean {
  const seen = new Set<MountNamespace>();
  for (const x of kernel.tasks.values()) {
    const ns = x.nsproxy.mnt;
    if (seen.has(ns)) continue;
    seen.add(ns);
    if (subtree(ns.root).some((mm) => mm.fs === fs)) return true;
  }
  return false;
}

function pivotRoot(t: Task, a: number[]): number {
  mayMount(t);
  const dirOnly = (p: VPath): VPath => {
    if ((p.dentry.inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
    return p;
  };
  const nw = dirOnly(lookup(t, readPath(t, a[0])));
  const old = topOf(dirOnly(lookup(t, readPath(t, a[1]))));
  const root = t.fs.root;
  const ns = t.nsproxy.mnt;
  const newMnt = nw.mount;
  const rootMnt = root.mount;
  if (!inOwnNs(t, rootMnt) || !inOwnNs(t, newMnt) || newMnt.locked) throw new Errno(E.EINVAL);
  if (nw.dentry.dead) throw new Errno(E.ENOENT);
  if (newMnt === rootMnt || old.mount === rootMnt) throw new Errno(E.EBUSY);
  // The root must be a mount's root and attached (or the namespace's root); new_root too.
  if (!isMountRoot(root) || (!rootMnt.parent && ns.root !== rootMnt)) throw new Errno(E.EINVAL);
  if (!isMountRoot(nw) || !newMnt.parent) throw new Errno(E.EINVAL);
  if (!reachable(old, nw) || !reachable(nw, root)) throw new Errno(E.EINVAL);
  // Moves under or out of shared mounts would have to propagate.
  if (isShared(old.mount) || (newMnt.parent && isShared(newMnt.parent)) || (rootMnt.parent && isShared(rootMnt.parent))) throw new Errno(E.EINVAL);
  const rootParent = rootMnt.parent;
  const rootMp = rootMnt.mountpoint;
  detach(newMnt);
  if (rootParent && rootMp) rootParent.children.delete(rootMp);
  if (rootMnt.locked) {
    newMnt.locked = true;
    rootMnt.locked = false;
  }
  rootMnt.parent = null;
  rootMnt.mountpoint = null;
  attachAt(rootMnt, old.mount, old.dentry);
  if (rootParent && rootMp) attachAt(newMnt, rootParent, rootMp);
  else {
    ns.root = newMnt;
    for (const x of subtree(newMnt)) setNs(x, ns);
  }
  // Every task whose root or working directory was the old root now has the new one.
  const to: VPath = { mount: newMnt, dentry: newMnt.root };
  for (const x of t.kernel.tasks.values()) {
    if (x.nsproxy.mnt !== ns) continue;
    if (samePath(x.fs.root, root)) x.fs.root = to;
    if (samePath(x.fs.cwd, root)) x.fs.cwd = to;
  }
  return 0;
}

/** p can be reached by walking down from base (is_path_reachable). */
function reachable(p: VPath, base: VPath): boolean {
  let m: Mount = p.mount;
  let d: Dentry = p.dentry;
  for (;;) {
    if (m === base.mount) return isUnder(d, base.dentry);
    if (!m.parent || !m.mountpoint) return false;
    d = m.mountpoint;
    m = m.parent;
  }
}

function chroot(t: Task, a: number[]): number {
  const p = lookup(t, readPath(t, a[0]));
  if ((p.dentry.inode.mode & S_IFMT) !== S_IFDIR) throw new Errno(E.ENOTDIR);
  checkAccess(t.creds, p.dentry.inode.attrs(), MAY_EXEC);
  if (!nsCapable(t.creds, t.creds.userns, CAP_SYS_CHROOT)) throw new Errno(E.EPERM);
  t.fs.root = p;
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 165, name: 'mount', args: ['str', 'str', 'str', 'hex', 'ptr'], fn: mount,
    partial: 'file systems: tmpfs, proc, sysfs, devtmpfs (the sandbox\'s own), mqueue (the caller\'s IPC namespace\'s), cgroup2 (the sandbox\'s one hierarchy, from the mounter\'s cgroup namespace root; controllers pids and memory enforced, cpu.max enforced from looks at the subtree\'s CPU time once a period (at least 10 ms apart: a burst may overrun one period\'s quota, the share over a few periods is Linux\'s), cpu.weight kept but not enforced; cgroup.freeze, cgroup.kill and delegation (chown/chmod of cgroup files, the write check on the common ancestor\'s cgroup.procs, nsdelegate\'s namespace boundary) as Linux (the file opener\'s credentials and cgroup namespace count, as they are at the write rather than as they were at the open); threaded cgroups (cgroup.type, cgroup.threads, pids and cpu as the threaded controllers) as Linux, but /proc/PID/task/TID/cgroup names the process\'s cgroup, not a thread\'s; cgroup.events changes raise no poll or inotify event; no pressure files), overlay (lowerdir, lowerdir+, upperdir and workdir on a tmpfs of the sandbox, userxattr, volatile, default_permissions; redirect_dir, index, xino, metacopy, nfs_export, uuid and verity other than off, and data-only lower layers are EINVAL, as is an upperdir on the root overlay or a host directory; mountinfo shows no lowerdir=/upperdir= options), ext2 (fsimpl/ext2, from a loop device of the sandbox: revision 1 with the filetype, sparse_super, large_file and flex_bg features; any other INCOMPAT feature (extent, 64bit, meta_bg, needs_recovery, inline_data...) is EINVAL, any other RO_COMPAT feature makes a writable mount EINVAL; no journal, so ext3 and ext4 are not offered; no extended attributes (EOPNOTSUPP) nor O_TMPFILE; htree indexes are not used for lookups and a changed indexed directory drops its index, as Linux\'s ext2 does; no grpid/resuid/resgid/sb= options; a sandbox that ends with it mounted leaves the disk marked not clean, as a crash does); propagation (shared, slave, private, unbindable) as Linux\'s shared subtrees, each namespace holding at most 100000 mounts (fs.mount-max, ENOSPC); a remount changes the mount\'s flags, not the file system\'s' },
  { nr: 166, name: 'umount2', args: ['str', 'int'], fn: umount2,
    partial: 'EBUSY counts working directories, roots and open files in the mount, not memory mappings; MNT_FORCE unmounts as a plain umount' },
  { nr: 155, name: 'pivot_root', args: ['str', 'str'], fn: pivotRoot },
  { nr: 161, name: 'chroot', args: ['str'], fn: chroot },
];
