'use strict';
// timers: the kernel's timer queue (src/kernel/timers.ts, a binary heap of
// timer records) against the sorted array it replaced (insert with splice,
// cancel with findIndex + splice). N timers with random deadlines are armed,
// then all cancelled in random order; then the same with every timer expiring
// in deadline order. Every timed block (nanosleep, poll and futex timeouts)
// arms one and cancels or expires it; TCP will do it per segment.
// Run: npm run build && node bench/timers.js [N] [rounds] (the array only up to N = 20000)

const { TimerQueue, KernelTimer } = require('../dist/kernel/timers');

const N = Number(process.argv[2]) || 10000;
const ROUNDS = Number(process.argv[3]) || 20;

/** The kernel the queue dispatches to: only the tick kind is used here, counting expiries. */
const fakeKernel = { expired: 0, onTick() { this.expired++; }, monotonicNs: () => 0 };

/** The old Kernel.addTimer/cancelTimer, as they were (sorted array, ids). */
class SortedArrayTimers {
  constructor() {
    this.timers = [];
    this.nextId = 1;
  }
  add(deadline, fn) {
    const t = { id: this.nextId++, deadline, fn };
    let i = this.timers.length;
    while (i > 0 && this.timers[i - 1].deadline > deadline) i--;
    this.timers.splice(i, 0, t);
    return t.id;
  }
  cancel(id) {
    const i = this.timers.findIndex((t) => t.id === id);
    if (i >= 0) this.timers.splice(i, 1);
  }
  run(now) {
    while (this.timers.length && this.timers[0].deadline <= now) this.timers.shift().fn();
  }
}

function shuffled(n) {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

function time(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0);
}

function bench() {
  const deadlines = Array.from({ length: N }, () => 1e9 + Math.floor(Math.random() * 1e9));
  const order = shuffled(N);
  const r = { heapArmCancel: 0, arrayArmCancel: 0, heapArmExpire: 0, arrayArmExpire: 0 };

  const q = new TimerQueue(fakeKernel, () => {});
  const recs = deadlines.map(() => new KernelTimer('tick', fakeKernel));
  r.heapArmCancel = time(() => {
    for (let i = 0; i < N; i++) q.arm(recs[i], deadlines[i]);
    for (const i of order) q.cancel(recs[i]);
  });
  if (q.size !== 0) throw new Error('heap not empty after cancelling');
  fakeKernel.expired = 0;
  r.heapArmExpire = time(() => {
    for (let i = 0; i < N; i++) q.arm(recs[i], deadlines[i]);
    q.runDue(3e9);
  });
  if (fakeKernel.expired !== N) throw new Error(`heap expired ${fakeKernel.expired} of ${N}`);

  if (N > 20000) return r; // the sorted array takes minutes there
  const a = new SortedArrayTimers();
  let fired = 0;
  const fn = () => fired++;
  const ids = new Array(N);
  r.arrayArmCancel = time(() => {
    for (let i = 0; i < N; i++) ids[i] = a.add(deadlines[i], fn);
    for (const i of order) a.cancel(ids[i]);
  });
  r.arrayArmExpire = time(() => {
    for (let i = 0; i < N; i++) a.add(deadlines[i], fn);
    a.run(3e9);
  });
  if (fired !== N) throw new Error('array expired too few');
  return r;
}

for (let i = 0; i < 3; i++) bench(); // warm up the JIT
const all = [];
for (let i = 0; i < ROUNDS; i++) all.push(bench());
const median = (k) => {
  const v = all.map((x) => x[k]).sort((x, y) => x - y);
  return v[v.length >> 1];
};
const fmt = (ns) => (ns ? `${(ns / 1e6).toFixed(2)} ms (${(ns / N).toFixed(0)} ns per timer)` : 'not run');
console.log(`${N} timers, median of ${ROUNDS} rounds`);
console.log(`arm all, cancel all in random order: heap ${fmt(median('heapArmCancel'))}, sorted array ${fmt(median('arrayArmCancel'))}`);
console.log(`arm all, expire all:                 heap ${fmt(median('heapArmExpire'))}, sorted array ${fmt(median('arrayArmExpire'))}`);
