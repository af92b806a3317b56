'use strict';
// hugetlb: a hostile program (test/hostile/hugetlb.c, only ever run in the
// sandbox) asks a 64 MiB sandbox for a vast huge page pool, reserves it with
// small MAP_HUGETLB mappings and overcommits it with MAP_NORESERVE. The
// pool stops at the memory limit, reservations at the pool, touches past it
// are SIGBUS, and everything comes back. test/c/hugetlb.c (compared with
// native by c_programs.test.js) covers the semantics. The same for
// hugetlbfs files (test/hostile/hugetlbfs.c; test/c/hugetlbfs.c compares
// the semantics with native).

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

/** Build test/hostile/NAME.c, run it in a 64 MiB sandbox, check its output and that it hit no Sentry bug. */
function runHostile(name, expected) {
  const dir = h.tmpDir(`tsvisor-${name}-`);
  const bin = path.join(dir, name);
  const cc = childProcess.spawnSync('gcc', ['-O2', '-Wall', '-Werror', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', `${name}.c`)], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const log = path.join(dir, 'debug.log');
  const r = h.runSandbox([bin], { cwd: '/', flags: ['--memory', '64m', '--debug-log', log], timeout: 50_000 });
  assert.strictEqual(r.status, 0, h.describe(`${name} hostile`, r));
  assert.strictEqual(r.stdout, [...expected, ''].join('\n'));
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs hit by the hostile program');
}

test('a hostile huge page program is bounded by the sandbox memory limit', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  runHostile('hugetlb', [
    'vast pool: 0',
    'pool bounded by memory: 1, some pages: 1',
    'MemFree nearly none: 1',
    'back to 0: 0, total 0, MemFree back: 1',
    'small mappings: 8, then ENOMEM, Rsvd 8',
    'unmapped: Rsvd 0 Free 8',
    'noreserve GiB mappings: 1000',
    'touch 64 GiB: SIGBUS',
    'after: Free 8 Rsvd 0',
    'released: 0 Total 0',
    'done',
  ]);
});

test('a hostile hugetlbfs program (thousands of files, vast sizes, truncation under mappings) is bounded and leaks nothing', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  runHostile('hugetlbfs', [
    'mount: 0',
    'files: 5000, mapped: 8, Free 0 Rsvd 0',
    'unlinked: Free 8 Rsvd 0',
    'ftruncate 2^46: 0',
    'map 64 TiB: Cannot allocate memory',
    'private 64 TiB: Cannot allocate memory',
    'fallocate 2^50: No space left on device',
    'after: Free 0',
    'punch 2^62: 0',
    'punched: Free 8',
    'noreserve touch: SIGBUS',
    'pages kept by the file: Free 0',
    'truncated under mappings: 1000 SIGBUS, Free 8 Rsvd 0',
    'umount: 0',
    'min_size mounts: 200, Rsvd 0',
    'pool 0: 0, Total 0',
    'done',
  ]);
});
