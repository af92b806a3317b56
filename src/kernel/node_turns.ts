// Sharing the thread with Node's own event loop. The kernel's loop blocks in
// the platform's wait() (a blocking waitpid), so Node's loop runs only when
// the kernel yields to it. It yields when Node's loop fd shows work (I/O, a
// host signal caught by a handler), every NODE_TURN_EVERY events anyway, and
// when Node's next timer is due: a timer is no fd, so the host timer is also
// armed at Node's next timer (an embedding program's setTimeout must fire
// while its sandbox sleeps or is busy). libuv reports a timeout of 0 for
// any pending work (an immediate queued, the kernel's own turn in flight),
// timers or not (and the kernel runs inside an immediate after each of its
// turns); the platform then asks again a tick later if Node has a timer, so
// an embedder with timers costs a wake-up per tick at worst, and a plain
// `tsvisor do` (no timer of Node's) none.
//
// A turn for a timer must pass through Node's timers phase: an immediate
// queued from inside an immediate runs in the next loop iteration, after its
// timers, so at most TIMER_TURNS turns in a row (without a wait() between)
// make sure of it, and a deadline still in the past after that is stale
// (libuv's cached time) rather than a reason to spin.

import type { Platform } from '../platform/platform';

/** Stops and host events served between two turns of Node's event loop, at most. */
const NODE_TURN_EVERY = 4096;
/**
 * Turns for a timer that looked due, in a row without a wait() between: the
 * second one passes through a timers phase for sure.
 */
const TIMER_TURNS = 2;

export class NodeTurns {
  /** Node's own next timer (monotonic ns, 0: none), as the host timer knows it. */
  deadline = 0;
  /** JavaScript outside the kernel may have run (a turn, settled continuations): Node may have new timers. */
  mayChange = true;
  private wanted = false;
  private forTimer = false;
  private timerTurns = 0;
  private sinceTurn = 0;

  constructor(private readonly platform: Platform, private readonly armHostTimer: () => void) {}

  /** Node has callbacks to run (host signals to forward, its own I/O). */
  request(): void {
    this.wanted = true;
  }

  /**
   * Before blocking: follow Node's next timer; returns whether Node should
   * have a turn first. The clock is read only when Node may have new timers
   * (not at every stop: a read costs ~0.1 us, a tenth of a trap's work).
   */
  due(clock: () => number): boolean {
    if (this.mayChange) {
      this.mayChange = false;
      let d = this.platform.runtimeDeadline();
      if (d && d <= clock()) {
        if (this.timerTurns < TIMER_TURNS) {
          this.wanted = true;
          this.forTimer = true;
        }
        // A host timer in the past would make every wait() return at once.
        d = 0;
      }
      if (d !== this.deadline) {
        this.deadline = d;
        this.armHostTimer();
      }
    }
    return this.wanted || this.sinceTurn >= NODE_TURN_EVERY;
  }

  /** The host timer fired or an event came: Node's timer may be due. */
  checkTimer(now: number): void {
    if (this.deadline && this.deadline <= now) {
      this.wanted = true;
      this.forTimer = true;
      this.mayChange = true;
    }
  }

  /** wait() returned: the sandbox moved since the last turn. */
  waited(): void {
    this.sinceTurn++;
    this.timerTurns = 0;
  }

  /** Yield to Node once. */
  async turn(): Promise<void> {
    if (this.forTimer) this.timerTurns++;
    this.wanted = false;
    this.forTimer = false;
    this.sinceTurn = 0;
    await new Promise<void>((r) => setImmediate(r));
    this.mayChange = true;
  }
}
