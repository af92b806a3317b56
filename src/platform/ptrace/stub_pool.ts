// Spare stubs: the host processes of ended processes, emptied, kept for the
// next forks (see StubProcess.retire and revive; systrap's SystrapProcess).

/** A report reportOf gives when there is none yet. */
export const NO_REPORT = -1;

/** Where a stub's wait reports come from (the platform's main wait). */
export interface StopSource {
  /** The next wait report of a host thread, not waited for: a queued one first, else the host's; NO_REPORT if none yet, null if none will come. */
  reportOf(tid: number): number | null;
}

/** A stub process that can be emptied when its process ends and taken by another. */
export interface Reusable {
  /** Empty it for another process (its emptying may go on: retiring); false: it must be killed. */
  retire(): boolean;
  /** Its emptying still runs: not to be revived yet. */
  readonly retiring: boolean;
  /** Whether the emptying has ended, without waiting. */
  pollRetire(stops: StopSource): void;
  /** Take it for a new process; false if it died meanwhile. */
  revive(): boolean;
  release(): void;
}

/**
 * Stubs kept when their process ended, for the next fork: a fork of the
 * master, its control page and the kill of the old stub cost about 0.6 ms
 * of every fork+exec+exit here (three host round trips and a process
 * creation and teardown); emptying a stub costs one batch, which runs
 * while the Sentry goes on (StubProcess.retire). A fork that finds only
 * stubs still emptying gets a new one rather than wait: a loop of short
 * children then rotates two stubs, each emptied during the other's child.
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

  /** An emptied spare stub, revived for a new process, or null (stops: where its batch's end is reported). */
  take(stops: StopSource): S | null {
    for (let k = this.spare.length - 1; k >= 0; k--) {
      const s = this.spare[k];
      if (s.retiring) s.pollRetire(stops);
      if (s.retiring) continue;
      this.spare.splice(k, 1);
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

