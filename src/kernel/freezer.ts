// The freezers: a pod container's (Freezer: `pause` of one container holds
// its processes and leaves the rest of the sandbox running) and the cgroup
// v2 freezer (cgroup.freeze, kernel/cgroup.ts: a cgroup's processes and
// its descendants'). Freezing works as Kernel.pause does, for the group's
// tasks only: a task running application code is interrupted and a blocked
// one woken as a signal would (Task.block fails at once while its group is
// frozen), so each handler unwinds to its restart point, and the runner
// holds the task (Task.paused) at its return to the application: a group
// stop the application does not see (no SIGSTOP, no wait status). Timers
// keep running, as in a frozen cgroup: what they raise waits for the thaw;
// SIGKILL still ends a frozen process (exitGroup needs no running task), and
// so does a signal whose default action kills without a core dump
// (Signals.frozenFatal).

import type { Kernel } from './kernel';
import type { Task } from './task';

/** Whether a freezer holds t (its container's, or its cgroup's), or its cgroup's cpu.max. */
export function frozenTask(k: Kernel, t: Task): boolean {
  return t.tg.freezer?.frozen === true || k.cgroups.held(t);
}

/** Send tasks to their hold: each comes to rest at its next return to the application. */
export function holdTasks(k: Kernel, tasks: Iterable<Task>): void {
  for (const t of tasks) {
    if (t.state === 'blocked') t.wakeForSignal();
    else if (t.state === 'running' && t.ctx.owner === t) t.ctx.interrupt();
  }
  k.noteWake();
}

/** Let held tasks that no freezer holds any more run again (unless the whole kernel is paused). */
export function releaseTasks(k: Kernel, tasks: Iterable<Task>): void {
  if (k.pausing) return;
  for (const t of tasks) {
    if (!t.paused || frozenTask(k, t)) continue;
    t.paused = false;
    queueMicrotask(() => k.runner.returnToUser(t, false));
  }
  k.noteWake();
}

/** Whether a task is at rest for a freezer: held, group-stopped, dead, or a vfork parent whose child holds its context. */
export function taskAtRest(t: Task): boolean {
  return t.state === 'dead' || t.state === 'stopped' || t.paused || t.vforkChild !== null;
}

export class Freezer {
  frozen = false;

  private tasks(k: Kernel): Task[] {
    return [...k.tasks.values()].filter((t) => t.tg.freezer === this);
  }

  /** Start freezing: every task of the group heads for its hold. */
  freeze(k: Kernel): void {
    if (this.frozen) return;
    this.frozen = true;
    holdTasks(k, this.tasks(k));
  }

  /** Whether every live task of the group is at rest. */
  atRest(k: Kernel): boolean {
    return this.tasks(k).every(taskAtRest);
  }

  /** Let the group run again (its held tasks resume, unless the whole kernel is paused or their cgroup is frozen). */
  thaw(k: Kernel): void {
    if (!this.frozen) return;
    this.frozen = false;
    releaseTasks(k, this.tasks(k));
  }
}
