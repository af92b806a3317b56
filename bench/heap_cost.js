'use strict';
// heap_cost: the Sentry's JavaScript heap per tmpfs object created through the
// VFS (inode, dentry, directory entry), the figures behind HEAP_COST in
// src/mm/accounting.ts. Run: npm run build && node --expose-gc bench/heap_cost.js
const { VirtualFilesystem } = require('../dist/vfs/vfs');
const { TmpfsFs } = require('../dist/fsimpl/tmpfs/tmpfs');
const { HeapBudget } = require('../dist/abi/accounting');
const { FakeFrames, fakeTask } = require('../test/unit/vfs_fakes');

const N = 100000;
const O_CREAT = 0o100, O_WRONLY = 1;

function measure(label, fn) {
  const frames = new FakeFrames();
  frames.limitPages = 1 << 24;
  frames.heap = new HeapBudget(2 ** 40);
  const vfs = new VirtualFilesystem(new TmpfsFs(frames, { mode: 0o777, maxInodes: 1 << 24 }));
  const t = fakeTask(0);
  const r = { creds: t.creds, root: vfs.root, ctx: t };
  global.gc();
  const before = process.memoryUsage().heapUsed;
  fn(vfs, t, r);
  global.gc();
  const after = process.memoryUsage().heapUsed;
  const per = (after - before) / N;
  console.log(`${label}: ${per.toFixed(0)} bytes of heap each (charged ${(frames.heap.used / N).toFixed(0)})`);
  return vfs;
}

if (typeof global.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}
measure('empty file', (vfs, t, r) => {
  for (let i = 0; i < N; i++) vfs.open(t, r, r.root, `/f${i}`, O_CREAT | O_WRONLY, 0o644).decRef();
});
measure('symlink, 100-byte target', (vfs, t, r) => {
  for (let i = 0; i < N; i++) vfs.symlink(r, 'x'.repeat(96) + String(i).padStart(4, '0').slice(-4), r.root, `/l${i}`);
});
measure('directory', (vfs, t, r) => {
  for (let i = 0; i < N; i++) vfs.mkdir(r, r.root, `/d${i}`, 0o755);
});
