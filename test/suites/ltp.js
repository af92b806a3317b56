#!/usr/bin/env node
'use strict';
// ltp.js [TEST...]: the Linux Test Project's system call tests, natively and
// under `tsvisor do`, each with a timeout; prints the comparison as Markdown
// (the LTP section of docs/SUITES.md).
//
// The tests come from runtest/syscalls of an LTP tree built outside the
// repository. LTP_DIR names a built tree; without it the runner uses (and on
// the first run builds) ~/.cache/tsvisor/ltp from the source in LTP_SRC (a
// directory) or LTP_GIT (a git directory, default the workplace's mirror),
// installing the build's Debian packages first when it runs as root.
//
// Which tests: every runtest/syscalls entry whose program lives in one of
// FAMILIES, the LTP folders of the calls the sandbox implements. Left out:
// calls that change the host for everybody when run natively (the clock,
// host name, kernel log), sockets (no address family exists in the sandbox
// yet) and the ones in EXCLUDE below.
//
// Environment: SUITE_JOBS (runs at once, default 2), SUITE_TIMEOUT_S (per
// run, default 120), SUITE_JSON (write the raw results there),
// SUITE_EXTRA_FAMILIES (folders added for one run, e.g. kcmp,pidfd_open;
// "hugetlb" adds LTP's huge page tests, testcases/kernel/mem/hugetlb with
// runtest/hugetlb, which need vm.nr_hugepages natively: they set it).

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const childProcess = require('node:child_process');
const zlib = require('node:zlib');
const { run, pool, compareRuns, markdown } = require('./common');
const { baseEnv } = require('../lib/harness');

const FAMILIES = [
  // files and descriptors
  'read', 'write', 'open', 'openat', 'openat2', 'close', 'close_range', 'creat', 'dup', 'dup2', 'dup3',
  'fcntl', 'flock', 'stat', 'fstat', 'lstat', 'fstatat', 'statx', 'statfs', 'fstatfs', 'statvfs', 'lseek',
  'llseek', 'pread', 'pwrite', 'readv', 'writev', 'preadv', 'pwritev', 'preadv2', 'pwritev2', 'getdents',
  'readdir', 'access', 'faccessat', 'faccessat2', 'truncate', 'ftruncate', 'fsync', 'fdatasync', 'sync',
  'syncfs', 'sync_file_range', 'fallocate', 'fadvise', 'readahead', 'sendfile', 'copy_file_range', 'umask',
  'ioctl',
  // names and directories
  'chdir', 'fchdir', 'getcwd', 'mkdir', 'mkdirat', 'rmdir', 'rename', 'renameat', 'renameat2', 'link',
  'linkat', 'unlink', 'unlinkat', 'symlink', 'symlinkat', 'readlink', 'readlinkat', 'mknod', 'mknodat',
  'chmod', 'fchmod', 'fchmodat', 'chown', 'fchown', 'fchownat', 'lchown', 'utime', 'utimes', 'utimensat',
  'futimesat', 'setxattr', 'getxattr', 'listxattr', 'removexattr', 'fsetxattr', 'fgetxattr', 'flistxattr',
  'fremovexattr', 'lgetxattr', 'llistxattr', 'lremovexattr', 'realpath', 'nftw', 'pathconf', 'fpathconf',
  // memory
  'mmap', 'munmap', 'mprotect', 'mremap', 'msync', 'mincore', 'madvise', 'brk', 'sbrk', 'mlock', 'mlock2',
  'munlock', 'mlockall', 'munlockall', 'getpagesize', 'get_mempolicy', 'set_mempolicy', 'mbind', 'userfaultfd',
  // pipes, polling, splicing, futexes
  'pipe', 'pipe2', 'poll', 'ppoll', 'select', 'pselect', 'splice', 'tee', 'vmsplice', 'futex',
  // processes
  'fork', 'vfork', 'clone', 'clone3', 'execve', 'execl', 'execle', 'execlp', 'execv', 'execvp', 'execveat',
  'exit', 'exit_group', 'wait', 'wait4', 'waitpid', 'waitid', 'getpid', 'getppid', 'gettid', 'getpgid',
  'getpgrp', 'setpgid', 'setpgrp', 'getsid', 'setsid', 'set_tid_address', 'set_robust_list',
  'get_robust_list', 'prctl', 'arch_prctl', 'personality', 'uname', 'newuname', 'sysinfo', 'getrandom',
  'getcpu', 'sysconf', 'confstr', 'abort', 'syscall',
  // signals
  'kill', 'tkill', 'tgkill', 'signal', 'sigaction', 'rt_sigaction', 'sigprocmask', 'rt_sigprocmask',
  'sigpending', 'sigsuspend', 'rt_sigsuspend', 'sigtimedwait', 'rt_sigtimedwait', 'sigwait', 'sigwaitinfo',
  'rt_sigqueueinfo', 'rt_tgsigqueueinfo', 'sigaltstack', 'sighold', 'sigrelse', 'pause',
  // time and timers
  'alarm', 'getitimer', 'setitimer', 'nanosleep', 'clock_nanosleep', 'clock_gettime', 'clock_getres',
  'gettimeofday', 'time', 'times', 'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime',
  'timer_settime',
  // scheduling and resources
  'sched_yield', 'sched_getparam', 'sched_setparam', 'sched_getscheduler', 'sched_setscheduler',
  'sched_get_priority_max', 'sched_get_priority_min', 'sched_getaffinity', 'sched_setaffinity',
  'sched_getattr', 'sched_setattr', 'getpriority', 'setpriority', 'nice', 'ioprio', 'getrlimit',
  'setrlimit', 'ulimit', 'getrusage',
  // credentials
  'getuid', 'geteuid', 'getgid', 'getegid', 'setuid', 'setgid', 'setreuid', 'setregid', 'setresuid',
  'setresgid', 'getresuid', 'getresgid', 'setfsuid', 'setfsgid', 'getgroups', 'setgroups', 'capget', 'capset',
  // self-restriction
  'landlock',
  // keyrings
  'add_key', 'request_key', 'keyctl',
  // the new mount API (most need a block device, which the sandbox has not)
  'fsopen', 'fsconfig', 'fsmount', 'move_mount', 'open_tree', 'fspick', 'mount_setattr',
  // 6.8's calls (the release the sandbox reports since 2026-12-04)
  'listmount', 'statmount', 'lsm',
  // every other family the sandbox serves (2026-12-04): sockets (their
  // IPv4 cases pass natively only where the host's loopback has 127.0.0.1),
  // event descriptors, IPC, namespaces and mounts, pidfds, AIO, and the rest
  'socket', 'socketpair', 'bind', 'listen', 'accept', 'accept4', 'connect', 'getsockname', 'getpeername',
  'getsockopt', 'setsockopt', 'send', 'sendto', 'sendmsg', 'sendmmsg', 'recv', 'recvfrom', 'recvmsg',
  'recvmmsg', 'shutdown', 'sockioctl',
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_wait', 'epoll_pwait', 'eventfd', 'eventfd2',
  'inotify', 'inotify_init', 'signalfd', 'signalfd4', 'timerfd', 'memfd_create',
  'mq_open', 'mq_unlink', 'mq_notify', 'mq_timedsend', 'mq_timedreceive', 'msgget', 'msgctl', 'msgsnd',
  'msgrcv', 'semget', 'semctl', 'semop', 'shmget', 'shmat', 'shmdt', 'shmctl',
  'mount', 'umount', 'umount2', 'chroot', 'pivot_root', 'setns', 'unshare',
  'pidfd_open', 'pidfd_send_signal', 'pidfd_getfd', 'kcmp', 'ptrace', 'seccomp', 'membarrier',
  'io_setup', 'io_destroy', 'io_submit', 'io_getevents', 'io_pgetevents', 'io_cancel',
  'sched_rr_get_interval', 'gethostname', 'getdomainname', 'gethostid', 'cachestat', 'fchmodat2',
  'mseal', 'file_attr', 'name_to_handle_at', 'open_by_handle_at', 'cma', 'setegid', 'process_madvise',
  'migrate_pages', 'move_pages', 'pkeys', 'remap_file_pages', 'getcontext',
  // Left out: families that change the host when run natively as root
  // (sethostname, setdomainname, settimeofday, clock_settime, stime,
  // adjtimex, clock_adjtime, swapon, swapoff, acct, reboot, syslog's
  // clearing of the kernel log, init_module and the other module calls,
  // quotactl, ioperm, iopl), and the kernel interfaces the sandbox does not
  // offer (bpf, perf_event_open, io_uring, fanotify: ENOSYS, listed in
  // COMPATIBILITY.md).
];

// Tests that refuse to run on tmpfs (leases: they TCONF on tmpfs, NFS and
// ramfs by their own choice, though Linux's tmpfs has leases). The host's
// /tmp is a disk file system; the sandbox's /tmp is tmpfs, so in the sandbox
// they run in /var/tmp, on the root's overlay (its upper layer is the
// sandbox's memory: nothing reaches the host).
const NOT_ON_TMPFS = new Set(['fcntl24', 'fcntl24_64', 'fcntl25', 'fcntl25_64', 'fcntl26', 'fcntl26_64', 'fcntl32', 'fcntl32_64', 'fcntl33', 'fcntl33_64']);

// Tests of those families left out, and why.
const EXCLUDE = {
  fork13: 'forks a million processes: minutes natively',
  fork14: 'maps 16 TiB on purpose to test the host kernel',
  setrlimit05: 'asks for a core dump of the host',
  leapsec01: 'sets the host clock (adjtimex, settimeofday) when run natively',
};

const GIT_DEFAULT = '/work/.mirror/linux-test-project+ltp/repo';
const BUILD_DEBS = ['autoconf', 'automake', 'm4', 'pkg-config', 'make', 'gcc', 'bison', 'flex', 'libaio-dev',
  'libacl1-dev', 'libcap-dev', 'libnuma-dev', 'libattr1-dev'];

function sh(cmd, cwd) {
  const r = childProcess.spawnSync('sh', ['-c', cmd], { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${cmd}`);
}

// ltpTree returns a built LTP tree, building it into the cache when needed.
function ltpTree() {
  if (process.env.LTP_DIR) return process.env.LTP_DIR;
  const dir = path.join(os.homedir(), '.cache', 'tsvisor', 'ltp');
  if (fs.existsSync(path.join(dir, '.tsvisor-built'))) return dir;
  process.stderr.write(`building LTP in ${dir} (several minutes)\n`);
  if (process.getuid() === 0) sh(`apt-get install -y ${BUILD_DEBS.join(' ')} >/dev/null || (apt-get update && apt-get install -y ${BUILD_DEBS.join(' ')})`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  if (process.env.LTP_SRC) sh(`cp -a ${JSON.stringify(process.env.LTP_SRC)}/. .`, dir);
  else sh(`git --git-dir=${JSON.stringify(process.env.LTP_GIT || GIT_DEFAULT)} archive HEAD | tar x`, dir);
  sh('make autotools >/dev/null && ./configure >/dev/null', dir);
  sh(`make -C lib -j${os.cpus().length} >/dev/null && make -k -C testcases/kernel/syscalls -j${os.cpus().length} >/dev/null 2>&1 || true`, dir);
  fs.writeFileSync(path.join(dir, '.tsvisor-built'), '');
  return dir;
}

// kernelConfig gives the tests the host kernel's configuration (LTP reads
// /proc/config.gz, which the sandbox does not have) as a plain file, so
// that the tests that check for a feature go on to test it in the sandbox.
function kernelConfig(tree) {
  const file = path.join(tree, 'kconfig.txt');
  if (!fs.existsSync(file) && fs.existsSync('/proc/config.gz')) {
    fs.writeFileSync(file, zlib.gunzipSync(fs.readFileSync('/proc/config.gz')));
  }
  return fs.existsSync(file) ? { KCONFIG_PATH: file } : {};
}

// Sets of tests outside testcases/kernel/syscalls that SUITE_EXTRA_FAMILIES
// may name: their folders (under testcases/kernel) and runtest file.
const EXTRA_SETS = {
  hugetlb: { runtest: 'hugetlb', under: 'mem/hugetlb', folders: ['hugefallocate', 'hugefork', 'hugemmap', 'hugeshmat', 'hugeshmctl', 'hugeshmdt', 'hugeshmget'] },
};

// entries returns the chosen runtest/syscalls lines as {id, argv, family, dir}.
function entries(tree, only) {
  const sys = path.join(tree, 'testcases', 'kernel', 'syscalls');
  const where = new Map(); // program name -> its folder
  // SUITE_EXTRA_FAMILIES (comma-separated folders) adds families for one run, outside the counted set.
  const extra = (process.env.SUITE_EXTRA_FAMILIES || '').split(',').filter(Boolean);
  const folders = [...FAMILIES, ...extra.filter((f) => !EXTRA_SETS[f])].map((fam) => ({ fam, d: path.join(sys, fam) }));
  const runtests = ['syscalls'];
  for (const set of extra.filter((f) => EXTRA_SETS[f]).map((f) => EXTRA_SETS[f])) {
    runtests.push(set.runtest);
    for (const fam of set.folders) folders.push({ fam, d: path.join(tree, 'testcases', 'kernel', set.under, fam) });
  }
  for (const { fam, d } of folders) {
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d)) {
      const p = path.join(d, f);
      if (!f.includes('.') && fs.statSync(p).isFile() && fs.statSync(p).mode & 0o111) where.set(f, { fam, dir: d });
    }
  }
  const list = [];
  const seen = new Set();
  for (const rt of runtests) {
    for (const line of fs.readFileSync(path.join(tree, 'runtest', rt), 'utf8').split('\n')) {
      if (!line.trim() || line.startsWith('#')) continue;
      const [id, prog, ...args] = line.trim().split(/\s+/);
      const w = where.get(prog);
      if (!w || EXCLUDE[id] || seen.has(id) || (only.length && !only.includes(id))) continue;
      seen.add(id);
      list.push({ id, argv: [path.join(w.dir, prog), ...args], family: w.fam, dir: w.dir });
    }
  }
  return list;
}

// outcome reads an LTP run: exit 0 passes, 32 (TCONF only) is a skip,
// anything else fails with its first TFAIL/TBROK line as the reason.
function outcome(r) {
  const text = `${r.stdout}\n${r.stderr}`;
  const first = (re) => {
    const l = text.split('\n').find((x) => re.test(x));
    return l ? l.replace(/^\S+:\d+: /, '').trim().slice(0, 240) : '';
  };
  if (r.timedOut) return { status: 'fail', reason: `timed out after ${Math.round(r.ms / 1000)} s${first(/TFAIL|TBROK/) ? ` (${first(/TFAIL|TBROK/)})` : ''}` };
  if (r.signal) return { status: 'fail', reason: `killed by ${r.signal}` };
  if (r.status === 0) return { status: 'pass', reason: '' };
  if (r.status === 32) return { status: 'skip', reason: `TCONF: ${first(/TCONF/)}` };
  const why = first(/TFAIL|TBROK/) || first(/TWARN/) || `exit status ${r.status}`;
  return { status: 'fail', reason: why };
}

async function main() {
  const tree = ltpTree();
  const list = entries(tree, process.argv.slice(2));
  const timeoutMs = (Number(process.env.SUITE_TIMEOUT_S) || 120) * 1000;
  const jobs = Number(process.env.SUITE_JOBS) || 2;
  const kconfig = kernelConfig(tree);
  const tasks = [];
  for (const e of list) {
    for (const sandbox of [false, true]) {
      tasks.push(async () => {
        const tmp = sandbox && NOT_ON_TMPFS.has(e.id) ? '/var/tmp' : '/tmp';
        const env = { LTPROOT: tree, TMPDIR: tmp, LTP_TIMEOUT_MUL: '4', PATH: `${e.dir}:${baseEnv.PATH}`, ...kconfig };
        // Through a shell that waits for it: as the sandbox's first process
        // the test would be pid 1, and tst_test takes a parent pid of 1 for
        // a dead parent.
        const r = await run(['/bin/sh', '-c', '"$0" "$@"; exit $?', ...e.argv], { sandbox, timeoutMs, env, cwd: e.dir });
        const o = outcome(r);
        process.stderr.write(`${e.id} ${sandbox ? 'sandbox' : 'native'}: ${o.status} ${o.reason} (${r.ms} ms)\n`);
        return o;
      });
    }
  }
  const results = await pool(tasks, jobs);
  const byFamily = new Map();
  const raw = {};
  list.forEach((e, i) => {
    if (!byFamily.has(e.family)) byFamily.set(e.family, { native: new Map(), sandbox: new Map() });
    byFamily.get(e.family).native.set(e.id, results[2 * i]);
    byFamily.get(e.family).sandbox.set(e.id, results[2 * i + 1]);
    raw[e.id] = { family: e.family, argv: e.argv.slice(1), native: results[2 * i], sandbox: results[2 * i + 1] };
  });
  const groups = [...byFamily].map(([name, g]) => ({ name, ...compareRuns(g.native, g.sandbox, () => 'not run') }));
  if (process.env.SUITE_JSON) fs.writeFileSync(process.env.SUITE_JSON, JSON.stringify(raw, null, 1));
  const cmd = `node test/suites/ltp.js${process.argv.length > 2 ? ' ' + process.argv.slice(2).join(' ') : ''}`;
  process.stdout.write(markdown('Linux Test Project, system call tests', cmd, groups) + '\n');
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${e.stack || e}\n`);
    process.exit(1);
  });
}
