'use strict';
// cgroupfs: the sandbox's cgroup v2 hierarchy through a shell (busybox sh),
// with the controllers this machine's own v2 hierarchy lacks (so
// test/c/cgroupfs.c compares only the core with native): the read-only
// mount `tsvisor do` makes as Docker does, the no-internal-process rule,
// subtree_control, pids.max enforced at fork (EAGAIN), memory and cpu files,
// /proc/PID/cgroup; and a hostile program (test/hostile/cgroupbomb.c)
// that makes cgroups until the sandbox's cap (EAGAIN) and runs a fork loop
// under pids.max, after which the Sentry still serves.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const sh = (script) => h.runSandbox(['/bin/busybox', 'sh', '-c', script]);

test('tsvisor do mounts the sandbox\'s cgroup read-only on /sys/fs/cgroup, as Docker does', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['busybox'])) return;
  const r = sh('grep " /sys/fs/cgroup " /proc/mounts; cat /proc/self/cgroup; cat /sys/fs/cgroup/cgroup.controllers; mkdir /sys/fs/cgroup/x 2>&1; echo 1 > /sys/fs/cgroup/pids.max 2>&1; echo rc $?');
  assert.strictEqual(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0], /^\S+ \/sys\/fs\/cgroup cgroup2 ro,nosuid,nodev,noexec/);
  assert.strictEqual(lines[1], '0::/');
  assert.strictEqual(lines[2], 'cpu memory pids');
  assert.match(r.stdout, /Read-only file system/);
  assert.match(r.stdout, /rc 1/);
});

const CONTROLLERS = `
set -e
mount -t cgroup2 none /sys/fs/cgroup
cd /sys/fs/cgroup
echo "+pids" > cgroup.subtree_control 2>/dev/null || echo "internal: busy"
mkdir init work
echo $$ > init/cgroup.procs
echo "+pids +memory +cpu" > cgroup.subtree_control
echo "subtree: $(cat cgroup.subtree_control)"
echo "work controllers: $(cat work/cgroup.controllers)"
echo "+bogus" > cgroup.subtree_control 2>/dev/null || echo "bogus refused"
echo "+memory" > work/cgroup.subtree_control
echo "-memory" > cgroup.subtree_control 2>/dev/null || echo "disable used: busy"
echo "-memory" > work/cgroup.subtree_control
echo "work files: $(ls work | grep -c -e '^pids\\.' -e '^memory\\.' -e '^cpu\\.')"
echo 3 > work/pids.max
echo "pids.max: $(cat work/pids.max)"
echo -1 > work/pids.max 2>/dev/null || echo "negative pids.max refused"
sh -c 'echo 0 > /sys/fs/cgroup/work/cgroup.procs; cat /proc/self/cgroup; sleep 5 & sleep 5 & sleep 5 & wait' 2>&1 | sed 's/.*can.t fork.*/fork refused/'
echo "pids.events: $(cat work/pids.events)"
echo "work current: $(cat work/pids.current)"
echo max > work/pids.max
echo 1048576 > work/memory.max
echo "memory.max: $(cat work/memory.max)"
echo max > work/memory.max
echo "memory.max: $(cat work/memory.max)"
echo abc > work/memory.max 2>/dev/null || echo "memory.max abc refused"
echo "50000 100000" > work/cpu.max
echo "cpu.max: $(cat work/cpu.max)"
echo "10 100000" > work/cpu.max 2>/dev/null || echo "small quota refused"
echo 0 > work/cpu.weight 2>/dev/null || echo "weight 0 refused"
echo 500 > work/cpu.weight
echo "cpu.weight: $(cat work/cpu.weight)"
sh -c 'echo 0 > /sys/fs/cgroup/work/cgroup.procs; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; x=$(head -c 300000 /dev/zero | tr -c x a); echo \${#x}; awk "{ print (\\$1 > 0) }" /sys/fs/cgroup/work/memory.current'
echo "work cpu used: $(awk '/^usage_usec/ { print ($2 > 0) }' work/cpu.stat)"
echo "root memory: $(awk '{ print ($1 > 0) }' memory.current)"
echo "peak: $(awk '{ print ($1 > 0) }' work/memory.peak)"
grep -c "^oom_kill 0" work/memory.events
rmdir work
echo "removed: $(ls -d work 2>/dev/null | wc -l)"
`;

test('controllers: subtree_control rules, pids.max at fork, memory and cpu files', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['busybox'])) return;
  const r = sh(CONTROLLERS);
  assert.strictEqual(r.status, 0, `${r.stdout}\n${r.stderr}`);
  assert.deepStrictEqual(r.stdout.trim().split('\n'), [
    'internal: busy',
    'subtree: cpu memory pids',
    'work controllers: cpu memory pids',
    'bogus refused',
    'disable used: busy',
    'work files: 11',
    'pids.max: 3',
    'negative pids.max refused',
    '0::/work',
    'fork refused',
    'pids.events: max 1',
    'work current: 0',
    'memory.max: 1048576',
    'memory.max: max',
    'memory.max abc refused',
    'cpu.max: 50000 100000',
    'small quota refused',
    'weight 0 refused',
    'cpu.weight: 500',
    '300000',
    '1',
    'work cpu used: 1',
    'root memory: 1',
    'peak: 1',
    '1',
    'removed: 0',
  ]);
});

test('memory.max holds a cgroup\'s processes: the one past it is OOM-killed and counted in memory.events', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['busybox'])) return;
  const r = sh([
    'mount -t cgroup2 none /sys/fs/cgroup && cd /sys/fs/cgroup && mkdir init w && echo $$ > init/cgroup.procs',
    'echo +memory > cgroup.subtree_control && echo 8388608 > w/memory.max',
    'sh -c \'echo 0 > /sys/fs/cgroup/w/cgroup.procs; x=$(head -c 30000000 /dev/zero | tr -c x a); echo "len ${#x}"\'; echo "rc $?"',
    'grep -e "^oom_kill" w/memory.events; awk \'{ print ($1 > 4194304 && $1 <= 8388608) }\' w/memory.peak; echo "current $(cat w/memory.current)"',
  ].join('; '));
  assert.strictEqual(r.status, 0, r.stderr);
  // The peak is up to the limit (the allocation that would pass it is refused whole).
  assert.strictEqual(r.stdout, 'rc 137\noom_kill 1\n1\ncurrent 0\n');
});

test('a cgroup bomb meets the cap with EAGAIN and the Sentry survives', { timeout: 60_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-cgroupbomb-');
  const bin = path.join(dir, 'cgroupbomb');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'cgroupbomb.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const r = h.runSandbox([bin, dir], { cwd: dir });
  assert.strictEqual(r.status, 0, r.stderr);
  assert.strictEqual(r.stdout, [
    'flat: 128 made, then Resource temporarily unavailable',
    'nested: 128 made, then Resource temporarily unavailable',
    'bomb: 7 forked, then Resource temporarily unavailable',
    'pids.events: max 1',
    'moves: 2000',
    'sentry alive: pid 1',
    '',
  ].join('\n'));
});
