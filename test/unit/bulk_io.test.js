'use strict';
// Bulk data paths over the real memory file, counted (never timed): a tmpfs
// write of large pieces fills new frames by host writes to the memory file,
// not by page faults of the Sentry's mapping; a host file's page cache is
// filled 16 pages per host read, straight into its frames; a read of a host
// file into application memory is one host read per piece of it.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { MemoryFile } = require('../../dist/platform/memfile.js');
const { TmpfsFs } = require('../../dist/fsimpl/tmpfs/tmpfs');
const { HostTree } = require('../../dist/host/hosttree');
const { HostFs } = require('../../dist/fsimpl/hostfs/hostfs');
const { fakeMemory } = require('./vfs_fakes');

const PAGE = 4096;
const MiB = 1 << 20;

function pattern(len, seed) {
  const b = Buffer.allocUnsafe(len);
  let x = seed | 1;
  for (let i = 0; i < len; i++) {
    if (i % 4 === 0) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
    }
    b[i] = (x >>> ((i % 4) * 8)) & 0xff;
  }
  return b;
}

const minorFaults = () => process.resourceUsage().minorPageFault;

function newFile(mf, opts) {
  const fs0 = new TmpfsFs(mf, opts);
  return fs0.root().create('f', { type: 0o100000, mode: 0o644, uid: 0, gid: 0 });
}

test('tmpfs: 16 MiB written in 1 MiB pieces fills fresh frames without a fault per page; 4 KiB pieces fault each page', () => {
  const mf = new MemoryFile();
  const mem = fakeMemory(MiB);
  const pages = (16 * MiB) / PAGE;

  const data = pattern(16 * MiB, 7);
  const big = newFile(mf);
  const before = minorFaults();
  for (let off = 0; off < 16 * MiB; off += MiB) {
    data.copy(mem.mem, 0, off, off + MiB);
    assert.strictEqual(big.writeFromUser(off, mem, mem.base, MiB), MiB);
  }
  const bigFaults = minorFaults() - before;

  const small = newFile(mf);
  const before2 = minorFaults();
  for (let off = 0; off < 16 * MiB; off += PAGE) assert.strictEqual(small.writeAt(off, data.subarray(off, off + PAGE)), PAGE);
  const smallFaults = minorFaults() - before2;
  // Through the mapping each fresh page faults once (the count means something), by host writes none
  // does (what is left is Node's own heap at work).
  assert.ok(smallFaults >= pages * 0.9, `4 KiB pieces: ${smallFaults} faults for ${pages} pages`);
  assert.ok(bigFaults < pages / 4, `1 MiB pieces: ${bigFaults} faults for ${pages} pages`);

  // The bytes are the file's: read back through both paths.
  assert.ok(big.readAt(0, 16 * MiB).equals(data));
  assert.ok(small.readAt(0, 16 * MiB).equals(data));
  assert.strictEqual(big.attrs().blocks, (16 * MiB) / 512);
  assert.strictEqual(big.attrs().size, 16 * MiB);
});

test('tmpfs: unaligned large writes over existing data, reads straight into memory, a full file system ends writes short at a page', () => {
  const mf = new MemoryFile();
  const f = newFile(mf, { sizePages: 40 });
  const mem = fakeMemory(MiB);
  const a = pattern(100 * 1024, 3);
  assert.strictEqual(f.writeAt(1000, a), a.length);
  const b = pattern(50 * 1024, 5);
  b.copy(mem.mem);
  assert.strictEqual(f.writeFromUser(30000, mem, mem.base, b.length), b.length);
  const want = Buffer.alloc(1000 + a.length);
  a.copy(want, 1000);
  b.copy(want, 30000);
  assert.ok(f.readAt(0, want.length).equals(want));
  // Read into application memory straight from the pages; a hole reads as zeros, the end stops it.
  f.setattr({ size: want.length + 3 * PAGE });
  const back = fakeMemory(MiB);
  back.mem.fill(0xee);
  assert.strictEqual(f.readToUser(500, back, back.base, MiB), want.length + 3 * PAGE - 500);
  assert.ok(back.mem.subarray(0, want.length - 500).equals(want.subarray(500)));
  assert.ok(back.mem.subarray(want.length - 500, want.length + 3 * PAGE - 500).every((x) => x === 0));
  assert.strictEqual(back.mem[want.length + 3 * PAGE - 500], 0xee, 'nothing past the end');
  f.setattr({ size: want.length });
  // 40 pages in all; 26 used: a write of 64 KiB at 200 KiB gets the 14 pages left of it... up to page 63.
  const used = Math.ceil(want.length / PAGE);
  const c = pattern(MiB, 9);
  c.copy(mem.mem);
  const at = 200 * 1024;
  const n = f.writeFromUser(at, mem, mem.base, MiB);
  assert.strictEqual(n, (40 - used) * PAGE - (at % PAGE), 'short at the page where the file system filled up');
  assert.ok(f.readAt(at, n).equals(c.subarray(0, n)));
  assert.throws(() => f.writeFromUser(at + n, mem, mem.base, PAGE), (e) => e.errno === 28, 'nothing written is ENOSPC');
  assert.throws(() => f.writeFromUser(0, mem, mem.base + MiB - 10, 100), (e) => e.errno === 14, 'a bad buffer is EFAULT');
});

test('hostfs: 1 MiB of a host file is one host read into application memory, 16 into the page cache; no data lost', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-bulk-'));
  try {
    const data = pattern(MiB + 123, 11);
    fs.writeFileSync(path.join(dir, 'f'), data);
    const tree = new HostTree(dir);
    const mf = new MemoryFile();
    const hfs = new HostFs(tree, mf);
    const ino = hfs.root().lookup('f');
    const mem = fakeMemory(2 * MiB);

    let r0 = tree.dataReads;
    assert.strictEqual(ino.readToUser(0, mem, mem.base, 2 * MiB), data.length);
    // One read: it ends where the host said the file ends, no second read to find the end.
    assert.strictEqual(tree.dataReads - r0, 1);
    assert.ok(mem.mem.subarray(0, data.length).equals(data));

    r0 = tree.dataReads;
    const m = ino.mappable();
    const npages = Math.ceil(data.length / PAGE);
    for (let p = 0; p < npages; p++) {
      const f = m.frameFor(p, false);
      const want = data.subarray(p * PAGE, (p + 1) * PAGE);
      const got = mf.bytes(f);
      assert.ok(got.subarray(0, want.length).equals(want), `page ${p}`);
      assert.ok(got.subarray(want.length).every((x) => x === 0), `page ${p}: zeros after the end`);
    }
    // 16 pages per read (the last block holds one page).
    assert.strictEqual(tree.dataReads - r0, Math.ceil(npages / 16));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
