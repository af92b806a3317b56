// The host event service's fd watches: any number of watch() calls on one
// host fd share one epoll entry in the Sentry's set, whose events are the
// union of theirs, edge-triggered only if every watch is. Each entry carries
// a token that is never reused, so a report for an entry dropped in the
// meantime (its fd closed and the number reused) is recognised and ignored.

import { HOST_ERR, HOST_HUP, HostWatchError, type HostWatch, type WatchOptions } from './platform';

const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;
const EPOLLET = 1 << 31;
const ENOENT = 2;
const EEXIST = 17;

/** epoll_ctl on the Sentry's set with a token as the data; returns 0 or the errno. */
export type EpollCtl = (op: number, fd: number, events: number, token: number) => number;

export class HostFdWatches {
  private readonly regs = new Map<number, FdRegistration>();
  private readonly byToken = new Map<number, FdRegistration>();

  /** nextToken: the first token to give out; those below it are the owner's own entries (the timer). */
  constructor(
    private readonly ctl: EpollCtl,
    private nextToken: number,
  ) {}

  watch(fd: number, events: number, cb: (revents: number) => void, opts?: WatchOptions): HostWatch {
    const w = new Watch(fd, events, cb, opts?.edge === true);
    let reg = this.regs.get(fd);
    const fresh = reg === undefined;
    if (!reg) reg = { fd, token: this.nextToken++, armed: -1, watches: [] };
    reg.watches.push(w);
    const err = this.sync(reg);
    if (err !== 0) {
      reg.watches.pop();
      w.live = false;
      if (!fresh) this.sync(reg);
      throw new HostWatchError(err, fd);
    }
    if (fresh) {
      this.regs.set(fd, reg);
      this.byToken.set(reg.token, reg);
    }
    return w;
  }

  unwatch(h: HostWatch): void {
    const w = h as Watch;
    if (!w.live) return;
    w.live = false;
    const reg = this.regs.get(w.fd);
    if (!reg) return;
    const i = reg.watches.indexOf(w);
    if (i < 0) return;
    reg.watches.splice(i, 1);
    this.sync(reg);
  }

  /**
   * Bring the epoll entry of reg in line with its watches: the union of their
   * events, edge-triggered only if every watch is (a level watch must not
   * miss readiness that persists). No watch left: the entry goes. Returns 0
   * or the errno of adding the entry.
   */
  private sync(reg: FdRegistration): number {
    if (reg.watches.length === 0) {
      // The fd may be closed already (ENOENT, EBADF): the host dropped the entry with it.
      if (reg.armed !== -1) this.ctl(EPOLL_CTL_DEL, reg.fd, 0, 0);
      this.regs.delete(reg.fd);
      this.byToken.delete(reg.token);
      return 0;
    }
    let events = 0;
    let edge = true;
    for (const w of reg.watches) {
      events |= w.events;
      edge &&= w.edge;
    }
    const want = (events | (edge ? EPOLLET : 0)) >>> 0;
    if (want === reg.armed) return 0;
    let err: number;
    if (reg.armed === -1) {
      err = this.ctl(EPOLL_CTL_ADD, reg.fd, want, reg.token);
      // An entry for this very file is there already (never ours to forget, but harmless): take it over.
      if (err === EEXIST) err = this.ctl(EPOLL_CTL_MOD, reg.fd, want, reg.token);
    } else {
      err = this.ctl(EPOLL_CTL_MOD, reg.fd, want, reg.token);
      // The number now names another file (closed and reused under a watch): register that one.
      if (err === ENOENT) err = this.ctl(EPOLL_CTL_ADD, reg.fd, want, reg.token);
    }
    if (err === 0) reg.armed = want;
    return err;
  }

  /** An epoll report for token: run the live watches it concerns. False if the token is none of ours. */
  dispatch(token: number, revents: number): boolean {
    const reg = this.byToken.get(token);
    if (!reg) return false;
    for (const w of reg.watches.slice()) {
      if (w.live && (revents & (w.events | HOST_ERR | HOST_HUP)) !== 0) w.cb(revents);
    }
    return true;
  }
}

/** One watch() registration. */
class Watch implements HostWatch {
  live = true;
  constructor(
    readonly fd: number,
    readonly events: number,
    readonly cb: (revents: number) => void,
    readonly edge: boolean,
  ) {}
}

/** The epoll entry of one host fd, shared by every watch on that fd. */
interface FdRegistration {
  readonly fd: number;
  /** epoll data: never reused, so a report for a dropped entry is recognised. */
  readonly token: number;
  /** Events (with EPOLLET) the entry has on the host; -1: no entry. */
  armed: number;
  watches: Watch[];
}
