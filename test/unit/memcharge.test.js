'use strict';
// Memory charge groups (platform/memcharge.ts): frames allocated for a pod
// container count against its group and the sandbox; ENOMEM past either
// limit; a frame is uncharged from the group that allocated it when its last
// reference goes, whoever dropped it; a released group's slot is reused once
// nothing is charged to it, and the slots are bounded.
const test = require('node:test');
const assert = require('node:assert');
const { MemoryFile } = require('../../dist/platform/memfile.js');

test('charge group: its frames count against its limit and the sandbox\'s; freeing uncharges the allocator', () => {
  const mf = new MemoryFile();
  const a = mf.charges.add(8);
  const b = mf.charges.add(100);
  const f = mf.alloc(6, a);
  assert.strictEqual(a.usedPages, 6);
  assert.throws(() => mf.alloc(3, a), (e) => e.errno === 12);
  assert.strictEqual(a.failures, 1);
  assert.strictEqual(a.usedPages, 6);
  // b and the sandbox's own allocations are not a's.
  const g = mf.allocNear(20, -1, true, b);
  const own = mf.alloc(50);
  assert.strictEqual(b.usedPages, 20);
  assert.strictEqual(a.usedPages, 6);
  // A frame of a's shared with b (a copy-on-write reference) stays a's until its last reference goes.
  mf.incRef(f);
  mf.decRef(f);
  assert.strictEqual(a.usedPages, 6);
  mf.decRef(f, 6);
  assert.strictEqual(a.usedPages, 0);
  assert.strictEqual(mf.copyFrame(g, a) >= 0, true);
  assert.strictEqual(a.usedPages, 1);
  assert.strictEqual(a.peakPages, 6);
  mf.decRef(g, 20);
  mf.decRef(own, 50);
  assert.strictEqual(b.usedPages, 0);
  // The sandbox's limit binds a group too.
  mf.setLimit(10 * 4096);
  assert.throws(() => mf.alloc(20, b), (e) => e.errno === 12);
  assert.strictEqual(mf.fits(5, a), true);
  assert.strictEqual(mf.fits(8, a), false);
});

test('charge group: a released group keeps its slot while frames are charged to it; the slots are bounded', () => {
  const mf = new MemoryFile();
  const a = mf.charges.add(10);
  const f = mf.alloc(2, a);
  mf.charges.release(a);
  // Its slot is still taken: a new group gets another.
  const b = mf.charges.add(10);
  assert.notStrictEqual(b.slot, a.slot);
  mf.decRef(f, 2);
  assert.strictEqual(a.usedPages, 0);
  const c = mf.charges.add(10);
  assert.strictEqual(c.slot, a.slot, 'the freed slot is reused');
  const more = [];
  assert.throws(() => {
    for (let i = 0; i < 300; i++) more.push(mf.charges.add(1));
  }, /at most 255 memory charge groups/);
  assert.strictEqual(more.length, 253);
});

test('kernel memory (socket queues): bytes charged to a group and the sandbox, rounded up to pages, ENOMEM past either, a released group kept until it is given back', () => {
  const mf = new MemoryFile();
  mf.setLimit(100 * 4096);
  const a = mf.charges.add(4);
  // One byte takes a page of the group's room and of the sandbox's.
  mf.chargeKernel(1, a);
  assert.strictEqual(a.usageBytes(), 1);
  assert.strictEqual(mf.fits(3, a), true);
  assert.strictEqual(mf.fits(4, a), false);
  assert.strictEqual(mf.fits(99), true);
  assert.strictEqual(mf.fits(100), false);
  // Frames and kernel bytes share the limit.
  const f = mf.alloc(2, a);
  assert.throws(() => mf.chargeKernel(2 * 4096, a), (e) => e.errno === 12);
  assert.strictEqual(a.failures, 1);
  mf.chargeKernel(4096, a);
  assert.strictEqual(a.peakPages, 4);
  assert.throws(() => mf.alloc(1, a), (e) => e.errno === 12);
  // The sandbox's own kernel memory counts under its limit.
  assert.throws(() => mf.chargeKernel(97 * 4096, null), (e) => e.errno === 12);
  mf.chargeKernel(96 * 4096, null);
  assert.strictEqual(mf.ramBytes().free, 0);
  mf.unchargeKernel(96 * 4096, null);
  // Released with bytes charged: the slot stays taken until they are given back.
  mf.decRef(f, 2);
  mf.charges.release(a);
  assert.notStrictEqual(mf.charges.add(1).slot, a.slot);
  mf.unchargeKernel(4097, a);
  assert.strictEqual(a.usageBytes(), 0);
  assert.strictEqual(mf.charges.kernelBytes, 0);
  assert.strictEqual(mf.charges.add(1).slot, a.slot, 'the freed slot is reused');
});
