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

// Mount options and layer checks with mount(8): duplicated layers, a read-only upper, an overlay stacked on an overlay
// (and the depth Linux refuses beyond), the options accepted at their defaults, volatile's marker in the work directory.
const CHECKS = [
  'd=$(pwd); mount -t tmpfs t "$d" && cd / && cd "$d" || exit 1',
  "mkdir -p l1 l2 l3 u w m m2 m3 u2 w2 ro u3 w3; echo a > l1/a; echo b > l2/b",
  "mount -t overlay o -o lowerdir=l1:l1 m 2>/dev/null; echo dup=$?; umount m 2>/dev/null",
  "mount --bind ro ro && mount -o remount,ro,bind ro; mkdir -p ro/x 2>/dev/null",
  "mount -t overlay o -o lowerdir=l1,upperdir=ro,workdir=w m 2>/dev/null; echo roupper=$?; umount m 2>/dev/null",
  "mount -t overlay o -o lowerdir=l1:l2 m; echo lower2=$?",
  "mount -t overlay o -o lowerdir=m:l3,upperdir=u2,workdir=w2 m2; echo nested=$?; ls m2; echo x > m2/a; cat m2/a l1/a",
  "mount -t overlay o -o lowerdir=m2:l3 m3 2>/dev/null; echo depth3=$?",
  "mount -t overlay o -o lowerdir=l3,upperdir=m2,workdir=w3 m3 2>/dev/null; echo ovlupper=$?",
  "mount -t overlay o -o \"lowerdir=l1:l2,upperdir=u3,workdir=w3,index=off,xino=off,redirect_dir=off,metacopy=off\" m3; echo offs=$?; umount m3",
  "mount -t overlay o -o \"lowerdir=l1,upperdir=u3,workdir=w3,volatile\" m3; echo volatile=$?; umount m3",
  "mount -t overlay o -o \"lowerdir=l1,upperdir=u3,workdir=w3,userxattr=1\" m3 2>/dev/null; echo uxval=$?; umount m3 2>/dev/null",
  "mount -t overlay o -o \"lowerdir=l1,upperdir=u3,workdir=u3\" m3 2>/dev/null; echo samework=$?; umount m3 2>/dev/null",
  "mount -t overlay o -o \"lowerdir=l1,upperdir=u3,workdir=l2\" m3 2>/dev/null; echo worklower=$?; umount m3 2>/dev/null",
  "mount -t overlay o -o \"lowerdir=l1,lowerdir=l2,upperdir=u3,workdir=w3\" m3 2>/dev/null; echo twolower=$?; ls m3; umount m3 2>/dev/null",
  "mount -t overlay o -o \"lowerdir+=l1,lowerdir+=l2\" m3 2>/dev/null; echo lplus=$?; ls m3; umount m3 2>/dev/null",
  "mount -t overlay o -o \"lowerdir=,upperdir=u3,workdir=w3\" m3 2>/dev/null; echo emptyl=$?; umount m3 2>/dev/null",
  // A directory in use as another overlay's upper or work directory: only a warning on Linux without index=on (no EBUSY).
  'mkdir u4 w4 w5 m4; mount -t overlay o -o lowerdir=l1,upperdir=u4,workdir=w4 m3; mount -t overlay o -o lowerdir=l2,upperdir=u4,workdir=w5 m4; echo inuse=$?; umount m4; umount m3',
  // Linux stacks nothing on proc and mqueue; sysfs, devtmpfs and devpts may be lower layers.
  'for l in /proc /proc/self/fd /dev/mqueue /sys /dev /dev/pts; do mount -t overlay o -o lowerdir=$l:l1 m3 2>/dev/null; echo $l=$?; umount m3 2>/dev/null; done',
  'umount m2; umount m; umount ro',
].join('\n');

test('mount -t overlay: options, stacking, read-only and overlapping layers', (t) => {
  if (!h.needTools(t, ['unshare'])) return;
  const r = h.compare(t, ['unshare', '-m', 'sh', '-c', CHECKS], { setup: () => h.tmpDir(), expectStatus: 0 });
  assert.match(r.sandbox.stdout, /^dup=32\nroupper=32\nlower2=0\nnested=0\n/);
  assert.match(r.sandbox.stdout, /depth3=32\novlupper=32\n/);
});

// Symlinks, shared mappings, truncate, rename and hard links through the overlay (copy-up of each), with python3.
const FILES = [
  "d=$(pwd); mount -t tmpfs t \"$d\" && cd / && cd \"$d\" || exit 1",
  "mkdir l u w m; echo hello > l/f; ln -s f l/lnk; mkdir l/dd; echo 1 > l/dd/x",
  "mount -t overlay o -o lowerdir=l,upperdir=u,workdir=w m",
  "readlink m/lnk; cat m/lnk; chown -h 5:6 m/lnk; stat -c '%F %u %g' u/lnk l/lnk; readlink u/lnk",
  "python3 -c \"",
  "import mmap,os",
  "fd=os.open('m/f',os.O_RDWR); m=mmap.mmap(fd,6); m[0:5]=b'HELLO'; m.flush(); m.close(); os.close(fd)",
  "print(open('m/f').read().strip(), open('u/f').read().strip(), open('l/f').read().strip())",
  "os.truncate('m/dd/x', 0); print(os.stat('u/dd/x').st_size, os.stat('l/dd/x').st_size)",
  "fd=os.open('m/dd', os.O_RDONLY); os.mkdir('m/dd/new'); print(sorted(os.listdir('m/dd')), sorted(os.listdir('u/dd')))",
  "os.rename('m/dd/x', 'm/y'); print(sorted(os.listdir('m')), sorted(os.listdir('u')), os.stat('u/dd/x').st_rdev)",
  "os.link('m/f', 'm/f2'); print(os.stat('m/f').st_nlink, os.stat('m/f').st_ino == os.stat('m/f2').st_ino)",
  "\"",
  "umount m",
].join('\n');

test('mount -t overlay: symlinks, mmap, truncate, rename and links copy up', (t) => {
  if (!h.needTools(t, ['unshare', 'python3'])) return;
  const r = h.compare(t, ['unshare', '-m', 'sh', '-c', FILES], { setup: () => h.tmpDir(), expectStatus: 0 });
  assert.match(r.sandbox.stdout, /\nHELLO HELLO hello\n0 2\n/);
});
