// A process's interval timers (alarm, setitimer). They belong to the thread
// group: a new process (fork) starts with none, execve keeps them, as on
// Linux. ITIMER_REAL counts monotonic time and sends SIGALRM through a kernel
// timer record; ITIMER_VIRTUAL and ITIMER_PROF are stored only (CPU time is
// not observed as it passes).

import type { Kernel } from './kernel';
import { SI_KERNEL, SIGALRM } from '../abi/signals';
import type { ThreadGroup } from './thread_group';
import { deletePosixTimers } from './posix_timers';
import { KernelTimer } from './timers';

/** Deadlines past this (about 146 years of monotonic time) never arm a kernel timer. */
export const FOREVER_NS = 2 ** 62;

export class Itimers {
  /** ITIMER_REAL: monotonic deadline (0 = disarmed; may lie beyond FOREVER_NS, then never armed) and interval. */
  realDeadline = 0;
  realInterval = 0;
  readonly real: KernelTimer<'itimerReal'>;
  /** ITIMER_VIRTUAL / ITIMER_PROF: [value, interval] in ns, never counting down. */
  virt: [number, number] = [0, 0];
  prof: [number, number] = [0, 0];

  constructor(tg: ThreadGroup) {
    this.real = new KernelTimer('itimerReal', tg);
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
  deletePosixTimers(k, tg);
}
