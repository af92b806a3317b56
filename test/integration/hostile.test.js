'use strict';
// A hostile program: random system calls with random arguments must never
// crash the Sentry or hit one of its bugs (an exception that is not an
// errno is logged as "BUG" in the debug log). The program is built here and
// only ever run inside the sandbox.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

test('random system calls do not crash the Sentry', { timeout: 240_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-fuzz-');
  const bin = path.join(dir, 'fuzz');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'fuzz.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const log = path.join(dir, 'debug.log');
  const r = h.runSandbox([bin, '25'], { cwd: '/', flags: ['--debug-log', log], timeout: 200_000 });
  assert.strictEqual(r.status, 0, h.describe('fuzz', r));
  assert.match(r.stdout, /^sentry alive$/m);
  assert.strictEqual((r.stdout.match(/^round \d+: /gm) || []).length, 25);
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs hit by random system calls');
});
