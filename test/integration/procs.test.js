'use strict';
// procs: process features whose privileged paths the host cannot show (its
// bounding set lacks CAP_SYS_RESOURCE), run in a sandbox whose first process
// holds every capability; and hostile programs filling what the Sentry keeps
// per process.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const w = require('../lib/stubwatch');
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

test('AIO contexts, AIO transfers and pidfds are bounded: Linux errors when full, the sandbox goes on', { timeout: 240_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-procres-');
  const bin = path.join(dir, 'procres');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-o', bin, path.join(__dirname, '..', 'hostile', 'procres.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const log = path.join(dir, 'debug.log');
  const r = await w.runWatched([bin], { cwd: '/', flags: ['--debug-log', log], timeout: 200_000 });
  assert.strictEqual(r.status, 0, `procres: ${r.status} ${r.signal}\n${r.stderr.slice(-3000)}`);
  assert.strictEqual(r.stdout, [
    'aio contexts: 1024, then EAGAIN', // 1024 * 64 = aio-max-nr
    'another process: 0, then EAGAIN', // the limit is the sandbox's
    'after io_destroy: 1024',
    'after an exit holding them: 1024',
    'huge write: submitted 1, 1 event, wrote 64 MiB', // one request moves at most 64 MiB, as read/write
    'huge read: submitted 1, 1 event, read 64 MiB',
    'pidfds: 19997, then EMFILE',
    'pidfds of reaped children: 2000',
    'sentry alive', '',
  ].join('\n'));
  assert.deepStrictEqual(r.leftovers, [], 'no stub process survives the sandbox');
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, []);
});
