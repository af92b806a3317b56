'use strict';
// loopdev: loop block devices in the sandbox (fsimpl/loop, syscalls/loop_ioctl.ts),
// backed by the sandbox's own files. test/c/loopdev.c's output in the sandbox
// must equal Linux's: the host's, when it has the loop driver and we are root
// (and then the recorded test/c/loopdev.expected must still be the host's),
// else the recorded one (taken from a native run on Linux 6.18).
// test/c/loophostile.c: cycles, offsets at the top of the range, bad
// pointers, the bound on devices (sandbox only) and disk file system types
// (ENODEV in the sandbox); it checks itself and must end with "done".

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const { hasHostLoop } = require('../lib/programs');

const EXPECTED = path.join(__dirname, '..', 'c', 'loopdev.expected');

test('loopdev: the sandbox answers as Linux', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().loopdev.static;
  const want = fs.readFileSync(EXPECTED, 'utf8');
  if (hasHostLoop()) {
    const ndir = h.tmpDir();
    const native = h.runNative([bin, ndir], { cwd: ndir });
    assert.strictEqual(native.status, 0, h.describe('native', native) + native.stdout);
    assert.strictEqual(native.stdout, want, 'test/c/loopdev.expected is what this host\'s Linux prints');
  }
  const dir = h.tmpDir();
  const r = h.runSandbox([bin, dir], { cwd: dir });
  assert.strictEqual(r.status, 0, h.describe('sandbox', r) + r.stdout);
  assert.strictEqual(r.stdout, want);
});

test('loophostile: cycles, edges and the bound', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().loophostile.static;
  if (hasHostLoop()) {
    const ndir = h.tmpDir();
    const native = h.runNative([bin, ndir], { cwd: ndir });
    assert.strictEqual(native.status, 0, h.describe('native', native) + native.stdout);
    assert.ok(native.stdout.endsWith('done\n'), native.stdout);
  }
  const dir = h.tmpDir();
  const r = h.runSandbox([bin, dir], { cwd: dir, env: { SANDBOX: '1' } });
  assert.strictEqual(r.status, 0, h.describe('sandbox', r) + r.stdout);
  assert.doesNotMatch(r.stdout, /FAIL/);
  assert.match(r.stdout, /ok add past the bound\n/);
  assert.match(r.stdout, /ok mount ext4\n/);
  assert.ok(r.stdout.endsWith('done\n'), r.stdout);
});

// util-linux and e2fsprogs drive the devices as an administrator would: losetup
// finds and binds one (LOOP_CTL_GET_FREE, LOOP_CONFIGURE, sysfs), mkfs.ext4
// writes a file system through it, blkid reads it back, losetup -d clears it.
test('losetup, mkfs.ext4 and blkid on a loop device', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['losetup', 'mkfs.ext4', 'blkid'])) return;
  const dir = h.tmpDir();
  const script = [
    `cd ${dir}`, 'truncate -s 16M img', 'dev=$(losetup -f --show img)', 'echo "bound $dev"',
    'losetup -l -n -O NAME,SIZELIMIT,OFFSET,AUTOCLEAR,RO,LOG-SEC', 'mkfs.ext4 -q -F "$dev" && echo mkfs ok',
    'blkid -o value -s TYPE "$dev"', 'blkid -o value -s TYPE img', 'losetup -d "$dev" && echo cleared', 'losetup -a | wc -l',
  ].join(' && ');
  const r = h.runSandbox(['/bin/sh', '-c', script], { cwd: dir });
  assert.strictEqual(r.status, 0, h.describe('sandbox', r) + r.stdout);
  assert.match(r.stdout, /^bound \/dev\/loop\d+\n\/dev\/loop\d+ +0 +0 +0 +0 +512\nmkfs ok\next4\next4\ncleared\n0\n$/);
});
