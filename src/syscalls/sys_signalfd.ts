// signalfd, signalfd4 (man 2 signalfd).
import { E, Errno } from '../abi/errno';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../abi/fs';
import type { Task } from '../kernel/task';
import { i32, u32, type SyscallDef } from '../kernel/syscall';
import { SignalFdFile } from '../fsimpl/signalfd/signalfd';

function signalfd4(t: Task, fd: number, maskAddr: number, sizemask: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK)) throw new Errno(E.EINVAL);
  if (sizemask !== 8) throw new Errno(E.EINVAL);
  const mask = t.mm.copyIn(maskAddr, 8).readBigUInt64LE(0);
  if (fd !== -1) {
    const f = t.fdTable.get(fd);
    if (!(f instanceof SignalFdFile)) throw new Errno(E.EINVAL);
    f.setMask(mask);
    return fd;
  }
  const f = new SignalFdFile(mask, O_RDWR | (flags & O_NONBLOCK), t);
  try {
    return t.fdTable.install(f, (flags & O_CLOEXEC) !== 0);
  } catch (e) {
    f.decRef();
    throw e;
  }
}

export const defs: SyscallDef[] = [
  { nr: 282, name: 'signalfd', args: ['fd', 'sigset', 'size'], fn: (t, a) => signalfd4(t, i32(a[0]), a[1], u32(a[2]), 0),
    partial: 'reads and polls the signals of the process that made the descriptor (Linux: of the caller)' },
  { nr: 289, name: 'signalfd4', args: ['fd', 'sigset', 'size', 'fdflags'], fn: (t, a) => signalfd4(t, i32(a[0]), a[1], u32(a[2]), u32(a[3])),
    partial: 'reads and polls the signals of the process that made the descriptor (Linux: of the caller)' },
];
