// What a runtime command does to itself when it becomes a container's
// sandbox process (cli/oci_commands.ts, `create` started by bin/tsvisor.js's
// shell line): lead a session of its own, and enter the container's network
// namespace. Linux moves only the calling thread into a network namespace
// (setns(2), unshare(2) with CLONE_NEWNET), and Node has threads from its
// start; this is called on the main thread, the one that is the process's
// /proc/PID/ns/net (what `ip link set ... netns PID`, nsenter and Docker's
// prestart hook use), that runs the Sentry and libuv's loop (every host
// socket the sandbox makes), and that forks or spawns every later process
// (stubs, the Gofer, hooks), which inherit its namespace. The other threads
// (V8's platform workers, libuv's pool) make no sockets.

import * as fs from 'node:fs';
import type * as Libc from './libc';

/** koffi loaded on first use (see filelock.ts). */
const libc = (): typeof Libc => require('./libc') as typeof Libc;

const SYS_SETSID = 112;
const SYS_UNSHARE = 272;
const SYS_SETNS = 308;
const CLONE_NEWNET = 0x40000000;

function check(what: string, r: number | bigint): void {
  if (Number(r) < 0) throw new Error(`${what}: errno ${libc().errno()}`);
}

/** setsid(2): a session (and process group) of its own, without a controlling terminal. */
export function newSession(): void {
  check('setsid', libc().syscall3(SYS_SETSID, 0, 0, 0));
}

/**
 * The runtime's network namespace, kept while create runs hooks: those of
 * the runtime's namespaces (prestart, createRuntime) enter it by path
 * (nsenter). The main thread is not moved back for them: /proc/PID/ns/net
 * must name the container's namespace while they run (Docker's prestart
 * hook has the daemon move the container's interface into it). The
 * descriptor is close-on-exec: no hook inherits it.
 */
export class RuntimeNetns {
  constructor(private readonly fd: number) {}

  /** A path to the namespace, for a child of this process. */
  path(): string {
    return `/proc/${process.pid}/fd/${this.fd}`;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** Move the calling (main) thread into the network namespace at path, or into a new one (path null); returns the runtime's. */
export function enterNetns(path: string | null): RuntimeNetns {
  const runtime = fs.openSync('/proc/thread-self/ns/net', fs.constants.O_RDONLY);
  try {
    if (path === null) check('unshare(CLONE_NEWNET)', libc().syscall3(SYS_UNSHARE, CLONE_NEWNET, 0, 0));
    else {
      const fd = fs.openSync(path, fs.constants.O_RDONLY);
      try {
        check(`setns ${path}`, libc().syscall3(SYS_SETNS, fd, CLONE_NEWNET, 0));
      } finally {
        fs.closeSync(fd);
      }
    }
  } catch (e) {
    fs.closeSync(runtime);
    throw e;
  }
  return new RuntimeNetns(runtime);
}

const SYS_DUP2 = 33;

/** dup2(2): fd becomes a copy of from (the sandbox process's stdio replaced by its terminal once create is done). */
export function replaceFd(from: number, fd: number): void {
  check('dup2', libc().syscall3(SYS_DUP2, from, fd, 0));
}
