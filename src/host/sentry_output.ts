// The Sentry's own output on the host: its debug log, the --stats file and
// its stderr. These are files of the person running tsvisor, never reachable
// from inside the sandbox.
import * as fs from 'node:fs';

export class SentryOutput {
  private readonly logFd: number | null;

  /** debugLog: a path to append debug and strace lines to (else strace goes to stderr, debug lines nowhere). */
  constructor(debugLog?: string) {
    this.logFd = debugLog ? fs.openSync(debugLog, 'a') : null;
  }

  write(s: string, strace: boolean): void {
    if (this.logFd !== null) fs.writeSync(this.logFd, s);
    else if (strace) fs.writeSync(2, s);
  }

  stderr(s: string): void {
    fs.writeSync(2, s);
  }

  /** path: a host path, or /proc/self/fd/N for a file opened before confinement (written on N: the Sentry may not open for writing then). */
  writeFile(path: string, s: string): void {
    const held = /^\/proc\/self\/fd\/(\d+)$/.exec(path);
    if (!held) return fs.writeFileSync(path, s);
    const fd = Number(held[1]);
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, s, 0);
  }
}
