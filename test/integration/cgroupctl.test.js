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

// Controllers in a threaded subtree (the host's hierarchy has none to compare with).
const THREADED = `
err() { "$@" 2>&1 | sed "s/.*: //"; }
mount -t cgroup2 none /sys/fs/cgroup && cd /sys/fs/cgroup
mkdir init t t/x m && echo $$ > init/cgroup.procs
echo "+pids +memory +cpu" > cgroup.subtree_control
echo +memory > m/cgroup.subtree_control
echo "m threaded: $(err sh -c 'echo threaded > m/cgroup.type')"
echo threaded > t/x/cgroup.type
echo "t: $(cat t/cgroup.type), x: $(cat t/x/cgroup.type), x controllers: $(cat t/x/cgroup.controllers)"
echo "t +memory: $(err sh -c 'echo +memory > t/cgroup.subtree_control')"
echo "+pids +cpu" > t/cgroup.subtree_control && echo "t subtree: $(cat t/cgroup.subtree_control)"
echo "x +memory: $(err sh -c 'echo +memory > t/x/cgroup.subtree_control')"
echo "x pids files: $(ls t/x | grep -c '^pids')"
echo 2 > t/x/pids.max
sh -c 'echo 0 > /sys/fs/cgroup/t/cgroup.procs; echo 0 > /sys/fs/cgroup/t/x/cgroup.threads; echo "t procs: $(wc -l < /sys/fs/cgroup/t/cgroup.procs), x threads: $(wc -l < /sys/fs/cgroup/t/x/cgroup.threads)"; sleep 2 & sleep 2 & wait' 2>&1 | sed 's/.*can.t fork.*/fork refused/'
echo "x pids.events: $(cat t/x/pids.events), t: $(cat t/cgroup.type)"
`;

test('threaded subtrees: threaded controllers only (EOPNOTSUPP, ENOENT for memory), pids.max per threaded cgroup', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['busybox'])) return;
  const r = h.runSandbox(['/bin/busybox', 'sh', '-c', THREADED]);
  assert.strictEqual(r.status, 0, h.describe('sandbox', r));
  assert.deepStrictEqual(r.stdout.trim().split('\n'), [
    'm threaded: Operation not supported',
    't: domain threaded, x: threaded, x controllers: ',
    't +memory: Operation not supported',
    't subtree: cpu pids',
    'x +memory: No such file or directory',
    'x pids files: 3',
    't procs: 2, x threads: 2',
    'fork refused',
    'x pids.events: max 1, t: domain threaded',
  ]);
});

// cpu.max: a busy loop under a 1 ms per second quota is throttled at the
// first look (a second in); at "max" it runs again. Counts only: how much
// CPU the loop gets depends on the machine's load.
const CPU_MAX = `
mount -t cgroup2 none /sys/fs/cgroup && cd /sys/fs/cgroup
mkdir init w && echo $$ > init/cgroup.procs && echo +cpu > cgroup.subtree_control
echo "1000 1000000" > w/cpu.max
sh -c 'echo 0 > /sys/fs/cgroup/w/cgroup.procs; while :; do :; done' &
sleep 2.5
awk '/^nr_periods/ { p = $2 } /^nr_throttled/ { t = $2 } /^throttled_usec/ { u = $2 } END { print "periods " (p >= 2) ", throttled " (t >= 1) ", throttled_usec " (u > 0) }' w/cpu.stat
echo max > w/cpu.max
u1=$(awk '/^usage_usec/ { print $2 }' w/cpu.stat)
sleep 1
u2=$(awk '/^usage_usec/ { print $2 }' w/cpu.stat)
echo "runs again: $((u2 > u1))"
echo 1 > w/cgroup.kill
wait
echo "w populated: $(grep -c 'populated 1' w/cgroup.events)"
`;

test('cpu.max throttles a busy loop over its quota (cpu.stat counts it); "max" lets it run', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['busybox'])) return;
  const r = h.runSandbox(['/bin/busybox', 'sh', '-c', CPU_MAX]);
  assert.strictEqual(r.status, 0, h.describe('sandbox', r));
  assert.strictEqual(r.stdout, 'periods 1, throttled 1, throttled_usec 1\nruns again: 1\nw populated: 0\n');
});
