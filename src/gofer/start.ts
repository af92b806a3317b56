// Starting a sandbox's Gofer: one process serving the root file system and
// every bind mount's source (see docs/ARCHITECTURE.md "Gofer" for why one).
// It runs in new mount, network and PID namespaces (unshare(1): the
// namespaces exist before Node starts, so every thread of the Gofer is in
// them; the pid is unshare's, the Gofer is its one child), then
// confines itself further (gofer/confine.ts). The Sentry keeps its end of a
// SOCK_SEQPACKET socketpair; the Gofer ends when that end closes.
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import * as libc from '../host/libc';
import { seqpacketPair } from './channel';
import { GoferConnection } from './connection';

const F_SETFD = 2;
const FD_CLOEXEC = 1;

export interface GoferTreeSpec {
  /** The host path (resolved by the runtime, as it was given). */
  path: string;
  writable: boolean;
}

/** The runtime's own switch (not passed on to the sandboxed program). */
export const GOFER_ENV = 'TSVISOR_GOFER';

/**
 * A Gofer started by someone else for this Sentry (the runtime of a confined
 * Sentry, which cannot make the Gofer's mount namespace itself): its
 * socket's descriptor here, and the trees it serves, in order.
 */
export interface GoferHandOff {
  fd: number;
  trees: GoferTreeSpec[];
}

/** Whether the Gofer is asked for: an explicit choice (or one already started), else TSVISOR_GOFER=1. */
export function goferWanted(choice: boolean | GoferHandOff | undefined): boolean | GoferHandOff {
  return choice ?? process.env[GOFER_ENV] === '1';
}

/** The hand-off as an environment value (for the confined Sentry's runtime to pass it on). */
export function encodeHandOff(h: GoferHandOff): string {
  return JSON.stringify(h);
}

/** The hand-off from encodeHandOff's value, or null if it is not one. */
export function decodeHandOff(v: string): GoferHandOff | null {
  let h: unknown;
  try {
    h = JSON.parse(v);
  } catch {
    return null;
  }
  if (typeof h !== 'object' || h === null) return null;
  const { fd, trees } = h as { fd?: unknown; trees?: unknown };
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || !Array.isArray(trees)) return null;
  const out: GoferTreeSpec[] = [];
  for (const t of trees as unknown[]) {
    const { path: p, writable } = (t ?? {}) as { path?: unknown; writable?: unknown };
    if (typeof p !== 'string' || typeof writable !== 'boolean') return null;
    out.push({ path: p, writable });
  }
  return { fd, trees: out };
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

/** The Gofer process and the Sentry's end of its socket (tests speak the raw protocol on it). */
export function spawnGofer(trees: GoferTreeSpec[]): { fd: number; pid: number } {
  const [mine, theirs] = seqpacketPair();
  const main = path.join(__dirname, 'main.js');
  const specs = trees.map((t) => `${t.writable ? 'rw' : 'ro'}:${t.path}`);
  let child;
  try {
    // setpriv: unshare dies with us; --kill-child: the Gofer with unshare; --pid --fork: the Gofer is pid 1 of its own namespace.
    // Run by an unprivileged user (rootless): a user namespace of its own first, the caller's one id as its root.
    const userns = process.geteuid?.() === 0 ? [] : ['--user', '--map-root-user'];
    const unshare = ['unshare', ...userns, '--mount', '--net', '--pid', '--fork', '--kill-child=SIGKILL', '--propagation', 'private'];
    child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', ...unshare, '--', process.execPath, main, '/tmp', ...specs], {
      stdio: ['ignore', 'ignore', 'inherit', theirs],
    });
  } finally {
    libc.close(theirs);
  }
  // The Sentry's event loop must not wait for it: it ends when the socket closes.
  child.unref();
  return { fd: mine, pid: child.pid ?? -1 };
}
