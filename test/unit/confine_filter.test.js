'use strict';
// The confined Sentry's seccomp filter (sandbox/confine_filter.ts), run by a
// classic-BPF interpreter: what Node and the Sentry need passes, the calls a
// compromised Sentry would reach for kill it, arguments are checked.
const test = require('node:test');
const assert = require('node:assert/strict');
const { runFilter, X86_64 } = require('../lib/bpf');
const { sentryFilter, SENTRY_ALLOWED } = require('../../dist/sandbox/confine_filter.js');

const ALLOW = 0x7fff0000;
const KILL = 0x80000000;
const ENOSYS = 0x00050000 | 38;

const run = (prog, nr, args = [], arch = X86_64) => runFilter(prog, nr, args, arch);

const inet = sentryFilter('inet');
const none = sentryFilter('none');
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
