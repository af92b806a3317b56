'use strict';
// forkexec_count: what a fork + exec + wait costs in platform round trips and
// host mapping calls, counted (issue 7's peers row "500 fork+exec"), and what
// a MAP_FIXED mapping over a reservation costs (the dynamic loader's way of
// mapping each library). As in stopcount.test.js, test/c/stopcount.c does
// the operation N times under `tsvisor do --stats FILE`; the difference
// between two N, divided, is one operation's cost, free of start-up.
// Counting is deterministic: exact expectations, no timing.
// docs/PERFORMANCE.md lists the same figures.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

function counters(bin, op, n, dir) {
  const out = path.join(dir, `${op}.${n}.json`);
  const r = h.runSandbox([bin, op, String(n)], { flags: ['--platform', 'ptrace', '--stats', out] });
  assert.strictEqual(r.status, 0, h.describe(`stopcount ${op} ${n}`, r));
  assert.strictEqual(r.stdout, `ok ${op}\n`);
  return JSON.parse(fs.readFileSync(out, 'utf8'));
}

/** Per operation: syscall stops, fault stops, batches, host calls in batches, address spaces taken. */
function perOp(bin, op, n0, n1) {
  const dir = h.tmpDir();
  const a = counters(bin, op, n0, dir);
  const b = counters(bin, op, n1, dir);
  const d = (k) => ((b[k] ?? 0) - (a[k] ?? 0)) / (n1 - n0);
  return [d('syscallStops'), d('faultStops'), d('batches'), d('batchCalls'), d('stubsReused') + d('stubsForked')];
}

test('a MAP_FIXED mapping over a reservation is one host mmap, not an munmap and an mmap (ptrace)', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().stopcount.static;
  // mmap, mmap MAP_FIXED inside it, munmap: a batch each (the program runs in
  // between), one host call each.
  assert.deepStrictEqual(perOp(bin, 'fixed_over', 0, 200), [3, 0, 3, 3, 0]);
});

test('fork + exec + wait of a static program: stops, batches, host mapping calls (ptrace)', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().stopcount.static;
  // Stops: the parent's fork and wait4, the child's return from fork
  // (set_robust_list), its execve and static glibc's start (brk x4,
  // arch_prctl, set_tid_address, set_robust_list, rseq, prlimit64, readlink,
  // getrandom, mprotect) and exit_group. Batches: the child's copy of the
  // parent's mappings (8 calls), the exec (one munmap of the old image,
  // though the kernel asks twice, and 6 mmaps), two brk, the RELRO mprotect,
  // and the ended stub's emptying (1 call). One address space per fork.
  assert.deepStrictEqual(perOp(bin, 'forkexec', 5, 55), [18, 0, 6, 19, 1]);
});
