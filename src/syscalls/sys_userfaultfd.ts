// userfaultfd (man 2 userfaultfd): a descriptor that serves the missing
// pages of the ranges it registers (fsimpl/userfaultfd, mm/userfault.ts).
// Who may make one follows vm.unprivileged_userfaultfd: anyone when it is 1,
// else a caller with CAP_SYS_PTRACE, or anyone asking for faults from user
// mode only (UFFD_USER_MODE_ONLY); /dev/userfaultfd's USERFAULTFD_IOC_NEW
// (fsimpl/devfs) answers whoever could open the device.
import { E, Errno } from '../abi/errno';
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
    partial: 'missing-page faults (UFFDIO_REGISTER_MODE_MISSING) of anonymous memory and shmem (tmpfs, memfd) files, minor faults (MODE_MINOR, UFFDIO_CONTINUE) of shmem, write protection (MODE_WP, UFFDIO_WRITEPROTECT, COPY_MODE_WP) of anonymous memory and shmem; UFFDIO_API, REGISTER, UNREGISTER, COPY, ZEROPAGE, WAKE, POISON, MOVE (private anonymous memory, ALLOW_SRC_HOLES, DONTWAKE); features PAGEFAULT_FLAG_WP, WP_HUGETLBFS_SHMEM (shmem only: no hugetlbfs), MISSING_SHMEM, MINOR_SHMEM, SIGBUS, THREAD_ID, EXACT_ADDRESS, POISON, MOVE and the non-cooperative events EVENT_FORK, EVENT_REMAP, EVENT_REMOVE, EVENT_UNMAP. Other files are EINVAL. Write protection holds for present pages only: a shmem page not mapped when protected, or dropped by MADV_DONTNEED, fills writable (Linux keeps a marker for shmem). An event is waited for (killably) when the call that caused it has done its work, but for MADV_DONTNEED/FREE, whose pages go VMA by VMA as their REMOVE events are read, as Linux: MADV_REMOVE punches before its events are read (Linux after), and a fork child (held until its FORK event is read) still starts, without its context, when its parent is killed during the wait, where Linux\'s fork fails; a stop or a pause of the sandbox during that wait withdraws the event. A page shared copy-on-write after fork is EBUSY to UFFDIO_MOVE while shared; once the child is gone it moves at once, where Linux still says EBUSY until the parent writes it. A missing-page message of the application\'s own access has flags 0 (the platforms do not tell a read from a write). Pages are mapped when a mapping is made, where Linux maps them at the first touch: registering treats anonymous pages that hold only zeros as missing and, in a minor-fault range, unmaps a file\'s pages, so a page touched before the registration can fault where Linux\'s would not (and UFFDIO_MOVE treats a source page of zeros the application never touched as a hole). A system call that meets such a page waits and then restarts from the start: calls that check their buffers first (read, write, pipes) are exact, but one that acts before it writes its results (pipe2, wait4, accept with the result in a missing page) acts again on the restart, where the copy of Linux blocks in the middle. An address space holds at most 262144 poisoned pages (ENOMEM past them; Linux keeps its markers in page tables)',
    fn: (t, a) => userfaultfd(t, i32(a[0])),
  },
];
