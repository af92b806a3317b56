// mount_setattr(2) and open_tree_attr: struct mount_attr (extensible,
// read through copyStructIn) sets and clears mount attributes, of one mount
// or with AT_RECURSIVE of the tree below it, all or none: every mount is
// checked before any changes; the propagation field changes the type as
// mount(2)'s MS_SHARED & co (vfs/propagation.ts).
import { E, Errno } from '../abi/errno';
import { AT_EMPTY_PATH, AT_NO_AUTOMOUNT, AT_SYMLINK_NOFOLLOW } from '../abi/fs';
import { MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_UNBINDABLE } from '../abi/mount';
import {
  AT_RECURSIVE, MOUNT_ATTR__ATIME, MOUNT_ATTR_IDMAP, MOUNT_ATTR_NOATIME, MOUNT_ATTR_NODEV, MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSYMFOLLOW, MOUNT_ATTR_RDONLY, MOUNT_ATTR_SIZE_VER0,
} from '../abi/newmount';
import type { Task } from '../kernel/task';
import type { Mount, MountFlags, VPath } from '../vfs/dentry';
import { subtree } from '../vfs/mount_ns';
import { changeType } from '../vfs/propagation';
import { NsInode } from '../fsimpl/proc/ns';
import { stillDetached } from '../fsimpl/fscontext/fscontext';
import { checkLockedFlags, inOwnNs, isMountRoot, mayMount } from './sys_mount';
import { atimeBits, fromBits, installOpenTree, lookupAt, openTreeOf, RELATIME_BIT, toBits } from './sys_newmount';
import type { SyscallDef } from '../kernel/syscall';
import { copyStructIn } from './sysutil';

const PAGE = 4096;
const INT_MAX = 0x7fffffff;
/** The attributes mount_setattr sets and clears. */
const SETATTR_VALID = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME |
  MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSYMFOLLOW;
/** A checked struct mount_attr: the bits to clear, then to set, and the propagation type (0: unchanged). */
interface Change {
  set: number;
  clr: number;
  propagation: number;
}

/**
 * struct mount_attr at addr of usize bytes (build_mount_kattr); null when
 * it asks for nothing (Linux returns before looking up the path then).
 */
function readAttr(t: Task, addr: number, usize: number): Change | null {
  if (usize > PAGE) throw new Errno(E.E2BIG);
  if (usize < MOUNT_ATTR_SIZE_VER0) throw new Errno(E.EINVAL);
  mayMount(t);
  const b = copyStructIn(t, addr, usize, MOUNT_ATTR_SIZE_VER0);
  const big = (o: number) => b.readBigUInt64LE(o);
  const [set64, clr64, prop64, userns64] = [big(0), big(8), big(16), big(24)];
  if (!set64 && !clr64 && !prop64) return null;
  const props = BigInt(MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE | MS_SHARED);
  if (prop64 & ~props) throw new Errno(E.EINVAL);
  const propagation = Number(prop64);
  // One propagation type at a time.
  if (propagation & (propagation - 1)) throw new Errno(E.EINVAL);
  if ((set64 | clr64) & ~BigInt(SETATTR_VALID)) throw new Errno(E.EINVAL);
  let set = Number(set64);
  let clr = Number(clr64);
  // Atime is one choice: changing it clears all of them and sets one (relatime is no bit at all).
  if (clr & MOUNT_ATTR__ATIME) {
    if ((clr & MOUNT_ATTR__ATIME) !== MOUNT_ATTR__ATIME) throw new Errno(E.EINVAL);
    set = (set & ~MOUNT_ATTR__ATIME) | atimeBits(set);
    clr = (clr & ~MOUNT_ATTR__ATIME) | MOUNT_ATTR_NOATIME | RELATIME_BIT;
  } else if (set & MOUNT_ATTR__ATIME) throw new Errno(E.EINVAL);
  if ((set | clr) & MOUNT_ATTR_IDMAP) checkIdmap(t, clr, userns64);
  return { set, clr, propagation };
}

/**
 * MOUNT_ATTR_IDMAP: Linux's checks of the user namespace descriptor, then
 * EINVAL, as for a file system without ID-mapped mounts (none here has them).
 */
function checkIdmap(t: Task, clr: number, usernsFd: bigint): never {
  if (clr & MOUNT_ATTR_IDMAP) throw new Errno(E.EINVAL);
  if (usernsFd > BigInt(INT_MAX)) throw new Errno(E.EINVAL);
  const f = t.fdTable.getRaw(Number(usernsFd));
  const inode = f.path?.dentry.inode;
  if (!(inode instanceof NsInode) || inode.kind !== 'user') throw new Errno(E.EINVAL);
  throw new Errno(E.EINVAL, 'ID-mapped mounts are not supported');
}

/** Apply c to the mount whose root p is (and the tree below it with recursive): every mount checked first. */
function apply(t: Task, p: VPath, c: Change, recursive: boolean): void {
  if (!isMountRoot(p)) throw new Errno(E.EINVAL);
  const m = p.mount;
  // An attached mount must be in the caller's namespace; a detached tree's root may be changed before it is attached.
  if (!inOwnNs(t, m) && !stillDetached(m)) throw new Errno(E.EINVAL);
  const all = recursive ? subtree(m) : [m];
  const next = new Map<Mount, MountFlags>();
  for (const x of all) {
    const f = fromBits((toBits(x.flags) & ~c.clr) | c.set);
    checkLockedFlags(x, f);
    // Linux locks the access-time flags with the others.
    const l = x.lockedFlags;
    if (l && (l.atime !== f.atime || !!l.nodiratime !== !!f.nodiratime)) throw new Errno(E.EPERM);
    next.set(x, f);
  }
  for (const [x, f] of next) Object.assign(x.flags, { atime: undefined, nodiratime: undefined, nosymfollow: undefined }, f);
  if (c.propagation) changeType(t.kernel.vfs.peers, all, c.propagation);
}

function mountSetattr(t: Task, a: number[]): number {
  const flags = a[2] >>> 0;
  if (flags & ~(AT_EMPTY_PATH | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT)) throw new Errno(E.EINVAL);
  const c = readAttr(t, a[3], a[4]);
  if (!c) return 0;
  const p = lookupAt(t, a[0], a[1], (flags & AT_EMPTY_PATH) !== 0, !(flags & AT_SYMLINK_NOFOLLOW));
  apply(t, p, c, (flags & AT_RECURSIVE) !== 0);
  return 0;
}

/** open_tree_attr (Linux 6.15): open_tree, then mount_setattr's change on what it opened, before the descriptor is given. */
function openTreeAttr(t: Task, a: number[]): number {
  const flags = a[2] >>> 0;
  if (!a[3] && a[4]) throw new Errno(E.EINVAL);
  const r = openTreeOf(t, a[0], a[1], flags);
  const c = a[3] ? readAttr(t, a[3], a[4]) : null;
  if (c) apply(t, r.clone ? { mount: r.clone, dentry: r.clone.root } : r.p, c, (flags & AT_RECURSIVE) !== 0);
  return installOpenTree(t, r, flags);
}

export const defs: SyscallDef[] = [
  { nr: 442, name: 'mount_setattr', args: ['fd', 'str', 'hex', 'ptr', 'int'], fn: mountSetattr,
    partial: 'MOUNT_ATTR_IDMAP is EINVAL (no file system here supports ID-mapped mounts) after its userns_fd checks; strictatime is recorded, the relatime rule still applies' },
  { nr: 467, name: 'open_tree_attr', args: ['fd', 'str', 'hex', 'ptr', 'int'], fn: openTreeAttr,
    partial: 'as open_tree and mount_setattr' },
];
