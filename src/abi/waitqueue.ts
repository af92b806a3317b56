// Wait queues: how a blocked task learns that what it waits for may have happened.
// A waiter registers interest in a set of event bits; notify() wakes the waiters
// whose mask intersects the events. Waking only means "try again": the waiter
// re-checks its condition, as in Linux.

import { POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDHUP, POLLRDNORM, POLLWRNORM } from './poll';

// Readiness events are poll(2) bits, as in Linux's wait queues.
export const EVENT_IN = POLLIN;
export const EVENT_PRI = POLLPRI;
export const EVENT_OUT = POLLOUT;
export const EVENT_ERR = POLLERR;
export const EVENT_HUP = POLLHUP;
export const EVENT_RDNORM = POLLRDNORM;
export const EVENT_WRNORM = POLLWRNORM;
export const EVENT_RDHUP = POLLRDHUP;
export const ALL_EVENTS = 0xffffffff;

export interface Waiter {
  mask: number;
  wake(events: number): void;
}

/** What a waiter can wait on: a queue, or a file (which may arm a host source on registration). */
export interface Waitable {
  eventRegister(w: Waiter): void;
  eventUnregister(w: Waiter): void;
}

export class WaitQueue implements Waitable {
  private readonly waiters = new Set<Waiter>();

  add(w: Waiter): void {
    this.waiters.add(w);
  }

  remove(w: Waiter): void {
    this.waiters.delete(w);
  }

  eventRegister(w: Waiter): void {
    this.waiters.add(w);
  }

  eventUnregister(w: Waiter): void {
    this.waiters.delete(w);
  }

  get empty(): boolean {
    return this.waiters.size === 0;
  }

  /** The union of the waiters' masks: what someone waits for now (0: nobody). */
  mask(): number {
    let m = 0;
    for (const w of this.waiters) m |= w.mask;
    return m;
  }

  notify(events: number): void {
    if (this.waiters.size === 0) return;
    for (const w of [...this.waiters]) {
      if ((w.mask & events) !== 0) w.wake(events);
    }
  }
}
