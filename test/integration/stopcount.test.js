'use strict';
// stopcount: what one system call costs in platform round trips, counted.
// test/c/stopcount.c does an operation N times; `tsvisor do --stats FILE`
// writes the platform's counters at the end. The difference between N=1000
// and N=0, divided by 1000, is the cost of one operation, free of start-up.
// Counting is deterministic, so these are exact expectations, not timings.
// docs/PERFORMANCE.md lists the same table.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const N = 1000;

// Per operation: syscall stops, fault stops, single injections, mapping
// batches. Every call is one stop and nothing else, except where a mapping
// really changes on the host (mmap, munmap, a fault filling fresh memory).
const EXPECTED = {
  getpid: [1, 0, 0, 0],
  clock_gettime: [1, 0, 0, 0],
  clock_getres: [1, 0, 0, 0],
  pread: [1, 0, 0, 0],
  pwrite: [1, 0, 0, 0],
  hostread: [1, 0, 0, 0],
  pipe: [2, 0, 0, 0], // write + read
  stat: [1, 0, 0, 0],
  fstat: [1, 0, 0, 0],
  openat_close: [2, 0, 0, 0],
  getdents64: [2, 0, 0, 0], // lseek + getdents64
  mmap_munmap: [2, 0, 0, 2],
  fault: [0, 1, 0, 1],
  pipe_block: [4, 0, 0, 0], // two processes, a write and a blocking read each
};

function counters(bin, op, n, dir) {
  const out = path.join(dir, `${op}.${n}.json`);
  const r = h.runSandbox([bin, op, String(n)], { flags: ['--stats', out] });
  assert.strictEqual(r.status, 0, h.describe(`stopcount ${op} ${n}`, r));
  assert.strictEqual(r.stdout, `ok ${op}\n`);
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

test('platform round trips per system call', { timeout: 300_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().stopcount.static;
  const dir = h.tmpDir();
  const got = {};
  for (const op of Object.keys(EXPECTED)) {
    const a = counters(bin, op, 0, dir);
    const b = counters(bin, op, N, dir);
    got[op] = ['syscallStops', 'faultStops', 'injections', 'batches'].map((k) => (b[k] - a[k]) / N);
  }
  assert.deepStrictEqual(got, EXPECTED);
});

test('an execve that finds no program takes no address space, on either platform (counted)', { timeout: 180_000 }, (t) => {
  // A shell runs a missing program n times, each in a subshell: a fork, and an exec that fails with ENOENT. Per run, one
  // address space (the fork's: a spare stub or a forked one); before, the failing exec took a second one and threw it
  // away (on systrap a stub forked from the master and killed, as one that never ran a thread cannot be kept).
  const dir = h.tmpDir();
  for (const platform of ['ptrace', 'systrap']) {
    const c = [10, 60].map((n) => {
      const out = path.join(dir, `${platform}.${n}.json`);
      const r = h.runSandbox(['/bin/sh', '-c', `i=0; while [ $i -lt ${n} ]; do (exec /no/such/program) 2>/dev/null; i=$((i+1)); done; echo ok`], {
        flags: ['--platform', platform, '--stats', out],
      });
      assert.strictEqual(r.status, 0, h.describe(platform, r));
      assert.strictEqual(r.stdout, 'ok\n');
      if (/systrap platform unavailable/.test(r.stderr)) return null;
      return JSON.parse(fs.readFileSync(out, 'utf8'));
    });
    if (c.includes(null)) {
      t.diagnostic(`${platform} is not available here`);
      continue;
    }
    const d = (k) => ((c[1][k] ?? 0) - (c[0][k] ?? 0)) / 50;
    assert.strictEqual(d('stubsReused') + d('stubsForked'), 1, `${platform}: ${JSON.stringify(c[1])}`);
  }
});
