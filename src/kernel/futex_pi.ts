// PI futexes: FUTEX_LOCK_PI(2), TRYLOCK_PI, UNLOCK_PI, WAIT_REQUEUE_PI and
// CMP_REQUEUE_PI. The word holds the owner's tid, FUTEX_WAITERS once a task
// waits in the kernel, FUTEX_OWNER_DIED after an owner died holding it. While
// tasks wait, a PiState (Linux's pi_state) records the owner; its waiters
// queue in the futex's Set in FutexTable, and an unlock hands the lock to the
// first of them at once: the word gets its tid (with WAITERS), and it wakes
// up owning the lock. A dying owner's PI locks go the same way, with
// OWNER_DIED set. Priority inheritance itself (boosting the owner) has no
// effect: scheduling is the host's.

import { E, Errno, ERESTARTNOINTR, ERESTARTSYS } from '../abi/errno';
import { FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS } from '../abi/futex';
import type { HeapBudget } from '../abi/accounting';
import type { Task } from './task';
import { findTask, ownTid, pidNsOf } from './pid_ns';
import type { FutexKey, FutexTable, FutexWaiter } from './futex';

/** Estimated Sentry heap of a PI state (Linux allocates one too, and fails with ENOMEM). */
const PI_STATE_COST = 256;
/** How far a deadlock check follows owners blocked on other PI locks (Linux's max_lock_depth). */
const MAX_LOCK_DEPTH = 1024;
/** Looks at a PI futex word that user space keeps changing under the lock attempt, then EAGAIN (Linux retries; the Sentry must not spin for ever). */
const PI_TRIES = 1000;

/** A PI futex with waiters: who owns it, and how many waiters refer to it (it goes with the last). */
export interface PiState {
  owner: Task;
  readonly key: FutexKey;
  refs: number;
  readonly budget: HeapBudget;
}

export function sameKey(a: FutexKey, b: FutexKey): boolean {
  return a.space === b.space && a.n === b.n;
}

type Attempt = { locked: true; ps: PiState | null } | { locked: false; ps: PiState };

export class FutexPi {
  /** The PI states each task owns: handed on when it exits. */
  private readonly owned = new Map<Task, Set<PiState>>();
  /** The PI waiter of each task blocked on a PI lock: owner chains for deadlock checks, and its exit. */
  private readonly blocked = new Map<Task, FutexWaiter>();

  constructor(private readonly fx: FutexTable) {}

  /** Number of PI states (a test checks that nothing is left behind). */
  get states(): number {
    let n = 0;
    for (const s of this.owned.values()) n += s.size;
    return n;
  }

  private create(owner: Task, key: FutexKey, budget: HeapBudget): PiState {
    budget.charge(PI_STATE_COST, E.ENOMEM);
    const ps: PiState = { owner, key, refs: 0, budget };
    this.addOwned(ps);
    return ps;
  }

  private addOwned(ps: PiState): void {
    let s = this.owned.get(ps.owner);
    if (!s) this.owned.set(ps.owner, (s = new Set()));
    s.add(ps);
  }

  private removeOwned(ps: PiState): void {
    const s = this.owned.get(ps.owner);
    if (s?.delete(ps) && s.size === 0) this.owned.delete(ps.owner);
  }

  private ref(w: FutexWaiter, ps: PiState): void {
    w.pi = ps;
    ps.refs++;
  }

  /** A waiter let go of ps (FutexTable.dequeue). */
  unref(ps: PiState): void {
    if (--ps.refs === 0) this.drop(ps);
  }

  private drop(ps: PiState): void {
    this.removeOwned(ps);
    ps.budget.uncharge(PI_STATE_COST);
  }

  private dropIfUnused(ps: PiState | null): void {
    if (ps && ps.refs === 0) this.drop(ps);
  }

  /** The first task waiting for ps's lock: the next owner. */
  private firstWaiter(ps: PiState): FutexWaiter | undefined {
    for (const w of this.fx.queue(ps.key) ?? []) if (w.pi === ps) return w;
    return undefined;
  }

  /** Whether task blocking on ps would close a cycle of owners waiting for each other. */
  private wouldDeadlock(task: Task, ps: PiState): boolean {
    let owner: Task | undefined = ps.owner;
    for (let depth = 0; owner; depth++) {
      if (owner === task || depth >= MAX_LOCK_DEPTH) return true;
      owner = this.blocked.get(owner)?.pi?.owner;
    }
    return false;
  }

  /**
   * Take the lock at uaddr (as t sees it) for task, or join its PI state:
   * Linux's futex_lock_pi_atomic. EDEADLK if task owns it; a waiter queued
   * there decides the state (EINVAL if it is not a PI waiter or the word
   * names another owner); a free word (tid 0, OWNER_DIED kept) is taken;
   * otherwise WAITERS is set and the owner found by tid (ESRCH if no live
   * task has it). setWaiters: a requeue takes it for a waiter and will queue
   * others behind it.
   */
  private attempt(t: Task, uaddr: number, k: FutexKey, task: Task, setWaiters: boolean): Attempt {
    // The word changes only by compare-and-exchange: other threads of the
    // process may take or release it in user space meanwhile (a plain write
    // made two owners of one mutex). A word that changed is looked at again.
    for (let tries = 0; ; tries++) {
      if (tries === PI_TRIES) throw new Errno(E.EAGAIN);
      const uval = t.mm.readU32(uaddr);
      const pid = uval & FUTEX_TID_MASK;
      if (pid === ownTid(task)) throw new Errno(E.EDEADLK);
      const top = this.fx.top(k);
      if (top) {
        const ps = top.pi;
        if (!ps) throw new Errno(E.EINVAL);
        if (!(uval & FUTEX_OWNER_DIED && pid === 0) && pid !== ownTid(ps.owner)) throw new Errno(E.EINVAL);
        return { locked: false, ps };
      }
      if (pid === 0) {
        const taken = ((uval & FUTEX_OWNER_DIED) | ownTid(task) | (setWaiters ? FUTEX_WAITERS : 0)) >>> 0;
        if (t.mm.cmpxchgU32(uaddr, uval, taken) !== uval) continue;
        return { locked: true, ps: setWaiters ? this.create(task, k, t.heapBudget) : null };
      }
      if (!(uval & FUTEX_WAITERS) && t.mm.cmpxchgU32(uaddr, uval, (uval | FUTEX_WAITERS) >>> 0) !== uval) continue;
      const owner = findTask(t.kernel.tasks, pidNsOf(t), pid);
      if (!owner || owner.state === 'dead') throw new Errno(E.ESRCH);
      return { locked: false, ps: this.create(owner, k, t.heapBudget) };
    }
  }

  /**
   * FUTEX_LOCK_PI(2) and FUTEX_TRYLOCK_PI: 0 once t owns the lock; EAGAIN
   * for a trylock on a held one; ETIMEDOUT at the deadline; a signal
   * restarts the call (ERESTARTNOINTR, as Linux: the deadline is absolute).
   */
  async lock(t: Task, uaddr: number, priv: boolean, deadline: number | undefined, trylock: boolean): Promise<number> {
    const k = this.fx.key(t, uaddr, priv, true);
    const a = this.attempt(t, uaddr, k, t, false);
    if (a.locked) return 0;
    if (trylock || this.wouldDeadlock(t, a.ps)) {
      this.dropIfUnused(a.ps);
      throw new Errno(trylock ? E.EAGAIN : E.EDEADLK);
    }
    const w = this.fx.newWaiter(t, k, uaddr);
    this.ref(w, a.ps);
    this.fx.enqueue(w);
    this.blocked.set(t, w);
    return this.sleep(t, w, deadline);
  }

  /**
   * Sleep as w (queued) until handed the lock (0, even if a timeout or
   * signal came too: the lock is ours then, as Linux's fixup), the deadline
   * (ETIMEDOUT) or a signal: before a requeue-PI waiter was requeued the call
   * restarts; a lock waiter restarts; a requeued one answers EAGAIN (it can
   * no longer wait for the condition, as Linux).
   */
  private async sleep(t: Task, w: FutexWaiter, deadline: number | undefined): Promise<number> {
    let r = 0;
    let err: unknown = null;
    try {
      r = await t.block(w.q, 1, deadline);
    } catch (e) {
      err = e;
    }
    if (this.blocked.get(t) === w) this.blocked.delete(t);
    if (w.woken) return 0;
    const requeued = w.requeuePi !== null && w.pi !== null;
    this.fx.dequeue(w);
    if (err instanceof Errno && err.errno === ERESTARTSYS) throw new Errno(requeued ? E.EAGAIN : ERESTARTNOINTR);
    if (err) throw err;
    if (r === 0) throw new Errno(E.ETIMEDOUT);
    throw new Errno(E.EAGAIN);
  }

  /** Give ps's lock to waiter w: it owns it now and wakes up. */
  private handOver(ps: PiState, w: FutexWaiter): void {
    this.removeOwned(ps);
    ps.owner = w.task;
    this.addOwned(ps);
    if (this.blocked.get(w.task) === w) this.blocked.delete(w.task);
    this.fx.wakeWaiter(w);
  }

  /**
   * FUTEX_UNLOCK_PI: EPERM unless the word names t; with waiters, the first
   * gets the lock (word = its tid | WAITERS; EINVAL if the waiters are not
   * PI ones of a lock t owns); without, the word becomes 0.
   */
  unlock(t: Task, uaddr: number, priv: boolean): number {
    const uval = t.mm.readU32(uaddr);
    if ((uval & FUTEX_TID_MASK) !== ownTid(t)) throw new Errno(E.EPERM);
    const k = this.fx.key(t, uaddr, priv, true);
    const top = this.fx.top(k);
    if (!top) {
      t.mm.updateU32(uaddr, (w) => {
        if ((w & FUTEX_TID_MASK) !== ownTid(t)) throw new Errno(E.EPERM);
        return 0;
      });
      return 0;
    }
    const ps = top.pi;
    if (!ps || ps.owner !== t) throw new Errno(E.EINVAL);
    const next = this.firstWaiter(ps)!;
    t.mm.updateU32(uaddr, () => (FUTEX_WAITERS | ownTid(next.task)) >>> 0);
    this.handOver(ps, next);
    return 0;
  }

  /**
   * FUTEX_WAIT_REQUEUE_PI: wait on the condition word uaddr (while it holds
   * val) to be requeued to the PI futex uaddr2 by FUTEX_CMP_REQUEUE_PI; 0
   * once t owns uaddr2.
   */
  async waitRequeue(t: Task, uaddr: number, uaddr2: number, priv: boolean, val: number, deadline: number | undefined): Promise<number> {
    if (uaddr === uaddr2) throw new Errno(E.EINVAL);
    const k2 = this.fx.key(t, uaddr2, priv, true);
    const k = this.fx.key(t, uaddr, priv);
    if (t.mm.readU32(uaddr) !== val >>> 0) throw new Errno(E.EAGAIN);
    if (sameKey(k, k2)) throw new Errno(E.EINVAL);
    const w = this.fx.newWaiter(t, k, uaddr);
    w.requeuePi = { key: k2, uaddr: uaddr2 };
    this.fx.enqueue(w);
    return this.sleep(t, w, deadline);
  }

  /**
   * FUTEX_CMP_REQUEUE_PI: if the word at uaddr holds cmpval, take the PI
   * futex uaddr2 for the first waiter if it is free (waking it), and move
   * up to nMove waiters (one more if the lock was not free) to wait for it.
   * Every waiter must be a FUTEX_WAIT_REQUEUE_PI one for uaddr2 (EINVAL);
   * one that would deadlock stops it (EDEADLK). The count of woken and
   * moved waiters.
   */
  requeue(t: Task, uaddr: number, uaddr2: number, priv: boolean, nWake: number, nMove: number, cmpval: number): number {
    if (uaddr === uaddr2 || nWake !== 1) throw new Errno(E.EINVAL);
    const k = this.fx.key(t, uaddr, priv);
    const k2 = this.fx.key(t, uaddr2, priv, true);
    if (sameKey(k, k2)) throw new Errno(E.EINVAL);
    if (t.mm.readU32(uaddr) !== cmpval >>> 0) throw new Errno(E.EAGAIN);
    const expects = (w: FutexWaiter): boolean => w.requeuePi !== null && w.pi === null && sameKey(w.requeuePi.key, k2);
    let count = 0;
    let ps: PiState | null = null;
    const top = this.fx.top(k);
    if (top) {
      if (!expects(top)) throw new Errno(E.EINVAL);
      const a = this.attempt(t, uaddr2, k2, top.task, nMove > 0);
      ps = a.ps;
      if (a.locked) {
        this.fx.wakeWaiter(top);
        count = 1;
      }
    }
    try {
      for (const w of [...(this.fx.queue(k) ?? [])]) {
        if (count - 1 >= nMove || !ps) break;
        if (!expects(w) || !w.requeuePi) throw new Errno(E.EINVAL);
        if (this.wouldDeadlock(w.task, ps)) throw new Errno(E.EDEADLK);
        this.ref(w, ps);
        this.fx.move(w, k2);
        w.uaddr = w.requeuePi.uaddr;
        this.blocked.set(w.task, w);
        count++;
      }
    } finally {
      this.dropIfUnused(ps);
    }
    return count;
  }

  /**
   * A task exits: it stops waiting, and each PI lock it holds with waiters
   * goes to the first of them, the word getting that task's tid with WAITERS
   * and OWNER_DIED.
   */
  taskExit(t: Task): void {
    const mine = this.blocked.get(t);
    if (mine) {
      this.blocked.delete(t);
      this.fx.dequeue(mine);
    }
    for (const ps of [...(this.owned.get(t) ?? [])]) {
      const w = this.firstWaiter(ps);
      if (!w) continue;
      try {
        w.task.mm.updateU32(w.uaddr, () => (ownTid(w.task) | FUTEX_WAITERS | FUTEX_OWNER_DIED) >>> 0);
      } catch {
        // The new owner's word is unwritable now: the lock is its all the same.
      }
      this.handOver(ps, w);
    }
  }
}
