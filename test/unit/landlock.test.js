'use strict';
// landlock: a ruleset's rules are charged to the sandbox's heap budget and
// bounded in number, so a hostile program cannot make the Sentry keep
// unbounded rules; a layer is a frozen copy, charged again, and rules added
// after restrict_self do not reach it. Whether a domain is within another
// (ptrace's rule) goes by the layer objects themselves.

const assert = require('node:assert');
const { test } = require('node:test');
const { LandlockRuleset, MAX_RULES } = require('../../dist/vfs/landlock.js');
const { landlockWithin } = require('../../dist/auth/creds.js');
const { HeapBudget } = require('../../dist/abi/accounting.js');

const fsA = {};
const place = (id, fs = fsA) => ({ mount: { fs }, dentry: { inode: { identity: () => id } } });

test('rules are charged to the heap budget and refused with ENOMEM past it', () => {
  const budget = new HeapBudget(96 * 10);
  const rs = new LandlockRuleset(4, 2, budget);
  for (let i = 0; i < 10; i++) rs.addRule(place(i), 4);
  assert.strictEqual(budget.used, 96 * 10);
  // The same inode again merges into its rule: no charge.
  rs.addRule(place(3), 4);
  assert.strictEqual(budget.used, 96 * 10);
  assert.throws(() => rs.addRule(place(10), 4), (e) => e.errno === 12);
  // Freezing a layer copies the rules: it needs the budget again.
  assert.throws(() => rs.freeze(), (e) => e.errno === 12);
});

test('a ruleset holds at most MAX_RULES rules', () => {
  const rs = new LandlockRuleset(4, 2, new HeapBudget(2 ** 40));
  for (let i = 0; i < MAX_RULES; i++) rs.addRule(place(i), 4);
  assert.throws(() => rs.addRule(place(MAX_RULES), 4), (e) => e.errno === 12);
});

test('a frozen layer does not see later rules; rules are kept per file system', () => {
  const rs = new LandlockRuleset(6, 2, new HeapBudget(1 << 20));
  rs.addRule(place(7), 4);
  const layer = rs.freeze();
  rs.addRule(place(7), 2);
  rs.addRule(place(8), 2);
  rs.addRule(place(7, {}), 2);
  assert.strictEqual(layer.rules.get(fsA).get(7), 4);
  assert.strictEqual(layer.rules.get(fsA).get(8), undefined);
  assert.strictEqual(layer.rules.size, 1);
  assert.strictEqual(rs.rules.get(fsA).get(7), 6);
});

test('landlockWithin: none is within all, a child domain within its parent, not the reverse', () => {
  const l1 = { handledFs: 1, rules: new Map() };
  const l2 = { handledFs: 1, rules: new Map() };
  const parent = [l1];
  const child = [l1, l2];
  const other = [{ handledFs: 1, rules: new Map() }];
  assert.ok(landlockWithin(null, null));
  assert.ok(landlockWithin(null, child));
  assert.ok(!landlockWithin(parent, null));
  assert.ok(landlockWithin(parent, child));
  assert.ok(landlockWithin(parent, parent));
  assert.ok(!landlockWithin(child, parent));
  assert.ok(!landlockWithin(parent, other));
});
