// Starting a sandbox's Gofer: one process serving the root file system and
// every bind mount's source (see docs/ARCHITECTURE.md "Gofer" for why one).
// It runs in new mount and network namespaces (unshare(1): the namespaces
// exist before Node starts, so every thread of the Gofer is in them), then
// confines itself further (gofer/confine.ts). The Sentry keeps its end of a
// SOCK_SEQPACKET socketpair; the Gofer ends when that end closes.
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import * as libc from '../host/libc';
import { seqpacketPair } from './channel';
import { GoferConnection } from './client';

export interface GoferTreeSpec {
  /** The host path (resolved by the runtime, as it was given). */
  path: string;
  writable: boolean;
}

/** The runtime's own switch (not passed on to the sandboxed program). */
export const GOFER_ENV = 'TSVISOR_GOFER';

/** Whether the Gofer is asked for: an explicit choice, else TSVISOR_GOFER=1. */
export function goferWanted(choice: boolean | undefined): boolean {
  return choice ?? process.env[GOFER_ENV] === '1';
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

/** The Gofer process and the Sentry's end of its socket (tests speak the raw protocol on it). */
export function spawnGofer(trees: GoferTreeSpec[]): { fd: number; pid: number } {
  const [mine, theirs] = seqpacketPair();
  const main = path.join(__dirname, 'main.js');
  const specs = trees.map((t) => `${t.writable ? 'rw' : 'ro'}:${t.path}`);
  let child;
  try {
    child = spawn('unshare', ['--mount', '--net', '--propagation', 'private', '--', process.execPath, main, '/tmp', ...specs], {
      stdio: ['ignore', 'ignore', 'inherit', theirs],
    });
  } finally {
    libc.close(theirs);
  }
  // The Sentry's event loop must not wait for it: it ends when the socket closes.
  child.unref();
  return { fd: mine, pid: child.pid ?? -1 };
}
