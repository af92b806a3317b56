// Host system calls through koffi. This is the only module that declares libc
// functions; everything above calls these wrappers. Pointers are passed as
// Buffers/TypedArrays (koffi hands their memory to C without a copy) or as
// numeric addresses.

import { loadKoffi } from './koffi_native';

const koffi = loadKoffi();

const lib = koffi.load('libc.so.6');
/** The running program itself (node), for libuv's exported functions. */
const self = koffi.load(null as unknown as string);

function optionalFunc(decl: string): ReturnType<typeof lib.func> | null {
  try {
    return lib.func(decl);
  } catch {
    return null;
  }
}

export const ptrace = lib.func('long ptrace(long req, int pid, uintptr_t addr, uintptr_t data)');
/** ptrace with a signed data argument: POKEUSER of a register value held as a JS number. */
export const ptraceLong = lib.func('long ptrace(long req, int pid, uintptr_t addr, long data)');
export const ptraceBuf = lib.func('long ptrace(long req, int pid, uintptr_t addr, void *data)');
export const waitpid = lib.func('int waitpid(int pid, void *status, int options)');
export const memfd_create = lib.func('int memfd_create(const char *name, unsigned int flags)');
export const ftruncate = lib.func('int ftruncate(int fd, int64_t len)');
const mmapPtr = lib.func('void *mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, int64_t off)');
export const fallocate = lib.func('int fallocate(int fd, int mode, int64_t off, int64_t len)');
export const write = lib.func('long write(int fd, const void *buf, size_t n)');
export const read = lib.func('long read(int fd, void *buf, size_t n)');
export const pread = lib.func('long pread(int fd, void *buf, size_t n, int64_t off)');
export const pwrite = lib.func('long pwrite(int fd, const void *buf, size_t n, int64_t off)');
export const lseek = lib.func('int64_t lseek(int fd, int64_t off, int whence)');
export const fsync = lib.func('int fsync(int fd)');
export const fdatasync = lib.func('int fdatasync(int fd)');
export const close = lib.func('int close(int fd)');
/**
 * pipe2(fds, flags): fds an Int32Array of 2. Loaded lazily (host/exec_fds.ts).
 * @public
 */
export const pipe2 = lib.func('int pipe2(void *fds, int flags)');
export const send = lib.func('long send(int fd, const void *buf, size_t n, int flags)');
export const recv = lib.func('long recv(int fd, void *buf, size_t n, int flags)');
export const getsockopt = lib.func('int getsockopt(int fd, int level, int name, void *val, void *len)');
export const setsockopt = lib.func('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)');
export const socket = lib.func('int socket(int domain, int type, int protocol)');
export const bind = lib.func('int bind(int fd, const void *addr, uint32_t len)');
export const listen = lib.func('int listen(int fd, int backlog)');
export const accept4 = lib.func('int accept4(int fd, void *addr, void *len, int flags)');
export const connect = lib.func('int connect(int fd, const void *addr, uint32_t len)');
export const shutdown = lib.func('int shutdown(int fd, int how)');
export const sendto = lib.func('long sendto(int fd, const void *buf, size_t n, int flags, const void *addr, uint32_t len)');
export const recvfrom = lib.func('long recvfrom(int fd, void *buf, size_t n, int flags, void *addr, void *len)');
export const getsockname = lib.func('int getsockname(int fd, void *addr, void *len)');
export const getpeername = lib.func('int getpeername(int fd, void *addr, void *len)');
export const kill = lib.func('int kill(int pid, int sig)');
export const tgkill = lib.func('int tgkill(int tgid, int tid, int sig)');
export const sched_getcpu = lib.func('int sched_getcpu()');
export const sched_getaffinity = lib.func('int sched_getaffinity(int pid, size_t size, void *mask)');
export const sched_setaffinity = lib.func('int sched_setaffinity(int pid, size_t size, void *mask)');
const uv_default_loop = self.func('void *uv_default_loop()');
const uv_backend_fd = self.func('int uv_backend_fd(void *loop)');
/**
 * The epoll fd of Node's own event loop (libuv's backend): readable when Node
 * has I/O to handle (a signal caught by a process.on handler included).
 */
export function nodeLoopFd(): number {
  return uv_backend_fd(uv_default_loop()) as number;
}
const uv_backend_timeout = self.func('int uv_backend_timeout(void *loop)');
const uv_loop_alive = self.func('int uv_loop_alive(void *loop)');
const uv_now = self.func('uint64_t uv_now(void *loop)');
/**
 * Node's own next timer, as libuv's loop reports it: [uv_now ms, timeout ms].
 * The timeout is -1 when the loop has no timer and nothing pending (or
 * nothing referenced at all), and 0 when something else is pending (an
 * immediate, a callback) whatever the timers: 0 is "soon", not a deadline.
 * uv_now is the loop's cached time from its last turn.
 */
export function nodeLoopTimeout(): [number, number] {
  const loop = uv_default_loop();
  if (!uv_loop_alive(loop)) return [0, -1];
  return [Number(uv_now(loop)), uv_backend_timeout(loop) as number];
}
export const epoll_create1 = lib.func('int epoll_create1(int flags)');
export const epoll_ctl = lib.func('int epoll_ctl(int epfd, int op, int fd, void *ev)');
export const epoll_wait = lib.func('int epoll_wait(int epfd, void *evs, int max, int timeout)');
export const timerfd_create = lib.func('int timerfd_create(int clock, int flags)');
export const clock_gettime = lib.func('int clock_gettime(int clock, void *ts)');
export const arch_prctl = lib.func('int arch_prctl(int code, void *addr)');
export const timerfd_settime = lib.func('int timerfd_settime(int fd, int flags, void *nv, void *old)');
export const poll = lib.func('int poll(void *fds, unsigned long n, int timeout)');
export const isatty = lib.func('int isatty(int fd)');
export const ioctl = lib.func('int ioctl(int fd, unsigned long req, void *arg)');
export const fcntl = lib.func('int fcntl(int fd, int cmd, long arg)');
export const dup = lib.func('int dup(int fd)');
export const posix_spawn = lib.func(
  'int posix_spawn(_Out_ int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)',
);
export const posix_spawn_file_actions_init = lib.func('int posix_spawn_file_actions_init(void *fa)');
export const posix_spawn_file_actions_adddup2 = lib.func('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)');
export const posix_spawn_file_actions_addclose = lib.func('int posix_spawn_file_actions_addclose(void *fa, int fd)');
/** glibc 2.34 and later; null where the C library lacks it. */
export const posix_spawn_file_actions_addclosefrom_np = optionalFunc('int posix_spawn_file_actions_addclosefrom_np(void *fa, int from)');
export const posix_spawnattr_init = lib.func('int posix_spawnattr_init(void *attr)');
export const posix_spawnattr_setflags = lib.func('int posix_spawnattr_setflags(void *attr, short flags)');
export const posix_spawnattr_setpgroup = lib.func('int posix_spawnattr_setpgroup(void *attr, int pgid)');
export const posix_spawnattr_setsigmask = lib.func('int posix_spawnattr_setsigmask(void *attr, void *mask)');
export const getrandom = lib.func('long getrandom(void *buf, size_t n, unsigned int flags)');
export const prlimit = lib.func('int prlimit(int pid, int resource, const void *nv, void *old)');
// The host tree walk (host/hosttree.ts). Paths are NUL-terminated byte Buffers,
// never JS strings (koffi would encode those as UTF-8). openat is declared
// without its variadic mode: the walk never creates files.
export const openat = lib.func('int openat(int dirfd, const void *path, int flags)');
export const statx = lib.func('int statx(int dirfd, const void *path, int flags, unsigned int mask, void *buf)');
export const readlinkat = lib.func('long readlinkat(int dirfd, const void *path, void *buf, size_t n)');
export const getdents64 = lib.func('long getdents64(int fd, void *buf, size_t n)');
/** @public host/filelock.ts reaches it through a lazy require, which knip does not follow. */
export const flock = lib.func('int flock(int fd, int op)');
// The read-write host tree (host/hosttree_rw.ts): every call names a file by
// a directory descriptor and one name, or by its own descriptor with AT_EMPTY_PATH.
export const openatMode = lib.func('int openat(int dirfd, const void *path, int flags, unsigned int mode)');
export const mkdirat = lib.func('int mkdirat(int dirfd, const void *path, unsigned int mode)');
export const symlinkat = lib.func('int symlinkat(const void *target, int dirfd, const void *path)');
export const mknodat = lib.func('int mknodat(int dirfd, const void *path, unsigned int mode, uint64_t dev)');
export const linkat = lib.func('int linkat(int olddirfd, const void *oldpath, int newdirfd, const void *newpath, int flags)');
export const unlinkat = lib.func('int unlinkat(int dirfd, const void *path, int flags)');
export const fchownat = lib.func('int fchownat(int dirfd, const void *path, uint32_t uid, uint32_t gid, int flags)');
export const utimensat = lib.func('int utimensat(int dirfd, const void *path, const void *times, int flags)');
export const fstatfs = lib.func('int fstatfs(int fd, void *buf)');
/** fchmodat2 (452): a directory fd, a path and two integers. */
export const syscallPath = lib.func('long syscall(long nr, int dirfd, const void *path, long a, long b)');
/** renameat2 (316). */
export const syscallRename = lib.func('long syscall(long nr, int olddirfd, const void *oldpath, int newdirfd, const void *newpath, unsigned int flags)');
/** listxattrat (465). */
export const syscallList = lib.func('long syscall(long nr, int dirfd, const void *path, unsigned int atflags, void *list, size_t size)');
/** setxattrat (463), getxattrat (464), removexattrat (466) with AT_EMPTY_PATH. */
export const syscallXattr = lib.func('long syscall(long nr, int dirfd, const void *path, unsigned int atflags, const void *name, const void *args, size_t size)');
// The systrap platform: its eventfd, futex wake-ups of stub threads through the
// Sentry's mapping of the memory file, pidfds of stub processes.
export const eventfd = lib.func('int eventfd(unsigned int initval, int flags)');
/** futex(2) on a word given as a Buffer (its first 4 bytes). */
export const futexBuf = lib.func('long syscall(long nr, void *uaddr, long op, long val, uintptr_t timeout, uintptr_t uaddr2, long val3)');
/** A system call with integer arguments only (pidfd_open). */
export const syscall3 = lib.func('long syscall(long nr, long a, long b, long c)');
// Container terminals (host/pty.ts): the pty master goes to a console socket with SCM_RIGHTS.
export const sendmsg = lib.func('long sendmsg(int fd, const void *msg, int flags)');

// The Gofer (src/gofer): its socketpair with the Sentry, descriptors received
// with SCM_RIGHTS, and its own confinement (mount namespace, capabilities,
// seccomp). Paths here are NUL-terminated Buffers too.
export const socketpair = lib.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)');
export const recvmsg = lib.func('long recvmsg(int fd, void *msg, int flags)');
export const mount = lib.func('int mount(const void *src, const void *target, const void *type, unsigned long flags, const void *data)');
export const umount2 = lib.func('int umount2(const void *target, int flags)');
export const prctl = lib.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)');
/** A system call with two pointer arguments (pivot_root, capset). */
export const syscallPtr2 = lib.func('long syscall(long nr, const void *a, const void *b)');
/** A system call with two integers and a pointer (seccomp). */
export const syscallIIP = lib.func('long syscall(long nr, long a, long b, const void *c)');
/** open_tree, move_mount, mount_setattr: int, pointer, int, pointer, int. */
export const syscallIPIPI = lib.func('long syscall(long nr, long a, const void *b, long c, const void *d, long e)');

export function errno(): number {
  return koffi.errno();
}

/**
 * A buffer in C memory with a known address, for system calls that take
 * pointers inside structures (an iovec for PTRACE_GETREGSET).
 */
export function allocPinned(len: number): { buf: Buffer; addr: bigint } {
  const p: unknown = koffi.alloc('uint8_t', len);
  return { buf: Buffer.from(koffi.view(p, len)), addr: koffi.address(p) };
}

/**
 * The address of a Buffer's first byte (its backing store never moves), for
 * structures that point at the caller's buffers (a msghdr's iovec). The
 * caller keeps the Buffer referenced until the call that uses it returns.
 */
export function bufferAddress(b: Buffer): bigint {
  return b.length ? (koffi.address(b) as bigint) : 0n;
}

/** mmap returning an opaque pointer usable with view(), or null on failure. */
export function mmapForView(len: number, prot: number, flags: number, fd: number, off: number): unknown {
  const p: unknown = mmapPtr(0, len, prot, flags, fd, off);
  if (p === null || Number(koffi.address(p)) === -1 || koffi.address(p) === 0xffffffffffffffffn) return null;
  return p;
}

/** A view of host memory at ptr + offset, without copying. */
export function view(ptr: unknown, offset: number, len: number): ArrayBuffer {
  const base = koffi.address(ptr) + BigInt(offset);
  return koffi.view(koffi.decode(Buffer.from(new BigUint64Array([base]).buffer), 'void *'), len);
}
// The Sentry's confinement (sandbox/confine.ts): it leaves the host's
// directory and installs its own seccomp filter on every thread.
export const chdir = lib.func('int chdir(const char *path)');
/** seccomp(2): op, flags and a struct sock_fprog. */
export const syscallSeccomp = lib.func('long syscall(long nr, long op, long flags, const void *prog)');
