'use strict';
// procs: process features whose privileged paths the host cannot show (its
// bounding set lacks CAP_SYS_RESOURCE), run in a sandbox whose first process
// holds every capability; and hostile programs filling what the Sentry keeps
// per process.

const assert = require('node:assert');
const { test } = require('node:test');
const h = require('../lib/harness');
const { runWithHostInfo } = require('../lib/fakehost');

test('PR_SET_MM with CAP_SYS_RESOURCE moves the argument area', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().prctlopts.static;
  const out = runWithHostInfo({ capBounding: null }, [bin]);
  for (const line of [
    'mm map size: OK 104', 'mm extra arg: EINVAL', 'mm low address: EINVAL', 'mm bad option: EINVAL', 'mm unprivileged: EPERM',
    'mm arg start: OK', 'mm arg end: OK', 'after PR_SET_MM cmdline:hello|world|', 'mm end before start: EINVAL',
  ]) {
    assert.ok(out.split('\n').includes(line), `missing "${line}" in:\n${out}`);
  }
});
