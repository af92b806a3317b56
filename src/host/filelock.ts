// An exclusive flock(2) on a file, held until released or until the process
// ends (the kernel drops it with the last descriptor, so a killed command
// never leaves a container locked). The OCI commands serialise on it.

import * as fs from 'node:fs';
import * as libc from './libc';

const LOCK_EX = 2;
const EINTR = 4;

export class FileLock {
  private constructor(private fd: number | null) {}

  /** Open (creating, mode 0600) and lock path, waiting while another process holds it. */
  static acquire(path: string): FileLock {
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    for (;;) {
      if (libc.flock(fd, LOCK_EX) === 0) return new FileLock(fd);
      const e = libc.errno();
      if (e === EINTR) continue;
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
