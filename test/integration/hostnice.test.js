'use strict';
// Host weights of the sandbox's threads (src/kernel/host_sched.ts): a
// thread's nice value and SCHED_IDLE reach its host thread, on each
// platform whatever TSVISOR_PLATFORM says. test/c/hostnice.c sets nice 5 in
// one thread and SCHED_IDLE in another, then waits until this test has
// seen host threads of the sandbox's stubs at nice 5 and 19 (read from the
// host's /proc/PID/task/TID/stat) and made the file it waits for.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const w = require('../lib/stubwatch');

/** The nice values (stat field 19) of every host thread of the stubs' group. */
function hostNices(pgid) {
  const out = new Set();
  for (const p of w.group(pgid)) {
    let tids = [];
    try {
      tids = fs.readdirSync(`/proc/${p.pid}/task`);
    } catch {
      continue; // gone meanwhile
    }
    for (const tid of tids) {
      try {
        const stat = fs.readFileSync(`/proc/${p.pid}/task/${tid}/stat`, 'latin1');
        out.add(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
      } catch {
        // gone meanwhile
      }
    }
  }
  return out;
}

for (const platform of ['ptrace', 'systrap']) {
  test(`host threads (${platform}) carry their threads' nice and SCHED_IDLE`, { timeout: 240_000 }, async (t) => {
    if (!h.needTools(t, ['gcc'])) return;
    const bin = h.buildPrograms().hostnice.dynamic;
    const flag = path.join(h.tmpDir(), 'seen');
    let seen = null;
    const r = await w.runWatched([bin, flag], {
      cwd: '/', timeout: 100_000, flags: ['--platform', platform],
      sample: (pgid) => {
        const n = hostNices(pgid);
        if (!seen && n.has(5) && n.has(19)) {
          seen = [...n].sort((a, b) => a - b);
          fs.writeFileSync(flag, '');
        }
      },
    });
    if (/systrap platform unavailable/.test(r.stderr)) return t.skip('systrap is not available on this host');
    assert.strictEqual(r.status, 0, `hostnice: ${r.status} ${r.signal}\n${r.stderr.slice(-3000)}`);
    assert.strictEqual(r.stdout, 'A: nice(5) = 5\nB: SCHED_IDLE 0, policy 5\nmain: nice 0, policy 0\nseen by the host: yes\ndone\n');
    // The stubs' other host threads (the systrap leader, parked threads) keep the Sentry's nice, 0.
    assert.ok(seen.every((n) => n === 0 || n === 5 || n === 19), JSON.stringify(seen));
    assert.deepStrictEqual(r.leftovers, [], 'no stub process survives the sandbox');
  });
}
