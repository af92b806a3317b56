'use strict';
// Terminals made inside the sandbox: a python3 driver opens a pty with
// pty.fork (openpty, setsid, TIOCSCTTY) and runs an interactive bash on it,
// with job control (a background job, jobs, fg, ^C, ^Z). The transcript the
// driver reads from the master, and the shell's status, must equal a native
// run of the same driver. The C programs test/c/pty.c and ptyjob.c (run by
// c_programs.test.js) cover the pieces one by one.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const DRIVER = path.join(__dirname, 'pty', 'jobs.py');

test('interactive bash with job control on a sandbox pty matches native', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['python3', 'bash'])) return;
  h.compare(t, ['/usr/bin/python3', DRIVER], { setup: () => h.tmpDir('tsvisor-pty-'), expectStatus: 0 });
});

// `tsvisor do` started from a terminal (the driver's pty is the caller's
// terminal): the sandbox's terminal behaves like it, so job control in an
// interactive shell works as natively (^C and ^Z reach the foreground job,
// not the shell).
for (const platform of ['ptrace', 'systrap']) {
  test(`interactive bash in tsvisor do (${platform}) on the caller's terminal matches native`, { timeout: 180_000 }, (t) => {
    if (!h.needTools(t, ['python3', 'bash'])) return;
    const native = h.runNative(['/usr/bin/python3', DRIVER], { cwd: h.tmpDir('tsvisor-pty-') });
    assert.strictEqual(native.status, 0, h.describe('native', native) + native.stdout);
    // `node bin/tsvisor.js do --platform P --`, the program's environment the driver's own.
    const tsvisor = [process.execPath, ...h.sandboxArgs([], { rawEnv: true, flags: ['--platform', platform] })];
    const sandboxed = h.runNative(['/usr/bin/python3', DRIVER, ...tsvisor], { cwd: h.tmpDir('tsvisor-pty-') });
    if (/systrap platform unavailable/.test(sandboxed.stderr)) return t.skip('systrap is not available on this host');
    assert.strictEqual(sandboxed.stdout, native.stdout, sandboxed.stderr);
    assert.strictEqual(sandboxed.status, 0);
  });
}

// test/hostile/ptyflood.c: line-editing floods whose echoes nobody reads,
// output and input nobody reads, bad pointers and flags to the pty ioctls,
// pairs opened until something refuses. Only ever run inside the sandbox.
test('hostile pty use gets errnos and bounded buffers, never a Sentry bug', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-ptyflood-');
  const bin = path.join(dir, 'ptyflood');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'ptyflood.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const log = path.join(dir, 'debug.log');
  const r = h.runSandbox([bin], { cwd: dir, flags: ['--debug-log', log] });
  assert.strictEqual(r.status, 0, h.describe('sandbox', r));
  assert.match(r.stdout, /^edit flood: written 4194304, master holds \d+ \(bounded: 1\)$/m);
  assert.match(r.stdout, /^output flood: Resource temporarily unavailable after \d+ bytes \(bounded: 1\)$/m);
  assert.match(r.stdout, /^input flood: Resource temporarily unavailable after \d+ bytes \(bounded: 1\)$/m);
  for (const call of ['TCGETS bad pointer', 'TCSETS bad pointer', 'TIOCSWINSZ NULL', 'TIOCGPTN bad pointer']) {
    assert.match(r.stdout, new RegExp(`^${call}: -1 Bad address$`, 'm'));
  }
  assert.match(r.stdout, /^TIOCGPTPEER bad flags: -1 Invalid argument$/m);
  assert.match(r.stdout, /^TCFLSH bad: -1 Invalid argument$/m);
  assert.match(r.stdout, /^pairs: \d+, then (Cannot allocate memory|No space left on device|Too many open files)$/m);
  assert.match(r.stdout, /^sentry alive$/m);
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs hit by hostile pty use');
});
