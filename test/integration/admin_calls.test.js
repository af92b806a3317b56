'use strict';
// admin_calls: what cannot be compared with a native run of test/c/settime.c
// (a native root would really set the clock or read the host's log). In the
// sandbox, even with CAP_SYS_TIME, every change of the time is EPERM, and
// syslog(2) reads the sandbox's own log: one boot line, SYSLOG_ACTION_READ
// consuming it (and waiting, interruptibly, once nothing is unread),
// READ_CLEAR and CLEAR emptying what READ_ALL returns.

const assert = require('node:assert');
const { test } = require('node:test');
const h = require('../lib/harness');

test('settime own: the sandbox never sets the time and has its own kernel log', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().settime.dynamic;
  const r = h.runSandbox([bin, 'own'], { env: { SANDBOX: '1' } });
  assert.strictEqual(r.status, 0, h.describe('sandbox', r));
  const lines = r.stdout.split('\n');
  assert.strictEqual(lines[0], 'log: tsvisor: the sandbox kernel started');
  for (const call of ['clock_settime REALTIME', 'settimeofday', 'settimeofday tz', 'adjtimex OFFSET']) {
    assert.ok(lines.includes(`${call} with CAP_SYS_TIME: -1 EPERM`), `${call} refused:\n${r.stdout}`);
  }
  const expected = [
    'adjtimex read: 5 status 0x40 maxerror 16000000',
    'size buffer 131072',
    'read 5: 5',
    '  "<6>[ "',
    'read rest: 49, whole line yes',
    'size unread 0',
    'read with nothing unread (blocks until SIGALRM): -1 EINTR',
    'read all, small buffer: 0',
    'read all: 54',
    'read and clear: 54',
    'read all after clear: 0',
    'console level 4: 0',
    'console off: 0',
    'clear: 0',
    'done',
  ];
  for (const line of expected) assert.ok(lines.includes(line), `missing "${line}" in:\n${r.stdout}`);
});
