'use strict';
// The confined Sentry's seccomp filter (sandbox/confine_filter.ts), run by a
// classic-BPF interpreter: what Node and the Sentry need passes, the calls a
// compromised Sentry would reach for kill it, arguments are checked.
const test = require('node:test');
const assert = require('node:assert/strict');
const { runFilter, X86_64 } = require('../lib/bpf');
const { sentryFilter, SENTRY_ALLOWED, HOST_WRITE_RULES, HOST_WATCH_RULES } = require('../../dist/sandbox/confine_filter.js');

const ALLOW = 0x7fff0000;
const KILL = 0x80000000;
const ENOSYS = 0x00050000 | 38;

const run = (prog, nr, args = [], arch = X86_64) => runFilter(prog, nr, args, arch);

const inet = sentryFilter('inet', true, true);
const none = sentryFilter('none', true, true);
/** A Sentry that changes no host file itself (it has no read-write bind). */
const readOnly = sentryFilter('inet', false, true);
/** A Sentry with the Gofer: it changes and watches no host file itself. */
const withGofer = sentryFilter('inet', false, false);
const O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_TRUNC = 0o1000, O_TMPFILE = 0o20200000, O_PATH = 0o10000000, O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000, O_NOFOLLOW = 0o400000, O_NONBLOCK = 0o4000, O_APPEND = 0o2000;
const AF_UNIX = 1, AF_INET = 2, AF_INET6 = 10, AF_NETLINK = 16, AF_PACKET = 17;

test('what Node, libuv, V8 and the Sentry use passes', () => {
  for (const r of SENTRY_ALLOWED.filter((x) => !x.check)) assert.equal(run(inet, r.nr, [0, 0, 0]), ALLOW, r.name);
  assert.equal(run(inet, 56, [0x3d0f00]), ALLOW, "glibc's pthread_create clone");
  assert.equal(run(inet, 435, [0, 88]), ENOSYS, 'clone3: ENOSYS, so glibc uses clone');
  assert.equal(run(inet, 101, [7, 5, 0, 0]), ALLOW, 'PTRACE_CONT of a stub');
  assert.equal(run(inet, 101, [0x420e, 5, 88, 0]), ALLOW, 'PTRACE_GET_SYSCALL_INFO');
  for (const af of [AF_UNIX, AF_INET, AF_INET6, AF_NETLINK]) assert.equal(run(inet, 41, [af, 1, 0]), ALLOW, `socket(${af}) with host networking`);
  assert.equal(run(none, 41, [AF_UNIX, 1, 0]), ALLOW);
  assert.equal(run(inet, 53, [AF_UNIX, 1, 0, 0]), ALLOW, 'socketpair(AF_UNIX)');
});

test('what a compromised Sentry reaches for kills it', () => {
  const names = { 2: 'open', 59: 'execve', 322: 'execveat', 57: 'fork', 58: 'vfork', 165: 'mount', 166: 'umount2', 155: 'pivot_root', 161: 'chroot',
    272: 'unshare', 308: 'setns', 321: 'bpf', 246: 'kexec_load', 175: 'init_module', 313: 'finit_module', 298: 'perf_event_open', 323: 'userfaultfd',
    437: 'openat2', 304: 'open_by_handle_at', 303: 'name_to_handle_at', 105: 'setuid', 126: 'capset', 317: 'seccomp', 250: 'keyctl', 248: 'add_key',
    83: 'mkdir', 87: 'unlink', 82: 'rename', 90: 'chmod', 92: 'chown', 133: 'mknod', 88: 'symlink', 86: 'link', 169: 'reboot', 167: 'swapon', 1310: 'none' };
  for (const [nr, name] of Object.entries(names)) assert.equal(run(inet, Number(nr), [0, 0, 0]), KILL, name);
  for (const af of [AF_INET, AF_INET6, AF_NETLINK, AF_PACKET]) assert.equal(run(none, 41, [af, 1, 0]), KILL, `socket(${af}) without host networking`);
  assert.equal(run(inet, 41, [AF_PACKET, 3, 0]), KILL, 'AF_PACKET');
  assert.equal(run(inet, 53, [AF_INET, 1, 0, 0]), KILL, 'socketpair of another family');
  assert.equal(run(inet, 56, [17]), KILL, 'clone of a process (fork)');
  assert.equal(run(inet, 56, [0x10000 | 0x10000000]), KILL, 'a thread in a new user namespace');
  assert.equal(run(inet, 101, [16, 1, 0, 0]), KILL, 'PTRACE_ATTACH');
  assert.equal(run(inet, 101, [0x4206, 1, 0, 0]), KILL, 'PTRACE_SEIZE');
  assert.equal(run(inet, 101, [0, 0, 0, 0]), KILL, 'PTRACE_TRACEME');
  assert.equal(run(inet, 0, [0, 0, 0], 0x40000003), KILL, 'i386');
  assert.equal(run(inet, 0x40000000 | 1, [0, 0, 0]), KILL, 'x32');
});

test('a Sentry that writes no host file: openat for reading only, no call that changes a file', () => {
  for (const r of SENTRY_ALLOWED.filter((x) => !x.check)) assert.equal(run(readOnly, r.nr, [0, 0, 0]), ALLOW, r.name);
  for (const fl of [0, O_PATH | O_NOFOLLOW | O_CLOEXEC, O_DIRECTORY | O_CLOEXEC, O_NONBLOCK, O_APPEND]) {
    assert.equal(run(readOnly, 257, [-100, 0, fl]), ALLOW, `openat(${fl.toString(8)})`);
  }
  for (const fl of [O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_TMPFILE | O_RDWR, O_RDWR | O_NONBLOCK | O_CLOEXEC, O_WRONLY | O_CREAT | O_TRUNC]) {
    assert.equal(run(readOnly, 257, [-100, 0, fl]), KILL, `openat(${fl.toString(8)})`);
    assert.equal(run(inet, 257, [-100, 0, fl]), ALLOW, `openat(${fl.toString(8)}) by a host-writing Sentry`);
  }
  // flags is an int: the kernel does not look at the upper half, nor does the filter (bits only there open for reading).
  assert.equal(run(readOnly, 257, [-100, 0, 2 ** 32 + O_RDWR]), KILL);
  assert.equal(run(readOnly, 257, [-100, 0, 2 ** 32]), ALLOW);
  for (const r of HOST_WRITE_RULES.filter((x) => x.nr !== 257)) {
    assert.equal(run(readOnly, r.nr, [0, 0, 0]), KILL, r.name);
    assert.equal(run(inet, r.nr, [0, 0, 0]), ALLOW, `${r.name} by a host-writing Sentry`);
  }
  for (const [nr, name] of [[85, 'creat'], [76, 'truncate'], [132, 'utime'], [235, 'utimes'], [94, 'lchown'], [188, 'setxattr'], [189, 'lsetxattr'], [197, 'removexattr']]) {
    assert.equal(run(readOnly, nr, [0, 0, 0]), KILL, name);
  }
});

test('host inotify watches: the Sentry\'s own only without the Gofer, which makes them for a Sentry with one', () => {
  for (const r of HOST_WATCH_RULES) {
    assert.equal(run(inet, r.nr, [0, 0, 0]), ALLOW, r.name);
    assert.equal(run(readOnly, r.nr, [0, 0, 0]), ALLOW, `${r.name} by a read-only Sentry serving its own files`);
    assert.equal(run(withGofer, r.nr, [0, 0, 0]), KILL, `${r.name} with the Gofer`);
  }
  // Reading the donated inotify descriptor is a plain read.
  assert.equal(run(withGofer, 0, [5, 0, 4096]), ALLOW, 'read');
  for (const r of SENTRY_ALLOWED.filter((x) => !x.check)) assert.equal(run(withGofer, r.nr, [0, 0, 0]), ALLOW, r.name);
});
