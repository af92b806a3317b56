// Advisory locks: POSIX record locks (fcntl F_SETLK & co, owned by the fd
// table, which is what Linux uses as the owner too: threads share them, fork
// does not inherit them, closing any fd of the file drops them), OFD locks
// (owned by the open file description) and flock (per description).
// The locks of a file are its inode's (`Inode.locks`, made on first use).
import { Errno, E } from '../abi/errno';
import { WaitQueue } from '../abi/waitqueue';
import type { FileCtx } from './ctx';

export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;
const ALL = 1;

export interface RecordLock {
  owner: object;
  pid: number; // reported by F_GETLK (-1 for OFD locks)
  type: number;
  start: number;
  end: number; // inclusive; Infinity for "to EOF and beyond"
}

/** A lock owner (the fd table for POSIX locks) records whose lock it is waiting for, for deadlock detection. */
interface LockWaiter {
  lockBlockedBy?: object | null;
}

/** How far a chain of waiting owners is followed (Linux's MAX_DEADLK_ITERATIONS). */
const MAX_DEADLOCK_DEPTH = 10;

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** A lease (fcntl F_SETLEASE) held by an open file description. */
interface Lease {
  holder: object;
  type: number;
  /** While broken: the type it is going to (F_RDLCK for a downgrade, F_UNLCK), and when the break is forced (monotonic ns). */
  breakingTo: number | null;
  forceAt: number;
  /** Tell the holder its lease is being broken (SIGIO or its F_SETSIG signal). */
  notify: () => void;
}

/** What F_SETLEASE looks at besides the other leases: the inode's open descriptions and writers. */
export interface LeaseOpens {
  descriptions: number;
  writers: number;
  /** The holder's description is open for writing. */
  holderWrites: boolean;
}

export class FileLocks {
  private records: RecordLock[] = [];
  private leases: Lease[] = [];
  /** description -> F_RDLCK/F_WRLCK */
  private readonly flocks = new Map<object, number>();
  private readonly queue = new WaitQueue();

  /** The first lock of another owner that conflicts with [start, end] of type, or null. */
  test(owner: object, type: number, start: number, end: number): RecordLock | null {
    for (const l of this.records) {
      if (l.owner === owner || l.end < start || l.start > end) continue;
      if (type === F_WRLCK || l.type === F_WRLCK) return l;
    }
    return null;
  }

  private apply(owner: object, pid: number, type: number, start: number, end: number): void {
    const out: RecordLock[] = [];
    for (const l of this.records) {
      if (l.owner !== owner || l.end < start || l.start > end) {
        out.push(l);
        continue;
      }
      // Keep the parts of our old lock outside the new range.
      if (l.start < start) out.push({ ...l, end: start - 1 });
      if (l.end > end) out.push({ ...l, start: end + 1 });
    }
    if (type !== F_UNLCK) out.push({ owner, pid, type, start, end });
    // As Linux's list: each owner's locks together, by start, the owners in the order they first locked
    // (F_GETLK reports the first conflicting lock in that order).
    const groups = new Map<object, RecordLock[]>();
    for (const l of out) {
      const g = groups.get(l.owner);
      if (g) g.push(l);
      else groups.set(l.owner, [l]);
    }
    // Touching locks of one owner and type become one, as Linux merges them.
    this.records = [...groups.values()].flatMap((g) => {
      g.sort((a, b) => a.start - b.start);
      const merged: RecordLock[] = [];
      for (const l of g) {
        const last = merged[merged.length - 1];
        if (last && last.type === l.type && last.end + 1 >= l.start) last.end = Math.max(last.end, l.end);
        else merged.push({ ...l });
      }
      return merged;
    });
    this.queue.notify(ALL);
  }

  /** F_SETLK / F_SETLKW (wait=true) and the OFD variants. */
  async set(t: FileCtx, owner: object, pid: number, type: number, start: number, end: number, wait: boolean): Promise<void> {
    for (;;) {
      const c = type === F_UNLCK ? null : this.test(owner, type, start, end);
      if (!c) {
        this.apply(owner, pid, type, start, end);
        return;
      }
      if (!wait) throw new Errno(E.EAGAIN);
      // POSIX locks (not OFD ones, as on Linux): waiting for an owner that waits, in turn, for us is EDEADLK.
      const me = owner as LockWaiter;
      if (pid !== -1) {
        let x: LockWaiter | null = c.owner as LockWaiter;
        for (let depth = 0; x && depth < MAX_DEADLOCK_DEPTH; depth++, x = x.lockBlockedBy ?? null) {
          if (x === me) throw new Errno(E.EDEADLK);
        }
      }
      me.lockBlockedBy = c.owner;
      try {
        await t.block(this.queue, ALL);
      } finally {
        me.lockBlockedBy = null;
      }
    }
  }

  /** Drop every record lock of owner (close of an fd, exit, last reference to an OFD owner). */
  releaseRecords(owner: object): void {
    if (!this.records.some((l) => l.owner === owner)) return;
    this.records = this.records.filter((l) => l.owner !== owner);
    this.queue.notify(ALL);
  }

  /** flock(2) on behalf of description owner. */
  async flock(t: FileCtx, owner: object, op: number): Promise<void> {
    const kind = op & ~LOCK_NB;
    if (kind === LOCK_UN) {
      this.releaseFlock(owner);
      return;
    }
    if (kind !== LOCK_SH && kind !== LOCK_EX) throw new Errno(E.EINVAL);
    const want = kind === LOCK_EX ? F_WRLCK : F_RDLCK;
    // Converting a lock drops the old one first (Linux does the same, it is not atomic).
    this.releaseFlock(owner);
    for (;;) {
      let conflict = false;
      for (const [o, ty] of this.flocks) if (o !== owner && (ty === F_WRLCK || want === F_WRLCK)) conflict = true;
      if (!conflict) {
        this.flocks.set(owner, want);
        return;
      }
      if (op & LOCK_NB) throw new Errno(E.EAGAIN);
      await t.block(this.queue, ALL);
    }
  }

  releaseFlock(owner: object): void {
    if (this.flocks.delete(owner)) this.queue.notify(ALL);
  }

  /** The last reference to a description went: its OFD record locks, flock and lease go with it. */
  releaseDescription(f: object): void {
    this.releaseRecords(f);
    this.releaseFlock(f);
    this.dropLease(f);
  }

  get hasLeases(): boolean {
    return this.leases.length > 0;
  }

  /** F_GETLEASE: the holder's lease type (while broken, the type it is going to), or F_UNLCK. */
  getLease(holder: object): number {
    const l = this.leases.find((x) => x.holder === holder);
    return l ? l.breakingTo ?? l.type : F_UNLCK;
  }

  /**
   * F_SETLEASE. A read lease needs the file open for writing nowhere (its
   * own description included), a write lease needs its description to be
   * the file's only one; neither may meet another description's write
   * lease, or for a write lease any other lease, or a break in progress
   * (EAGAIN). F_UNLCK without a lease is EAGAIN too, as on Linux.
   */
  setLease(holder: object, type: number, opens: LeaseOpens, notify: () => void): void {
    const mine = this.leases.find((x) => x.holder === holder);
    if (type === F_UNLCK) {
      if (!mine) throw new Errno(E.EAGAIN);
      this.dropLease(holder);
      return;
    }
    if (type === F_RDLCK && opens.writers > 0) throw new Errno(E.EAGAIN);
    if (type === F_WRLCK && (opens.descriptions !== 1 || opens.writers !== (opens.holderWrites ? 1 : 0))) throw new Errno(E.EAGAIN);
    for (const l of this.leases) {
      if (l === mine) continue;
      if (l.breakingTo !== null || type === F_WRLCK || l.type === F_WRLCK) throw new Errno(E.EAGAIN);
    }
    if (mine) {
      // A broken lease may go down (to what the break wants), not up.
      if (mine.breakingTo !== null && type === F_WRLCK) throw new Errno(E.EAGAIN);
      mine.type = type;
      mine.notify = notify;
      if (mine.breakingTo === type) mine.breakingTo = null;
      this.queue.notify(ALL);
      return;
    }
    this.leases.push({ holder, type, breakingTo: null, forceAt: 0, notify });
  }

  private dropLease(holder: object): void {
    const n = this.leases.length;
    this.leases = this.leases.filter((l) => l.holder !== holder);
    if (this.leases.length !== n) this.queue.notify(ALL);
  }

  /**
   * An open (for writing: forWrite) or a truncate meets the leases of other
   * descriptions: a write one conflicts with any open, a read one with
   * writers. Each holder is told once; the caller waits until they give
   * way (unlock or downgrade) or breakNs has passed, when the break is
   * forced; a non-blocking open is EWOULDBLOCK at once.
   */
  async breakLeases(t: FileCtx, forWrite: boolean, nonblock: boolean, now: () => number, breakNs: number): Promise<void> {
    for (;;) {
      const conflicting = this.leases.filter((l) => forWrite || l.type === F_WRLCK);
      if (conflicting.length === 0) return;
      const at = now();
      for (const l of conflicting) {
        const target = forWrite ? F_UNLCK : F_RDLCK;
        if (l.breakingTo === null || (target === F_UNLCK && l.breakingTo !== F_UNLCK)) {
          if (l.breakingTo === null) l.forceAt = at + breakNs;
          l.breakingTo = target;
          l.notify();
        }
      }
      if (nonblock) throw new Errno(E.EAGAIN); // EWOULDBLOCK
      const due = Math.min(...conflicting.map((l) => l.forceAt));
      if (due <= at) {
        // Time is up: the break happens without the holder.
        for (const l of conflicting) {
          if (l.forceAt > at) continue;
          if (l.breakingTo === F_UNLCK) this.leases = this.leases.filter((x) => x !== l);
          else {
            l.type = F_RDLCK;
            l.breakingTo = null;
          }
        }
        this.queue.notify(ALL);
        continue;
      }
      await t.block(this.queue, ALL, due);
    }
  }
}
