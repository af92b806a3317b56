'use strict';
// The bounded dentry cache: what it lets go is collected, what something
// still holds keeps its identity (renames move it, getcwd-style paths follow).
const test = require('node:test');
const assert = require('node:assert');
const v8 = require('node:v8');
const vm = require('node:vm');
const { VirtualFilesystem } = require('../../dist/vfs/vfs');
const { TmpfsFs } = require('../../dist/fsimpl/tmpfs/tmpfs');
const { pathOf } = require('../../dist/vfs/dentry');
const { HeapBudget } = require('../../dist/abi/accounting');
const { FakeFrames, fakeTask } = require('./vfs_fakes');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

// Collection, then the finalization callbacks that clean the name maps.
async function collect() {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

function setup(limit) {
  process.env.TSVISOR_DENTRY_CACHE = String(limit);
  const frames = new FakeFrames();
  const vfs = new VirtualFilesystem(new TmpfsFs(frames, { mode: 0o755 }));
  delete process.env.TSVISOR_DENTRY_CACHE;
  const t = fakeTask(0);
  const r = { creds: t.creds, root: vfs.root, ctx: t };
  return { vfs, t, r };
}

test('a walk over many names leaves only the LRU and what is held', async () => {
  const { vfs, r } = setup(50);
  vfs.mkdir(r, r.root, '/d', 0o755);
  for (let i = 0; i < 3000; i++) vfs.mkdir(r, r.root, `/d/n${i}`, 0o755);
  for (let i = 0; i < 3000; i++) vfs.resolve(r, r.root, `/d/n${i}`, true);
  assert.ok(vfs.dentries.size <= 50 && vfs.dentries.peak <= 50, `${vfs.dentries.size} ${vfs.dentries.peak}`);
  await collect();
  assert.ok(vfs.countCachedDentries() <= 52, `${vfs.countCachedDentries()} dentries alive`);
  // Nothing was lost: every name still resolves (to a new dentry where the old one was let go).
  for (let i = 0; i < 3000; i += 97) assert.ok(vfs.resolve(r, r.root, `/d/n${i}`, true));
});

test('a held dentry keeps its identity after the cache let it go', async () => {
  const { vfs, r } = setup(4);
  vfs.mkdir(r, r.root, '/a', 0o755);
  vfs.mkdir(r, r.root, '/a/b', 0o755);
  const cwd = vfs.resolve(r, r.root, '/a/b', true); // held, as a working directory is
  for (let i = 0; i < 200; i++) vfs.mkdir(r, r.root, `/x${i}`, 0o755);
  await collect();
  assert.strictEqual(vfs.resolve(r, r.root, '/a/b', true).dentry, cwd.dentry, 'found again by name while held');
  vfs.rename(r, r.root, '/a', r.root, '/c', 0);
  assert.strictEqual(pathOf(cwd, null).path, '/c/b', 'a rename moves the held dentry');
  vfs.rmdir(r, r.root, '/c/b');
  assert.strictEqual(pathOf(cwd, null).reachable, false, 'removal marks the held dentry');
});

test('the cache charges the heap budget and shrinks instead of failing', () => {
  const { vfs, r } = setup(1000);
  const budget = new HeapBudget(10 * 1536);
  vfs.dentries.setBudget(budget);
  for (let i = 0; i < 100; i++) vfs.mkdir(r, r.root, `/m${i}`, 0o755);
  assert.ok(vfs.dentries.size <= 10, `${vfs.dentries.size} kept within a budget of 10`);
  assert.ok(budget.used <= budget.limit);
  for (let i = 0; i < 100; i++) assert.ok(vfs.resolve(r, r.root, `/m${i}`, true));
});

test('an open overlay file keeps its inode (and its copy-up) while the caches let the name go', async () => {
  const fs = require('node:fs');
  const os = require('node:os');
  const path = require('node:path');
  const { buildMountNamespace } = require('../../dist/sandbox/mounts');
  const { HostTree } = require('../../dist/host/hosttree');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-dcache-'));
  try {
    fs.writeFileSync(path.join(dir, 'f'), 'lower');
    for (let i = 0; i < 100; i++) fs.writeFileSync(path.join(dir, `g${i}`), '');
    process.env.TSVISOR_DENTRY_CACHE = '4';
    const { vfs, rootContext } = buildMountNamespace({ rootfs: new HostTree(dir), memfile: new FakeFrames(), host: { cpuinfo: '', ncpu: 2 } });
    delete process.env.TSVISOR_DENTRY_CACHE;
    const ctx = rootContext();
    const t = fakeTask(0);
    const r = ctx.resolver(t.creds, t);
    const O_RDWR = 2, O_WRONLY = 1, O_TRUNC = 0o1000;
    const held = vfs.open(t, r, ctx.cwd, '/f', O_RDWR, 0); // not written yet: still the lower file
    for (let i = 0; i < 100; i++) vfs.resolve(r, ctx.cwd, `/g${i}`, true);
    await collect();
    const w = vfs.open(t, r, ctx.cwd, '/f', O_WRONLY | O_TRUNC, 0);
    assert.strictEqual(w.inode, held.inode, 'the name leads to the inode the open file holds');
    w.write(t, Buffer.from('upper'));
    held.pwrite(t, Buffer.from('U'), 0); // the same copy-up, not a second one
    assert.strictEqual(held.pread(t, 10, 0).toString(), 'Upper');
    const again = vfs.open(t, r, ctx.cwd, '/f', 0, 0);
    assert.strictEqual(again.read(t, 10).toString(), 'Upper');
    for (const f of [held, w, again]) f.decRef();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
