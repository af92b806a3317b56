// Files backed by a host file descriptor donated to the sandbox (its stdin,
// stdout and stderr are the caller's host fds 0, 1, 2). Data moves with libc
// read/write. Waiting for readiness goes through the platform's host event
// service, reached through the sandbox's HostStdio: the first waiter
// registered arms an edge-triggered watch of the host fd, the last one gone
// (or the release) disarms it. Without the service (unit tests), reads simply
// block the Sentry. Terminals get the usual ioctls; the foreground process
// group and session are the sandbox's Terminal's (terminal.ts).
import { Errno, E } from '../../abi/errno';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDNORM, EVENT_WRNORM, type Waiter } from '../../abi/waitqueue';
import { HOST_IN, HOST_OUT, HostWatchError, type HostEvents, type HostWatch } from '../../platform/platform';
import * as hfd from '../../host/hostfd';
import type { HostStat } from '../../host/hostfs';
import { pgidOf, sidOf, SIGPIPE, type FileCtx } from '../../vfs/ctx';
import { FileDescription, type MaybePromise } from '../../vfs/file';
import { O_NONBLOCK, SEEK_END, type InodeAttrs } from '../../abi/fs';
import { SO_ACCEPTCONN, SO_DOMAIN, SO_PROTOCOL, SO_TYPE } from '../../abi/socket';
import type { HostStdio, Terminal } from './terminal';

const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;

const TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TCSETSF = 0x5404;
const TCSBRK = 0x5409, TCXONC = 0x540a, TCFLSH = 0x540b;
const TIOCSCTTY = 0x540e, TIOCGPGRP = 0x540f, TIOCSPGRP = 0x5410, TIOCOUTQ = 0x5411;
const TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, FIONREAD = 0x541b, TIOCNOTTY = 0x5422, TIOCGSID = 0x5429;
const TERMIOS_SIZE = 36; // the kernel's struct termios (asm-generic/termbits.h), not glibc's
import { POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT } from '../../abi/poll';

/** Minimal memory access the ioctls need (Task.mm satisfies it). */
interface IoctlCtx extends FileCtx {
  mm: { copyIn(addr: number, len: number): Buffer; copyOut(addr: number, data: Uint8Array): void; readI32(addr: number): number; writeI32(addr: number, v: number): void };
}

function toEvents(revents: number): number {
  let r = 0;
  if (revents & POLLIN) r |= EVENT_IN | EVENT_RDNORM;
  if (revents & POLLOUT) r |= EVENT_OUT | EVENT_WRNORM;
  if (revents & (POLLERR | POLLNVAL)) r |= EVENT_ERR;
  if (revents & POLLHUP) r |= EVENT_HUP;
  return r;
}

export class HostFdFile extends FileDescription {
  /** The armed host watch (while anyone waits) and the host events it has; -1: none. */
  private watch: HostWatch | null = null;
  private watchEvents = -1;
  readonly isTty: boolean;
  /** A socket (Node's child stdio is a socketpair): each call is made non-blocking with MSG_DONTWAIT. */
  private readonly isSocket: boolean;
  /**
   * A regular file (`cmd > out`, `cmd < in`): used in place, so the offset
   * is the one the caller's description holds, as for a dup'd descriptor;
   * seek and positional I/O go straight to the host fd.
   */
  readonly isRegular: boolean;
  /**
   * What a socket is (the host's SO_DOMAIN, SO_TYPE, SO_PROTOCOL, SO_ACCEPTCONN), for
   * getsockname and getsockopt: libuv (node) treats a socket whose name it
   * cannot read as an unknown handle and drops what is written to it.
   */
  readonly socketKind: { domain: number; type: number; protocol: number; listening: number } | null = null;

  /** The sandbox's terminal this tty stands for (null if not a tty). */
  readonly terminal: Terminal | null;

  constructor(readonly hostFd: number, flags: number, readonly stdio: HostStdio, private readonly ownsFd = false) {
    super(null, null, flags);
    let rdev = 0;
    try {
      rdev = hfd.fstat(hostFd).rdev;
    } catch {
      /* a closed host fd: I/O will report the error */
    }
    this.isTty = hfd.ioctl(hostFd, TCGETS, Buffer.alloc(64)) === 0;
    let type = 0;
    try {
      type = hfd.fstat(hostFd).mode & 0o170000;
    } catch {
      /* as above */
    }
    this.isSocket = type === 0o140000;
    this.isRegular = type === 0o100000;
    if (this.isSocket) {
      const [domain, kind, protocol, listening] = [SO_DOMAIN, SO_TYPE, SO_PROTOCOL, SO_ACCEPTCONN].map((o) => hfd.socketIntOption(hostFd, o));
      if (domain >= 0 && kind >= 0 && protocol >= 0 && listening >= 0) this.socketKind = { domain, type: kind, protocol, listening };
    }
    this.terminal = this.isTty ? stdio.terminalFor(hostFd, rdev) : null;
  }

  /** Host call results: retry on EINTR, else the host errno. */
  private hostCall(fn: () => number): number {
    for (;;) {
      const n = fn();
      if (n >= 0) return n;
      if (n !== -E.EINTR) throw new Errno(-n);
    }
  }

  override seek(off: number, whence: number): number {
    if (!this.isRegular) throw new Errno(E.ESPIPE);
    return this.hostCall(() => hfd.lseek(this.hostFd, off, whence));
  }

  override pread(_t: FileCtx, len: number, off: number): Buffer {
    if (!this.isRegular) throw new Errno(E.ESPIPE);
    const buf = Buffer.allocUnsafe(len);
    return buf.subarray(0, this.hostCall(() => hfd.pread(this.hostFd, buf, len, off)));
  }

  override pwrite(_t: FileCtx, data: Buffer, off: number): number {
    if (!this.isRegular) throw new Errno(E.ESPIPE);
    return this.hostCall(() => hfd.pwrite(this.hostFd, data, data.length, off));
  }

  override appendWrite(t: FileCtx, data: Buffer, off: number | null, nowait = false): MaybePromise<number> {
    if (!this.isRegular) return super.appendWrite(t, data, off, nowait);
    // The caller's description is shared: its O_APPEND flag cannot be set for one call.
    if (off === null) {
      this.seek(0, SEEK_END);
      return this.write(t, data);
    }
    return this.pwrite(t, data, hfd.fstat(this.hostFd).size);
  }

  override stat(): InodeAttrs {
    const s = hfd.fstat(this.hostFd);
    return { mode: s.mode, uid: s.uid, gid: s.gid, nlink: s.nlink, size: s.size, blocks: s.blocks, blksize: s.blksize, rdev: s.rdev, atimeNs: s.atimeNs, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs, btimeNs: s.birthtimeNs };
  }

  override ids(): { dev: number; ino: number } {
    // The caller's terminal has a node in the sandbox's /dev/pts: fstat must
    // match stat of that path, or ttyname(3) says "not a tty".
    const node = this.terminal?.node;
    if (node) return { ...node };
    const s = hfd.fstat(this.hostFd);
    return { dev: s.dev, ino: s.ino };
  }

  /** Where readiness waits go (the platform's host event service); null: reads and writes block the Sentry. */
  private get hostEvents(): HostEvents | null {
    return this.stdio.events;
  }

  override eventRegister(w: Waiter): void {
    this.queue.add(w);
    this.updateWatch();
  }

  override eventUnregister(w: Waiter): void {
    this.queue.remove(w);
    this.updateWatch();
  }

  /**
   * Keep the host watch in line with the waiters: armed while anyone waits,
   * for what they wait for. Edge-triggered: a waiter checks readiness after
   * registering, so only changes from then on matter, and a host fd that
   * stays ready does not wake the Sentry over and over.
   */
  private updateWatch(): void {
    const ev = this.hostEvents && !this.isRegular ? this.hostEventsFor(this.queue.mask()) : -1;
    if (ev === this.watchEvents) return;
    this.disarm();
    if (ev === -1 || !this.hostEvents) return;
    try {
      this.watch = this.hostEvents.watch(this.hostFd, ev, (rev) => this.queue.notify(toEvents(rev)), { edge: true });
      this.watchEvents = ev;
    } catch (e) {
      // A host fd that cannot be watched (closed) polls as POLLNVAL: readiness() reports it as an error.
      if (!(e instanceof HostWatchError)) throw e;
    }
  }

  /** Host events to watch for a waiter mask; -1: no waiter (errors and hang-ups are always reported). */
  private hostEventsFor(mask: number): number {
    if (mask === 0) return -1;
    let ev = 0;
    if (mask & (EVENT_IN | EVENT_RDNORM)) ev |= HOST_IN;
    if (mask & (EVENT_OUT | EVENT_WRNORM)) ev |= HOST_OUT;
    return ev;
  }

  private disarm(): void {
    if (this.watch && this.hostEvents) this.hostEvents.unwatch(this.watch);
    this.watch = null;
    this.watchEvents = -1;
  }

  /** Pipes, sockets and terminals of the host have readiness; regular files do not. */
  override canPoll(): boolean {
    return !this.isRegular;
  }

  override readiness(mask: number): number {
    let ev = 0;
    if (mask & (EVENT_IN | EVENT_RDNORM)) ev |= POLLIN;
    if (mask & (EVENT_OUT | EVENT_WRNORM)) ev |= POLLOUT;
    return toEvents(hfd.poll(this.hostFd, ev)) & (mask | EVENT_ERR | EVENT_HUP);
  }

  override sync(dataOnly: boolean): void {
    if (!this.isRegular) throw new Errno(E.EINVAL);
    this.hostCall(() => hfd.fsync(this.hostFd, dataOnly));
  }

  override supportsNowait(write: boolean): boolean {
    return !this.isRegular || !write; // a host file's buffered write refuses it, as on ext4
  }

  private async waitFor(t: FileCtx, ev: number, nonblock: boolean): Promise<void> {
    for (;;) {
      if (this.readiness(ev) !== 0) return;
      if (nonblock) throw new Errno(E.EAGAIN);
      if (!this.hostEvents) return; // no event service: fall back to a blocking host call
      // block() registers through eventRegister (arming the watch) before it
      // sleeps; nothing runs in between, and the watch is edge-triggered on a
      // fd just found not ready, so no readiness change can slip through.
      await t.block(this, ev | EVENT_ERR | EVENT_HUP);
    }
  }

  override async read(t: FileCtx, len: number, nowait = false): Promise<Buffer> {
    if (len === 0) return Buffer.alloc(0);
    const nonblock = nowait || (this.flags & O_NONBLOCK) !== 0;
    for (;;) {
      await this.waitFor(t, EVENT_IN, nonblock);
      // A regular file's read is complete up to end of file, as on Linux.
      const buf = Buffer.allocUnsafe(this.isRegular ? len : Math.min(len, 1 << 20));
      const n = this.isSocket ? hfd.recv(this.hostFd, buf, buf.length, MSG_DONTWAIT) : hfd.read(this.hostFd, buf, buf.length);
      if (n >= 0) return buf.subarray(0, n);
      const errno = -n;
      if (errno === E.EAGAIN && !nonblock && this.hostEvents) continue;
      if (errno === E.EINTR) continue;
      throw new Errno(errno);
    }
  }

  override async write(t: FileCtx, data: Buffer, nowait = false): Promise<number> {
    const nonblock = nowait || (this.flags & O_NONBLOCK) !== 0;
    let done = 0;
    while (done < data.length) {
      const chunk = data.subarray(done);
      const n = this.isSocket ? hfd.send(this.hostFd, chunk, chunk.length, MSG_DONTWAIT | MSG_NOSIGNAL) : hfd.write(this.hostFd, chunk, chunk.length);
      if (n >= 0) {
        done += n;
        continue;
      }
      const errno = -n;
      if (errno === E.EINTR) continue;
      if (errno === E.EAGAIN) {
        if (done > 0 && nonblock) return done;
        await this.waitFor(t, EVENT_OUT, nonblock);
        continue;
      }
      if (done > 0) return done;
      if (errno === E.EPIPE) t.sendSignal(SIGPIPE);
      throw new Errno(errno);
    }
    return done;
  }

  override available(): number {
    const b = Buffer.alloc(8);
    const r = hfd.ioctl(this.hostFd, FIONREAD, b);
    if (r < 0) throw new Errno(-r);
    return b.readInt32LE(0);
  }

  private hostIoctl(cmd: number, buf: Buffer): void {
    const r = hfd.ioctl(this.hostFd, cmd, buf);
    if (r < 0) throw new Errno(-r);
  }

  override ioctl(t: FileCtx, cmd: number, arg: number): number {
    const mm = (t as IoctlCtx).mm;
    switch (cmd) {
      case TCGETS: {
        const b = Buffer.alloc(64);
        this.hostIoctl(TCGETS, b);
        mm.copyOut(arg, b.subarray(0, TERMIOS_SIZE));
        return 0;
      }
      case TCSETS:
      case TCSETSW:
      case TCSETSF: {
        const b = Buffer.alloc(64);
        mm.copyIn(arg, TERMIOS_SIZE).copy(b);
        this.hostIoctl(cmd, b);
        return 0;
      }
      case TIOCGWINSZ: {
        const b = Buffer.alloc(8);
        this.hostIoctl(TIOCGWINSZ, b);
        mm.copyOut(arg, b);
        return 0;
      }
      case TIOCSWINSZ: {
        const b = Buffer.from(mm.copyIn(arg, 8));
        this.hostIoctl(TIOCSWINSZ, b);
        return 0;
      }
      case TIOCGPGRP: {
        const term = this.requireTty();
        // The first to ask (the shell) is taken as foreground.
        term.foreground ??= pgidOf(t);
        mm.writeI32(arg, term.foreground);
        return 0;
      }
      case TIOCSPGRP: {
        const term = this.requireTty();
        const g = mm.readI32(arg);
        if (g < 0) throw new Errno(E.EINVAL);
        term.foreground = g;
        return 0;
      }
      case TIOCGSID: {
        const term = this.requireTty();
        // The sandbox's first session holds the caller's terminal unless another claimed it.
        term.session ??= sidOf(t);
        mm.writeI32(arg, term.session);
        return 0;
      }
      case TIOCSCTTY: {
        const term = this.requireTty();
        term.session = sidOf(t);
        term.foreground = pgidOf(t);
        return 0;
      }
      case TIOCNOTTY:
        this.requireTty();
        return 0;
      case TCSBRK:
      case TCXONC:
      case TCFLSH:
        this.requireTty();
        return 0; // nothing useful to forward: output is written synchronously
      case TIOCOUTQ:
        this.requireTty();
        mm.writeI32(arg, 0);
        return 0;
      case FIONREAD:
        mm.writeI32(arg, this.available());
        return 0;
      default:
        throw new Errno(E.ENOTTY);
    }
  }

  private requireTty(): Terminal {
    if (!this.terminal) throw new Errno(E.ENOTTY);
    return this.terminal;
  }

  /** A new description of the same host file (open of /proc/PID/fd/N): a dup of the host fd, owned. */
  reopen(flags: number): HostFdFile {
    const fd = hfd.dup(this.hostFd);
    if (fd < 0) throw new Errno(E.EMFILE);
    return new HostFdFile(fd, flags, this.stdio, true);
  }

  protected override release(): void {
    // Before the close: the number may be reused at once, and a watch must never outlive it.
    this.disarm();
    if (this.ownsFd) hfd.close(this.hostFd);
  }
}

/** A description for a donated host fd (stdio). flags: O_RDONLY/O_WRONLY/O_RDWR | O_NONBLOCK... The host fd is not closed unless ownsFd. */
export function makeHostFdFile(hostFd: number, flags: number, stdio: HostStdio, ownsFd = false): HostFdFile {
  return new HostFdFile(hostFd, flags, stdio, ownsFd);
}

/**
 * The description a sandbox fd gets for the caller's host fd, or null if
 * that fd is not open. Pipes, FIFOs and terminals get a private
 * non-blocking description, so that waiting on them parks only the task
 * that waits, never the whole Sentry, and without changing the flags of the
 * caller's own description (O_NONBLOCK is shared by every dup of it).
 * Regular files never block; sockets cannot be reopened: those stay as given.
 * take: the host fd becomes the sandbox's, closed when its description is
 * released (an exec's stdio, which nobody else closes); ownDescription
 * (with take): nobody else uses its description either.
 */
export function donateHostFd(hostFd: number, stdio: HostStdio, take = false, ownDescription = false): HostFdFile | null {
  const fl = hfd.statusFlags(hostFd);
  if (fl < 0) return null;
  if (take && ownDescription) {
    // Opened for the sandbox already (an exec's stdio): its flags are the sandbox's to change.
    hfd.setNonBlocking(hostFd, fl);
    return new HostFdFile(hostFd, fl, stdio, true);
  }
  const own = hfd.reopenNonBlocking(hostFd, fl);
  if (own === null) return new HostFdFile(hostFd, fl, stdio, take);
  // take: the given fd is the sandbox's; its private reopening replaces it.
  if (take) hfd.close(hostFd);
  return new HostFdFile(own, fl, stdio, true);
}

/** The first of the caller's fds that is a terminal (for /dev/tty), or null. */
export function terminalOf(hostFds: readonly number[]): number | null {
  for (const fd of hostFds) if (hfd.isatty(fd)) return fd;
  return null;
}

/** Attributes of a donated host fd (devfs shows the caller's tty under /dev/pts). */
export function donatedFdStat(hostFd: number): HostStat {
  return hfd.fstat(hostFd);
}
