'use strict';
// HostMaps: the platform's count of a stub's host mappings must be the
// host's (merged exactly where Linux merges MAP_SHARED mappings of one file).
const test = require('node:test');
const assert = require('node:assert/strict');
const { HostMaps } = require('../../dist/platform/ptrace/hostmaps.js');

const P = 4096;

test('neighbours merge only when file offsets continue at the same protection', () => {
  const m = new HostMaps();
  m.map(10 * P, 12 * P, 100 * P, 3);
  m.map(12 * P, 14 * P, 102 * P, 3); // continues: one mapping
  assert.equal(m.count, 1);
  m.map(14 * P, 15 * P, 300 * P, 3); // another frame: its own
  m.map(8 * P, 10 * P, 98 * P, 1); // continues the offsets, other protection
  assert.equal(m.count, 3);
  m.protect(8 * P, 10 * P, 3); // now it joins
  assert.equal(m.count, 2);
  assert.ok(m.mapped(8 * P) && m.mapped(14 * P) && !m.mapped(15 * P) && !m.mapped(7 * P));
});

test('a page mapped into the middle splits in three; mapping it back rejoins', () => {
  const m = new HostMaps();
  m.map(0x10000, 0x10000 + 16 * P, 0, 3);
  m.map(0x10000 + 5 * P, 0x10000 + 6 * P, 999 * P, 3);
  assert.equal(m.count, 3);
  m.map(0x10000 + 5 * P, 0x10000 + 6 * P, 5 * P, 3);
  assert.equal(m.count, 1);
  assert.equal(m.peak, 3);
});

test('munmap splits and does not merge; mprotect stops at the first hole', () => {
  const m = new HostMaps();
  m.map(0, 10 * P, 0, 3);
  m.unmap(4 * P, 5 * P);
  assert.equal(m.count, 2);
  assert.ok(!m.mapped(4 * P));
  m.map(20 * P, 30 * P, 20 * P, 3);
  // From page 2 to 25: pages 2-4 change, the hole at 4 ends the call.
  m.protect(2 * P, 25 * P, 1);
  assert.equal(m.count, 4); // [0,2) rw, [2,4) r, [5,10) rw, [20,30) rw
  m.protect(0, 4 * P, 3);
  assert.equal(m.count, 3);
  // A start in a hole changes nothing.
  m.protect(4 * P, 30 * P, 1);
  assert.equal(m.count, 3);
  m.unmap(0, 40 * P);
  assert.equal(m.count, 0);
});

test('every other page of a run given another frame: one mapping per page, counted exactly', () => {
  const m = new HostMaps();
  const n = 1000;
  m.map(0x100000, 0x100000 + n * P, 0, 3);
  for (let i = 0; i < n; i += 2) m.map(0x100000 + i * P, 0x100000 + (i + 1) * P, (5000 + 2 * i) * P, 3);
  assert.equal(m.count, n);
  m.clear();
  assert.equal(m.count, 0);
});
