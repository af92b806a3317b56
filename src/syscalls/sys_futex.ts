// futex(2): wait queues keyed by a user address. Private futexes are keyed by
// (address space, address); shared ones on shared mappings by the memory-file
// frame and offset, so processes mapping the same page meet.

import { hasCapability } from '../auth/creds';
import { CAP_SYS_PTRACE } from '../abi/capability';
import { E, Errno } from '../abi/errno';
import type { Task } from '../kernel/task';
import { taskExitHooks } from '../kernel/lifecycle';
import { WaitQueue } from '../abi/waitqueue';
import { PAGE } from '../mm/vma';
import { i32, type SyscallDef } from '../kernel/syscall';

const FUTEX_WAIT = 0, FUTEX_WAKE = 1, FUTEX_REQUEUE = 3, FUTEX_CMP_REQUEUE = 4, FUTEX_WAKE_OP = 5;
const FUTEX_WAIT_BITSET = 9, FUTEX_WAKE_BITSET = 10;
const FUTEX_PRIVATE_FLAG = 128, FUTEX_CLOCK_REALTIME = 256;
const BITSET_MATCH_ANY = 0xffffffff;

interface FutexWaiter {
  bitset: number;
  q: WaitQueue;
}

const queues = new Map<string, Set<FutexWaiter>>();
let mmIds = new WeakMap<object, number>();
let nextMmId = 1;

function key(t: Task, addr: number, priv: boolean): string {
  if (addr % 4 !== 0) throw new Errno(E.EINVAL);
  const v = t.mm.findVma(addr);
  if (!v) throw new Errno(E.EFAULT);
  if (!priv && v.shared) {
    t.mm.readU32(addr); // makes the page present
    const f = v.frames.get(v.pageIndex(addr));
    return `f${f}:${addr % PAGE}`;
  }
  let id = mmIds.get(t.mm);
  if (id === undefined) {
    id = nextMmId++;
    mmIds.set(t.mm, id);
  }
  return `m${id}:${addr}`;
}

function readTimeout(t: Task, addr: number, absolute: boolean, realtime: boolean): number | undefined {
  if (addr === 0) return undefined;
  const b = t.mm.copyIn(addr, 16);
  const sec = Number(b.readBigInt64LE(0));
  const nsec = Number(b.readBigInt64LE(8));
  if (sec < 0 || nsec < 0 || nsec >= 1e9) throw new Errno(E.EINVAL);
  const ns = sec * 1e9 + nsec;
  if (!absolute) return t.kernel.monotonicNs() + ns;
  return realtime ? t.kernel.monotonicNs() + (ns - t.kernel.realtimeNs()) : ns;
}

async function wait(t: Task, k: string, addr: number, val: number, bitset: number, deadline: number | undefined): Promise<number> {
  if (bitset === 0) throw new Errno(E.EINVAL);
  if (t.mm.readU32(addr) !== val >>> 0) throw new Errno(E.EAGAIN);
  const w: FutexWaiter = { bitset, q: new WaitQueue() };
  let set = queues.get(k);
  if (!set) queues.set(k, (set = new Set()));
  set.add(w);
  try {
    const r = await t.block(w.q, 1, deadline);
    if (r === 0) throw new Errno(E.ETIMEDOUT);
    return 0;
  } finally {
    set.delete(w);
    if (set.size === 0) queues.delete(k);
  }
}

function wake(k: string, n: number, bitset: number): number {
  if (bitset === 0) throw new Errno(E.EINVAL);
  const set = queues.get(k);
  if (!set) return 0;
  let woken = 0;
  for (const w of [...set]) {
    if (woken >= n) break;
    if (!(w.bitset & bitset)) continue;
    set.delete(w);
    w.q.notify(1);
    woken++;
  }
  if (set.size === 0) queues.delete(k);
  return woken;
}

function requeue(from: string, to: string, nWake: number, nMove: number): number {
  const woken = wake(from, nWake, BITSET_MATCH_ANY);
  const set = queues.get(from);
  if (!set) return woken;
  let moved = 0;
  let dst = queues.get(to);
  for (const w of [...set]) {
    if (moved >= nMove) break;
    set.delete(w);
    if (!dst) queues.set(to, (dst = new Set()));
    dst.add(w);
    moved++;
  }
  if (set.size === 0) queues.delete(from);
  return woken + moved;
}

function wakeOp(t: Task, a: number[], priv: boolean): number {
  const [uaddr, n1, n2, uaddr2, op] = [a[0], i32(a[2]), a[3] >>> 0, a[4], a[5] >>> 0];
  const k1 = key(t, uaddr, priv);
  const k2 = key(t, uaddr2, priv);
  const opType = (op >>> 28) & 7;
  const shift = (op >>> 28) & 8;
  const cmp = (op >>> 24) & 15;
  let oparg = (op << 8) >> 20;
  const cmparg = (op << 20) >> 20;
  if (shift) oparg = 1 << (oparg & 31);
  const old = t.mm.readI32(uaddr2);
  const next = [oparg, old + oparg, old | oparg, old & ~oparg, old ^ oparg][opType];
  if (next === undefined) throw new Errno(E.ENOSYS);
  t.mm.writeI32(uaddr2, next);
  let r = wake(k1, n1, BITSET_MATCH_ANY);
  const ok = [old === cmparg, old !== cmparg, old < cmparg, old <= cmparg, old > cmparg, old >= cmparg][cmp];
  if (ok === undefined) throw new Errno(E.ENOSYS);
  if (ok) r += wake(k2, n2 | 0, BITSET_MATCH_ANY);
  return r;
}

function futex(t: Task, a: number[]): number | Promise<number> {
  const op = i32(a[1]);
  const priv = (op & FUTEX_PRIVATE_FLAG) !== 0;
  const cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
  const realtime = (op & FUTEX_CLOCK_REALTIME) !== 0;
  const uaddr = a[0];
  switch (cmd) {
    case FUTEX_WAIT:
      if (realtime) throw new Errno(E.ENOSYS);
      return wait(t, key(t, uaddr, priv), uaddr, i32(a[2]), BITSET_MATCH_ANY, readTimeout(t, a[3], false, false));
    case FUTEX_WAIT_BITSET:
      return wait(t, key(t, uaddr, priv), uaddr, i32(a[2]), a[5] >>> 0, readTimeout(t, a[3], true, realtime));
    case FUTEX_WAKE:
      return wake(key(t, uaddr, priv), i32(a[2]), BITSET_MATCH_ANY);
    case FUTEX_WAKE_BITSET:
      return wake(key(t, uaddr, priv), i32(a[2]), a[5] >>> 0);
    case FUTEX_REQUEUE:
      return requeue(key(t, uaddr, priv), key(t, a[4], priv), i32(a[2]), i32(a[3]));
    case FUTEX_CMP_REQUEUE:
      if (t.mm.readU32(uaddr) !== a[5] >>> 0) throw new Errno(E.EAGAIN);
      return requeue(key(t, uaddr, priv), key(t, a[4], priv), i32(a[2]), i32(a[3]));
    case FUTEX_WAKE_OP:
      return wakeOp(t, a, priv);
    default:
      throw new Errno(E.ENOSYS);
  }
}

const ROBUST_HEAD_SIZE = 24;
const ROBUST_LIST_LIMIT = 2048;
const FUTEX_WAITERS = 0x80000000;
const FUTEX_OWNER_DIED = 0x40000000;
const FUTEX_TID_MASK = 0x3fffffff;

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

/** Bit 0 of robust list pointers flags PI futexes; addresses exceed 32 bits, so no bitwise ops. */
function clearLowBit(x: number): number {
  return x - (x % 2);
}

/** A dying owner hands its robust futexes on: mark them OWNER_DIED and wake one waiter each. */
function releaseRobustFutex(t: Task, addr: number): void {
  const v = t.mm.readU32(addr);
  if ((v & FUTEX_TID_MASK) !== t.tid) return;
  t.mm.writeU32(addr, ((v & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0);
  if (v & FUTEX_WAITERS) {
    wake(key(t, addr, false), 1, BITSET_MATCH_ANY);
    wake(key(t, addr, true), 1, BITSET_MATCH_ANY);
  }
}

/** Exit of a task: walk its robust list, then clear_child_tid (write 0, wake a joiner). */
function exitCleanup(t: Task): void {
  if (t.robustList) {
    const head = t.robustList;
    const offset = t.mm.readI64(head + 8);
    const pending = clearLowBit(t.mm.readU64(head + 16));
    let entry = clearLowBit(t.mm.readU64(head));
    for (let n = 0; entry !== head && entry !== 0 && n < ROBUST_LIST_LIMIT; n++) {
      const next = clearLowBit(t.mm.readU64(entry));
      if (entry !== pending) releaseRobustFutex(t, entry + offset);
      entry = next;
    }
    if (pending) releaseRobustFutex(t, pending + offset);
  }
  if (t.clearChildTid && t.mm.users > 1) {
    // Only memory someone else still sees matters (threads, CLONE_VM children).
    t.mm.writeI32(t.clearChildTid, 0);
    wake(key(t, t.clearChildTid, false), 1, BITSET_MATCH_ANY);
    wake(key(t, t.clearChildTid, true), 1, BITSET_MATCH_ANY);
  }
}

taskExitHooks.push(exitCleanup);

/** Reset between sandboxes in one process (tests). */
export function resetFutexes(): void {
  queues.clear();
  mmIds = new WeakMap();
}

export const defs: SyscallDef[] = [
  { nr: 273, name: 'set_robust_list', fn: setRobustList, args: ['ptr', 'size'] },
  { nr: 274, name: 'get_robust_list', fn: getRobustList, args: ['int', 'ptr', 'ptr'] },
  { nr: 202, name: 'futex', fn: futex, args: ['ptr', 'futex_op', 'futex_arg', 'futex_arg', 'futex_arg', 'futex_arg'], partial: 'no PI futexes (LOCK_PI, UNLOCK_PI, WAIT_REQUEUE_PI); FUTEX_WAIT with CLOCK_REALTIME is ENOSYS like Linux' },
];
