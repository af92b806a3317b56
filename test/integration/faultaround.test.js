'use strict';
// Fault-around: one fault stop maps (or copies, for a write to a
// copy-on-write page) the aligned 16-page window around the faulting page
// in one host batch, as Linux maps up to 16 pages around a file read fault.
// test/c/faultaround.c touches N pages of a mapping; the fault stops are
// counted with `tsvisor do --stats` (N=256 against N=0), and its output,
// which checks the data, must equal the native run's.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const N = 256;
const WINDOW = 16;

function faults(bin, op, dir, n, out) {
  const file = path.join(out, `${op}.${n}.json`);
  const r = h.runSandbox([bin, op, dir, String(n)], { flags: ['--stats', file] });
  assert.strictEqual(r.status, 0, h.describe(`faultaround ${op} ${n}`, r));
  assert.strictEqual(r.stdout, `ok ${op}\n`);
  return JSON.parse(fs.readFileSync(file, 'utf8')).faultStops;
}

/** A 48 MiB sparse host file with the page index at the start of each of the first N pages. */
function hostFile(dir) {
  const fd = fs.openSync(path.join(dir, 'big.dat'), 'w');
  fs.ftruncateSync(fd, 48 << 20);
  for (let i = 0; i < N; i++) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(0x1000 + i));
    fs.writeSync(fd, b, 0, 8, i * 4096);
  }
  fs.closeSync(fd);
}

test('fault-around: same data as Linux (reads, private and shared writes, fork COW, SIGBUS past EOF)', { timeout: 300_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().faultaround.dynamic;
  const dir = h.tmpDir();
  hostFile(dir);
  for (const op of ['read', 'hostread', 'write', 'shared', 'forkcow', 'bus']) {
    const where = op === 'hostread' ? dir : null;
    h.compare(t, (cwd) => [bin, op, where || cwd, String(N)], { setup: (sys) => (sys === 'native' ? h.tmpDir() : '/tmp') });
  }
});

test('fault-around: one fault stop per 16 pages', { timeout: 300_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().faultaround.static;
  const dir = h.tmpDir();
  hostFile(dir);
  const out = h.tmpDir();
  // forkcow: both processes write N copy-on-write pages.
  const touched = { read: N, hostread: N, write: N, shared: N, forkcow: 2 * N };
  const got = {};
  for (const op of Object.keys(touched)) {
    const where = op === 'hostread' ? dir : '/tmp';
    got[op] = faults(bin, op, where, N, out) - faults(bin, op, where, 0, out);
  }
  for (const [op, pages] of Object.entries(touched)) {
    // N pages from a page-aligned (not window-aligned) start touch N/16 windows, or one more.
    const windows = pages / WINDOW;
    const per = op === 'forkcow' ? 2 : 1;
    assert.ok(got[op] >= windows && got[op] <= windows + per, `${op}: ${got[op]} fault stops for ${pages} pages (${JSON.stringify(got)})`);
  }
});
