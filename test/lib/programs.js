'use strict';
// programs: how each C program in test/c is run by the tests.
//
// args(dir) returns the arguments after the program's path; dir is a fresh
// empty directory, also the program's working directory. endsWithDone: its
// stdout must end with "done\n" (it ran to the end). identity: its output is
// checked against the expected identity of the kernel it runs on
// (test/lib/identity.js) instead of only against the native run. pid1: it
// must run as pid 1 of a PID namespace, natively under `unshare --map-root-user --pid --fork` (the
// sandbox's first process is pid 1 already). network: the sandbox's --network mode (default: the default mode). ipcns: natively under `unshare --ipc --mount` (a fresh IPC namespace, and mounts that vanish with the run).
// hostLoop: natively it needs root and the host's loop driver (skipped without: hasHostLoop).
// ownNative: its own test runs it natively in the set-up it needs (a ping group range, an ext2 mount), so
// c_native.test.js does not run it bare.

const fs = require('node:fs');
const path = require('node:path');

const C_PROGRAMS = Object.freeze({
  hello: { args: () => ['one', 'two words', ''] },
  fileio: { args: (dir) => [dir], endsWithDone: true },
  forkexec: { args: () => [], endsWithDone: true },
  stubreuse: { args: () => [] },
  pipes: { args: () => [], endsWithDone: true },
  cow: { args: () => [], endsWithDone: true },
  zeroreuse: { args: () => [], endsWithDone: true },
  timeorder: { args: (dir) => [dir], endsWithDone: true },
  brkpatch: { args: () => [], endsWithDone: true },
  sysvipcproc: { args: () => [], endsWithDone: true, ipcns: true },
  sockpairerr: { args: () => [], endsWithDone: true },
  mmap: { args: (dir) => [dir], endsWithDone: true },
  sigsegv: { args: () => [], endsWithDone: true },
  signals: { args: () => [], endsWithDone: true },
  rawsyscall: { args: () => [], identity: true },
  faults: { args: () => [], endsWithDone: true },
  efault: { args: () => [], endsWithDone: true },
  uffd: { args: () => [], endsWithDone: true },
  uffdhostile: { args: () => [], endsWithDone: true },
  uffdevents: { args: () => [], endsWithDone: true },
  mmap2: { args: () => [], endsWithDone: true },
  bigmap: { args: () => [], endsWithDone: true },
  execerr: { args: (dir) => [dir], endsWithDone: true },
  cputime: { args: () => [], endsWithDone: true },
  xattr: { args: (dir) => [dir], endsWithDone: true },
  ptimers: { args: () => [], endsWithDone: true },
  robust: { args: () => [], endsWithDone: true },
  twobox: { args: () => ['all'], endsWithDone: true },
  // Its own test counts round trips (stopcount.test.js); here one mode is compared.
  stopcount: { args: () => ['pipe_block', '50'] },
  stdiofile: { args: () => [], endsWithDone: true },
  rwflags: { args: (dir) => [dir], endsWithDone: true },
  commname: { args: (dir) => [dir], endsWithDone: true },
  sigio: { args: () => [], endsWithDone: true },
  caps: { args: (dir) => [dir], endsWithDone: true },
  preempt: { args: () => [], endsWithDone: true },
  vsyscall: { args: () => [], endsWithDone: true },
  // Its own test compares --strace with strace -f (strace.test.js); here the calls themselves.
  stracecalls: { args: () => ['basic'] },
  sigchld: { args: () => [], endsWithDone: true },
  bigoffset: { args: (dir) => [dir], endsWithDone: true },
  sigvalues: { args: () => [], endsWithDone: true },
  kaddr: { args: () => [], endsWithDone: true },
  reparent: { args: () => [], endsWithDone: true, pid1: true },
  // Its own test pauses it (pause.test.js); here a short run is compared.
  pausework: { args: () => ['20000000', '4'], endsWithDone: true },
  // Its own test drives it through a FIFO (hostevents.test.js); here a read of stdin at EOF.
  hostevents: { args: () => ['idle'], endsWithDone: true },
  // With the host's real HostInfo the sandbox shows the machine as it is (hostinfo.test.js injects another).
  hostinfo: { args: () => [], endsWithDone: true },
  // Its own test runs it on a read-write bind (hostrw.test.js); here only its native runs are checked.
  hostrw: { args: (dir) => [dir], ownTest: true },
  // Alone it sees no change (the host's come from hostnotify.test.js): a file to watch, and no changes of its own.
  hostnotify: { args: (dir) => { fs.writeFileSync(path.join(dir, 'watched'), ''); return [dir, 'alone']; }, ownTest: true },
  vmamerge: { args: (dir) => [dir], endsWithDone: true },
  // Its other modes (hostile, step, loop counts) are systrap_patch.test.js's.
  syspatch: { args: () => ['semantics'], endsWithDone: true },
  nofile: { args: () => [], endsWithDone: true },
  dacperm: { args: (dir) => [dir], endsWithDone: true },
  rlimits: { args: (dir) => [dir], endsWithDone: true },
  killperm: { args: () => [], endsWithDone: true },
  splice: { args: (dir) => [dir], endsWithDone: true },
  advice: { args: (dir) => [dir], endsWithDone: true },
  schedattr: { args: () => [], endsWithDone: true },
  // Compared with a one-node host: the sandbox shows one NUMA node.
  numa: { args: () => [], endsWithDone: true },
  // Its sandbox-only mode ("own") is run by admin_calls.test.js.
  settime: { args: () => [], endsWithDone: true },
  clockagree: { args: () => [], endsWithDone: true },
  cpuitimer: { args: () => [], endsWithDone: true },
  schedzombie: { args: () => [], endsWithDone: true },
  altstack: { args: () => [], endsWithDone: true },
  cpulimit: { args: () => [], endsWithDone: true },
  futexfault: { args: () => [], endsWithDone: true },
  timerpast: { args: () => [], endsWithDone: true },
  getcpu: { args: () => [], endsWithDone: true },
  // Their own tests count stops (faultaround.test.js, cpupolicy.test.js); here one short mode each.
  faultaround: { args: (dir) => ['bus', dir, '0'] },
  cpuspread: { args: () => ['syscalls', '0'] },
  sysfs: { args: () => [], endsWithDone: true },
  procsys: { args: () => [], endsWithDone: true },
  timeleft: { args: () => [], endsWithDone: true },
  epoll: { args: () => [], endsWithDone: true },
  // Mounts only inside private mount namespaces of its own children: the host's mounts never change.
  namespaces: { args: (dir) => [dir], endsWithDone: true },
  // New time namespaces of its own children only; the initial one's offsets cannot be written.
  timens: { args: () => [], endsWithDone: true },
  timensvdso: { args: () => [], endsWithDone: true },
  // New PID namespaces of its own children only; mounts /proc only in their private mount namespaces.
  pidns: { args: () => [], endsWithDone: true },
  unixsock: { args: (dir) => [dir], endsWithDone: true },
  inotify: { args: (dir) => [dir], endsWithDone: true },
  inotifymount: { args: (dir) => [dir], endsWithDone: true },
  dnotify: { args: (dir) => [dir], endsWithDone: true },
  timerfd: { args: () => [], endsWithDone: true },
  signalfd: { args: () => [], endsWithDone: true },
  sysvshm: { args: () => [], endsWithDone: true },
  sysvsem: { args: () => [], endsWithDone: true },
  sysvmsg: { args: () => [], endsWithDone: true },
  // Keys and keyrings; natively it joins a new session keyring first.
  keyrings: { args: () => [], endsWithDone: true },
  processvm: { args: () => [], endsWithDone: true },
  mqueue: { args: () => [], endsWithDone: true },
  // Mounts the mqueue file system of a fresh IPC namespace (natively `unshare --ipc --mount`; the sandbox's is fresh already).
  mqueuefs: { args: (dir) => [dir], endsWithDone: true, ipcns: true },
  // Writes /proc/sys/fs/mqueue: natively in a fresh IPC namespace, so the host's limits are not touched.
  mqsysctl: { args: () => [], endsWithDone: true, ipcns: true },
  seccomp: { args: () => [], endsWithDone: true },
  opath: { args: (dir) => [dir], endsWithDone: true },
  partialio: { args: (dir) => [dir], endsWithDone: true },
  offsets: { args: (dir) => [dir], endsWithDone: true },
  dents: { args: (dir) => [dir], endsWithDone: true },
  ftimes: { args: () => [], endsWithDone: true },
  oflags: { args: (dir) => [dir], endsWithDone: true },
  ptracebasic: { args: () => [], endsWithDone: true },
  // Run as root: one case drops to another uid.
  ptraceevents: { args: () => [], endsWithDone: true },
  ptracemore: { args: () => [], endsWithDone: true },
  mmedges: { args: (dir) => [dir], endsWithDone: true },
  mlocks: { args: () => [], endsWithDone: true },
  maptrunc: { args: (dir) => [dir], endsWithDone: true },
  rusage: { args: () => [], endsWithDone: true },
  execat: { args: (dir) => [dir], endsWithDone: true },
  setidexec: { args: (dir) => [dir], endsWithDone: true },
  prctlopts: { args: () => [], endsWithDone: true },
  futexop: { args: () => [], endsWithDone: true },
  futexpi: { args: () => [], endsWithDone: true },
  futexrqpi: { args: () => [], endsWithDone: true },
  futexwaitv: { args: () => [], endsWithDone: true },
  futex2: { args: () => [], endsWithDone: true },
  cachestat: { args: () => [], endsWithDone: true },
  fchmodat2: { args: (dir) => [dir], endsWithDone: true },
  mseal: { args: () => [], endsWithDone: true },
  xattrat: { args: (dir) => [dir], endsWithDone: true },
  fileattr: { args: () => [], endsWithDone: true },
  lsmattr: { args: () => [], endsWithDone: true },
  statmount: { args: () => [], endsWithDone: true },
  // Mounts only in a private mount namespace of its own; compared by ovlmount.test.js with the rootless case beside it.
  ovlmount: { args: (dir) => [dir], endsWithDone: true, ownTest: true },
  newmount: { args: (dir) => [dir], endsWithDone: true },
  // Mounts only in a private mount namespace of its own; compared by propagation.test.js, with its exponential case beside it.
  propagation: { args: (dir) => [dir], endsWithDone: true, ownTest: true },
  mdwe: { args: () => [], endsWithDone: true },
  futexpithr: { args: () => [], endsWithDone: true },
  threads: { args: () => [], endsWithDone: true },
  threadsig: { args: () => [], endsWithDone: true },
  threadmisc: { args: () => [], endsWithDone: true },
  threadreuse: { args: () => [], endsWithDone: true },
  tsc: { args: () => [], endsWithDone: true },
  mincorezero: { args: (dir) => [dir], endsWithDone: true },
  vforkwait: { args: () => [], endsWithDone: true },
  nicethread: { args: () => [], endsWithDone: true },
  schedthread: { args: () => [], endsWithDone: true },
  // Its own test (hostnice.test.js) passes a file to wait for and reads the host threads' nice.
  hostnice: { args: () => [], endsWithDone: true },
  waitmore: { args: () => [], endsWithDone: true },
  clonematrix: { args: () => [], endsWithDone: true },
  exitrace: { args: () => [], endsWithDone: true },
  inotifyexec: { args: (dir) => [dir], endsWithDone: true },
  procmisc: { args: () => [], endsWithDone: true },
  fpustate: { args: () => [], endsWithDone: true },
  pidfd: { args: () => [], endsWithDone: true },
  pidfdinfo: { args: () => [], endsWithDone: true },
  // SO_PEERPIDFD and SCM_PIDFD; compared with a host of Linux 6.16 or later (pidfds of reaped peers, SCM_RIGHTS before SCM_PIDFD).
  peerpidfd: { args: () => [], endsWithDone: true },
  // Natively in a new cgroup of the host's v2 hierarchy, entered with a new cgroup namespace (removed after).
  cgroupfs: { args: (dir) => [dir], endsWithDone: true, cgroupns: true },
  // Delegation, freezer, kill: compared by cgroupctl.test.js (once, beside its sandbox-only nsdelegate cases).
  cgroupctl: { args: (dir) => [dir], endsWithDone: true, cgroupns: true, ownTest: true },
  kcmp: { args: () => [], endsWithDone: true },
  nropen: { args: () => [], endsWithDone: true },
  procreuse: { args: () => [], endsWithDone: true, pid1: true },
  settidpriv: { args: () => [], endsWithDone: true, pid1: true },
  procpidfd: { args: () => [], endsWithDone: true },
  stdiosock: { args: () => [], endsWithDone: true },
  aio: { args: (dir) => [dir], endsWithDone: true },
  aiopoll: { args: () => [], endsWithDone: true },
  aiopget: { args: () => [], endsWithDone: true },
  pty: { args: () => [], endsWithDone: true },
  ptyjob: { args: () => [], endsWithDone: true },
  memfd: { args: () => [], endsWithDone: true },
  // Host network mode (--network=host): the sockets and interfaces are the host's. hostnet.test.js
  // also runs them against a fresh network namespace (IPv4, and the sandbox's own loopback).
  inetsock: { args: () => ['auto'], endsWithDone: true, network: 'host' },
  // The host's interfaces change under the tests (other containers' veths): compared in a private
  // network namespace with a veth pair by hostnet.test.js instead (ownTest).
  netlinkroute: { args: () => [], endsWithDone: true, network: 'host', ownTest: true },
  ifioctl: { args: () => ['inet'], endsWithDone: true, network: 'host', ownTest: true },
  fdops: { args: (dir) => [dir], endsWithDone: true },
  // Works in a fresh directory of its own in /dev/shm (a tmpfs natively too), removed at the end.
  tmpfile: { args: () => [], endsWithDone: true },
  iflags: { args: () => [], endsWithDone: true },
  settid: { args: () => [], endsWithDone: true },
  sticky: { args: () => [], endsWithDone: true },
  kversion: { args: () => [], endsWithDone: true },
  deadline: { args: () => [], endsWithDone: true },
  pagemap: { args: (dir) => [dir], endsWithDone: true },
  // Its own test also lowers the limit in the sandbox (sysctl_limits.test.js); here the machine's limit.
  mapcount: { args: () => [], endsWithDone: true },
  // A tree made before it runs: in the sandbox, files of the root overlay's lower layer.
  landlock: {
    args: (dir) => {
      fs.mkdirSync(path.join(dir, 'l', 'a', 'sub'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'l', 'a', 'f'), 'f\n');
      fs.writeFileSync(path.join(dir, 'l', 'a', 'sub', 'g'), 'g\n');
      fs.writeFileSync(path.join(dir, 'l', 'b'), 'b\n');
      return [dir];
    },
    endsWithDone: true,
  },
  landlock_escape: { args: (dir) => [dir], endsWithDone: true },
  landlock6: { args: (dir) => [dir], endsWithDone: true },
  procmapq: { args: (dir) => [dir], endsWithDone: true },
  cpumask: { args: () => [], endsWithDone: true },
  // Its own test also sets the hard limit in the sandbox (sysctl_limits.test.js); here the machine's limits.
  pipepages: { args: () => [], endsWithDone: true },
  txtbusy: { args: (dir) => [dir], endsWithDone: true },
  // Run as root: it makes device nodes and drops to nobody for the unprivileged cases.
  nodes: { args: (dir) => [dir], endsWithDone: true },
  // Run as root: it sets vm.nr_hugepages itself (natively the host's) and restores the value it found.
  hugetlb: { args: () => [], endsWithDone: true },
  // Run as root, natively in a mount and IPC namespace of its own (ipcns): it mounts hugetlbfs and sets vm.nr_hugepages, restoring the host's value.
  hugetlbfs: { args: (dir) => [dir], endsWithDone: true, ipcns: true },
  ficlone: { args: (dir) => [dir], endsWithDone: true },
  // Run as root: it drops to nobody for the creators outside the directory's group.
  sgidumask: { args: (dir) => [dir], endsWithDone: true },
  deaddir: { args: (dir) => [dir], endsWithDone: true },
  // Mounts a tmpfs and a bind mount: natively in a mount namespace of its own (ipcns).
  statxattr: { args: (dir) => [dir], endsWithDone: true, ipcns: true },
  sbro: { args: (dir) => [dir], endsWithDone: true, ipcns: true },
  // Run as root with the host's loop driver (hostLoop: skipped natively without); compared by loopdev.test.js.
  loopdev: { args: (dir) => [dir], endsWithDone: true, ownTest: true, hostLoop: true },
  loophostile: { args: (dir) => [dir], endsWithDone: true, ownTest: true, hostLoop: true },
  // ext2 on a loop device of the sandbox: run by ext2.test.js, which checks the disk natively (e2fsck, debugfs).
  ext2ops: { args: (dir) => ['ops', dir, '/dev/null'], endsWithDone: true, ownTest: true, ownNative: true },
  leases: { args: (dir) => [dir], endsWithDone: true },
  cputimers: { args: () => [], endsWithDone: true },
  memargs: { args: () => [], endsWithDone: true },
  resolve: { args: (dir) => [dir], endsWithDone: true },
  // IPv4 on the host's loopback needs a network namespace with lo up (this machine's root one has no 127.0.0.1).
  inettcp: { args: () => [], endsWithDone: true, netns: true },
  inetudp: { args: () => [], endsWithDone: true, netns: true },
  inetoob: { args: () => [], endsWithDone: true, netns: true },
  inetlinger: { args: () => [], endsWithDone: true, netns: true },
  // SO_BINDTODEVICE/SO_BINDTOIFINDEX and IPv6 scope ids (hostnet.test.js runs it in host mode too; test/unit/netscope.test.js covers two interfaces).
  inetscope: { args: () => [], endsWithDone: true, netns: true },
  // IP_PKTINFO and IPV6_PKTINFO on UDP (the Sentry's stack only: host-mode sockets carry no control messages).
  inetpktinfo: { args: () => [], endsWithDone: true, netns: true },
  inetcmsg: { args: () => [], endsWithDone: true, netns: true },
  // SO_TIMESTAMP and its kin, SIOCGSTAMP (hostnet.test.js runs it in host mode too).
  sotimestamp: { args: () => [], endsWithDone: true, netns: true },
  // IPv4 options (IP_OPTIONS, IP_RETOPTS, IP_RECVOPTS, IP_RECVRETOPTS) on the Sentry's stack (net/ip/ipopts.ts) and in host mode (hostnet.test.js);
  // ipopts4: each option kind, Linux's checks, what sender and receiver record.
  ipopts: { args: () => [], endsWithDone: true, netns: true },
  ipopts4: { args: () => [], endsWithDone: true, netns: true },
  // pingopts: IPv4 options through a ping socket (inet.test.js, natively with the namespace's ping group range opened).
  pingopts: { args: () => [], ownTest: true, ownNative: true },
  // SO_TIMESTAMPING's software receive stamps (the Sentry's stack; hostnet.test.js runs it in host mode too).
  tsrx: { args: () => [], endsWithDone: true, netns: true },
  // IPv6 extension headers and SO_TIMESTAMPING's send stamps: host mode only (hostnet.test.js).
  ip6opts: { args: () => [], endsWithDone: true, netns: true, ownTest: true },
  tstamping: { args: () => [], endsWithDone: true, netns: true, ownTest: true },
  inetpassopt: { args: () => [], endsWithDone: true, netns: true },
  tun: { args: () => [], endsWithDone: true, netns: true },
  tap: { args: () => [], endsWithDone: true, netns: true },
  privport: { args: () => [], endsWithDone: true, netns: true },
  netnsnew: { args: () => [], endsWithDone: true, netns: true },
});

// nativeArgv is how a program runs on the host: pid1 programs in a new PID
// namespace, netns programs in a new network namespace with its loopback up,
// ipcns programs in new IPC and mount namespaces.
/**
 * cgroupns: a fresh cgroup of the host's cgroup v2 hierarchy (the unified
 * one of a hybrid host) as the program's cgroup namespace root, and its own
 * mount namespace; the shell goes back to its cgroup and removes the new one after.
 */
const CGROUP_WRAP = [
  'b=/sys/fs/cgroup/unified; [ -e $b/cgroup.procs ] || b=/sys/fs/cgroup',
  'o=$(sed -n "s/^0:://p" /proc/self/cgroup); d=$b/tsvisor-test-$$',
  'mkdir "$d" && echo $$ > "$d/cgroup.procs" || exit 99',
  'unshare --cgroup --mount "$@"; r=$?',
  'echo $$ > "$b${o%/}/cgroup.procs"; rmdir "$d"; exit $r',
].join('\n');

function nativeArgv(spec, argv) {
  if (spec.cgroupns) return ['sh', '-c', CGROUP_WRAP, 'sh', ...argv];
  if (spec.ipcns) return ['unshare', '--ipc', '--mount', ...argv];
  if (spec.netns) return ['unshare', '--map-root-user', '--net', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...argv];
  return spec.pid1 ? ['unshare', '--map-root-user', '--pid', '--fork', ...argv] : argv;
}

// hasHostLoop: the host can run the loop device programs natively (root, and the loop driver loaded).
function hasHostLoop() {
  return process.getuid() === 0 && fs.existsSync('/dev/loop-control');
}

module.exports = { C_PROGRAMS, nativeArgv, hasHostLoop };
