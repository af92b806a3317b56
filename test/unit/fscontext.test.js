'use strict';
// fscontext: a file system context (fsopen/fspick) charges itself and its
// parameters to the sandbox's heap budget, bounds their number, gives the
// charge back when a reconfiguration round is spent and when it closes, and
// keeps the last 8 error messages, one per read.

const assert = require('node:assert');
const { test } = require('node:test');
const { FsContextFile } = require('../../dist/fsimpl/fscontext/fscontext.js');
const { HeapBudget } = require('../../dist/abi/accounting.js');
const { Credentials } = require('../../dist/auth/creds.js');
// errno values (abi/errno.ts's E is a const enum: not there at run time).
const E = { EINVAL: 22, ENOMEM: 12, ENODATA: 61, EMSGSIZE: 90 };

const errno = (fn) => {
  try {
    fn();
  } catch (e) {
    return e.errno;
  }
  return 0;
};

test('a context is charged, bounded, and gives its charge back', () => {
  const budget = new HeapBudget(1 << 30);
  const c = new FsContextFile('tmpfs', null, null, new Credentials(), 0, budget);
  const base = budget.used;
  assert.ok(base > 0);
  let n = 0;
  while (errno(() => c.param(`k${n}`, 'string', 'v')) === 0) n++;
  assert.strictEqual(errno(() => c.param('more', 'flag', null)), E.ENOMEM);
  assert.ok(n >= 16 && n <= 1024, `${n} parameters`);
  assert.ok(budget.used > base);
  c.spend();
  assert.strictEqual(budget.used, base);
  c.param('size', 'string', '1m');
  c.decRef();
  assert.strictEqual(budget.used, 0);
});

test('the log keeps the last 8 messages, one per read, EMSGSIZE keeping it', () => {
  const c = new FsContextFile('tmpfs', null, null, new Credentials(), 0, undefined);
  assert.strictEqual(errno(() => c.read(null, 100)), E.ENODATA);
  for (let i = 0; i < 10; i++) c.fail(E.EINVAL, `m${i}`);
  assert.strictEqual(errno(() => c.read(null, 3)), E.EMSGSIZE);
  const got = [];
  for (;;) {
    let b;
    if (errno(() => (b = c.read(null, 100))) !== 0) break;
    got.push(b.toString());
  }
  assert.deepStrictEqual(got, [2, 3, 4, 5, 6, 7, 8, 9].map((i) => `e tmpfs: m${i}\n`));
  assert.strictEqual(errno(() => c.param('source', 'flag', null)), E.EINVAL);
  c.param('source', 'string', 'a');
  assert.strictEqual(errno(() => c.param('source', 'string', 'b')), E.EINVAL);
  assert.deepStrictEqual([c.read(null, 100).toString(), c.read(null, 100).toString()], ['e Non-string source\n', 'e Multiple sources\n']);
});
