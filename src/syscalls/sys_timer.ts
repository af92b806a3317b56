// POSIX per-process timers: timer_create, timer_settime, timer_gettime,
// timer_getoverrun, timer_delete. Expiry sends the chosen signal (SI_TIMER
// siginfo with the timer id, overrun count and sigev_value) to the process or
// to one thread (SIGEV_THREAD_ID). Timers are not inherited by fork and are
// deleted by execve.

import { hasCapability } from '../auth/creds';
import { CAP_WAKE_ALARM } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import { execHooks } from '../kernel/lifecycle';
import { NSIG, SIGALRM } from '../abi/signals';
import type { Task } from '../kernel/task';
import type { ThreadGroup } from '../kernel/thread_group';
import {
  CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_TAI, TIMER_ABSTIME,
  clockNow, readTimespec, writeTimespec,
} from './sys_time';
import { i32, type SyscallDef } from '../kernel/syscall';

const SIGEV_SIGNAL = 0, SIGEV_NONE = 1, SIGEV_THREAD_ID = 4;
const SI_TIMER = -2;
const MAX_TIMERS = 32768;
/** Deadlines past this never arm a kernel timer (a sleep that long only ends by deletion). */
const FOREVER_NS = 2 ** 62;

interface PosixTimer {
  id: number;
  clock: number;
  notify: number;
  signo: number;
  value: bigint;
  tid: number;
  /** Monotonic deadline of the next expiry, 0 when disarmed. */
  deadline: number;
  interval: number;
  /** Expiries folded into the pending signal so far, and the count the last signal carried. */
  overrun: number;
  lastOverrun?: number;
  /** The siginfo of the last signal queued, updated while it waits to be delivered. */
  pendingInfo?: Buffer;
  kernelTimer: number | null;
}

const timers = new WeakMap<ThreadGroup, Map<number, PosixTimer>>();

function table(tg: ThreadGroup): Map<number, PosixTimer> {
  let m = timers.get(tg);
  if (!m) timers.set(tg, (m = new Map()));
  return m;
}

function get(t: Task, id: number): PosixTimer {
  const tm = timers.get(t.tg)?.get(id);
  if (!tm) throw new Errno(E.EINVAL);
  return tm;
}

function timerCreate(t: Task, a: number[]): number {
  const clock = i32(a[0]);
  if (![CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM].includes(clock)) {
    // CPU-time clocks would need expiry on CPU use, which the Sentry does not observe.
    throw new Errno(E.EINVAL);
  }
  if ((clock === CLOCK_REALTIME_ALARM || clock === CLOCK_BOOTTIME_ALARM) && !hasCapability(t.creds, CAP_WAKE_ALARM)) throw new Errno(E.EPERM);
  const m = table(t.tg);
  if (m.size >= MAX_TIMERS) throw new Errno(E.EAGAIN);
  // Linux sets aside a queued signal for every timer, charged to RLIMIT_SIGPENDING.
  let timersAlive = 0;
  for (const tg of t.kernel.groups.values()) timersAlive += timers.get(tg)?.size ?? 0;
  t.kernel.signals.checkQueueLimit(t.tg, timersAlive);
  let id = 0;
  while (m.has(id)) id++;
  const tm: PosixTimer = { id, clock, notify: SIGEV_SIGNAL, signo: SIGALRM, value: BigInt(id), tid: 0, deadline: 0, interval: 0, overrun: 0, kernelTimer: null };
  if (a[1]) {
    const ev = t.mm.copyIn(a[1], 64);
    tm.value = ev.readBigUInt64LE(0);
    tm.signo = ev.readInt32LE(8);
    tm.notify = ev.readInt32LE(12);
    tm.tid = ev.readInt32LE(16);
    if (tm.notify === SIGEV_THREAD_ID) {
      const target = t.kernel.tasks.get(tm.tid);
      if (!target || target.tg !== t.tg) throw new Errno(E.EINVAL);
    } else if (tm.notify !== SIGEV_SIGNAL && tm.notify !== SIGEV_NONE) {
      // SIGEV_THREAD is a libc construct on top of SIGEV_THREAD_ID.
      throw new Errno(E.EINVAL);
    }
    if (tm.notify !== SIGEV_NONE && (tm.signo < 1 || tm.signo > NSIG)) throw new Errno(E.EINVAL);
  }
  t.mm.writeI32(a[2], id);
  m.set(id, tm);
  return 0;
}

function disarm(t: Task, tm: PosixTimer): void {
  if (tm.kernelTimer !== null) t.kernel.cancelTimer(tm.kernelTimer);
  tm.kernelTimer = null;
  tm.deadline = 0;
}

function arm(t: Task, tm: PosixTimer, deadline: number): void {
  tm.deadline = deadline;
  if (deadline >= FOREVER_NS) return;
  const k = t.kernel;
  const tg = t.tg;
  tm.kernelTimer = k.addTimer(deadline, () => {
    tm.kernelTimer = null;
    if (tg.zombie || tg.exiting || timers.get(tg)?.get(tm.id) !== tm) return;
    let missed = 0;
    let next = 0;
    if (tm.interval > 0) {
      // Expiries missed while the Sentry was busy count as overruns, as on Linux.
      const now = k.monotonicNs();
      next = tm.deadline + tm.interval;
      if (next <= now) {
        missed = Math.floor((now - next) / tm.interval) + 1;
        next += missed * tm.interval;
      }
    }
    fire(t, tg, tm, missed);
    if (tm.interval > 0) arm(t, tm, next);
    else tm.deadline = 0;
  });
}

/** One expiry (plus `missed` ones folded into it): queue the signal, or count overruns on the one still pending. */
function fire(t: Task, tg: ThreadGroup, tm: PosixTimer, missed: number): void {
  if (tm.notify === SIGEV_NONE) return;
  const pending = tm.notify === SIGEV_THREAD_ID ? t.kernel.tasks.get(tm.tid)?.pending : tg.pending;
  const raw = pending?.get(tm.signo)?.raw;
  if (raw && raw.readInt32LE(8) === SI_TIMER && raw.readInt32LE(16) === tm.id) {
    // The receiver reads the overrun count as of delivery: keep the queued siginfo current.
    tm.overrun += 1 + missed;
  } else {
    tm.overrun = missed;
    const info = Buffer.alloc(128);
    info.writeInt32LE(tm.signo, 0);
    info.writeInt32LE(SI_TIMER, 8);
    info.writeInt32LE(tm.id, 16);
    info.writeBigUInt64LE(tm.value, 24);
    const si = { signo: tm.signo, code: SI_TIMER, raw: info };
    if (tm.notify === SIGEV_THREAD_ID) {
      const target = t.kernel.tasks.get(tm.tid);
      if (target && target.tg === tg) target.sendSignal(tm.signo, si);
    } else {
      t.kernel.signals.sendToGroup(tg, tm.signo, si);
    }
    tm.pendingInfo = info;
  }
  tm.pendingInfo?.writeInt32LE(Math.min(tm.overrun, 0x7fffffff), 20);
  tm.lastOverrun = tm.overrun;
}

/** Nanoseconds from now until the clock reads target (realtime clocks follow the realtime offset). */
function monotonicDeadline(t: Task, clock: number, value: number, absolute: boolean): number {
  const now = t.kernel.monotonicNs();
  if (!absolute) return now + value;
  return now + Math.max(0, value - clockNow(t, clock === CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : clock === CLOCK_BOOTTIME_ALARM ? CLOCK_BOOTTIME : clock));
}

function writeItimerspec(t: Task, addr: number, tm: PosixTimer): void {
  writeTimespec(t, addr, tm.interval);
  writeTimespec(t, addr + 16, tm.deadline ? Math.max(1, tm.deadline - t.kernel.monotonicNs()) : 0);
}

function timerSettime(t: Task, a: number[]): number {
  const tm = get(t, i32(a[0]));
  const flags = i32(a[1]);
  if (flags & ~TIMER_ABSTIME) throw new Errno(E.EINVAL);
  const interval = readTimespec(t, a[2]);
  const value = readTimespec(t, a[2] + 16);
  if (a[3]) writeItimerspec(t, a[3], tm);
  disarm(t, tm);
  tm.interval = interval;
  tm.overrun = 0;
  if (value > 0) arm(t, tm, monotonicDeadline(t, tm.clock, value, (flags & TIMER_ABSTIME) !== 0));
  return 0;
}

function timerGettime(t: Task, a: number[]): number {
  writeItimerspec(t, a[1], get(t, i32(a[0])));
  return 0;
}

function timerDelete(t: Task, a: number[]): number {
  const tm = get(t, i32(a[0]));
  disarm(t, tm);
  timers.get(t.tg)!.delete(tm.id);
  return 0;
}

execHooks.push((tg) => {
  const m = timers.get(tg);
  if (!m) return;
  for (const tm of m.values()) tm.deadline = 0;
  m.clear();
});

export const defs: SyscallDef[] = [
  { nr: 222, name: 'timer_create', fn: timerCreate, args: ['clockid', 'ptr', 'ptr'], partial: 'no CPU-time clocks (EINVAL); SIGEV_THREAD is left to libc' },
  { nr: 223, name: 'timer_settime', fn: timerSettime, args: ['int', 'timer_flags', 'itimerspec', 'itimerspec_out'] },
  { nr: 224, name: 'timer_gettime', fn: timerGettime, args: ['int', 'itimerspec_out'] },
  { nr: 225, name: 'timer_getoverrun', fn: (t, a) => Math.min(get(t, i32(a[0])).lastOverrun ?? 0, 0x7fffffff), args: ['int'] },
  { nr: 226, name: 'timer_delete', fn: timerDelete, args: ['int'] },
];
