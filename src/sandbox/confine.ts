// The Sentry's side of its confinement (docs/SECURITY.md). The runtime
// (confine_runtime.ts) starts it through util-linux's setpriv and unshare in
// new user, mount, PID, IPC, UTS (for --network none, network) namespaces,
// with no capabilities at all (every Node thread is born without them),
// no_new_privs set and a socket on a known fd. The Sentry builds its sandbox
// on the host as before (the root's descriptor, the memory file, the stubs),
// then asks the runtime to take the host away: the runtime enters its
// namespaces and makes its root an empty read-only tmpfs holding only a
// PID-only /proc of its own PID namespace. The Sentry then leaves the host
// directory it started in and installs its seccomp filter on all threads.

import * as fs from 'node:fs';
import * as libc from '../host/libc';
import { sentryFilter, type ConfineNet } from './confine_filter';
import { decodeHandOff, type GoferHandOff } from '../gofer/spawn';
import type * as SysSocket from '../syscalls/sys_socket';
import { BEFORE_CONFINE_EVENT, CALLER_CAPBND_ENV, CONFINE_FD_ENV, CONFINE_GOFER_ENV } from './confine_env';

const SYS_SECCOMP = 317;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_FILTER_FLAG_TSYNC = 1;

/** A line from the runtime's socket (blocking: nothing else runs yet). */
function readLine(fd: number): string {
  const b = Buffer.alloc(512);
  let text = '';
  while (!text.includes('\n')) {
    let n: number;
    try {
      n = fs.readSync(fd, b, 0, b.length, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
      continue;
    }
    if (n === 0) throw new Error('the runtime closed its socket during start-up');
    text += b.toString('utf8', 0, n);
  }
  return text.slice(0, text.indexOf('\n'));
}

/** A confined Sentry's link to its runtime while it starts. */
export class ConfinedStart {
  private constructor(private readonly fd: number, readonly callerCapBounding: bigint | null, readonly gofer: GoferHandOff | null) {}

  /** The runtime's socket, if this process is a confined Sentry (the variable is removed so the sandbox never sees it). */
  static fromEnv(): ConfinedStart | null {
    const v = process.env[CONFINE_FD_ENV];
    const bnd = process.env[CALLER_CAPBND_ENV];
    const gofer = process.env[CONFINE_GOFER_ENV];
    delete process.env[CONFINE_FD_ENV];
    delete process.env[CALLER_CAPBND_ENV];
    delete process.env[CONFINE_GOFER_ENV];
    if (v === undefined || !/^\d+$/.test(v)) return null;
    const handOff = gofer === undefined ? null : decodeHandOff(gofer);
    if (gofer !== undefined && !handOff) throw new Error(`confinement: ${CONFINE_GOFER_ENV} is not a Gofer hand-off`);
    return new ConfinedStart(Number(v), bnd !== undefined && /^[0-9a-f]+$/.test(bnd) ? BigInt(`0x${bnd}`) : null, handOff);
  }

  /**
   * Give up the host (see the file's comment). Throws if any step fails: a
   * Sentry never runs half-confined. hostWrites: the Sentry changes host
   * files itself (read-write binds without the Gofer); else its filter lets
   * it open for reading only and change no file by name. keepSocket: the
   * runtime's socket stays open for tell().
   */
  enter(net: ConfineNet, hostWrites: boolean, keepSocket = false): void {
    (process as NodeJS.EventEmitter).emit(BEFORE_CONFINE_EVENT);
    // Run from dist/ without the bundle (whose require has no resolve), a module is a file read at its
    // first require: the network stack's, first required at the first inet socket (syscalls/sys_socket.ts
    // and, from this directory, sandbox.ts), are read now, while the root is still the host's. The bundle
    // holds them in memory (tsvisor.rest.js, loaded with the kernel).
    if (typeof require.resolve === 'function') {
      (require('../syscalls/sys_socket') as typeof SysSocket).netFactory();
      for (const m of ['../net/nat/start', '../net/packet/start']) require(m);
    }
    fs.writeSync(this.fd, 'pivot\n');
    const reply = readLine(this.fd);
    if (reply !== 'ok') throw new Error(`confinement: ${reply}`);
    // pivot_root moved our root, not our working directory: a host directory until now.
    if (libc.chdir('/') !== 0) throw new Error(`confinement: chdir /: errno ${libc.errno()}`);
    // Host inotify watches: the Sentry's own only without the Gofer (which makes them for it with one).
    const prog = sentryFilter(net, hostWrites, this.gofer === null);
    const pinned = libc.allocPinned(prog.length);
    prog.copy(pinned.buf);
    const fprog = Buffer.alloc(16);
    fprog.writeUInt16LE(prog.length / 8, 0);
    fprog.writeBigUInt64LE(pinned.addr, 8);
    const rc = Number(libc.syscallSeccomp(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, fprog));
    if (rc > 0) throw new Error(`confinement: thread ${rc} could not take the seccomp filter`);
    if (rc < 0) throw new Error(`confinement: seccomp: errno ${libc.errno()}`);
    fs.writeSync(this.fd, 'confined\n');
    if (!keepSocket) fs.closeSync(this.fd);
  }

  /** A line to the runtime after confinement (enter with keepSocket): a request it serves or the container's status. */
  tell(line: string): void {
    fs.writeSync(this.fd, line + '\n');
  }
}
