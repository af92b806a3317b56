'use strict';
// A hostile program: random system calls with random arguments must never
// crash the Sentry or hit one of its bugs (an exception that is not an
// errno is logged as "BUG" in the debug log). The program is built here and
// only ever run inside the sandbox. Half of its rounds also aim mapping
// calls (mmap, MAP_FIXED, mremap MAYMOVE/FIXED, brk, mprotect, munmap,
// madvise) at the stub's pages and the top of user memory; afterwards no
// process of the stubs' group may remain on the host.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const w = require('../lib/stubwatch');

test('random system calls do not crash the Sentry', { timeout: 240_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-fuzz-');
  const bin = path.join(dir, 'fuzz');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'fuzz.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const log = path.join(dir, 'debug.log');
  const r = await w.runWatched([bin, '25'], { cwd: '/', flags: ['--debug-log', log], timeout: 200_000 });
  assert.strictEqual(r.status, 0, `fuzz: ${r.status} ${r.signal}\n${r.stderr.slice(-3000)}`);
  assert.ok(r.pgid > 1, 'the stubs were seen');
  assert.deepStrictEqual(r.leftovers, [], 'no stub process survives the sandbox');
  assert.match(r.stdout, /^sentry alive$/m);
  assert.strictEqual((r.stdout.match(/^round \d+: /gm) || []).length, 25);
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs hit by random system calls');
});
