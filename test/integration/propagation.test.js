'use strict';
// Shared subtrees (vfs/propagation.ts, vfs/propagate.ts) compared with
// Linux: test/c/propagation.c's system-call cases (natively in a private
// mount namespace of its own child, on a tmpfs of its own), the exponential
// bind-mount program running into fs.mount-max (ENOSPC) at the same round
// as Linux, and util-linux's mount --make-* and unshare(1) with findmnt's
// view of the propagation. The host's mount table never changes.

const assert = require('node:assert');
const fs = require('node:fs');
const { test } = require('node:test');
const h = require('../lib/harness');

test('propagation.c: peers, slaves, private, unbindable, umount and namespace propagation', (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().propagation.static;
  const before = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  const r = h.compare(t, (dir) => [bin, dir], { setup: () => h.tmpDir(), expectStatus: 0 });
  assert.match(r.sandbox.stdout, /\n\/s2\/x root=\/ shared:B - tmpfs m1\n/);
  assert.match(r.sandbox.stdout, /\nbind unbindable +EINVAL\n/);
  assert.match(r.sandbox.stdout, /userns child sees the parent's mount\n\/ root=\/ master:A - tmpfs base\n/);
  assert.ok(r.sandbox.stdout.endsWith('done\n'));
  assert.strictEqual(fs.readFileSync('/proc/self/mountinfo', 'utf8'), before, 'the host mount table changed');
});

test('hostile: exponential bind mounts of a shared tree stop at fs.mount-max (ENOSPC), as on Linux', { timeout: 240_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().propagation.static;
  const r = h.compare(t, (dir) => [bin, dir, 'explode'], { setup: () => h.tmpDir(), expectStatus: 0, timeout: 200_000 });
  assert.match(r.sandbox.stdout, /^stopped at round \d+: ENOSPC\nmountinfo lines over the limit: no\numount2 detach +ok\ndone\n$/);
});

// util-linux: mount's --make-* options and findmnt's PROPAGATION column, a bind of a shared mount, a slave.
const TOOLS = [
  'd=$(pwd); mount -t tmpfs t "$d" && mount --make-private "$d" && cd / && cd "$d" || exit 1',
  'mkdir a b c && mount -t tmpfs s a && mount --make-shared a && mount --bind a b && mount --bind a c && mount --make-slave c',
  'mkdir a/x b/y && mount -t tmpfs x a/x && mount -t tmpfs y c/y',
  'show() { findmnt -rn -o TARGET,PROPAGATION | grep "^$d" | sed "s|^$d||"; }; show',
  'umount b/x; echo umount=$?; show',
  'mount --make-unbindable b; mount --bind b a/x 2>/dev/null; echo bind=$?; mount --make-rprivate a; show',
  // A new mount namespace whose copies stay peers of these (unshare --propagation unchanged).
  'mount --make-shared a; mount --bind a b/y 2>/dev/null; echo unbindable-parent=$?; unshare -m --propagation unchanged sh -c "mount -t tmpfs z $d/a/x"; show',
  'umount -l "$d"',
].join('\n');

test('mount --make-shared/--make-slave/--make-unbindable and unshare -m, seen by findmnt', (t) => {
  if (!h.needTools(t, ['unshare', 'findmnt'])) return;
  const r = h.compare(t, ['unshare', '-m', 'sh', '-c', TOOLS], { setup: () => h.tmpDir(), expectStatus: 0 });
  assert.match(r.sandbox.stdout, /^ private\n\/a shared\n\/b shared\n\/c private,slave\n/);
});
