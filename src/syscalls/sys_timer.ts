// POSIX per-process timers: timer_create, timer_settime, timer_gettime,
// timer_getoverrun, timer_delete. Expiry sends the chosen signal (SI_TIMER
// siginfo with the timer id, overrun count and sigev_value) to the process or
// to one thread (SIGEV_THREAD_ID). Timers are not inherited by fork and are
// deleted by execve. The timers themselves (records on the thread group, and
// their expiry) are kernel objects: kernel/posix_timers.ts.

import { capableInit } from '../auth/userns';
import { vTask } from '../kernel/pid_ns';
import { CAP_WAKE_ALARM } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import type { FamilyHooks } from '../kernel/lifecycle';
import { cpuClockNow, deletePosixTimers, PosixTimer } from '../kernel/posix_timers';
import { NSIG, SIGALRM, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_THREAD_ID } from '../abi/signals';
import type { Task } from '../kernel/task';
import {
  CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM, CLOCK_TAI, TIMER_ABSTIME,
  clockNow, cpuClockOf, readTimespec, writeTimespec,
} from './sys_time';
import { i32, type SyscallDef } from '../kernel/syscall';

const MAX_TIMERS = 32768;

function get(t: Task, id: number): PosixTimer {
  const tm = t.tg.posixTimers.get(id);
  if (!tm) throw new Errno(E.EINVAL);
  return tm;
}

function timerCreate(t: Task, a: number[]): number {
  const clock = i32(a[0]);
  const wall = [CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_TAI, CLOCK_REALTIME_ALARM, CLOCK_BOOTTIME_ALARM].includes(clock);
  // A negative id whose low bits are 3 names a clock by fd (CLOCKFD, PTP devices): no timers on those.
  if (clock < 0 && (clock & 7) === 3) throw new Errno(E.EOPNOTSUPP);
  const cpu = wall ? null : cpuClockOf(t, clock);
  if ((clock === CLOCK_REALTIME_ALARM || clock === CLOCK_BOOTTIME_ALARM) && !capableInit(t.creds, CAP_WAKE_ALARM)) throw new Errno(E.EPERM);
  const m = t.tg.posixTimers;
  if (m.size >= MAX_TIMERS) throw new Errno(E.EAGAIN);
  // Linux sets aside a queued signal for every timer, charged to RLIMIT_SIGPENDING.
  let timersAlive = 0;
  for (const tg of t.kernel.groups.values()) timersAlive += tg.posixTimers.size;
  t.kernel.signals.checkQueueLimit(t.tg, timersAlive);
  // Ids go round (Linux's next-id counter): the next free one from where the last was given.
  let id = t.tg.nextPosixTimerId;
  while (m.has(id)) id = (id + 1) & 0x7fffffff;
  t.tg.nextPosixTimerId = (id + 1) & 0x7fffffff;
  const tm = new PosixTimer(t.tg, id, clock, SIGALRM);
  tm.cpu = cpu;
  if (a[1]) {
    const ev = t.mm.copyIn(a[1], 64);
    tm.value = ev.readBigUInt64LE(0);
    tm.signo = ev.readInt32LE(8);
    tm.notify = ev.readInt32LE(12);
    tm.tid = ev.readInt32LE(16);
    if (tm.notify === SIGEV_THREAD_ID) {
      const target = vTask(t, tm.tid);
      if (!target || target.tg !== t.tg) throw new Errno(E.EINVAL);
    } else if (tm.notify !== SIGEV_SIGNAL && tm.notify !== SIGEV_NONE && tm.notify !== SIGEV_THREAD) {
      throw new Errno(E.EINVAL);
    }
    if (tm.notify !== SIGEV_NONE && (tm.signo < 1 || tm.signo > NSIG)) throw new Errno(E.EINVAL);
  }
  t.mm.writeI32(a[2], id);
  m.set(id, tm);
  return 0;
}

/**
 * The monotonic time at which the clock reads value (absolute) or value ns
 * from now. An absolute time already past stays in the past: the timer
 * fires at once and, periodic, counts the periods since as overruns.
 */
function timerDeadline(t: Task, tm: PosixTimer, value: number, absolute: boolean): number {
  const clock = tm.clock;
  // A CPU-time timer's deadline is a reading of its own clock.
  if (tm.cpu) return absolute ? value : (cpuClockNow(tm.cpu) ?? 0) + value;
  const now = t.kernel.monotonicNs();
  if (!absolute) return now + value;
  return now + (value - clockNow(t, clock === CLOCK_REALTIME_ALARM ? CLOCK_REALTIME : clock === CLOCK_BOOTTIME_ALARM ? CLOCK_BOOTTIME : clock));
}

function writeItimerspec(t: Task, addr: number, tm: PosixTimer): void {
  writeTimespec(t, addr, tm.interval);
  const now = tm.now(t.kernel);
  writeTimespec(t, addr + 16, tm.deadline && now !== null ? Math.max(1, tm.deadline - now) : 0);
}

function timerSettime(t: Task, a: number[]): number {
  // Linux's order: no new value (EINVAL), the copy (EFAULT) and its check (EINVAL), then the timer.
  if (!a[2]) throw new Errno(E.EINVAL);
  const interval = readTimespec(t, a[2]);
  const value = readTimespec(t, a[2] + 16);
  const tm = get(t, i32(a[0]));
  const flags = i32(a[1]);
  if (flags & ~TIMER_ABSTIME) throw new Errno(E.EINVAL);
  if (a[3]) writeItimerspec(t, a[3], tm);
  tm.interval = interval;
  tm.overrun = 0;
  tm.arm(t.kernel, value > 0 ? timerDeadline(t, tm, value, (flags & TIMER_ABSTIME) !== 0) : 0);
  return 0;
}

function timerGettime(t: Task, a: number[]): number {
  writeItimerspec(t, a[1], get(t, i32(a[0])));
  return 0;
}

function timerDelete(t: Task, a: number[]): number {
  const tm = get(t, i32(a[0]));
  tm.disarm(t.kernel);
  t.tg.posixTimers.delete(tm.id);
  return 0;
}

export const hooks: FamilyHooks = {
  exec: (tg) => {
    if (tg.posixTimers.size) deletePosixTimers(tg.leader.kernel, tg);
  },
};

export const defs: SyscallDef[] = [
  { nr: 222, name: 'timer_create', fn: timerCreate, args: ['clockid', 'ptr', 'ptr'], partial: 'CPU-time timers expire when a look at the clock (at least 1 ms apart) finds it past the deadline; SIGEV_THREAD reaching the kernel signals the process as SIGEV_SIGNAL does (libc builds it on SIGEV_THREAD_ID)' },
  { nr: 223, name: 'timer_settime', fn: timerSettime, args: ['int', 'timer_flags', 'itimerspec', 'itimerspec_out'] },
  { nr: 224, name: 'timer_gettime', fn: timerGettime, args: ['int', 'itimerspec_out'] },
  { nr: 225, name: 'timer_getoverrun', fn: (t, a) => Math.min(get(t, i32(a[0])).lastOverrun, 0x7fffffff), args: ['int'] },
  { nr: 226, name: 'timer_delete', fn: timerDelete, args: ['int'] },
];
