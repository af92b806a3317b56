'use strict';
// sysfs: the CPU counts programs take from /sys agree with native (nproc,
// python's os.cpu_count, lscpu), and with a fake machine the topology files
// and lscpu follow the HostInfo's cpuinfo (test/c/sysfs.c checks the shape
// and the errors against native in c_programs.test.js).

const assert = require('node:assert');
const { test } = require('node:test');
const h = require('../lib/harness');
const { runWithHostInfo } = require('../lib/fakehost');

// lscpu's lines about the CPU count and layout, spacing normalised (its column width follows the longest line).
const LSCPU_KEYS = /^(CPU\(s\)|On-line CPU\(s\) list|Thread\(s\) per core|Core\(s\) per socket|Socket\(s\)):/;
function lscpuLayout(out) {
  return out.split('\n').filter((l) => LSCPU_KEYS.test(l)).map((l) => l.replace(/:\s+/, ': ')).join('\n');
}

test('nproc, os.cpu_count() and lscpu agree with native', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['nproc', 'sh'])) return;
  const script = 'nproc; nproc --all; cat /sys/devices/system/cpu/online | tr -d "\\n" | wc -c';
  const native = h.runNative(['sh', '-c', script]);
  assert.strictEqual(native.status, 0);
  assert.strictEqual(h.runSandbox(['sh', '-c', script]).stdout, native.stdout);
  if (h.which('python3')) {
    const py = ['python3', '-c', 'import os; print(os.cpu_count(), len(os.sched_getaffinity(0)), os.sysconf("SC_NPROCESSORS_ONLN"))'];
    assert.strictEqual(h.runSandbox(py).stdout, h.runNative(py).stdout);
  }
  if (h.which('lscpu')) {
    const n = lscpuLayout(h.runNative(['lscpu']).stdout);
    assert.match(n, /^CPU\(s\): \d+$/m);
    assert.strictEqual(lscpuLayout(h.runSandbox(['lscpu']).stdout), n);
  }
});

test('one NUMA node, as a one-node host shows it: node files, node0\'s CPUs, lscpu\'s NUMA lines', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['sh'])) return;
  const script = 'cd /sys/devices/system/node && cat online possible has_cpu has_memory has_normal_memory node0/cpulist node0/cpumap node0/distance; ls node0 | grep -c "^cpu[0-9]"; grep -c "^Node 0 MemTotal:" node0/meminfo';
  const native = h.runNative(['sh', '-c', script]);
  if (native.status !== 0 || !/^0\n0\n/.test(native.stdout)) return t.skip('the host is not a one-node machine');
  assert.strictEqual(h.runSandbox(['sh', '-c', script]).stdout, native.stdout);
  if (h.which('lscpu')) {
    const numa = (out) => out.split('\n').filter((l) => /^NUMA node/.test(l)).map((l) => l.replace(/:\s+/, ': ')).join('\n');
    const n = numa(h.runNative(['lscpu']).stdout);
    assert.match(n, /^NUMA node\(s\): 1$/m);
    assert.strictEqual(numa(h.runSandbox(['lscpu']).stdout), n);
  }
});

// Two packages of one core with two threads each.
const FOUR = {
  cpuinfo: [0, 1, 2, 3]
    .map((i) => `processor\t: ${i}\nvendor_id\t: TsvisorTest\nphysical id\t: ${i >> 1}\nsiblings\t: 2\ncore id\t\t: 0\ncpu cores\t: 1\n\n`)
    .join(''),
  ncpu: 4,
};

test('a fake HostInfo: /sys/devices/system/cpu and its topology follow the cpuinfo', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['sh', 'cat'])) return;
  const T = '/sys/devices/system/cpu';
  const out = runWithHostInfo(FOUR, ['sh', '-c', [
    `cat ${T}/online ${T}/possible ${T}/present`,
    `ls ${T} | grep -c "^cpu[0-9]"`,
    `cd ${T}/cpu2/topology && cat physical_package_id core_id thread_siblings_list thread_siblings core_siblings_list package_cpus`,
    'nproc',
  ].join('; ')]);
  assert.strictEqual(out, ['0-3', '0-3', '0-3', '4', '1', '0', '2-3', 'c', '2-3', 'c', '4', ''].join('\n'));
  if (h.which('lscpu')) {
    assert.strictEqual(lscpuLayout(runWithHostInfo(FOUR, ['lscpu'])), [
      'CPU(s): 4', 'On-line CPU(s) list: 0-3', 'Thread(s) per core: 2', 'Core(s) per socket: 1', 'Socket(s): 2',
    ].join('\n'));
  }
  if (h.which('python3')) assert.strictEqual(runWithHostInfo(FOUR, ['python3', '-c', 'import os; print(os.cpu_count())']), '4\n');
});

test('root-writable sysctls and /dev/fuse in the sandbox', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['sh', 'cat'])) return;
  const K = '/proc/sys/kernel';
  const r = h.runSandbox(['sh', '-c', [
    `echo 1 > ${K}/randomize_va_space`, `cat ${K}/randomize_va_space`,
    `echo "250 256000 32 1024" > ${K}/sem`, `cat ${K}/sem`,
    `echo 100 > ${K}/msgmni`, `cat ${K}/msgmni`,
    `echo x > ${K}/pid_max 2>/dev/null || echo refused`,
    'test -e /dev/fuse || echo no fuse',
  ].join('; ')]);
  assert.strictEqual(r.stdout, '1\n250\t256000\t32\t1024\n100\nrefused\nno fuse\n', h.describe('sandbox', r));
});
