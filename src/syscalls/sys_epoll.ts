// epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait,
// epoll_pwait2 (man 2 epoll_*; the set itself is vfs/epoll.ts).
import { E, Errno, ERESTART_RESTARTBLOCK, ERESTARTSYS } from '../abi/errno';
import { O_CLOEXEC, O_RDWR } from '../abi/fs';
import { decodeTimespec, TIMESPEC_SIZE } from '../abi/time';
import type { Task } from '../kernel/task';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { EPOLL_CTL_DEL, EpollFile, type EpollEvent } from '../vfs/epoll';
import { EVENT_IN } from '../abi/waitqueue';
import { withSigmask } from './sys_poll';

/** struct epoll_event is packed on x86-64: u32 events, u64 data. */
const EVENT_SIZE = 12;
/** Linux's EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event). */
const MAX_EVENTS = Math.floor(0x7fffffff / EVENT_SIZE);

function create(t: Task, flags: number): number {
  if (flags & ~O_CLOEXEC) throw new Errno(E.EINVAL);
  const ep = new EpollFile(O_RDWR, t.heapBudget);
  try {
    return t.fdTable.install(ep, (flags & O_CLOEXEC) !== 0);
  } catch (e) {
    ep.decRef();
    throw e;
  }
}

function ctl(t: Task, epfd: number, op: number, fd: number, evAddr: number): number {
  let ev: EpollEvent | null = null;
  if (op !== EPOLL_CTL_DEL) {
    const b = t.mm.copyIn(evAddr, EVENT_SIZE);
    ev = { events: b.readUInt32LE(0), data: b.readBigUInt64LE(4) };
  }
  const ep = t.fdTable.get(epfd);
  const target = t.fdTable.get(fd);
  if (!target.canPoll()) throw new Errno(E.EPERM);
  if (!(ep instanceof EpollFile) || ep === target) throw new Errno(E.EINVAL);
  ep.ctl(op, fd, target, ev);
  return 0;
}

function epollOf(t: Task, epfd: number, events: number, max: number): EpollFile {
  if (max <= 0 || max > MAX_EVENTS) throw new Errno(E.EINVAL);
  // access_ok: the array must lie in user space; faults come at copy-out.
  if (!(events >= 0) || events + max * EVENT_SIZE > t.mm.top) throw new Errno(E.EFAULT);
  const ep = t.fdTable.get(epfd);
  if (!(ep instanceof EpollFile)) throw new Errno(E.EINVAL);
  return ep;
}

/**
 * Wait for events until the deadline (undefined: for ever). A signal ends
 * the wait with EINTR whatever SA_RESTART says, as on Linux; only a pause
 * of the sandbox goes on to the same deadline after it.
 */
async function wait(t: Task, epfd: number, ep: EpollFile, events: number, max: number, deadline: number | undefined): Promise<number> {
  for (;;) {
    const got = ep.collect(max);
    if (got.length > 0) return copyEvents(t, events, got);
    if (deadline !== undefined && t.kernel.monotonicNs() >= deadline) return 0;
    try {
      const r = await t.block(ep, EVENT_IN, deadline);
      if (r === 0 && deadline !== undefined) return copyEvents(t, events, ep.collect(max));
    } catch (e) {
      if (!(e instanceof Errno) || e.errno !== ERESTARTSYS) throw e;
      if (t.kernel.pausing && !t.hasInterruptingSignal() && deadline !== undefined) {
        t.restartBlock = { kind: 'epoll', epfd, events, max, deadline };
        throw new Errno(ERESTART_RESTARTBLOCK);
      }
      if (t.kernel.pausing && !t.hasInterruptingSignal()) throw e;
      throw new Errno(E.EINTR);
    }
  }
}

/** Copy events out; a fault after the first one reports what was copied, as Linux. */
function copyEvents(t: Task, addr: number, evs: EpollEvent[]): number {
  const b = Buffer.alloc(evs.length * EVENT_SIZE);
  evs.forEach((e, i) => {
    b.writeUInt32LE(e.events >>> 0, i * EVENT_SIZE);
    b.writeBigUInt64LE(e.data, i * EVENT_SIZE + 4);
  });
  for (let i = 0; i < evs.length; i++) {
    try {
      t.mm.copyOut(addr + i * EVENT_SIZE, b.subarray(i * EVENT_SIZE, (i + 1) * EVENT_SIZE));
    } catch (e) {
      if (i === 0) throw e;
      return i;
    }
  }
  return evs.length;
}

function msDeadline(t: Task, ms: number): number | undefined {
  return ms < 0 ? undefined : t.kernel.monotonicNs() + ms * 1e6;
}

function epollWait(t: Task, a: number[]): Promise<number> {
  const ep = epollOf(t, i32(a[0]), a[1], i32(a[2]));
  return wait(t, i32(a[0]), ep, a[1], i32(a[2]), msDeadline(t, i32(a[3])));
}

function epollPwait(t: Task, a: number[]): Promise<number> {
  if (a[4] && a[5] !== 8) throw new Errno(E.EINVAL);
  const ep = epollOf(t, i32(a[0]), a[1], i32(a[2]));
  const deadline = msDeadline(t, i32(a[3]));
  return withSigmask(t, a[4], a[5], () => wait(t, i32(a[0]), ep, a[1], i32(a[2]), deadline));
}

function epollPwait2(t: Task, a: number[]): Promise<number> {
  if (a[4] && a[5] !== 8) throw new Errno(E.EINVAL);
  const deadline = a[3] ? t.kernel.monotonicNs() + decodeTimespec(t.mm.copyIn(a[3], TIMESPEC_SIZE)) : undefined;
  const ep = epollOf(t, i32(a[0]), a[1], i32(a[2]));
  return withSigmask(t, a[4], a[5], () => wait(t, i32(a[0]), ep, a[1], i32(a[2]), deadline));
}

/** restart_syscall of an epoll_wait unwound by a pause. */
export function restartEpollWait(t: Task, epfd: number, events: number, max: number, deadline: number): Promise<number> {
  const ep = epollOf(t, epfd, events, max);
  return wait(t, epfd, ep, events, max, deadline);
}

export const defs: SyscallDef[] = [
  {
    nr: 213, name: 'epoll_create', args: ['int'],
    fn: (t, a) => {
      if (i32(a[0]) <= 0) throw new Errno(E.EINVAL);
      return create(t, 0);
    },
  },
  { nr: 291, name: 'epoll_create1', args: ['fdflags'], fn: (t, a) => create(t, u32(a[0])) },
  { nr: 233, name: 'epoll_ctl', args: ['fd', 'int', 'fd', 'ptr'], fn: (t, a) => ctl(t, i32(a[0]), i32(a[1]), i32(a[2]), a[3]) },
  { nr: 232, name: 'epoll_wait', args: ['fd', 'ptr', 'int', 'int'], fn: epollWait },
  { nr: 281, name: 'epoll_pwait', args: ['fd', 'ptr', 'int', 'int', 'ptr', 'size'], fn: epollPwait },
  { nr: 441, name: 'epoll_pwait2', args: ['fd', 'ptr', 'int', 'ptr', 'ptr', 'size'], fn: epollPwait2 },
];
