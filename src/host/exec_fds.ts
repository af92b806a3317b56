// Host fds a runtime command hands to a child it starts: a pipe, and an
// executable image in a memfd (run through /proc/self/fd). libc is loaded
// on first use: the runtime's commands that start no such child load no koffi.

import * as fs from 'node:fs';
import type * as Libc from './libc';

const MFD_CLOEXEC = 1;
const O_CLOEXEC = 0o2000000;

/** A pipe (close-on-exec): [read end, write end]. */
export function hostPipe(): [number, number] {
  const { pipe2, errno } = require('./libc') as typeof Libc;
  const fds = new Int32Array(2);
  if ((pipe2(fds, O_CLOEXEC) as number) < 0) throw new Error(`pipe2 failed: errno ${errno()}`);
  return [fds[0], fds[1]];
}

/** A close-on-exec memfd named name holding image. */
export function imageMemfd(name: string, image: Buffer): number {
  const { memfd_create, errno } = require('./libc') as typeof Libc;
  const fd = memfd_create(name, MFD_CLOEXEC) as number;
  if (fd < 0) throw new Error(`memfd_create failed: errno ${errno()}`);
  try {
    fs.writeFileSync(fd, image);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}
