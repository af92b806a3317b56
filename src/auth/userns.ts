// User namespaces (man 7 user_namespaces). Credentials hold kernel IDs (the
// IDs of the sandbox's initial namespace); a namespace's uid_map and gid_map
// translate between them and the IDs its members see. Capabilities are held
// in a namespace: a task has the ones of its effective set in its own
// namespace and every capability in the namespaces its effective UID created
// below it (nsCapable). Namespace inode numbers (/proc/PID/ns/*) come from
// the initial namespace's counter, so every sandbox numbers them alike.
import { ALL_CAPS, CAP_SETFCAP, CAP_SYS_ADMIN } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import { MAX_USERNS_LEVEL, OVERFLOW_ID, PROC_DYNAMIC_FIRST, PROC_USER_INIT_INO } from '../abi/mount';
import type { Credentials } from './creds';

/** One line of a map: ids first..first+count-1 inside are lower..lower+count-1 in the kernel's ID space. */
export interface IdExtent {
  first: number;
  lower: number;
  count: number;
}

export class IdMap {
  extents: IdExtent[] = [];

  /** The kernel ID of id seen inside, or -1 when unmapped. */
  down(id: number): number {
    for (const e of this.extents) if (id >= e.first && id - e.first < e.count) return e.lower + (id - e.first);
    return -1;
  }

  /** The inside ID of kernel ID kid, or -1 when unmapped. */
  up(kid: number): number {
    for (const e of this.extents) if (kid >= e.lower && kid - e.lower < e.count) return e.first + (kid - e.lower);
    return -1;
  }

  /** Lower range [lower, lower+count) mapped as a whole: its kernel start, or -1. */
  downRange(lower: number, count: number): number {
    for (const e of this.extents) {
      if (lower >= e.first && lower - e.first < e.count && lower + count - e.first <= e.count) return e.lower + (lower - e.first);
    }
    return -1;
  }
}

export class UserNamespace {
  readonly uidMap = new IdMap();
  readonly gidMap = new IdMap();
  /** setgroups(2) may be allowed here (cleared by writing "deny" to /proc/PID/setgroups). */
  setgroupsAllowed = true;
  readonly level: number;
  readonly inum: number;
  /** The creator held CAP_SETFCAP: only then may the namespace's own members map its root (verify_root_map). */
  parentCouldSetfcap = false;
  /** The next namespace inode number to hand out (used on the initial namespace only). */
  private nextInum = PROC_DYNAMIC_FIRST;

  private constructor(
    readonly parent: UserNamespace | null,
    /** The kernel UID and GID of the creator. */
    readonly owner: number,
    readonly group: number,
  ) {
    this.level = parent ? parent.level + 1 : 0;
    this.inum = parent ? parent.allocInum() : PROC_USER_INIT_INO;
    if (parent) this.setgroupsAllowed = parent.setgroupsAllowed;
  }

  /** The initial namespace: every ID maps to itself. */
  static initial(): UserNamespace {
    const ns = new UserNamespace(null, 0, 0);
    ns.uidMap.extents.push({ first: 0, lower: 0, count: 4294967295 });
    ns.gidMap.extents.push({ first: 0, lower: 0, count: 4294967295 });
    return ns;
  }

  /** A child of this namespace made by a task with creds c (unshare/clone CLONE_NEWUSER). */
  static child(c: Credentials): UserNamespace {
    const p = c.userns;
    if (p.level + 1 > MAX_USERNS_LEVEL) throw new Errno(E.EUSERS);
    // The creator's IDs must mean something in its namespace.
    if (p.uidMap.up(c.euid) < 0 || p.gidMap.up(c.egid) < 0) throw new Errno(E.EPERM);
    const ns = new UserNamespace(p, c.euid, c.egid);
    ns.parentCouldSetfcap = (c.capEffective & (1n << BigInt(CAP_SETFCAP))) !== 0n;
    return ns;
  }

  get root(): UserNamespace {
    let n: UserNamespace = this;
    while (n.parent) n = n.parent;
    return n;
  }

  /** A fresh namespace inode number for any namespace of this sandbox. */
  allocInum(): number {
    const r = this.root;
    return r.nextInum++;
  }

  isAncestorOf(o: UserNamespace): boolean {
    for (let n: UserNamespace | null = o; n; n = n.parent) if (n === this) return true;
    return false;
  }
}

/** The ID kernel ID kid shows as in ns (OVERFLOW_ID when unmapped: from_kuid_munged). */
export function uidFrom(ns: UserNamespace, kid: number): number {
  if (!ns.parent) return kid;
  const v = ns.uidMap.up(kid);
  return v < 0 ? OVERFLOW_ID : v;
}

export function gidFrom(ns: UserNamespace, kid: number): number {
  if (!ns.parent) return kid;
  const v = ns.gidMap.up(kid);
  return v < 0 ? OVERFLOW_ID : v;
}

/** The kernel ID of id as named in ns, or -1 (the caller answers EINVAL): make_kuid. */
export function uidTo(ns: UserNamespace, id: number): number {
  return ns.parent ? ns.uidMap.down(id) : id;
}

export function gidTo(ns: UserNamespace, id: number): number {
  return ns.parent ? ns.gidMap.down(id) : id;
}

/**
 * Whether creds hold cap in ns: their effective set counts in their own
 * namespace; in a namespace below it, the owner of that namespace (or of one
 * of its ancestors below the caller's) has every capability.
 */
export function nsCapable(c: Credentials, ns: UserNamespace, cap: number): boolean {
  for (let n: UserNamespace | null = ns; n; n = n.parent) {
    if (n === c.userns) return (c.capEffective & (1n << BigInt(cap))) !== 0n;
    if (n.level <= c.userns.level) return false;
    if (n.parent === c.userns && n.owner === c.euid) return true;
  }
  return false;
}

/** capable(): the capability in the sandbox's initial user namespace. */
export function capableInit(c: Credentials, cap: number): boolean {
  return nsCapable(c, c.userns.root, cap);
}

/** Credentials of a task that entered (created or joined) ns: all capabilities there, none inherited. */
export function credsEntering(c: Credentials, ns: UserNamespace): Credentials {
  const n = c.clone();
  n.userns = ns;
  n.capPermitted = ALL_CAPS;
  n.capEffective = ALL_CAPS;
  n.capBounding = ALL_CAPS;
  n.capInheritable = 0n;
  n.capAmbient = 0n;
  return n;
}

/** setns(2) into user namespace ns: CAP_SYS_ADMIN there, and not the caller's own. */
export function checkJoinUserns(c: Credentials, ns: UserNamespace): void {
  if (ns === c.userns) throw new Errno(E.EINVAL);
  if (!nsCapable(c, ns, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
}

/** Both kernel IDs mean something in ns. */
export function idsMapped(ns: UserNamespace, uid: number, gid: number): boolean {
  return !ns.parent || (ns.uidMap.up(uid) >= 0 && ns.gidMap.up(gid) >= 0);
}

/** A file's attributes with the owner and group as ns shows them. */
export function attrsSeenFrom<T extends { uid: number; gid: number }>(ns: UserNamespace, a: T): T {
  return ns.parent ? { ...a, uid: uidFrom(ns, a.uid), gid: gidFrom(ns, a.gid) } : a;
}

/** setgroups(2) may work in ns: its gid_map is written and "deny" was not (userns_may_setgroups). */
export function mayUsernsSetgroups(ns: UserNamespace): boolean {
  return !ns.parent || (ns.setgroupsAllowed && ns.gidMap.extents.length > 0);
}
