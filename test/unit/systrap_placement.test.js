'use strict';
// The systrap platform's placement of application threads against the
// Sentry's CPU (platform/systrap/placement.ts), driven with synthetic trap
// times: it probes the other placement now and then, keeps it only when its
// window is clearly cheaper, abandons a probe as soon as it has cost more
// than the kept placement would have, and backs off after lost probes.

const test = require('node:test');
const assert = require('node:assert/strict');
const { TrapPlacement } = require('../../dist/platform/systrap/placement.js');
const { newPlatformStats } = require('../../dist/platform/platform.js');

const WINDOW = 256;
const WARM = 64;

function make(allowed = [0, 1], fixed = null) {
  const stats = newPlatformStats();
  const cpus = { allowed, cpu: allowed[0] };
  const p = new TrapPlacement(cpus, stats, fixed);
  // The other CPUs idle, unless a test says otherwise.
  p.othersIdle = () => 1;
  return { p, stats, cpus };
}

/** Feed traps at a given cost per trap (ns) in each placement; returns the clock. */
function run(p, now, n, cost) {
  for (let i = 0; i < n; i++) {
    now += cost[p.mode];
    p.noteTrap(now);
  }
  return now;
}

test('starts together and probes apart after a few windows', () => {
  const { p } = make();
  assert.equal(p.mode, 'together');
  let now = 1e9;
  let sawApart = false;
  for (let i = 0; i < 20 * WINDOW; i++) {
    now += 10_000;
    p.noteTrap(now);
    if (p.mode === 'apart') sawApart = true;
  }
  assert.ok(sawApart, 'a probe of apart ran');
});

test('keeps apart when it is clearly cheaper, together when it is not', () => {
  {
    const { p, stats } = make();
    run(p, 1e9, 40 * WINDOW, { together: 10_000, apart: 4_000 });
    assert.equal(p.mode, 'apart');
    assert.ok(stats.placementSwitches >= 1);
    assert.ok(stats.apartTraps > 30 * WINDOW);
  }
  {
    const { p, stats } = make();
    // 10% cheaper is within the noise: not worth moving for.
    run(p, 1e9, 40 * WINDOW, { together: 10_000, apart: 9_000 });
    assert.equal(p.mode, 'together');
    assert.equal(stats.placementSwitches, undefined);
    assert.ok(stats.placementProbesLost >= 1);
  }
});

test('a probe that costs far more is cut short, and probes back off', () => {
  const { p, stats } = make();
  // A busy host: apart costs 100x per trap. Each probe must end long before its 320 traps.
  const cost = { together: 10_000, apart: 1_000_000 };
  run(p, 1e9, 200 * WINDOW, cost);
  assert.equal(p.mode, 'together');
  const lost = stats.placementProbesLost;
  assert.ok(lost >= 2, `probes lost: ${lost}`);
  // Each lost probe ran at most ~ (keptCost * (WARM + WINDOW) + 1 ms) / 1 ms + 1 traps apart.
  const perProbe = Math.ceil((10_000 * (WARM + WINDOW) + 1_000_000) / 1_000_000) + 1;
  assert.ok(stats.apartTraps <= lost * perProbe, `apart traps ${stats.apartTraps} for ${lost} probes`);
  // Back-off: probes get rarer (200 windows would give 50 probes at one per 4 windows).
  assert.ok(lost < 10, `probes lost: ${lost}`);
});

test('goes back to together when apart becomes the slower one', () => {
  const { p } = make();
  let now = run(p, 1e9, 40 * WINDOW, { together: 10_000, apart: 4_000 });
  assert.equal(p.mode, 'apart');
  // The other CPU got busy.
  now = run(p, now, 100 * WINDOW, { together: 10_000, apart: 60_000 });
  assert.equal(p.mode, 'together');
});

test('one CPU, or a fixed placement: no probing', () => {
  {
    const { p, stats } = make([0]);
    run(p, 1e9, 40 * WINDOW, { together: 10_000, apart: 1_000 });
    assert.equal(p.mode, 'together');
    assert.equal(stats.apartTraps, undefined);
  }
  {
    const { p } = make([0], 'apart');
    assert.equal(p.mode, 'together', 'apart needs another CPU');
  }
  {
    const { p } = make([0, 1], 'apart');
    run(p, 1e9, 40 * WINDOW, { together: 1_000, apart: 100_000 });
    assert.equal(p.mode, 'apart');
  }
});

test('a thread is given a mask once per placement, and none while the CPU policy spreads it', () => {
  const { p, cpus } = make([0, 1], 'apart');
  // No such thread: sched_setaffinity fails with ESRCH, the key is what is checked.
  const th = { cpu: { pid: 0x3fffffff, spread: false }, placedKey: -2 };
  const keys = [];
  p.place(th);
  keys.push(th.placedKey);
  p.place(th);
  assert.equal(th.placedKey, keys[0], 'nothing changed, nothing done');
  th.cpu.spread = true;
  p.place(th);
  keys.push(th.placedKey);
  th.cpu.spread = false;
  cpus.cpu = 1;
  p.place(th);
  keys.push(th.placedKey);
  p.mode = 'together';
  p.place(th);
  keys.push(th.placedKey);
  assert.equal(new Set(keys).size, 4, `one key per mask: ${keys}`);
});

test('no probe of apart while the other CPUs are busy; one once they are idle', () => {
  const { p, stats } = make();
  let idle = 0.2;
  p.othersIdle = () => idle;
  let now = run(p, 1e9, 40 * WINDOW, { together: 10_000, apart: 1_000 });
  assert.equal(p.mode, 'together');
  assert.equal(stats.apartTraps, undefined, 'never moved');
  assert.ok(stats.placementProbesSkipped >= 2);
  idle = 0.9;
  now = run(p, now, 600 * WINDOW, { together: 10_000, apart: 1_000 });
  assert.equal(p.mode, 'apart');
});
