// restart_syscall(2): how each interrupted call whose restart block is data
// (Task.restartBlock) goes on. Linux's rule: a call that must continue with
// its remaining time rather than its original arguments (relative sleeps,
// poll, futex waits with a timeout) fails with ERESTART_RESTARTBLOCK and
// leaves a block; without a handler the application runs restart_syscall,
// which lands here.

import { E, Errno } from '../abi/errno';
import type { RestartBlock, Task } from '../kernel/task';
import type { SyscallDef } from '../kernel/syscall';
import { relativeSleep } from './sys_time';
import { sigtimedwaitUntil } from './sys_signal';
import { restartPoll } from './sys_poll';
import { restartFutexWait } from './sys_futex';
import { restartEpollWait } from './sys_epoll';

const RESTART: { [K in RestartBlock['kind']]: (t: Task, rb: Extract<RestartBlock, { kind: K }>) => number | Promise<number> } = {
  nanosleep: (t, rb) => relativeSleep(t, rb.deadline, rb.rem),
  sigtimedwait: (t, rb) => sigtimedwaitUntil(t, rb.set, rb.info, rb.deadline),
  poll: (t, rb) => restartPoll(t, rb.fds, rb.nfds, rb.deadline),
  futex: (t, rb) => restartFutexWait(t, rb.uaddr, rb.priv, rb.val, rb.bitset, rb.deadline),
  epoll: (t, rb) => restartEpollWait(t, rb.epfd, rb.events, rb.max, rb.deadline),
};

function runRestart<K extends RestartBlock['kind']>(t: Task, rb: Extract<RestartBlock, { kind: K }>): number | Promise<number> {
  return RESTART[rb.kind](t, rb);
}

function restartSyscall(t: Task): number | Promise<number> {
  const rb = t.restartBlock;
  t.restartBlock = null;
  if (!rb) throw new Errno(E.EINTR);
  return runRestart(t, rb);
}

export const defs: SyscallDef[] = [
  { nr: 219, name: 'restart_syscall', args: [], fn: (t) => restartSyscall(t) },
];
