'use strict';
// The systrap platform's placement of application threads against the
// Sentry's CPU (platform/systrap/placement.ts), driven with synthetic trap
// times (no clock, no host): a seeded model of a machine gives each trap a
// cost from the placement it runs in, with noise, a warm-up after each
// switch (the first traps apart are slow) and now and then a pause of the
// Sentry (a GC) that spoils one window. The tests count where the traps ran.

const test = require('node:test');
const assert = require('node:assert/strict');
const { TrapPlacement } = require('../../dist/platform/systrap/placement.js');
const { newPlatformStats } = require('../../dist/platform/platform.js');

function make(allowed = [0, 1], fixed = null) {
  const stats = newPlatformStats();
  const cpus = { allowed, cpu: allowed[0] };
  const p = new TrapPlacement(cpus, stats, fixed);
  // The other CPUs idle, unless a test says otherwise.
  p.othersIdle = () => 1;
  const log = [];
  p.trace = (line) => log.push(line);
  return { p, stats, cpus, log };
}

/** A small deterministic generator (mulberry32), so that every run sees the same "noise". */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A machine: cost.{together,apart} ns per trap, each trap +-noise (a
 * fraction), the first `warm` traps after each switch to apart cost
 * warmCost each, and one trap in `pauseEvery` takes pauseNs more (a
 * preemption, the Sentry's GC: traced, a 0.2-0.3 ms scavenge every 40 ms). Feeds n traps; returns the clock and the traps per mode.
 */
function machine(p, { now = 1e9, n, cost, noise = 0.2, warm = 5, warmCost = 50_000, pauseEvery = 3000, pauseNs = 1_000_000, seed = 1 }) {
  const r = rng(seed);
  let last = p.mode, sinceFlip = 1e9;
  const count = { together: 0, apart: 0 };
  for (let i = 0; i < n; i++) {
    if (p.mode !== last) {
      last = p.mode;
      sinceFlip = 0;
    }
    let c = cost[p.mode] * (1 + noise * (2 * r() - 1));
    if (p.mode === 'apart' && sinceFlip++ < warm) c = warmCost;
    if (r() < 1 / pauseEvery) c += pauseNs;
    now += c;
    count[p.mode]++;
    p.noteTrap(now);
  }
  return { now, count };
}

// On a quiet machine (traced on these VMs): together 13 us, apart 4-7 us, the first traps apart 20-50 us.
const QUIET = { together: 13_000, apart: 5_000 };

test('a quiet machine: apart within the first 2000 traps, and kept', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const { p, stats, log } = make();
    const first = machine(p, { n: 2000, cost: QUIET, seed });
    assert.equal(p.mode, 'apart', `seed ${seed}: ${log.join('; ')}`);
    assert.ok(first.count.apart > 0);
    // 30000 calls (the bench's short run): nearly all apart, the probes of together back off.
    const rest = machine(p, { now: first.now, n: 28000, cost: QUIET, seed: seed + 100 });
    assert.equal(p.mode, 'apart');
    assert.ok(rest.count.apart > 0.9 * 28000, `seed ${seed}: ${rest.count.apart} of 28000 apart`);
    assert.equal(stats.placementSwitches, 1, `seed ${seed}: ${log.join('; ')}`);
  }
});

test('pauses and warm-ups do not lose a probe that wins, nor set off needless probes', () => {
  // A 2 ms pause every 600 traps (a preemption: one window in five has one) and a long warm-up: a window's longest
  // gap is left out and the probe's windows go by majority, so apart is found at the first probe and kept.
  for (let seed = 1; seed <= 10; seed++) {
    const { p, stats, log } = make();
    let at = -1;
    p.trace = (line) => {
      log.push(line);
      if (at < 0 && line.startsWith('switched')) at = n;
    };
    let n = 0;
    const r = rng(seed);
    let now = 1e9, apart = 0;
    for (; n < 30000; n++) {
      let c = (p.mode === 'apart' ? 5_000 : 13_000) * (1 + 0.2 * (2 * r() - 1));
      if (r() < 1 / 600) c += 2_000_000;
      now += c;
      if (p.mode === 'apart') apart++;
      p.noteTrap(now);
    }
    assert.ok(at >= 0 && at < 1500, `seed ${seed}: switched at trap ${at}; ${log.join('; ')}`);
    assert.equal(stats.placementSwitches, 1, `seed ${seed}: ${log.join('; ')}`);
    assert.ok(apart > 0.9 * 30000, `seed ${seed}: ${apart} of 30000 apart`);
  }
  for (const seed of [7, 8, 9]) {
    const { p, stats, log } = make();
    machine(p, { n: 30000, cost: QUIET, warm: 20, warmCost: 60_000, pauseEvery: 1000, seed });
    assert.equal(stats.placementSwitches, 1, log.join('; '));
  }
});

test('not worth moving: within the noise, or dearer, stays together and backs off', () => {
  for (const apart of [12_000, 14_000, 20_000]) {
    const { p, stats, log } = make();
    const r = machine(p, { n: 30000, cost: { together: 13_000, apart }, seed: 11 });
    assert.equal(p.mode, 'together', `apart ${apart}: ${log.join('; ')}`);
    assert.equal(stats.placementSwitches, undefined, `apart ${apart}: ${log.join('; ')}`);
    assert.ok(stats.placementProbesLost >= 2, `apart ${apart}: probes lost ${stats.placementProbesLost}`);
    // Back-off: 30000 traps are 234 windows; probes every 2 windows would be ~50 of them.
    assert.ok(stats.placementProbesLost <= 8, `apart ${apart}: probes lost ${stats.placementProbesLost}`);
    assert.ok(r.count.apart < 0.1 * 30000, `apart ${apart}: ${r.count.apart} traps apart`);
  }
});

test('a loaded machine: a probe that costs far more is cut short after a few traps', () => {
  const { p, stats } = make();
  // The other CPU busy: a stub there waits for its turn, a millisecond per trap.
  const r = machine(p, { n: 30000, cost: { together: 13_000, apart: 1_000_000 }, warm: 0, seed: 3 });
  assert.equal(p.mode, 'together');
  const lost = stats.placementProbesLost;
  assert.ok(lost >= 2, `probes lost: ${lost}`);
  // Each lost probe ran about PROBE_SLACK_NS (2 ms) / 1 ms per trap apart, plus one.
  assert.ok(r.count.apart <= lost * 4, `apart traps ${r.count.apart} for ${lost} probes`);
});

test('goes back to together soon after apart becomes dearer, and apart again when the other CPU is free', () => {
  const { p, stats, log } = make();
  let { now } = machine(p, { n: 3000, cost: QUIET, seed: 5 });
  assert.equal(p.mode, 'apart');
  // Long enough apart for the probes of together to back off far.
  ({ now } = machine(p, { now, n: 60000, cost: QUIET, seed: 6 }));
  assert.equal(p.mode, 'apart');
  // Another program takes the other CPU: apart now costs 60 us per trap, 4.6x together.
  const switched = stats.placementSwitches;
  const loaded = machine(p, { now, n: 4000, cost: { together: 13_000, apart: 60_000 }, seed: 8 });
  assert.equal(stats.placementSwitches, switched + 1, log.join('; '));
  // Back within a few windows (three dear windows, then a probe of together), not after the back-off; later probes of
  // apart are cut short.
  assert.ok(loaded.count.apart < 900, `${loaded.count.apart} traps apart after the load came; ${log.join('; ')}`);
  // The other CPU is free again.
  machine(p, { now: loaded.now, n: 5000, cost: QUIET, seed: 9 });
  assert.equal(p.mode, 'apart', log.join('; '));
  assert.ok(stats.placementSwitches >= 3);
});

test('one CPU, or a fixed placement: no probing', () => {
  {
    const { p, stats } = make([0]);
    machine(p, { n: 10000, cost: { together: 10_000, apart: 1_000 } });
    assert.equal(p.mode, 'together');
    assert.equal(stats.apartTraps, undefined);
  }
  {
    const { p } = make([0], 'apart');
    assert.equal(p.mode, 'together', 'apart needs another CPU');
  }
  {
    const { p, stats } = make([0, 1], 'apart');
    machine(p, { n: 10000, cost: { together: 1_000, apart: 100_000 } });
    assert.equal(p.mode, 'apart');
    assert.equal(stats.apartTraps, 10000);
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

test('no probe of apart while the other CPUs are busy; one soon after they are idle', () => {
  const { p, stats, log } = make();
  let idle = 0.1;
  let looks = 0;
  p.othersIdle = () => {
    looks++;
    return idle;
  };
  let { now, count } = machine(p, { n: 30000, cost: QUIET, seed: 2 });
  assert.equal(p.mode, 'together');
  assert.equal(count.apart, 0, 'never moved');
  assert.ok(stats.placementProbesSkipped >= 2);
  // A look is a read of /proc/stat: at most one per 32 windows once skipped a few times (234 windows here).
  assert.ok(looks <= 15, `${looks} looks`);
  idle = 0.9;
  ({ count } = machine(p, { now, n: 32 * 128 + 2000, cost: QUIET, seed: 4 }));
  assert.equal(stats.placementSwitches, 1, log.join('; '));
  assert.ok(count.apart > 1500, `${count.apart} traps apart; ${log.join('; ')}`);
});

test('sparse traps (a compiler, fork and exec): never probed apart, and apart goes back together', () => {
  // make -j1's phases, as traced: windows of 0.15-1.2 ms per trap from one phase to the next, the same in either
  // placement (the program's own work); the old logic took each phase change for a placement's gain or loss.
  const { p, stats, log } = make();
  const r = rng(21);
  let now = 1e9, apart = 0;
  for (let phase = 0; phase < 40; phase++) {
    const c = 150_000 + r() * 1_050_000;
    const res = machine(p, { now, n: 200 + Math.floor(r() * 400), cost: { together: c, apart: c }, seed: phase + 1 });
    now = res.now;
    apart += res.count.apart;
  }
  assert.equal(apart, 0, log.join('; '));
  assert.equal(stats.placementProbesLost, undefined, log.join('; '));
  assert.equal(stats.placementSwitches, undefined, log.join('; '));
  // Dense traps (getpid): apart as before; then a sparse phase: together within a few windows, without a probe.
  ({ now } = machine(p, { now, n: 3000, cost: QUIET, seed: 30 }));
  assert.equal(p.mode, 'apart', log.join('; '));
  const lost = stats.placementProbesLost ?? 0;
  const sparse = machine(p, { now, n: 3000, cost: { together: 200_000, apart: 200_000 }, seed: 31 });
  assert.equal(p.mode, 'together', log.join('; '));
  assert.ok(sparse.count.apart <= 8 * 128, `${sparse.count.apart} sparse traps apart; ${log.join('; ')}`);
  assert.equal(stats.placementProbesLost ?? 0, lost, 'no probe of together was needed');
  // Dense again: apart again soon (the probes were not backed off by the sparse phase).
  const dense = machine(p, { now: sparse.now, n: 3000, cost: QUIET, seed: 32 });
  assert.equal(p.mode, 'apart', log.join('; '));
  assert.ok(dense.count.apart > 1500, `${dense.count.apart} traps apart; ${log.join('; ')}`);
});
