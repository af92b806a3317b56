// unshare(2) and setns(2): leaving or joining namespaces (kernel/namespaces.ts
// holds the objects). Tasks here are single-threaded processes, so the
// thread-sharing flags of unshare (CLONE_THREAD, CLONE_SIGHAND) are always
// satisfied; CLONE_VM is refused while a vfork child shares the memory.
import { CAP_SYS_ADMIN, CAP_SYS_CHROOT } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import { CLONE_FILES, CLONE_FS, CLONE_NEWNS, CLONE_NEWUSER, CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_THREAD, CLONE_VM } from '../abi/sched';
import { checkJoinUserns, credsEntering, nsCapable, UserNamespace } from '../auth/userns';
import { NsInode } from '../fsimpl/proc/ns';
import type { NetNamespace } from '../kernel/net_ns';
import { copyNamespaces, type IpcNamespace, leftIpc, NEW_NS_FLAGS, NS_FLAG, type AnyNamespace, type NsKind, type UtsNamespace, type PlainNamespace, type TimeNamespace } from '../kernel/namespaces';
import type { FamilyHooks } from '../kernel/lifecycle';
import type { Task } from '../kernel/task';
import { pidNsOf, type PidNamespace } from '../kernel/pid_ns';
import { u32, type SyscallDef } from '../kernel/syscall';
import { MountNamespace, topOf } from '../vfs/mount_ns';
import { hideVdsoOutsideInitialTime } from '../kernel/vdso';

const UNSHARE_FLAGS = CLONE_THREAD | CLONE_FS | CLONE_SIGHAND | CLONE_VM | CLONE_FILES | CLONE_SYSVSEM | NEW_NS_FLAGS;

function unshare(t: Task, a: number[]): number {
  let flags = u32(a[0]);
  if (flags & ~UNSHARE_FLAGS) throw new Errno(E.EINVAL);
  // What each flag implies (Linux's ksys_unshare).
  if (flags & CLONE_NEWUSER) flags |= CLONE_THREAD | CLONE_FS;
  if (flags & CLONE_VM) flags |= CLONE_SIGHAND;
  if (flags & CLONE_SIGHAND) flags |= CLONE_THREAD;
  if (flags & CLONE_NEWNS) flags |= CLONE_FS;
  if (flags & CLONE_VM && t.mm.users > 1) throw new Errno(E.EINVAL);
  const fs = flags & CLONE_FS ? t.fs.fork() : t.fs;
  const r = copyNamespaces(t.kernel.vfs, t.nsproxy, t.creds, fs, flags & NEW_NS_FLAGS, pidNsOf(t), t.kernel.rootNs.net, t.tg.cgroup);
  // Past every check: nothing below fails.
  if (flags & CLONE_FILES) unshareFdTable(t);
  t.fs = r.fs;
  t.creds = r.creds;
  const oldIpc = t.nsproxy.ipc;
  t.nsproxy = r.ns;
  leftIpc(t.kernel.tasks.values(), oldIpc, t.kernel.rootNs.ipc, t);
  return 0;
}

/** unshare(CLONE_FILES), close_range(CLOSE_RANGE_UNSHARE): the task gets its own copy of a shared table. */
export function unshareFdTable(t: Task): void {
  if (t.fdTable.users <= 1) return;
  t.fdTable.checkCopy(t.kernel.vfs.nrOpen);
  const own = t.fdTable.fork();
  t.fdTable.unshare();
  t.fdTable = own;
}

/** The namespace an nsfs file (an open /proc/PID/ns/KIND) stands for. */
function nsOfFd(t: Task, fd: number): { kind: NsKind; ns: AnyNamespace } {
  const f = t.fdTable.get(fd);
  const inode = f.path?.dentry.inode;
  // Linux also takes pidfds here; there are none in the sandbox.
  if (!(inode instanceof NsInode) || !inode.ns) throw new Errno(E.EINVAL);
  return { kind: inode.kind, ns: inode.ns };
}

function setns(t: Task, a: number[]): number {
  const { kind, ns } = nsOfFd(t, a[0] | 0);
  const nstype = a[1] | 0;
  if (nstype !== 0 && nstype !== NS_FLAG[kind]) throw new Errno(E.EINVAL);
  const c = t.creds;
  switch (kind) {
    case 'user': {
      const u = ns as UserNamespace;
      checkJoinUserns(c, u);
      t.fs = t.fs.fork();
      t.creds = credsEntering(c, u);
      return 0;
    }
    case 'mnt': {
      const m = ns as MountNamespace;
      if (!nsCapable(c, m.owner, CAP_SYS_ADMIN) || !nsCapable(c, c.userns, CAP_SYS_CHROOT) || !nsCapable(c, c.userns, CAP_SYS_ADMIN)) {
        throw new Errno(E.EPERM);
      }
      // The root and working directory go to the top of the namespace's root.
      const root = topOf({ mount: m.root, dentry: m.root.root });
      const fs = t.fs.fork();
      fs.root = root;
      fs.cwd = root;
      t.fs = fs;
      t.nsproxy = t.nsproxy.with('mnt', m);
      return 0;
    }
    case 'pid': {
      // Only the children go (pid_for_children), and only into the caller's own namespace or one below it (Linux's pidns_install).
      const pn = ns as PidNamespace;
      if (!nsCapable(c, pn.owner, CAP_SYS_ADMIN) || !nsCapable(c, c.userns, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
      if (!pidNsOf(t).contains(pn)) throw new Errno(E.EINVAL);
      t.nsproxy = t.nsproxy.with('pid', pn);
      return 0;
    }
    case 'time': {
      // The vDSO and the clocks are the whole process's: only a single-threaded one may switch (Linux's timens_install).
      if ([...t.tg.tasks].some((x) => x !== t && x.state !== 'dead') || t.mm.users > 1) throw new Errno(E.EUSERS);
      const tn = ns as TimeNamespace;
      if (!nsCapable(c, tn.owner, CAP_SYS_ADMIN) || !nsCapable(c, c.userns, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
      tn.frozen = true;
      t.nsproxy = t.nsproxy.withTime(tn, tn);
      hideVdsoOutsideInitialTime(t);
      return 0;
    }
    default: {
      const owned = ns as UtsNamespace | PlainNamespace | IpcNamespace | NetNamespace;
      if (!nsCapable(c, owned.owner, CAP_SYS_ADMIN) || !nsCapable(c, c.userns, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
      const oldIpc = t.nsproxy.ipc;
      // Sockets the task already has stay in the namespace they were made in.
      if (kind === 'uts' || kind === 'ipc' || kind === 'cgroup' || kind === 'net') t.nsproxy = t.nsproxy.with(kind, owned);
      leftIpc(t.kernel.tasks.values(), oldIpc, t.kernel.rootNs.ipc, t);
      return 0;
    }
  }
}

/** A task that exits leaves its IPC namespace (the last one out takes its segments). */
export const hooks: FamilyHooks = {
  taskExit: (t) => leftIpc(t.kernel.tasks.values(), t.nsproxy.ipc, t.kernel.rootNs.ipc, t),
};

export const defs: SyscallDef[] = [
  { nr: 272, name: 'unshare', args: ['clone_flags'], fn: unshare,
    partial: 'a new network namespace has the Sentry\'s own stack with a loopback (down until brought up by RTM_NEWLINK or SIOCSIFFLAGS; it takes 127.0.0.1/8 and ::1 by RTM_NEWADDR, no other address; the only other interfaces are tun devices made through /dev/net/tun, whose up flag and addresses change by netlink and ioctl; other changes EOPNOTSUPP), its own abstract AF_UNIX names, netlink ports and /proc/net; a process in a time namespace other than the initial one has no host clock pages (vvar, vDSO): a process forked into it calls the vDSO entry points its libc found, and each is served as its system call (with the offsets; a read of the vDSO\'s pages faults, where Linux has them readable), and a program exec\'d in it gets no vDSO; a new IPC namespace has its own System V shared memory, semaphores and message queues, /proc/sys/kernel IPC limits, and POSIX message queues (its own mqueue file system); its objects go when its last process leaves, even while a bound /proc/PID/ns/ipc file keeps the namespace' },
  { nr: 308, name: 'setns', args: ['fd', 'clone_flags'], fn: setns,
    partial: 'takes /proc/PID/ns/* descriptors only (no pidfds); a process that joins a time namespace loses the host\'s clock pages (its calls into the vDSO are served as system calls, with the offsets); joining a mount or user namespace gives a process sharing its fs context (CLONE_FS) its own copy where Linux refuses with EINVAL' },
];
