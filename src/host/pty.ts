// Host pseudo-terminals for containers with process.terminal: the runtime
// opens a pair, hands the master to the caller (Docker's shim, containerd,
// podman's conmon) over its console socket with SCM_RIGHTS, as runc does, and
// the slave becomes the sandbox's stdio (its terminal; hostfd serves it).

import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as Libc from './libc';

/**
 * libc, and koffi with it, loaded on first use: the runtime commands that
 * import this module but never get that far (`state` or `delete --force`
 * of a container that is gone, which Docker's shim runs for every
 * container) start without them.
 */
const libc = (): typeof Libc => require('./libc') as typeof Libc;
import { AF_UNIX, SOCK_STREAM, cmsgSpace } from '../abi/socket';
import { MSGHDR_SIZE, fillIovec, fillMsghdr, writeRights } from './msghdr';
import { TIOCGPTN, TIOCSPTLCK, TIOCSWINSZ } from '../abi/termios';

export interface HostPty {
  master: number;
  slave: number;
  /** The slave's path (/dev/pts/N). */
  name: string;
}

function check(r: number, what: string): number {
  if (r < 0) throw new Error(`${what}: errno ${libc().errno()}`);
  return r;
}

/** A new pty pair on the host, unlocked, with this window size (0 x 0: left as the kernel makes it). */
export function openHostPty(rows: number, cols: number): HostPty {
  const master = fs.openSync('/dev/ptmx', fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  try {
    const arg = Buffer.alloc(4);
    check(libc().ioctl(master, TIOCSPTLCK, arg) as number, 'unlocking the pty');
    check(libc().ioctl(master, TIOCGPTN, arg) as number, 'reading the pty number');
    const name = `/dev/pts/${arg.readInt32LE(0)}`;
    if (rows > 0 || cols > 0) setWindowSize(master, rows, cols);
    const slave = fs.openSync(name, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
    return { master, slave, name };
  } catch (e) {
    fs.closeSync(master);
    throw e;
  }
}

export function setWindowSize(fd: number, rows: number, cols: number): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(Math.min(rows, 0xffff), 0);
  ws.writeUInt16LE(Math.min(cols, 0xffff), 2);
  check(libc().ioctl(fd, TIOCSWINSZ, ws) as number, 'setting the window size');
}

/**
 * Send fd over the Unix socket at socketPath (SCM_RIGHTS), with name as the
 * message, as runc's console socket protocol does. A path too long for
 * sun_path is reached from its directory.
 */
export function sendFd(socketPath: string, fd: number, name: string): void {
  const abs = path.resolve(socketPath);
  let target = abs;
  const cwd = process.cwd();
  if (Buffer.byteLength(abs) > 107) {
    process.chdir(path.dirname(abs));
    target = path.basename(abs);
  }
  const s = check(libc().socket(AF_UNIX, SOCK_STREAM | 0o2000000, 0) as number, 'console socket');
  try {
    const addr = Buffer.alloc(110);
    addr.writeUInt16LE(AF_UNIX, 0);
    addr.write(target, 2);
    if (libc().connect(s, addr, 2 + Buffer.byteLength(target) + 1) < 0) throw new Error(`cannot connect to the console socket ${socketPath}: errno ${libc().errno()}`);
    const data = libc().allocPinned(Math.max(1, Buffer.byteLength(name)));
    data.buf.write(name);
    const iov = libc().allocPinned(16);
    fillIovec(iov.buf, 0, data.addr, data.buf.length);
    const ctl = libc().allocPinned(cmsgSpace(4));
    const msg = fillMsghdr(Buffer.alloc(MSGHDR_SIZE), { iov: iov.addr, iovLen: 1, control: ctl.addr, controlLen: writeRights(ctl.buf, [fd]) });
    check(libc().sendmsg(s, msg, 0) as number, 'sending the pty master');
  } finally {
    libc().close(s);
    if (target !== abs) process.chdir(cwd);
  }
}
