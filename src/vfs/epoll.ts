// epoll: an interest list of (file, fd) pairs and a ready list, over the one
// readiness interface of FileDescription (man 7 epoll). An entry's waiter is
// registered on its file for as long as the entry lives; a wake-up puts the
// entry on the ready list and wakes the epoll's own queue (its waiters in
// epoll_wait, poll on the epoll fd, an epoll it is nested in). epoll_wait
// checks each ready entry's readiness again: level-triggered entries stay on
// the list while ready, edge-triggered ones leave it when reported, one-shot
// ones are disabled until EPOLL_CTL_MOD. An entry goes when its file
// description is released (all fds to it closed), not when one fd closes.

import { E, Errno } from '../abi/errno';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_RDNORM, type Waiter } from '../abi/waitqueue';
import { EPOLLET, EPOLLEXCLUSIVE, EPOLLONESHOT, EPOLLWAKEUP } from '../abi/poll';
import type { HeapBudget } from '../abi/accounting';
import { AnonFile, FileDescription, type ReleaseWatcher } from './file';

/** Bits of an entry's events that are flags, not readiness events. */
const FLAG_BITS = EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP;
/** Readiness events an entry may ask for with EPOLLEXCLUSIVE (Linux's EPOLLEXCLUSIVE_OK_BITS). */
const EXCLUSIVE_OK = 0x001 | 0x004 | EVENT_ERR | EVENT_HUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/** Nesting depth of epoll sets Linux allows (EP_MAX_NESTS). */
const MAX_NESTS = 4;
/** Sentry heap charged per entry (the entry, its waiter and map slots). */
const ENTRY_COST = 256;

export const EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2, EPOLL_CTL_MOD = 3;

export interface EpollEvent {
  events: number;
  data: bigint;
}

class EpollEntry implements Waiter {
  mask: number;
  /** On the ready list. */
  ready = false;
  constructor(
    readonly ep: EpollFile,
    readonly file: FileDescription,
    readonly fd: number,
    /** Requested events with their flags (EPOLLET, EPOLLONESHOT, ...); only the flags after a one-shot fired. */
    public events: number,
    public data: bigint,
  ) {
    this.mask = waitMask(events);
  }

  wake(): void {
    this.ep.entryWoken(this);
  }
}

/** What an entry waits for: its events, and always errors and hang-ups (Linux adds them on ADD and MOD). */
function waitMask(events: number): number {
  return (events & ~FLAG_BITS) | EVENT_ERR | EVENT_HUP;
}

export class EpollFile extends AnonFile implements ReleaseWatcher {
  /** The interest list, by file and then fd (one file may be registered under several fds). */
  private readonly entries = new Map<FileDescription, Map<number, EpollEntry>>();
  private readonly readyList = new Set<EpollEntry>();
  private count = 0;

  constructor(flags: number, private readonly budget: HeapBudget | null) {
    super('[eventpoll]', flags, false);
  }

  /** The file registered as the nth (from 0) entry under fd, or null (kcmp's KCMP_EPOLL_TFD). */
  targetFile(fd: number, nth: number): FileDescription | null {
    for (const [file, byFd] of this.entries) if (byFd.has(fd) && nth-- === 0) return file;
    return null;
  }

  // ---- epoll_ctl ----------------------------------------------------------------

  /**
   * EPOLL_CTL_ADD, MOD, DEL of (file, fd). The caller has checked, in
   * Linux's order, that both fds exist (EBADF), that the target can be
   * polled (EPERM) and that this is not the target itself (EINVAL).
   */
  ctl(op: number, fd: number, file: FileDescription, ev: EpollEvent | null): void {
    if (ev && ev.events & EPOLLEXCLUSIVE) {
      // Only on ADD, only with the plain events, and never for an epoll target.
      if (op === EPOLL_CTL_MOD) throw new Errno(E.EINVAL);
      if (op === EPOLL_CTL_ADD && (ev.events & ~EXCLUSIVE_OK || file instanceof EpollFile)) throw new Errno(E.EINVAL);
    }
    if (op === EPOLL_CTL_ADD && file instanceof EpollFile) this.checkNesting(file);
    const existing = this.entries.get(file)?.get(fd) ?? null;
    switch (op) {
      case EPOLL_CTL_ADD:
        if (existing) throw new Errno(E.EEXIST);
        this.add(file, fd, ev!);
        return;
      case EPOLL_CTL_MOD:
        if (!existing) throw new Errno(E.ENOENT);
        if (existing.events & EPOLLEXCLUSIVE) throw new Errno(E.EINVAL);
        this.modify(existing, ev!);
        return;
      case EPOLL_CTL_DEL:
        if (!existing) throw new Errno(E.ENOENT);
        this.remove(existing);
        return;
      default:
        throw new Errno(E.EINVAL);
    }
  }

  /** Adding target must not close a loop or nest deeper than Linux allows: ELOOP. */
  private checkNesting(target: EpollFile): void {
    if (target.reaches(this, 0)) throw new Errno(E.ELOOP);
    if (target.depthBelow() + 1 + this.depthAbove() > MAX_NESTS) throw new Errno(E.ELOOP);
  }

  /** Whether ep is this set or nested somewhere inside it. */
  private reaches(ep: EpollFile, depth: number): boolean {
    if (ep === this) return true;
    if (depth > MAX_NESTS) return true;
    for (const file of this.entries.keys()) {
      if (file instanceof EpollFile && file.reaches(ep, depth + 1)) return true;
    }
    return false;
  }

  /** Levels of epoll sets nested inside this one. */
  private depthBelow(): number {
    let d = 0;
    for (const file of this.entries.keys()) if (file instanceof EpollFile) d = Math.max(d, 1 + file.depthBelow());
    return d;
  }

  /** Levels of epoll sets this one is nested in. */
  private depthAbove(): number {
    let d = 0;
    for (const w of this.releaseWatchers ?? []) if (w instanceof EpollFile) d = Math.max(d, 1 + w.depthAbove());
    return d;
  }

  private add(file: FileDescription, fd: number, ev: EpollEvent): void {
    this.budget?.charge(ENTRY_COST, E.ENOSPC);
    const e = new EpollEntry(this, file, fd, ev.events, ev.data);
    let byFd = this.entries.get(file);
    if (!byFd) {
      byFd = new Map();
      this.entries.set(file, byFd);
      file.watchRelease(this);
    }
    byFd.set(fd, e);
    this.count++;
    file.eventRegister(e);
    // Linux polls the file once when it is added: ready now, it is reported.
    if (this.readyNow(e)) this.enqueue(e);
  }

  private modify(e: EpollEntry, ev: EpollEvent): void {
    e.file.eventUnregister(e);
    e.events = ev.events;
    e.data = ev.data;
    e.mask = waitMask(ev.events);
    e.file.eventRegister(e);
    if (this.readyNow(e)) this.enqueue(e);
    else this.dequeue(e);
  }

  private remove(e: EpollEntry): void {
    e.file.eventUnregister(e);
    this.dequeue(e);
    const byFd = this.entries.get(e.file);
    byFd?.delete(e.fd);
    if (byFd && byFd.size === 0) {
      this.entries.delete(e.file);
      e.file.unwatchRelease(this);
    }
    this.count--;
    this.budget?.uncharge(ENTRY_COST);
  }

  /** A registered file's last reference went: its entries go with it. */
  fileReleased(file: FileDescription): void {
    const byFd = this.entries.get(file);
    if (!byFd) return;
    for (const e of [...byFd.values()]) this.remove(e);
  }

  // ---- readiness ------------------------------------------------------------------

  private readyNow(e: EpollEntry): boolean {
    return e.mask !== 0 && (e.file.readiness(e.mask) & e.mask) !== 0;
  }

  entryWoken(e: EpollEntry): void {
    if (e.mask === 0) return;
    this.enqueue(e);
  }

  private enqueue(e: EpollEntry): void {
    if (!e.ready) {
      e.ready = true;
      this.readyList.add(e);
    }
    // Waiters in epoll_wait, poll of this fd, and sets this one is nested in.
    this.queue.notify(EVENT_IN | EVENT_RDNORM);
  }

  private dequeue(e: EpollEntry): void {
    if (!e.ready) return;
    e.ready = false;
    this.readyList.delete(e);
  }

  override readiness(mask: number): number {
    if (!(mask & (EVENT_IN | EVENT_RDNORM))) return 0;
    for (const e of this.readyList) {
      if (this.readyNow(e)) return mask & (EVENT_IN | EVENT_RDNORM);
    }
    return 0;
  }

  /**
   * Take up to max ready events, as epoll_wait reports them. Level-triggered
   * entries that are still ready go to the back of the list (so that a busy
   * one does not starve the others); the others leave it.
   */
  collect(max: number): EpollEvent[] {
    const out: EpollEvent[] = [];
    for (const e of [...this.readyList]) {
      if (out.length >= max) break;
      const r = e.mask === 0 ? 0 : e.file.readiness(e.mask) & e.mask;
      this.dequeue(e);
      if (r === 0) continue;
      out.push({ events: r, data: e.data });
      if (e.events & EPOLLONESHOT) {
        e.events &= FLAG_BITS;
        e.mask = 0;
      } else if (!(e.events & EPOLLET)) {
        this.enqueue(e);
      }
    }
    return out;
  }

  protected override release(): void {
    for (const byFd of [...this.entries.values()]) for (const e of [...byFd.values()]) this.remove(e);
  }
}
