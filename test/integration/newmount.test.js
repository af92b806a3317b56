'use strict';
// The new mount API against a hostile caller: random fsopen, fsconfig,
// fsmount, move_mount, open_tree, fspick, mount_setattr and open_tree_attr
// calls (test/hostile/newmountfuzz.c) on a pool of descriptors, so detached
// trees are attached, moved, changed and dropped in every order: the Sentry
// reports no bug and the host's mount table does not change. The calls'
// answers are compared with Linux by test/c/newmount.c (c_programs).

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

test('hostile: random calls of the new mount API do not hurt the Sentry', { timeout: 240_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-newmountfuzz-');
  const bin = path.join(dir, 'newmountfuzz');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'newmountfuzz.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const before = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const log = path.join(dir, 'debug.log');
  const r = h.runSandbox([bin, '30'], { cwd: '/', flags: ['--debug-log', log], timeout: 200_000 });
  assert.strictEqual(r.status, 0, h.describe('newmountfuzz', r));
  assert.match(r.stdout, /^sentry alive$/m);
  // Every child ran its calls to the end (exit status 0): none was killed by a Sentry fault.
  assert.deepStrictEqual(r.stdout.match(/^round \d+: \d+$/gm), Array.from({ length: 30 }, (_, i) => `round ${i}: 0`));
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs hit by the new mount API');
  assert.strictEqual(fs.readFileSync('/proc/self/mountinfo', 'utf8'), before, 'the host mount table changed');
});
