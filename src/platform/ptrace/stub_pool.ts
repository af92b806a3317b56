// Spare stubs: the host processes of ended processes, emptied, kept for the
// next forks (see StubProcess.retire and revive; systrap's SystrapProcess).

/** A stub process that can be emptied when its process ends and taken by another. */
export interface Reusable {
  /** Empty it for another process; false: it must be killed. */
  retire(): boolean;
  /** Take it for a new process; false if it died meanwhile. */
  revive(): boolean;
  release(): void;
}

/**
 * Stubs kept when their process ended, for the next fork: a fork of the
 * master, its control page and the kill of the old stub cost about 0.6 ms
 * of every fork+exec+exit here (three host round trips and a process
 * creation and teardown); emptying a stub costs one batch.
 */
export class StubPool<S extends Reusable> {
  private readonly spare: S[] = [];
  /** Set when the platform shuts down: every stub is killed from then on. */
  closed = false;

  constructor(private readonly max: number) {}

  /** Keep s (its process ended) if there is room and it can be emptied. */
  keep(s: S): boolean {
    if (this.closed || this.spare.length >= this.max || !s.retire()) return false;
    this.spare.push(s);
    return true;
  }

  /** A spare stub, revived for a new process, or null. */
  take(): S | null {
    for (let s = this.spare.pop(); s; s = this.spare.pop()) {
      if (s.revive()) return s;
      s.release();
    }
    return null;
  }

  /** Kill every spare (the platform's shutdown). */
  close(): void {
    this.closed = true;
    for (const s of this.spare.splice(0)) s.release();
  }
}

