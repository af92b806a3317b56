// Linux's new mount API (Linux 5.2; mount_setattr 5.12, open_tree_attr
// 6.15) over the same mount trees as mount(2) (sys_mount.ts): fsopen and
// fsconfig build a file system in a context descriptor, fsmount turns it
// into a detached mount, open_tree(OPEN_TREE_CLONE) copies a mount (or a
// tree) into one, move_mount attaches a detached tree or moves an attached
// mount, fspick reconfigures a mounted file system, mount_setattr changes
// mount attributes. Every change needs CAP_SYS_ADMIN over the caller's mount
// namespace, as mount(2).
import { E, Errno } from '../abi/errno';
import { AT_EMPTY_PATH, AT_FDCWD, AT_NO_AUTOMOUNT, AT_SYMLINK_NOFOLLOW, O_CLOEXEC, O_PATH, S_IFDIR, S_IFMT } from '../abi/fs';
import {
  AT_RECURSIVE, FSCONFIG_CMD_CREATE, FSCONFIG_CMD_CREATE_EXCL, FSCONFIG_CMD_RECONFIGURE, FSCONFIG_SET_BINARY, FSCONFIG_SET_FD, FSCONFIG_SET_FLAG,
  FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY, FSCONFIG_SET_STRING, FSMOUNT_ATTRS, FSMOUNT_CLOEXEC, FSOPEN_CLOEXEC, FSPICK_CLOEXEC, FSPICK_EMPTY_PATH,
  FSPICK_NO_AUTOMOUNT, FSPICK_SYMLINK_NOFOLLOW, MOVE_MOUNT_BENEATH, MOVE_MOUNT_F_EMPTY_PATH, MOVE_MOUNT_F_SYMLINKS, MOVE_MOUNT_MASK,
  MOVE_MOUNT_SET_GROUP, MOVE_MOUNT_T_EMPTY_PATH, MOVE_MOUNT_T_SYMLINKS, OPEN_TREE_CLONE, MOUNT_ATTR__ATIME, MOUNT_ATTR_NOATIME, MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSYMFOLLOW, MOUNT_ATTR_RDONLY, MOUNT_ATTR_RELATIME, MOUNT_ATTR_STRICTATIME,
} from '../abi/newmount';
import { CAP_SYS_ADMIN } from '../abi/capability';
import { nsCapable } from '../auth/userns';
import type { Task } from '../kernel/task';
import { type SyscallDef } from '../kernel/syscall';
import { Dentry, Mount, type MountFlags, type VPath } from '../vfs/dentry';
import { PathFile } from '../vfs/file';
import { attachAt, detach, isUnder, subtree, topOf } from '../vfs/mount_ns';
import { attachTree, hasUnbindable, isShared, leavePropagation, masterOf } from '../vfs/propagate';
import { joinPropagation } from '../vfs/propagation';
import { DetachedTree, FsContextFile, MountTreeFile, stillDetached, type ParamKind } from '../fsimpl/fscontext/fscontext';
import { checkBindable, checkLockedFlags, cloneForBind, inOwnNs, isMountRoot, makeFs, mayMount, mountedAnywhere, moveMountFrom } from './sys_mount';
import { readPath, resolveAt, vfsOf } from './sysutil';

const PAGE = 4096;
/** fsconfig's key and string value: at most 255 bytes and the NUL (strndup_user(_, 256)). */
const PARAM_MAX = 256;
/** FSCONFIG_SET_BINARY's largest value. */
const BINARY_MAX = 1024 * 1024;

/**
 * A mount's flags as bits: the MOUNT_ATTR_ bits, with relatime as a bit of
 * its own (Linux's MNT_RELATIME; strictatime is neither it nor noatime).
 */
export const RELATIME_BIT = 0x40;

export function toBits(f: MountFlags): number {
  return (f.readonly ? MOUNT_ATTR_RDONLY : 0) | (f.nosuid ? MOUNT_ATTR_NOSUID : 0) | (f.nodev ? MOUNT_ATTR_NODEV : 0) | (f.noexec ? MOUNT_ATTR_NOEXEC : 0) |
    (f.atime === 'noatime' ? MOUNT_ATTR_NOATIME : f.atime === 'strictatime' ? 0 : RELATIME_BIT) | (f.nodiratime ? MOUNT_ATTR_NODIRATIME : 0) |
    (f.nosymfollow ? MOUNT_ATTR_NOSYMFOLLOW : 0);
}

export function fromBits(b: number): MountFlags {
  const f: MountFlags = { readonly: !!(b & MOUNT_ATTR_RDONLY), nosuid: !!(b & MOUNT_ATTR_NOSUID), nodev: !!(b & MOUNT_ATTR_NODEV), noexec: !!(b & MOUNT_ATTR_NOEXEC) };
  if (b & MOUNT_ATTR_NOATIME) f.atime = 'noatime';
  else if (!(b & RELATIME_BIT)) f.atime = 'strictatime';
  if (b & MOUNT_ATTR_NODIRATIME) f.nodiratime = true;
  if (b & MOUNT_ATTR_NOSYMFOLLOW) f.nosymfollow = true;
  return f;
}

/** The atime choice of MOUNT_ATTR__ATIME's bits as flag bits (EINVAL for the unused values). */
export function atimeBits(attr: number): number {
  switch (attr & MOUNT_ATTR__ATIME) {
    case MOUNT_ATTR_RELATIME: return RELATIME_BIT;
    case MOUNT_ATTR_NOATIME: return MOUNT_ATTR_NOATIME;
    case MOUNT_ATTR_STRICTATIME: return 0;
    default: throw new Errno(E.EINVAL);
  }
}

/** fsmount's attr_flags as a new mount's flags. */
export function attrFlags(attrs: number): MountFlags {
  return fromBits((attrs & ~MOUNT_ATTR__ATIME) | atimeBits(attrs));
}

/** A string argument as Linux's strndup_user copies it: EFAULT when unreadable, EINVAL when longer than max with its NUL. */
function userString(t: Task, addr: number, max: number): string {
  if (!addr) throw new Errno(E.EFAULT);
  try {
    return t.mm.readCString(addr, max);
  } catch (e) {
    if (e instanceof Errno && e.errno === E.ENAMETOOLONG) throw new Errno(E.EINVAL);
    throw e;
  }
}

/** (dirfd, path) with AT_EMPTY_PATH-like and follow choices, as the new calls resolve them. */
export function lookupAt(t: Task, dirfd: number, pathAddr: number, emptyPath: boolean, follow: boolean): VPath {
  const path = readPath(t, pathAddr);
  const r = resolveAt(t, dirfd, path, (emptyPath ? AT_EMPTY_PATH : 0) | (follow ? 0 : AT_SYMLINK_NOFOLLOW));
  // A descriptor without a place (a pipe, a context): Linux finds its internal mount, never one of a namespace.
  if (!r.p) throw new Errno(E.EINVAL);
  return r.p;
}

function contextOf(t: Task, fd: number): FsContextFile {
  const f = t.fdTable.getRaw(fd);
  if (!(f instanceof FsContextFile)) throw new Errno(E.EINVAL);
  return f;
}

function fsopen(t: Task, a: number[]): number {
  mayMount(t);
  const flags = a[1] >>> 0;
  if (flags & ~FSOPEN_CLOEXEC) throw new Errno(E.EINVAL);
  const name = userString(t, a[0], PAGE);
  const type = vfsOf(t).fsTypes.get(name);
  const f = new FsContextFile(name, type, null, t.creds, 0, t.heapBudget);
  return t.fdTable.install(f, (flags & FSOPEN_CLOEXEC) !== 0);
}

function fspick(t: Task, a: number[]): number {
  mayMount(t);
  const flags = a[2] >>> 0;
  if (flags & ~(FSPICK_CLOEXEC | FSPICK_SYMLINK_NOFOLLOW | FSPICK_NO_AUTOMOUNT | FSPICK_EMPTY_PATH)) throw new Errno(E.EINVAL);
  const p = lookupAt(t, a[0], a[1], (flags & FSPICK_EMPTY_PATH) !== 0, !(flags & FSPICK_SYMLINK_NOFOLLOW));
  if (!isMountRoot(p)) throw new Errno(E.EINVAL);
  const name = p.mount.fs.name;
  const types = vfsOf(t).fsTypes;
  const type = types.names().includes(name) ? types.get(name) : null;
  const f = new FsContextFile(name, type, p.mount, t.creds, 0, t.heapBudget);
  return t.fdTable.install(f, (flags & FSPICK_CLOEXEC) !== 0);
}

/** fsconfig's argument rules per command (before the descriptor is looked at, as Linux orders them). */
function checkConfigArgs(cmd: number, key: number, value: number, aux: number): void {
  const bad = (() => {
    switch (cmd) {
      case FSCONFIG_SET_FLAG: return !key || value !== 0 || aux !== 0;
      case FSCONFIG_SET_STRING: return !key || !value || aux !== 0;
      case FSCONFIG_SET_BINARY: return !key || !value || aux <= 0 || aux > BINARY_MAX;
      case FSCONFIG_SET_PATH:
      case FSCONFIG_SET_PATH_EMPTY: return !key || !value || (aux !== AT_FDCWD && aux < 0);
      case FSCONFIG_SET_FD: return !key || value !== 0 || aux < 0;
      case FSCONFIG_CMD_CREATE:
      case FSCONFIG_CMD_CREATE_EXCL:
      case FSCONFIG_CMD_RECONFIGURE: return key !== 0 || value !== 0 || aux !== 0;
      default: throw new Errno(E.EOPNOTSUPP);
    }
  })();
  if (bad) throw new Errno(E.EINVAL);
}

function fsconfig(t: Task, a: number[]): number {
  const fd = a[0] | 0;
  const cmd = a[1] >>> 0;
  const aux = a[4] | 0;
  if (fd < 0) throw new Errno(E.EINVAL);
  checkConfigArgs(cmd, a[2], a[3], aux);
  const c = contextOf(t, fd);
  if (cmd === FSCONFIG_CMD_CREATE || cmd === FSCONFIG_CMD_CREATE_EXCL) return create(t, c, cmd === FSCONFIG_CMD_CREATE_EXCL);
  if (cmd === FSCONFIG_CMD_RECONFIGURE) return reconfigure(t, c);
  const key = userString(t, a[2], PARAM_MAX);
  let kind: ParamKind;
  let value: string | null = null;
  switch (cmd) {
    case FSCONFIG_SET_FLAG: kind = 'flag'; break;
    case FSCONFIG_SET_STRING: kind = 'string'; value = userString(t, a[3], PARAM_MAX); break;
    // Copied (EFAULT) and dropped: no file system here takes a binary value.
    case FSCONFIG_SET_BINARY: kind = 'binary'; t.mm.copyIn(a[3], aux); break;
    // A path is kept as a name by Linux, resolved by the file system that takes one (none here).
    case FSCONFIG_SET_PATH:
    case FSCONFIG_SET_PATH_EMPTY: kind = 'path'; t.mm.readCString(a[3], 4096); break;
    default: kind = 'fd'; t.fdTable.getRaw(aux); break;
  }
  c.param(key, kind, value);
  return 0;
}

/** FSCONFIG_CMD_CREATE: make the file system from the parameters (mount(2)'s make, with the opener's credentials for IDs). */
function create(t: Task, c: FsContextFile, exclusive: boolean): number {
  if (c.phase !== 'create-params' || !c.type) throw new Errno(E.EBUSY);
  try {
    const { made, owner } = makeFs(t, c.type, c.source ?? '', c.options.join(','), c.creds, c.rdonly === true);
    // FSCONFIG_CMD_CREATE_EXCL: a single-instance type (sysfs, mqueue of a namespace) already mounted is reused, which it refuses.
    // Linux makes a new proc superblock per mount; here the PID namespace's one instance stands for it.
    if (exclusive && c.fsName !== 'proc' && mountedAnywhere(t.kernel, made.fs)) throw c.fail(E.EBUSY, 'reusing existing filesystem not allowed', true, 'w');
    // "ro" is the new file system's own flag where it has one (tmpfs), as Linux's SB_RDONLY.
    if (c.rdonly !== null && made.fs.setReadonly) made.fs.setReadonly(c.rdonly);
    c.made = { fs: made, owner };
  } catch (e) {
    // Refused for want of privilege, the context stays as it was (Linux checks before it starts).
    if (!(e instanceof Errno) || e.errno !== E.EPERM) c.phase = 'failed';
    // Types without a parameter check (FsType.check) refuse a bad one only here, the whole option string at once.
    if (e instanceof Errno && e.errno === E.EINVAL) throw c.fail(E.EINVAL, 'Invalid parameters');
    throw e;
  }
  c.phase = 'awaiting-mount';
  return 0;
}

/**
 * FSCONFIG_CMD_RECONFIGURE of a picked mount: ro and rw change the file
 * system's own read-only flag (every mount of it) where it has one (tmpfs),
 * else the mount's, as a remount does here; other parameters are accepted
 * and change nothing, as mount(2)'s remount data.
 */
function reconfigure(t: Task, c: FsContextFile): number {
  const m = c.picked;
  if (c.phase !== 'reconf-params' || !m) throw new Errno(E.EBUSY);
  if (!nsCapable(t.creds, m.fsOwner ?? t.creds.userns.root, CAP_SYS_ADMIN)) {
    c.phase = 'failed';
    throw new Errno(E.EPERM);
  }
  if (c.rdonly !== null && m.fs.setReadonly) m.fs.setReadonly(c.rdonly);
  else if (c.rdonly !== null) {
    const f = { ...m.flags, readonly: c.rdonly };
    checkLockedFlags(m, f);
    m.flags.readonly = c.rdonly;
  }
  // Linux cleans the context for the next round: the flags given so far are spent.
  c.spend();
  return 0;
}

function fsmount(t: Task, a: number[]): number {
  mayMount(t);
  const flags = a[1] >>> 0;
  const attrs = a[2] >>> 0;
  if (flags & ~FSMOUNT_CLOEXEC) throw new Errno(E.EINVAL);
  if (attrs & ~FSMOUNT_ATTRS) throw new Errno(E.EINVAL);
  const mf = attrFlags(attrs);
  const c = contextOf(t, a[0] | 0);
  if (!c.made && !c.picked) throw new Errno(E.EINVAL);
  if (c.phase !== 'awaiting-mount' || !c.made) throw new Errno(E.EBUSY);
  const { fs, owner } = c.made;
  const root = fs.root ?? new Dentry(fs.fs.root(), '', null);
  const m = new Mount(vfsOf(t).allocMountId(), fs.fs, root, null, null, { ...mf, readonly: mf.readonly || (c.rdonly === true && !fs.fs.setReadonly) });
  m.source = c.source ?? 'none';
  m.fsOwner = owner;
  c.phase = 'mounted';
  return installTree(t, m, (flags & FSMOUNT_CLOEXEC) !== 0);
}

/** Give a detached tree its anonymous namespace and a descriptor; the tree goes when the last reference does, unless attached. */
export function installTree(t: Task, m: Mount, cloexec: boolean): number {
  if (!stillDetached(m)) new DetachedTree(m, t.nsproxy.mnt.owner);
  // Over the kernel, not the task: the descriptor may outlive its opener.
  const kernel = t.kernel;
  const f = new MountTreeFile(m, O_PATH, (tree) => {
    const all = subtree(tree);
    const fses = new Set(all.map((x) => x.fs));
    detach(tree);
    leavePropagation(kernel.vfs.peers, all);
    // A file system mounted nowhere else is shut down: inotify tells its watches (IN_UNMOUNT), as umount2 does.
    for (const fs of fses) if (!mountedAnywhere(kernel, fs)) kernel.vfs.notify.unmounted(fs);
  });
  return t.fdTable.install(f, cloexec);
}

/** open_tree's checks and the tree (a clone) or the location (without OPEN_TREE_CLONE). */
export function openTreeOf(t: Task, dirfd: number, pathAddr: number, flags: number): { clone: Mount | null; p: VPath } {
  if (flags & ~(AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW | OPEN_TREE_CLONE | O_CLOEXEC)) throw new Errno(E.EINVAL);
  if ((flags & (AT_RECURSIVE | OPEN_TREE_CLONE)) === AT_RECURSIVE) throw new Errno(E.EINVAL);
  const clone = (flags & OPEN_TREE_CLONE) !== 0;
  if (clone) mayMount(t);
  const p = lookupAt(t, dirfd, pathAddr, (flags & AT_EMPTY_PATH) !== 0, !(flags & AT_SYMLINK_NOFOLLOW));
  if (!clone) return { clone: null, p };
  const recursive = (flags & AT_RECURSIVE) !== 0;
  checkBindable(t, p, recursive);
  const m = cloneForBind(t, p, recursive);
  new DetachedTree(m, t.nsproxy.mnt.owner);
  return { clone: m, p };
}

export function installOpenTree(t: Task, r: { clone: Mount | null; p: VPath }, flags: number): number {
  const cloexec = (flags & O_CLOEXEC) !== 0;
  if (r.clone) return installTree(t, r.clone, cloexec);
  return t.fdTable.install(new PathFile(r.p, r.p.dentry.inode, O_PATH), cloexec);
}

function openTree(t: Task, a: number[]): number {
  const flags = a[2] >>> 0;
  return installOpenTree(t, openTreeOf(t, a[0], a[1], flags), flags);
}

function moveMount(t: Task, a: number[]): number {
  mayMount(t);
  const flags = a[4] >>> 0;
  if (flags & ~MOVE_MOUNT_MASK) throw new Errno(E.EINVAL);
  if ((flags & (MOVE_MOUNT_BENEATH | MOVE_MOUNT_SET_GROUP)) === (MOVE_MOUNT_BENEATH | MOVE_MOUNT_SET_GROUP)) throw new Errno(E.EINVAL);
  const from = lookupAt(t, a[0], a[1], (flags & MOVE_MOUNT_F_EMPTY_PATH) !== 0, (flags & MOVE_MOUNT_F_SYMLINKS) !== 0);
  const to = lookupAt(t, a[2], a[3], (flags & MOVE_MOUNT_T_EMPTY_PATH) !== 0, (flags & MOVE_MOUNT_T_SYMLINKS) !== 0);
  if (flags & MOVE_MOUNT_SET_GROUP) return setGroup(t, from, to);
  if (flags & MOVE_MOUNT_BENEATH) return mountBeneath(t, from, to);
  if (!stillDetached(from.mount)) return moveMountFrom(t, from, to);
  if (!isMountRoot(from) || !inOwnNs(t, to.mount)) throw new Errno(E.EINVAL);
  const top = topOf(to);
  if (((top.dentry.inode.mode & S_IFMT) === S_IFDIR) !== ((from.dentry.inode.mode & S_IFMT) === S_IFDIR)) throw new Errno(E.EINVAL);
  if (isShared(top.mount) && hasUnbindable(from.mount)) throw new Errno(E.EINVAL);
  attachTree(vfsOf(t), from.mount, top.mount, top.dentry);
  return 0;
}

/**
 * MOVE_MOUNT_SET_GROUP (Linux 5.15, do_set_group): the private mount at to
 * joins from's peer group and receives from from's master, as CRIU restores
 * sharing. Both must be mount roots of the same file system in the
 * caller's namespace, to's root inside from's, with nothing locked hidden.
 */
function setGroup(t: Task, from: VPath, to: VPath): number {
  const src = from.mount;
  const dst = to.mount;
  if (!isMountRoot(from) || !isMountRoot(to)) throw new Errno(E.EINVAL);
  if (!inOwnNs(t, src) || !inOwnNs(t, dst)) throw new Errno(E.EINVAL);
  if (src.fs !== dst.fs || !isUnder(dst.root, src.root)) throw new Errno(E.EINVAL);
  if ([...src.children.values()].some((c) => c.locked && c.mountpoint && isUnder(c.mountpoint, dst.root))) throw new Errno(E.EINVAL);
  if (isShared(dst) || masterOf(dst)) throw new Errno(E.EINVAL);
  joinPropagation(vfsOf(t).peers, src, dst);
  return 0;
}

/**
 * MOVE_MOUNT_BENEATH (Linux 6.5): put the mount at from between the top
 * mount at to and what it is mounted on, so that unmounting the top
 * uncovers it. The top must be a mount root with a parent, not locked, not
 * the caller's root; from must not be below it or covered.
 */
function mountBeneath(t: Task, from: VPath, to: VPath): number {
  const src = from.mount;
  const top = to.mount;
  const detached = stillDetached(src);
  if (!isMountRoot(from) || (!detached && (!inOwnNs(t, src) || !src.parent || src.locked))) throw new Errno(E.EINVAL);
  const parent = top.parent;
  const mp = top.mountpoint;
  if (!inOwnNs(t, top) || !isMountRoot(to) || !parent || !mp || top.locked) throw new Errno(E.EINVAL);
  // Linux also refuses a top mounted right on the namespace's rootfs; here no rootfs lies below "/", whose mount has no parent.
  if (src.children.has(from.dentry) || top === t.fs.root.mount) throw new Errno(E.EINVAL);
  for (let p: Mount | null = src; p; p = p.parent) if (p === top) throw new Errno(E.EINVAL);
  if (((to.dentry.inode.mode & S_IFMT) === S_IFDIR) !== ((from.dentry.inode.mode & S_IFMT) === S_IFDIR)) throw new Errno(E.EINVAL);
  // Beneath a mount inside the moved tree would cut the tree loose.
  if (subtree(src).includes(parent)) throw new Errno(E.ELOOP);
  if (!detached) detach(src);
  parent.children.delete(mp);
  top.parent = null;
  top.mountpoint = null;
  attachAt(src, parent, mp);
  attachAt(top, src, src.root);
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 428, name: 'open_tree', args: ['fd', 'str', 'hex'], fn: openTree },
  { nr: 429, name: 'move_mount', args: ['fd', 'str', 'fd', 'str', 'hex'], fn: moveMount,
    partial: 'MOVE_MOUNT_BENEATH does not propagate the slid mount to the parent\'s peers (Linux does)' },
  { nr: 430, name: 'fsopen', args: ['str', 'hex'], fn: fsopen,
    partial: 'the file system types of mount(2) (tmpfs, proc, sysfs, devtmpfs, mqueue, cgroup2); the context\'s messages are those of the errors it reports itself' },
  { nr: 431, name: 'fsconfig', args: ['fd', 'int', 'str', 'ptr', 'int'], fn: fsconfig,
    partial: 'tmpfs\'s parameters are checked as they are set, as Linux does, with its messages; those of the other types (proc, mqueue, sysfs, devtmpfs and cgroup2 take none but the superblock flags) when FSCONFIG_CMD_CREATE makes the file system: an unknown key fails there with EINVAL; binary, path and fd values are taken only for the superblock flags (no file system here has parameters of those kinds); FSCONFIG_CMD_CREATE_EXCL refuses a file system mounted already (sysfs, devtmpfs, cgroup2, a namespace\'s mqueue; not proc, new on Linux at each mount); ro and rw are the file system\'s own flag on tmpfs (before FSCONFIG_CMD_CREATE or in a FSCONFIG_CMD_RECONFIGURE), on the other types the mount\'s, as a remount does here; FSCONFIG_CMD_RECONFIGURE changes nothing else' },
  { nr: 432, name: 'fsmount', args: ['fd', 'hex', 'hex'], fn: fsmount,
    partial: 'a context given "ro" makes a read-only mount (file systems keep no read-only flag apart from their mounts here): writes fail with EROFS as on Linux, but mountinfo\'s mount options say ro where Linux\'s say rw (its superblock options ro)' },
  { nr: 433, name: 'fspick', args: ['fd', 'str', 'hex'], fn: fspick },
];
