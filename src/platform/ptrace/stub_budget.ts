// How many host mappings the application's pages take in one stub: the
// host has its own max_map_count, and pages of one VMA can need several host
// mappings, so the stub counts and, when too many are in use, drops them all
// (they fault back in: the Sentry holds the frames).

import * as fs from 'node:fs';
import type { PlatformStats } from '../platform';
import { StubError, type StubThread } from './stub_thread';

/**
 * Host mappings one stub may hold: a quarter of what the host allows it.
 * Linux gives a process up to max_map_count VMAs; here pages of one VMA can
 * need several host mappings, so when a count finds more than half of this
 * in use the stub's host mappings are all dropped and fault back in (the
 * Sentry holds the frames, so nothing is lost). Programs with fewer than
 * this many pieces of touched memory never see it.
 */
const BUDGET_SHARE = 4;

/** What the budget needs of its stub. */
export interface BudgetedStub {
  readonly pid: number;
  readonly top: number;
  readonly dead: boolean;
  /** A thread the kernel holds stopped now, or null. */
  stoppedThread(): StubThread | null;
  /** Run the queued mapping calls through via. */
  flush(via: StubThread): void;
  /** Queue the removal of every application mapping. */
  queueDropAll(): void;
}

export class HostMappingBudget {
  /**
   * An upper bound of the host mappings the application's pages take once
   * the queued calls have run: the last count read from the host, plus two
   * for every call since (one call splits at most one mapping into three).
   */
  private bound = 0;
  /** Of the bound, what a reservation has paid for calls still to come. */
  private credit = 0;
  /** Most host mappings the application's pages may take in this stub (see BUDGET_SHARE). */
  readonly limit: number;

  constructor(maxMappings: number, private readonly stats: PlatformStats) {
    this.limit = Math.max(64, Math.floor(maxMappings / BUDGET_SHARE));
  }

  /** The stub was emptied. */
  reset(): void {
    this.bound = 0;
    this.credit = 0;
  }

  /**
   * Room for calls that may add n host mappings. The bound only grows
   * between counts, so the host is asked (its /proc/PID/task/TID/maps, after
   * the queued calls have run) only once the bound would pass the budget. If
   * more than half the budget is really in use, every application mapping
   * is dropped (queued, in order with what came before): pages the Sentry
   * has given frames fault back in as SEGV_MAPERR faults, a chunk at a time.
   * Counting at most once per quarter budget of calls keeps this off the
   * hot path; a program that does not fragment its memory never reaches it.
   */
  reserve(n: number, s: BudgetedStub): void {
    // What the last reservation did not use goes back first.
    this.bound -= this.credit;
    this.credit = 0;
    this.room(n, s);
    this.credit = n;
  }

  /** One call: paid from a reservation, or room for the two mappings it may add. */
  forCall(s: BudgetedStub): void {
    if (this.credit >= 2) this.credit -= 2;
    else this.room(2, s);
  }

  private room(n: number, s: BudgetedStub): void {
    // With every thread running application code no call can run now: the
    // count waits for a stop (the budget leaves the host three quarters spare).
    const via = this.bound + n <= this.limit || s.dead ? null : s.stoppedThread();
    if (!via) {
      this.bound += n;
      return;
    }
    try {
      s.flush(via);
    } catch (e) {
      // A stub that died meanwhile: the task's next resume reports it.
      if (!(e instanceof StubError && s.dead)) throw e;
      return;
    }
    const real = countHostMappings(s, via, this.limit);
    this.stats.hostMappingCounts++;
    if (real > this.stats.hostMappingsPeak) this.stats.hostMappingsPeak = real;
    if (real + n > this.limit / 2) {
      s.queueDropAll();
      this.stats.hostEvictions++;
      this.bound = n;
    } else {
      this.bound = real + n;
    }
  }
}

/** The host's count of the application's mappings in this stub (those below top), read through a live thread. */
function countHostMappings(s: BudgetedStub, via: StubThread, gone: number): number {
  let text: string;
  try {
    // Through a thread: the process's own maps are empty once its leader thread has exited.
    text = fs.readFileSync(`/proc/${s.pid}/task/${via.tid}/maps`, 'latin1');
  } catch {
    return gone; // gone: a drop costs nothing then
  }
  let n = 0;
  for (let at = 0; at < text.length; ) {
    const nl = text.indexOf('\n', at);
    const dash = text.indexOf('-', at);
    if (dash > at && parseInt(text.slice(at, dash), 16) < s.top) n++;
    if (nl < 0) break;
    at = nl + 1;
  }
  return n;
}
