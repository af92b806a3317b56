// The ioctls of nsfs files (ioctl_ns(2), Linux 4.9 and 4.11): an open
// /proc/PID/ns/KIND descriptor asked for the user namespace that owns the
// namespace (NS_GET_USERNS), its parent in the hierarchy (NS_GET_PARENT,
// PID and user namespaces only), its kind (NS_GET_NSTYPE) or, for a user
// namespace, its creator's UID (NS_GET_OWNER_UID); for a PID namespace, a
// pid translated to or from the caller's (Linux 6.11). Namespaces outside the
// caller's reach (not its own user namespace or a descendant) are EPERM, so
// a process cannot climb above the namespace it lives in.
import { E, Errno } from '../abi/errno';
import { O_RDONLY } from '../abi/fs';
import { uidFrom, type UserNamespace } from '../auth/userns';
import { NsInode } from '../fsimpl/proc/ns';
import { NS_FLAG, type AnyNamespace } from '../kernel/namespaces';
import type { Task } from '../kernel/task';
import { findTask, pidNsOf, type PidNamespace, tgidIn, tidIn } from '../kernel/pid_ns';
import type { FileDescription, MaybePromise } from '../vfs/file';
import { resolverOf, vfsOf } from './sysutil';

const NS_GET_USERNS = 0xb701;
const NS_GET_PARENT = 0xb702;
const NS_GET_NSTYPE = 0xb703;
const NS_GET_OWNER_UID = 0xb704;
const NS_GET_PID_FROM_PIDNS = 0x8004b706;
const NS_GET_TGID_FROM_PIDNS = 0x8004b707;
const NS_GET_PID_IN_PIDNS = 0x8004b708;
const NS_GET_TGID_IN_PIDNS = 0x8004b709;

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

/**
 * NS_GET_PARENT of a PID namespace: its parent, if that is the caller's own
 * PID namespace or below it (EPERM above: a process cannot climb out).
 */
function openPidParent(t: Task, inode: NsInode, ns: PidNamespace): MaybePromise<number> {
  const parent = ns.parent;
  if (!parent || !pidNsOf(t).contains(parent)) throw new Errno(E.EPERM);
  return openNs(t, inode, 'pid', parent);
}

/** NS_GET_{PID,TGID}_{FROM,IN}_PIDNS (Linux 6.11): a number translated between ns and the caller's namespace; ESRCH when the other side cannot see it. */
function translatePid(t: Task, ns: PidNamespace, nr: number, from: boolean, tgid: boolean): number {
  const mine = pidNsOf(t);
  const k = t.kernel;
  const task = findTask(k.tasks, from ? ns : mine, nr);
  if (!task) throw new Errno(E.ESRCH);
  const to = from ? mine : ns;
  const out = tgid ? tgidIn(task.tg, to) : tidIn(task, to);
  if (!out) throw new Errno(E.ESRCH);
  return out;
}

/** A new close-on-exec, read-only descriptor for the namespace of kind user (open_related_ns). */
function openUserns(t: Task, inode: NsInode, ns: UserNamespace): MaybePromise<number> {
  return openNs(t, inode, 'user', ns);
}

function openNs(t: Task, inode: NsInode, kind: 'user' | 'pid', ns: AnyNamespace): MaybePromise<number> {
  const p = inode.fs.pathOf(kind, ns);
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
      if (inode.kind === 'pid') return openPidParent(t, inode, ns as PidNamespace);
      // The others are not hierarchical.
      if (inode.kind !== 'user') throw new Errno(E.EINVAL);
      return openUserns(t, inode, reachableOwner(t, ownerOf(inode, ns)));
    case NS_GET_NSTYPE:
      return NS_FLAG[inode.kind];
    case NS_GET_PID_FROM_PIDNS:
    case NS_GET_TGID_FROM_PIDNS:
    case NS_GET_PID_IN_PIDNS:
    case NS_GET_TGID_IN_PIDNS:
      if (inode.kind !== 'pid') throw new Errno(E.EINVAL);
      return translatePid(t, ns as PidNamespace, arg | 0, cmd === NS_GET_PID_FROM_PIDNS || cmd === NS_GET_TGID_FROM_PIDNS, cmd === NS_GET_TGID_FROM_PIDNS || cmd === NS_GET_TGID_IN_PIDNS);
    case NS_GET_OWNER_UID:
      if (inode.kind !== 'user') throw new Errno(E.EINVAL);
      t.mm.writeU32(arg, uidFrom(t.creds.userns, (ns as UserNamespace).owner) >>> 0);
      return 0;
    default:
      throw new Errno(E.ENOTTY);
  }
}
