// eventfd, eventfd2 (man 2 eventfd).
import { E, Errno } from '../abi/errno';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../abi/fs';
import type { Task } from '../kernel/task';
import { u32, type SyscallDef } from '../kernel/syscall';
import { EFD_SEMAPHORE, EventFdFile } from '../fsimpl/eventfd/eventfd';

function eventfd2(t: Task, initval: number, flags: number): number {
  if (flags & ~(O_CLOEXEC | O_NONBLOCK | EFD_SEMAPHORE)) throw new Errno(E.EINVAL);
  const f = new EventFdFile(initval, O_RDWR | (flags & O_NONBLOCK), (flags & EFD_SEMAPHORE) !== 0);
  try {
    return t.fdTable.install(f, (flags & O_CLOEXEC) !== 0);
  } catch (e) {
    f.decRef();
    throw e;
  }
}

export const defs: SyscallDef[] = [
  { nr: 284, name: 'eventfd', args: ['uint'], fn: (t, a) => eventfd2(t, u32(a[0]), 0) },
  { nr: 290, name: 'eventfd2', args: ['uint', 'fdflags'], fn: (t, a) => eventfd2(t, u32(a[0]), u32(a[1])) },
];
