'use strict';
// kernel/vdso.ts: the entry points of the host's vDSO image (this process's,
// read from /proc/self/mem) by the system call each stands for; a truncated
// or foreign image gives none.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { vdsoEntryOffsets } = require('../../dist/kernel/vdso.js');

function ownVdso() {
  const line = fs.readFileSync('/proc/self/maps', 'latin1').split('\n').find((l) => l.endsWith('[vdso]'));
  if (!line) return null;
  const [start, end] = line.split(' ')[0].split('-').map((x) => parseInt(x, 16));
  const fd = fs.openSync('/proc/self/mem', 'r');
  try {
    const b = Buffer.alloc(end - start);
    fs.readSync(fd, b, 0, b.length, start);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

test("the host vDSO's clock entry points", (t) => {
  const img = ownVdso();
  if (!img) return t.skip('no vDSO');
  const calls = [...vdsoEntryOffsets(img).values()];
  for (const nr of [96, 201, 228, 229, 309]) assert.ok(calls.includes(nr), `entry for system call ${nr}`);
  for (const off of vdsoEntryOffsets(img).keys()) assert.ok(off > 0 && off < img.length);
});

test('no entry points in a truncated or non-ELF image', (t) => {
  const img = ownVdso();
  if (!img) return t.skip('no vDSO');
  assert.equal(vdsoEntryOffsets(img.subarray(0, 64)).size, 0);
  assert.equal(vdsoEntryOffsets(Buffer.alloc(4096)).size, 0);
  assert.equal(vdsoEntryOffsets(Buffer.alloc(10)).size, 0);
});
