// timerfd (man 2 timerfd_create): a timer whose expirations are counted in a
// file. The timer is a kernel timer record (kind 'timerfd') in the kernel's
// heap; on expiry the file adds the expirations (one, plus any intervals
// missed) and re-arms itself for a periodic timer. read takes the count,
// blocking while it is 0. Realtime deadlines are kept as monotonic ones: the
// sandbox's realtime clock is the monotonic one plus a fixed offset (it
// cannot be set), so they never drift apart.

import { E, Errno } from '../../abi/errno';
import { EVENT_IN, EVENT_RDNORM } from '../../abi/waitqueue';
import { O_NONBLOCK } from '../../abi/fs';
import { AnonFile, type MaybePromise } from '../../vfs/file';
import type { FileCtx } from '../../vfs/ctx';
import { KernelTimer, type TimerFdTarget, type TimerQueue } from '../../kernel/timers';

const READ_EVENTS = EVENT_IN | EVENT_RDNORM;

/** The clocks a timerfd reads. */
export interface TimerFdClock {
  readonly timers: TimerQueue;
  monotonicNs(): number;
  realtimeNs(): number;
}

export class TimerFdFile extends AnonFile implements TimerFdTarget {
  private readonly timer = new KernelTimer('timerfd', this);
  /** Expirations not read yet. */
  private ticks = 0n;
  private interval = 0;
  private settimeFlags = 0;

  constructor(
    private readonly clock: TimerFdClock,
    readonly clockid: number,
    flags: number,
  ) {
    super('[timerfd]', flags, true);
  }

  fdinfo(): string {
    const [value, interval] = this.get();
    const pair = (ns: number): string => `(${Math.floor(ns / 1e9)}, ${ns % 1e9})`;
    return `clockid: ${this.clockid}\nticks: ${this.ticks}\nsettime flags: 0${this.settimeFlags.toString(8)}\nit_value: ${pair(value)}\nit_interval: ${pair(interval)}\n`;
  }

  /** Time left and interval, in ns (0, 0: disarmed). */
  get(): [number, number] {
    if (!this.timer.armed) return [0, this.interval];
    return [Math.max(1, this.timer.deadline - this.clock.monotonicNs()), this.interval];
  }

  /**
   * Arm (value > 0) or disarm; value is absolute in the file's clock when
   * abs. Returns the previous setting. Unread expirations are dropped, as
   * on Linux.
   */
  set(value: number, interval: number, abs: boolean, flags: number): [number, number] {
    const old = this.get();
    this.clock.timers.cancel(this.timer);
    this.ticks = 0n;
    this.interval = interval;
    this.settimeFlags = flags;
    if (value > 0) {
      const now = this.clock.monotonicNs();
      let deadline = now + value;
      if (abs) deadline = this.realtime ? now + (value - this.clock.realtimeNs()) : value;
      this.clock.timers.arm(this.timer, deadline);
    }
    return old;
  }

  private get realtime(): boolean {
    return this.clockid === 0 || this.clockid === 8; // CLOCK_REALTIME, CLOCK_REALTIME_ALARM
  }

  expired(now: number): void {
    let n = 1n;
    if (this.interval > 0) {
      // Intervals that passed while the kernel was not looking count too.
      const missed = Math.floor((now - this.timer.deadline) / this.interval);
      n += BigInt(Math.max(0, missed));
      this.clock.timers.arm(this.timer, this.timer.deadline + (Math.max(0, missed) + 1) * this.interval);
    }
    this.ticks += n;
    this.queue.notify(READ_EVENTS);
  }

  override readiness(mask: number): number {
    return this.ticks > 0n ? mask & READ_EVENTS : 0;
  }

  override read(t: FileCtx, len: number, nowait = false): MaybePromise<Buffer> {
    if (len < 8) throw new Errno(E.EINVAL);
    if (this.ticks === 0n) {
      if (this.flags & O_NONBLOCK || nowait) throw new Errno(E.EAGAIN);
      return t.block(this, READ_EVENTS).then(() => this.read(t, len, nowait));
    }
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(this.ticks);
    this.ticks = 0n;
    return b;
  }

  protected override release(): void {
    this.clock.timers.cancel(this.timer);
  }
}
