// Who may send a signal to whom (man 2 kill, "Permissions"): every signal a
// process sends by system call (kill, tkill, tgkill, rt_sigqueueinfo,
// rt_tgsigqueueinfo) is checked here. Signals the kernel raises itself
// (SIGCHLD, SIGPIPE, timers, faults) are not; nor is SIGIO to an F_SETOWN
// owner (Landlock's signal scope does not reach it here).
import { nsCapable } from '../auth/userns';
import { Errno, E } from '../abi/errno';
import { CAP_KILL } from '../abi/capability';
import { SIGCONT } from '../abi/signals';
import { LANDLOCK_SCOPE_SIGNAL } from '../abi/landlock';
import { landlockScoped } from '../auth/landlock';
import type { Task } from '../kernel/task';
import type { ThreadGroup } from '../kernel/thread_group';

/**
 * The sender's real or effective uid must be the target's real or saved
 * uid, or the sender has CAP_KILL; SIGCONT may always go to a process of the
 * sender's own session. Signal 0 is checked the same way.
 */
export function mayKill(sender: Task, target: ThreadGroup, sig: number, thread: Task = target.leader): boolean {
  if (target === sender.tg) return true;
  // Landlock's task_kill hook (ABI 6): a domain scoped for signals reaches only
  // processes within it, by the domain of the thread named (threads restrict
  // themselves one by one; kill names the leader).
  if (landlockScoped(sender.creds.landlock, thread.creds.landlock, LANDLOCK_SCOPE_SIGNAL)) return false;
  if (target.tasks.size === 0) return true;
  const s = sender.creds;
  const d = target.leader.creds;
  if (s.euid === d.suid || s.euid === d.uid || s.uid === d.suid || s.uid === d.uid) return true;
  // CAP_KILL counts in the target's user namespace (its creator has it there).
  if (nsCapable(s, d.userns, CAP_KILL)) return true;
  return sig === SIGCONT && target.sid === sender.tg.sid;
}

export function checkKill(sender: Task, target: ThreadGroup, sig: number, thread?: Task): void {
  if (!mayKill(sender, target, sig, thread)) throw new Errno(E.EPERM);
}
