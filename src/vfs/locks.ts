// Advisory locks: POSIX record locks (fcntl F_SETLK & co, owned by the fd
// table, which is what Linux uses as the owner too: threads share them, fork
// does not inherit them, closing any fd of the file drops them), OFD locks
// (owned by the open file description) and flock (per description).
import { Errno, E } from '../abi/errno';
import { WaitQueue } from '../abi/waitqueue';
import type { FileCtx } from './ctx';
import type { Inode } from './inode';

export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;
const ALL = 1;

interface RecordLock {
  owner: object;
  pid: number; // reported by F_GETLK (-1 for OFD locks)
  type: number;
  start: number;
  end: number; // inclusive; Infinity for "to EOF and beyond"
}

interface LockState {
  records: RecordLock[];
  flocks: Map<object, number>; // description -> F_RDLCK/F_WRLCK
  queue: WaitQueue;
}

const states = new WeakMap<Inode, LockState>();

function stateOf(i: Inode): LockState {
  let s = states.get(i);
  if (!s) {
    s = { records: [], flocks: new Map(), queue: new WaitQueue() };
    states.set(i, s);
  }
  return s;
}

/** The first lock of another owner that conflicts with [start, end] of type, or null. */
export function testLock(inode: Inode, owner: object, type: number, start: number, end: number): RecordLock | null {
  const s = states.get(inode);
  if (!s) return null;
  for (const l of s.records) {
    if (l.owner === owner || l.end < start || l.start > end) continue;
    if (type === F_WRLCK || l.type === F_WRLCK) return l;
  }
  return null;
}

function apply(s: LockState, owner: object, pid: number, type: number, start: number, end: number): void {
  const out: RecordLock[] = [];
  for (const l of s.records) {
    if (l.owner !== owner || l.end < start || l.start > end) {
      out.push(l);
      continue;
    }
    // Keep the parts of our old lock outside the new range.
    if (l.start < start) out.push({ ...l, end: start - 1 });
    if (l.end > end) out.push({ ...l, start: end + 1 });
  }
  if (type !== F_UNLCK) out.push({ owner, pid, type, start, end });
  s.records = out;
  s.queue.notify(ALL);
}

/** F_SETLK / F_SETLKW (wait=true) and the OFD variants. */
export async function setLock(t: FileCtx, inode: Inode, owner: object, pid: number, type: number, start: number, end: number, wait: boolean): Promise<void> {
  const s = stateOf(inode);
  for (;;) {
    if (type === F_UNLCK || !testLock(inode, owner, type, start, end)) {
      apply(s, owner, pid, type, start, end);
      return;
    }
    if (!wait) throw new Errno(E.EAGAIN);
    await t.block(s.queue, ALL);
  }
}

/** Drop every record lock of owner on inode (close of an fd, exit). */
export function releaseRecordLocks(inode: Inode, owner: object): void {
  const s = states.get(inode);
  if (!s || !s.records.some((l) => l.owner === owner)) return;
  s.records = s.records.filter((l) => l.owner !== owner);
  s.queue.notify(ALL);
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** flock(2) on behalf of description owner. */
export async function flock(t: FileCtx, inode: Inode, owner: object, op: number): Promise<void> {
  const s = stateOf(inode);
  const kind = op & ~LOCK_NB;
  if (kind === LOCK_UN) {
    if (s.flocks.delete(owner)) s.queue.notify(ALL);
    return;
  }
  if (kind !== LOCK_SH && kind !== LOCK_EX) throw new Errno(E.EINVAL);
  const want = kind === LOCK_EX ? F_WRLCK : F_RDLCK;
  // Converting a lock drops the old one first (Linux does the same, it is not atomic).
  if (s.flocks.delete(owner)) s.queue.notify(ALL);
  for (;;) {
    let conflict = false;
    for (const [o, ty] of s.flocks) if (o !== owner && (ty === F_WRLCK || want === F_WRLCK)) conflict = true;
    if (!conflict) {
      s.flocks.set(owner, want);
      return;
    }
    if (op & LOCK_NB) throw new Errno(E.EAGAIN);
    await t.block(s.queue, ALL);
  }
}

export function releaseFlock(inode: Inode, owner: object): void {
  const s = states.get(inode);
  if (s && s.flocks.delete(owner)) s.queue.notify(ALL);
}

const registered = new WeakSet<object>();
/** OFD and flock locks of a description go away with its last reference. */
export function releaseWithDescription(f: { inode: Inode | null; onRelease: Array<() => void> }): void {
  if (registered.has(f) || !f.inode) return;
  registered.add(f);
  const inode = f.inode;
  f.onRelease.push(() => {
    releaseRecordLocks(inode, f);
    releaseFlock(inode, f);
  });
}
