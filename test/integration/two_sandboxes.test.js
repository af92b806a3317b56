'use strict';
// two_sandboxes: two sandboxes in one Node process run at the same time and
// share nothing. Each is a `new Sandbox(...)` with its own platform, memory
// file, mount namespace and kernel; their loops take turns on the one
// JavaScript thread (platform/thread.ts). test/c/twobox.c is the workload:
// futexes at the same addresses in MAP_SHARED|MAP_ANONYMOUS memory, timers,
// record locks and flock on the same names in each /tmp, FIFOs, and the
// numbers a sandbox hands out (mount ids, device and pipe numbers).

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const { Sandbox } = require('../../dist/sandbox/sandbox.js');

const ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LC_ALL=C', 'TZ=UTC'];
// The spinner is pid 1, which ignores signals it has no handler for: only SIGKILL ends it from outside.
const SIGKILL = 9;

let seq = 0;
/** A sandbox running argv, its stdout and stderr going to files; start() runs it, result() reads them. */
function sandbox(argv) {
  const dir = h.tmpDir('tsvisor-two-');
  const outPath = path.join(dir, `out${seq++}`);
  const out = fs.openSync(outPath, 'w+');
  const err = fs.openSync(`${outPath}.err`, 'w+');
  const inp = fs.openSync('/dev/null', 'r');
  const sb = new Sandbox({ rootfs: '/', argv, env: ENV, cwd: '/', stdio: [inp, out, err], memory: 256 << 20 });
  return {
    sb,
    async run() {
      try {
        const status = await sb.run();
        return { status, stdout: fs.readFileSync(outPath, 'latin1'), stderr: fs.readFileSync(`${outPath}.err`, 'latin1') };
      } finally {
        for (const fd of [out, err, inp]) fs.closeSync(fd);
      }
    },
  };
}

/**
 * Run sandboxes at once; count the samples (every 5 ms, whenever the thread
 * is free) at which each of them had served new system calls since the last
 * one: proof that they ran interleaved, not one after the other.
 */
async function together(...boxes) {
  const stops = () => boxes.map((b) => b.sb.kernel.platform.stats.syscallStops);
  let last = stops();
  let overlapping = 0;
  const timer = setInterval(() => {
    const now = stops();
    if (now.every((n, i) => n > last[i])) overlapping++;
    last = now;
  }, 5);
  try {
    return { results: await Promise.all(boxes.map((b) => b.run())), overlapping };
  } finally {
    clearInterval(timer);
  }
}

function twobox() {
  if (!h.which('gcc')) return null;
  return h.buildPrograms().twobox.dynamic;
}

test('two sandboxes at once: futexes, timers, locks and FIFOs at the same addresses and names give a single run\'s output', { timeout: 180_000 }, async (t) => {
  const bin = twobox();
  if (!bin) return t.skip('gcc missing');
  const alone = await sandbox([bin, 'all']).run();
  assert.strictEqual(alone.status, 0, alone.stderr);
  assert.ok(alone.stdout.endsWith('done\n'), alone.stdout);
  const { results, overlapping } = await together(sandbox([bin, 'all']), sandbox([bin, 'all']));
  for (const r of results) {
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(r.stdout, alone.stdout);
  }
  assert.ok(overlapping > 0, 'the two sandboxes never served system calls in the same interval');
});

test('two sandboxes at once: a futex wake in one never wakes a waiter in the other', { timeout: 180_000 }, async (t) => {
  const bin = twobox();
  if (!bin) return t.skip('gcc missing');
  // Same program, same allocation history: the waiter's shared page has the
  // frame number of one of the waker's pages in its own memory file.
  const { results, overlapping } = await together(sandbox([bin, 'futex-wait']), sandbox([bin, 'futex-wake']));
  const [waiter, waker] = results;
  assert.strictEqual(waiter.status, 0, waiter.stderr);
  assert.strictEqual(waker.status, 0, waker.stderr);
  assert.strictEqual(waiter.stdout, 'futex-wait: -1 ETIMEDOUT\n');
  assert.strictEqual(waker.stdout, 'futex-wake: woke 0\n');
  assert.ok(overlapping > 0, 'the waiter and the waker never ran at the same time');
});

test('two sandboxes at once: mount ids, device and pipe numbers are each sandbox\'s own', { timeout: 180_000 }, async (t) => {
  const bin = twobox();
  if (!bin) return t.skip('gcc missing');
  // A fresh Sentry process is the reference: sandboxes made later in this one number alike.
  const fresh = h.runSandbox([bin, 'ids']);
  assert.strictEqual(fresh.status, 0, fresh.stderr);
  assert.match(fresh.stdout, /^\d+ \d+ \d+:\d+ \/ \/ /);
  const { results } = await together(sandbox([bin, 'ids']), sandbox([bin, 'ids']));
  for (const r of results) {
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(r.stdout, fresh.stdout);
  }
});

test('two sandboxes at once: one spinning in user code does not starve the other', { timeout: 180_000 }, async (t) => {
  const bin = twobox();
  if (!bin) return t.skip('gcc missing');
  const alone = await sandbox([bin, 'all']).run();
  const spinner = sandbox([bin, 'spin']);
  const worker = sandbox([bin, 'all']);
  const spinning = spinner.run();
  const done = await worker.run();
  // The worker finished while the spinner still spins (it only stops when killed).
  assert.ok(spinner.sb.kernel.tasks.size > 0, 'the spinner is gone already');
  spinner.sb.kernel.forwardSignal(SIGKILL);
  const spun = await spinning;
  assert.strictEqual(done.status, 0, done.stderr);
  assert.strictEqual(done.stdout, alone.stdout);
  assert.strictEqual(spun.status & 0x7f, SIGKILL, `spinner status ${spun.status}`);
  assert.strictEqual(spun.stdout, 'spinning\n');
});
