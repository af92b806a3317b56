// RLIMIT_NPROC on fork/vfork/clone: the tasks of the caller's real user,
// zombies included until reaped (as Linux's per-user count), may not exceed
// the caller's limit. Root's own user and CAP_SYS_RESOURCE or CAP_SYS_ADMIN
// holders are exempt, as on Linux.
import { capableInit } from '../auth/userns';
import { Errno, E } from '../abi/errno';
import { CAP_SYS_ADMIN, CAP_SYS_RESOURCE } from '../abi/capability';
import { RLIMIT_NPROC } from '../abi/resource';
import type { Task } from '../kernel/task';
import { rl } from './sys_info';

export function checkNproc(t: Task): void {
  const uid = t.creds.uid;
  if (uid === 0) return;
  const lim = rl(t.tg.rlimits[RLIMIT_NPROC].cur);
  if (lim === Infinity || capableInit(t.creds, CAP_SYS_RESOURCE) || capableInit(t.creds, CAP_SYS_ADMIN)) return;
  let n = 1; // the task about to be created
  for (const tg of t.kernel.groups.values()) {
    if (tg.zombie) {
      // A zombie is its leader until reaped; its other threads are gone.
      if (tg.tasks.size && tg.leader.creds.uid === uid) n++;
    } else {
      for (const task of tg.tasks) if (task.state !== 'dead' && task.creds.uid === uid) n++;
    }
    if (n > lim) throw new Errno(E.EAGAIN);
  }
}
