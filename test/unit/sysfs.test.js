'use strict';
// sysfs's CPU set formats (Linux's cpulist and bitmap printing), the
// topology read from a cpuinfo text, and the NUMA node's meminfo.

const assert = require('node:assert');
const { test } = require('node:test');
const { cpuList, cpuMask, cpuPlaces } = require('../../dist/fsimpl/sysfs/cpu');

test('cpuList: ranges joined by commas', () => {
  assert.strictEqual(cpuList([0]), '0');
  assert.strictEqual(cpuList([0, 1]), '0-1');
  assert.strictEqual(cpuList([3, 0, 1, 2, 5, 7, 8]), '0-3,5,7-8');
  assert.strictEqual(cpuList([]), '');
});

test('cpuMask: 32-bit hex words, the first as wide as nbits needs', () => {
  assert.strictEqual(cpuMask([0], 1), '1');
  assert.strictEqual(cpuMask([0, 1], 2), '3');
  assert.strictEqual(cpuMask([2, 3], 4), 'c');
  assert.strictEqual(cpuMask([0], 8), '01');
  assert.strictEqual(cpuMask([...Array(40).keys()], 40), 'ff,ffffffff');
  assert.strictEqual(cpuMask([32], 64), '00000001,00000000');
  assert.strictEqual(cpuMask([31], 32), '80000000');
});

test('cpuPlaces: physical and core ids from cpuinfo, one core per CPU without them', () => {
  const info = [0, 1, 2].map((i) => `processor\t: ${i}\nphysical id\t: ${i >> 1}\ncore id\t\t: ${i & 1}\n\n`).join('');
  assert.deepStrictEqual(cpuPlaces(info, 3), [{ pkg: 0, core: 0 }, { pkg: 0, core: 1 }, { pkg: 1, core: 0 }]);
  assert.deepStrictEqual(cpuPlaces('processor\t: 0\n\nprocessor\t: 1\n', 2), [{ pkg: 0, core: 0 }, { pkg: 0, core: 1 }]);
  assert.deepStrictEqual(cpuPlaces('', 2), [{ pkg: 0, core: 0 }, { pkg: 0, core: 1 }]);
});

test('node0/meminfo: per-node lines that libnuma and LTP parse ("Node 0 MemTotal: N kB"), MemUsed = total - free', () => {
  const { formatNodeMeminfo } = require('../../dist/fsimpl/sysfs/node');
  const text = formatNodeMeminfo(1000, 250);
  const field = (k) => {
    for (const l of text.split('\n')) {
      const m = /^Node 0 (\S+):\s+(\d+) kB$/.exec(l);
      if (m && m[1] === k) return Number(m[2]);
    }
    return null;
  };
  assert.strictEqual(field('MemTotal'), 1000);
  assert.strictEqual(field('MemFree'), 250);
  assert.strictEqual(field('MemUsed'), 750);
  assert.strictEqual(field('FilePages'), 0);
  assert.ok(text.split('\n').filter(Boolean).every((l) => /^Node 0 \S+:\s+\d+ kB$/.test(l)), text);
});
