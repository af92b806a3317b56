// cpu.max enforcement: a cgroup with a quota is looked at once a period (at
// least every MIN_LOOK_NS: reading the CPU time of its threads costs a host
// file read each) by a kernel timer, off the system call path. What its
// subtree ran beyond its quota since the last look is a debt; while in debt
// the cgroup is throttled: its tasks are held at their return to the
// application as the freezer holds them (kernel/freezer.ts), and the
// periods they then sit out pay the debt back at the quota's rate. So the
// share is Linux's over a few periods, though a burst may overrun one
// period's quota before the look sees it (Linux stops it within the
// period). cpu.stat's nr_periods, nr_throttled and throttled_usec count
// the looks' periods.

import type { Cgroup } from './cgroup';
import { releaseTasks } from './freezer';
import type { Kernel } from './kernel';
import { KernelTimer } from './timers';

/** The shortest time between two looks at a cgroup's CPU time. */
const MIN_LOOK_NS = 10e6;

export class CpuBandwidth {
  readonly timer: KernelTimer<'cpuMax'>;
  /** cpu.max: the quota per period in µs (Infinity: "max"), and the period. */
  quotaUs = Infinity;
  periodUs = 100000;
  nrPeriods = 0;
  nrThrottled = 0;
  throttledUs = 0;
  private lastNs = 0;
  private lastAt = 0;
  private debtNs = 0;

  constructor(readonly c: Cgroup) {
    this.timer = new KernelTimer('cpuMax', this);
  }

  private usedNs(): number {
    const { userNs, sysNs } = this.c.cpuNs();
    return userNs + sysNs;
  }

  private lookNs(): number {
    return Math.max(this.periodUs * 1000, MIN_LOOK_NS);
  }

  /** cpu.max written: watch a finite quota from now, or stop (and let the subtree run) at "max". */
  set(k: Kernel, quotaUs: number, periodUs: number): void {
    this.quotaUs = quotaUs;
    this.periodUs = periodUs;
    k.timers.cancel(this.timer);
    this.debtNs = 0;
    this.throttle(k, false);
    if (!Number.isFinite(quotaUs) || this.c.removed) return;
    this.lastNs = this.usedNs();
    this.lastAt = k.monotonicNs();
    k.timers.arm(this.timer, this.lastAt + this.lookNs());
  }

  /** The cgroup went: nothing more to watch. */
  stop(k: Kernel): void {
    k.timers.cancel(this.timer);
  }

  expire(k: Kernel): void {
    if (this.c.removed || !Number.isFinite(this.quotaUs)) return;
    const now = k.monotonicNs();
    const used = this.usedNs();
    const elapsed = now - this.lastAt;
    const periods = Math.max(1, Math.round(elapsed / (this.periodUs * 1000)));
    this.nrPeriods += periods;
    if (this.c.throttled) this.throttledUs += Math.floor(elapsed / 1000);
    this.debtNs = Math.max(0, this.debtNs + (used - this.lastNs) - (this.quotaUs * 1000 * elapsed) / (this.periodUs * 1000));
    this.lastNs = used;
    this.lastAt = now;
    const over = this.debtNs > 0;
    if (over) this.nrThrottled += periods;
    this.throttle(k, over);
    k.timers.arm(this.timer, now + this.lookNs());
  }

  private throttle(k: Kernel, on: boolean): void {
    if (this.c.throttled === on) return;
    this.c.setThrottled(on);
    const tasks = k.cgroups.liveTasks().filter((t) => this.c.contains(k.cgroups.ofTask(t)));
    if (!on) {
      releaseTasks(k, tasks);
      return;
    }
    // Only a task running application code is brought back; a blocked one uses no CPU, and is held when it returns.
    for (const t of tasks) if (t.state === 'running' && t.ctx.owner === t) t.ctx.interrupt();
    k.noteWake();
  }
}
