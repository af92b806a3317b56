'use strict';
// cgroupctl: the cgroup v2 files that act on processes. test/c/cgroupctl.c
// (delegation's write check on the common ancestor, cgroup.freeze and
// cgroup.events' frozen, cgroup.kill, threaded cgroups) compared with
// native in a fresh cgroup of the host's hierarchy; and nsdelegate, which
// the host's hierarchy is not mounted with (it is one per machine: a test
// must not remount it), checked in the sandbox against Linux's answers
// (cgroup-v2.rst, "Delegation Containment").

const assert = require('node:assert');
const { test } = require('node:test');
const h = require('../lib/harness');
const { C_PROGRAMS, nativeArgv } = require('../lib/programs');

test('cgroupctl in the sandbox matches native', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['gcc', 'unshare'])) return;
  const bin = h.buildPrograms().cgroupctl.static;
  const argv = (dir) => [bin, ...C_PROGRAMS.cgroupctl.args(dir)];
  const dir = h.tmpDir();
  const native = h.runNative(nativeArgv(C_PROGRAMS.cgroupctl, argv(dir)), { cwd: dir });
  assert.strictEqual(native.status, 0, h.describe('native', native));
  assert.ok(native.stdout.endsWith('done\n'));
  const sandbox = h.runSandbox(argv(dir), { cwd: dir });
  assert.strictEqual(sandbox.status, 0, h.describe('sandbox', sandbox));
  assert.strictEqual(sandbox.stdout, native.stdout);
});

// The shell enters ns/, makes a cgroup namespace there (rooted at ns), and
// tries moves and writes from inside; then a mount without nsdelegate lifts
// the boundary. (The scripts are files of the sandbox's own /tmp.)
const NSDELEGATE = `
cat > /tmp/inside <<'EOF'
cd /sys/fs/cgroup
cat /proc/self/cgroup
mkdir ns/in && echo 0 > ns/in/cgroup.procs; echo "into ns/in: $?"
echo "to out: $( (echo 0 > out/cgroup.procs) 2>&1 | sed "s/.*: //")"
echo 0 > ns/cgroup.procs; echo "back to ns: $?"
echo "to top: $( (echo 0 > top/cgroup.procs) 2>&1 | sed "s/.*: //")"
echo "ns/max.depth: $( (echo 3 > ns/cgroup.max.depth) 2>&1 | sed "s/.*: //")"
echo 3 > ns/in/cgroup.max.depth; echo "in/max.depth: $(cat ns/in/cgroup.max.depth)"
echo 0 > ns/in/cgroup.procs && echo +pids > ns/cgroup.subtree_control; echo "ns subtree_control: $(cat ns/cgroup.subtree_control)"
EOF
cat > /tmp/enter <<'EOF'
echo 0 > /sys/fs/cgroup/ns/cgroup.procs && exec /usr/bin/unshare --cgroup /bin/busybox sh "$@"
EOF
mount -t cgroup2 -o nsdelegate none /sys/fs/cgroup
cd /sys/fs/cgroup && mkdir top ns out && echo $$ > top/cgroup.procs && echo +pids > cgroup.subtree_control
/bin/busybox sh /tmp/enter /tmp/inside
echo -pids > ns/cgroup.subtree_control && mount -t cgroup2 none /sys/fs/cgroup
/bin/busybox sh /tmp/enter -c 'echo 0 > /sys/fs/cgroup/out/cgroup.procs && echo "without nsdelegate, to out: 0"'
`;

test('nsdelegate: a move must stay in the writer\'s cgroup namespace (ENOENT), its root\'s files are not the namespace\'s to write (EPERM)', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['busybox', 'unshare'])) return;
  const r = h.runSandbox(['/bin/busybox', 'sh', '-c', NSDELEGATE]);
  assert.strictEqual(r.status, 0, h.describe('sandbox', r));
  assert.deepStrictEqual(r.stdout.trim().split('\n'), [
    '0::/',
    'into ns/in: 0',
    'to out: No such file or directory',
    'back to ns: 0',
    'to top: No such file or directory',
    'ns/max.depth: Operation not permitted',
    'in/max.depth: 3',
    'ns subtree_control: pids',
    'without nsdelegate, to out: 0',
  ]);
});
