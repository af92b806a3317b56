// The ioctls of nsfs files (ioctl_ns(2), Linux 4.9 and 4.11): an open
// /proc/PID/ns/KIND descriptor asked for the user namespace that owns the
// namespace (NS_GET_USERNS), its parent in the hierarchy (NS_GET_PARENT,
// PID and user namespaces only), its kind (NS_GET_NSTYPE) or, for a user
// namespace, its creator's UID (NS_GET_OWNER_UID). Namespaces outside the
// caller's reach (not its own user namespace or a descendant) are EPERM, so
// a process cannot climb above the namespace it lives in.
import { E, Errno } from '../abi/errno';
import { O_RDONLY } from '../abi/fs';
import { uidFrom, type UserNamespace } from '../auth/userns';
import { NsInode } from '../fsimpl/proc/ns';
import { NS_FLAG, type AnyNamespace } from '../kernel/namespaces';
import type { Task } from '../kernel/task';
import type { FileDescription, MaybePromise } from '../vfs/file';
import { resolverOf, vfsOf } from './sysutil';

const NS_GET_USERNS = 0xb701;
const NS_GET_PARENT = 0xb702;
const NS_GET_NSTYPE = 0xb703;
const NS_GET_OWNER_UID = 0xb704;

/** The user namespace that owns ns (a user namespace's is its parent; null for the initial one). */
function ownerOf(inode: NsInode, ns: AnyNamespace): UserNamespace | null {
  if (inode.kind === 'user') return (ns as UserNamespace).parent;
  return (ns as { owner: UserNamespace }).owner;
}

/** Linux's ns_get_owner: the owner must be the caller's user namespace or below it. */
function reachableOwner(t: Task, owner: UserNamespace | null): UserNamespace {
  const mine = t.creds.userns;
  for (let p = owner; p; p = p.parent) if (p === mine) return owner as UserNamespace;
  throw new Errno(E.EPERM);
}

/** A new close-on-exec, read-only descriptor for the namespace of kind user (open_related_ns). */
function openUserns(t: Task, inode: NsInode, ns: UserNamespace): MaybePromise<number> {
  const p = inode.fs.pathOf('user', ns);
  const f = vfsOf(t).openAt(t, resolverOf(t), p, O_RDONLY);
  const install = (file: FileDescription) => t.fdTable.install(file, true);
  return f instanceof Promise ? f.then(install) : install(f);
}

/** The answer to an nsfs request on f, or null when f is not an nsfs file. */
export function nsfsIoctl(t: Task, f: FileDescription, cmd: number, arg: number): MaybePromise<number> | null {
  const inode = f.path?.dentry.inode;
  if (!(inode instanceof NsInode) || !inode.ns) return null;
  const ns = inode.ns;
  switch (cmd) {
    case NS_GET_USERNS:
      return openUserns(t, inode, reachableOwner(t, ownerOf(inode, ns)));
    case NS_GET_PARENT:
      // The one PID namespace has no parent; the others are not hierarchical.
      if (inode.kind === 'pid') throw new Errno(E.EPERM);
      if (inode.kind !== 'user') throw new Errno(E.EINVAL);
      return openUserns(t, inode, reachableOwner(t, ownerOf(inode, ns)));
    case NS_GET_NSTYPE:
      return NS_FLAG[inode.kind];
    case NS_GET_OWNER_UID:
      if (inode.kind !== 'user') throw new Errno(E.EINVAL);
      t.mm.writeU32(arg, uidFrom(t.creds.userns, (ns as UserNamespace).owner) >>> 0);
      return 0;
    default:
      throw new Errno(E.ENOTTY);
  }
}
