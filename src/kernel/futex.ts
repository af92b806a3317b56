// The futex wait queues of one kernel. A private futex is found by (address
// space, address); a shared one on a shared mapping by (memory file, frame and
// offset in it), so processes mapping the same page meet. Keys are two levels
// of Maps with numbers at the bottom: a wait or wake builds no string.
//
// Also the futex work of a task's exit: its robust list and clear_child_tid.

import { E, Errno } from '../abi/errno';
import { TASK_SIZE } from '../abi/mm';
import type { Task } from './task';
import { WaitQueue } from '../abi/waitqueue';

const PAGE = 4096;
export const BITSET_MATCH_ANY = 0xffffffff;

const ROBUST_LIST_LIMIT = 2048;
const FUTEX_WAITERS = 0x80000000;
const FUTEX_OWNER_DIED = 0x40000000;
const FUTEX_TID_MASK = 0x3fffffff;

interface FutexWaiter {
  bitset: number;
  q: WaitQueue;
  /** Where it is queued now (a requeue moves it). */
  key: FutexKey;
}

/** Where a futex lives: the object its numbers are relative to, and the number. */
export interface FutexKey {
  /** The MemoryManager (private) or the MemoryFile (shared). */
  space: object;
  /** The address (private) or frame * PAGE + offset (shared). */
  n: number;
}

type Waiters = Set<FutexWaiter>;

export class FutexTable {
  private readonly spaces = new Map<object, Map<number, Waiters>>();

  /**
   * The key of the futex word at addr as t sees it; EINVAL if misaligned,
   * EFAULT outside the user range. As in Linux, a private key is the
   * address alone (a wake or requeue on an unmapped private word finds no
   * waiter; a wait reads the word and faults), while a shared one takes the
   * page, which must be readable memory (EFAULT for a hole or PROT_NONE).
   */
  key(t: Task, addr: number, priv: boolean): FutexKey {
    if (addr % 4 !== 0) throw new Errno(E.EINVAL);
    if (!(addr >= 0 && addr + 4 <= TASK_SIZE)) throw new Errno(E.EFAULT);
    if (priv) return { space: t.mm, n: addr };
    t.mm.readU32(addr); // checks the access and makes the page present
    const v = t.mm.findVma(addr);
    if (!v) throw new Errno(E.EFAULT);
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

  private get(k: FutexKey): Waiters | undefined {
    return this.spaces.get(k.space)?.get(k.n);
  }

  private getOrAdd(k: FutexKey): Waiters {
    let m = this.spaces.get(k.space);
    if (!m) this.spaces.set(k.space, (m = new Map()));
    let set = m.get(k.n);
    if (!set) m.set(k.n, (set = new Set()));
    return set;
  }

  private dropIfEmpty(k: FutexKey, set: Waiters): void {
    if (set.size !== 0) return;
    const m = this.spaces.get(k.space);
    if (!m || m.get(k.n) !== set) return;
    m.delete(k.n);
    if (m.size === 0) this.spaces.delete(k.space);
  }

  /** FUTEX_WAIT(_BITSET): sleep while the word at addr holds val; ETIMEDOUT at deadline. */
  async wait(t: Task, k: FutexKey, addr: number, val: number, bitset: number, deadline: number | undefined): Promise<number> {
    if (bitset === 0) throw new Errno(E.EINVAL);
    if (t.mm.readU32(addr) !== val >>> 0) throw new Errno(E.EAGAIN);
    const w: FutexWaiter = { bitset, q: new WaitQueue(), key: k };
    this.getOrAdd(k).add(w);
    try {
      const r = await t.block(w.q, 1, deadline);
      if (r === 0) throw new Errno(E.ETIMEDOUT);
      return 0;
    } finally {
      // Still queued if it timed out or a signal came (a wake removed it already).
      const set = this.get(w.key);
      if (set?.delete(w)) this.dropIfEmpty(w.key, set);
    }
  }

  /** Wake at most n waiters whose bitset intersects bitset. */
  wake(k: FutexKey, n: number, bitset: number): number {
    if (bitset === 0) throw new Errno(E.EINVAL);
    const set = this.get(k);
    if (!set) return 0;
    let woken = 0;
    for (const w of set) {
      if (woken >= n) break;
      if (!(w.bitset & bitset)) continue;
      set.delete(w);
      w.q.notify(1);
      woken++;
    }
    this.dropIfEmpty(k, set);
    return woken;
  }

  /** FUTEX_(CMP_)REQUEUE: wake nWake waiters of from, move up to nMove of the rest to to. */
  requeue(from: FutexKey, to: FutexKey, nWake: number, nMove: number): number {
    const woken = this.wake(from, nWake, BITSET_MATCH_ANY);
    const set = this.get(from);
    if (!set) return woken;
    let moved = 0;
    for (const w of [...set]) {
      if (moved >= nMove) break;
      set.delete(w);
      this.getOrAdd(to).add(w);
      w.key = to;
      moved++;
    }
    this.dropIfEmpty(from, set);
    return woken + moved;
  }

  /** Wake one waiter of the futex at addr, private or shared (who waits there may have used either). */
  private wakeAny(t: Task, addr: number): void {
    this.wake(this.key(t, addr, false), 1, BITSET_MATCH_ANY);
    this.wake(this.key(t, addr, true), 1, BITSET_MATCH_ANY);
  }

  /** A dying owner hands its robust futexes on: mark them OWNER_DIED and wake one waiter each. */
  private releaseRobust(t: Task, addr: number): void {
    const v = t.mm.readU32(addr);
    if ((v & FUTEX_TID_MASK) !== t.tid) return;
    t.mm.writeU32(addr, ((v & FUTEX_WAITERS) | FUTEX_OWNER_DIED) >>> 0);
    if (v & FUTEX_WAITERS) this.wakeAny(t, addr);
  }

  /** Exit of a task, its memory still mapped: walk its robust list, then clear_child_tid (write 0, wake a joiner). */
  taskExit(t: Task): void {
    if (t.robustList) {
      const head = t.robustList;
      const offset = t.mm.readI64(head + 8);
      const pending = clearLowBit(t.mm.readU64(head + 16));
      let entry = clearLowBit(t.mm.readU64(head));
      for (let n = 0; entry !== head && entry !== 0 && n < ROBUST_LIST_LIMIT; n++) {
        const next = clearLowBit(t.mm.readU64(entry));
        if (entry !== pending) this.releaseRobust(t, entry + offset);
        entry = next;
      }
      if (pending) this.releaseRobust(t, pending + offset);
    }
    if (t.clearChildTid && t.mm.users > 1) {
      // Only memory someone else still sees matters (threads, CLONE_VM children).
      t.mm.writeI32(t.clearChildTid, 0);
      this.wakeAny(t, t.clearChildTid);
    }
  }
}

/** Bit 0 of robust list pointers flags PI futexes; addresses exceed 32 bits, so no bitwise ops. */
function clearLowBit(x: number): number {
  return x - (x % 2);
}
