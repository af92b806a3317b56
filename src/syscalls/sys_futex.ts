// futex(2), futex_waitv(2) and the robust list calls: argument decoding. The
// wait queues are the kernel's FutexTable (kernel/futex.ts), PI futexes its
// FutexPi (kernel/futex_pi.ts).

import { nsCapable } from '../auth/userns';
import { vTask } from '../kernel/pid_ns';
import { CAP_SYS_PTRACE } from '../abi/capability';
import { decodeTimespec, TIMESPEC_SIZE } from '../abi/time';
import { E, Errno, ERESTART_RESTARTBLOCK, ERESTARTSYS } from '../abi/errno';
import * as F from '../abi/futex';
import type { Task } from '../kernel/task';
import type { WaitvEntry } from '../kernel/futex';
import { i32, type SyscallDef } from '../kernel/syscall';
import { CLOCK_MONOTONIC, CLOCK_REALTIME } from './sys_time';

const BITSET_MATCH_ANY = F.FUTEX_BITSET_MATCH_ANY;

/**
 * A monotonic deadline from the timespec at addr: relative, or absolute on
 * CLOCK_MONOTONIC or CLOCK_REALTIME. Never 0 (which the kernel timers take
 * for "none"): an absolute time of 0 has passed, as any before now.
 */
function readTimeout(t: Task, addr: number, absolute: boolean, realtime: boolean): number | undefined {
  if (addr === 0) return undefined;
  const ns = decodeTimespec(t.mm.copyIn(addr, TIMESPEC_SIZE));
  if (!absolute) return t.kernel.monotonicNs() + ns;
  return Math.max(1, realtime ? t.kernel.monotonicNs() + (ns - t.kernel.realtimeNs()) : ns);
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
  // Atomic, as Linux's arch_futex_atomic_op_inuser: other threads may use the word meanwhile.
  const old = t.mm.updateU32(uaddr2, (w) => {
    const o = w | 0;
    return [oparg, (o + oparg) | 0, o | oparg, o & ~oparg, o ^ oparg][opType] >>> 0;
  }) | 0;
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

/**
 * The operations with a timeout and how they read it, as Linux: FUTEX_WAIT's
 * is relative; LOCK_PI's absolute on CLOCK_REALTIME; the others' absolute on
 * CLOCK_MONOTONIC unless FUTEX_CLOCK_REALTIME.
 */
function timeoutOf(t: Task, cmd: number, a: number[], realtime: boolean): number | undefined {
  switch (cmd) {
    case F.FUTEX_WAIT:
      return readTimeout(t, a[3], false, false);
    case F.FUTEX_LOCK_PI:
      return readTimeout(t, a[3], true, true);
    case F.FUTEX_LOCK_PI2:
    case F.FUTEX_WAIT_BITSET:
    case F.FUTEX_WAIT_REQUEUE_PI:
      return readTimeout(t, a[3], true, realtime);
    default:
      return undefined;
  }
}

function futex(t: Task, a: number[]): number | Promise<number> {
  const op = i32(a[1]);
  const priv = (op & F.FUTEX_PRIVATE_FLAG) !== 0;
  const cmd = op & ~(F.FUTEX_PRIVATE_FLAG | F.FUTEX_CLOCK_REALTIME);
  const realtime = (op & F.FUTEX_CLOCK_REALTIME) !== 0;
  const uaddr = a[0];
  const fx = t.kernel.futexes;
  // The timeout is read (EFAULT, EINVAL) before the operation is looked at, as Linux's syscall entry.
  const deadline = timeoutOf(t, cmd, a, realtime);
  if (realtime && cmd !== F.FUTEX_WAIT_BITSET && cmd !== F.FUTEX_WAIT_REQUEUE_PI && cmd !== F.FUTEX_LOCK_PI2) throw new Errno(E.ENOSYS);
  switch (cmd) {
    case F.FUTEX_WAIT:
      return restartableWait(t, uaddr, priv, i32(a[2]), BITSET_MATCH_ANY, deadline);
    case F.FUTEX_WAIT_BITSET:
      return restartableWait(t, uaddr, priv, i32(a[2]), a[5] >>> 0, deadline);
    case F.FUTEX_WAKE:
      return fx.wake(fx.key(t, uaddr, priv), wakeCount(i32(a[2])), BITSET_MATCH_ANY);
    case F.FUTEX_WAKE_BITSET:
      return fx.wake(fx.key(t, uaddr, priv), wakeCount(i32(a[2])), a[5] >>> 0);
    case F.FUTEX_REQUEUE:
      needCounts(a);
      return fx.requeue(fx.key(t, uaddr, priv), fx.key(t, a[4], priv), i32(a[2]), i32(a[3]));
    case F.FUTEX_CMP_REQUEUE:
      needCounts(a);
      if (t.mm.readU32(uaddr) !== a[5] >>> 0) throw new Errno(E.EAGAIN);
      return fx.requeue(fx.key(t, uaddr, priv), fx.key(t, a[4], priv), i32(a[2]), i32(a[3]));
    case F.FUTEX_WAKE_OP:
      return wakeOp(t, a, priv);
    case F.FUTEX_LOCK_PI:
    case F.FUTEX_LOCK_PI2:
      return fx.pi.lock(t, uaddr, priv, deadline, false);
    case F.FUTEX_TRYLOCK_PI:
      return fx.pi.lock(t, uaddr, priv, undefined, true);
    case F.FUTEX_UNLOCK_PI:
      return fx.pi.unlock(t, uaddr, priv);
    case F.FUTEX_WAIT_REQUEUE_PI:
      return fx.pi.waitRequeue(t, uaddr, a[4], priv, i32(a[2]), deadline);
    case F.FUTEX_CMP_REQUEUE_PI:
      needCounts(a);
      return fx.pi.requeue(t, uaddr, a[4], priv, i32(a[2]), i32(a[3]), a[5] >>> 0);
    default:
      throw new Errno(E.ENOSYS);
  }
}

/**
 * futex_waitv's arguments, all checked here: no flags; 1 to 128 entries;
 * the timeout absolute on CLOCK_MONOTONIC or CLOCK_REALTIME; each entry
 * FUTEX2_SIZE_U32 with at most FUTEX2_PRIVATE besides, reserved 0, a value
 * that fits 32 bits (EINVAL); then every entry's key (EINVAL, EFAULT).
 */
function parseWaitv(t: Task, a: number[]): { entries: WaitvEntry[]; deadline: number | undefined } {
  const [vec, nr, flags, ts, clock] = [a[0], a[1] >>> 0, a[2] >>> 0, a[3], i32(a[4])];
  if (flags !== 0) throw new Errno(E.EINVAL);
  if (nr === 0 || nr > F.FUTEX_WAITV_MAX || vec === 0) throw new Errno(E.EINVAL);
  let deadline: number | undefined;
  if (ts !== 0) {
    if (clock !== CLOCK_REALTIME && clock !== CLOCK_MONOTONIC) throw new Errno(E.EINVAL);
    deadline = readTimeout(t, ts, true, clock === CLOCK_REALTIME);
  }
  const raw: { val: bigint; uaddr: bigint; priv: boolean }[] = [];
  for (let i = 0; i < nr; i++) {
    const b = t.mm.copyIn(vec + i * F.FUTEX_WAITV_SIZE, F.FUTEX_WAITV_SIZE);
    const eflags = b.readUInt32LE(16);
    if (eflags & ~(F.FUTEX2_SIZE_MASK | F.FUTEX2_PRIVATE) || b.readUInt32LE(20) !== 0) throw new Errno(E.EINVAL);
    if ((eflags & F.FUTEX2_SIZE_MASK) !== F.FUTEX2_SIZE_U32) throw new Errno(E.EINVAL);
    const val = b.readBigUInt64LE(0);
    if (val >> 32n) throw new Errno(E.EINVAL);
    raw.push({ val, uaddr: b.readBigUInt64LE(8), priv: (eflags & F.FUTEX2_PRIVATE) !== 0 });
  }
  const fx = t.kernel.futexes;
  const entries = raw.map((e) => {
    // An address past user memory faults; Number() of one past 2^53 is still past it.
    const uaddr = Number(e.uaddr);
    return { key: fx.key(t, uaddr, e.priv), uaddr, val: Number(e.val) };
  });
  return { entries, deadline };
}

/** futex_waitv: a signal restarts it with the same (absolute) timeout, or is EINTR (ERESTARTSYS). */
function futexWaitv(t: Task, a: number[]): Promise<number> {
  const { entries, deadline } = parseWaitv(t, a);
  return t.kernel.futexes.waitv(t, entries, deadline);
}

/**
 * The futex2 flags of futex_wake, futex_wait and a futex_requeue entry
 * (Linux 6.7): FUTEX2_SIZE_U32 is the only size, with FUTEX2_PRIVATE
 * besides; anything else (FUTEX2_NUMA, FUTEX2_MPOL of later kernels) is
 * EINVAL. True: private.
 */
function futex2Private(flags: number): boolean {
  if (flags & ~(F.FUTEX2_SIZE_MASK | F.FUTEX2_PRIVATE)) throw new Errno(E.EINVAL);
  if ((flags & F.FUTEX2_SIZE_MASK) !== F.FUTEX2_SIZE_U32) throw new Errno(E.EINVAL);
  return (flags & F.FUTEX2_PRIVATE) !== 0;
}

/** A value or mask given for a 32-bit futex must fit 32 bits (EINVAL). */
function fits32(v: number): number {
  if (v > 0xffffffff) throw new Errno(E.EINVAL);
  return v >>> 0;
}

/** futex_wake(uaddr, mask, nr, flags): a count of 0 wakes none (strict, unlike FUTEX_WAKE), checked after the key. */
function futex2Wake(t: Task, a: number[]): number {
  const priv = futex2Private(a[3] >>> 0);
  const mask = fits32(a[1]);
  if (mask === 0) throw new Errno(E.EINVAL);
  const fx = t.kernel.futexes;
  const k = fx.key(t, a[0], priv);
  const n = i32(a[2]);
  if (n === 0) return 0;
  return fx.wake(k, wakeCount(n), mask);
}

/**
 * futex_wait(uaddr, val, mask, flags, timeout, clockid): the timeout is
 * absolute on clockid (CLOCK_MONOTONIC or CLOCK_REALTIME). A signal
 * restarts the call as it was (ERESTARTSYS): the deadline is absolute.
 */
function futex2Wait(t: Task, a: number[]): Promise<number> {
  const priv = futex2Private(a[3] >>> 0);
  const val = fits32(a[1]);
  const mask = fits32(a[2]);
  let deadline: number | undefined;
  if (a[4] !== 0) {
    const clock = i32(a[5]);
    if (clock !== CLOCK_REALTIME && clock !== CLOCK_MONOTONIC) throw new Errno(E.EINVAL);
    deadline = readTimeout(t, a[4], true, clock === CLOCK_REALTIME);
  }
  if (mask === 0) throw new Errno(E.EINVAL);
  const fx = t.kernel.futexes;
  return fx.wait(t, fx.key(t, a[0], priv), a[0], val | 0, mask, deadline);
}

/**
 * futex_requeue(waiters[2], flags, nr_wake, nr_requeue): waiters[0] is the
 * futex to wake (its val compared as FUTEX_CMP_REQUEUE's), waiters[1] where
 * the rest go; each entry's flags are its own (private or shared).
 */
function futex2Requeue(t: Task, a: number[]): number {
  if (a[1] >>> 0 !== 0 || a[0] === 0) throw new Errno(E.EINVAL);
  const b = t.mm.copyIn(a[0], 2 * F.FUTEX_WAITV_SIZE);
  const ents = [0, 1].map((i) => {
    const o = i * F.FUTEX_WAITV_SIZE;
    if (b.readUInt32LE(o + 20) !== 0) throw new Errno(E.EINVAL);
    const priv = futex2Private(b.readUInt32LE(o + 16));
    const val = b.readBigUInt64LE(o);
    if (val >> 32n) throw new Errno(E.EINVAL);
    return { val: Number(val), uaddr: Number(b.readBigUInt64LE(o + 8)), priv };
  });
  const [nWake, nMove] = [i32(a[2]), i32(a[3])];
  if (nWake < 0 || nMove < 0) throw new Errno(E.EINVAL);
  const fx = t.kernel.futexes;
  const from = fx.key(t, ents[0].uaddr, ents[0].priv);
  const to = fx.key(t, ents[1].uaddr, ents[1].priv);
  if (t.mm.readU32(ents[0].uaddr) !== ents[0].val) throw new Errno(E.EAGAIN);
  return fx.requeue(from, to, nWake, nMove);
}

const ROBUST_HEAD_SIZE = 24;

function setRobustList(t: Task, a: number[]): number {
  if (a[1] !== ROBUST_HEAD_SIZE) throw new Errno(E.EINVAL);
  t.robustList = a[0];
  return 0;
}

function getRobustList(t: Task, a: number[]): number {
  const pid = i32(a[0]);
  const target = pid === 0 ? t : vTask(t, pid);
  if (!target) throw new Errno(E.ESRCH);
  if (target.tg !== t.tg && !nsCapable(t.creds, target.creds.userns, CAP_SYS_PTRACE) && t.creds.euid !== target.creds.uid) throw new Errno(E.EPERM);
  t.mm.writeU64(a[1], target.robustList);
  t.mm.writeU64(a[2], ROBUST_HEAD_SIZE);
  return 0;
}

export const defs: SyscallDef[] = [
  { nr: 273, name: 'set_robust_list', fn: setRobustList, args: ['ptr', 'size'] },
  { nr: 274, name: 'get_robust_list', fn: getRobustList, args: ['int', 'ptr', 'ptr'] },
  {
    nr: 202,
    name: 'futex',
    fn: futex,
    args: ['ptr', 'futex_op', 'futex_arg', 'futex_arg', 'futex_arg', 'futex_arg'],
    partial: 'PI futexes: ownership, hand-over, OWNER_DIED and deadlock detection as Linux, but priority inheritance has no scheduling effect (no boosting; waiters are served in arrival order); FUTEX_WAIT with CLOCK_REALTIME is ENOSYS like Linux',
  },
  {
    nr: 449,
    name: 'futex_waitv',
    fn: futexWaitv,
    args: ['ptr', 'uint', 'hex', 'timespec', 'clockid'],
    partial: 'FUTEX2_SIZE_U32 entries only (FUTEX2_NUMA and FUTEX2_MPOL are EINVAL), as the kernels before 6.16',
  },
  {
    nr: 454, name: 'futex_wake', fn: futex2Wake, args: ['ptr', 'hex', 'int', 'hex'],
    partial: 'FUTEX2_SIZE_U32 only (FUTEX2_NUMA and FUTEX2_MPOL are EINVAL), as the kernels before 6.16',
  },
  {
    nr: 455, name: 'futex_wait', fn: futex2Wait, args: ['ptr', 'hex', 'hex', 'hex', 'timespec', 'clockid'],
    partial: 'FUTEX2_SIZE_U32 only (FUTEX2_NUMA and FUTEX2_MPOL are EINVAL), as the kernels before 6.16',
  },
  {
    nr: 456, name: 'futex_requeue', fn: futex2Requeue, args: ['ptr', 'hex', 'int', 'int'],
    partial: 'FUTEX2_SIZE_U32 entries only (FUTEX2_NUMA and FUTEX2_MPOL are EINVAL), as the kernels before 6.16',
  },
];
