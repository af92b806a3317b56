// Kernel timers as data. A timer is a record {deadline, kind, target} owned by
// the object it serves (a task's timed block, a process's ITIMER_REAL, a POSIX
// timer); what expiry does is looked up by kind in one
// table, so a timer holds no closure and a checkpoint can walk it like any
// other field. Armed timers sit in a binary min-heap ordered by (deadline,
// arming order): arm and cancel are O(log n), each record knows its slot.
// The host is asked to wake the kernel only for the earliest deadline.

import type { Kernel } from './kernel';
import type { PosixTimer } from './posix_timers';
import { expireItimerReal } from './itimers';
import type { CpuItimer, CpuLimit } from './itimers';
import type { CpuBandwidth } from './cgroup_cpu';
import { expirePosixTimer } from './posix_timers';
import type { Task } from './task';
import type { ThreadGroup } from './thread_group';

/** What each kind of timer points at. */
export interface TimerTargets {
  /** A task blocked with a deadline (nanosleep, poll, futex... timeouts). */
  block: Task;
  /** A process's ITIMER_REAL (alarm, setitimer). */
  itimerReal: ThreadGroup;
  /** A process's ITIMER_VIRTUAL or ITIMER_PROF: a look at its CPU time. */
  itimerCpu: CpuItimer;
  /** A process's RLIMIT_CPU: a look at its CPU time. */
  rlimitCpu: CpuLimit;
  /** A POSIX per-process timer (timer_create). */
  posix: PosixTimer;
  /** A timerfd (fsimpl/timerfd): the file counts the expiry itself. */
  timerfd: TimerFdTarget;
  /** A cgroup's cpu.max: a look at its subtree's CPU time (kernel/cgroup_cpu.ts). */
  cpuMax: CpuBandwidth;
  /** A timer of the network stack (net/): a TCP connection's retransmission, delayed ACK, keepalive... */
  net: NetTimerTarget;
}

/** What a network stack timer offers its kernel timer (the stack lives above the kernel, in net). */
export interface NetTimerTarget {
  onTimer(): void;
}

/** What a timerfd offers its kernel timer (it lives above the kernel, in fsimpl). */
export interface TimerFdTarget {
  expired(now: number): void;
}
export type TimerKind = keyof TimerTargets;

/** The expiry of each kind. A timer is disarmed before its entry runs; the entry may arm it again. */
const EXPIRE: { [K in TimerKind]: (k: Kernel, target: TimerTargets[K]) => void } = {
  block: (_k, t) => t.blockTimedOut(),
  itimerReal: (k, tg) => expireItimerReal(k, tg),
  itimerCpu: (k, it) => it.expire(k),
  rlimitCpu: (k, cl) => cl.expire(k),
  posix: (k, pt) => expirePosixTimer(k, pt),
  timerfd: (k, tf) => tf.expired(k.monotonicNs()),
  net: (_k, n) => n.onTimer(),
  cpuMax: (k, b) => b.expire(k),
};

function expire<K extends TimerKind>(k: Kernel, tm: KernelTimer<K>): void {
  EXPIRE[tm.kind](k, tm.target);
}

export class KernelTimer<K extends TimerKind = TimerKind> {
  /** Monotonic ns of the expiry while armed; the last one after. */
  deadline = 0;
  /** Slot in the heap, -1 while disarmed. */
  pos = -1;
  /** Arming order: equal deadlines expire first armed, first served. */
  seq = 0;

  constructor(readonly kind: K, readonly target: TimerTargets[K]) {}

  get armed(): boolean {
    return this.pos >= 0;
  }
}

/** While held, the host timer still wakes the kernel this often, so a pause under way is looked at again. */
const HELD_POLL_NS = 100e6;

function before(a: KernelTimer, b: KernelTimer): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

export class TimerQueue {
  private readonly heap: KernelTimer[] = [];
  private seq = 0;
  /** The deadline the host timer is set to (0: none, -1: unknown, set again on the next change). */
  private hostDeadline = 0;
  /** While held (Kernel.pause), nothing expires and the host timer stays off. */
  private held = false;

  constructor(
    private readonly k: Kernel,
    private readonly setHostTimer: (deadlineNs: number) => void,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** The earliest armed deadline, or 0 when none is armed. */
  get next(): number {
    return this.heap.length ? this.heap[0].deadline : 0;
  }

  /** Arm tm to expire at deadline (monotonic ns), moving it if it was armed. */
  arm(tm: KernelTimer, deadline: number): void {
    if (tm.pos >= 0) this.removeAt(tm.pos);
    tm.deadline = deadline;
    tm.seq = this.seq++;
    tm.pos = this.heap.length;
    this.heap.push(tm);
    this.up(tm.pos);
    if (this.heap[0] === tm) this.syncHost();
  }

  /** Disarm tm; nothing happens if it is not armed. The host timer may then wake the kernel early, which is harmless. */
  cancel(tm: KernelTimer): void {
    if (tm.pos >= 0) this.removeAt(tm.pos);
  }

  /** Run every timer due at now, earliest first (a timer re-armed for a time already past runs again). */
  runDue(now: number): void {
    if (this.held) {
      this.setHostTimer(now + HELD_POLL_NS);
      return;
    }
    const h = this.heap;
    while (h.length && h[0].deadline <= now) {
      const tm = h[0];
      this.removeAt(0);
      expire(this.k, tm);
    }
    this.hostDeadline = -1;
    this.syncHost();
  }

  /** Stop expiries and the host timer (Kernel.pause): deadlines stay as they are and pass unnoticed. */
  hold(): void {
    this.held = true;
    this.hostDeadline = -1;
    this.setHostTimer(this.k.monotonicNs() + HELD_POLL_NS);
  }

  /** Let timers expire again: those whose deadline passed while held expire late, at the next run. */
  release(): void {
    this.held = false;
    this.hostDeadline = -1;
    this.syncHost();
  }

  private syncHost(): void {
    if (this.held) return;
    const d = this.next;
    if (d !== this.hostDeadline) {
      this.hostDeadline = d;
      this.setHostTimer(d);
    }
  }

  private removeAt(i: number): void {
    const h = this.heap;
    const tm = h[i];
    tm.pos = -1;
    const last = h.pop()!;
    if (last === tm) return;
    h[i] = last;
    last.pos = i;
    if (i > 0 && before(last, h[(i - 1) >> 1])) this.up(i);
    else this.down(i);
  }

  private up(i: number): void {
    const h = this.heap;
    const tm = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(tm, h[p])) break;
      h[i] = h[p];
      h[i].pos = i;
      i = p;
    }
    h[i] = tm;
    tm.pos = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const tm = h[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && before(h[c + 1], h[c])) c++;
      if (!before(h[c], tm)) break;
      h[i] = h[c];
      h[i].pos = i;
      i = c;
    }
    h[i] = tm;
    tm.pos = i;
  }
}
