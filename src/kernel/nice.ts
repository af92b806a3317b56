// Nice values on the host. Each task is a host thread; the host sees its
// nice counted from the sandbox's lowest, never below the Sentry's own (0):
// a sandbox ranks its threads against each other (a niced thread gets less
// CPU than its siblings, LTP nice05) but never outranks the host's other
// work. Changing the lowest re-weighs every task.

import type { Kernel } from './kernel';
import type { Task } from './task';

export class HostNice {
  /** The lowest nice of the live tasks, 0 at most: the host's nice values count from it. */
  private floor = 0;

  constructor(private readonly k: Kernel) {}

  /** Set t's nice, and weigh the host threads to match. */
  set(t: Task, nice: number): void {
    t.nice = nice;
    this.changed(t);
  }

  /** A task's nice changed or a task with a negative one went: recompute the floor. */
  changed(t: Task | null): void {
    let floor = 0;
    for (const x of this.k.tasks.values()) if (x.state !== 'dead' && x.nice < floor) floor = x.nice;
    if (floor === this.floor) {
      if (t && t.state !== 'dead') this.applyTo(t);
      return;
    }
    this.floor = floor;
    for (const x of this.k.tasks.values()) if (x.state !== 'dead' && !x.vforkParent) this.applyTo(x);
  }

  /** Give t's host thread its nice counted from the floor (a new or re-homed context). */
  applyTo(t: Task): void {
    t.ctx.setHostNice?.(Math.min(19, t.nice - this.floor));
  }
}
