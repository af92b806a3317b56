'use strict';
// The kernel's timer queue (src/kernel/timers.ts): a heap of timer records
// against a plain reference model under random arms, re-arms and cancels;
// expiry order (deadline, then arming order); the host timer follows the
// earliest deadline; hold/release for Kernel.pause.

const test = require('node:test');
const assert = require('node:assert/strict');
const { TimerQueue, KernelTimer } = require('../../dist/kernel/timers.js');

/**
 * Timers of kind 'block' whose target records its expiry (the table calls
 * target.blockTimedOut(), as for a task).
 */
function setup() {
  const k = { now: 0, monotonicNs: () => k.now };
  const host = [];
  const fired = [];
  const q = new TimerQueue(k, (d) => host.push(d));
  const mk = (name) => new KernelTimer('block', { name, blockTimedOut: () => fired.push(name) });
  return { k, q, host, fired, mk };
}

test('random arm, re-arm and cancel agree with a reference model; expiry in (deadline, arming) order', () => {
  const { k, q, fired, mk } = setup();
  const recs = Array.from({ length: 300 }, (_, i) => mk(i));
  const model = new Map(); // rec -> [deadline, seq]
  let seq = 0;
  let rnd = 12345;
  const rand = (n) => ((rnd = (rnd * 1103515245 + 12345) % 2147483648), rnd % n);
  for (let step = 0; step < 30000; step++) {
    const r = recs[rand(recs.length)];
    if (rand(3) === 0) {
      q.cancel(r);
      model.delete(r);
    } else {
      const d = 1000 + rand(400); // many equal deadlines
      q.arm(r, d);
      model.set(r, [d, seq++]);
    }
    assert.equal(q.size, model.size);
    assert.equal(r.armed, model.has(r));
    if (step % 1000 === 0) {
      const min = Math.min(...[...model.values()].map(([d]) => d));
      assert.equal(q.next, model.size ? min : 0);
    }
  }
  const expected = [...model.entries()].sort((a, b) => a[1][0] - b[1][0] || a[1][1] - b[1][1]).map(([r]) => r.target.name);
  k.now = 1200;
  q.runDue(1200);
  const early = expected.filter((n) => recs[n].deadline <= 1200);
  assert.deepEqual(fired, early);
  q.runDue(10000);
  assert.deepEqual(fired, expected);
  assert.equal(q.size, 0);
  for (const r of recs) assert.equal(r.pos, -1);
});

test('a timer re-armed by its own expiry for a time already past runs again in the same run', () => {
  const { q, fired } = setup();
  let n = 0;
  const tm = new KernelTimer('block', { blockTimedOut: () => { fired.push(++n); if (n < 3) q.arm(tm, 5 + n); } });
  q.arm(tm, 5);
  q.runDue(100);
  assert.deepEqual(fired, [1, 2, 3]);
  assert.equal(tm.armed, false);
});

test('the host timer follows the earliest deadline; hold stops expiries, release lets late ones run', () => {
  const { k, q, host, fired, mk } = setup();
  const a = mk('a');
  const b = mk('b');
  q.arm(a, 500);
  assert.deepEqual(host, [500]);
  q.arm(b, 300);
  assert.deepEqual(host, [500, 300]);
  q.cancel(b); // an early host wake-up is harmless: no host call on cancel
  assert.deepEqual(host, [500, 300]);
  q.arm(b, 900);
  q.hold();
  k.now = 1000;
  q.runDue(1000);
  assert.deepEqual(fired, [], 'nothing expires while held');
  assert.ok(host[host.length - 1] > 1000, 'while held the host timer only polls');
  q.release();
  assert.equal(host[host.length - 1], 500, 'released: the host timer is set to the passed deadline (due at once)');
  q.runDue(1000);
  assert.deepEqual(fired, ['a', 'b']);
  assert.equal(host[host.length - 1], 0, 'nothing armed: the host timer is off');
});
