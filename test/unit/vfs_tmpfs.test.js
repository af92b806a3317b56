'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { VirtualFilesystem } = require('../../dist/vfs/vfs');
const { TmpfsFs } = require('../../dist/fsimpl/tmpfs/tmpfs');
const { FakeFrames, fakeTask, errnoOf } = require('./vfs_fakes');

const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100;
const ENOENT = 2, EEXIST = 17, ENOTDIR = 20, EISDIR = 21, EINVAL = 22, ENOTEMPTY = 39, ENXIO = 6;
const RENAME_NOREPLACE = 1, RENAME_EXCHANGE = 2;

function setup() {
  const frames = new FakeFrames();
  const vfs = new VirtualFilesystem(new TmpfsFs(frames, { mode: 0o755 }));
  const t = fakeTask(0);
  const r = { creds: t.creds, root: vfs.root, ctx: t };
  return { vfs, t, r, root: vfs.root, frames };
}
const ino = (vfs, r, p) => vfs.resolve(r, r.root, p, false).dentry.inode;
function mk(vfs, t, r, p, data = '') {
  const f = vfs.open(t, r, r.root, p, O_CREAT | O_WRONLY, 0o644);
  if (data) f.write(t, Buffer.from(data));
  return f;
}

test('file data across pages, holes, truncate, seek data/hole', () => {
  const { vfs, t, r, frames } = setup();
  const f = vfs.open(t, r, r.root, '/f', O_CREAT | O_RDWR, 0o644);
  const big = Buffer.alloc(10000);
  for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
  assert.strictEqual(f.pwrite(t, big, 3000), 10000);
  const a = f.inode.attrs();
  assert.strictEqual(a.size, 13000);
  assert.deepStrictEqual(f.pread(t, 10000, 3000), big);
  assert.deepStrictEqual([...f.pread(t, 4, 0)], [0, 0, 0, 0]);
  f.inode.setattr({ size: 5000 });
  assert.strictEqual(f.pread(t, 100000, 0).length, 5000);
  f.inode.setattr({ size: 9000 });
  assert.deepStrictEqual([...f.pread(t, 4, 6000)], [0, 0, 0, 0], 'extension after truncate reads zeros');
  // A sparse file: data only in page 3.
  const g = vfs.open(t, r, r.root, '/g', O_CREAT | O_RDWR, 0o644);
  g.pwrite(t, Buffer.from('x'), 3 * 4096 + 5);
  assert.strictEqual(g.seek(0, 3 /* SEEK_DATA */), 3 * 4096);
  assert.strictEqual(g.seek(0, 4 /* SEEK_HOLE */), 0);
  assert.strictEqual(g.seek(3 * 4096, 4), 3 * 4096 + 6);
  assert.strictEqual(errnoOf(() => g.seek(100000, 3)), ENXIO);
  // Punch hole frees the page.
  const before = frames.live();
  g.inode.allocate(3, 3 * 4096, 4096);
  assert.strictEqual(frames.live(), before - 1);
  assert.strictEqual(g.inode.attrs().size, 3 * 4096 + 6);
  g.inode.allocate(0, 0, 20000);
  assert.strictEqual(g.inode.attrs().size, 20000);
});

test('mappable frames are the file data', () => {
  const { vfs, t, r, frames } = setup();
  const f = mk(vfs, t, r, '/m', 'hello');
  const m = f.inode.mappable();
  const fr = m.frameFor(0, true);
  assert.strictEqual(frames.bytes(fr).toString('latin1', 0, 5), 'hello');
  frames.bytes(fr).write('J', 0, 'latin1');
  assert.strictEqual(f.pread(t, 5, 0).toString(), 'Jello');
});

test('unlinked open files keep data until closed', () => {
  const { vfs, t, r, frames } = setup();
  const f = mk(vfs, t, r, '/u', 'x'.repeat(9000));
  const live = frames.live();
  vfs.unlink(r, r.root, '/u');
  assert.strictEqual(f.pread(t, 10, 0).toString(), 'xxxxxxxxxx');
  assert.strictEqual(f.stat().nlink, 0);
  f.decRef();
  assert.strictEqual(frames.live(), live - 3);
});

test('hard links and nlink; directory nlink', () => {
  const { vfs, t, r } = setup();
  mk(vfs, t, r, '/a', 'a').decRef();
  vfs.link(r, r.root, '/a', false, r.root, '/b');
  assert.strictEqual(ino(vfs, r, '/a'), ino(vfs, r, '/b'));
  assert.strictEqual(ino(vfs, r, '/a').attrs().nlink, 2);
  vfs.unlink(r, r.root, '/a');
  assert.strictEqual(ino(vfs, r, '/b').attrs().nlink, 1);
  assert.strictEqual(errnoOf(() => vfs.link(r, r.root, '/b', false, r.root, '/b')), EEXIST);
  vfs.mkdir(r, r.root, '/d', 0o755);
  assert.strictEqual(errnoOf(() => vfs.link(r, r.root, '/d', false, r.root, '/d2')), 1);
  const rootNlink = ino(vfs, r, '/').attrs().nlink;
  vfs.mkdir(r, r.root, '/d/sub', 0o755);
  assert.strictEqual(ino(vfs, r, '/d').attrs().nlink, 3);
  assert.strictEqual(rootNlink, 3);
});

test('rename semantics', () => {
  const { vfs, t, r } = setup();
  const root = r.root;
  mk(vfs, t, r, '/f1', 'one').decRef();
  mk(vfs, t, r, '/f2', 'two').decRef();
  vfs.mkdir(r, root, '/d1', 0o755);
  vfs.mkdir(r, root, '/d2', 0o755);
  vfs.mkdir(r, root, '/full', 0o755);
  mk(vfs, t, r, '/full/x').decRef();
  assert.strictEqual(errnoOf(() => vfs.rename(r, root, '/f1', root, '/f2', RENAME_NOREPLACE)), EEXIST);
  assert.strictEqual(errnoOf(() => vfs.rename(r, root, '/f1', root, '/d1', 0)), EISDIR);
  assert.strictEqual(errnoOf(() => vfs.rename(r, root, '/d1', root, '/f1', 0)), ENOTDIR);
  assert.strictEqual(errnoOf(() => vfs.rename(r, root, '/d1', root, '/full', 0)), ENOTEMPTY);
  assert.strictEqual(errnoOf(() => vfs.rename(r, root, '/d1', root, '/d1/sub', 0)), EINVAL);
  assert.strictEqual(errnoOf(() => vfs.rename(r, root, '/nope', root, '/x', 0)), ENOENT);
  assert.strictEqual(errnoOf(() => vfs.rename(r, root, '/f1', root, '/nope', RENAME_EXCHANGE)), ENOENT);
  assert.strictEqual(errnoOf(() => vfs.rename(r, root, '/f1', root, '/f2', 3)), EINVAL);
  const f1 = ino(vfs, r, '/f1');
  vfs.rename(r, root, '/f1', root, '/f2', 0);
  assert.strictEqual(ino(vfs, r, '/f2'), f1);
  assert.strictEqual(errnoOf(() => ino(vfs, r, '/f1')), ENOENT);
  vfs.rename(r, root, '/d1', root, '/d2', 0); // empty directory replaced
  vfs.rename(r, root, '/f2', root, '/full', RENAME_EXCHANGE);
  assert.strictEqual(ino(vfs, r, '/full'), f1);
  assert.ok(ino(vfs, r, '/f2/x'));
  // cwd-style references follow renames.
  vfs.mkdir(r, root, '/p', 0o755);
  vfs.mkdir(r, root, '/p/q', 0o755);
  const q = vfs.resolve(r, root, '/p/q', true);
  vfs.rename(r, root, '/p', root, '/renamed', 0);
  assert.strictEqual(vfs.pathname(r, q).path, '/renamed/q');
  assert.strictEqual(vfs.resolve(r, q, '..', true).dentry.name, 'renamed');
  // Renaming a file onto itself (hard links) is a no-op.
  vfs.link(r, root, '/full', false, root, '/same');
  vfs.rename(r, root, '/full', root, '/same', 0);
  assert.ok(ino(vfs, r, '/full'));
});

test('directory reading through getdents64', () => {
  const { vfs, t, r } = setup();
  for (const n of ['a', 'bb', 'ccc']) mk(vfs, t, r, '/' + n).decRef();
  const d = vfs.open(t, r, r.root, '/', O_RDONLY, 0);
  const buf = d.getdents(4096, true);
  const seen = [];
  for (let off = 0; off < buf.length; ) {
    const reclen = buf.readUInt16LE(off + 16);
    const end = buf.indexOf(0, off + 19);
    seen.push(buf.toString('latin1', off + 19, end));
    assert.strictEqual(reclen % 8, 0);
    off += reclen;
  }
  assert.deepStrictEqual(seen.sort(), ['.', '..', 'a', 'bb', 'ccc']);
  assert.strictEqual(d.getdents(4096, true).length, 0);
  d.seek(0, 0);
  assert.strictEqual(errnoOf(() => d.getdents(10, true)), EINVAL);
  assert.strictEqual(d.getdents(24, true).length, 24);
});
