// Starting a pod container's stand-in (stand_in_elf.ts) from `create`: its
// image in a memfd (executed through /proc/self/fd, so nothing is written to
// disk), and the two pipes it talks through. The runtime keeps the
// other ends of the pipes, passes them to the sandbox with its create
// request, and closes its own once the sandbox has them (release), so
// that a pipe never looks ended to either side before both are in place.

import * as fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { childProcess } from './lazy_builtins';
import { hostPipe, imageMemfd } from '../host/exec_fds';
import { STAND_IN_NAME, standInElf } from './stand_in_elf';

export interface StandIn {
  child: ChildProcess;
  /** The runtime's ends of its pipes, which create passes to the sandbox: the status pipe's write end, the signal pipe's read end. */
  status: number;
  signals: number;
  /** Close the runtime's ends of its pipes (once the sandbox has its copies, or it failed). */
  release(): void;
}

/** Start one with stdio (the container's: a pty slave, or inherited), making fd 0 its controlling terminal if terminal. */
export function spawnStandIn(stdio: number | 'inherit', terminal: boolean): StandIn {
  const mine: number[] = [];
  const theirs: number[] = [];
  let exe = -1;
  try {
    const [statusR, statusW] = hostPipe();
    theirs.push(statusR);
    mine.push(statusW);
    const [signalR, signalW] = hostPipe();
    mine.push(signalR);
    theirs.push(signalW);
    exe = imageMemfd(STAND_IN_NAME, standInElf());
    // The child's fds 0-4 are set up by dup2 before it executes /proc/self/fd/EXE: EXE must be none of them.
    if (exe <= 4) throw new Error(`the stand-in's image got fd ${exe}`);
    const child = childProcess().spawn(`/proc/self/fd/${exe}`, terminal ? ['terminal'] : [], {
      argv0: STAND_IN_NAME, stdio: [stdio, stdio, stdio, statusR, signalW], detached: true,
    });
    const release = (): void => {
      for (const fd of mine.splice(0)) fs.closeSync(fd);
    };
    return { child, release, status: statusW, signals: signalR };
  } catch (e) {
    for (const fd of mine) fs.closeSync(fd);
    throw e;
  } finally {
    for (const fd of theirs) fs.closeSync(fd);
    if (exe >= 0) fs.closeSync(exe);
  }
}
