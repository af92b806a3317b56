// The futex wait queues of one kernel. A private futex is found by (address
// space, address); a shared one on a shared mapping by (memory file, frame and
// offset in it), so processes mapping the same page meet. Keys are two levels
// of Maps with numbers at the bottom: a wait or wake builds no string.
//
// Each futex's waiters are one ordered Set (FIFO: Linux queues tasks of one
// priority in arrival order, and priorities have no effect here). Plain
// waiters (FUTEX_WAIT, futex_waitv entries), PI lock waiters and
// FUTEX_WAIT_REQUEUE_PI waiters share it, as in Linux, which is how a wake
// meeting a PI waiter knows to answer EINVAL. PI futexes are futex_pi.ts.
//
// Also the futex work of a task's exit: its robust list, the PI locks it
// holds, and clear_child_tid.

import { E, Errno } from '../abi/errno';
import { TASK_SIZE, PROT_WRITE } from '../abi/mm';
import type { Task } from './task';
import { ownTid } from './pid_ns';
import { WaitQueue } from '../abi/waitqueue';
import { FUTEX_BITSET_MATCH_ANY as BITSET_MATCH_ANY, FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS } from '../abi/futex';
import { FutexPi, type PiState } from './futex_pi';

const PAGE = 4096;
const ROBUST_LIST_LIMIT = 2048;

/**
 * Estimated Sentry heap of one futex_waitv entry while it waits (Linux
 * allocates the vector too, and fails with ENOMEM): a hostile program's
 * 128-entry vectors in many processes are charged to the sandbox's heap
 * budget.
 */
const WAITV_ENTRY_COST = 160;

/** One task queued on one futex (a futex_waitv call queues one per entry, sharing q). */
export interface FutexWaiter {
  readonly task: Task;
  readonly bitset: number;
  readonly q: WaitQueue;
  /** Where it is queued now (a requeue moves it). */
  key: FutexKey;
  /** The word's address in the waiter's own address space (where a PI hand-over writes the new owner). */
  uaddr: number;
  /** Taken off its queue by another task: a wake, a PI hand-over, a requeue that took the lock for it. */
  woken: boolean;
  /** The PI state of the lock it waits for (FUTEX_LOCK_PI, or FUTEX_WAIT_REQUEUE_PI once requeued). */
  pi: PiState | null;
  /** FUTEX_WAIT_REQUEUE_PI: the PI futex a requeue must move it to, and that word's address for it. */
  requeuePi: { key: FutexKey; uaddr: number } | null;
}

/** Where a futex lives: the object its numbers are relative to, and the number. */
export interface FutexKey {
  /** The MemoryManager (private) or the MemoryFile (shared). */
  space: object;
  /** The address (private) or frame * PAGE + offset (shared). */
  n: number;
}

type Waiters = Set<FutexWaiter>;

/** One futex_waitv entry, checked: its key, its address and the value expected there. */
export interface WaitvEntry {
  key: FutexKey;
  uaddr: number;
  val: number;
}

export class FutexTable {
  private readonly spaces = new Map<object, Map<number, Waiters>>();
  /** PI futexes: their states, owners and hand-overs. */
  readonly pi = new FutexPi(this);

  /**
   * The key of the futex word at addr as t sees it; EINVAL if misaligned,
   * EFAULT outside the user range. As in Linux, a private key is the
   * address alone (a wake or requeue on an unmapped private word finds no
   * waiter; a wait reads the word and faults), while a shared one takes the
   * page, which must be readable memory (EFAULT for a hole or PROT_NONE), and
   * writable for the PI operations (write).
   */
  key(t: Task, addr: number, priv: boolean, write = false): FutexKey {
    if (addr % 4 !== 0) throw new Errno(E.EINVAL);
    if (!(addr >= 0 && addr + 4 <= TASK_SIZE)) throw new Errno(E.EFAULT);
    if (priv) return { space: t.mm, n: addr };
    t.mm.readU32(addr); // checks the access and makes the page present
    const v = t.mm.findVma(addr);
    if (!v) throw new Errno(E.EFAULT);
    if (write && !(v.prot & PROT_WRITE)) throw new Errno(E.EFAULT);
    if (v.shared) {
      const f = v.frames.get(v.pageIndex(addr));
      return { space: t.mm.memfile, n: f * PAGE + (addr % PAGE) };
    }
    return { space: t.mm, n: addr };
  }

  /** Number of futexes with waiters (a test checks that nothing is left behind). */
  get size(): number {
    let n = 0;
    for (const m of this.spaces.values()) n += m.size;
    return n;
  }

  /** Number of queued waiters, all futexes (a futex_waitv call counts once per entry). */
  get waiters(): number {
    let n = 0;
    for (const m of this.spaces.values()) for (const s of m.values()) n += s.size;
    return n;
  }

  /** The waiters of k in queue order, or undefined when none. */
  queue(k: FutexKey): ReadonlySet<FutexWaiter> | undefined {
    return this.spaces.get(k.space)?.get(k.n);
  }

  /** The first waiter of k (Linux's top waiter). */
  top(k: FutexKey): FutexWaiter | undefined {
    const set = this.queue(k);
    if (!set) return undefined;
    for (const w of set) return w;
    return undefined;
  }

  newWaiter(t: Task, k: FutexKey, uaddr: number, q = new WaitQueue(), bitset = BITSET_MATCH_ANY): FutexWaiter {
    return { task: t, bitset, q, key: k, uaddr, woken: false, pi: null, requeuePi: null };
  }

  /** Queue w at the end of its key's waiters. */
  enqueue(w: FutexWaiter): void {
    let m = this.spaces.get(w.key.space);
    if (!m) this.spaces.set(w.key.space, (m = new Map()));
    let set = m.get(w.key.n);
    if (!set) m.set(w.key.n, (set = new Set()));
    set.add(w);
  }

  /** Take w off its queue (false if it was not on one); a PI waiter lets go of its PI state. */
  dequeue(w: FutexWaiter): boolean {
    const m = this.spaces.get(w.key.space);
    const set = m?.get(w.key.n);
    if (!m || !set?.delete(w)) return false;
    if (set.size === 0) {
      m.delete(w.key.n);
      if (m.size === 0) this.spaces.delete(w.key.space);
    }
    if (w.pi) this.pi.unref(w.pi);
    return true;
  }

  /** Move w to the end of to's waiters. */
  move(w: FutexWaiter, to: FutexKey): void {
    const pi = w.pi;
    w.pi = null; // the move keeps its PI reference
    this.dequeue(w);
    w.pi = pi;
    w.key = to;
    this.enqueue(w);
  }

  /** Off the queue by another task's doing, then woken. */
  wakeWaiter(w: FutexWaiter): void {
    w.woken = true;
    this.dequeue(w);
    w.q.notify(1);
  }

  /** FUTEX_WAIT(_BITSET): sleep while the word at addr holds val; ETIMEDOUT at deadline. */
  async wait(t: Task, k: FutexKey, addr: number, val: number, bitset: number, deadline: number | undefined): Promise<number> {
    if (bitset === 0) throw new Errno(E.EINVAL);
    if (t.mm.readU32(addr) !== val >>> 0) throw new Errno(E.EAGAIN);
    const w = this.newWaiter(t, k, addr, undefined, bitset);
    this.enqueue(w);
    let r: number;
    try {
      r = await t.block(w.q, 1, deadline);
    } catch (e) {
      // A wake that came first wins over the signal, as Linux's unqueue test.
      if (!this.dequeue(w)) return 0;
      throw e;
    }
    if (!this.dequeue(w)) return 0;
    if (r === 0) throw new Errno(E.ETIMEDOUT);
    return 0;
  }

  /** Wake at most n waiters whose bitset intersects bitset; a PI or requeue-PI waiter met first is EINVAL. */
  wake(k: FutexKey, n: number, bitset: number): number {
    if (bitset === 0) throw new Errno(E.EINVAL);
    const set = this.queue(k);
    if (!set) return 0;
    let woken = 0;
    // Deleting the entry being visited is safe in a Set, and a wake-up runs nothing synchronously: no copy.
    for (const w of set) {
      if (w.pi || w.requeuePi) throw new Errno(E.EINVAL);
      if (!(w.bitset & bitset)) continue;
      this.wakeWaiter(w);
      if (++woken >= n) break;
    }
    return woken;
  }

  /** FUTEX_(CMP_)REQUEUE: wake nWake waiters of from, move up to nMove of the rest to to. */
  requeue(from: FutexKey, to: FutexKey, nWake: number, nMove: number): number {
    const set = this.queue(from);
    if (!set) return 0;
    let count = 0;
    for (const w of [...set]) {
      if (count - nWake >= nMove) break;
      if (w.pi || w.requeuePi) throw new Errno(E.EINVAL);
      if (++count <= nWake) this.wakeWaiter(w);
      else this.move(w, to);
    }
    return count;
  }

  /**
   * futex_waitv: sleep on every entry while each word holds its value (read
   * in order: the first that differs is EAGAIN); the index of the woken entry
   * (the last, if a wake took several), or ETIMEDOUT.
   */
  async waitv(t: Task, entries: WaitvEntry[], deadline: number | undefined): Promise<number> {
    for (const e of entries) if (t.mm.readU32(e.uaddr) !== e.val) throw new Errno(E.EAGAIN);
    const bytes = entries.length * WAITV_ENTRY_COST;
    t.heapBudget.charge(bytes, E.ENOMEM);
    const q = new WaitQueue();
    const ws = entries.map((e) => this.newWaiter(t, e.key, e.uaddr, q));
    for (const w of ws) this.enqueue(w);
    let r = 0;
    let err: unknown = null;
    try {
      r = await t.block(q, 1, deadline);
    } catch (e) {
      err = e;
    }
    let woken = -1;
    ws.forEach((w, i) => {
      if (!this.dequeue(w)) woken = i;
    });
    t.heapBudget.uncharge(bytes);
    if (woken >= 0) return woken;
    if (err) throw err;
    if (r === 0) throw new Errno(E.ETIMEDOUT);
    return woken;
  }

  /** Wake one waiter of the futex at addr, private or shared (who waits there may have used either). */
  private wakeAny(t: Task, addr: number): void {
    for (const priv of [false, true]) {
      try {
        this.wake(this.key(t, addr, priv), 1, BITSET_MATCH_ANY);
      } catch {
        // A PI waiter there: nobody to wake this way (its lock is handed over by the PI exit).
      }
    }
  }

  /**
   * A dying owner hands its robust futexes on: mark them OWNER_DIED and wake
   * one waiter each; a PI one's lock goes to its top waiter later, in the PI
   * exit. A pending plain lock the owner may have just released (word 0)
   * wakes a waiter too, as Linux.
   */
  private releaseRobust(t: Task, addr: number, pi: boolean, pending: boolean): void {
    if (addr % 4 !== 0) return;
    const v = t.mm.readU32(addr);
    if (pending && !pi && v === 0) return this.wakeAny(t, addr);
    // Atomically: a sibling thread may be taking or releasing it in user space.
    // The word holds the owner's tid in its own PID namespace (gettid's).
    const tid = ownTid(t);
    const old = t.mm.updateU32(addr, (w) => ((w & FUTEX_TID_MASK) !== tid ? null : ((w & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0));
    if ((old & FUTEX_TID_MASK) !== tid) return;
    if (!pi && old & FUTEX_WAITERS) this.wakeAny(t, addr);
  }

  /** Exit of a task, its memory still mapped: its robust list, its PI locks, then clear_child_tid (write 0, wake a joiner). */
  taskExit(t: Task): void {
    try {
      if (t.robustList) this.walkRobustList(t, t.robustList);
    } catch {
      // A bad pointer ends the walk, as in Linux; the rest of the exit goes on.
    }
    this.pi.taskExit(t);
    if (t.clearChildTid && t.mm.users > 1) {
      // Only memory someone else still sees matters (threads, CLONE_VM children).
      t.mm.writeI32(t.clearChildTid, 0);
      this.wakeAny(t, t.clearChildTid);
    }
  }

  private walkRobustList(t: Task, head: number): void {
    const offset = t.mm.readI64(head + 8);
    const pendingRaw = t.mm.readU64(head + 16);
    const pending = clearLowBit(pendingRaw);
    let raw = t.mm.readU64(head);
    for (let n = 0; clearLowBit(raw) !== head && raw !== 0 && n < ROBUST_LIST_LIMIT; n++) {
      const entry = clearLowBit(raw);
      const next = t.mm.readU64(entry);
      if (entry !== pending) this.releaseRobust(t, entry + offset, raw % 2 === 1, false);
      raw = next;
    }
    if (pending) this.releaseRobust(t, pending + offset, pendingRaw % 2 === 1, true);
  }
}

/** Bit 0 of robust list pointers flags PI futexes; addresses exceed 32 bits, so no bitwise ops. */
function clearLowBit(x: number): number {
  return x - (x % 2);
}
