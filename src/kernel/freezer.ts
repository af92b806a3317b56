// A pod container's freezer (Linux's freezer cgroup): `pause` of one
// container holds its processes and leaves the rest of the sandbox running.
// Freezing works as Kernel.pause does, for the group's tasks only: a task
// running application code is interrupted and a blocked one woken as a
// signal would (Task.block fails at once while its group is frozen), so each
// handler unwinds to its restart point, and the runner holds the task
// (Task.paused) at its return to the application. Timers keep running, as in
// a frozen cgroup: what they raise waits for the thaw. Shared by every
// process of the container, inherited at fork.

import type { Kernel } from './kernel';
import type { Task } from './task';

export class Freezer {
  frozen = false;

  private tasks(k: Kernel): Task[] {
    return [...k.tasks.values()].filter((t) => t.tg.freezer === this);
  }

  /** Start freezing: every task of the group heads for its hold. */
  freeze(k: Kernel): void {
    if (this.frozen) return;
    this.frozen = true;
    for (const t of this.tasks(k)) {
      if (t.state === 'blocked') t.wakeForSignal();
      else if (t.state === 'running' && t.ctx.owner === t) t.ctx.interrupt();
    }
    k.noteWake();
  }

  /** Whether every live task of the group is held, group-stopped, or a vfork parent whose child holds its context. */
  atRest(k: Kernel): boolean {
    return this.tasks(k).every((t) => t.state === 'dead' || t.state === 'stopped' || t.paused || t.vforkChild !== null);
  }

  /** Let the group run again (its held tasks resume, unless the whole kernel is paused). */
  thaw(k: Kernel): void {
    if (!this.frozen) return;
    this.frozen = false;
    if (k.pausing) return;
    for (const t of this.tasks(k)) {
      if (!t.paused) continue;
      t.paused = false;
      queueMicrotask(() => k.runner.returnToUser(t, false));
    }
    k.noteWake();
  }
}
