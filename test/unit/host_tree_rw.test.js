'use strict';
// WritableHostTree (host/hosttree_rw.ts) on its own: names are single
// components, errors are the host's Linux errnos, a new file gets the owner
// and exact mode asked, a node whose name now leads elsewhere is ESTALE, and
// an open file whose last name went stays writable and statable.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { WritableHostTree } = require('../../dist/host/hosttree_rw');

function tree() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-rwtree-'));
  test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { dir, t: new WritableHostTree(dir) };
}
const errno = (f) => {
  try {
    f();
  } catch (e) {
    return e.errno;
  }
  return 0;
};
const ANY = { uid: -1, gid: -1 };

test('names are single components: "", ".", "..", "a/b" and NUL are EINVAL for every call', () => {
  const { t } = tree();
  const r = t.root();
  for (const bad of ['', '.', '..', 'a/b', '../x', 'a\0b']) {
    assert.strictEqual(errno(() => t.create(r, bad, 0o644, ANY)), 22, bad);
    assert.strictEqual(errno(() => t.mkdir(r, bad, 0o755, ANY)), 22, bad);
    assert.strictEqual(errno(() => t.unlink(r, bad, false)), 22, bad);
    assert.strictEqual(errno(() => t.rename(r, bad, r, 'x', 0)), 22, bad);
    assert.strictEqual(errno(() => t.symlink(r, bad, 'x', ANY)), 22, bad);
  }
});

test('the host\'s errnos: EEXIST (a dangling symlink too), ENOTEMPTY, EISDIR, ENOTDIR, EPERM for a directory link, NOREPLACE', () => {
  const { dir, t } = tree();
  const r = t.root();
  t.symlink(r, 'dangle', 'nowhere', ANY);
  assert.strictEqual(errno(() => t.create(r, 'dangle', 0o644, ANY)), 17);
  assert.ok(!fs.existsSync(path.join(dir, 'nowhere')), 'the symlink was not followed');
  const d = t.mkdir(r, 'd', 0o755, ANY);
  t.create(d, 'in', 0o644, ANY);
  assert.strictEqual(errno(() => t.unlink(r, 'd', true)), 39);
  assert.strictEqual(errno(() => t.unlink(r, 'd', false)), 21);
  const f = t.create(r, 'f', 0o644, ANY);
  assert.strictEqual(errno(() => t.unlink(r, 'f', true)), 20);
  assert.strictEqual(errno(() => t.link(d, r, 'd2')), 1);
  assert.strictEqual(errno(() => t.rename(r, 'f', r, 'dangle', 1)), 17);
  t.rename(r, 'f', r, 'g', 0);
  assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['d', 'dangle', 'g']);
  assert.strictEqual(t.link(f, r, 'h').stat.nlink, 2);
  assert.strictEqual(errno(() => t.setattr(d, { size: 0 })), 21);
});

test('a new file gets the owner and the exact mode asked (not the host umask), as one call', () => {
  const { dir, t } = tree();
  const r = t.root();
  const old = process.umask(0o077);
  try {
    const owner = process.getuid() === 0 ? { uid: 1234, gid: 4321 } : ANY;
    const f = t.create(r, 'f', 0o4755, owner);
    const d = t.mkdir(r, 'd', 0o775, owner);
    const p = t.mknod(r, 'p', 0o010664, 0, owner);
    for (const [n, node, mode] of [['f', f, 0o104755], ['d', d, 0o40775], ['p', p, 0o10664]]) {
      const st = fs.lstatSync(path.join(dir, n));
      assert.strictEqual(st.mode, mode, n);
      assert.strictEqual(node.stat.mode, mode, n);
      if (owner.uid !== -1) assert.deepStrictEqual([st.uid, st.gid], [1234, 4321], n);
    }
  } finally {
    process.umask(old);
  }
  assert.strictEqual(errno(() => t.mknod(r, 'c', 0o020644, 0x103, ANY)), process.getuid() === 0 ? 0 : 1, 'devices only where the host allows');
});

test('a node whose name now leads to another file is ESTALE; an open unlinked file stays writable and statable', () => {
  const { dir, t } = tree();
  const r = t.root();
  const f = t.create(r, 'f', 0o644, ANY);
  t.pin(f);
  assert.strictEqual(t.pwrite(f, Buffer.from('hello'), 0), 5);
  t.unlink(r, 'f', false);
  assert.strictEqual(t.pwrite(f, Buffer.from(' world'), 5), 6);
  const st = t.stat(f);
  assert.deepStrictEqual([st.nlink, st.size], [0, 11]);
  const b = Buffer.alloc(11);
  assert.strictEqual(t.pread(f, b, 0), 11);
  assert.strictEqual(b.toString(), 'hello world');
  assert.strictEqual(t.setattr(f, { size: 3 }).size, 3);
  t.unpin(f);
  // Another file under an old name: a node found before is stale, never the newcomer.
  const g = t.create(r, 'g', 0o644, ANY);
  fs.unlinkSync(path.join(dir, 'g'));
  fs.writeFileSync(path.join(dir, 'g'), 'newcomer');
  assert.strictEqual(errno(() => t.pwrite(g, Buffer.from('x'), 0)), 0, 'the write descriptor kept from create still reaches the old file');
  assert.strictEqual(fs.readFileSync(path.join(dir, 'g'), 'utf8'), 'newcomer');
  const h = t.lookup(r, 'g');
  fs.renameSync(path.join(dir, 'g'), path.join(dir, 'g2'));
  fs.symlinkSync('/etc/passwd', path.join(dir, 'g'));
  assert.strictEqual(errno(() => t.pwrite(h, Buffer.from('x'), 0)), 116);
});

test('xattrs are the host file\'s; utimes and chmod through the descriptor; statfs of the tree', () => {
  const { dir, t } = tree();
  const r = t.root();
  const f = t.create(r, 'f', 0o644, ANY);
  t.setxattr(f, 'user.k', Buffer.from('v'), 0);
  assert.strictEqual(errno(() => t.setxattr(f, 'user.k', Buffer.from('v'), 1)), 17);
  assert.deepStrictEqual(t.listxattr(f), ['user.k']);
  assert.strictEqual(t.getxattr(f, 'user.k').toString(), 'v');
  t.removexattr(f, 'user.k');
  assert.strictEqual(errno(() => t.getxattr(f, 'user.k')), 61);
  const st = t.setattr(f, { mode: 0o600, mtime: 1_500_000_000_123_456_789n, atime: 'omit' });
  assert.strictEqual(st.mode & 0o7777, 0o600);
  assert.strictEqual(st.mtimeNs, 1_500_000_000_123_456_789n);
  assert.strictEqual(fs.statSync(path.join(dir, 'f')).mode & 0o7777, 0o600);
  const s = t.statfs();
  assert.ok(s.bsize > 0 && s.namelen === 255 && s.frsize > 0);
});
