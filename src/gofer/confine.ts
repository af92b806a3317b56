// The Gofer's own confinement, applied by the Gofer to itself before it
// reads its first request. The runtime starts it in new mount and network
// namespaces (unshare -m -n, mounts private), so nothing here is seen by the
// host. Then:
//  1. mount namespace: a small tmpfs becomes the new root, each served tree
//     is bound (recursively) at /0, /1, ... (read-only trees remounted
//     read-only), with a proc of the Gofer's own PID namespace (itself
//     alone) at /proc; pivot_root moves there and the old root is
//     detached, so the host's other files are not reachable from the
//     Gofer at all, by any path;
//  2. capabilities: the bounding, ambient, inheritable, permitted and
//     effective sets are cut to the file-access ones the trees need (read:
//     DAC_OVERRIDE and DAC_READ_SEARCH, as the in-process tree read as root;
//     a writable tree adds CHOWN, FOWNER and FSETID: device nodes are
//     refused, FIFOs and sockets need no capability);
//  3. seccomp: no_new_privs, then a filter on every thread (TSYNC: Node's
//     own threads too) that refuses the calls a compromised Gofer would
//     escape or attack the host with (denylist: see docs/SECURITY.md).
import * as fs from 'node:fs';
import * as libc from '../host/libc';
import {
  AUDIT_ARCH_X86_64, BPF_JEQ_K, BPF_JGT_K, BPF_JSET_K, BPF_LD_W_ABS, BPF_RET_K, Bpf, SECCOMP_RET_ALLOW, SECCOMP_RET_KILL_PROCESS,
} from '../platform/ptrace/seccomp';

const MS_RDONLY = 1;
const MS_NOSUID = 2;
const MS_NODEV = 4;
const MS_NOEXEC = 8;
const MS_REMOUNT = 32;
const MS_BIND = 4096;
const MS_REC = 16384;
const MS_PRIVATE = 1 << 18;
const MNT_DETACH = 2;
const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const AT_RECURSIVE = 0x8000;
const OPEN_TREE_CLONE = 1;
const OPEN_TREE_CLOEXEC = 0o2000000;
const MOVE_MOUNT_F_EMPTY_PATH = 4;
const MOUNT_ATTR_RDONLY = 1;
const SYS_OPEN_TREE = 428;
const SYS_MOVE_MOUNT = 429;
const SYS_MOUNT_SETATTR = 442;
const SYS_PIVOT_ROOT = 155;
const SYS_CAPSET = 126;
const SYS_SECCOMP = 317;
const PR_SET_PDEATHSIG = 1;
const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_FILTER_FLAG_TSYNC = 1;
const SECCOMP_RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;
const SIGKILL = 9;

const CAP_CHOWN = 0;
const CAP_DAC_OVERRIDE = 1;
const CAP_DAC_READ_SEARCH = 2;
const CAP_FOWNER = 3;
const CAP_FSETID = 4;
const CAP_LAST = 63;

const cstr = (s: string): Buffer => Buffer.from(s + '\0');

function check(r: number | bigint, what: string): void {
  if (Number(r) < 0) throw new Error(`gofer confinement: ${what}: errno ${libc.errno()}`);
}

/** Die with the Sentry that started us (the socket's end-of-file ends us too, unless a stray copy of it lives). */
export function dieWithParent(): void {
  libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

/**
 * Move into a root holding only the trees (at /0, /1, ...). at: a directory
 * of the new mount namespace to build the root on (a tmpfs covers it).
 */
export function pivotIntoTrees(at: string, trees: Array<{ path: string; writable: boolean }>): void {
  check(libc.mount(null, cstr('/'), null, MS_REC | MS_PRIVATE, null), 'making mounts private');
  // Detached copies of the trees first, taken before the tmpfs exists: a tree that contains `at`
  // (the host's /) must show what is there on the host, not the Gofer's new root.
  const copies = trees.map((t) => {
    const fd = Number(libc.syscallIPIPI(SYS_OPEN_TREE, AT_FDCWD, cstr(t.path), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE, null, 0));
    check(fd, `copying ${t.path}`);
    if (!t.writable) {
      // struct mount_attr { u64 attr_set, attr_clr, propagation, userns_fd }: read-only, submounts included.
      const attr = Buffer.alloc(32);
      attr.writeUInt32LE(MOUNT_ATTR_RDONLY, 0);
      check(libc.syscallIPIPI(SYS_MOUNT_SETATTR, fd, cstr(''), AT_EMPTY_PATH | AT_RECURSIVE, attr, 32), `read-only ${t.path}`);
    }
    return fd;
  });
  check(libc.mount(cstr('tsvisor-gofer'), cstr(at), cstr('tmpfs'), MS_NOSUID | MS_NODEV | MS_NOEXEC, cstr('mode=0755,size=16k')), 'root tmpfs');
  // /proc/self/fd: a writable tree reopens a file it holds by its descriptor's link (host/hosttree_rw.ts). The
  // Gofer is pid 1 of a PID namespace of its own (gofer/start.ts), so this proc shows no other process.
  fs.mkdirSync(`${at}/proc`);
  check(libc.mount(cstr('proc'), cstr(`${at}/proc`), cstr('proc'), MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, cstr('subset=pid')), 'proc');
  copies.forEach((fd, i) => {
    const dest = `${at}/${i}`;
    fs.mkdirSync(dest);
    check(libc.syscallIPIPI(SYS_MOVE_MOUNT, fd, cstr(''), AT_FDCWD, cstr(dest), MOVE_MOUNT_F_EMPTY_PATH), `placing ${trees[i].path}`);
    fs.closeSync(fd);
  });
  fs.mkdirSync(`${at}/.old`);
  check(libc.syscallPtr2(SYS_PIVOT_ROOT, cstr(at), cstr(`${at}/.old`)), 'pivot_root');
  process.chdir('/');
  check(libc.umount2(cstr('/.old'), MNT_DETACH), 'detaching the old root');
  fs.rmdirSync('/.old');
  check(libc.mount(null, cstr('/'), null, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, null), 'read-only root');
}

/** Keep only the capabilities serving the trees needs. */
export function dropCapabilities(writable: boolean): void {
  const keep = new Set([CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH]);
  if (writable) for (const c of [CAP_CHOWN, CAP_FOWNER, CAP_FSETID]) keep.add(c);
  for (let c = 0; c <= CAP_LAST; c++) {
    if (keep.has(c)) continue;
    // EINVAL past the kernel's last capability: done.
    if (libc.prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) break;
  }
  libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  let mask = 0;
  for (const c of keep) mask |= 1 << c;
  // struct __user_cap_header_struct { version _LINUX_CAPABILITY_VERSION_3, pid 0 } and two data words (caps 0-31, 32-63).
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(0x20080522, 0);
  const data = Buffer.alloc(24);
  data.writeUInt32LE(mask >>> 0, 0); // effective
  data.writeUInt32LE(mask >>> 0, 4); // permitted
  check(libc.syscallPtr2(SYS_CAPSET, hdr, data), 'capset');
}

/**
 * System calls the Gofer never makes once serving, and that a compromised
 * Gofer would use to leave its confinement or reach the host: new programs,
 * new sockets (it has its socket already), mounts and namespaces, tracing
 * and other processes' memory, kernel modules, keys, BPF, handles that open
 * files by number (open_by_handle_at bypasses the mount namespace), io_uring
 * (its own path to all of these), and the clock and host identity.
 */
const DENIED: ReadonlyArray<[number, string]> = [
  [59, 'execve'], [322, 'execveat'], [101, 'ptrace'], [310, 'process_vm_readv'], [311, 'process_vm_writev'], [312, 'kcmp'],
  [41, 'socket'], [53, 'socketpair'], [42, 'connect'], [43, 'accept'], [288, 'accept4'], [49, 'bind'], [50, 'listen'],
  [165, 'mount'], [166, 'umount2'], [155, 'pivot_root'], [161, 'chroot'], [272, 'unshare'], [308, 'setns'],
  [428, 'open_tree'], [429, 'move_mount'], [430, 'fsopen'], [431, 'fsconfig'], [432, 'fsmount'], [433, 'fspick'], [442, 'mount_setattr'],
  [303, 'name_to_handle_at'], [304, 'open_by_handle_at'],
  [175, 'init_module'], [313, 'finit_module'], [176, 'delete_module'], [246, 'kexec_load'], [320, 'kexec_file_load'],
  [321, 'bpf'], [298, 'perf_event_open'], [323, 'userfaultfd'], [425, 'io_uring_setup'], [426, 'io_uring_enter'], [427, 'io_uring_register'],
  [248, 'add_key'], [249, 'request_key'], [250, 'keyctl'], [169, 'reboot'], [167, 'swapon'], [168, 'swapoff'], [163, 'acct'],
  [103, 'syslog'], [164, 'settimeofday'], [227, 'clock_settime'], [159, 'adjtimex'], [305, 'clock_adjtime'],
  [170, 'sethostname'], [171, 'setdomainname'], [172, 'iopl'], [173, 'ioperm'], [179, 'quotactl'], [135, 'personality'],
  [126, 'capset'], [317, 'seccomp'], [105, 'setuid'], [106, 'setgid'], [113, 'setreuid'], [114, 'setregid'], [117, 'setresuid'], [119, 'setresgid'],
];
const SYS_CLONE = 56;
const SYS_CLONE3 = 435;
/** clone(2) flags making new namespaces (CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET). */
const CLONE_NEW_ANY = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

/** The filter as struct sock_filter[] (exported for the test that checks what it refuses). */
export function goferFilter(): Buffer {
  const f = new Bpf();
  // Another architecture's numbers mean other calls; the x32 ABI (bit 30) aliases ours.
  f.op(BPF_LD_W_ABS, 4).op(BPF_JEQ_K, AUDIT_ARCH_X86_64, 0, 'kill');
  f.op(BPF_LD_W_ABS, 0).op(BPF_JGT_K, 0x3fffffff, 'kill', 0);
  for (const [nr] of DENIED) f.op(BPF_JEQ_K, nr, 'deny', 0);
  // clone3's flags are in memory the filter cannot read: ENOSYS, and glibc falls back to clone.
  f.op(BPF_JEQ_K, SYS_CLONE3, 'nosys', 0);
  f.op(BPF_JEQ_K, SYS_CLONE, 0, 'allow');
  f.loadArg(0, false).op(BPF_JSET_K, CLONE_NEW_ANY, 'deny', 'allow');
  f.label('allow').op(BPF_RET_K, SECCOMP_RET_ALLOW);
  f.label('deny').op(BPF_RET_K, SECCOMP_RET_ERRNO | EPERM);
  f.label('nosys').op(BPF_RET_K, SECCOMP_RET_ERRNO | ENOSYS);
  f.label('kill').op(BPF_RET_K, SECCOMP_RET_KILL_PROCESS);
  return f.build();
}

export function installFilter(): void {
  check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 'no_new_privs');
  const prog = goferFilter();
  const mem = libc.allocPinned(prog.length);
  prog.copy(mem.buf);
  // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
  const fprog = libc.allocPinned(16);
  fprog.buf.writeUInt16LE(prog.length / 8, 0);
  fprog.buf.writeBigUInt64LE(mem.addr, 8);
  const fprogBuf = fprog.buf;
  check(libc.syscallIIP(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, fprogBuf), 'seccomp');
}
