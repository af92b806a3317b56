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
const childProcess = require('node:child_process');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const DIST = path.join(__dirname, '..', '..', 'dist');
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

// Runs argv in a sandbox made in a child node with the given HostInfo fields
// (the rest captured from this host), stdout collected.
const DRIVER = `
const { Sandbox } = require(${JSON.stringify(path.join(DIST, 'sandbox', 'sandbox.js'))});
const { captureHostInfo } = require(${JSON.stringify(path.join(DIST, 'host', 'hostinfo.js'))});
const over = JSON.parse(process.argv[1]);
const hostInfo = { ...captureHostInfo(), ...over };
const sb = new Sandbox({ rootfs: '/', argv: process.argv.slice(2), env: ['PATH=/usr/bin:/bin', 'LC_ALL=C'], cwd: '/', hostInfo });
sb.run().then((st) => process.exit(st & 0x7f ? 128 + (st & 0x7f) : (st >> 8) & 0xff));
`;

function runWith(over, argv) {
  const r = childProcess.spawnSync(process.execPath, ['-e', DRIVER, JSON.stringify(over), ...argv], {
    encoding: 'utf8', timeout: h.DEFAULT_TIMEOUT_MS, env: h.sentryEnv(),
  });
  assert.strictEqual(r.status, 0, `status ${r.status} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r.stdout;
}

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
