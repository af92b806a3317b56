'use strict';
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { VirtualFilesystem } = require('../../dist/vfs/vfs');
const { TmpfsFs } = require('../../dist/fsimpl/tmpfs/tmpfs');
const { HostFs } = require('../../dist/fsimpl/hostfs/hostfs');
const { HostTree } = require('../../dist/host/hosttree');
const { OverlayFs } = require('../../dist/fsimpl/overlay/overlay');
const { buildMountNamespace } = require('../../dist/sandbox/mounts');
const { FakeFrames, fakeTask, errnoOf } = require('./vfs_fakes');

const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_TRUNC = 0o1000, O_APPEND = 0o2000;
const ENOENT = 2, ENOTEMPTY = 39;

function hostTree() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-ovl-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  fs.mkdirSync(path.join(dir, 'etc'));
  fs.writeFileSync(path.join(dir, 'etc', 'passwd'), 'root:x:0:0\n');
  fs.writeFileSync(path.join(dir, 'etc', 'hosts'), '127.0.0.1 localhost\n');
  fs.mkdirSync(path.join(dir, 'usr', 'lib'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'usr', 'lib', 'libx.so'), Buffer.alloc(10000, 7));
  fs.symlinkSync('lib', path.join(dir, 'usr', 'lib64'));
  fs.mkdirSync(path.join(dir, 'emptydir'));
  return dir;
}

function setup() {
  const dir = hostTree();
  const frames = new FakeFrames();
  const ovl = new OverlayFs(new HostFs(new HostTree(dir), frames), new TmpfsFs(frames));
  const vfs = new VirtualFilesystem(ovl);
  const t = fakeTask(0);
  const r = { creds: t.creds, root: vfs.root, ctx: t };
  return { dir, vfs, t, r, root: vfs.root, frames };
}

const names = (vfs, r, p) => vfs.resolve(r, r.root, p, true).dentry.inode.readdir(null).map((e) => e.name).sort();
function read(vfs, t, r, p) {
  const f = vfs.open(t, r, r.root, p, O_RDONLY, 0);
  const b = f.read(t, 1 << 20);
  f.decRef();
  return b;
}

test('reads fall through to the host; writes copy up and never reach the host', () => {
  const { dir, vfs, t, r, root } = setup();
  assert.strictEqual(read(vfs, t, r, '/etc/passwd').toString(), 'root:x:0:0\n');
  const before = vfs.resolve(r, root, '/etc/passwd', true).dentry.inode.ino;
  const f = vfs.open(t, r, root, '/etc/passwd', O_WRONLY | O_APPEND, 0);
  f.write(t, Buffer.from('user:x:1000:1000\n'));
  f.decRef();
  assert.strictEqual(read(vfs, t, r, '/etc/passwd').toString(), 'root:x:0:0\nuser:x:1000:1000\n');
  assert.strictEqual(fs.readFileSync(path.join(dir, 'etc', 'passwd'), 'utf8'), 'root:x:0:0\n');
  assert.strictEqual(vfs.resolve(r, root, '/etc/passwd', true).dentry.inode.ino, before, 'inode number stable across copy-up');
  // Through the symlinked directory too.
  assert.strictEqual(read(vfs, t, r, '/usr/lib64/libx.so').length, 10000);
  // chmod copies up metadata only.
  vfs.resolve(r, root, '/etc/hosts', true).dentry.inode.setattr({ mode: 0o600 });
  assert.strictEqual(vfs.resolve(r, root, '/etc/hosts', true).dentry.inode.attrs().mode & 0o777, 0o600);
  assert.strictEqual(fs.statSync(path.join(dir, 'etc', 'hosts')).mode & 0o777, 0o644);
  assert.strictEqual(read(vfs, t, r, '/etc/hosts').toString(), '127.0.0.1 localhost\n');
});

test('O_TRUNC on a lower file and new files in lower dirs', () => {
  const { dir, vfs, t, r, root } = setup();
  vfs.open(t, r, root, '/usr/lib/libx.so', O_WRONLY | O_TRUNC, 0).decRef();
  assert.strictEqual(read(vfs, t, r, '/usr/lib/libx.so').length, 0);
  assert.strictEqual(fs.statSync(path.join(dir, 'usr/lib/libx.so')).size, 10000);
  const f = vfs.open(t, r, root, '/usr/lib/new.txt', O_CREAT | O_RDWR, 0o644);
  f.write(t, Buffer.from('n'));
  f.decRef();
  assert.deepStrictEqual(names(vfs, r, '/usr/lib'), ['libx.so', 'new.txt']);
  assert.ok(!fs.existsSync(path.join(dir, 'usr/lib/new.txt')));
});

test('unlink leaves a whiteout; readdir merges; rmdir + mkdir is opaque', () => {
  const { dir, vfs, t, r, root } = setup();
  vfs.unlink(r, root, '/etc/passwd');
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '/etc/passwd', true)), ENOENT);
  assert.deepStrictEqual(names(vfs, r, '/etc'), ['hosts']);
  assert.ok(fs.existsSync(path.join(dir, 'etc/passwd')));
  // Recreate over the whiteout.
  const f = vfs.open(t, r, root, '/etc/passwd', O_CREAT | O_WRONLY, 0o644);
  f.write(t, Buffer.from('fresh'));
  f.decRef();
  assert.strictEqual(read(vfs, t, r, '/etc/passwd').toString(), 'fresh');
  // A directory that only looks empty because of whiteouts can be removed.
  vfs.unlink(r, root, '/etc/passwd');
  vfs.unlink(r, root, '/etc/hosts');
  assert.deepStrictEqual(names(vfs, r, '/etc'), []);
  vfs.rmdir(r, root, '/etc');
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '/etc', true)), ENOENT);
  vfs.mkdir(r, root, '/etc', 0o755);
  assert.deepStrictEqual(names(vfs, r, '/etc'), [], 'new directory hides the lower one');
  assert.strictEqual(errnoOf(() => vfs.rmdir(r, root, '/usr')), ENOTEMPTY);
  assert.ok(!names(vfs, r, '/').includes('etc') === false);
});

test('rename of lower files and directories', () => {
  const { dir, vfs, t, r, root } = setup();
  const ino = vfs.resolve(r, root, '/etc/hosts', true).dentry.inode.ino;
  vfs.rename(r, root, '/etc/hosts', root, '/hosts2', 0);
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '/etc/hosts', true)), ENOENT);
  assert.strictEqual(read(vfs, t, r, '/hosts2').toString(), '127.0.0.1 localhost\n');
  assert.strictEqual(vfs.resolve(r, root, '/hosts2', true).dentry.inode.ino, ino);
  // A whole lower directory moves with its content.
  vfs.rename(r, root, '/usr', root, '/usr2', 0);
  assert.strictEqual(read(vfs, t, r, '/usr2/lib/libx.so').length, 10000);
  assert.strictEqual(read(vfs, t, r, '/usr2/lib64/libx.so').length, 10000);
  assert.strictEqual(errnoOf(() => vfs.resolve(r, root, '/usr', true)), ENOENT);
  assert.ok(!names(vfs, r, '/').includes('usr'));
  // Replace a lower file with an upper one.
  vfs.rename(r, root, '/hosts2', root, '/etc/passwd', 0);
  assert.strictEqual(read(vfs, t, r, '/etc/passwd').toString(), '127.0.0.1 localhost\n');
  // Renaming a directory over an empty lower directory.
  vfs.mkdir(r, root, '/newdir', 0o755);
  vfs.rename(r, root, '/newdir', root, '/emptydir', 0);
  assert.deepStrictEqual(names(vfs, r, '/emptydir'), []);
  assert.ok(fs.existsSync(path.join(dir, 'usr/lib/libx.so')));
  assert.ok(fs.existsSync(path.join(dir, 'etc/hosts')));
});

test('hard link of a lower file shares the copied-up inode', () => {
  const { vfs, t, r, root } = setup();
  vfs.link(r, root, '/etc/hosts', false, root, '/h');
  const a = vfs.resolve(r, root, '/h', true).dentry.inode;
  const b = vfs.resolve(r, root, '/etc/hosts', true).dentry.inode;
  assert.strictEqual(a.ino, b.ino);
  assert.strictEqual(a.attrs().nlink, 2);
  const f = vfs.open(t, r, root, '/h', O_WRONLY | O_APPEND, 0);
  f.write(t, Buffer.from('x'));
  f.decRef();
  assert.ok(read(vfs, t, r, '/etc/hosts').toString().endsWith('x'));
});

test('mappable: lower files page-cache frames; write mapping copies up', () => {
  const { dir, vfs, r, root, frames } = setup();
  const m = vfs.resolve(r, root, '/usr/lib/libx.so', true).dentry.inode.mappable();
  const fr = m.frameFor(0, false);
  assert.strictEqual(frames.bytes(fr)[0], 7);
  assert.strictEqual(m.frameFor(0, false), fr, 'page cache reuses the frame');
  const w = m.frameFor(1, true);
  frames.bytes(w)[0] = 9;
  assert.strictEqual(fs.readFileSync(path.join(dir, 'usr/lib/libx.so'))[4096], 7);
});

test('buildMountNamespace: overlay root with /tmp, /dev, /dev/shm', () => {
  const dir = hostTree();
  const { vfs, rootContext } = buildMountNamespace({ rootfs: new HostTree(dir), memfile: new FakeFrames(), host: { cpuinfo: '', ncpu: 2 } });
  const ctx = rootContext();
  const t = fakeTask(0);
  const r = ctx.resolver(t.creds, t);
  const tmp = vfs.resolve(r, ctx.cwd, '/tmp', true);
  assert.strictEqual(tmp.mount.fs.name, 'tmpfs');
  assert.strictEqual(vfs.resolve(r, ctx.cwd, '/dev/shm', true).mount.fs.name, 'tmpfs');
  const nul = vfs.open(t, r, ctx.cwd, '/dev/null', O_RDWR, 0);
  assert.strictEqual(nul.write(t, Buffer.from('abc')), 3);
  assert.strictEqual(nul.read(t, 10).length, 0);
  const z = vfs.open(t, r, ctx.cwd, '/dev/zero', O_RDONLY, 0);
  assert.deepStrictEqual([...z.read(t, 4)], [0, 0, 0, 0]);
  assert.strictEqual(vfs.readlink(r, ctx.cwd, '/dev/fd'), '/proc/self/fd');
  assert.ok(vfs.resolve(r, ctx.cwd, '/proc', true));
  assert.throws(() => new HostTree(path.join(dir, 'etc/passwd')), /not a directory/);
  assert.throws(() => new HostTree(path.join(dir, 'nope')), /does not exist/);
});
