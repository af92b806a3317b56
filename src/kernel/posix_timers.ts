// POSIX per-process timers (timer_create & co): plain records on their thread
// group, each with its kernel timer record. Expiry queues the chosen signal
// (SI_TIMER siginfo with the timer id, the overrun count and sigev_value) to
// the process or to one thread, or counts an overrun on the signal still
// queued. Not inherited by fork, deleted by execve.

import { SI_TIMER, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD_ID, type SigInfo } from '../abi/signals';
import type { Kernel } from './kernel';
import type { Task } from './task';
import type { ThreadGroup } from './thread_group';
import { KernelTimer } from './timers';

/**
 * The CPU-time clock a timer counts (CPUCLOCK_PROF 0: user + system, VIRT 1:
 * user, SCHED 2: user + system), of one thread or of a whole process.
 */
export interface CpuClock {
  which: number;
  task: Task | null;
  group: ThreadGroup | null;
}

/** Between two looks at a CPU-time timer's clock, at least this much time passes (each look reads the host's counters). */
const CPU_POLL_MIN_NS = 1_000_000;

/** The clock's reading in ns, or null once what it measures has exited. */
export function cpuClockNow(c: CpuClock): number | null {
  const owner = c.task ?? c.group;
  if (!owner || (c.task ? !c.task.tg.tasks.has(c.task) : c.group!.zombie)) return null;
  const u = owner.cpuTime(true);
  return c.which === 1 ? u.userNs : u.userNs + u.sysNs;
}

/** Deadlines past this never arm a kernel timer (a wait that long only ends by deletion). */
const FOREVER_NS = 2 ** 62;

export class PosixTimer {
  notify = SIGEV_SIGNAL;
  signo: number;
  value: bigint;
  /** SIGEV_THREAD_ID: the thread that gets the signal. */
  tid = 0;
  /** Monotonic deadline of the next expiry (may lie in the past, even below 0), 0 when disarmed. */
  deadline = 0;
  interval = 0;
  /** Expiries folded into the pending signal so far, and the count the last signal carried. */
  overrun = 0;
  lastOverrun = 0;
  /** The siginfo of the last signal queued, updated while it waits to be delivered. */
  pendingInfo: Buffer | null = null;
  readonly timer: KernelTimer<'posix'>;
  /**
   * A CPU-time timer: deadline is a reading of this clock instead of
   * monotonic time. The Sentry is not told as CPU time passes, so the kernel
   * timer looks at the clock when it could have got there at the earliest
   * (every thread it counts running all along), and again until it has.
   */
  cpu: CpuClock | null = null;

  constructor(readonly tg: ThreadGroup, readonly id: number, readonly clock: number, signo: number) {
    this.signo = signo;
    this.value = BigInt(id);
    this.timer = new KernelTimer('posix', this);
  }

  /** Arm for a deadline on its clock (0 disarms). */
  arm(k: Kernel, deadline: number): void {
    k.timers.cancel(this.timer);
    this.deadline = deadline;
    if (deadline === 0 || deadline >= FOREVER_NS) return;
    if (!this.cpu) {
      k.timers.arm(this.timer, Math.max(1, deadline));
      return;
    }
    const now = cpuClockNow(this.cpu);
    if (now === null) return;
    const threads = this.cpu.task ? 1 : Math.max(1, this.cpu.group!.tasks.size);
    k.timers.arm(this.timer, k.monotonicNs() + Math.max(CPU_POLL_MIN_NS, Math.ceil((deadline - now) / threads)));
  }

  /** The clock's reading now (monotonic time, or the CPU clock's; null: the CPU clock's owner is gone). */
  now(k: Kernel): number | null {
    return this.cpu ? cpuClockNow(this.cpu) : k.monotonicNs();
  }

  disarm(k: Kernel): void {
    this.arm(k, 0);
  }
}

/** Delete every POSIX timer of a process (execve, timer_delete of all). */
export function deletePosixTimers(k: Kernel, tg: ThreadGroup): void {
  for (const pt of tg.posixTimers.values()) pt.disarm(k);
  tg.posixTimers.clear();
}

/** A POSIX timer expired: signal (or overrun), then its next period. */
export function expirePosixTimer(k: Kernel, pt: PosixTimer): void {
  const tg = pt.tg;
  if (tg.zombie || tg.exiting || tg.posixTimers.get(pt.id) !== pt) return;
  const now = pt.now(k);
  if (now === null) {
    pt.deadline = 0;
    return;
  }
  // A CPU-time timer looked at too early: look again.
  if (now < pt.deadline) {
    pt.arm(k, pt.deadline);
    return;
  }
  let missed = 0;
  let next = 0;
  if (pt.interval > 0) {
    // Expiries missed while the Sentry was busy (or paused) count as overruns, as on Linux.
    next = pt.deadline + pt.interval;
    if (next <= now) {
      missed = Math.floor((now - next) / pt.interval) + 1;
      next += missed * pt.interval;
    }
  }
  fire(k, pt, missed);
  pt.arm(k, pt.interval > 0 ? next : 0);
}

/** One expiry (plus `missed` ones folded into it): queue the signal, or count overruns on the one still pending. */
function fire(k: Kernel, pt: PosixTimer, missed: number): void {
  if (pt.notify === SIGEV_NONE) return;
  const tg = pt.tg;
  const pending = pt.notify === SIGEV_THREAD_ID ? k.tasks.get(pt.tid)?.pending : tg.pending;
  const raw = pending?.get(pt.signo)?.raw;
  if (raw && raw.readInt32LE(8) === SI_TIMER && raw.readInt32LE(16) === pt.id) {
    // The receiver reads the overrun count as of delivery: keep the queued siginfo current.
    pt.overrun += 1 + missed;
  } else {
    pt.overrun = missed;
    const info = Buffer.alloc(128);
    info.writeInt32LE(pt.signo, 0);
    info.writeInt32LE(SI_TIMER, 8);
    info.writeInt32LE(pt.id, 16);
    info.writeBigUInt64LE(pt.value, 24);
    const si = { signo: pt.signo, code: SI_TIMER, raw: info };
    if (pt.notify === SIGEV_THREAD_ID) {
      const target = k.tasks.get(pt.tid);
      if (target && target.tg === tg) target.sendSignal(pt.signo, si);
    } else {
      k.signals.sendToGroup(tg, pt.signo, si);
    }
    pt.pendingInfo = info;
  }
  pt.pendingInfo?.writeInt32LE(Math.min(pt.overrun, 0x7fffffff), 20);
}

/**
 * A queued timer signal was taken (delivered, sigwaitinfo, signalfd): from
 * now timer_getoverrun reports its overrun, as Linux's it_overrun_last
 * (later expiries do not change it until the next signal is taken).
 */
export function timerSignalTaken(tg: ThreadGroup, si: SigInfo): void {
  const raw = si.raw;
  if (!raw || si.code !== SI_TIMER) return;
  const pt = tg.posixTimers.get(raw.readInt32LE(16));
  if (pt && pt.pendingInfo === raw) pt.lastOverrun = raw.readInt32LE(20);
}
