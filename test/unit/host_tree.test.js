'use strict';
// HostTree: the descriptor-per-component walk of the host rootfs tree, and
// hostfs's revalidation on top of it.
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');
const { HostTree } = require('../../dist/host/hosttree');
const { HostError } = require('../../dist/host/hostfs');
const { HostFs } = require('../../dist/fsimpl/hostfs/hostfs');
const { FakeFrames } = require('./vfs_fakes');

const ESTALE = 116;

const made = [];
process.on('exit', () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function tree() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-hosttree-'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-hosttree-out-'));
  fs.mkdirSync(path.join(dir, 'a', 'b'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'a', 'b', 'f'), 'inside\n');
  fs.mkdirSync(path.join(out, 'b'));
  fs.writeFileSync(path.join(out, 'b', 'f'), 'OUTSIDE\n');
  fs.symlinkSync('/etc', path.join(dir, 'link'));
  made.push(dir, out);
  return { dir, out };
}

const read = (t, n) => {
  const b = Buffer.alloc(64);
  return b.toString('latin1', 0, t.pread(n, b, 0));
};

function walk(t, names) {
  let n = t.root();
  for (const name of names) n = t.lookup(n, name);
  return n;
}

test('lookup, readdir, readlink, pread by node; symlinks are nodes, never followed', () => {
  const { dir } = tree();
  const t = new HostTree(dir);
  const f = walk(t, ['a', 'b', 'f']);
  assert.strictEqual(read(t, f), 'inside\n');
  const link = t.lookup(t.root(), 'link');
  assert.strictEqual(link.stat.mode & 0o170000, 0o120000);
  assert.strictEqual(t.readlink(link), '/etc');
  assert.strictEqual(t.lookup(link, 'passwd'), null, 'a lookup below a symlink does not follow it');
  assert.strictEqual(t.lookup(t.root(), 'nope'), null);
  for (const bad of ['..', '.', '', 'link/passwd', 'a\0']) assert.throws(() => t.lookup(t.root(), bad), (e) => e.errno === 22, bad);
  const names = t.readdir(t.root()).map((e) => e.name).sort();
  assert.deepStrictEqual(names, ['a', 'link']);
  const ents = t.readdir(walk(t, ['a', 'b']));
  assert.deepStrictEqual(ents, [{ name: 'f', ino: f.ino, type: 8 }]);
  assert.throws(() => new HostTree(path.join(dir, 'a', 'b', 'f')), /not a directory/);
  assert.throws(() => new HostTree(path.join(dir, 'nope')), /does not exist/);
});

test('a directory swapped for a symlink: an evicted node is stale, never reopened through the symlink', () => {
  const { dir, out } = tree();
  const t = new HostTree(dir, { pathFds: 8, readFds: 1 });
  const a = walk(t, ['a']);
  const f = walk(t, ['a', 'b', 'f']);
  assert.strictEqual(read(t, f), 'inside\n');
  // Evict every descriptor on the way to f (other lookups fill the LRUs).
  for (let i = 0; i < 20; i++) fs.mkdirSync(path.join(dir, `d${i}`));
  for (let i = 0; i < 20; i++) {
    const d = t.lookup(t.root(), `d${i}`);
    t.readdir(d);
  }
  const g = fs.writeFileSync(path.join(dir, 'g'), 'g\n');
  read(t, t.lookup(t.root(), 'g'));
  assert.ok(t.held().path <= 9 && t.held().read <= 1, JSON.stringify(t.held()));
  fs.renameSync(path.join(dir, 'a'), path.join(dir, 'a.real'));
  fs.symlinkSync(out, path.join(dir, 'a'));
  assert.throws(() => read(t, f), (e) => e instanceof HostError && e.errno === ESTALE);
  assert.throws(() => t.lookup(a, 'b'), (e) => e instanceof HostError && e.errno === ESTALE);
  // Looked up again, the name is what it is now: a symlink.
  assert.strictEqual(t.lookup(t.root(), 'a').stat.mode & 0o170000, 0o120000);
  void g;
});

test('a pinned (open) file stays readable across a swap and descriptor pressure', () => {
  const { dir, out } = tree();
  const t = new HostTree(dir, { pathFds: 8, readFds: 1 });
  const f = walk(t, ['a', 'b', 'f']);
  t.pin(f);
  fs.renameSync(path.join(dir, 'a'), path.join(dir, 'a.real'));
  fs.symlinkSync(out, path.join(dir, 'a'));
  for (let i = 0; i < 20; i++) {
    fs.writeFileSync(path.join(dir, `x${i}`), 'x');
    read(t, t.lookup(t.root(), `x${i}`));
  }
  assert.strictEqual(read(t, f), 'inside\n');
  t.unpin(f);
});

test('hostfs revalidation: a replaced entry is invalid, a kept one gets fresh attributes', () => {
  const { dir, out } = tree();
  const hfs = new HostFs(new HostTree(dir), new FakeFrames(), { revalidateMs: 0 });
  const a = hfs.root().lookup('a');
  const b = a.lookup('b');
  const f = b.lookup('f');
  assert.strictEqual(hfs.root().revalidate('a', a, null), true);
  fs.writeFileSync(path.join(dir, 'a', 'b', 'f'), 'longer content now\n');
  assert.strictEqual(b.revalidate('f', f, null), true);
  assert.strictEqual(f.attrs().size, 'longer content now\n'.length);
  assert.strictEqual(b.lookup('new'), null);
  fs.writeFileSync(path.join(dir, 'a', 'b', 'new'), 'n');
  assert.ok(b.lookup('new'), 'no negative caching: a new host file is found');
  // Renamed on the host: the same inode under its new name, read by that name.
  fs.renameSync(path.join(dir, 'a', 'b', 'f'), path.join(dir, 'a', 'b', 'g'));
  assert.strictEqual(b.revalidate('f', f, null), false);
  const g = b.lookup('g');
  assert.strictEqual(g, f, 'same (dev, ino): the same inode');
  assert.strictEqual(g.readAt(0, 100).toString(), 'longer content now\n');
  fs.renameSync(path.join(dir, 'a'), path.join(dir, 'a.real'));
  fs.symlinkSync(out, path.join(dir, 'a'));
  assert.strictEqual(hfs.root().revalidate('a', a, null), false);
  assert.strictEqual(hfs.root().lookup('a').mode & 0o170000, 0o120000);
});

test('hostfs page cache is bounded: least recently used files lose their frames', () => {
  const { dir } = tree();
  for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(dir, `p${i}`), Buffer.alloc(4096 * 3, i + 1));
  const frames = new FakeFrames();
  const hfs = new HostFs(new HostTree(dir), frames, { pages: 4 });
  for (let i = 0; i < 4; i++) {
    const m = hfs.root().lookup(`p${i}`).mappable();
    for (let p = 0; p < 3; p++) {
      const f = m.frameFor(p, false);
      assert.strictEqual(frames.bytes(f)[0], i + 1);
    }
    assert.ok(hfs.pagesHeld() <= 4, `pages held ${hfs.pagesHeld()}`);
    assert.ok(frames.live() <= 4, `frames live ${frames.live()}`);
  }
});

test('open (pinned) files share one descriptor each, and at most pinnedReadFds stay open', () => {
  const { dir } = tree();
  const t = new HostTree(dir, { pathFds: 8, readFds: 2, pinnedReadFds: 4 });
  const files = [];
  for (let i = 0; i < 20; i++) {
    fs.writeFileSync(path.join(dir, `p${i}`), `file ${i}\n`);
    const n = t.lookup(t.root(), `p${i}`);
    t.pin(n);
    t.pin(n); // a second open of the same file takes no second descriptor
    files.push(n);
  }
  assert.ok(t.held().pinnedRead <= 4, JSON.stringify(t.held()));
  const before = t.opens;
  for (let round = 0; round < 2; round++) for (let i = 0; i < 20; i++) assert.strictEqual(read(t, files[i]), `file ${i}\n`);
  assert.ok(t.held().pinnedRead <= 4 && t.held().read <= 2, JSON.stringify(t.held()));
  assert.ok(t.opens - before >= 36, 'evicted descriptors were reopened by name');
  for (const n of files) {
    t.unpin(n);
    t.unpin(n);
  }
  assert.strictEqual(t.held().pinnedRead, 0);
  assert.ok(t.held().read <= 2);
});
