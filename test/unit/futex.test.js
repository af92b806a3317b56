'use strict';
// futex: the kernel's FutexTable with fake tasks. Each kernel has its own, so
// the same key in two tables never meets; a waiter moved by a requeue that
// then times out (or is interrupted) leaves nothing behind.

const assert = require('node:assert');
const { test } = require('node:test');
const { FutexTable } = require('../../dist/kernel/futex.js');
const { PidNamespace } = require('../../dist/kernel/pid_ns.js');
const { FUTEX_BITSET_MATCH_ANY: BITSET_MATCH_ANY } = require('../../dist/abi/futex.js');

/** A task whose memory is one private page of zeroes at 0x1000 and whose block() ends when told. */
function fakeTask() {
  const mm = {
    findVma: (addr) => (addr >= 0x1000 && addr < 0x2000 ? { shared: false } : null),
    readU32: (addr) => {
      if (!(addr >= 0x1000 && addr < 0x2000)) throw Object.assign(new Error('EFAULT'), { errno: 14 });
      return 0;
    },
  };
  const pending = [];
  return {
    mm,
    pending,
    block(q, mask) {
      return new Promise((resolve) => {
        const w = { mask, wake: (ev) => { q.remove(w); resolve(ev); } };
        q.add(w);
        pending.push({ timeout: () => { q.remove(w); resolve(0); } });
      });
    },
  };
}

test('a wake finds the waiters of its own table only', async () => {
  const a = new FutexTable();
  const b = new FutexTable();
  const ta = fakeTask();
  const tb = fakeTask();
  const waiting = a.wait(ta, a.key(ta, 0x1000, true), 0x1000, 0, BITSET_MATCH_ANY, undefined);
  assert.strictEqual(a.size, 1);
  // The same address in another kernel (another sandbox) is another futex.
  assert.strictEqual(b.wake(b.key(tb, 0x1000, true), 1, BITSET_MATCH_ANY), 0);
  // And another address space of the same kernel, the same address: another futex too.
  assert.strictEqual(a.wake(a.key(tb, 0x1000, true), 1, BITSET_MATCH_ANY), 0);
  assert.strictEqual(a.wake(a.key(ta, 0x1000, true), 1, BITSET_MATCH_ANY), 1);
  assert.strictEqual(await waiting, 0);
  assert.strictEqual(a.size, 0);
});

test('a requeued waiter that times out is removed from where it was moved', async () => {
  const fx = new FutexTable();
  const t = fakeTask();
  const from = fx.key(t, 0x1000, true);
  const to = fx.key(t, 0x1004, true);
  const waiting = fx.wait(t, from, 0x1000, 0, BITSET_MATCH_ANY, undefined);
  assert.strictEqual(fx.requeue(from, to, 0, 1), 1);
  t.pending[0].timeout();
  await assert.rejects(waiting, (e) => e.errno === 110 /* ETIMEDOUT */);
  assert.strictEqual(fx.size, 0, 'the moved waiter stayed queued');
  assert.strictEqual(fx.wake(to, 1, BITSET_MATCH_ANY), 0);
});

test('bad addresses: misaligned is EINVAL; unmapped is EFAULT for a shared key only, outside the user range for both', () => {
  const fx = new FutexTable();
  const t = fakeTask();
  assert.throws(() => fx.key(t, 0x1002, true), (e) => e.errno === 22 /* EINVAL */);
  assert.throws(() => fx.key(t, 0x9000, false), (e) => e.errno === 14 /* EFAULT */);
  // A private key is the address alone, as in Linux: a wake there finds nobody.
  assert.strictEqual(fx.wake(fx.key(t, 0x9000, true), 1, BITSET_MATCH_ANY), 0);
  assert.throws(() => fx.key(t, 0x7ffffffff000, true), (e) => e.errno === 14 /* EFAULT */);
  assert.throws(() => fx.key(t, -4, true), (e) => e.errno === 14 /* EFAULT */);
});

/** Tasks sharing one private page of words at 0x1000, with tids, a kernel task table and a heap budget. */
function piWorld() {
  const mem = new Map();
  const inPage = (addr) => {
    if (!(addr >= 0x1000 && addr < 0x2000)) throw Object.assign(new Error('EFAULT'), { errno: 14 });
  };
  const mm = {
    findVma: (addr) => (addr >= 0x1000 && addr < 0x2000 ? { shared: false, prot: 3 } : null),
    readU32: (addr) => (inPage(addr), mem.get(addr) ?? 0),
    writeU32: (addr, v) => (inPage(addr), mem.set(addr, v >>> 0)),
    cmpxchgU32(addr, expected, next) {
      const old = this.readU32(addr);
      if (old === expected >>> 0) this.writeU32(addr, next);
      return old;
    },
    updateU32(addr, fn) {
      const old = this.readU32(addr);
      const next = fn(old);
      if (next !== null) this.writeU32(addr, next);
      return old;
    },
  };
  const budget = { used: 0, charge(n) { this.used += n; }, uncharge(n) { this.used -= n; } };
  // Owners in the words are named in the initial PID namespace.
  const kernel = { tasks: new Map(), rootNs: { pid: new PidNamespace(null, 0, null) } };
  const task = (tid) => {
    const t = fakeTask();
    Object.assign(t, { tid, mm, kernel, heapBudget: budget, state: 'running' });
    kernel.tasks.set(tid, t);
    return t;
  };
  return { mm, budget, kernel, task };
}

test('PI: an unlock hands the lock to the first waiter (its tid in the word), a dying owner to the next with OWNER_DIED', async () => {
  const fx = new FutexTable();
  const { mm, budget, task } = piWorld();
  const [a, b, c] = [task(101), task(102), task(103)];
  assert.strictEqual(await fx.pi.lock(a, 0x1000, true, undefined, false), 0);
  assert.strictEqual(mm.readU32(0x1000), 101);
  const lb = fx.pi.lock(b, 0x1000, true, undefined, false);
  const lc = fx.pi.lock(c, 0x1000, true, undefined, false);
  assert.strictEqual(mm.readU32(0x1000), (0x80000000 | 101) >>> 0);
  assert.strictEqual(fx.pi.states, 1);
  assert.ok(budget.used > 0, 'the PI state is charged');
  assert.throws(() => fx.pi.unlock(b, 0x1000, true), (e) => e.errno === 1 /* EPERM */);
  assert.strictEqual(fx.pi.unlock(a, 0x1000, true), 0);
  assert.strictEqual(mm.readU32(0x1000), (0x80000000 | 102) >>> 0);
  assert.strictEqual(await lb, 0);
  // b dies holding it: c gets it, told the owner died.
  fx.taskExit(Object.assign(b, { robustList: 0, clearChildTid: 0 }));
  assert.strictEqual(await lc, 0);
  assert.strictEqual(mm.readU32(0x1000), (0xc0000000 | 103) >>> 0);
  assert.strictEqual(fx.pi.states, 0);
  assert.strictEqual(fx.size, 0);
  assert.strictEqual(budget.used, 0);
});

test('PI: a waiter that times out leaves the word marked WAITERS and no state behind; its owner\'s unlock then clears the word', async () => {
  const fx = new FutexTable();
  const { mm, task } = piWorld();
  const [a, b] = [task(201), task(202)];
  await fx.pi.lock(a, 0x1004, true, undefined, false);
  const lb = fx.pi.lock(b, 0x1004, true, undefined, false);
  b.pending[0].timeout();
  await assert.rejects(lb, (e) => e.errno === 110 /* ETIMEDOUT */);
  assert.strictEqual(fx.pi.states, 0);
  assert.strictEqual(mm.readU32(0x1004), (0x80000000 | 201) >>> 0);
  assert.strictEqual(fx.pi.unlock(a, 0x1004, true), 0);
  assert.strictEqual(mm.readU32(0x1004), 0);
  // A tid no task has: ESRCH.
  mm.writeU32(0x1004, 999);
  await assert.rejects(fx.pi.lock(b, 0x1004, true, undefined, false), (e) => e.errno === 3 /* ESRCH */);
});

test('PI: a word another thread takes in user space between the Sentry\'s read and its write is not overwritten (no second owner)', async () => {
  const fx = new FutexTable();
  const { mm, task } = piWorld();
  const [b, c] = [task(302), task(303)];
  // The Sentry reads 0 (free), then thread 303 takes the lock in user space
  // (its own compare-and-exchange) before the Sentry writes.
  const read = mm.readU32;
  let raced = false;
  mm.readU32 = function (addr) {
    const v = read.call(this, addr);
    if (!raced && addr === 0x1008 && v === 0) {
      raced = true;
      this.writeU32(addr, 303);
    }
    return v;
  };
  const lb = fx.pi.lock(b, 0x1008, true, undefined, false);
  mm.readU32 = read;
  assert.ok(raced);
  // b did not take it: the word names 303, with WAITERS for b queued behind it.
  assert.strictEqual(mm.readU32(0x1008), (0x80000000 | 303) >>> 0);
  assert.strictEqual(fx.pi.states, 1);
  assert.strictEqual(fx.pi.unlock(c, 0x1008, true), 0);
  assert.strictEqual(await lb, 0);
  assert.strictEqual(mm.readU32(0x1008), (0x80000000 | 302) >>> 0);
});
