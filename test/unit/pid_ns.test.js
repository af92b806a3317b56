'use strict';
// pid_ns: the numbering of nested PID namespaces (kernel/pid_ns.ts) without
// a kernel: a number per level, lookups and translations, numbers given back,
// the namespace closed when its first process goes, the 32-level bound.

const test = require('node:test');
const assert = require('node:assert');
const { PidNamespace, MAX_PID_NS_LEVEL, levelsBetween } = require('../../dist/kernel/pid_ns');

const errnoOf = (fn) => {
  try {
    fn();
  } catch (e) {
    return e.errno;
  }
  return 0;
};

test('a pid has a number at every level; each namespace sees its own and its descendants', () => {
  const root = new PidNamespace(null, 1, null);
  const a = root.alloc();
  const ns1 = root.child(null, 2);
  const p1 = ns1.alloc();
  const ns2 = ns1.child(null, 3);
  const p2 = ns2.alloc();
  assert.deepStrictEqual([a.nrs, p1.nrs, p2.nrs], [[1], [2, 1], [3, 2, 1]]);
  assert.strictEqual(p2.nrIn(ns1), 2);
  assert.strictEqual(p2.nrIn(root), 3);
  // Upward is invisible: the root's process from inside, a sibling namespace's.
  assert.strictEqual(a.nrIn(ns1), 0);
  const other = root.child(null, 4);
  assert.strictEqual(p2.nrIn(other), 0);
  assert.strictEqual(ns1.globalOf(2), 3);
  assert.strictEqual(ns2.nrOfGlobal(3), 1);
  assert.strictEqual(ns2.nrOfGlobal(1), 0);
  assert.deepStrictEqual(levelsBetween(ns1, ns2), [ns1, ns2]);
  assert.deepStrictEqual(levelsBetween(ns2, ns1), []);
  assert.ok(root.contains(ns2) && !ns2.contains(root) && !other.contains(ns2));
});

test('numbers go back to every level; a namespace whose first process went is closed (ENOMEM)', () => {
  const root = new PidNamespace(null, 1, null);
  root.alloc();
  const ns = root.child(null, 2);
  const init = ns.alloc();
  const second = ns.alloc();
  PidNamespace.free(second);
  assert.strictEqual(ns.byNr.size, 1);
  assert.strictEqual(root.byNr.has(second.global), false);
  PidNamespace.free(init);
  assert.strictEqual(ns.adding, false);
  assert.strictEqual(errnoOf(() => ns.alloc()), 12); // ENOMEM
  // Below a closed namespace nothing enters either.
  assert.strictEqual(errnoOf(() => ns.child(null, 3).alloc()), 12);
  assert.strictEqual(errnoOf(() => root.alloc()), 0);
});

test('ns_last_pid chooses the next number; used numbers are skipped', () => {
  const root = new PidNamespace(null, 1, null);
  const ns = root.child(null, 2);
  ns.alloc();
  ns.alloc();
  ns.lastNr = 0;
  assert.strictEqual(ns.alloc().nrs[1], 3);
  ns.lastNr = 99;
  assert.strictEqual(ns.alloc().nrs[1], 100);
});

test('at most MAX_PID_NS_LEVEL levels below the root: ENOSPC past it', () => {
  let ns = new PidNamespace(null, 1, null);
  for (let i = 0; i < MAX_PID_NS_LEVEL; i++) ns = ns.child(null, i + 2);
  assert.strictEqual(ns.level, 32);
  assert.strictEqual(errnoOf(() => ns.child(null, 99)), 28); // ENOSPC
  assert.strictEqual(ns.alloc().nrs.length, 33);
});
