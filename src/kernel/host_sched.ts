// What the host's scheduler knows of the sandbox's tasks: each task is a
// host thread, with a nice value and the CPUs the application chose for it.
//
// Nice: the host sees a task's nice counted from the sandbox's lowest, never
// below the Sentry's own (0): a sandbox ranks its threads against each
// other (a niced thread gets less CPU than its siblings, LTP nice05) but
// never outranks the host's other work. Changing the lowest re-weighs every
// task.
//
// CPUs: a task's affinity (sched_setaffinity in the sandbox; the sandbox's
// CPU n is the host's CPU n) bounds where its host thread runs, within the
// platform's own placement (platform/ptrace/affinity.ts), so that a thread
// runs where it asked to, and the vDSO's getcpu, which reads the host CPU,
// agrees with its mask.

import type { Kernel } from './kernel';
import type { Task } from './task';

export class HostScheduling {
  /** The lowest nice of the live tasks, 0 at most: the host's nice values count from it. */
  private floor = 0;

  constructor(private readonly k: Kernel) {}

  /** Set t's nice, and weigh the host threads to match. */
  setNice(t: Task, nice: number): void {
    t.nice = nice;
    this.niceChanged(t);
  }

  /** A task's nice changed or a task with a negative one went: recompute the floor. */
  niceChanged(t: Task | null): void {
    let floor = 0;
    for (const x of this.k.tasks.values()) if (x.state !== 'dead' && x.nice < floor) floor = x.nice;
    if (floor === this.floor) {
      if (t && t.state !== 'dead') this.applyNice(t);
      return;
    }
    this.floor = floor;
    for (const x of this.k.tasks.values()) if (x.state !== 'dead' && !x.vforkParent) this.applyNice(x);
  }

  /** Give t's host thread its nice, its CPUs and its TSC mode (a new context: clone, exec). */
  applyTo(t: Task): void {
    this.applyNice(t);
    this.affinityChanged(t);
    // A new host thread may have come from the master (rdtsc allowed) or from another process's parked thread.
    t.ctx.setTsc?.(t.tscSigsegv);
  }

  /** t's affinity (its own, or its process's) changed: keep its host thread on those CPUs. */
  affinityChanged(t: Task): void {
    const n = this.k.hostInfo.ncpu;
    const all = (1n << BigInt(n)) - 1n;
    const m = (t.affinity ?? t.tg.procState?.affinity ?? all) & all;
    let cpus: number[] | null = null;
    if (m !== all && m !== 0n) {
      cpus = [];
      for (let c = 0; c < n; c++) if ((m >> BigInt(c)) & 1n) cpus.push(c);
    }
    t.ctx.setAppCpus?.(cpus);
  }

  private applyNice(t: Task): void {
    t.ctx.setHostNice?.(Math.min(19, t.nice - this.floor));
  }
}
