'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { VirtualFilesystem } = require('../../dist/vfs/vfs');
const { TmpfsFs } = require('../../dist/fsimpl/tmpfs/tmpfs');
const { FakeFrames, fakeTask, errnoOf } = require('./vfs_fakes');

const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_EXCL = 0o200, O_TRUNC = 0o1000, O_DIRECTORY = 0o200000, O_NOFOLLOW = 0o400000, O_PATH = 0o10000000;
const ENOENT = 2, EACCES = 13, EEXIST = 17, ENOTDIR = 20, EISDIR = 21, ENAMETOOLONG = 36, ELOOP = 40, EBUSY = 16, ENOTEMPTY = 39, EINVAL = 22, EXDEV = 18;

function setup() {
  const frames = new FakeFrames();
  const vfs = new VirtualFilesystem(new TmpfsFs(frames, { mode: 0o755 }));
  const t = fakeTask(0);
  const r = { creds: t.creds, root: vfs.root, ctx: t };
  const root = vfs.root;
  return { vfs, t, r, root, frames };
}

function write(vfs, t, r, path, data) {
  const f = vfs.open(t, r, r.root, path, O_CREAT | O_WRONLY | O_TRUNC, 0o644);
  f.write(t, Buffer.from(data));
  f.decRef();
}

function read(vfs, t, r, path) {
  const f = vfs.open(t, r, r.root, path, O_RDONLY, 0);
  const b = f.read(t, 1 << 20);
  f.decRef();
  return b.toString();
}

test('absolute, relative, dot and dotdot walks', () => {
  const { vfs, t, r, root } = setup();
  vfs.mkdir(r, root, '/a', 0o755);
  vfs.mkdir(r, root, '/a/b', 0o755);
  write(vfs, t, r, '/a/b/f', 'hello');
  const a = vfs.resolve(r, root, '/a', true);
  assert.strictEqual(read(vfs, t, r, '/a/./b/../b/f'), 'hello');
  assert.strictEqual(vfs.resolve(r, a, 'b/f', true).dentry.inode, vfs.resolve(r, root, '/a/b/f', true).dentry.inode);
  // ".." never goes above the root.
  assert.strictEqual(vfs.resolve(r, root, '/../../a', true).dentry, a.dentry);
  assert.strictEqual(vfs.pathname(r, vfs.resolve(r, root, '/a/b/f', true)).path, '/a/b/f');
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '/a/nope', true)), ENOENT);
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '/a/b/f/x', true)), ENOTDIR);
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '', true)), ENOENT);
});

test('trailing slashes', () => {
  const { vfs, t, r, root } = setup();
  vfs.mkdir(r, root, '/d', 0o755);
  write(vfs, t, r, '/f', 'x');
  assert.ok(vfs.resolve(r, root, '/d/', true));
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '/f/', true)), ENOTDIR);
  assert.strictEqual(errnoOf(() => vfs.open(t, r, root, '/new/', O_CREAT | O_WRONLY, 0o644)), EISDIR);
  vfs.mkdir(r, root, '/e/', 0o755); // mkdir accepts a trailing slash
  assert.strictEqual(errnoOf(() => vfs.unlink(r, root, '/f/')), ENOTDIR);
  assert.strictEqual(errnoOf(() => vfs.mknod(r, root, '/g/', 0o100000, 0o644)), ENOENT);
});

test('symlinks: relative, absolute, loops, O_NOFOLLOW, dangling create', () => {
  const { vfs, t, r, root } = setup();
  vfs.mkdir(r, root, '/d', 0o755);
  write(vfs, t, r, '/d/f', 'data');
  vfs.symlink(r, 'd/f', root, '/rel');
  vfs.symlink(r, '/d', root, '/abs');
  vfs.symlink(r, '../d/f', root, '/d/up');
  assert.strictEqual(read(vfs, t, r, '/rel'), 'data');
  assert.strictEqual(read(vfs, t, r, '/abs/f'), 'data');
  assert.strictEqual(read(vfs, t, r, '/abs/up'), 'data');
  assert.strictEqual(vfs.readlink(r, root, '/rel'), 'd/f');
  vfs.symlink(r, '/loop2', root, '/loop1');
  vfs.symlink(r, '/loop1', root, '/loop2');
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '/loop1', true)), ELOOP);
  assert.ok(vfs.resolve(r, root, '/loop1', false));
  assert.strictEqual(errnoOf(() => vfs.open(t, r, root, '/rel', O_RDONLY | O_NOFOLLOW, 0)), ELOOP);
  const p = vfs.open(t, r, root, '/rel', O_PATH | O_NOFOLLOW, 0);
  assert.strictEqual(p.stat().mode & 0o170000, 0o120000);
  // A chain of 40 links resolves, 41 fails.
  for (let i = 0; i < 41; i++) vfs.symlink(r, i === 0 ? '/d/f' : `/c${i - 1}`, root, `/c${i}`);
  assert.strictEqual(read(vfs, t, r, '/c39'), 'data');
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '/c40', true)), ELOOP);
  // O_CREAT through a dangling symlink creates its target; O_EXCL refuses.
  vfs.symlink(r, '/d/created', root, '/dangling');
  write(vfs, t, r, '/dangling', 'new');
  assert.strictEqual(read(vfs, t, r, '/d/created'), 'new');
  assert.strictEqual(errnoOf(() => vfs.open(t, r, root, '/dangling', O_CREAT | O_EXCL | O_WRONLY, 0o644)), EEXIST);
  // A symlink with a trailing slash is followed.
  assert.strictEqual(vfs.resolve(r, root, '/abs/', false).dentry, vfs.resolve(r, root, '/d', true).dentry);
});

test('open flags: O_DIRECTORY, O_EXCL, O_TRUNC, directories for writing', () => {
  const { vfs, t, r, root } = setup();
  write(vfs, t, r, '/f', 'abcdef');
  assert.strictEqual(errnoOf(() => vfs.open(t, r, root, '/f', O_RDONLY | O_DIRECTORY, 0)), ENOTDIR);
  assert.strictEqual(errnoOf(() => vfs.open(t, r, root, '/f', O_CREAT | O_EXCL | O_RDWR, 0)), EEXIST);
  assert.strictEqual(errnoOf(() => vfs.open(t, r, root, '/', O_RDWR, 0)), EISDIR);
  assert.strictEqual(errnoOf(() => vfs.open(t, r, root, '/', O_CREAT | O_RDONLY, 0)), EISDIR);
  vfs.open(t, r, root, '/f', O_WRONLY | O_TRUNC, 0).decRef();
  assert.strictEqual(read(vfs, t, r, '/f'), '');
});

test('ENAMETOOLONG for long components and paths', () => {
  const { vfs, r, root } = setup();
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '/' + 'x'.repeat(256), true)), ENAMETOOLONG);
  assert.strictEqual(errnoOf(() => vfs.mkdir(r, root, '/' + 'x'.repeat(256), 0o755)), ENAMETOOLONG);
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '/a'.repeat(2048), true)), ENAMETOOLONG);
  vfs.mkdir(r, root, '/' + 'y'.repeat(255), 0o755);
});

test('permissions for a non-root user', () => {
  const { vfs, t, r, root } = setup();
  vfs.mkdir(r, root, '/secret', 0o700);
  write(vfs, t, r, '/secret/f', 'x');
  write(vfs, t, r, '/ro', 'x');
  const u = fakeTask(1000);
  const ru = { creds: u.creds, root: vfs.root, ctx: u };
  assert.strictEqual(errnoOf(() => vfs.resolve(ru, root, '/secret/f', true)), EACCES);
  assert.strictEqual(errnoOf(() => vfs.open(u, ru, root, '/ro', O_WRONLY, 0)), EACCES);
  assert.ok(vfs.open(u, ru, root, '/ro', O_RDONLY, 0));
  assert.strictEqual(errnoOf(() => vfs.mkdir(ru, root, '/mine', 0o755)), EACCES);
  // Root bypasses permission bits, except exec needs some x bit (checked in exec).
  assert.ok(vfs.open(t, r, root, '/secret/f', O_RDWR, 0));
  // Sticky directory: others cannot remove root's file.
  vfs.mkdir(r, root, '/tmp', 0o1777);
  write(vfs, t, r, '/tmp/rootfile', 'x');
  assert.strictEqual(errnoOf(() => vfs.unlink(ru, root, '/tmp/rootfile')), 1);
});

test('mounts: crossing down and up with ..', () => {
  const { vfs, t, r, root, frames } = setup();
  vfs.mkdir(r, root, '/mnt', 0o755);
  write(vfs, t, r, '/mnt/under', 'hidden');
  vfs.mountAt('/mnt', new TmpfsFs(frames));
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '/mnt/under', true)), ENOENT);
  write(vfs, t, r, '/mnt/over', 'o');
  const m = vfs.resolve(r, root, '/mnt', true);
  assert.notStrictEqual(m.mount, vfs.rootMount);
  assert.strictEqual(vfs.resolve(r, m, '..', true).dentry, vfs.root.dentry);
  assert.strictEqual(vfs.pathname(r, vfs.resolve(r, root, '/mnt/over', true)).path, '/mnt/over');
  assert.strictEqual(errnoOf(() => vfs.rename(r, root, '/mnt/over', root, '/over', 0)), EXDEV);
  assert.strictEqual(errnoOf(() => vfs.rmdir(r, root, '/mnt')), EBUSY);
  assert.strictEqual(errnoOf(() => vfs.link(r, root, '/mnt/over', true, root, '/lnk')), EXDEV);
});

test('rmdir/unlink errors', () => {
  const { vfs, t, r, root } = setup();
  vfs.mkdir(r, root, '/d', 0o755);
  write(vfs, t, r, '/d/f', 'x');
  assert.strictEqual(errnoOf(() => vfs.rmdir(r, root, '/d')), ENOTEMPTY);
  assert.strictEqual(errnoOf(() => vfs.rmdir(r, root, '/d/f')), ENOTDIR);
  assert.strictEqual(errnoOf(() => vfs.unlink(r, root, '/d')), EISDIR);
  assert.strictEqual(errnoOf(() => vfs.rmdir(r, root, '/d/.')), EINVAL);
  vfs.unlink(r, root, '/d/f');
  vfs.rmdir(r, root, '/d');
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '/d', true)), ENOENT);
});
