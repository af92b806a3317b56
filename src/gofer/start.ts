// Starting a sandbox's Gofer: one process serving the root file system and
// every bind mount's source (see docs/ARCHITECTURE.md "Gofer" for why one).
// It runs in new mount, network and PID namespaces (unshare(1): the
// namespaces exist before Node starts, so every thread of the Gofer is in
// them; the pid is unshare's, the Gofer is its one child), then
// confines itself further (gofer/confine.ts). The Sentry keeps its end of a
// SOCK_SEQPACKET socketpair; the Gofer ends when that end closes.
import * as libc from '../host/libc';
import { GoferConnection } from './connection';
import { spawnGofer, type GoferHandOff, type GoferTreeSpec } from './spawn';

const F_SETFD = 2;
const FD_CLOEXEC = 1;

/** The runtime's own switch (not passed on to the sandboxed program). */
export const GOFER_ENV = 'TSVISOR_GOFER';

/** Whether the Gofer is asked for: an explicit choice (or one already started), else TSVISOR_GOFER=1. */
export function goferWanted(choice: boolean | GoferHandOff | undefined): boolean | GoferHandOff {
  return choice ?? process.env[GOFER_ENV] === '1';
}

/** Let a hand-off go unused: its socket closed (the Gofer then ends). */
export function closeHandOff(h: GoferHandOff): void {
  libc.close(h.fd);
}

/** The connection to a Gofer someone else started (its descriptor made close-on-exec: the stubs must not inherit it). */
export function connectGofer(h: GoferHandOff): GoferConnection {
  libc.fcntl(h.fd, F_SETFD, FD_CLOEXEC);
  return new GoferConnection(h.fd);
}

/**
 * Start a Gofer serving trees (tree i is GoferConnection.tree(i)). Returns
 * at once: the first tree() call waits until the Gofer is confined and
 * ready, or fails with EIO if it could not start (its error is on stderr).
 */
export function startGofer(trees: GoferTreeSpec[]): { conn: GoferConnection; pid: number } {
  const { fd, pid } = spawnGofer(trees);
  return { conn: new GoferConnection(fd), pid };
}
