// Process file descriptors (pidfd_open(2), pidfd_send_signal(2),
// pidfd_getfd(2), clone's CLONE_PIDFD, waitid's P_PIDFD). A pidfd refers to
// a process, not to a number that may be reused: it stays valid after the
// process is reaped (signals then fail with ESRCH). It polls readable once the
// process has exited, and also hung up once it has been reaped. Each pidfd is
// an fd, so RLIMIT_NOFILE bounds how many one process can hold.

import { Errno, E } from '../abi/errno';
import { vTask, vGroup } from '../kernel/pid_ns';
import { CAP_SYS_PTRACE } from '../abi/capability';
import { O_EXCL, O_NONBLOCK, O_RDWR } from '../abi/fs';
import * as S from '../abi/signals';
import { EVENT_HUP, EVENT_IN, EVENT_RDNORM, type Waiter } from '../abi/waitqueue';
import { nsCapable } from '../auth/userns';
import { landlockWithin } from '../auth/creds';
import type { Task } from '../kernel/task';
import type { ThreadGroup } from '../kernel/thread_group';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { AnonFile } from '../vfs/file';
import { checkKill } from './sigperm';
import { ProcDirNode } from '../fsimpl/proc/nodes';
import type { Pid } from '../kernel/pid_ns';
import { stateOf } from './sys_info';

const PIDFD_NONBLOCK = O_NONBLOCK;
/** PIDFD_THREAD: a pidfd for a thread; every process here has one thread, its leader. */
const PIDFD_THREAD = O_EXCL;
const PIDFD_SIGNAL_THREAD = 1, PIDFD_SIGNAL_THREAD_GROUP = 2, PIDFD_SIGNAL_PROCESS_GROUP = 4;

/**
 * A pidfd's open file description; it listens on its process's exit queue
 * (as a Waiter, plain data) to wake its pollers. Once the process is reaped
 * it lets go of it (keeping only that fact), so pidfds of dead processes pin
 * nothing but themselves.
 */
export class PidFdFile extends AnonFile implements Waiter {
  readonly mask = 0xffffffff;
  reaped = false;
  /**
   * Kept from the process once it is reaped, for PIDFD_GET_INFO
   * (pidfd_info.ts): its numbers (which namespaces may ask), its wait
   * status and whether it dumped core. Linux keeps them on the pid's pidfs inode.
   */
  deadPid: Pid | null = null;
  exitStatus = 0;
  dumpedMode = 0;

  constructor(public tg: ThreadGroup | null, flags: number) {
    super('[pidfd]', O_RDWR | (flags & O_NONBLOCK), false);
    tg?.exitQueue.add(this);
  }

  /** CLONE_PIDFD makes the file before the process exists. */
  attach(tg: ThreadGroup): void {
    this.tg = tg;
    tg.exitQueue.add(this);
    if (tg.reaped) this.wake(0);
  }

  wake(events: number): void {
    const tg = this.tg;
    if (tg?.reaped) {
      tg.exitQueue.remove(this);
      this.deadPid = tg.tgPid;
      this.exitStatus = tg.exitStatus ?? 0;
      // A core was written (the wait status's 0x80): the dumpable mode it was written under.
      this.dumpedMode = this.exitStatus & 0x80 ? stateOf(tg).dumpable : 0;
      this.tg = null;
      this.reaped = true;
    }
    if (events) this.queue.notify(events);
  }

  override readiness(mask: number): number {
    if (this.reaped) return mask & (EVENT_IN | EVENT_RDNORM | EVENT_HUP);
    const tg = this.tg;
    return tg?.zombie ? mask & (EVENT_IN | EVENT_RDNORM) : 0;
  }

  protected override release(): void {
    this.tg?.exitQueue.remove(this);
  }
}

/** The process a pidfd refers to (null once reaped): EBADF if fd is not one, as Linux's pidfd lookups answer. */
export function pidfdTarget(t: Task, fd: number): { tg: ThreadGroup | null; nonblock: boolean } {
  const f = t.fdTable.get(fd);
  if (!(f instanceof PidFdFile) || (!f.tg && !f.reaped)) throw new Errno(E.EBADF);
  return { tg: f.tg, nonblock: (f.flags & O_NONBLOCK) !== 0 };
}

function livePidfd(t: Task, fd: number, procDirOk = false): ThreadGroup {
  // A /proc/PID directory names its process as a pidfd does, for pidfd_send_signal(2) only.
  const f = t.fdTable.get(fd);
  if (procDirOk && f.inode instanceof ProcDirNode && f.inode.process) {
    if (f.inode.process.zombie || f.inode.process.reaped) throw new Errno(E.ESRCH);
    return f.inode.process;
  }
  const { tg } = pidfdTarget(t, fd);
  if (!tg) throw new Errno(E.ESRCH);
  return tg;
}

/** Install a new pidfd (close-on-exec, as Linux makes them all). */
export function installPidfd(t: Task, tg: ThreadGroup | null, flags: number): { fd: number; file: PidFdFile } {
  const file = new PidFdFile(tg, flags);
  try {
    return { fd: t.fdTable.install(file, true), file };
  } catch (e) {
    file.decRef();
    throw e;
  }
}

/**
 * A pidfd a socket hands out (SO_PEERPIDFD, SCM_PIDFD), close-on-exec as
 * Linux installs them: of a process that may have exited or been reaped
 * since the socket named it, as Linux 6.16 and later do (pidfs keeps the
 * process's identity); the file then holds only what PIDFD_GET_INFO reports.
 */
export function installSocketPidfd(t: Task, tg: ThreadGroup): number {
  const r = installPidfd(t, tg, 0);
  if (tg.reaped) r.file.wake(0);
  return r.fd;
}

function pidfdOpen(t: Task, pid: number, flags: number): number {
  if (flags & ~(PIDFD_NONBLOCK | PIDFD_THREAD) || pid <= 0) throw new Errno(E.EINVAL);
  const tg = vGroup(t, pid);
  if (!tg) {
    // A thread id that is not a process's: ENOENT unless PIDFD_THREAD (threads do not exist here).
    throw new Errno(vTask(t, pid) !== undefined ? E.ENOENT : E.ESRCH);
  }
  return installPidfd(t, tg, flags).fd;
}

function pidfdSendSignal(t: Task, fd: number, sig: number, uinfo: number, flags: number): number {
  if (flags & ~(PIDFD_SIGNAL_THREAD | PIDFD_SIGNAL_THREAD_GROUP | PIDFD_SIGNAL_PROCESS_GROUP)) throw new Errno(E.EINVAL);
  if (flags & (flags - 1)) throw new Errno(E.EINVAL); // at most one scope
  const tg = livePidfd(t, fd, true);
  if (sig < 0 || sig > S.NSIG) throw new Errno(E.EINVAL);
  let info: S.SigInfo = { signo: sig, code: S.SI_USER, pid: t.pid, uid: t.creds.uid };
  if (uinfo) {
    const raw = t.mm.copyIn(uinfo, 128);
    const code = raw.readInt32LE(8);
    if (raw.readInt32LE(0) !== sig) throw new Errno(E.EINVAL);
    // Only the kernel may claim kernel codes, except toward oneself.
    if ((tg !== t.tg || flags & PIDFD_SIGNAL_PROCESS_GROUP) && (code >= 0 || code === S.SI_TKILL)) throw new Errno(E.EPERM);
    info = { signo: sig, code, raw };
  }
  const k = t.kernel;
  k.signals.checkHardCap(sig);
  const targets = flags & PIDFD_SIGNAL_PROCESS_GROUP ? [...k.groups.values()].filter((g) => g.pgid === tg.pgid) : [tg];
  let ok = false;
  let err: Errno | null = null;
  for (const g of targets) {
    try {
      checkKill(t, g, sig);
      if (sig && !g.zombie) k.signals.sendToGroup(g, sig, info);
      ok = true;
    } catch (e) {
      if (!(e instanceof Errno)) throw e;
      err = e;
    }
  }
  if (!ok && err) throw err;
  return 0;
}

/**
 * Whether t may look into tg's process as ptrace would attach
 * (PTRACE_MODE_ATTACH_REALCREDS): the same real uid and gid as all of the
 * target's, and the target dumpable; or CAP_SYS_PTRACE in the target's user namespace.
 */
function mayAttach(t: Task, tg: ThreadGroup): boolean {
  if (tg === t.tg) return true;
  if (!landlockWithin(t.creds.landlock, tg.leader.creds.landlock)) return false;
  if (nsCapable(t.creds, tg.leader.creds.userns, CAP_SYS_PTRACE)) return true;
  const c = t.creds;
  const o = tg.leader.creds;
  const same = c.uid === o.uid && c.uid === o.euid && c.uid === o.suid && c.gid === o.gid && c.gid === o.egid && c.gid === o.sgid;
  return same && stateOf(tg).dumpable === 1;
}

function pidfdGetfd(t: Task, pidfd: number, targetFd: number, flags: number): number {
  if (flags) throw new Errno(E.EINVAL);
  const tg = livePidfd(t, pidfd);
  if (tg.zombie || tg.tasks.size === 0) throw new Errno(E.ESRCH);
  const leader = tg.leader;
  if (leader.state === 'dead') throw new Errno(E.ESRCH);
  if (!mayAttach(t, tg)) throw new Errno(E.EPERM);
  const f = leader.fdTable.get(targetFd);
  f.incRef();
  try {
    return t.fdTable.install(f, true);
  } catch (e) {
    f.decRef();
    throw e;
  }
}

/**
 * process_mrelease(2) (Linux 5.15): free the memory of a process that is
 * dying. Here a fatal signal or exit_group ends every thread and releases
 * the address space at once: a dying process has nothing left to free
 * (0), an exited one is ESRCH as in Linux 6.18, a live one EINVAL.
 */
function processMrelease(t: Task, fd: number, flags: number): number {
  if (flags !== 0) throw new Errno(E.EINVAL);
  const tg = livePidfd(t, fd);
  if (tg.zombie) throw new Errno(E.ESRCH);
  if (tg.exiting) return 0;
  throw new Errno(E.EINVAL);
}

export const defs: SyscallDef[] = [
  { nr: 448, name: 'process_mrelease', fn: (t, a) => processMrelease(t, i32(a[0]), a[1]), args: ['fd', 'hex'] },
  { nr: 434, name: 'pidfd_open', fn: (t, a) => pidfdOpen(t, i32(a[0]), u32(a[1])), args: ['int', 'hex'] },
  { nr: 424, name: 'pidfd_send_signal', fn: (t, a) => pidfdSendSignal(t, i32(a[0]), i32(a[1]), a[2], u32(a[3])), args: ['fd', 'signal', 'ptr', 'hex'] },
  { nr: 438, name: 'pidfd_getfd', fn: (t, a) => pidfdGetfd(t, i32(a[0]), i32(a[1]), u32(a[2])), args: ['fd', 'int', 'hex'] },
];
