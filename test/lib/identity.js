'use strict';
// identity: checks of what rawsyscall (test/c/rawsyscall.c) reports about the
// kernel it runs on: the host's own values natively, a consistent Linux
// identity in the sandbox.

const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');

// parse turns "key=value" lines into an object (other lines are ignored).
function parse(stdout) {
  const out = {};
  for (const line of stdout.split('\n')) {
    const m = /^([A-Za-z0-9_-]+)=(.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

// Keys whose value is a property of the kernel, not of the program.
const IDENTITY_KEYS = ['nodename', 'release', 'version', 'proc_version'];
// Keys that may legitimately differ between host and sandbox for other
// reasons: the credentials and umask the sandbox gives its first process.
const FREE_KEYS = ['uid', 'umask_old', 'pid_is_1', 'ppid_is_0'];

// checkNative asserts that rawsyscall's native output describes this host.
function checkNative(stdout) {
  const kv = parse(stdout);
  assert.strictEqual(kv.sysname, os.type());
  assert.strictEqual(kv.release, os.release());
  assert.strictEqual(kv.machine, os.machine());
  assert.strictEqual(kv.nodename, os.hostname());
  assert.strictEqual(kv.version, os.version());
  const procVersion = fs.readFileSync('/proc/version', 'utf8').split('\n')[0];
  assert.strictEqual(kv.proc_version, procVersion);
  checkCommon(kv);
  return kv;
}

// checkSandbox asserts that rawsyscall's output in the sandbox (run with
// SANDBOX=1) shows the sandbox's identity, and agrees with the native run on
// everything that is not identity.
function checkSandbox(stdout, nativeStdout) {
  const kv = parse(stdout);
  const native = parse(nativeStdout);
  assert.strictEqual(kv.pid_is_1, 'yes', 'the first process of a sandbox is pid 1');
  assert.strictEqual(kv.ppid_is_0, 'yes', 'the first process of a sandbox has parent 0');
  assert.strictEqual(kv.sysname, 'Linux');
  assert.strictEqual(kv.machine, 'x86_64');
  assert.match(kv.release || '', /^\d+\.\d+\.\d+/, 'uname release looks like a Linux version');
  assert.ok((kv.version || '').startsWith('#'), `uname version starts with #: ${kv.version}`);
  assert.ok((kv.nodename || '').length > 0, 'uname nodename is set');
  assert.ok(
    (kv.proc_version || '').startsWith(`Linux version ${kv.release} `),
    `/proc/version names the uname release: ${kv.proc_version}`,
  );
  assert.ok(
    (kv.proc_version || '').includes(kv.version),
    `/proc/version contains the uname version: ${kv.proc_version}`,
  );
  assert.strictEqual(kv.proc_version_ends_with_newline, 'yes');
  assert.match(kv.uid || '', /^\d+ euid=\d+ gid=\d+ egid=\d+$/);
  checkCommon(kv);
  for (const key of Object.keys(native)) {
    if (IDENTITY_KEYS.includes(key) || FREE_KEYS.includes(key)) continue;
    assert.strictEqual(kv[key], native[key], `${key} differs from the native run`);
  }
  for (const key of Object.keys(kv)) {
    if (FREE_KEYS.includes(key)) continue;
    assert.ok(key in native, `unexpected key ${key} in the sandbox output`);
  }
  return kv;
}

function checkCommon(kv) {
  assert.strictEqual(kv.raw_write_returned, '20');
  assert.strictEqual(kv.tid_eq_pid, 'yes');
  assert.strictEqual(kv.unknown_syscall_1000, '-1 ENOSYS');
  assert.strictEqual(kv.write_bad_pointer, '-1 EFAULT');
}

module.exports = { parse, checkNative, checkSandbox, IDENTITY_KEYS, FREE_KEYS };
