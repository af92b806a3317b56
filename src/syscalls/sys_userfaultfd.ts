// userfaultfd (man 2 userfaultfd): a descriptor that serves the missing
// pages of the ranges it registers (fsimpl/userfaultfd, mm/userfault.ts).
// Who may make one follows vm.unprivileged_userfaultfd: anyone when it is 1,
// else a caller with CAP_SYS_PTRACE, or anyone asking for faults from user
// mode only (UFFD_USER_MODE_ONLY); /dev/userfaultfd's USERFAULTFD_IOC_NEW
// (fsimpl/devfs) answers whoever could open the device.
import { E, Errno } from '../abi/errno';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR } from '../abi/fs';
import { CAP_SYS_PTRACE } from '../abi/capability';
import { UFFD_USER_MODE_ONLY } from '../abi/userfaultfd';
import { capableInit } from '../auth/userns';
import type { Task } from '../kernel/task';
import { i32, type SyscallDef } from '../kernel/syscall';
import { newUserfaultfd } from '../fsimpl/userfaultfd/userfaultfd';

function userfaultfd(t: Task, flags: number): number {
  const userOnly = (flags & UFFD_USER_MODE_ONLY) !== 0;
  if (!userOnly && t.kernel.vmSysctl.unprivilegedUserfaultfd === 0 && !capableInit(t.creds, CAP_SYS_PTRACE)) throw new Errno(E.EPERM);
  return newUserfaultfd(t, flags);
}

export const defs: SyscallDef[] = [
  {
    nr: 323, name: 'userfaultfd', args: ['fdflags'],
    partial: 'anonymous memory: missing-page faults (UFFDIO_REGISTER_MODE_MISSING) private and shared, write protection (MODE_WP) private only; UFFDIO_API, REGISTER, UNREGISTER, COPY (MODE_WP too), ZEROPAGE, WAKE, WRITEPROTECT; features PAGEFAULT_FLAG_WP, MISSING_SHMEM, SIGBUS, THREAD_ID, EXACT_ADDRESS. The MINOR mode, WP of shared memory, file (tmpfs, memfd) ranges, UFFDIO_CONTINUE/MOVE/POISON and the fork/remap/remove/unmap events are EINVAL. A missing-page message of the application\'s own access has flags 0 (the platforms do not tell a read from a write). Pages handed out before the registration that hold only zeros count as missing. A system call that meets a missing or write-protected page waits and then restarts from the start',
    fn: (t, a) => userfaultfd(t, i32(a[0])),
  },
];
