'use strict';
// captureHostInfo: the facts it reads are this machine's, and consistent with
// each other (the CPU count is the cpuinfo's, the auxv values are the ones the
// host gave this very process).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const { captureHostInfo } = require('../../dist/host/hostinfo.js');

function auxv() {
  const b = fs.readFileSync('/proc/self/auxv');
  const m = new Map();
  for (let i = 0; i + 16 <= b.length; i += 16) m.set(Number(b.readBigUInt64LE(i)), Number(b.readBigUInt64LE(i + 8)));
  return m;
}

test('captureHostInfo reads this machine', () => {
  const h = captureHostInfo();
  assert.strictEqual(h.ncpu, (h.cpuinfo.match(/^processor\s*:/gm) ?? []).length);
  assert.strictEqual(h.cpuinfo, fs.readFileSync('/proc/cpuinfo', 'latin1'));
  assert.strictEqual(h.totalMemory, os.totalmem());
  const a = auxv();
  assert.strictEqual(h.hwcap, a.get(16) ?? 0);
  assert.strictEqual(h.hwcap2, a.get(26) ?? 0);
  assert.strictEqual(h.minSigStkSz, a.get(51) ?? 2048);
  assert.strictEqual(h.platform, os.machine());
  const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
  assert.strictEqual(h.capBounding, BigInt(`0x${bnd[1]}`));
  // RLIMIT_STACK as the host reports it (unlimited is 2^64-1).
  const m = /^Max stack size\s+(\S+)\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'latin1'));
  const v = (s) => (s === 'unlimited' ? (1n << 64n) - 1n : BigInt(s));
  assert.deepStrictEqual(h.rlimits[3], { cur: v(m[1]), max: v(m[2]) });
  assert.strictEqual(h.rlimits.length, 16);
});
