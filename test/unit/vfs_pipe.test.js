'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { makePipe, openFifo } = require('../../dist/fsimpl/pipe/pipe');
const { VirtualFilesystem } = require('../../dist/vfs/vfs');
const { TmpfsFs } = require('../../dist/fsimpl/tmpfs/tmpfs');
const { FakeFrames, fakeTask, errnoOfAsync } = require('./vfs_fakes');

const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_NONBLOCK = 0o4000;
const EAGAIN = 11, EPIPE = 32, ENXIO = 6;
const tick = () => new Promise((r) => setImmediate(r));

test('data flows, reads block until written, EOF after last writer', async () => {
  const t = fakeTask();
  const [r, w] = makePipe(0);
  assert.strictEqual(await w.write(t, Buffer.from('abc')), 3);
  assert.strictEqual((await r.read(t, 2)).toString(), 'ab');
  assert.strictEqual((await r.read(t, 10)).toString(), 'c');
  let got = null;
  const p = r.read(t, 10).then((b) => (got = b.toString()));
  await tick();
  assert.strictEqual(got, null, 'read blocks on an empty pipe');
  await w.write(t, Buffer.from('later'));
  await p;
  assert.strictEqual(got, 'later');
  const p2 = r.read(t, 10);
  await tick();
  w.decRef();
  assert.strictEqual((await p2).length, 0, 'EOF once the writer is gone');
});

test('EPIPE and SIGPIPE without readers', async () => {
  const t = fakeTask();
  const [r, w] = makePipe(0);
  r.decRef();
  assert.strictEqual(await errnoOfAsync(Promise.resolve().then(() => w.write(t, Buffer.from('x')))), EPIPE);
  assert.deepStrictEqual(t.signals, [13]);
});

test('non-blocking rules, capacity, PIPE_BUF atomicity, F_SETPIPE_SZ', async () => {
  const t = fakeTask();
  const [r, w] = makePipe(O_NONBLOCK);
  assert.strictEqual(await errnoOfAsync(Promise.resolve().then(() => r.read(t, 1))), EAGAIN);
  assert.strictEqual(w.pipeSize, 65536);
  assert.strictEqual(await w.write(t, Buffer.alloc(65536 - 100)), 65436);
  // 200 <= PIPE_BUF bytes do not fit in 100: all or nothing.
  assert.strictEqual(await errnoOfAsync(Promise.resolve().then(() => w.write(t, Buffer.alloc(200)))), EAGAIN);
  // A large write takes what fits.
  assert.strictEqual(await w.write(t, Buffer.alloc(5000)), 100);
  assert.strictEqual(await errnoOfAsync(Promise.resolve().then(() => w.write(t, Buffer.alloc(5000)))), EAGAIN);
  assert.strictEqual(r.available(), 65536);
  assert.strictEqual(r.readiness(1), 1);
  assert.strictEqual(w.readiness(4), 0);
  assert.strictEqual(await errnoOfAsync(Promise.resolve().then(() => w.setPipeSize(4096, false))), 16 /* EBUSY */);
  await r.read(t, 65536);
  assert.strictEqual(w.setPipeSize(5000, false), 8192);
  assert.strictEqual(w.readiness(4), 4);
});

test('blocking writer waits for room and completes', async () => {
  const t = fakeTask();
  const [r, w] = makePipe(0);
  let done = false;
  const p = w.write(t, Buffer.alloc(70000, 1)).then((n) => {
    done = true;
    return n;
  });
  await tick();
  assert.strictEqual(done, false);
  const first = await r.read(t, 100000);
  assert.strictEqual(first.length, 65536);
  assert.strictEqual(await p, 70000);
  assert.strictEqual((await r.read(t, 100000)).length, 70000 - 65536);
});

test('FIFO open blocks until the other side opens', async () => {
  const frames = new FakeFrames();
  const vfs = new VirtualFilesystem(new TmpfsFs(frames), { openFifo });
  const t = fakeTask();
  const res = { creds: t.creds, root: vfs.root, ctx: t };
  vfs.mknod(res, vfs.root, '/fifo', 0o010000, 0o644);
  assert.strictEqual(await errnoOfAsync(Promise.resolve().then(() => vfs.open(t, res, vfs.root, '/fifo', O_WRONLY | O_NONBLOCK, 0))), ENXIO);
  const nbr = await vfs.open(t, res, vfs.root, '/fifo', O_RDONLY | O_NONBLOCK, 0);
  nbr.decRef();
  let reader = null;
  const pr = Promise.resolve(vfs.open(t, res, vfs.root, '/fifo', O_RDONLY, 0)).then((f) => (reader = f));
  await tick();
  assert.strictEqual(reader, null, 'reader waits for a writer');
  const writer = await vfs.open(t, res, vfs.root, '/fifo', O_WRONLY, 0);
  await pr;
  await writer.write(t, Buffer.from('via fifo'));
  assert.strictEqual((await reader.read(t, 100)).toString(), 'via fifo');
  assert.strictEqual(reader.stat().mode & 0o170000, 0o010000);
  const rw = await vfs.open(t, res, vfs.root, '/fifo', O_RDWR, 0);
  rw.decRef();
});

test('data keeps its order across the ring wrap, growth and shrinking', async () => {
  const t = fakeTask();
  const [r, w] = makePipe(O_NONBLOCK);
  let wrote = 0;
  let read = 0;
  const byte = (i) => (i * 7 + (i >> 8)) & 0xff;
  const pattern = (from, n) => Buffer.from(Array.from({ length: n }, (_, k) => byte(from + k)));
  // Odd sizes so that reads and writes straddle the end of the ring.
  for (let i = 0; i < 200; i++) {
    const n = 1 + ((i * 9973) % 30000);
    wrote += await w.write(t, pattern(wrote, Math.min(n * (i > 50 && i < 120 ? 8 : 1), w.pipeSize - r.available())));
    const m = 1 + ((i * 7919) % 40000);
    const got = await r.read(t, Math.min(m, r.available()));
    assert.deepStrictEqual(got, pattern(read, got.length));
    read += got.length;
    if (i === 50) assert.strictEqual(w.setPipeSize(1 << 20, true), 1 << 20);
    if (i === 120) {
      // Shrinking below what is held is EBUSY; to at least that is allowed, and keeps the data.
      const held = r.available();
      const cap = Math.max(4096, 1 << Math.ceil(Math.log2(Math.max(1, held))));
      assert.strictEqual(w.setPipeSize(cap, true), cap);
    }
    if (i === 121) w.setPipeSize(Math.max(65536, r.available()), true);
  }
  const rest = await r.read(t, 1 << 20);
  assert.deepStrictEqual(rest, pattern(read, rest.length));
  assert.strictEqual(read + rest.length, wrote);
});
