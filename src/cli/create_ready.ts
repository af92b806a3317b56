// `create` started by bin/tsvisor.js's shell line (what Docker, containerd
// and podman execute): the shell waits on a pipe, not on this process, so
// that this process can go on as the container's sandbox process once
// create is done (as `runc create` leaves `runc init` behind). The pipe's fd
// is named by TSVISOR_CREATE_READY_FD. On it: `pid N` at once, then create's
// exit status, when the container is created (0) or when this process exits
// before (the status it exits with; the shell then waits for the pipe's end,
// that is for this process to be gone). The shell exits with that status; if
// the pipe ends with no status (this process was killed, or crashed in
// native code), it runs `create` again with TSVISOR_CREATE_ABANDONED=N,
// which removes what this one made (Runtime.abandonCreate).

import * as fs from 'node:fs';

const READY_ENV = 'TSVISOR_CREATE_READY_FD';
/** Set by the shell line for the `create` that cleans up after a dead one: that one's pid. */
export const ABANDONED_ENV = 'TSVISOR_CREATE_ABANDONED';

export class CreateReady {
  private constructor(private fd: number | null) {}

  /** The pipe to the shell line, if this process is its `create`; taken out of the environment (nothing started later gets it). */
  static fromEnv(): CreateReady | null {
    const v = process.env[READY_ENV];
    if (v === undefined) return null;
    delete process.env[READY_ENV];
    if (!/^\d+$/.test(v)) return null;
    let fd: number;
    try {
      // Opened again close-on-exec (the shell's copy is not): the stubs, hooks and Gofer started later do not hold the pipe.
      fd = fs.openSync(`/proc/self/fd/${v}`, 'w');
      fs.closeSync(Number(v));
    } catch {
      return null;
    }
    const r = new CreateReady(fd);
    r.write(`pid ${process.pid}\n`);
    process.once('exit', (code) => r.done(code));
    return r;
  }

  private write(s: string): void {
    if (this.fd === null) return;
    try {
      fs.writeSync(this.fd, s);
    } catch {
      // the shell is gone: nobody waits
    }
  }

  /**
   * create is done with this status. 0: the container exists, and this
   * process goes on as its sandbox process. Otherwise this process is
   * exiting: the pipe is left for the kernel to close as it ends, so that the
   * shell, which waits for that end, returns when nothing of the failed
   * create is left.
   */
  done(status: number): void {
    if (this.fd === null) return;
    this.write(`${status}\n`);
    if (status === 0) fs.closeSync(this.fd);
    this.fd = null;
  }
}
