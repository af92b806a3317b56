'use strict';
// A host thread's CPU counters by its TID alone (platform/hostcpu.ts): the
// path /proc/TID/task/TID, and the start time that tells a thread from a
// later one given the same number.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const childProcess = require('node:child_process');
const { hostTaskDir, readHostCpu } = require('../../dist/platform/hostcpu.js');

/** Field 22 (starttime) of a stat line. */
function startOf(stat) {
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
}

test('a thread of another thread group member is read by its TID alone, with its own start time', () => {
  const tids = fs.readdirSync(`/proc/${process.pid}/task`).map(Number).filter((t) => t !== process.pid);
  assert.ok(tids.length > 0, 'node runs more than one thread');
  for (const tid of [process.pid, tids[0]]) {
    assert.equal(hostTaskDir(tid), `/proc/${tid}/task/${tid}`);
    const h = readHostCpu(tid, true);
    assert.ok(h, `thread ${tid}`);
    assert.ok(Number.isInteger(h.ut) && Number.isInteger(h.st) && h.total >= 0);
    assert.equal(h.start, startOf(fs.readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'latin1')));
    // The same thread: read again. Another start time: the number is another thread's, so none.
    assert.ok(readHostCpu(tid, false, h.start));
    assert.equal(readHostCpu(tid, false, h.start + 1), null);
  }
});

test('a thread that is gone reads as none', () => {
  const r = childProcess.spawnSync('/bin/true');
  assert.equal(r.status, 0);
  assert.equal(readHostCpu(r.pid, false), null);
});
