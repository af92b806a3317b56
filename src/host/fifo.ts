// mkfifo(3) (Node's fs has none), for the FIFOs a container's sandbox process
// serves its start on (cli/start_fifo.ts).

import type * as Libc from './libc';
import { AT_FDCWD, S_IFIFO } from '../abi/fs';

/** libc (koffi) loaded at the first FIFO: the runtime commands that import this module for nothing else start without it. */
const libc = (): typeof Libc => require('./libc') as typeof Libc;

/** Make a FIFO at file with mode (before the umask); throws with the errno. */
export function mkfifo(file: string, mode: number): void {
  const { mknodat, errno } = libc();
  if (mknodat(AT_FDCWD, Buffer.from(`${file}\0`), S_IFIFO | mode, 0n) < 0) throw new Error(`cannot make the FIFO ${file} (errno ${errno()})`);
}
