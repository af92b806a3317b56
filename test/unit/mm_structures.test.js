'use strict';
// The memory manager's structures against simple reference models, with
// random operation sequences: VmaSet (treap with gap summaries), FrameTable
// (grows, splits and joins at either end), FreeExtents (the memory file's
// free runs).
const test = require('node:test');
const assert = require('node:assert/strict');
const { VmaSet } = require('../../dist/mm/vma_set.js');
const { Vma } = require('../../dist/mm/vma.js');
const { FrameTable } = require('../../dist/mm/frame_table.js');
const { FreeExtents } = require('../../dist/platform/free_extents.js');

const PAGE = 4096;

function rng(seed) {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

function vma(startPage, endPage, prot = 3) {
  return new Vma(startPage * PAGE, endPage * PAGE, prot, false, new FrameTable(endPage - startPage), null, startPage, false, null);
}

/** Reference: a sorted array of [start, end) page ranges. */
function modelGapBelow(list, len, top, floor) {
  // Highest a with [a, a+len) free, floor <= a, a+len <= top.
  let hi = top;
  for (let i = list.length - 1; i >= -1; i--) {
    const v = list[i];
    const lo = v ? v.end : 0;
    if (v && v.start >= hi) continue;
    const a = Math.min(hi, top) - len;
    if (a >= lo && a >= floor) return a;
    if (!v) break;
    hi = Math.min(hi, v.start);
  }
  return -1;
}

for (const seed of [3, 17, 2024, 77777]) {
  test(`VmaSet: random inserts, removes, splits, merges and gap searches match a sorted array (seed ${seed})`, () => {
    const r = rng(seed);
    const set = new VmaSet();
    let list = [];
    const SPACE = 4000; // pages
    const sorted = () => list.sort((a, b) => a.start - b.start);
    const freeAt = (s, e) => !list.some((v) => v.start < e * PAGE && v.end > s * PAGE);
    for (let step = 0; step < 4000; step++) {
      const op = r(10);
      if (op < 4) {
        const s = 16 + r(SPACE), n = 1 + r(8);
        if (!freeAt(s, s + n)) continue;
        const v = vma(s, s + n, 1 + r(2));
        set.insert(v);
        list.push(v);
        sorted();
        if (r(2)) {
          const before = set.size;
          const merged = set.mergeAround(v.start, v.end);
          assert.equal(set.size, before - merged);
          list = set.toArray();
        }
      } else if (op < 6 && list.length) {
        const v = list[r(list.length)];
        set.remove(v);
        list.splice(list.indexOf(v), 1);
      } else if (op < 7 && list.length) {
        const v = list[r(list.length)];
        if (v.pages < 2) continue;
        const at = v.start + (1 + r(v.pages - 1)) * PAGE;
        const right = v.splitAt(at);
        set.update(v);
        set.insert(right);
        list.push(right);
        sorted();
      } else if (op < 8 && list.length) {
        // Grow or shrink one VMA at its end into free space.
        const i = r(list.length);
        const v = list[i];
        const next = list[i + 1];
        const limit = next ? next.start : (SPACE + 64) * PAGE;
        if (v.end + PAGE <= limit && r(2)) {
          v.frames.growBack(1);
          v.end += PAGE;
        } else if (v.pages > 1) {
          v.end -= PAGE;
        } else continue;
        set.update(v);
      } else {
        const len = (1 + r(12)) * PAGE, top = (16 + r(SPACE + 32)) * PAGE, floor = r(64) * PAGE;
        assert.equal(set.findGapBelow(len, top, floor), modelGapBelow(list, len, top, floor), `step ${step}: gap ${len} below ${top}`);
      }
      assert.equal(set.size, list.length);
      if (step % 50 === 0) {
        assert.deepEqual(set.toArray(), list, `step ${step}: order`);
        for (let k = 0; k < 20; k++) {
          const a = r(SPACE + 32) * PAGE + r(PAGE);
          const want = list.find((v) => v.start <= a && a < v.end) ?? null;
          assert.equal(set.find(a), want);
          assert.equal(set.lowerBound(a), list.find((v) => v.end > a) ?? null);
          assert.equal(set.lastBefore(a), [...list].reverse().find((v) => v.start < a) ?? null);
          const e = a + r(40) * PAGE;
          assert.deepEqual(set.overlapping(a, e), list.filter((v) => v.end > a && v.start < e));
        }
      }
    }
  });
}

test('VmaSet: merging follows canMerge and keeps frames in place', () => {
  const set = new VmaSet();
  const a = vma(10, 12), b = vma(12, 14), c = vma(14, 15, 1), d = vma(16, 18);
  a.frames.set(1, 100);
  b.frames.set(0, 200);
  for (const v of [a, b, c, d]) set.insert(v);
  assert.equal(set.mergeAround(12 * PAGE, 14 * PAGE), 1);
  assert.deepEqual(set.toArray().map((v) => [v.start / PAGE, v.end / PAGE]), [[10, 14], [14, 15], [16, 18]]);
  assert.equal(a.frames.get(1), 100);
  assert.equal(a.frames.get(2), 200);
  assert.equal(a.frames.count(), 2);
  // Different anonymous identities do not merge; the same one does.
  const e = vma(18, 20);
  e.anon = {};
  d.anon = {};
  set.insert(e);
  assert.equal(set.mergeAround(18 * PAGE, 20 * PAGE), 0);
  e.anon = d.anon;
  assert.equal(set.mergeAround(18 * PAGE, 20 * PAGE), 1);
  // A broken page-offset continuity (a moved VMA) does not merge.
  const f = vma(20, 22);
  f.pgoff = 5;
  set.insert(f);
  assert.equal(set.mergeAround(20 * PAGE, 22 * PAGE), 0);
});

test('VmaSet: the untouched callback lets identities that were never used merge', () => {
  const set = new VmaSet((v) => v.start === 12 * PAGE);
  const a = vma(10, 12), b = vma(12, 14);
  a.anon = {};
  b.anon = {};
  set.insert(a);
  set.insert(b);
  assert.equal(set.mergeAround(10 * PAGE, 14 * PAGE), 1);
  assert.equal(set.size, 1);
});

test('VmaSet: 100k one-page VMAs stay shallow (gap search and lookups in the order of log n)', () => {
  const set = new VmaSet();
  // Ascending inserts are a sorted array's worst case and an unbalanced tree's too.
  for (let i = 0; i < 100000; i++) set.insert(vma(2 * i + 16, 2 * i + 17));
  assert.equal(set.size, 100000);
  assert.equal(set.find((2 * 54321 + 16) * PAGE).start, (2 * 54321 + 16) * PAGE);
  assert.equal(set.findGapBelow(2 * PAGE, 1e12, 0), 1e12 - 2 * PAGE);
  assert.equal(set.findGapBelow(PAGE, (2 * 99999 + 16) * PAGE, 16 * PAGE), (2 * 99998 + 17) * PAGE);
  assert.equal(set.findGapBelow(2 * PAGE, (2 * 99999 + 16) * PAGE, 16 * PAGE), -1);
});

for (const [label, start] of [['dense', 300], ['sparse', 70000]]) {
  test(`FrameTable (${label}): random grow/split/concat against an array`, () => {
    const r = rng(start);
    let tables = [[new FrameTable(start), new Array(start).fill(-1)]];
    let nextFrame = 1;
    for (let step = 0; step < 600; step++) {
      const i = r(tables.length);
      const [t, m] = tables[i];
      const op = r(6);
      if (op === 0) {
        const n = 1 + r(start > 1000 ? 3000 : 50);
        t.growBack(n);
        m.push(...new Array(n).fill(-1));
      } else if (op === 1) {
        const n = 1 + r(start > 1000 ? 3000 : 50);
        t.growFront(n);
        m.unshift(...new Array(n).fill(-1));
      } else if (op === 2 && m.length > 1) {
        const at = 1 + r(m.length - 1);
        const [a, b] = t.split(at);
        tables.splice(i, 1, [a, m.slice(0, at)], [b, m.slice(at)]);
      } else if (op === 3 && tables.length > 1 && i + 1 < tables.length) {
        const [u, um] = tables[i + 1];
        tables.splice(i, 2, [FrameTable.concat(t, u), m.concat(um)]);
      } else {
        for (let k = 0; k < 20 && m.length; k++) {
          const p = r(m.length);
          const f = r(4) ? nextFrame++ : -1;
          t.set(p, f);
          m[p] = f;
        }
      }
      for (const [tt, mm] of tables) {
        assert.equal(tt.length, mm.length);
        assert.equal(tt.count(), mm.filter((f) => f >= 0).length);
      }
      if (step % 25 === 0) {
        for (const [tt, mm] of tables) {
          const seen = [];
          tt.forEachPresent(0, tt.length, (p, f) => seen.push([p, f]));
          assert.deepEqual(seen, mm.flatMap((f, p) => (f >= 0 ? [[p, f]] : [])));
          assert.equal(tt.get(-1), -1);
          assert.equal(tt.get(tt.length), -1);
        }
      }
      if (tables.length > 6) tables = tables.slice(0, 3);
    }
  });
}

test('FrameTable: joining many one-page tables copies O(n log n) frames, not O(n^2)', () => {
  // Counted through set(): each concat copies the smaller side.
  let copies = 0;
  const orig = FrameTable.prototype.set;
  FrameTable.prototype.set = function (p, f) {
    copies++;
    return orig.call(this, p, f);
  };
  try {
    let t = new FrameTable(1);
    t.set(0, 0);
    for (let i = 1; i < 20000; i++) {
      const one = new FrameTable(1);
      one.set(0, i);
      t = i % 2 ? FrameTable.concat(one, t) : FrameTable.concat(t, one);
    }
    assert.equal(t.length, 20000);
    assert.equal(t.count(), 20000);
    assert.ok(copies < 20000 * 3, `${copies} copies`);
  } finally {
    FrameTable.prototype.set = orig;
  }
});

/** Reference: a set of free page numbers; runs are maximal within each window. */
for (const seed of [5, 99, 31337]) {
  test(`FreeExtents: random add/take against a page set (seed ${seed})`, () => {
    const r = rng(seed);
    const W = 64;
    const fe = new FreeExtents(W);
    const free = new Set();
    const used = new Set();
    let top = 0;
    const allocate = (n) => {
      const first = fe.take(n);
      if (first < 0) {
        // Must really be no run of n free pages within one window.
        for (const p of free) {
          let ok = true;
          for (let k = 0; k < n && ok; k++) ok = free.has(p + k) && Math.floor((p + k) / W) === Math.floor(p / W);
          if (ok && n <= 8) assert.fail(`take(${n}) found nothing but ${p} fits`);
        }
        const f = top;
        top += n;
        for (let k = 0; k < n; k++) used.add(f + k);
        return;
      }
      assert.equal(Math.floor(first / W), Math.floor((first + n - 1) / W), 'within one window');
      for (let k = 0; k < n; k++) {
        assert.ok(free.has(first + k), `page ${first + k} handed out was free`);
        free.delete(first + k);
        used.add(first + k);
      }
    };
    for (let step = 0; step < 5000; step++) {
      if (r(2) && used.size) {
        const arr = [...used];
        const p = arr[r(arr.length)];
        let n = 1;
        while (n < 10 && used.has(p + n)) n++;
        for (let k = 0; k < n; k++) {
          used.delete(p + k);
          free.add(p + k);
        }
        fe.add(p, n);
      } else allocate(1 + (r(4) ? 0 : r(20)));
      assert.equal(fe.pages, free.size);
      if (step % 100 === 0) {
        // Coalesced: as many runs as maximal free stretches cut at window edges.
        let runs = 0;
        for (const p of free) if (!free.has(p - 1) || p % W === 0) runs++;
        assert.equal(fe.runs, runs, `step ${step}`);
      }
    }
    const drained = [];
    fe.drain((f, n) => drained.push([f, n]));
    assert.equal(drained.reduce((s, [, n]) => s + n, 0), free.size);
    assert.equal(fe.pages, 0);
    assert.equal(fe.take(1), -1);
  });
}

test('FreeExtents.takeAt: exactly the range, from a run start or end', () => {
  const fe = new FreeExtents(1024);
  fe.add(100, 50);
  assert.equal(fe.takeAt(100, 10), true);
  assert.equal(fe.takeAt(140, 10), true);
  assert.equal(fe.takeAt(120, 5), false, 'middle of a run');
  assert.equal(fe.takeAt(139, 2), false, 'not free');
  assert.equal(fe.pages, 30);
  assert.equal(fe.take(30), 110);
});

test('MemoryFile.allocNear: frames next to a neighbour\'s, top down or bottom up; fresh ones from a top-down block', () => {
  const { MemoryFile } = require('../../dist/platform/memfile.js');
  const mf = new MemoryFile();
  const first = mf.allocNear(1, -1, true);
  let f = first;
  for (let i = 0; i < 100; i++) {
    const g = mf.allocNear(1, f - 1, true);
    assert.equal(g, f - 1, 'mmap below: the frame below');
    f = g;
  }
  const up = mf.alloc(4);
  assert.equal(mf.allocNear(4, up + 4, false), up + 4, 'brk above: the frames above');
  mf.decRef(up + 4, 4);
  assert.equal(mf.allocNear(2, up + 4, false), up + 4, 'freed frames at the hint are taken again');
  assert.equal(mf.refCount(up + 4), 1);
  assert.equal(mf.bytes(up + 4).every((b) => b === 0), true);
  assert.equal(mf.usedPages, 101 + 4 + 2);
});

test('MemoryFile.allocNear: mapping and unmapping one page forever reuses freed frames', () => {
  const { MemoryFile } = require('../../dist/platform/memfile.js');
  const mf = new MemoryFile();
  let highest = 0;
  for (let i = 0; i < 100000; i++) {
    const f = mf.allocNear(1, -1, true);
    highest = Math.max(highest, f);
    mf.decRef(f);
  }
  assert.equal(mf.usedPages, 0);
  // Freed frames wait (dirty) until 64 MiB of them are given back to the host; then blocks come from them.
  assert.ok(highest < 16384 + 4 * 2048, `highest frame ${highest}`);
});

test('Vma.untouched: bounded probing, and "written" sticks', () => {
  let calls = 0;
  let pagesRead = 0;
  const fake = (zero) => ({
    refCount: () => 1,
    isZeroFrame: () => false,
    allZero(first, n, budget) {
      calls++;
      for (let i = 0; i < n; i++) {
        pagesRead++;
        if (--budget.pages < 0) return false;
      }
      return zero;
    },
  });
  const big = vma(0, 10000);
  for (let p = 0; p < 10000; p++) big.frames.set(p, p);
  assert.equal(big.untouched(fake(true)), false, 'too many frames to look at: counts as written');
  assert.equal(calls, 0);
  assert.equal(big.written, false, 'not known, only assumed');

  const mid = vma(0, 1000);
  for (let p = 0; p < 1000; p++) mid.frames.set(p, 2 * p); // no two frames consecutive: one run each
  assert.equal(mid.untouched(fake(true)), false, 'budget spent: counts as written');
  assert.ok(pagesRead <= 257, `${pagesRead} pages read`);
  assert.equal(mid.written, false);

  const small = vma(0, 8);
  for (let p = 0; p < 8; p++) small.frames.set(p, 100 + p);
  assert.equal(small.untouched(fake(true)), true);
  calls = 0;
  assert.equal(small.untouched(fake(false)), false);
  assert.equal(small.written, true);
  assert.equal(small.untouched(fake(true)), false, 'once written, always written');
  assert.equal(calls, 1, 'no probe once known written');
});
