'use strict';
// futexbound: what a hostile program can make the Sentry keep with futexes
// is bounded and accounted. test/hostile/futexflood.c puts children to sleep
// in 128-entry futex_waitv calls and in FUTEX_LOCK_PI behind the locks it
// holds; while they sleep, the Sentry (in this process) holds exactly one
// waiter per entry or lock waiter and one PI state per contended lock,
// charged to the sandbox's heap budget. With the budget then shrunk to what
// is in use, one more futex_waitv is ENOMEM; 40000 bad vector lengths are
// EINVAL without growing anything; afterwards nothing is left.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const { Sandbox } = require('../../dist/sandbox/sandbox.js');

const ENV = ['PATH=/usr/bin:/bin', 'LC_ALL=C'];
const CHILDREN = 16;
const ENTRIES = 128;
const LOCKS = 4;

function stdinFifo(dir) {
  const p = path.join(dir, 'stdin');
  childProcess.execFileSync('mkfifo', [p]);
  const c = fs.constants;
  const probe = fs.openSync(p, c.O_RDONLY | c.O_NONBLOCK);
  const write = fs.openSync(p, c.O_WRONLY);
  const read = fs.openSync(p, c.O_RDONLY);
  fs.closeSync(probe);
  return { read, write };
}

test('futex waiters and PI states a program makes the Sentry keep are bounded, charged, and released', { timeout: 180_000 }, async (t) => {
  if (!h.needTools(t, ['gcc', 'mkfifo'])) return;
  const dir = h.tmpDir('tsvisor-futexflood-');
  const bin = path.join(dir, 'futexflood');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'futexflood.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const fifo = stdinFifo(dir);
  const outPath = path.join(dir, 'out');
  const out = fs.openSync(outPath, 'w+');
  const err = fs.openSync(`${outPath}.err`, 'w+');
  const sb = new Sandbox({ rootfs: '/', argv: [bin, String(CHILDREN)], env: ENV, cwd: '/', stdio: [fifo.read, out, err], memory: 256 << 20 });
  const fx = sb.kernel.futexes;
  const heap = sb.kernel.platform.memfile.heap;
  let sample = null;
  const poll = setInterval(() => {
    if (sample || !fs.readFileSync(outPath, 'latin1').includes('asleep')) return;
    sample = { waiters: fx.waiters, futexes: fx.size, states: fx.pi.states, used: heap.used };
    // Nothing left to spare: the next vector cannot be charged.
    heap.limit = heap.used + 1024;
    fs.writeSync(fifo.write, 'g');
  }, 20);
  let status;
  const limit = heap.limit;
  try {
    status = await sb.run();
  } finally {
    clearInterval(poll);
    heap.limit = limit;
    for (const fd of [out, err, fifo.read, fifo.write]) fs.closeSync(fd);
  }
  const stdout = fs.readFileSync(outPath, 'latin1');
  assert.strictEqual(status, 0, `${stdout}\n${fs.readFileSync(`${outPath}.err`, 'latin1')}`);
  assert.ok(sample, 'the program never said its children were asleep');
  // One waiter per waitv entry and per PI lock waiter; one futex per word and per lock.
  assert.strictEqual(sample.waiters, (CHILDREN / 2) * ENTRIES + CHILDREN / 2);
  assert.strictEqual(sample.futexes, ENTRIES + LOCKS);
  assert.strictEqual(sample.states, LOCKS);
  assert.ok(sample.used >= (CHILDREN / 2) * ENTRIES * 160 + LOCKS * 256, `heap charged: ${sample.used}`);
  assert.match(stdout, /^one more 128-entry futex_waitv: -1 Cannot allocate memory$/m);
  assert.match(stdout, /^bad lengths: 40000 of 40000 EINVAL$/m);
  assert.match(stdout, new RegExp(`^children that got what they waited for: ${CHILDREN} of ${CHILDREN}$`, 'm'));
  assert.match(stdout, /^128-entry futex_waitv after: -1 Connection timed out$/m);
  assert.ok(stdout.endsWith('done\n'), stdout);
  assert.strictEqual(fx.size, 0, 'futexes with waiters left behind');
  assert.strictEqual(fx.waiters, 0);
  assert.strictEqual(fx.pi.states, 0, 'PI states left behind');
});
