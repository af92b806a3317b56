'use strict';
// HostInfo: what a sandbox shows of the host machine is the object it was
// given at boot, not whatever node:os or the host's /proc say. A sandbox built
// (through the Sandbox API, as the CLI does) with a fake machine of three
// CPUs, an invented model name, 3 GiB of RAM and made-up HWCAP values must
// show exactly that in /proc/cpuinfo, /proc/stat, nproc, sysconf, the
// affinity mask, sysinfo and the auxv; a sandbox with the real HostInfo
// shows the host as a native program sees it (test/c/hostinfo.c is also
// compared with native in c_programs.test.js).

const assert = require('node:assert');
const { test } = require('node:test');
const h = require('../lib/harness');
const { runWithHostInfo } = require('../lib/fakehost');

const MODEL = 'Imaginary Sandbox CPU 9000 @ 1.00GHz';
const FAKE = {
  cpuinfo: [0, 1, 2].map((i) => `processor\t: ${i}\nvendor_id\t: TsvisorTest\nmodel name\t: ${MODEL}\n\n`).join(''),
  ncpu: 3,
  totalMemory: 3 * 1024 ** 3,
  hwcap: 0x1234,
  hwcap2: 0x10,
  minSigStkSz: 4096,
  platform: 'x86_64_test',
};

const runWith = runWithHostInfo;

test('a fake HostInfo is what the sandbox shows: auxv, CPU counts, sysinfo', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().hostinfo;
  for (const linkage of ['static', 'dynamic']) {
    const out = runWith(FAKE, [bin[linkage], 'mem']);
    assert.strictEqual(out, [
      'hwcap 0x1234', 'hwcap2 0x10', 'minsigstksz 4096', 'platform x86_64_test',
      'sysconf onln 3 conf 3', 'get_nprocs 3 conf 3', 'affinity 3',
      'totalram 1536 MiB', // the default memory limit: half the (fake) RAM
      'done', '',
    ].join('\n'), linkage);
  }
});

test('a fake HostInfo is what the sandbox shows: /proc/cpuinfo, /proc/stat, nproc', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['nproc', 'cat', 'sh'])) return;
  const out = runWith(FAKE, ['sh', '-c', 'cat /proc/cpuinfo; grep -c "^cpu[0-9]" /proc/stat; nproc; nproc --all; grep MemTotal /proc/meminfo']);
  assert.strictEqual(out, `${FAKE.cpuinfo}3\n3\n3\nMemTotal:        1572864 kB\n`);
});

test('the real HostInfo shows the host as a native program sees it', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc', 'nproc'])) return;
  const bin = h.buildPrograms().hostinfo.dynamic;
  const native = h.runNative([bin]);
  assert.strictEqual(native.status, 0);
  assert.strictEqual(runWith({}, [bin]), native.stdout);
  assert.strictEqual(runWith({}, ['nproc']), h.runNative(['nproc']).stdout);
  assert.ok(!runWith({}, ['cat', '/proc/cpuinfo']).includes(MODEL));
});
