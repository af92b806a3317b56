'use strict';
// FrameTable: dense for small VMAs, sparse chunks for huge ones.
const test = require('node:test');
const assert = require('node:assert/strict');
const { FrameTable } = require('../../dist/mm/frame_table.js');

for (const [label, length] of [['dense', 1000], ['sparse', 2 ** 28]]) {
  test(`${label}: get/set, present iteration in order, slice and move`, () => {
    const t = new FrameTable(length);
    assert.equal(t.get(5), -1);
    const pages = [3, 4, 700, length - 1];
    pages.forEach((p, i) => t.set(p, 100 + i));
    const seen = [];
    t.forEachPresent(0, length, (p, f) => seen.push([p, f]));
    assert.deepEqual(seen, pages.map((p, i) => [p, 100 + i]));
    assert.equal(t.count(), 4);
    const s = t.slice(4, 701);
    assert.equal(s.length, 697);
    assert.equal(s.get(0), 101);
    assert.equal(s.get(696), 102);
    assert.equal(s.count(), 2);
    const m = t.moved(length + 10, 10);
    assert.equal(m.get(13), 100);
    assert.equal(m.get(3), -1);
    t.set(700, -1);
    assert.equal(t.count(), 3);
  });
}

test('sparse: a 1 TiB table costs nothing until pages are set', () => {
  const t = new FrameTable(2 ** 28);
  let n = 0;
  t.forEachPresent(0, t.length, () => n++);
  assert.equal(n, 0);
  t.set(2 ** 27, 1);
  assert.equal(t.count(), 1);
});
