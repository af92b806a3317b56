// inotify (man 7 inotify): an instance is a description holding its watches
// (by watch descriptor; each also sits on its inode, vfs/fsnotify.ts) and a
// bounded queue of struct inotify_event records. An event identical to the
// last one queued is dropped (Linux merges it); past max_queued_events, or
// when the sandbox's heap budget has no room for one more, a single
// IN_Q_OVERFLOW stands for everything lost until it is read. Readable while
// anything is queued: readiness, poll, epoll and blocking reads all go
// through the description's queue.
import { E, Errno } from '../../abi/errno';
import type { HeapBudget } from '../../abi/accounting';
import { EVENT_IN, EVENT_RDNORM } from '../../abi/waitqueue';
import { devMajor, devMinor, O_NONBLOCK } from '../../abi/fs';
import {
  IN_ALL_EVENTS, IN_EXCL_UNLINK, IN_IGNORED, IN_MASK_ADD, IN_MASK_CREATE, IN_ONESHOT, IN_Q_OVERFLOW,
  INOTIFY_EVENT_SIZE, inotifyNameLen,
} from '../../abi/inotify';
import { AnonFile, userRoom, type MaybePromise } from '../../vfs/file';
import type { FileCtx } from '../../vfs/ctx';
import type { Inode } from '../../vfs/inode';
import type { MemoryAccess } from '../../mm/access';
import { attachWatch, detachWatch, Watch, type Fsnotify, type NotifyGroup } from '../../vfs/fsnotify';

const READ_EVENTS = EVENT_IN | EVENT_RDNORM;
/** Estimated heap cost of a queued event (plus its name's bytes) and of a watch. */
const EVENT_COST = 96;
const WATCH_COST = 192;
/** What a watch keeps of add_watch's mask (the rest are instructions for the call). */
const KEPT = (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK) >>> 0;
const WD_MAX = 0x7fffffff;

interface QueuedEvent {
  wd: number;
  mask: number;
  cookie: number;
  name: string | null;
  /** Bytes charged to the heap budget (0 for the overflow event, which Linux preallocates). */
  cost: number;
}

const eventSize = (e: QueuedEvent) => INOTIFY_EVENT_SIZE + inotifyNameLen(e.name ? e.name.length : 0);

export class InotifyFile extends AnonFile implements NotifyGroup {
  private readonly wds = new Map<number, Watch>();
  private nextWd = 1;
  /** The queue: events[head..] are pending (the front is cut off now and then). */
  private events: QueuedEvent[] = [];
  private head = 0;
  /** Sum of the pending events' sizes (FIONREAD). */
  private bytes = 0;
  private overflowQueued = false;
  private closed = false;

  constructor(
    flags: number,
    private readonly limits: Fsnotify,
    /** The kernel uid charged for the instance and its watches. */
    private readonly uid: number,
    private readonly heap: HeapBudget | null,
  ) {
    super('inotify', flags, true);
    limits.user(uid).instances++;
  }

  /** /proc/PID/fdinfo: one line per watch, newest first, as Linux's (without a file handle: there are none here). */
  fdinfo(): string {
    let s = '';
    for (const w of [...this.wds.values()].reverse()) {
      const sdev = ((devMajor(w.dev) << 20) | devMinor(w.dev)) >>> 0;
      s += `inotify wd:${w.wd.toString(16)} ino:${w.inode.ino.toString(16)} sdev:${sdev.toString(16)} mask:${(w.mask >>> 0).toString(16)} ignored_mask:0 \n`;
    }
    return s;
  }

  override supportsNowait(write: boolean): boolean {
    return !write;
  }

  override readiness(mask: number): number {
    return this.pending() > 0 ? mask & READ_EVENTS : 0;
  }

  /** lseek is accepted and moves nothing (Linux's noop_llseek). */
  override seek(): number {
    return this.offset;
  }

  override available(): number {
    return this.bytes;
  }

  private pending(): number {
    return this.events.length - this.head;
  }

  // ------------------------------------------------------------ watches

  /** inotify_add_watch on inode (the call checked the mask, the path and the permission). */
  addWatch(inode: Inode, mask: number, dev: number): number {
    const old = inode.watches?.find((w) => w.group === this);
    if (old) {
      if (mask & IN_MASK_CREATE) throw new Errno(E.EEXIST);
      old.mask = (mask & IN_MASK_ADD ? old.mask | mask : mask) & KEPT;
      return old.wd;
    }
    const user = this.limits.user(this.uid);
    if (user.watches >= this.limits.maxUserWatches) throw new Errno(E.ENOSPC);
    this.heap?.charge(WATCH_COST, E.ENOMEM);
    const w = new Watch(this, inode, this.allocWd(), (mask & KEPT) >>> 0, dev);
    user.watches++;
    this.wds.set(w.wd, w);
    attachWatch(w);
    this.limits.track(w);
    return w.wd;
  }

  /** Numbers go round (Linux's idr_alloc_cyclic): a removed wd is not handed out again soon. */
  private allocWd(): number {
    for (;;) {
      const wd = this.nextWd;
      this.nextWd = wd >= WD_MAX ? 1 : wd + 1;
      if (!this.wds.has(wd)) return wd;
    }
  }

  rmWatch(wd: number): void {
    const w = this.wds.get(wd);
    if (!w) throw new Errno(E.EINVAL);
    detachWatch(w);
  }

  detached(w: Watch): void {
    if (this.wds.get(w.wd) !== w) return;
    this.wds.delete(w.wd);
    this.limits.untrack(w);
    const user = this.limits.user(this.uid);
    user.watches--;
    this.heap?.uncharge(WATCH_COST);
    if (this.closed) this.limits.settle(this.uid);
    else this.event(w, IN_IGNORED, 0, null);
  }

  // -------------------------------------------------------------- queue

  event(w: Watch, mask: number, cookie: number, name: string | null): void {
    if (this.closed) return;
    if (this.pending() >= this.limits.maxQueuedEvents) {
      this.overflow();
      return;
    }
    const last = this.pending() ? this.events[this.events.length - 1] : null;
    if (last && last.wd === w.wd && last.mask === mask && last.cookie === cookie && last.name === name) return;
    const cost = EVENT_COST + (name ? name.length : 0);
    if (this.heap && !this.heap.tryCharge(cost)) {
      this.overflow();
      return;
    }
    this.push({ wd: w.wd, mask: mask >>> 0, cookie, name, cost });
  }

  /** One IN_Q_OVERFLOW at a time stands for every event lost. */
  private overflow(): void {
    if (this.overflowQueued) return;
    this.overflowQueued = true;
    this.push({ wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: null, cost: 0 });
  }

  private push(e: QueuedEvent): void {
    this.events.push(e);
    this.bytes += eventSize(e);
    // Linux wakes the readers for every event; an edge-triggered epoll sees each.
    this.queue.notify(READ_EVENTS);
  }

  private shift(): QueuedEvent {
    const e = this.events[this.head++];
    if (this.head === this.events.length) {
      this.events = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
    this.bytes -= eventSize(e);
    if (e.mask === IN_Q_OVERFLOW && e.wd === -1) this.overflowQueued = false;
    if (e.cost) this.heap?.uncharge(e.cost);
    return e;
  }

  /** Take the events that fit in len bytes, whole; EINVAL when not even the first does. */
  private take(len: number): Buffer {
    let size = 0;
    let n = 0;
    for (let i = this.head; i < this.events.length; i++) {
      const s = eventSize(this.events[i]);
      if (size + s > len) break;
      size += s;
      n++;
    }
    if (n === 0) throw new Errno(E.EINVAL);
    const b = Buffer.alloc(size);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const e = this.shift();
      b.writeInt32LE(e.wd, at);
      b.writeUInt32LE(e.mask, at + 4);
      b.writeUInt32LE(e.cookie, at + 8);
      const nameLen = inotifyNameLen(e.name ? e.name.length : 0);
      b.writeUInt32LE(nameLen, at + 12);
      if (e.name) b.write(e.name, at + INOTIFY_EVENT_SIZE, 'latin1');
      at += INOTIFY_EVENT_SIZE + nameLen;
    }
    return b;
  }

  private wait<T>(t: FileCtx, nowait: boolean, again: () => MaybePromise<T>): Promise<T> {
    if (this.flags & O_NONBLOCK || nowait) throw new Errno(E.EAGAIN);
    return t.block(this, READ_EVENTS).then(again);
  }

  override read(t: FileCtx, len: number, nowait = false): MaybePromise<Buffer> {
    if (this.pending() === 0) return this.wait(t, nowait, () => this.read(t, len, nowait));
    return this.take(len);
  }

  /**
   * The events are taken off the queue before they are copied: a buffer that
   * turns bad loses them, and the call is EFAULT, as on Linux.
   */
  override readToUser(t: FileCtx, mem: MemoryAccess, addr: number, len: number): MaybePromise<number> {
    if (this.pending() === 0) return this.wait(t, false, () => this.readToUser(t, mem, addr, len));
    const b = this.take(len);
    const room = userRoom(mem, addr, b.length, true);
    if (room < b.length) {
      mem.copyOut(addr, b.subarray(0, room));
      throw new Errno(E.EFAULT);
    }
    mem.copyOut(addr, b);
    return b.length;
  }

  protected override release(): void {
    this.closed = true;
    for (const w of [...this.wds.values()]) detachWatch(w);
    while (this.pending()) this.shift();
    this.limits.user(this.uid).instances--;
    this.limits.settle(this.uid);
  }
}
