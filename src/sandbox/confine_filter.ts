// The Sentry's own seccomp filter: the host system calls a confined Sentry
// (Node, V8, libuv, koffi and our kernel) may make once it runs, as data.
// Installed after start-up (sandbox/confine.ts) with SECCOMP_FILTER_FLAG_TSYNC,
// so Node's own threads (libuv's pool, V8's workers) are held to it too.
// Anything not listed kills the whole Sentry (SECCOMP_RET_KILL_PROCESS); the
// runtime reports it. Why each call is needed: docs/SECURITY.md.
//
// A Sentry that changes no host file itself (the Gofer serves its read-write
// binds, or it has none) gets no call that changes a file by name and opens
// only for reading: a compromised one cannot create, remove, rename, chmod
// or write any host file but through the write descriptors the Gofer
// donated for files open in the sandbox.

import {
  AUDIT_ARCH_X86_64, BPF_JEQ_K, BPF_JSET_K, BPF_LD_W_ABS, BPF_RET_K, Bpf, SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS,
} from '../platform/ptrace/seccomp';

const SECCOMP_RET_ERRNO = 0x00050000;
const ENOSYS = 38;
const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const AF_NETLINK = 16;
/** Namespace flags clone(2) must never carry: a confined Sentry makes threads, nothing else. */
const CLONE_NS_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080;
const CLONE_THREAD = 0x00010000;
/** PEEK/POKE, CONT, KILL, SINGLESTEP, (GET|SET)(FP)REGS, DETACH, SYSCALL, SYSEMU, SETOPTIONS..GETREGSET/SETREGSET, INTERRUPT, LISTEN, GET_SYSCALL_INFO. */
const PTRACE_REQUESTS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 17, 24, 31, 32, 0x4200, 0x4201, 0x4202, 0x4203, 0x4204, 0x4205, 0x4207, 0x4208, 0x420e];
const X32_SYSCALL_BIT = 0x40000000;
/** The openat flags that write or create: O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, __O_TMPFILE. */
const OPEN_WRITE_FLAGS = 0o1 | 0o2 | 0o100 | 0o1000 | 0o20000000;

/** Which host network the mode reaches: host sockets only in host and sandbox (the NAT's) modes. */
export type ConfineNet = 'inet' | 'none';

type Check =
  /** args[arg] (as a 32-bit int) is one of values. */
  | { kind: 'oneOf'; arg: number; values: (net: ConfineNet) => number[] }
  /** clone: a thread of this process, never a new process or namespace. */
  | { kind: 'thread' }
  /** openat without a host-writing Sentry: none of flags' (args[2]) write bits. */
  | { kind: 'readOnlyOpen' };

export interface Rule {
  name: string;
  nr: number;
  check?: Check;
}

/** Returned instead of running: glibc then falls back to clone, whose flags the filter can read. */
export const ENOSYS_CALLS: Rule[] = [{ name: 'clone3', nr: 435 }];

const families = (net: ConfineNet): number[] => (net === 'inet' ? [AF_UNIX, AF_INET, AF_INET6, AF_NETLINK] : [AF_UNIX]);

/** The allowlist (x86-64 numbers). Grouped as docs/SECURITY.md explains them. */
export const SENTRY_ALLOWED: Rule[] = [
  // Files: the descriptors it holds (the host root's, donated ones, the memory file) and its private /proc.
  ...rules(['read', 0, 'write', 1, 'close', 3, 'fstat', 5, 'lseek', 8, 'pread64', 17, 'pwrite64', 18, 'readv', 19, 'writev', 20, 'preadv', 295, 'pwritev', 296,
    'newfstatat', 262, 'statx', 332, 'readlinkat', 267, 'getdents64', 217, 'fcntl', 72, 'dup', 32, 'dup2', 33, 'dup3', 292,
    'ioctl', 16, 'fsync', 74, 'fdatasync', 75, 'ftruncate', 77, 'fallocate', 285, 'flock', 73, 'faccessat', 269, 'faccessat2', 439, 'access', 21,
    'readlink', 89, 'getcwd', 79, 'fstatfs', 138, 'statfs', 137, 'close_range', 436, 'pipe2', 293, 'pipe', 22, 'memfd_create', 319,
    'copy_file_range', 326, 'sendfile', 40, 'splice', 275, 'fgetxattr', 193, 'flistxattr', 196, 'lgetxattr', 192, 'llistxattr', 195,
    'getxattr', 191, 'listxattr', 194, 'stat', 4, 'lstat', 6, 'fadvise64', 221,
    'getxattrat', 464, 'listxattrat', 465,
  ]),
  // openat: any flags only for a host-writing Sentry (HOST_WRITE_RULES), else for reading only.
  { name: 'openat', nr: 257, check: { kind: 'readOnlyOpen' } },
  // Memory: V8's heap and the memory file's mappings.
  ...rules(['mmap', 9, 'mprotect', 10, 'munmap', 11, 'brk', 12, 'mremap', 25, 'msync', 26, 'mincore', 27, 'madvise', 28, 'membarrier', 324,
    'pkey_alloc', 330, 'pkey_free', 331, 'pkey_mprotect', 329, 'mlock', 149, 'munlock', 150]),
  // Threads, signals and time.
  { name: 'clone', nr: 56, check: { kind: 'thread' } },
  ...rules(['futex', 202, 'set_robust_list', 273, 'get_robust_list', 274, 'rseq', 334, 'set_tid_address', 218, 'exit', 60, 'exit_group', 231,
    'rt_sigaction', 13, 'rt_sigprocmask', 14, 'rt_sigreturn', 15, 'sigaltstack', 131, 'rt_sigtimedwait', 128, 'kill', 62, 'tgkill', 234, 'tkill', 200,
    'getpid', 39, 'gettid', 186, 'getppid', 110, 'getuid', 102, 'geteuid', 107, 'getgid', 104, 'getegid', 108, 'getresuid', 118, 'getresgid', 120,
    'getgroups', 115, 'capget', 125, 'getpgrp', 111, 'getpgid', 121, 'getsid', 124, 'setpgid', 109, 'prlimit64', 302, 'getrlimit', 97, 'getrusage', 98,
    'sched_yield', 24, 'sched_getaffinity', 204, 'sched_setaffinity', 203, 'getcpu', 309, 'sched_getparam', 143, 'sched_getscheduler', 145,
    'getpriority', 140, 'setpriority', 141,
    'clock_gettime', 228, 'clock_getres', 229, 'clock_nanosleep', 230, 'nanosleep', 35, 'gettimeofday', 96, 'time', 201, 'times', 100,
    'timerfd_create', 283, 'timerfd_settime', 286, 'timerfd_gettime', 287, 'eventfd2', 290, 'eventfd', 284,
    'epoll_create1', 291, 'epoll_create', 213, 'epoll_ctl', 233, 'epoll_wait', 232, 'epoll_pwait', 281, 'epoll_pwait2', 441, 'poll', 7, 'ppoll', 271,
    'select', 23, 'pselect6', 270, 'wait4', 61, 'waitid', 247, 'pidfd_open', 434, 'pidfd_send_signal', 424,
    'uname', 63, 'sysinfo', 99, 'getrandom', 318, 'arch_prctl', 158, 'prctl', 157, 'restart_syscall', 219]),
  // The platform: it drives its stubs (children in its own PID namespace).
  // Requests it makes of its stubs; never PTRACE_ATTACH, PTRACE_SEIZE or PTRACE_TRACEME.
  { name: 'ptrace', nr: 101, check: { kind: 'oneOf', arg: 0, values: () => PTRACE_REQUESTS } },
  ...rules(['process_vm_readv', 310, 'process_vm_writev', 311]),
  // Sockets: the control socket, donated sockets, host sockets of the network mode.
  { name: 'socket', nr: 41, check: { kind: 'oneOf', arg: 0, values: families } },
  { name: 'socketpair', nr: 53, check: { kind: 'oneOf', arg: 0, values: () => [AF_UNIX] } },
  ...rules(['bind', 49, 'listen', 50, 'accept', 43, 'accept4', 288, 'connect', 42, 'shutdown', 48, 'sendto', 44, 'recvfrom', 45, 'sendmsg', 46,
    'recvmsg', 47, 'sendmmsg', 307, 'recvmmsg', 299, 'getsockname', 51, 'getpeername', 52, 'getsockopt', 55, 'setsockopt', 54]),
];

/**
 * Only a Sentry that writes host files itself (read-write binds without the
 * Gofer: host/hosttree_rw.ts) gets these: changes relative to a directory
 * descriptor it holds or on the file's own, and openat with any flags (the
 * write descriptors it reopens through /proc/self/fd).
 */
export const HOST_WRITE_RULES: Rule[] = rules(['openat', 257, 'mkdirat', 258, 'mknodat', 259, 'fchownat', 260, 'unlinkat', 263, 'renameat', 264,
  'linkat', 265, 'symlinkat', 266, 'fchmodat', 268, 'fchmodat2', 452, 'utimensat', 280, 'renameat2', 316, 'fchown', 93, 'fchmod', 91,
  'fsetxattr', 190, 'fremovexattr', 199, 'syncfs', 306, 'setxattrat', 463, 'removexattrat', 466]);

/**
 * Only a Sentry that serves host files itself (without the Gofer) gets
 * these: host change reports of watched bind-mount files
 * (host/inotify_feed.ts), watches made through its own O_PATH descriptors.
 * With the Gofer, the Gofer makes the watches and the Sentry only reads the
 * descriptor it donated (gofer/watches.ts), so a compromised Sentry cannot
 * spend the host user's inotify instances and watches.
 */
export const HOST_WATCH_RULES: Rule[] = rules(['inotify_init1', 294, 'inotify_add_watch', 254, 'inotify_rm_watch', 255]);

function rules(pairs: Array<string | number>): Rule[] {
  const out: Rule[] = [];
  for (let i = 0; i < pairs.length; i += 2) out.push({ name: pairs[i] as string, nr: pairs[i + 1] as number });
  return out;
}

/**
 * struct sock_filter array of the Sentry's filter for a network mode. Calls
 * are tested one by one, each followed by its own verdict (classic BPF jumps
 * reach 255 instructions only); the commonest calls come first.
 */
export function sentryFilter(net: ConfineNet, hostWrites: boolean, hostWatches: boolean, otherwise = SECCOMP_RET_KILL_PROCESS): Buffer {
  const deny = otherwise >>> 0;
  const f = new Bpf();
  f.op(BPF_LD_W_ABS, 4).op(BPF_JEQ_K, AUDIT_ARCH_X86_64, 1, 0).op(BPF_RET_K, deny);
  f.op(BPF_LD_W_ABS, 0).op(BPF_JSET_K, X32_SYSCALL_BIT, 0, 1).op(BPF_RET_K, deny);
  for (const r of ENOSYS_CALLS) f.op(BPF_JEQ_K, r.nr, 0, 1).op(BPF_RET_K, SECCOMP_RET_ERRNO | ENOSYS);
  // A host-writing Sentry's plain openat comes first: it is matched before the checked one.
  for (const r of [...(hostWrites ? HOST_WRITE_RULES : []), ...SENTRY_ALLOWED, ...(hostWatches ? HOST_WATCH_RULES : [])]) {
    const c = r.check;
    if (!c) {
      f.op(BPF_JEQ_K, r.nr, 0, 1).op(BPF_RET_K, SECCOMP_RET_ALLOW);
      continue;
    }
    const [yes, no, next] = [`allow_${r.name}`, `deny_${r.name}`, `next_${r.name}`];
    f.op(BPF_JEQ_K, r.nr, 0, next);
    if (c.kind === 'thread') {
      // clone's flags are args[0]; the namespace flags and CLONE_THREAD all sit in its low half.
      f.loadArg(0, false).op(BPF_JSET_K, CLONE_NS_FLAGS, no, 0).op(BPF_JSET_K, CLONE_THREAD, yes, no);
    } else if (c.kind === 'readOnlyOpen') {
      // flags is an int: the kernel ignores the upper half.
      f.loadArg(2, false).op(BPF_JSET_K, OPEN_WRITE_FLAGS, no, yes);
    } else {
      const values = c.values(net);
      f.loadArg(c.arg, false);
      values.forEach((v, i) => f.op(BPF_JEQ_K, v, yes, i === values.length - 1 ? no : 0));
    }
    f.label(yes).op(BPF_RET_K, SECCOMP_RET_ALLOW);
    f.label(no).op(BPF_RET_K, deny);
    f.label(next);
  }
  f.op(BPF_RET_K, deny);
  return f.build();
}
