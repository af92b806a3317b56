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
const { landlockCheckNet, landlockScoped } = require('../../dist/auth/landlock.js');
const { HeapBudget } = require('../../dist/abi/accounting.js');

const fsA = {};
const place = (id, fs = fsA) => ({ mount: { fs }, dentry: { inode: { identity: () => id } } });

test('rules are charged to the heap budget and refused with ENOMEM past it', () => {
  const budget = new HeapBudget(96 * 10);
  const rs = new LandlockRuleset(4, 0, 0, 2, budget);
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
  const rs = new LandlockRuleset(4, 0, 0, 2, new HeapBudget(2 ** 40));
  for (let i = 0; i < MAX_RULES; i++) rs.addRule(place(i), 4);
  assert.throws(() => rs.addRule(place(MAX_RULES), 4), (e) => e.errno === 12);
});

test('a frozen layer does not see later rules; rules are kept per file system', () => {
  const rs = new LandlockRuleset(6, 0, 0, 2, new HeapBudget(1 << 20));
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

test('port rules share the rule bound and the budget with path rules, and a layer copies them', () => {
  const budget = new HeapBudget(96 * 3);
  const rs = new LandlockRuleset(4, 1, 0, 2, budget);
  rs.addRule(place(1), 4);
  rs.addNetRule(80, 1);
  rs.addNetRule(80, 1); // merged: no charge
  rs.addNetRule(0, 1);
  assert.strictEqual(budget.used, 96 * 3);
  assert.throws(() => rs.addNetRule(443, 1), (e) => e.errno === 12);
  const big = new LandlockRuleset(0, 1, 0, 2, new HeapBudget(2 ** 40));
  for (let i = 0; i < 0x10000; i++) big.addNetRule(i, 1);
  assert.throws(() => big.addRule(place(0), 4), (e) => e.errno === 12); // MAX_RULES is 65536 in all
  const layer = big.freeze();
  big.addNetRule(1, 2);
  assert.strictEqual(big.netRules.get(1), 3);
  assert.strictEqual(layer.netRules.get(1), 1);
  assert.strictEqual(layer.handledNet, 1);
});

test('landlockScoped: a scoped layer keeps its domain from what is outside it', () => {
  const mk = (scoped) => ({ handledFs: 0, rules: new Map(), handledNet: 0, netRules: new Map(), scoped });
  const a = mk(2);
  const b = mk(0);
  const c = mk(2);
  assert.ok(!landlockScoped(null, [a], 2)); // no domain: nothing scoped
  assert.ok(landlockScoped([a], null, 2)); // to an unrestricted process
  assert.ok(!landlockScoped([a], [a], 2)); // same domain
  assert.ok(!landlockScoped([a], [a, c], 2)); // into a nested domain
  assert.ok(!landlockScoped([a, b], [a], 2)); // the nested layer is not scoped
  assert.ok(landlockScoped([a, c], [a], 2)); // the nested layer is
  assert.ok(landlockScoped([a], [c], 2)); // a sibling domain
  assert.ok(!landlockScoped([a], null, 1)); // another scope
});

test('landlockCheckNet: TCP only, port rules per layer, the address checked first', () => {
  const layer = (handledNet, rules) => ({ handledFs: 0, rules: new Map(), handledNet, netRules: new Map(rules), scoped: 0 });
  const creds = (...dom) => ({ landlock: dom });
  const tcp4 = { family: 2, type: 1, protocol: 0 };
  const sin = (family, port) => {
    const b = Buffer.alloc(16);
    b.writeUInt16LE(family, 0);
    b.writeUInt16BE(port, 2);
    return b;
  };
  const errno = (fn) => {
    try {
      fn();
      return 0;
    } catch (e) {
      return e.errno;
    }
  };
  const c = creds(layer(3, [[80, 2], [0, 1]]));
  assert.strictEqual(errno(() => landlockCheckNet(c, tcp4, sin(2, 80), 2)), 0);
  assert.strictEqual(errno(() => landlockCheckNet(c, tcp4, sin(2, 81), 2)), 13);
  assert.strictEqual(errno(() => landlockCheckNet(c, tcp4, sin(2, 80), 1)), 13);
  assert.strictEqual(errno(() => landlockCheckNet(c, tcp4, sin(2, 0), 1)), 0);
  assert.strictEqual(errno(() => landlockCheckNet(c, { family: 2, type: 2, protocol: 0 }, sin(2, 81), 1)), 0);
  assert.strictEqual(errno(() => landlockCheckNet(c, tcp4, sin(2, 81).subarray(0, 8), 2)), 22);
  assert.strictEqual(errno(() => landlockCheckNet(c, tcp4, sin(0, 81), 2)), 0);
  // A second layer handling connect only does not let the first's refusal through, nor refuse binds.
  const two = creds(layer(3, [[80, 2]]), layer(2, [[81, 2]]));
  assert.strictEqual(errno(() => landlockCheckNet(two, tcp4, sin(2, 81), 2)), 13);
  assert.strictEqual(errno(() => landlockCheckNet(two, tcp4, sin(2, 80), 2)), 13);
  // A domain handling no network right checks nothing, not even the address.
  assert.strictEqual(errno(() => landlockCheckNet(creds(layer(0, [])), tcp4, Buffer.alloc(1), 2)), 0);
});
