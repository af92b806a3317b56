'use strict';
// fdattack: hostile arguments for the descriptor and transfer paths (offsets
// past 2^63, lengths near 2^64, iovecs at and past the top of user space,
// counts past INT_MAX, overflowing lock ranges, O_PATH descriptors
// everywhere) never crash the Sentry nor hit one of its bugs, leave no stub
// process behind, and do not change the host file the program was given.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const w = require('../lib/stubwatch');

test('hostile transfer arguments do not crash the Sentry', { timeout: 240_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-fdattack-');
  const bin = path.join(dir, 'fdattack');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'fdattack.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'host data\n');
  const before = fs.statSync(victim);
  const log = path.join(dir, 'debug.log');
  const r = await w.runWatched([bin, victim], { cwd: '/', flags: ['--debug-log', log], timeout: 200_000 });
  assert.strictEqual(r.status, 0, `fdattack: ${r.status} ${r.signal}\n${r.stderr.slice(-3000)}`);
  assert.match(r.stdout, /^sentry alive$/m);
  assert.deepStrictEqual(r.leftovers, [], 'no stub process survives the sandbox');
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs hit by hostile transfer arguments');
  const after = fs.statSync(victim);
  assert.strictEqual(fs.readFileSync(victim, 'utf8'), 'host data\n');
  assert.strictEqual(after.mtimeMs, before.mtimeMs);
  assert.strictEqual(after.mode, before.mode);
  assert.strictEqual(after.uid, before.uid);
});
