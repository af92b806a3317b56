// Kernel.pause() and resume(): bring the whole sandbox to rest, as gVisor's
// Kernel.Pause does before a checkpoint, and let it go again.
//
// Pausing interrupts every context running application code and wakes every
// blocked task as a signal would (Task.block fails at once while a pause is
// pending), so each handler unwinds to its restart point: -ERESTARTSYS and
// friends, or a restart block (data) for restart_syscall. On the way back the
// runner applies the restart rules and delivers signals as usual, then holds
// the task (Task.paused) instead of resuming its context. Once every live
// task is held, group-stopped, or a vfork parent lent its context to a held
// child, and no handler is in flight, the registers, FP state and kernel
// objects are the whole state of the sandbox.
//
// Timers do not expire while paused (TimerQueue.hold). CLOCK_MONOTONIC keeps
// running, as in gVisor: a sleep whose deadline passed during the pause ends
// as soon as the task is back, and interval timers count the periods they
// missed as overruns.

import type { Kernel } from './kernel';

export type PauseState = 'running' | 'pausing' | 'paused';

export class PauseControl {
  state: PauseState = 'running';
  /** Completed pauses (for tests and the debug log). */
  count = 0;
  private waiting: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private wakeLoop: (() => void) | null = null;

  constructor(private readonly k: Kernel) {}

  pause(): Promise<void> {
    if (this.state === 'paused') return Promise.resolve();
    const done = new Promise<void>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (this.state === 'running') {
      this.state = 'pausing';
      this.k.timers.hold();
      for (const t of this.k.tasks.values()) {
        if (t.state === 'blocked') t.wakeForSignal();
        else if (t.state === 'running' && t.ctx.owner === t) t.ctx.interrupt();
      }
      // Nothing to bring to rest (before the first process, after the last): paused at once.
      if (this.k.tasks.size === 0) this.enterPaused();
    }
    this.k.noteWake();
    return done;
  }

  resume(): void {
    if (this.state === 'running') return;
    if (this.state === 'pausing') this.settleWaiters(new Error('resumed before the pause completed'));
    this.state = 'running';
    this.k.timers.release();
    for (const t of this.k.tasks.values()) {
      if (!t.paused) continue;
      t.paused = false;
      queueMicrotask(() => this.k.runner.returnToUser(t, false));
    }
    this.k.noteWake();
    const w = this.wakeLoop;
    this.wakeLoop = null;
    if (w) w();
  }

  /**
   * Whether every live task is at rest: held at its return to the
   * application, group-stopped, or a vfork parent whose child holds its
   * context; and no system call handler is in flight.
   */
  quiescent(): boolean {
    for (const t of this.k.tasks.values()) {
      if (t.state === 'dead' || t.state === 'stopped' || t.paused || t.vforkChild) continue;
      return false;
    }
    return this.k.runner.inFlight === 0;
  }

  /**
   * Called by the run loop (promise work drained) while not running. Returns
   * false while the pause is still under way (the loop goes on serving
   * stops), else waits for resume() and returns true.
   */
  async settle(): Promise<boolean> {
    if (this.state === 'pausing') {
      if (!this.quiescent()) return false;
      this.enterPaused();
    }
    if (this.state !== 'paused') return true;
    await new Promise<void>((r) => (this.wakeLoop = r));
    return true;
  }

  /** The run loop ended (the sandbox is gone): nothing is left to pause. */
  loopEnded(): void {
    if (this.state === 'pausing') this.enterPaused();
  }

  private enterPaused(): void {
    this.state = 'paused';
    this.count++;
    this.k.log(`paused (${this.count})`);
    this.settleWaiters(null);
  }

  private settleWaiters(err: Error | null): void {
    const ws = this.waiting;
    this.waiting = [];
    for (const w of ws) {
      if (err) w.reject(err);
      else w.resolve();
    }
  }
}
