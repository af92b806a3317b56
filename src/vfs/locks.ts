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

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

export class FileLocks {
  private records: RecordLock[] = [];
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
    this.records = out;
    this.queue.notify(ALL);
  }

  /** F_SETLK / F_SETLKW (wait=true) and the OFD variants. */
  async set(t: FileCtx, owner: object, pid: number, type: number, start: number, end: number, wait: boolean): Promise<void> {
    for (;;) {
      if (type === F_UNLCK || !this.test(owner, type, start, end)) {
        this.apply(owner, pid, type, start, end);
        return;
      }
      if (!wait) throw new Errno(E.EAGAIN);
      await t.block(this.queue, ALL);
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

  /** The last reference to a description went: its OFD record locks and its flock go with it. */
  releaseDescription(f: object): void {
    this.releaseRecords(f);
    this.releaseFlock(f);
  }
}
