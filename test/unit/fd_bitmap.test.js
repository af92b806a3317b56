'use strict';
// The fd table's bitmap against a reference model: a plain array scanned for
// the lowest free descriptor, as the table did before.
const test = require('node:test');
const assert = require('node:assert');
const { FdTable } = require('../../dist/vfs/fd_table');
const { errnoOf } = require('./vfs_fakes');

const EMFILE = 24, EINVAL = 22;

function fakeFile(id) {
  return { id, refs: 1, flags: 0, incRef() { this.refs++; }, decRef() { this.refs--; }, locks: () => null };
}

function rng(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

class Model {
  constructor(limit) { this.limit = limit; this.slots = []; }
  lowest(min) {
    let fd = min;
    while (this.slots[fd] !== undefined) fd++;
    return fd;
  }
  fds() { const o = []; this.slots.forEach((s, i) => { if (s !== undefined) o.push(i); }); return o; }
}

for (const seed of [1, 7, 42, 1234, 99991]) {
  test(`random install/dup/dup2/close/closeRange match the model (seed ${seed})`, () => {
    const r = rng(seed);
    const limit = 40 + r(300);
    const t = new FdTable();
    t.limit = limit;
    const m = new Model(limit);
    let id = 0;
    for (let step = 0; step < 6000; step++) {
      const op = r(10);
      if (op < 4) {
        const min = r(4) === 0 ? r(limit + 2) : 0;
        const want = min >= limit ? 'EINVAL' : m.lowest(min) >= limit ? 'EMFILE' : m.lowest(min);
        const f = fakeFile(id++);
        let got;
        try { got = t.install(f, false, min); } catch (e) { got = e.errno === EINVAL ? 'EINVAL' : e.errno === EMFILE ? 'EMFILE' : e; }
        assert.strictEqual(got, want, `step ${step} install min ${min}`);
        if (typeof want === 'number') m.slots[want] = f;
      } else if (op < 5) {
        const open = m.fds();
        if (!open.length) continue;
        const old = open[r(open.length)];
        const want = m.lowest(0) >= limit ? 'EMFILE' : m.lowest(0);
        let got;
        try { got = t.dup(old); } catch (e) { got = e.errno === EMFILE ? 'EMFILE' : e; }
        assert.strictEqual(got, want, `step ${step} dup`);
        if (typeof want === 'number') m.slots[want] = m.slots[old];
      } else if (op < 6) {
        const open = m.fds();
        if (!open.length) continue;
        const old = open[r(open.length)];
        const nfd = r(limit);
        assert.strictEqual(t.dup2(old, nfd), nfd);
        m.slots[nfd] = m.slots[old];
      } else if (op < 9) {
        const open = m.fds();
        if (!open.length) continue;
        const fd = open[r(open.length)];
        t.close(fd);
        m.slots[fd] = undefined;
      } else if (r(20) === 0) {
        const first = r(limit);
        const last = first + r(20);
        t.closeRange(first, last, false);
        for (let fd = first; fd <= last; fd++) m.slots[fd] = undefined;
      }
      if (step % 97 === 0) {
        assert.deepStrictEqual(t.fds(), m.fds(), `step ${step}`);
        assert.strictEqual(t.count, m.fds().length);
      }
    }
    assert.deepStrictEqual(t.fds(), m.fds());
    const c = t.fork();
    assert.deepStrictEqual(c.fds(), m.fds());
    assert.strictEqual(c.install(fakeFile(-1)) , m.lowest(0) < limit ? m.lowest(0) : assert.fail('full'));
  });
}

test('lowest free across many words, after closes below the hint', () => {
  const t = new FdTable();
  t.limit = 100000;
  for (let i = 0; i < 70000; i++) assert.strictEqual(t.install(fakeFile(i)), i);
  t.close(33);
  t.close(31);
  t.close(69999);
  assert.strictEqual(t.install(fakeFile(0)), 31);
  assert.strictEqual(t.install(fakeFile(0)), 33);
  assert.strictEqual(t.install(fakeFile(0), false, 64), 69999);
  assert.strictEqual(t.install(fakeFile(0), false, 64), 70000);
  assert.strictEqual(t.count, 70001);
  t.limit = 70001;
  assert.strictEqual(errnoOf(() => t.install(fakeFile(0))), EMFILE);
  assert.strictEqual(errnoOf(() => t.install(fakeFile(0), false, 70001)), EINVAL);
});
