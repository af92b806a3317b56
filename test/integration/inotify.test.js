'use strict';
// inotify beyond the C program (test/c/inotify.c, in c_programs.test.js):
// GNU tail -F follows a file that another process appends to, rotates and
// grows, and node's fs.watch sees a directory change, as natively; a hostile program making instances and watches in
// loops and flooding queues (test/hostile/inotifyflood.c) meets Linux's
// limits and the sandbox's kernel memory budget, and the Sentry carries on.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

test('tail -F follows appends and a rotation through inotify, as natively', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['tail', 'sh'])) return;
  const script = path.join(__dirname, 'inotify', 'tailf.sh');
  const { native } = h.compare(t, ['/bin/sh', script], { expectStatus: 0 });
  assert.match(native.stdout, /^tail's inotify descriptors: 1$/m);
  assert.match(native.stdout, /^five$/m);
});

test('node fs.watch sees a directory change as natively', { timeout: 120_000 }, (t) => {
  // Through a pipe of the sandbox: node writing to the socket the harness gives as stdout loses its output in the sandbox (not an inotify matter).
  const { native } = h.compare(t, ['/bin/sh', '-c', `"${process.execPath}" "${path.join(__dirname, 'inotify', 'fswatch.js')}" | cat`], { expectStatus: 0 });
  assert.match(native.stdout, /^rename sub$/m);
});

test('watched host files under the overlay root: unlink, rename over, append and rmdir report as natively', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().inotify.dynamic;
  const setup = () => {
    const dir = h.tmpDir('tsvisor-inotify-host-');
    h.writeTree(dir, { pre1: 'one\n', pre2: 'two\n', pre3: 'three\n', pre4: 'four\n', predir: { dir: true } });
    return dir;
  };
  const { native } = h.compare(t, (dir) => [bin, dir, 'existing'], { setup, expectStatus: 0 });
  assert.match(native.stdout, /DELETE_SELF/);
  assert.match(native.stdout, /^done$/m);
});

test('inotify limits: EMFILE, ENOSPC, IN_Q_OVERFLOW at the queue limit and at the memory budget', { timeout: 240_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-inotifyflood-');
  const bin = path.join(dir, 'inotifyflood');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'inotifyflood.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const log = path.join(dir, 'debug.log');
  fs.mkdirSync(path.join(dir, 'work'));
  const r = h.runSandbox([bin, path.join(dir, 'work')], { cwd: '/', flags: ['--memory', '64m', '--debug-log', log], timeout: 200_000 });
  assert.strictEqual(r.status, 0, h.describe('inotifyflood', r));
  const out = r.stdout;
  assert.match(out, /^limits: instances 128 watches 8192 queued 16384$/m);
  assert.match(out, /^instances: 128, then EMFILE$/m);
  assert.match(out, /^watches: 8192, then ENOSPC$/m);
  assert.match(out, /^re-adding a watched file 100000 times: 100000 gave wd 1$/m);
  assert.strictEqual((out.match(/^after closing them: (init|watch) ok$/gm) || []).length, 2, out);
  // Every removal queued IN_IGNORED: the queue held max_queued_events, then one IN_Q_OVERFLOW.
  assert.match(out, /^add\+rm 100000 times: 100000 worked, 16384 events read \(max 16384\), overflow 1$/m);
  // 100 queues of 250-byte names outgrow the 16 MiB budget long before 16384 events each.
  assert.match(out, /^flood: \d+ renames, 100 of 100 queues overflowed$/m);
  assert.match(out, /^flood: most events in one queue: \d+ \(below max_queued_events\)$/m);
  assert.match(out, /^after draining: 200 events$/m);
  assert.match(out, /^random: 20000 calls$/m);
  assert.match(out, /^alive$/m);
  const text = fs.readFileSync(log, 'utf8');
  assert.deepStrictEqual(text.split('\n').filter((l) => l.includes('BUG')), [], 'Sentry bugs');
  const m = /kernel objects peak (\d+) kB of (\d+) kB/.exec(text);
  assert.ok(m, 'the debug log reports the kernel object budget');
  assert.ok(Number(m[1]) <= Number(m[2]), `charged ${m[1]} kB within the ${m[2]} kB budget`);
});
