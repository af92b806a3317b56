// The runtime commands' output to fd 1 and 2, written directly: the first use
// of process.stdout or process.stderr builds a stream, for a pipe (how
// Docker's shim reads a runtime command) with node:net and the stream modules,
// about 5 ms of CPU, more than the rest of a `state` or a failing command
// costs beyond Node's own start. Node writes stdio pipes and files
// synchronously anyway.

import * as fs from 'node:fs';

/** Write all of text to fd 1 or 2. A non-blocking descriptor that is full: the rest goes through Node's stream. A reader gone (EPIPE): the text is lost, as it would be with the stream. */
export function writeStdio(fd: 1 | 2, text: string): void {
  const b = Buffer.from(text);
  let off = 0;
  try {
    while (off < b.length) off += fs.writeSync(fd, b, off);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN') (fd === 1 ? process.stdout : process.stderr).write(b.subarray(off));
  }
}
