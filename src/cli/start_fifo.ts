// `start ID` without a Node start (as runc's exec.fifo): the sandbox process
// that a create left behind (oci_commands.ts, in place) makes two FIFOs in
// the container's state directory (root's, mode 0700; the FIFOs 0600), and
// bin/tsvisor.js's shell line asks through them:
// - REQUEST_FIFO: the shell writes `start PID` (its own pid) into it. This
//   process holds it open for reading and writing, so the shell's open (also
//   read-write) never waits.
// - DONE_FIFO: never written. This process holds it open (its only writer)
//   until it has handled the first start; the shell opens it read-write, then
//   read-only (which does not wait: it is a writer itself), drops the
//   read-write descriptor and reads: the read returns at the end of the
//   file, when this process closed it or died. A shell never waits on a
//   process that is gone, and sh needs no timeout.
// - RESULT_FILE: written (renamed into place) before DONE_FIFO is closed:
//   `PID ok`, or `PID error MESSAGE`, PID the requester's. A shell that finds
//   no result, or another shell's, starts Node's `start`, which decides from
//   the container's record (as it does for every case the shell line does
//   not know); with an error it passes the message on
//   (TSVISOR_START_FAILED), so that Node reports it in the log's format.
// One start only: both FIFOs are removed as it is taken; later ones go to
// Node. The container's record and the lock are handled by the caller
// (Runtime.startFromFifo), as Node's `start` does.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Socket } from 'node:net';
import { net } from './lazy_builtins';
import { mkfifo } from '../host/fifo';

// Their names are also bin/tsvisor.js's.
const REQUEST_FIFO = 'start-request';
const DONE_FIFO = 'start-done';
const RESULT_FILE = 'start-result';
/** Set by the shell line for Node's `start` when the sandbox process reported this error. */
export const START_FAILED_ENV = 'TSVISOR_START_FAILED';

/**
 * Emitted on process by the sandbox process as it ends with the container
 * (exitAs): a start already asked of the sandbox is then answered, as
 * succeeded, before the exit (whose signal death skips 'exit' listeners).
 * Not confined, this process runs the container, whose end may come before
 * this process has read the sandbox's own reply; as Node's start would have
 * had it before the container ran.
 */
export const EXITING_EVENT = 'tsvisor:exiting';

/** More than any request line; a longer one is not a request. */
const MAX_LINE = 64;

/**
 * Serve the shell line's start in stateDir: start(sent) does it, calls
 * sent() as it asks the sandbox to let the container run, and rejects with
 * the error if it fails. Throws if the FIFOs cannot be made (the
 * caller goes on without: every start is then Node's). Nothing here keeps
 * the process alive.
 */
export function serveStartFifo(stateDir: string, start: (sent: () => void) => Promise<void>, debug: (msg: string) => void): void {
  const req = path.join(stateDir, REQUEST_FIFO);
  const done = path.join(stateDir, DONE_FIFO);
  mkfifo(done, 0o600);
  mkfifo(req, 0o600);
  // Non-blocking, close-on-exec (libuv's opens are): nothing this process starts later holds them.
  const flags = fs.constants.O_RDWR | fs.constants.O_NONBLOCK;
  const doneFd = fs.openSync(done, flags);
  const sock: Socket = new (net().Socket)({ fd: fs.openSync(req, flags), readable: true, writable: false });
  sock.unref();
  let text = '';
  let taken = false;
  sock.on('error', () => undefined);
  sock.on('data', (b: Buffer) => {
    if (taken) return;
    text += b.toString('latin1');
    const m = /^start (\d{1,10})\n/.exec(text);
    if (!m) {
      // Not a request (nobody but root can write here): wait for a request line after it.
      const nl = text.lastIndexOf('\n');
      if (nl >= 0) text = text.slice(nl + 1);
      if (text.length > MAX_LINE) text = '';
      return;
    }
    taken = true;
    sock.destroy();
    for (const f of [req, done]) fs.rmSync(f, { force: true });
    const client = m[1];
    debug(`start asked by the shell line of process ${client}`);
    let sent = false;
    let answered = false;
    const answer = (line: string): void => {
      if (answered) return;
      answered = true;
      try {
        const tmp = path.join(stateDir, `${RESULT_FILE}.tmp`);
        fs.writeFileSync(tmp, `${client} ${line}\n`, { mode: 0o600 });
        fs.renameSync(tmp, path.join(stateDir, RESULT_FILE));
      } catch {
        // the state directory is gone (delete --force): the shell's Node start says so
      }
      fs.closeSync(doneFd);
    };
    const atExit = (): void => {
      if (sent) answer('ok');
    };
    process.once('exit', atExit);
    process.once(EXITING_EVENT, atExit);
    start(() => (sent = true)).then(() => answer('ok'), (e: Error) => answer(`error ${e.message.replace(/\s+/g, ' ')}`));
  });
}
