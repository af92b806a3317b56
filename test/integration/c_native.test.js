'use strict';
// c_native: the C test programs themselves, without the sandbox.
//
// They must compile warning-free (gcc -O2 -Wall -Werror, dynamic and
// -static) and be deterministic: two native runs, and the dynamic and the
// static build, print the same bytes and exit 0. Only then does comparing a
// sandboxed run with a native one mean anything.

const assert = require('node:assert');
const { test } = require('node:test');
const h = require('../lib/harness');
const { C_PROGRAMS, nativeArgv, hasHostLoop } = require('../lib/programs');
const identity = require('../lib/identity');

test('C programs compile warning-free, dynamic and static', (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const built = h.buildPrograms();
  assert.deepStrictEqual(Object.keys(built).sort(), Object.keys(C_PROGRAMS).sort(),
    'every test/c/*.c program is listed in test/lib/programs.js');
});

for (const [name, spec] of Object.entries(C_PROGRAMS)) {
  test(`${name}: native runs are deterministic`, { timeout: 120_000 }, (t) => {
    if (!h.needTools(t, spec.pid1 || spec.netns || spec.ipcns || spec.cgroupns ? ['gcc', 'unshare'] : ['gcc'])) return;
    if (spec.hostLoop && !hasHostLoop()) return t.skip('needs root and the host\'s loop driver (/dev/loop-control)');
    if (spec.ownNative) return t.skip('its own test runs it natively, in the set-up it needs');
    const prog = h.buildPrograms()[name];
    const outs = [];
    const kept = [];
    for (const [label, bin] of [['dynamic', prog.dynamic], ['dynamic again', prog.dynamic], ['static', prog.static]]) {
      const dir = h.tmpDir();
      const argv = nativeArgv(spec, [bin, ...spec.args(dir)]);
      const r = h.runNative(argv, { cwd: dir });
      if (label !== 'dynamic again') kept.push([argv, dir, r]);
      assert.strictEqual(r.status, 0, h.describe(`${name} ${label}`, r) + `\n${r.stdout}`);
      assert.strictEqual(r.stderr, '', `${name} ${label} wrote to stderr`);
      assert.doesNotMatch(r.stdout, /FATAL|FAILED/, `${name} ${label}:\n${r.stdout}`);
      if (spec.endsWithDone) assert.ok(r.stdout.endsWith('done\n'), `${name} ${label} ran to the end:\n${r.stdout}`);
      if (spec.identity) identity.checkNative(r.stdout);
      outs.push([label, r.stdout]);
    }
    for (const [label, out] of outs.slice(1)) {
      assert.strictEqual(out, outs[0][1], `${name}: ${label} output differs from the first dynamic run`);
    }
    // Shown deterministic: c_programs.test.js compares its sandboxed runs with these (test/lib/harness.js storeNative).
    for (const [argv, dir, r] of kept) h.storeNative(argv, { cacheDir: dir }, r);
  });
}
