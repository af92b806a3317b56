// A process's interval timers (alarm, setitimer). They belong to the thread
// group: a new process (fork) starts with none, execve keeps them, as on
// Linux. ITIMER_REAL counts monotonic time and sends SIGALRM through a kernel
// timer record. ITIMER_VIRTUAL (user CPU time, SIGVTALRM) and ITIMER_PROF
// (user + system CPU time, SIGPROF) count the CPU time the host measured for
// the process's stubs: the Sentry is not told as CPU time passes, so a kernel
// timer looks at it when the timer could have run out at the earliest (the
// time left, shared by the process's threads, each of which runs at most as
// fast as the clock), and again until it has.

import type { Kernel } from './kernel';
import { RLIMIT_CPU } from '../abi/resource';
import { SI_KERNEL, SIGALRM, SIGKILL, SIGPROF, SIGVTALRM, SIGXCPU } from '../abi/signals';
import { RLIM_INFINITY, type ThreadGroup } from './thread_group';
import { deletePosixTimers } from './posix_timers';
import { KernelTimer } from './timers';

/** Deadlines past this (about 146 years of monotonic time) never arm a kernel timer. */
export const FOREVER_NS = 2 ** 62;

export class Itimers {
  /** ITIMER_REAL: monotonic deadline (0 = disarmed; may lie beyond FOREVER_NS, then never armed) and interval. */
  realDeadline = 0;
  realInterval = 0;
  readonly real: KernelTimer<'itimerReal'>;
  readonly virt: CpuItimer;
  readonly prof: CpuItimer;
  /** RLIMIT_CPU's watch (see CpuLimit). */
  readonly cpuLimit: CpuLimit;

  constructor(tg: ThreadGroup) {
    this.real = new KernelTimer('itimerReal', tg);
    this.virt = new CpuItimer(tg, false);
    this.prof = new CpuItimer(tg, true);
    this.cpuLimit = new CpuLimit(tg);
  }

  /** Time left on ITIMER_REAL in ns (0 = disarmed); an expired-but-undelivered timer reads 1 us. */
  realRemaining(k: Kernel): number {
    if (!this.realDeadline) return 0;
    return Math.max(1000, this.realDeadline - k.monotonicNs());
  }

  /** (Re)arm ITIMER_REAL: deadline 0 disarms. */
  armReal(k: Kernel, deadline: number, interval: number): void {
    k.timers.cancel(this.real);
    this.realDeadline = deadline;
    this.realInterval = deadline ? interval : 0;
    if (deadline && deadline <= FOREVER_NS) k.timers.arm(this.real, deadline);
  }
}

/** Between two looks at an armed CPU timer's process, at least this much time passes (the host's reading costs two /proc reads per thread). */
const CPU_POLL_MIN_NS = 1_000_000;

/** ITIMER_VIRTUAL (prof false) or ITIMER_PROF (prof true) of a process. */
export class CpuItimer {
  /** The process CPU time (ns, as measured by cpuTime) at which it expires; 0 = disarmed. */
  expiry = 0;
  interval = 0;
  readonly timer: KernelTimer<'itimerCpu'>;

  constructor(readonly tg: ThreadGroup, readonly prof: boolean) {
    this.timer = new KernelTimer('itimerCpu', this);
  }

  /** The CPU time this timer counts: user time, or user + system for ITIMER_PROF. */
  used(): number {
    const c = this.tg.cpuTime(true);
    return this.prof ? c.userNs + c.sysNs : c.userNs;
  }

  /** CPU time left in ns (0 = disarmed); one that ran out but was not looked at yet reads 1 us, as ITIMER_REAL does. */
  remaining(): number {
    if (!this.expiry) return 0;
    return Math.max(1000, this.expiry - this.used());
  }

  /** (Re)arm with value ns of CPU time from now (0 disarms) and a period. */
  arm(k: Kernel, value: number, interval: number): void {
    k.timers.cancel(this.timer);
    this.expiry = value ? this.used() + value : 0;
    this.interval = value ? interval : 0;
    if (value) this.lookAgain(k, value);
  }

  private lookAgain(k: Kernel, left: number): void {
    lookIn(k, this.tg, this.timer, left);
  }

  /** The kernel timer fired: send the signal if the CPU time is used up, and look again while armed. */
  expire(k: Kernel): void {
    if (!this.expiry) return;
    if (this.tg.exiting || this.tg.zombie) {
      this.expiry = 0;
      return;
    }
    const used = this.used();
    if (used < this.expiry) {
      this.lookAgain(k, this.expiry - used);
      return;
    }
    const signo = this.prof ? SIGPROF : SIGVTALRM;
    k.signals.sendToGroup(this.tg, signo, { signo, code: SI_KERNEL });
    if (this.interval <= 0) {
      this.expiry = 0;
      return;
    }
    // Periods that passed unseen collapse into the one signal, as ITIMER_REAL's.
    this.expiry += this.interval;
    if (this.expiry <= used) this.expiry += Math.ceil((used - this.expiry + 1) / this.interval) * this.interval;
    this.lookAgain(k, this.expiry - used);
  }
}

/** The next look at a process's CPU time: when `left` ns of it could have been used by all its threads running all along. */
function lookIn(k: Kernel, tg: ThreadGroup, timer: KernelTimer, left: number): void {
  const threads = Math.max(1, tg.tasks.size);
  k.timers.arm(timer, k.monotonicNs() + Math.max(CPU_POLL_MIN_NS, Math.ceil(left / threads)));
}

/**
 * RLIMIT_CPU, on the process's CPU time (user + system) as Linux counts it:
 * at the soft limit SIGXCPU, and the soft limit moves up by a second (so
 * the signal comes again each second); at the hard limit, while a soft one
 * is set, SIGKILL. Looked at like the CPU interval timers.
 */
export class CpuLimit {
  readonly timer: KernelTimer<'rlimitCpu'>;

  constructor(readonly tg: ThreadGroup) {
    this.timer = new KernelTimer('rlimitCpu', this);
  }

  private used(): number {
    const c = this.tg.cpuTime(true);
    return c.userNs + c.sysNs;
  }

  /** The limits in ns: [soft, hard], null when no soft limit is set (then nothing is enforced, as in Linux). */
  private limits(): [number, number] | null {
    const { cur, max } = this.tg.rlimits[RLIMIT_CPU];
    if (cur === RLIM_INFINITY) return null;
    return [cur * 1e9, max === RLIM_INFINITY ? Infinity : max * 1e9];
  }

  /** Watch the limit as it is now (after setrlimit, or a process that starts with one). */
  watch(k: Kernel): void {
    k.timers.cancel(this.timer);
    const lim = this.limits();
    if (!lim || this.tg.exiting || this.tg.zombie) return;
    lookIn(k, this.tg, this.timer, Math.min(lim[0], lim[1]) - this.used());
  }

  expire(k: Kernel): void {
    const lim = this.limits();
    if (!lim || this.tg.exiting || this.tg.zombie) return;
    const used = this.used();
    if (used >= lim[1]) {
      k.signals.sendToGroup(this.tg, SIGKILL, { signo: SIGKILL, code: SI_KERNEL });
      return;
    }
    if (used >= lim[0]) {
      k.signals.sendToGroup(this.tg, SIGXCPU, { signo: SIGXCPU, code: SI_KERNEL });
      const r = this.tg.rlimits[RLIMIT_CPU];
      r.cur += 1;
    }
    this.watch(k);
  }
}

/** ITIMER_REAL expired: SIGALRM to the process, and the next period if it has one. */
export function expireItimerReal(k: Kernel, tg: ThreadGroup): void {
  const s = tg.itimers;
  if (tg.exiting || tg.zombie) {
    s.realDeadline = 0;
    return;
  }
  k.signals.sendToGroup(tg, SIGALRM, { signo: SIGALRM, code: SI_KERNEL });
  if (s.realInterval <= 0) {
    s.realDeadline = 0;
    return;
  }
  // Forward past now: overruns collapse into the one signal already pending.
  const now = k.monotonicNs();
  let next = s.realDeadline + s.realInterval;
  if (next <= now) next += Math.ceil((now - next + 1) / s.realInterval) * s.realInterval;
  s.realDeadline = next;
  if (next <= FOREVER_NS) k.timers.arm(s.real, next);
}

/**
 * The process exits: its interval and POSIX timers go with it, as in Linux,
 * so that no timer record of a dead process stays in the kernel's heap (a
 * process could otherwise leave thousands of far-off timers behind, each
 * holding its thread group).
 */
export function exitTimers(k: Kernel, tg: ThreadGroup): void {
  tg.itimers.armReal(k, 0, 0);
  tg.itimers.virt.arm(k, 0, 0);
  tg.itimers.prof.arm(k, 0, 0);
  k.timers.cancel(tg.itimers.cpuLimit.timer);
  deletePosixTimers(k, tg);
}
