// What the host-fd files of one sandbox share: the way to wait until a host fd
// is ready (the platform's host event service), and the caller's terminal.
// The host tty is the terminal's backend (data, termios, window size); job
// control state (foreground process group, session) lives here, since host
// process groups mean nothing inside the sandbox.
import * as hfd from '../../host/hostfd';
import type { HostEvents } from '../../platform/platform';


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
  /** The platform's host event service; without it reads simply block the Sentry. */
  events: HostEvents | null = null;
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

  /** Forget a terminal of an exec'd process that ended (it is reached through no donated fd any more). */
  forget(t: Terminal): void {
    if (this.others.get(t.rdev) === t) this.others.delete(t.rdev);
  }
}
