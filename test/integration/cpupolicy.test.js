'use strict';
// The platform's CPU policy (src/platform/ptrace/affinity.ts): stubs that
// trap often stay on the tracer's CPU; a compute-bound one (much more CPU
// time per stop than a round trip costs) may run on every CPU. Counted with
// `tsvisor do --stats` (cpuSpreads, cpuPins); test/c/cpuspread.c is either
// about 2 ms of arithmetic per system call, a getppid loop, or two threads
// that compute without stopping (judged by the platform's look at running
// threads, not at stops), and the first of them is moved off the CPU the
// other computes on (cpuSpreadsAway). Both platforms have the policy (on systrap a
// "stop" is a trap), so each case runs on each, whatever TSVISOR_PLATFORM says.

const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

function stats(bin, mode, dir, platform) {
  const file = path.join(dir, `${mode}-${platform}.json`);
  const r = h.runSandbox([bin, mode], { flags: ['--stats', file, '--platform', platform], timeout: 240_000 });
  assert.strictEqual(r.status, 0, h.describe(`cpuspread ${mode}`, r));
  assert.strictEqual(r.stdout, `ok ${mode}\n`);
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

for (const platform of ['ptrace', 'systrap']) {
  test(`CPU policy (${platform}): a compute-bound stub leaves the tracer's CPU, a syscall-bound one stays`, { timeout: 300_000 }, (t) => {
    if (!h.needTools(t, ['gcc'])) return;
    if (os.availableParallelism() < 2) {
      t.skip('one CPU: nothing to spread to');
      return;
    }
    const bin = h.buildPrograms().cpuspread.dynamic;
    const dir = h.tmpDir();
    const sys = stats(bin, 'syscalls', dir, platform);
    assert.strictEqual(sys.cpuSpreads, 0, JSON.stringify(sys));
    const compute = stats(bin, 'compute', dir, platform);
    assert.ok(compute.cpuSpreads >= 1, JSON.stringify(compute));
    assert.strictEqual(compute.cpuPins, 0, JSON.stringify(compute));
    // Alone, it stays where it is (its mask widened): nothing else computes on the tracer's CPU.
    assert.strictEqual(compute.cpuSpreadsAway ?? 0, 0, JSON.stringify(compute));
  });

  test(`CPU policy (${platform}): two threads computing without system calls both leave the tracer's CPU`, { timeout: 300_000 }, (t) => {
    if (!h.needTools(t, ['gcc'])) return;
    if (os.availableParallelism() < 2) {
      t.skip('one CPU: nothing to spread to');
      return;
    }
    const bin = h.buildPrograms().cpuspread.dynamic;
    const threads = stats(bin, 'threads', h.tmpDir(), platform);
    assert.ok(threads.cpuSpreads >= 2, JSON.stringify(threads));
    // The first one spread is moved off the CPU the other still computes on
    // (a wider mask alone left both there for tens of milliseconds).
    assert.ok((threads.cpuSpreadsAway ?? 0) >= 1, JSON.stringify(threads));
  });
}
