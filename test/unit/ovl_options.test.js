'use strict';
// fsimpl/overlay/options.ts: the overlay option string as Linux's parser reads
// it (escapes, layers in order, one resolve per path as it is met), the
// options refused, and the bound on lower layers.
const test = require('node:test');
const assert = require('node:assert');
const { OvlConfig, OVL_MAX_LOWER } = require('../../dist/fsimpl/overlay/options');
const { Errno } = require('../../dist/abi/errno');
const { errnoOf } = require('./vfs_fakes');

const EINVAL = 22, ENOENT = 2;
const DIR = 0o040755, FILE = 0o100644;

/** A resolver over names: each path gives a fake place, recorded in order. */
function resolver(files = {}) {
  const seen = [];
  const resolve = (p) => {
    seen.push(p);
    if (p.includes('missing')) throw new Errno(ENOENT);
    return { mount: {}, dentry: { inode: { mode: files[p] ?? DIR } } };
  };
  return { seen, resolve };
}

test('layers in order, top first; backslash escapes a colon or a comma', () => {
  const r = resolver();
  const c = OvlConfig.parse('lowerdir=a\\:b:c\\,d:e,upperdir=u,workdir=w,userxattr', r.resolve);
  assert.deepStrictEqual(r.seen, ['a:b', 'c,d', 'e', 'u', 'w']);
  assert.deepStrictEqual(c.lower.map((l) => l.name), ['a:b', 'c,d', 'e']);
  assert.strictEqual(c.upper.name, 'u');
  assert.strictEqual(c.userxattr, true);
  // lowerdir+ appends one layer; a later lowerdir= starts over.
  const c2 = OvlConfig.parse('lowerdir+=x,lowerdir+=y', resolver().resolve);
  assert.deepStrictEqual(c2.lower.map((l) => l.name), ['x', 'y']);
});

test('a missing layer fails as it is met, before a bad option after it', () => {
  const r = resolver();
  assert.strictEqual(errnoOf(() => OvlConfig.parse('lowerdir=missing,bogus', r.resolve)), ENOENT);
  assert.strictEqual(errnoOf(() => OvlConfig.parse('lowerdir=a,bogus', resolver().resolve)), EINVAL);
  // Not a directory: EINVAL, as Linux's overlay says.
  assert.strictEqual(errnoOf(() => OvlConfig.parse('lowerdir=f', resolver({ f: FILE }).resolve)), EINVAL);
});

test('options needing features this overlay lacks are EINVAL; their defaults are accepted', () => {
  for (const o of ['redirect_dir=on', 'redirect_dir=follow', 'index=on', 'xino=auto', 'metacopy=on', 'nfs_export=on', 'verity=on', 'uuid=on', 'userxattr=1', 'lowerdir=a::b', 'lowerdir=', 'upperdir'])
    assert.strictEqual(errnoOf(() => OvlConfig.parse(o, resolver().resolve)), EINVAL, o);
  for (const o of ['redirect_dir=off', 'index=off', 'xino=off', 'metacopy=off', 'nfs_export=off', 'uuid=null', 'ro', 'volatile', 'default_permissions'])
    assert.doesNotThrow(() => OvlConfig.parse(`lowerdir=a,${o}`, resolver().resolve), o);
});

test('at most OVL_MAX_LOWER lower layers', () => {
  const names = Array.from({ length: OVL_MAX_LOWER }, (_, i) => `l${i}`);
  assert.strictEqual(OvlConfig.parse(`lowerdir=${names.join(':')}`, resolver().resolve).lower.length, OVL_MAX_LOWER);
  assert.strictEqual(errnoOf(() => OvlConfig.parse(`lowerdir=${names.join(':')}:one-more`, resolver().resolve)), EINVAL);
});
