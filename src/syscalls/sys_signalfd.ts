// signalfd, signalfd4 (man 2 signalfd; the file is fsimpl/signalfd).
import { E, Errno } from '../abi/errno';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../abi/fs';
import { UNBLOCKABLE } from '../abi/signals';
import type { Task } from '../kernel/task';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { SignalFdFile } from '../fsimpl/signalfd/signalfd';

function signalfd4(t: Task, fd: number, maskAddr: number, size: number, flags: number): number {
  if (size !== 8) throw new Errno(E.EINVAL);
  if (flags & ~(O_CLOEXEC | O_NONBLOCK)) throw new Errno(E.EINVAL);
  // SIGKILL and SIGSTOP cannot be read: they are silently left out.
  const mask = t.mm.readBigU64(maskAddr) & ~UNBLOCKABLE;
  if (fd !== -1) {
    const f = t.fdTable.get(fd);
    if (!(f instanceof SignalFdFile)) throw new Errno(E.EINVAL);
    f.mask = mask;
    // Signals already pending in the new mask make it readable now.
    t.tg.signalWaiters.notify(0xffffffff);
    return fd;
  }
  const f = new SignalFdFile(t, mask, O_RDWR | (flags & O_NONBLOCK));
  try {
    return t.fdTable.install(f, (flags & O_CLOEXEC) !== 0);
  } catch (e) {
    f.decRef();
    throw e;
  }
}

const PARTIAL = "reads the signals of the task that made it (Linux: the caller's), which differ only for a signalfd passed to another process";

export const defs: SyscallDef[] = [
  { nr: 282, name: 'signalfd', args: ['fd', 'sigset', 'size'], fn: (t, a) => signalfd4(t, i32(a[0]), a[1], a[2], 0), partial: PARTIAL },
  { nr: 289, name: 'signalfd4', args: ['fd', 'sigset', 'size', 'fdflags'], fn: (t, a) => signalfd4(t, i32(a[0]), a[1], a[2], u32(a[3])), partial: PARTIAL },
];
