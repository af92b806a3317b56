// A memfd kept open for the life of this process under a name of the
// caller's choosing: something another process can see among this one's
// /proc/PID/fd links and no other process can be made to hold
// (cli/exec_secret.ts proves an exec client's pid with one).

import type * as Libc from './libc';

const MFD_CLOEXEC = 1;

/** Make it (close-on-exec: no child inherits it, unless handed to one as a stdio fd); the fd is never closed. Returns it. */
export function holdNamedMemfd(name: string): number {
  // Loaded here: the runtime's commands that make none load no koffi.
  const { memfd_create } = require('./libc') as typeof Libc;
  const fd = memfd_create(name, MFD_CLOEXEC) as number;
  if (fd < 0) throw new Error(`memfd_create(${name}) failed`);
  return fd;
}
