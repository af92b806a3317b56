// An exclusive flock(2) on a file, held until released or until the process
// ends (the kernel drops it with the last descriptor, so a killed command
// never leaves a container locked). The OCI commands serialise on it.

import * as fs from 'node:fs';
import type * as Libc from './libc';

/**
 * libc, and koffi with it, loaded on first use: the runtime commands that
 * import this module but never get that far (`state` or `delete --force`
 * of a container that is gone, which Docker's shim runs for every
 * container) start without them.
 */
const libc = (): typeof Libc => require('./libc') as typeof Libc;

const LOCK_EX = 2;
const LOCK_NB = 4;
const EINTR = 4;
const EWOULDBLOCK = 11;
/** How often acquireAsync tries again while another process holds the lock. */
const RETRY_MS = 5;

export class FileLock {
  private constructor(private fd: number | null) {}

  /** Open (creating, mode 0600) and lock path, waiting while another process holds it. */
  static acquire(path: string): FileLock {
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    for (;;) {
      const { flock, errno } = libc();
      if (flock(fd, LOCK_EX) === 0) return new FileLock(fd);
      const e = errno();
      if (e === EINTR) continue;
      fs.closeSync(fd);
      throw new Error(`cannot lock ${path} (errno ${e})`);
    }
  }

  /**
   * acquire() for a process whose event loop must go on meanwhile (a
   * sandbox process serving its container while a command holds the lock):
   * tried without waiting, again every RETRY_MS.
   */
  static async acquireAsync(path: string): Promise<FileLock> {
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    for (;;) {
      const { flock, errno } = libc();
      if (flock(fd, LOCK_EX | LOCK_NB) === 0) return new FileLock(fd);
      const e = errno();
      if (e === EWOULDBLOCK || e === EINTR) {
        await new Promise((r) => setTimeout(r, RETRY_MS));
        continue;
      }
      fs.closeSync(fd);
      throw new Error(`cannot lock ${path} (errno ${e})`);
    }
  }

  release(): void {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
  }
}
