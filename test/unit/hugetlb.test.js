'use strict';
// The huge page pool's counters (mm/hugetlb.ts) against a fake memory file
// with a limit: growth stops at the limit, shrinking below the pages in use
// or reserved leaves surplus pages that go as they are released (the
// numbers Linux gives for the same steps, see test/c/hugetlb.c).

const assert = require('node:assert');
const { test } = require('node:test');
const { HugePool, HUGE_FRAMES } = require('../../dist/mm/hugetlb');
const { Errno } = require('../../dist/abi/errno');
const ENOMEM = 12;

function fakeFrames(limitPages) {
  const f = { used: 0, next: 0 };
  f.alloc = (n) => {
    if (f.used + n > limitPages) throw new Errno(ENOMEM);
    f.used += n;
    const base = f.next;
    f.next += n;
    return base;
  };
  f.decRef = (_base, n) => { f.used -= n; };
  return f;
}

test('the pool grows up to the memory limit and no further', () => {
  const frames = fakeFrames(10 * HUGE_FRAMES + 7);
  const pool = new HugePool(frames);
  pool.setPersistent(2 ** 31 - 1);
  assert.deepStrictEqual(pool.counts(), { total: 10, free: 10, resv: 0, surplus: 0 });
  assert.strictEqual(frames.used, 10 * HUGE_FRAMES);
  pool.setPersistent(0);
  assert.deepStrictEqual(pool.counts(), { total: 0, free: 0, resv: 0, surplus: 0 });
  assert.strictEqual(frames.used, 0);
});

test('reservations, takes and surplus pages as Linux counts them', () => {
  const frames = fakeFrames(100 * HUGE_FRAMES);
  const pool = new HugePool(frames);
  pool.setPersistent(4);
  assert.strictEqual(pool.reserve(5), false);
  assert.strictEqual(pool.reserve(2), true);
  const a = pool.take(true);
  const b = pool.take(false);
  assert.ok(a >= 0 && b >= 0);
  // One free page left unreserved beside the one reservation: a third unreserved take gets none.
  assert.ok(pool.take(false) >= 0);
  assert.strictEqual(pool.take(false), -1);
  assert.deepStrictEqual(pool.counts(), { total: 4, free: 1, resv: 1, surplus: 0 });
  pool.setPersistent(1);
  assert.deepStrictEqual(pool.counts(), { total: 4, free: 1, resv: 1, surplus: 3 });
  pool.release(a);
  pool.release(b);
  assert.deepStrictEqual(pool.counts(), { total: 2, free: 1, resv: 1, surplus: 1 });
  pool.unreserve(1);
  assert.deepStrictEqual(pool.counts(), { total: 1, free: 0, resv: 0, surplus: 0 });
});
