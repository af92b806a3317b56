'use strict';
// c_programs: each C test program, dynamic and static, in the sandbox; its
// stdout and exit status must equal the native run's byte for byte.
// rawsyscall is the exception: it runs with SANDBOX=1 and its output is
// checked against the sandbox's identity (test/lib/identity.js).
// The native runs are those c_native.test.js showed deterministic, when the
// suite runner keeps them (NATIVE_RUN_CACHE, test/lib/harness.js): the same
// binary, arguments and environment, run once per suite run instead of once
// per platform.

const assert = require('node:assert');
const { test } = require('node:test');
const h = require('../lib/harness');
const { C_PROGRAMS, nativeArgv } = require('../lib/programs');
const identity = require('../lib/identity');

for (const [name, spec] of Object.entries(C_PROGRAMS)) {
  for (const linkage of ['static', 'dynamic']) {
    test(`${name} (${linkage}) in the sandbox matches native`, { timeout: 180_000 }, (t) => {
      if (!h.needTools(t, ['gcc'])) return;
      if (spec.ownTest) return t.skip('compared by its own test');
      const bin = h.buildPrograms()[name][linkage];
      const setup = () => h.tmpDir();
      const argv = (dir) => [bin, ...spec.args(dir)];
      if (spec.identity) {
        const dir = setup();
        const native = h.runNative(argv(dir), { cwd: dir, cacheDir: dir, cached: true });
        assert.strictEqual(native.status, 0, h.describe('native', native));
        const sdir = setup();
        const sandbox = h.runSandbox(argv(sdir), { cwd: sdir, env: { SANDBOX: '1' } });
        assert.strictEqual(sandbox.status, 0, h.describe('sandbox', sandbox));
        identity.checkSandbox(sandbox.stdout, native.stdout);
        return;
      }
      if (spec.pid1 || spec.netns || spec.ipcns || spec.cgroupns) {
        if (!h.needTools(t, spec.netns ? ['unshare', 'ip'] : ['unshare'])) return;
        const dir = setup();
        const native = h.runNative(nativeArgv(spec, argv(dir)), { cwd: dir, cacheDir: dir, cached: true });
        assert.strictEqual(native.status, 0, h.describe('native', native));
        // A fresh network namespace has its loopback only: so has --network none (sandbox mode adds the NAT's eth0).
        const sandbox = h.runSandbox(argv(dir), { cwd: dir, flags: spec.netns ? ['--network', 'none'] : [] });
        assert.strictEqual(sandbox.status, 0, h.describe('sandbox', sandbox));
        assert.strictEqual(sandbox.stdout, native.stdout);
        return;
      }
      const sandbox = spec.network ? { flags: ['--network', spec.network] } : undefined;
      const { native } = h.compare(t, argv, { setup, expectStatus: 0, sandbox, native: { cached: true } });
      if (spec.endsWithDone) assert.ok(native.stdout.endsWith('done\n'));
    });
  }
}
