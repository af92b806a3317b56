'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { FdTable } = require('../../dist/vfs/fd_table');
const { makePipe } = require('../../dist/fsimpl/pipe/pipe');
const { errnoOf } = require('./vfs_fakes');

const EBADF = 9, EMFILE = 24, EINVAL = 22;

test('install lowest free, get, close, EBADF', () => {
  const t = new FdTable();
  const [r, w] = makePipe(0);
  assert.strictEqual(t.install(r), 0);
  assert.strictEqual(t.install(w), 1);
  assert.strictEqual(t.get(0), r);
  t.close(0);
  assert.strictEqual(errnoOf(() => t.get(0)), EBADF);
  assert.strictEqual(errnoOf(() => t.close(0)), EBADF);
  assert.strictEqual(errnoOf(() => t.get(-1)), EBADF);
  assert.strictEqual(r.refs, 0);
  const [r2] = makePipe(0);
  assert.strictEqual(t.install(r2), 0, 'lowest free descriptor is reused');
  assert.strictEqual(t.install(r2, false, 10), 10);
});

test('dup, dup2 semantics, cloexec, closeOnExec', () => {
  const t = new FdTable();
  const [r, w] = makePipe(0);
  t.install(r);
  t.install(w, true);
  assert.strictEqual(t.getCloexec(1), true);
  const d = t.dup(1);
  assert.strictEqual(d, 2);
  assert.strictEqual(t.getCloexec(2), false, 'dup clears FD_CLOEXEC');
  assert.strictEqual(w.refs, 2);
  assert.strictEqual(t.dup2(0, 2), 2);
  assert.strictEqual(w.refs, 1, 'dup2 closed what was at newfd');
  assert.strictEqual(t.get(2), r);
  assert.strictEqual(t.dup2(0, 0), 0);
  assert.strictEqual(errnoOf(() => t.dup2(5, 6)), EBADF);
  assert.strictEqual(t.dup(0, 7), 7);
  t.closeOnExec();
  assert.strictEqual(t.has(1), false);
  assert.deepStrictEqual(t.fds(), [0, 2, 7]);
  assert.strictEqual(w.refs, 0);
});

test('fork shares descriptions; closeAll releases; RLIMIT_NOFILE', () => {
  const t = new FdTable();
  const [r, w] = makePipe(0);
  t.install(r);
  t.install(w);
  const c = t.fork();
  assert.strictEqual(c.get(0), r);
  assert.strictEqual(r.refs, 2);
  c.closeAll();
  assert.strictEqual(r.refs, 1);
  assert.deepStrictEqual(c.fds(), []);
  t.limit = 3;
  t.dup(0);
  assert.strictEqual(errnoOf(() => t.dup(0)), EMFILE);
  assert.strictEqual(errnoOf(() => t.install(r, false, 5)), EINVAL);
  assert.strictEqual(errnoOf(() => t.dup2(0, 3)), EBADF);
  t.closeRange(1, 100, true);
  assert.strictEqual(t.getCloexec(2), true);
  t.closeRange(1, 100, false);
  assert.deepStrictEqual(t.fds(), [0]);
});
