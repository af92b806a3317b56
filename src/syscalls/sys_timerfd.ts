// timerfd_create, timerfd_settime, timerfd_gettime (man 2 timerfd_create;
// the file is fsimpl/timerfd).
import { hasCapability } from '../auth/creds';
import { CAP_WAKE_ALARM } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../abi/fs';
import { decodeTimespec, encodeTimespec } from '../abi/time';
import type { Task } from '../kernel/task';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { TimerFdFile } from '../fsimpl/timerfd/timerfd';
import { clockNow, CLOCK_BOOTTIME, CLOCK_BOOTTIME_ALARM, CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_REALTIME_ALARM } from './sys_time';

const TFD_TIMER_ABSTIME = 1, TFD_TIMER_CANCEL_ON_SET = 2;

function create(t: Task, clockid: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK)) throw new Errno(E.EINVAL);
  switch (clockid) {
    case CLOCK_REALTIME: case CLOCK_MONOTONIC: case CLOCK_BOOTTIME:
      break;
    case CLOCK_REALTIME_ALARM: case CLOCK_BOOTTIME_ALARM:
      if (!hasCapability(t.creds, CAP_WAKE_ALARM)) throw new Errno(E.EPERM);
      break;
    default:
      throw new Errno(E.EINVAL);
  }
  const f = new TimerFdFile(t.kernel, clockid, O_RDWR | (flags & O_NONBLOCK));
  try {
    return t.fdTable.install(f, (flags & O_CLOEXEC) !== 0);
  } catch (e) {
    f.decRef();
    throw e;
  }
}

function timerfdOf(t: Task, fd: number): TimerFdFile {
  const f = t.fdTable.get(fd);
  if (!(f instanceof TimerFdFile)) throw new Errno(E.EINVAL);
  return f;
}

function writeItimerspec(t: Task, addr: number, [value, interval]: [number, number]): void {
  const b = Buffer.alloc(32);
  encodeTimespec(b, 0, interval);
  encodeTimespec(b, 16, value);
  t.mm.copyOut(addr, b);
}

function settime(t: Task, fd: number, flags: number, newAddr: number, oldAddr: number): number {
  if (flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) throw new Errno(E.EINVAL);
  const b = t.mm.copyIn(newAddr, 32);
  const interval = decodeTimespec(b, 0);
  let value = decodeTimespec(b, 16);
  const f = timerfdOf(t, fd);
  // An absolute time on a monotonic or boot clock is in the task's time namespace: the file counts in the initial one.
  if (flags & TFD_TIMER_ABSTIME && value > 0 && f.clockid !== CLOCK_REALTIME && f.clockid !== CLOCK_REALTIME_ALARM) {
    value = Math.max(1, value - (clockNow(t, f.clockid) - t.kernel.monotonicNs()));
  }
  const old = f.set(value, interval, (flags & TFD_TIMER_ABSTIME) !== 0, flags);
  if (oldAddr) writeItimerspec(t, oldAddr, old);
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 283, name: 'timerfd_create', args: ['clockid', 'fdflags'], fn: (t, a) => create(t, i32(a[0]), u32(a[1])) },
  {
    nr: 286, name: 'timerfd_settime', args: ['fd', 'int', 'itimerspec', 'ptr'], fn: (t, a) => settime(t, i32(a[0]), i32(a[1]), a[2], a[3]),
    partial: 'TFD_TIMER_CANCEL_ON_SET is accepted but never cancels: the sandbox realtime clock cannot be set',
  },
  {
    nr: 287, name: 'timerfd_gettime', args: ['fd', 'ptr'],
    fn: (t, a) => {
      writeItimerspec(t, a[1], timerfdOf(t, i32(a[0])).get());
      return 0;
    },
  },
];
