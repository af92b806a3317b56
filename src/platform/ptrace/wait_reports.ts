// The tracer's wait reports (waitpid over the stubs' process group), taken
// in rounds so that no stopped thread starves, and looked up by thread when
// the Sentry needs one particular thread's report (a spare stub's batch).

import * as libc from '../../host/libc';
import * as P from './ptrace';
import { WNOHANG } from '../../abi/sched';
import { NO_REPORT, type StopSource } from './stub_pool';

export class WaitReports implements StopSource {
  /** Reports taken from the host and not served yet, in the order taken. */
  private readonly pids: number[] = [];
  private readonly statuses: number[] = [];
  private head = 0;
  private readonly buf = new Int32Array(1);
  /** The status of the report next() returned last. */
  status = 0;

  /** group: the process group of every stub (the master's pid). */
  constructor(private readonly group: number) {}

  /**
   * The next wait report's pid (its status in status): a queued one first;
   * 0 when nothing is ready and nohang. waitpid hands out the stops of the
   * tracer's tracees in a fixed order (the newest first), so with several
   * always ready the last ones would starve: a stress-ng parent behind its
   * children, a thread behind its siblings. So with drain (more than one
   * thread), every report ready after a wait is taken at once and all are
   * served before the next wait: each stopped thread is served within one
   * round. One thread: no queue.
   */
  next(nohang: boolean, drain: boolean): number {
    if (this.head < this.pids.length) {
      const pid = this.pids[this.head];
      this.status = this.statuses[this.head++];
      this.compact();
      return pid;
    }
    const pid = libc.waitpid(-this.group, this.buf, nohang ? P.WALL | WNOHANG : P.WALL);
    this.status = this.buf[0];
    if (pid > 0 && drain) {
      for (;;) {
        const more = libc.waitpid(-this.group, this.buf, P.WALL | WNOHANG);
        if (more <= 0) break;
        this.pids.push(more);
        this.statuses.push(this.buf[0]);
      }
    }
    return pid;
  }

  reportOf(tid: number): number | null {
    for (let i = this.head; i < this.pids.length; i++) {
      if (this.pids[i] !== tid) continue;
      const s = this.statuses[i];
      this.pids.splice(i, 1);
      this.statuses.splice(i, 1);
      this.compact();
      return s;
    }
    for (;;) {
      const r = libc.waitpid(tid, this.buf, P.WALL | WNOHANG);
      if (r === tid) return this.buf[0];
      if (r === 0) return NO_REPORT;
      if (r < 0 && libc.errno() === 4) continue;
      return null;
    }
  }

  private compact(): void {
    if (this.head === this.pids.length) this.pids.length = this.statuses.length = this.head = 0;
  }
}
