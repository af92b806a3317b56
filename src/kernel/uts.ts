// The kernel identity the sandbox reports (uname, /proc/version,
// /proc/sys/kernel/*): the Sentry's own, never the host's. The release is
// the newest whose system calls and ioctls the Sentry all has (or answers as
// a Linux built without them would: io_uring, landlock, ... ENOSYS), so that
// programs and test suites that choose features by release use what exists.
// 6.7's own (cachestat, fchmodat2, futex_wake/wait/requeue) and 6.8's
// (statmount, listmount, the LSM calls, UFFDIO_MOVE, STATX_MNT_ID_UNIQUE)
// are here. The system calls of later releases (mseal 6.10, the *xattrat
// calls 6.13, open_tree_attr 6.15, file_getattr/setattr 6.17) are offered
// too, since glibc, LTP and runtimes find a call by calling it (ENOSYS: fall
// back), but those releases promise more than calls: 6.12's F_DUPFD_QUERY,
// 6.13's MADV_GUARD_INSTALL and the mount namespace ioctls of nsfs are
// missing, so the release stays 6.8. gVisor claims 4.4.0,
// which makes programs skip the many features added since that are here.

export const UTS_SYSNAME = 'Linux';
export const UTS_RELEASE = '6.8.0';
export const UTS_VERSION = '#1 SMP PREEMPT_DYNAMIC Sun Dec 11 12:00:00 UTC 2022';
export const UTS_MACHINE = 'x86_64';

/** The line /proc/version shows, with its trailing newline. */
export function procVersionString(): string {
  return `${UTS_SYSNAME} version ${UTS_RELEASE} ${UTS_VERSION}\n`;
}
