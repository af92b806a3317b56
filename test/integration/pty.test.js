'use strict';
// Terminals made inside the sandbox: a python3 driver opens a pty with
// pty.fork (openpty, setsid, TIOCSCTTY) and runs an interactive bash on it,
// with job control (a background job, jobs, fg, ^C, ^Z). The transcript the
// driver reads from the master, and the shell's status, must equal a native
// run of the same driver. The C programs test/c/pty.c and ptyjob.c (run by
// c_programs.test.js) cover the pieces one by one.

const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const DRIVER = path.join(__dirname, 'pty', 'jobs.py');

test('interactive bash with job control on a sandbox pty matches native', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['python3', 'bash'])) return;
  h.compare(t, ['/usr/bin/python3', DRIVER], { setup: () => h.tmpDir('tsvisor-pty-'), expectStatus: 0 });
});
