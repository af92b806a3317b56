'use strict';
// overlay mounts made inside the sandbox (fsimpl/overlay/stack.ts), compared
// with the same runs natively: test/c/ovlmount.c's system-call level cases
// (natively in a private mount namespace of its own, on a tmpfs of its own),
// then the shell tools a rootless container tool uses, as an unprivileged
// user in a user and mount namespace of its own (`unshare -rm`, overlay in
// a user namespace as Linux allows since 5.11).

const assert = require('node:assert');
const { test } = require('node:test');
const h = require('../lib/harness');

const AS_1000 = ['setpriv', '--reuid', '1000', '--regid', '1000', '--clear-groups'];

test('ovlmount.c: layers, copy-up, whiteouts, opaque directories, read-only mounts, errors', (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().ovlmount.static;
  const r = h.compare(t, (dir) => [bin, dir], { setup: () => h.tmpDir(), expectStatus: 0 });
  assert.match(r.sandbox.stdout, /u\/w1: chr mode 0 rdev 0:0/);
  assert.match(r.sandbox.stdout, /u\/e trusted\.overlay\.opaque: y\n/);
  assert.match(r.sandbox.stdout, /rename lower dir: EXDEV\n/);
  assert.ok(r.sandbox.stdout.endsWith('done\n'));
});

// What buildah or podman does in a user namespace: a tmpfs of its own, layers on it, an overlay over them.
const ROOTLESS = [
  'id -u; mount -t tmpfs t /mnt && cd /mnt && mkdir l1 l2 u w m && echo hi > l1/f && mkdir l2/d && echo x > l2/d/y',
  'mount -t overlay o -o lowerdir=l1:l2,upperdir=u,workdir=w m || exit 1',
  // Without userxattr the markers would be trusted.* xattrs, which a user namespace cannot set: no opaque directories (EIO).
  'echo more >> m/f && cat m/f l1/f && rm m/f; rm -r m/d 2>/dev/null; echo rm $?; ls -A m m/d',
  'ls -l u | tail -n +2 | cut -c1-10; stat -c "%U %G %a" w/work u/d',
  'umount m && mount -t overlay o -o lowerdir=l1:l2,upperdir=u,workdir=w,userxattr m && rm -r m/d && mkdir m/d && echo new > m/d/n && ls -A m m/d',
  'umount m && mount -t overlay o -o lowerdir=u:l1:l2 m && ls -A m; touch m/z; echo $?',
].join('\n');

test('unshare -rm: an unprivileged user mounts an overlay in its own namespaces', (t) => {
  if (!h.needTools(t, ['unshare', 'setpriv'])) return;
  const r = h.compare(t, [...AS_1000, 'unshare', '-rm', 'sh', '-c', ROOTLESS], { expectStatus: 0 });
  assert.match(r.sandbox.stdout, /^0\nhi\nmore\nhi\n/);
  // Outside its own namespaces the same user may not mount at all.
  h.compare(t, [...AS_1000, 'sh', '-c', 'mount -t overlay o -o lowerdir=/usr:/etc /mnt 2>/dev/null; echo $?']);
});
