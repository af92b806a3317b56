// What the host's scheduler knows of the sandbox's tasks: each task is a
// host thread, with a nice value and the CPUs the application chose for it.
//
// Nice: per thread, as the scheduling policy (Task.sched). The host sees
// a task's nice counted from the sandbox's lowest, never
// below the Sentry's own (0): a sandbox ranks its threads against each
// other (a niced thread gets less CPU than its siblings, LTP nice05) but
// never outranks the host's other work. Changing the lowest re-weighs every
// task. SCHED_IDLE weighs as nice 19 (Linux gives it less still); the other
// policies do not reach the host: a realtime or deadline thread would
// outrank the host's work, and the Sentry may not ask for that.
//
// CPUs: a task's affinity (sched_setaffinity in the sandbox; the sandbox's
// CPU n is the host's CPU n) bounds where its host thread runs, within the
// platform's own placement (platform/ptrace/affinity.ts), so that a thread
// runs where it asked to, and the vDSO's getcpu, which reads the host CPU,
// agrees with its mask.

import type { Kernel } from './kernel';
import type { Task } from './task';

const SCHED_OTHER = 0, SCHED_FIFO = 1, SCHED_RR = 2, SCHED_IDLE = 5, SCHED_DEADLINE = 6;

export class HostScheduling {
  /** The lowest nice of the live tasks, 0 at most: the host's nice values count from it. */
  private floor = 0;

  constructor(private readonly k: Kernel) {}

  /**
   * A new task's nice and policy: its creator's, less what
   * SCHED_RESET_ON_FORK clears (Linux's sched_fork, for threads too): a
   * realtime or deadline policy goes back to SCHED_OTHER at nice 0, a
   * negative nice back to 0, and the flag itself.
   */
  inherit(parent: Task, child: Task): void {
    const p = parent.sched;
    child.nice = parent.nice;
    child.sched = { ...p, dl: [...p.dl] };
    if (!p.resetOnFork) return;
    const s = child.sched;
    if (s.policy === SCHED_FIFO || s.policy === SCHED_RR || s.policy === SCHED_DEADLINE) {
      Object.assign(s, { policy: SCHED_OTHER, rtprio: 0, dl: [0, 0, 0] });
      child.nice = 0;
    } else if (child.nice < 0) {
      child.nice = 0;
    }
    s.resetOnFork = false;
  }

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
    t.ctx.setHostNice?.(t.sched.policy === SCHED_IDLE ? 19 : Math.min(19, t.nice - this.floor));
  }
}
