// Clocks, sleeps and interval timers: clock_gettime/clock_getres, gettimeofday,
// time, nanosleep/clock_nanosleep with Linux's restart protocol,
// alarm and setitimer/getitimer (man 2 clock_gettime, nanosleep,
// clock_nanosleep, alarm, setitimer).
//
// Time bases: clock_gettime reads the host's realtime and coarse clocks
// (hostClock below) as the application's vDSO does; otherwise CLOCK_REALTIME
// and friends come from Kernel.realtimeNs(), the monotonic family from
// Kernel.monotonicNs() as is. CPU-time clocks count the host's CPU time of
// the stubs (Task.cpuTime).
//
// Interval timers are the thread group's (kernel/itimers.ts). An interrupted
// relative sleep leaves its continuation as data (Task.restartBlock), which
// restart_syscall runs (sys_restart.ts).

import { capableInit } from '../auth/userns';
import { vTask, vGroup } from '../kernel/pid_ns';
import { CAP_WAKE_ALARM } from '../abi/capability';
import { decodeTimespec, decodeTimeval, encodeTimespec, encodeTimeval, NSEC_PER_SEC as NS, TIMESPEC_SIZE } from '../abi/time';
import { E, Errno, ERESTART_RESTARTBLOCK, ERESTARTNOHAND, ERESTARTSYS } from '../abi/errno';
import { FOREVER_NS } from '../kernel/itimers';
import type { Task } from '../kernel/task';
import type { CpuClock } from '../kernel/posix_timers';
import { i32, u32, type SyscallDef } from '../kernel/syscall';

export const CLOCK_REALTIME = 0;
export const CLOCK_MONOTONIC = 1;
export const CLOCK_PROCESS_CPUTIME_ID = 2;
export const CLOCK_THREAD_CPUTIME_ID = 3;
export const CLOCK_MONOTONIC_RAW = 4;
export const CLOCK_REALTIME_COARSE = 5;
export const CLOCK_MONOTONIC_COARSE = 6;
export const CLOCK_BOOTTIME = 7;
export const CLOCK_REALTIME_ALARM = 8;
export const CLOCK_BOOTTIME_ALARM = 9;
export const CLOCK_TAI = 11;
export const TIMER_ABSTIME = 1;

export const ITIMER_REAL = 0;
export const ITIMER_VIRTUAL = 1;
export const ITIMER_PROF = 2;

/** Resolution of the coarse clocks: one tick at HZ=250, as on Debian's kernels. */
const COARSE_RES_NS = 4_000_000;

// ---- struct timespec / timeval ------------------------------------------------------

/** Write a struct timespec for a non-negative ns count. */
export function writeTimespec(t: Task, addr: number, ns: number): void {
  const b = Buffer.alloc(TIMESPEC_SIZE);
  encodeTimespec(b, 0, ns);
  t.mm.copyOut(addr, b);
}

/** Write a struct timespec given as [seconds, nanoseconds] (exact, unlike a count of ns in a double). */
function writeTimespecParts(t: Task, addr: number, [sec, ns]: [number, number]): void {
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(BigInt(sec), 0);
  b.writeBigInt64LE(BigInt(ns), 8);
  t.mm.copyOut(addr, b);
}

/**
 * The clocks clock_gettime reads from the host, as the vDSO in the
 * application does (which host clock serves each): a read through the system
 * call then falls between two vDSO reads, as on Linux. CLOCK_TAI is the
 * realtime clock here (TAI offset 0, see the table's note).
 */
function hostClock(id: number): number {
  switch (id) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_ALARM: case CLOCK_TAI: return CLOCK_REALTIME;
    case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE: case CLOCK_MONOTONIC_RAW: return id;
    default: return -1;
  }
}

/** Read a struct timespec as nanoseconds (EINVAL for a negative or unnormalised one). */
export function readTimespec(t: Task, addr: number): number {
  return decodeTimespec(t.mm.copyIn(addr, TIMESPEC_SIZE));
}

// ---- clocks ---------------------------------------------------------------------------

/**
 * A CPU-time clock named by a negative clockid (clock_getcpuclockid,
 * pthread_getcpuclockid): ~pid << 3 | perthread << 2 | which (0 PROF, 1 VIRT
 * = user time, 2 SCHED). Returns its current value in ns and whether it is a
 * thread clock; EINVAL when it names nothing valid.
 */
function cpuClock(t: Task, id: number): { ns: number; perThread: boolean } {
  const which = id & 3;
  const perThread = (id & 4) !== 0;
  const pid = ~(id >> 3);
  if (which === 3) throw new Errno(E.EINVAL);
  let c: { userNs: number; sysNs: number };
  if (perThread) {
    const task = pid === 0 ? t : vTask(t, pid);
    if (!task || task.tg !== t.tg) throw new Errno(E.EINVAL);
    c = task.cpuTime(true);
  } else {
    const tg = pid === 0 ? t.tg : vGroup(t, pid);
    if (!tg || tg.zombie) throw new Errno(E.EINVAL);
    c = tg.cpuTime(true);
  }
  return { ns: which === 1 ? c.userNs : c.userNs + c.sysNs, perThread };
}

/** The CPU-time clock a timer created on clock id counts (timer_create); EINVAL for a clock that names nothing. */
export function cpuClockOf(t: Task, id: number): CpuClock {
  if (id === CLOCK_PROCESS_CPUTIME_ID) return { which: 2, task: null, group: t.tg };
  if (id === CLOCK_THREAD_CPUTIME_ID) return { which: 2, task: t, group: null };
  const which = id & 3;
  const pid = ~(id >> 3);
  if (id >= 0 || which === 3) throw new Errno(E.EINVAL);
  if (id & 4) {
    const task = pid === 0 ? t : vTask(t, pid);
    if (!task || task.tg !== t.tg) throw new Errno(E.EINVAL);
    return { which, task, group: null };
  }
  const tg = pid === 0 ? t.tg : vGroup(t, pid);
  if (!tg || tg.zombie) throw new Errno(E.EINVAL);
  return { which, task: null, group: tg };
}

/** [seconds, nanoseconds] the task's time namespace adds to clock id (man 7 time_namespaces). */
function nsOffset(t: Task, id: number): [number, number] {
  const tn = t.nsproxy.time;
  switch (id) {
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE: return tn.monotonic;
    case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM: return tn.boottime;
    default: return ZERO_OFFSET;
  }
}
const ZERO_OFFSET: [number, number] = [0, 0];

/** CLOCK_BOOTTIME's offset in the task's time namespace, in ns (sysinfo's uptime). */
export function boottimeOffsetNs(t: Task): number {
  const [s, n] = t.nsproxy.time.boottime;
  return s * NS + n;
}

/** The current value of clock id, in ns, in the task's time namespace; EINVAL for an unknown clock. */
export function clockNow(t: Task, id: number): number {
  const [s, n] = nsOffset(t, id);
  return clockNowInitial(t, id) + s * NS + n;
}

/** clock_gettime's answer: the clock read (from the host for the clocks the vDSO reads there) plus the namespace's offset. */
function clockParts(t: Task, id: number): [number, number] {
  const host = hostClock(id);
  let sec: number;
  let ns: number;
  if (host >= 0) [sec, ns] = t.kernel.clock(host);
  else {
    const v = clockNowInitial(t, id);
    sec = Math.floor(v / NS);
    ns = v - sec * NS;
  }
  const [os, on] = nsOffset(t, id);
  ns += on;
  sec += os;
  if (ns >= NS) {
    ns -= NS;
    sec++;
  }
  return [sec, ns];
}

/** The current value of clock id in the initial time namespace, in ns. */
function clockNowInitial(t: Task, id: number): number {
  const k = t.kernel;
  switch (id) {
    case CLOCK_REALTIME: case CLOCK_REALTIME_COARSE: case CLOCK_REALTIME_ALARM: case CLOCK_TAI:
      return k.realtimeNs();
    case CLOCK_MONOTONIC: case CLOCK_MONOTONIC_RAW: case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME: case CLOCK_BOOTTIME_ALARM:
      return k.monotonicNs();
    case CLOCK_PROCESS_CPUTIME_ID: {
      const c = t.tg.cpuTime(true);
      return c.userNs + c.sysNs;
    }
    case CLOCK_THREAD_CPUTIME_ID: {
      const c = t.cpuTime(true);
      return c.userNs + c.sysNs;
    }
    default:
      if (id < 0) return cpuClock(t, id).ns;
      throw new Errno(E.EINVAL);
  }
}

function clockRes(t: Task, id: number): number {
  if (id === CLOCK_REALTIME_COARSE || id === CLOCK_MONOTONIC_COARSE) return COARSE_RES_NS;
  clockNow(t, id); // validates
  return 1;
}

// ---- sleeping ---------------------------------------------------------------------------

function isInterrupt(e: unknown): boolean {
  return e instanceof Errno && e.errno === ERESTARTSYS;
}

/** Block until the monotonic deadline; deadlines beyond FOREVER_NS only end with a signal. */
function sleepTo(t: Task, deadline: number): Promise<unknown> {
  return deadline > FOREVER_NS ? t.block(null, 0) : t.sleepUntil(deadline);
}

/**
 * A relative sleep until a monotonic deadline. When a signal interrupts it,
 * write the time left to rem (if any) and leave a restart block that sleeps
 * on to the same deadline (restart_syscall), then fail with
 * ERESTART_RESTARTBLOCK: EINTR if a handler runs, a transparent restart if not.
 */
export function relativeSleep(t: Task, deadline: number, rem: number): number | Promise<number> {
  if (deadline <= t.kernel.monotonicNs()) return 0;
  return sleepTo(t, deadline).then(
    () => 0,
    (e: unknown) => {
      if (!isInterrupt(e)) throw e;
      if (rem) writeTimespec(t, rem, deadline - t.kernel.monotonicNs());
      t.restartBlock = { kind: 'nanosleep', deadline, rem };
      throw new Errno(ERESTART_RESTARTBLOCK);
    },
  );
}

/** An absolute sleep: interrupted, it fails with ERESTARTNOHAND (re-run with the same arguments). */
function absoluteSleep(t: Task, id: number, targetNs: number): number | Promise<number> {
  const now = clockNow(t, id);
  if (targetNs <= now) return 0;
  const deadline = t.kernel.monotonicNs() + (targetNs - now);
  return sleepTo(t, deadline).then(
    () => 0,
    (e: unknown) => {
      throw isInterrupt(e) ? new Errno(ERESTARTNOHAND) : e;
    },
  );
}

function nanosleep(t: Task, a: number[]): number | Promise<number> {
  const ns = readTimespec(t, a[0]);
  return relativeSleep(t, t.kernel.monotonicNs() + ns, a[1]);
}

function clockNanosleep(t: Task, a: number[]): number | Promise<number> {
  const id = i32(a[0]);
  const flags = i32(a[1]);
  switch (id) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_BOOTTIME: case CLOCK_TAI:
    case CLOCK_PROCESS_CPUTIME_ID:
      break;
    case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM:
      if (flags & ~TIMER_ABSTIME) throw new Errno(E.EINVAL);
      if (!capableInit(t.creds, CAP_WAKE_ALARM)) throw new Errno(E.EPERM);
      break;
    case CLOCK_THREAD_CPUTIME_ID: case CLOCK_MONOTONIC_RAW:
    case CLOCK_REALTIME_COARSE: case CLOCK_MONOTONIC_COARSE:
      throw new Errno(E.EOPNOTSUPP);
    default:
      if (id >= 0 || cpuClock(t, id).perThread) throw new Errno(E.EINVAL);
  }
  const ns = readTimespec(t, a[2]);
  if (flags & TIMER_ABSTIME) return absoluteSleep(t, id, ns);
  return relativeSleep(t, t.kernel.monotonicNs() + ns, a[3]);
}

// ---- alarm and interval timers ------------------------------------------------------

function alarm(t: Task, a: number[]): number {
  const secs = u32(a[0]);
  const s = t.tg.itimers;
  const left = s.realRemaining(t.kernel);
  s.armReal(t.kernel, secs ? t.kernel.monotonicNs() + secs * NS : 0, 0);
  // Seconds left of the previous alarm, rounded to nearest, at least 1 if any time was left.
  let oldSecs = Math.floor(left / NS);
  const usec = Math.floor((left % NS) / 1000);
  if ((oldSecs === 0 && usec > 0) || usec >= 500_000) oldSecs++;
  return oldSecs;
}

/** The current value of a timer as [value, interval] in ns. */
function itimerGet(t: Task, which: number): [number, number] {
  const s = t.tg.itimers;
  switch (which) {
    case ITIMER_REAL: return [s.realRemaining(t.kernel), s.realInterval];
    case ITIMER_VIRTUAL: return [s.virt.remaining(), s.virt.interval];
    case ITIMER_PROF: return [s.prof.remaining(), s.prof.interval];
    default: throw new Errno(E.EINVAL);
  }
}

function writeItimerval(t: Task, addr: number, [value, interval]: [number, number]): void {
  const b = Buffer.alloc(32);
  encodeTimeval(b, 0, interval);
  encodeTimeval(b, 16, value);
  t.mm.copyOut(addr, b);
}

function getitimer(t: Task, a: number[]): number {
  writeItimerval(t, a[1], itimerGet(t, i32(a[0])));
  return 0;
}

function setitimer(t: Task, a: number[]): number {
  const which = i32(a[0]);
  let value = 0;
  let interval = 0;
  if (a[1]) {
    const b = t.mm.copyIn(a[1], 32);
    interval = decodeTimeval(b, 0);
    value = decodeTimeval(b, 16);
  } // Linux treats a NULL new_value as all zeros: the timer is disarmed.
  const old = itimerGet(t, which);
  const s = t.tg.itimers;
  if (which === ITIMER_REAL) {
    s.armReal(t.kernel, value ? t.kernel.monotonicNs() + value : 0, interval);
  } else {
    (which === ITIMER_VIRTUAL ? s.virt : s.prof).arm(t.kernel, value, interval);
  }
  if (a[2]) writeItimerval(t, a[2], old);
  return 0;
}

// ---- the table ------------------------------------------------------------------------

export const defs: SyscallDef[] = [
  {
    nr: 228, name: 'clock_gettime', args: ['clockid', 'timespec_out'],
    fn: (t, a) => {
      writeTimespecParts(t, a[1], clockParts(t, i32(a[0])));
      return 0;
    },
    partial: 'CPU-time clocks count the host\'s CPU time of the stub processes (the Sentry\'s work for them is not charged); CLOCK_TAI equals CLOCK_REALTIME (TAI offset 0); BOOTTIME equals MONOTONIC (no suspend)',
  },
  {
    nr: 229, name: 'clock_getres', args: ['clockid', 'timespec_out'],
    fn: (t, a) => {
      const res = clockRes(t, i32(a[0]));
      if (a[1]) writeTimespec(t, a[1], res);
      return 0;
    },
  },
  {
    nr: 96, name: 'gettimeofday', args: ['timeval_out', 'ptr'],
    fn: (t, a) => {
      if (a[0]) {
        const [sec, ns] = t.kernel.realtime();
        const b = Buffer.alloc(16);
        b.writeBigInt64LE(BigInt(sec), 0);
        b.writeBigInt64LE(BigInt(Math.floor(ns / 1000)), 8);
        t.mm.copyOut(a[0], b);
      }
      if (a[1]) t.mm.copyOut(a[1], Buffer.alloc(8)); // struct timezone: UTC, no DST
      return 0;
    },
  },
  {
    nr: 201, name: 'time', args: ['ptr'],
    fn: (t, a) => {
      // Linux answers with the coarse clock's seconds, as the vDSO's time() reads them: the
      // fine clock can be a second ahead of both for up to a tick (clockagree.c).
      const secs = t.kernel.clock(5 /* CLOCK_REALTIME_COARSE */)[0];
      if (a[0]) t.mm.writeI64(a[0], secs);
      return secs;
    },
  },
  { nr: 35, name: 'nanosleep', args: ['timespec', 'timespec_rem'], fn: nanosleep },
  {
    nr: 230, name: 'clock_nanosleep', args: ['clockid', 'timer_flags', 'timespec', 'timespec_rem'], fn: clockNanosleep,
    partial: 'sleeping on CLOCK_PROCESS_CPUTIME_ID (or a process CPU clock) sleeps in monotonic time; a CLOCK_REALTIME absolute sleep does not follow later changes of the realtime clock',
  },
  { nr: 37, name: 'alarm', args: ['uint'], fn: alarm },
  { nr: 36, name: 'getitimer', args: ['itimer_which', 'itimerval_out'], fn: getitimer },
  {
    nr: 38, name: 'setitimer', args: ['itimer_which', 'itimerval', 'itimerval_out'], fn: setitimer,
    partial: 'ITIMER_VIRTUAL and ITIMER_PROF count the host\'s CPU time of the stubs (the Sentry\'s work is not charged) and fire when the Sentry looks at it, which can be a little (at least 1 ms) after it ran out',
  },
];
