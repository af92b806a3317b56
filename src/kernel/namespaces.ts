// The namespaces a task is in (Linux's nsproxy) and how clone, unshare and
// setns change them. Each namespace is an object owned by the user
// namespace that was current when it was made; the task's user namespace is
// on its Credentials. Implemented: mount, UTS, IPC (its System V objects,
// /proc/sys/kernel IPC limits and POSIX message queues), cgroup (the
// sandbox has one cgroup, which a new namespace is rooted at), user and time
// (offsets of CLOCK_MONOTONIC and CLOCK_BOOTTIME, entered by the children of
// the task that made it), PID (kernel/pid_ns.ts: the namespace a task's
// children are made in is here; its own is its Pid's), network
// (kernel/net_ns.ts: interfaces, stack, abstract AF_UNIX names).
import type { Cgroup } from './cgroup';
import { CAP_SYS_ADMIN } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import {
  PROC_CGROUP_INIT_INO, PROC_IPC_INIT_INO, PROC_MNT_INIT_INO, PROC_NET_INIT_INO, PROC_PID_INIT_INO, PROC_TIME_INIT_INO, PROC_UTS_INIT_INO,
} from '../abi/mount';
import {
  CLONE_FS, CLONE_THREAD, CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWTIME, CLONE_NEWUSER, CLONE_NEWUTS,
} from '../abi/sched';
import type { Credentials } from '../auth/creds';
import { credsEntering, nsCapable, UserNamespace } from '../auth/userns';
import { MountNamespace, type MountIds } from '../vfs/mount_ns';
import type { FsContext } from '../vfs/fs_context';
import type { Mount } from '../vfs/dentry';
import { MqNamespace } from './ipc/mqueue';
import { MsgNamespace } from './ipc/msg';
import { SemNamespace } from './ipc/sem';
import { ShmNamespace } from './ipc/shm';
import type { Task } from './task';
import { PidNamespace } from './pid_ns';
import { NetNamespace } from './net_ns';
import type { NetworkConfig } from './netinfo';

export type NsKind = 'mnt' | 'uts' | 'ipc' | 'cgroup' | 'user' | 'pid' | 'net' | 'time';

/** The CLONE_NEW* flag of each kind (setns's nstype). */
export const NS_FLAG: Record<NsKind, number> = {
  mnt: CLONE_NEWNS, uts: CLONE_NEWUTS, ipc: CLONE_NEWIPC, cgroup: CLONE_NEWCGROUP, user: CLONE_NEWUSER,
  pid: CLONE_NEWPID, net: CLONE_NEWNET, time: CLONE_NEWTIME,
};

export const NEW_NS_FLAGS = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWTIME;

export class UtsNamespace {
  constructor(
    readonly owner: UserNamespace,
    readonly inum: number,
    public hostname: string,
    public domainname: string,
  ) {}
}

/**
 * A cgroup namespace: its identity and its root, the cgroup its creator was
 * in (null: the hierarchy's root), which /proc/PID/cgroup paths and cgroup2
 * mounts made inside start from.
 */
export class PlainNamespace {
  constructor(
    readonly kind: NsKind,
    readonly owner: UserNamespace,
    readonly inum: number,
    readonly cgroupRoot: Cgroup | null = null,
  ) {}
}

/**
 * A time namespace (man 7 time_namespaces): what its processes' CLOCK_MONOTONIC
 * and CLOCK_BOOTTIME read, as offsets from the initial namespace's. The
 * offsets are written through /proc/PID/timens_offsets only until the first
 * process enters (Linux's frozen_offsets); the initial namespace's never.
 */
export class TimeNamespace {
  readonly kind = 'time';
  /** [seconds, nanoseconds] added to CLOCK_MONOTONIC (and _RAW, _COARSE) and to CLOCK_BOOTTIME (and _ALARM); seconds may be negative, nanoseconds are 0..999999999. */
  monotonic: [number, number] = [0, 0];
  boottime: [number, number] = [0, 0];
  frozen: boolean;
  constructor(
    readonly owner: UserNamespace,
    readonly inum: number,
    readonly initial = false,
  ) {
    this.frozen = initial;
  }

  /** A new namespace made by unshare or clone: it starts with its parent's offsets, as Linux copies them. */
  child(owner: UserNamespace, inum: number): TimeNamespace {
    const n = new TimeNamespace(owner, inum);
    n.monotonic = [...this.monotonic];
    n.boottime = [...this.boottime];
    return n;
  }
}

/** An IPC namespace: its System V shared memory, semaphores and message queues (procfs keeps its /proc/sys/kernel limits), and its POSIX message queues. */
export class IpcNamespace {
  readonly kind = 'ipc';
  constructor(
    readonly owner: UserNamespace,
    readonly inum: number,
    readonly shm: ShmNamespace,
    readonly sem: SemNamespace,
    readonly msg: MsgNamespace,
    readonly mq = new MqNamespace(),
  ) {}
}

export type AnyNamespace = MountNamespace | UtsNamespace | PlainNamespace | IpcNamespace | UserNamespace | TimeNamespace | PidNamespace | NetNamespace;

export class NsProxy {
  constructor(
    readonly mnt: MountNamespace,
    readonly uts: UtsNamespace,
    readonly ipc: IpcNamespace,
    readonly cgroup: PlainNamespace,
    /** Where the task's children are made (/proc/PID/ns/pid_for_children); the task's own is pidNsOf(task). */
    readonly pid: PidNamespace,
    readonly net: NetNamespace,
    readonly time: TimeNamespace,
    /** Where the task's children go, and the task itself at its next exec (/proc/PID/ns/time_for_children). */
    readonly timeForChildren: TimeNamespace = time,
  ) {}

  /** The sandbox's initial namespaces, owned by its initial user namespace. */
  static initial(user: UserNamespace, rootMount: Mount, hostname: string, shm: ShmNamespace, sem: SemNamespace, msg: MsgNamespace, network: NetworkConfig): NsProxy {
    return new NsProxy(
      new MountNamespace(rootMount, user, PROC_MNT_INIT_INO),
      new UtsNamespace(user, PROC_UTS_INIT_INO, hostname, '(none)'),
      new IpcNamespace(user, PROC_IPC_INIT_INO, shm, sem, msg),
      new PlainNamespace('cgroup', user, PROC_CGROUP_INIT_INO),
      new PidNamespace(user, PROC_PID_INIT_INO, null),
      new NetNamespace(user, PROC_NET_INIT_INO, network, true),
      new TimeNamespace(user, PROC_TIME_INIT_INO, true),
    );
  }

  with(kind: 'mnt' | 'uts' | 'ipc' | 'cgroup' | 'pid' | 'net', ns: AnyNamespace): NsProxy {
    const p = { mnt: this.mnt, uts: this.uts, ipc: this.ipc, cgroup: this.cgroup, pid: this.pid, net: this.net, [kind]: ns } as Pick<NsProxy, 'mnt' | 'uts' | 'ipc' | 'cgroup' | 'pid' | 'net'>;
    return new NsProxy(p.mnt, p.uts, p.ipc, p.cgroup, p.pid, p.net, this.time, this.timeForChildren);
  }

  /** The same namespaces with time and timeForChildren replaced. */
  withTime(time: TimeNamespace, forChildren: TimeNamespace): NsProxy {
    if (time === this.time && forChildren === this.timeForChildren) return this;
    return new NsProxy(this.mnt, this.uts, this.ipc, this.cgroup, this.pid, this.net, time, forChildren);
  }

  /**
   * The namespaces of a process this task forks, or of the task after exec:
   * time becomes timeForChildren, whose offsets are then fixed (Linux's
   * timens_on_fork and timens_commit).
   */
  enterTimeForChildren(): NsProxy {
    this.timeForChildren.frozen = true;
    return this.withTime(this.timeForChildren, this.timeForChildren);
  }

  get(kind: NsKind, creds: Credentials): AnyNamespace {
    return kind === 'user' ? creds.userns : this[kind];
  }
}

/** What a task has after clone or unshare made new namespaces. */
export interface NewNamespaces {
  ns: NsProxy;
  creds: Credentials;
  fs: FsContext;
}

/**
 * New namespaces for flags (clone's or unshare's CLONE_NEW* bits): the user
 * namespace first, as Linux does, so the rest is checked and owned there. fs
 * is the task's own (already unshared) fs context: its root and working
 * directory move into a new mount namespace's copy. activePid: the task's own
 * PID namespace, the parent of a new one. initialNet: the sandbox's first
 * network namespace, whose interface defaults a new one inherits.
 */
export function copyNamespaces(ids: MountIds, ns: NsProxy, creds: Credentials, fs: FsContext, flags: number, activePid: PidNamespace, initialNet: NetNamespace, cgroup: Cgroup | null = null): NewNamespaces {
  if (flags & CLONE_NEWUSER) {
    // A chrooted process could escape its root with the capabilities a new namespace gives.
    if (fs.root.mount !== ns.mnt.root || fs.root.dentry !== ns.mnt.root.root) throw new Errno(E.EPERM);
    creds = credsEntering(creds, UserNamespace.child(creds));
  }
  const others = flags & NEW_NS_FLAGS & ~CLONE_NEWUSER;
  if (!others) return { ns, creds, fs };
  if (!nsCapable(creds, creds.userns, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  // A second new PID namespace before the first has a process (or after setns) is EINVAL, as Linux's copy_pid_ns.
  if (flags & CLONE_NEWPID && ns.pid !== activePid) throw new Errno(E.EINVAL);
  const user = creds.userns;
  let n = ns;
  if (flags & CLONE_NEWNS) {
    const { ns: mnt, map } = ns.mnt.copy(ids, user, user.allocInum());
    fs.root = MountNamespace.translate(fs.root, map);
    fs.cwd = MountNamespace.translate(fs.cwd, map);
    n = n.with('mnt', mnt);
  }
  if (flags & CLONE_NEWUTS) n = n.with('uts', new UtsNamespace(user, user.allocInum(), ns.uts.hostname, ns.uts.domainname));
  if (flags & CLONE_NEWIPC) {
    // Its mqueue file system's root belongs to the creator, as Linux makes it at the unshare.
    const mq = new MqNamespace(creds.fsuid, creds.fsgid);
    n = n.with('ipc', new IpcNamespace(user, user.allocInum(), new ShmNamespace(ns.ipc.shm.memory, ns.ipc.shm.now), new SemNamespace(), new MsgNamespace(), mq));
  }
  if (flags & CLONE_NEWNET) n = n.with('net', NetNamespace.fresh(user, user.allocInum(), initialNet));
  if (flags & CLONE_NEWCGROUP) n = n.with('cgroup', new PlainNamespace('cgroup', user, user.allocInum(), cgroup));
  if (flags & CLONE_NEWPID) {
    // The new namespace's owner must be at or below the parent namespace's owner (Linux's create_pid_namespace).
    let u: UserNamespace | null = user;
    while (u && u !== activePid.owner) u = u.parent;
    if (!u) throw new Errno(E.EPERM);
    n = n.with('pid', activePid.child(user, user.allocInum()));
  }
  // Only the children move (and the caller at its next exec); clone's child enters it when it gets its own memory.
  if (flags & CLONE_NEWTIME) n = n.withTime(n.time, ns.timeForChildren.child(user, user.allocInum()));
  return { ns: n, creds, fs };
}

/**
 * A task left IPC namespace ipc (it exited, or unshared or joined another):
 * once no live task is in it, its objects go, as when Linux frees the
 * namespace (attached shared memory when its last mapping goes).
 */
export function leftIpc(tasks: Iterable<Task>, ipc: IpcNamespace, initial: IpcNamespace, leaver: Task): void {
  if (ipc === initial) return;
  for (const x of tasks) if (x !== leaver && x.state !== 'dead' && x.nsproxy.ipc === ipc) return;
  for (const s of [...ipc.shm.set.values()]) ipc.shm.remove(s);
  for (const s of [...ipc.sem.set.values()]) ipc.sem.remove(s);
  for (const q of [...ipc.msg.set.values()]) ipc.msg.remove(q);
  for (const q of [...ipc.mq.queues.values()]) ipc.mq.unlink(q);
}

/** Flags clone(2) refuses with namespace flags (Linux's copy_process checks). */
export function checkCloneNsFlags(flags: number): void {
  if (flags & CLONE_NEWNS && flags & CLONE_FS) throw new Errno(E.EINVAL);
  if (flags & CLONE_NEWUSER && flags & CLONE_FS) throw new Errno(E.EINVAL);
  if (flags & (CLONE_NEWUSER | CLONE_NEWPID) && flags & CLONE_THREAD) throw new Errno(E.EINVAL);
}
