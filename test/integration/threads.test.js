'use strict';
// Hostile programs against threads (test/hostile/threadbomb.c, unmaprace.c):
// a thread bomb stops at the limits (RLIMIT_NPROC counts threads, as on
// Linux; the sandbox's own task limit without one) and the process works on
// afterwards; a thread that keeps reading a page while another unmaps it
// faults once munmap has returned and never sees another process's bytes
// through a host mapping left behind. Nothing of the stubs survives.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const w = require('../lib/stubwatch');

function build(name) {
  const dir = h.tmpDir(`tsvisor-${name}-`);
  const bin = path.join(dir, name);
  const cc = childProcess.spawnSync('gcc', ['-O2', '-Wall', '-Werror', '-pthread', '-o', bin, path.join(__dirname, '..', 'hostile', `${name}.c`)], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  return bin;
}

test('a thread bomb under RLIMIT_NPROC stops at the limit, counting threads', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const r = await w.runWatched([build('threadbomb'), 'nproc'], { cwd: '/', timeout: 100_000 });
  assert.strictEqual(r.status, 0, `threadbomb: ${r.status} ${r.signal}\n${r.stderr.slice(-3000)}`);
  // 100 tasks of user 65534: the main thread and 99 more.
  assert.strictEqual(r.stdout, 'created 99 then Resource temporarily unavailable\na thread after the bomb: ok\nfork after the bomb: 7\n');
  assert.deepStrictEqual(r.leftovers, [], 'no stub process survives the sandbox');
});

test('a thread bomb stops at the sandbox\'s task limit (TSVISOR_LONG)', { timeout: 600_000 }, async (t) => {
  if (!process.env.TSVISOR_LONG) {
    t.skip('long: set TSVISOR_LONG=1');
    return;
  }
  if (!h.needTools(t, ['gcc'])) return;
  const r = await w.runWatched([build('threadbomb')], { cwd: '/', timeout: 550_000 });
  assert.strictEqual(r.status, 0, `threadbomb: ${r.status} ${r.signal}\n${r.stderr.slice(-3000)}`);
  const m = /^created (\d+) then Resource temporarily unavailable$/m.exec(r.stdout);
  assert.ok(m && Number(m[1]) < 4096 && Number(m[1]) > 1000, r.stdout);
  assert.match(r.stdout, /^a thread after the bomb: ok$/m);
  assert.deepStrictEqual(r.leftovers, [], 'no stub process survives the sandbox');
});

test('munmap reaches the host before it returns, while a sibling thread reads the page', { timeout: 180_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const r = await w.runWatched([build('unmaprace')], { cwd: '/', timeout: 150_000 });
  assert.strictEqual(r.status, 0, `unmaprace: ${r.status} ${r.signal}\n${r.stderr.slice(-3000)}`);
  assert.strictEqual(r.stdout, 'rounds 100 leaked 0 late reads 0\n');
  assert.deepStrictEqual(r.leftovers, [], 'no stub process survives the sandbox');
});

test('an ended thread\'s host thread carries the next one: no state crosses, and no stub survives', { timeout: 180_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().threadreuse.dynamic;
  const file = path.join(h.tmpDir(), 'stats.json');
  const r = await w.runWatched([bin], { cwd: '/', timeout: 150_000, flags: ['--stats', file] });
  assert.strictEqual(r.status, 0, `threadreuse: ${r.status} ${r.signal}\n${r.stderr.slice(-3000)}`);
  assert.strictEqual(r.stdout, '40 threads in turn and a pair: 0 with state left over\ndone\n');
  // 43 threads ended one at a time or two at once: all but the first creations took a parked host thread.
  const stats = JSON.parse(require('node:fs').readFileSync(file, 'utf8'));
  // Parking host threads is the ptrace platform's; systrap reuses the threads' areas, not their host threads.
  if (h.platformUnderTest() !== 'systrap') assert.ok(stats.threadsReused >= 40, JSON.stringify(stats));
  assert.deepStrictEqual(r.leftovers, [], 'no stub process survives the sandbox');
});

test('an ended process\'s stub carries the next fork: no memory, register or mapping crosses, and no stub survives', { timeout: 180_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().stubreuse.dynamic;
  const file = path.join(h.tmpDir(), 'stats.json');
  const r = await w.runWatched([bin], { cwd: '/', timeout: 150_000, flags: ['--stats', file] });
  assert.strictEqual(r.status, 0, `stubreuse: ${r.status} ${r.signal}\n${r.stderr.slice(-3000)}`);
  assert.strictEqual(r.stdout, 'rounds with a clean next process: 6 of 6\n');
  const stats = JSON.parse(require('node:fs').readFileSync(file, 'utf8'));
  // Three of the six hostile children ended with one thread: their stubs were emptied and taken by the next fork (both platforms).
  assert.ok(stats.stubsReused >= 3, JSON.stringify(stats));
  assert.deepStrictEqual(r.leftovers, [], 'no stub process survives the sandbox');
});
