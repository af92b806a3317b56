'use strict';
// codecache: the kernel's code cache (dist/tsvisor.rest.js.cache, written by
// bin/tsvisor.js) holds the exec and system call paths whoever wrote it
// first. A cache written by a process that loaded no program (the runtime
// above a confined Sentry; a confined Sentry, which writes before its
// program runs) is marked partial (byte 16 of its stamp 0) and the first
// process that loads a program writes it again, whole (1); a whole cache is
// kept. Run in a copy of bin/ and the bundle in a temporary directory, so
// that the repository's caches stay as they are for the other tests.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const ROOT = path.resolve(__dirname, '..', '..');

/** A tree with bin/, the bundle's files (newer than dist/cli/main.js, as after a build) and the repository's node_modules. */
function treeCopy() {
  const t = h.tmpDir('codecache-');
  fs.cpSync(path.join(ROOT, 'bin'), path.join(t, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(t, 'dist', 'cli'), { recursive: true });
  fs.copyFileSync(path.join(ROOT, 'dist', 'cli', 'main.js'), path.join(t, 'dist', 'cli', 'main.js'));
  const later = new Date(Date.now() + 1000);
  for (const f of ['tsvisor.bundle.js', 'tsvisor.supervise.js', 'tsvisor.rest.js']) {
    fs.copyFileSync(path.join(ROOT, 'dist', f), path.join(t, 'dist', f));
    fs.utimesSync(path.join(t, 'dist', f), later, later);
  }
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(t, 'node_modules'));
  return t;
}

function run(t, flags) {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_TEST_CONTEXT;
  delete env.TSVISOR_CONFINE;
  const r = childProcess.spawnSync(process.execPath, [path.join(t, 'bin', 'tsvisor.js'), 'do', ...flags, '--', '/bin/true'], { env, encoding: 'utf8', timeout: 60_000 });
  assert.strictEqual(r.status, 0, `do ${flags.join(' ')}: ${r.stderr}`);
}

/** [size, whole] of the kernel's cache, or null. */
function kernelCache(t) {
  const file = path.join(t, 'dist', 'tsvisor.rest.js.cache');
  if (!fs.existsSync(file)) return null;
  const b = fs.readFileSync(file);
  return [b.length, b[16]];
}

test('codecache: a kernel cache written before any program ran is written again, whole, by the first process that loads one', { timeout: 180_000 }, (t) => {
  const tree = treeCopy();
  run(tree, ['--confine']);
  const partial = kernelCache(tree);
  if (partial === null) return t.skip('no cache written by a confined run here');
  assert.strictEqual(partial[1], 0, 'a confined run leaves a partial cache');
  run(tree, ['--confine']);
  assert.deepStrictEqual(kernelCache(tree), partial, 'another confined run keeps it');
  run(tree, ['--no-confine']);
  const whole = kernelCache(tree);
  assert.strictEqual(whole[1], 1, 'a run that loads a program writes it whole');
  assert.ok(whole[0] > partial[0], `the whole cache holds more: ${whole[0]} against ${partial[0]}`);
  const stamp = fs.statSync(path.join(tree, 'dist', 'tsvisor.rest.js.cache')).mtimeMs;
  run(tree, ['--no-confine']);
  run(tree, ['--confine']);
  assert.strictEqual(fs.statSync(path.join(tree, 'dist', 'tsvisor.rest.js.cache')).mtimeMs, stamp, 'a whole cache is kept');
});
