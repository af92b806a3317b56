// futex(2) and the robust list calls: argument decoding. The wait queues are
// the kernel's FutexTable (kernel/futex.ts).

import { hasCapability } from '../auth/creds';
import { CAP_SYS_PTRACE } from '../abi/capability';
import { decodeTimespec, TIMESPEC_SIZE } from '../abi/time';
import { E, Errno, ERESTART_RESTARTBLOCK, ERESTARTSYS } from '../abi/errno';
import type { Task } from '../kernel/task';
import { BITSET_MATCH_ANY } from '../kernel/futex';
import { i32, type SyscallDef } from '../kernel/syscall';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5;
const FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;

function readTimeout(t: Task, addr: number, absolute: boolean, realtime: boolean): number | undefined {
  if (addr === 0) return undefined;
  const ns = decodeTimespec(t.mm.copyIn(addr, TIMESPEC_SIZE));
  if (!absolute) return t.kernel.monotonicNs() + ns;
  return realtime ? t.kernel.monotonicNs() + (ns - t.kernel.realtimeNs()) : ns;
}

/** Linux's wake loops stop after the count is reached, counting the first waiter before the test: 0 or less wakes one. */
function wakeCount(n: number): number {
  return Math.max(1, n);
}

/**
 * FUTEX_WAKE_OP: op is (op type | OPARG_SHIFT) << 28 | cmp << 24 | oparg << 12 | cmparg,
 * both arguments signed 12-bit. The operation on *uaddr2 happens (or fails
 * with ENOSYS) before the comparison is looked at, so an unknown comparison
 * is ENOSYS after the write, as on Linux.
 */
function wakeOp(t: Task, a: number[], priv: boolean): number {
  const [uaddr, n1, n2, uaddr2, op] = [a[0], i32(a[2]), i32(a[3]), a[4], a[5] >>> 0];
  const fx = t.kernel.futexes;
  const k1 = fx.key(t, uaddr, priv);
  const k2 = fx.key(t, uaddr2, priv);
  const opType = (op >>> 28) & 7;
  const shift = (op >>> 28) & 8;
  const cmp = (op >>> 24) & 15;
  let oparg = (op << 8) >> 20;
  const cmparg = (op << 20) >> 20;
  // Linux masks a shift out of 0..31 (with a warning) rather than refusing it.
  if (shift) oparg = 1 << (oparg & 31);
  if (opType > 4) throw new Errno(E.ENOSYS);
  const old = t.mm.readI32(uaddr2);
  const next = [oparg, (old + oparg) | 0, old | oparg, old & ~oparg, old ^ oparg][opType];
  t.mm.writeI32(uaddr2, next);
  const ok = [old === cmparg, old !== cmparg, old < cmparg, old <= cmparg, old > cmparg, old >= cmparg][cmp];
  if (ok === undefined) throw new Errno(E.ENOSYS);
  let r = fx.wake(k1, wakeCount(n1), BITSET_MATCH_ANY);
  if (ok) r += fx.wake(k2, wakeCount(n2), BITSET_MATCH_ANY);
  return r;
}

/** The requeue operations refuse negative counts first of all (EINVAL), as Linux's futex_requeue. */
function needCounts(a: number[]): void {
  if (i32(a[2]) < 0 || i32(a[3]) < 0) throw new Errno(E.EINVAL);
}

/**
 * A wait interrupted by a signal: without a timeout it restarts as it was
 * (ERESTARTSYS); with one, it goes on to the same deadline through
 * restart_syscall, as Linux's futex_wait_restart.
 */
async function restartableWait(t: Task, uaddr: number, priv: boolean, val: number, bitset: number, deadline: number | undefined): Promise<number> {
  const fx = t.kernel.futexes;
  try {
    return await fx.wait(t, fx.key(t, uaddr, priv), uaddr, val, bitset, deadline);
  } catch (e) {
    if (deadline === undefined || !(e instanceof Errno) || e.errno !== ERESTARTSYS) throw e;
    t.restartBlock = { kind: 'futex', uaddr, priv, val, bitset, deadline };
    throw new Errno(ERESTART_RESTARTBLOCK);
  }
}

export function restartFutexWait(t: Task, uaddr: number, priv: boolean, val: number, bitset: number, deadline: number): Promise<number> {
  return restartableWait(t, uaddr, priv, val, bitset, deadline);
}

function futex(t: Task, a: number[]): number | Promise<number> {
  const op = i32(a[1]);
  const priv = (op & FUTEX_PRIVATE_FLAG) !== 0;
  const cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  const realtime = (op & FUTEX_CLOCK_REALTIME) !== 0;
  const uaddr = a[0];
  const fx = t.kernel.futexes;
  switch (cmd) {
    case FUTEX_WAIT:
      if (realtime) throw new Errno(E.ENOSYS);
      return restartableWait(t, uaddr, priv, i32(a[2]), BITSET_MATCH_ANY, readTimeout(t, a[3], false, false));
    case FUTEX_WAIT_BITSET:
      return restartableWait(t, uaddr, priv, i32(a[2]), a[5] >>> 0, readTimeout(t, a[3], true, realtime));
    case FUTEX_WAKE:
      return fx.wake(fx.key(t, uaddr, priv), wakeCount(i32(a[2])), BITSET_MATCH_ANY);
    case FUTEX_WAKE_BITSET:
      return fx.wake(fx.key(t, uaddr, priv), wakeCount(i32(a[2])), a[5] >>> 0);
    case FUTEX_REQUEUE:
      needCounts(a);
      return fx.requeue(fx.key(t, uaddr, priv), fx.key(t, a[4], priv), i32(a[2]), i32(a[3]));
    case FUTEX_CMP_REQUEUE:
      needCounts(a);
      if (t.mm.readU32(uaddr) !== a[5] >>> 0) throw new Errno(E.EAGAIN);
      return fx.requeue(fx.key(t, uaddr, priv), fx.key(t, a[4], priv), i32(a[2]), i32(a[3]));
    case FUTEX_WAKE_OP:
      return wakeOp(t, a, priv);
    default:
      throw new Errno(E.ENOSYS);
  }
}

const ROBUST_HEAD_SIZE = 24;

function setRobustList(t: Task, a: number[]): number {
  if (a[1] !== ROBUST_HEAD_SIZE) throw new Errno(E.EINVAL);
  t.robustList = a[0];
  return 0;
}

function getRobustList(t: Task, a: number[]): number {
  const pid = i32(a[0]);
  const target = pid === 0 ? t : t.kernel.tasks.get(pid);
  if (!target) throw new Errno(E.ESRCH);
  if (target.tg !== t.tg && !hasCapability(t.creds, CAP_SYS_PTRACE) && t.creds.euid !== target.creds.uid) throw new Errno(E.EPERM);
  t.mm.writeU64(a[1], target.robustList);
  t.mm.writeU64(a[2], ROBUST_HEAD_SIZE);
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 273, name: 'set_robust_list', fn: setRobustList, args: ['ptr', 'size'] },
  { nr: 274, name: 'get_robust_list', fn: getRobustList, args: ['int', 'ptr', 'ptr'] },
  { nr: 202, name: 'futex', fn: futex, args: ['ptr', 'futex_op', 'futex_arg', 'futex_arg', 'futex_arg', 'futex_arg'], partial: 'no PI futexes (LOCK_PI, UNLOCK_PI, WAIT_REQUEUE_PI); FUTEX_WAIT with CLOCK_REALTIME is ENOSYS like Linux' },
];
