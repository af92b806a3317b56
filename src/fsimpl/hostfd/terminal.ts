// What the host-fd files of one sandbox share: the way to wait until a host fd
// is ready (the kernel's, through its epoll set), and the caller's terminal.
// The host tty is the terminal's backend (data, termios, window size); job
// control state (foreground process group, session) lives here, since host
// process groups mean nothing inside the sandbox.
import * as hfd from '../../host/hostfd';

/** Who waits on host fds for the sandbox (its Kernel): a reference, not a callback, so the state stays data. */
export interface HostWaiter {
  /** Resolve with the poll events once hostFd has one of events. */
  waitHostFd(hostFd: number, events: number): Promise<number>;
}

export class Terminal {
  /** Sandbox-side foreground process group (TIOCGPGRP/TIOCSPGRP); null until someone asks or sets it. */
  foreground: number | null = null;
  /** The session it is the controlling terminal of (TIOCSCTTY, TIOCGSID); null until then. */
  session: number | null = null;
  /** Its node in the sandbox's /dev/pts (devfs sets it), so fstat of the tty matches stat of that path. */
  node: { dev: number; ino: number } | null = null;

  constructor(
    /** A host fd of the tty, for /dev/tty and /dev/pts/N opens. */
    readonly hostFd: number,
    /** Its host device number. */
    readonly rdev: number,
  ) {}
}

export class HostStdio {
  /** The kernel, set once it exists; without it reads simply block the Sentry. */
  waiter: HostWaiter | null = null;
  /** The caller's terminal, if one of the donated fds is a tty. */
  readonly terminal: Terminal | null;
  /** Other host terminals reached through donated fds (rare: stdin and stdout on different ttys). */
  private readonly others = new Map<number, Terminal>();

  constructor(ttyHostFd: number | null) {
    let term: Terminal | null = null;
    if (ttyHostFd !== null) {
      try {
        term = new Terminal(ttyHostFd, hfd.fstat(ttyHostFd).rdev);
      } catch {
        // A closed fd: no terminal.
      }
    }
    this.terminal = term;
  }

  /** The terminal behind a tty host fd with device number rdev. */
  terminalFor(hostFd: number, rdev: number): Terminal {
    if (this.terminal && this.terminal.rdev === rdev) return this.terminal;
    let t = this.others.get(rdev);
    if (!t) this.others.set(rdev, (t = new Terminal(hostFd, rdev)));
    return t;
  }
}
