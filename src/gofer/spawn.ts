// The Gofer's process started (gofer/main.ts in new mount, network and PID
// namespaces; see start.ts) and what its starter hands on: the trees it
// serves and the Sentry's end of its socket. Apart from start.ts (the
// Sentry's connection, with the whole client) so that the runtime of a
// confined Sentry, which starts the Gofer but never speaks to it, loads
// none of the client (docs/PERFORMANCE.md, "OCI containers confined").
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as libc from '../host/libc';
import { seqpacketPair } from './channel';

export interface GoferTreeSpec {
  /** The host path (resolved by the runtime, as it was given). */
  path: string;
  writable: boolean;
}

/**
 * A Gofer started by someone else for this Sentry (the runtime of a confined
 * Sentry, which cannot make the Gofer's mount namespace itself): its
 * socket's descriptor here, and the trees it serves, in order.
 */
export interface GoferHandOff {
  fd: number;
  trees: GoferTreeSpec[];
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

/**
 * The Gofer process and the Sentry's end of its socket (tests speak the raw
 * protocol on it). detached: it outlives its starter (a pod's container's
 * create, which ends before the container: the Gofer ends with its socket,
 * when the Sentry closes it or ends), and holds none of its stdio (a shim
 * waits for their end).
 */
export function spawnGofer(trees: GoferTreeSpec[], detached = false): { fd: number; pid: number } {
  const [mine, theirs] = seqpacketPair();
  const main = path.join(__dirname, 'main.js');
  const specs = trees.map((t) => `${t.writable ? 'rw' : 'ro'}:${t.path}`);
  try {
    // setpriv: unshare dies with us; --kill-child: the Gofer with unshare; --pid --fork: the Gofer is pid 1 of its own namespace.
    // Run by an unprivileged user (rootless): a user namespace of its own first, the caller's one id as its root.
    const userns = process.geteuid?.() === 0 ? [] : ['--user', '--map-root-user'];
    // By its path: setpriv would look it up in a PATH the Gofer's environment does not have.
    const unshare = [which('unshare'), ...userns, '--mount', '--net', '--pid', '--fork', '--kill-child=SIGKILL', '--propagation', 'private'];
    const argv = [...unshare, '--', process.execPath, main, '/tmp', ...specs];
    return { fd: mine, pid: spawnRaw(detached ? argv : ['setpriv', '--pdeathsig', 'KILL', '--', ...argv], theirs, detached) };
  } catch (e) {
    libc.close(mine);
    throw e;
  } finally {
    libc.close(theirs);
  }
}

/** The path of program name in our PATH (util-linux's setpriv and unshare). */
function which(name: string): string {
  if (name.includes('/')) return name;
  const exe = (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').map((d) => path.join(d || '.', name)).find((p) => fs.existsSync(p));
  if (!exe) throw new Error(`${name} not found in PATH (util-linux)`);
  return exe;
}

/**
 * The Gofer's environment: its own settings (TSVISOR_GOFER_*) and nothing
 * else. Node acts on its environment before any of the Gofer's code runs,
 * while the host's files are still there: NODE_OPTIONS could load modules
 * into it, and NODE_EXTRA_CA_CERTS alone made each start read and parse a
 * certificate bundle (50-100 ms here; docs/PERFORMANCE.md, "The Gofer's
 * start, measured"). Nor does a process that serves files need the caller's
 * variables (tokens, paths) in its memory. unshare and setpriv need none.
 */
function goferEnv(from: NodeJS.ProcessEnv): string[] {
  return Object.entries(from).filter((kv): kv is [string, string] => kv[0].startsWith('TSVISOR_GOFER_') && kv[1] !== undefined).map(([k, v]) => `${k}=${v}`);
}

/**
 * argv run with stdin and stdout on /dev/null, stderr ours (quiet: /dev/null too) and sock as fd 3,
 * by posix_spawn rather than node:child_process: a Node child process makes
 * libuv catch SIGCHLD, and a ptrace tracer gets a SIGCHLD at every stop of
 * every stub, so each application system call would also run a signal
 * handler and wake the platform's host-event waiter (measured: one waker
 * round per two or three stops). The Gofer is not reaped before the Sentry
 * exits (it ends with the Sentry's socket; pdeathsig otherwise).
 */
function spawnRaw(argv: string[], sock: number, quiet: boolean): number {
  const exe = which(argv[0]);
  const devNull = fs.openSync('/dev/null', 'r+');
  try {
    const fa = Buffer.alloc(256);
    const attr = Buffer.alloc(512);
    libc.posix_spawn_file_actions_init(fa);
    // Two steps so no target equals its source (dup2 onto itself keeps close-on-exec).
    libc.posix_spawn_file_actions_adddup2(fa, sock, 1000);
    libc.posix_spawn_file_actions_adddup2(fa, devNull, 1001);
    libc.posix_spawn_file_actions_adddup2(fa, 1000, 3);
    libc.posix_spawn_file_actions_adddup2(fa, 1001, 0);
    libc.posix_spawn_file_actions_adddup2(fa, 1001, 1);
    if (quiet) libc.posix_spawn_file_actions_adddup2(fa, 1001, 2);
    libc.posix_spawn_file_actions_addclose(fa, 1000);
    libc.posix_spawn_file_actions_addclose(fa, 1001);
    libc.posix_spawnattr_init(attr);
    // quiet (detached): a session of its own too, out of reach of signals to its starter's group.
    libc.posix_spawnattr_setflags(attr, 0x08 /* POSIX_SPAWN_SETSIGMASK */ | (quiet ? 0x80 /* POSIX_SPAWN_SETSID */ : 0));
    libc.posix_spawnattr_setsigmask(attr, Buffer.alloc(128));
    const env = goferEnv(process.env);
    const out = [0];
    const rc = libc.posix_spawn(out, exe, fa, attr, [...argv, null], [...env, null]);
    if (rc !== 0) throw new Error(`cannot start the Gofer (${exe}): errno ${rc}`);
    return out[0];
  } finally {
    fs.closeSync(devNull);
  }
}
