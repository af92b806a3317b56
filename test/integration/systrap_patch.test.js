'use strict';
// systrap's instruction patching (platform/systrap/patch.ts): a system call
// site that keeps trapping is rewritten to jump into the stub's entry, and
// the call then reaches the Sentry with no SIGSYS. Counted with --stats
// (patchedCalls, sitesPatched), run with TSVISOR_SYSTRAP_PATCH on and off;
// test/c/syspatch.c's modes check that patched calls behave as trapped ones
// (its semantics mode also runs on both platforms as a C program) and that
// hostile jumps into the trampolines, the entry and the middle of a site,
// rewrites of a site and attacks on the table get nothing the trap path
// would not give. Skipped where the host cannot run systrap.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const FLAGS = ['--platform', 'systrap'];
const UNAVAILABLE = /systrap platform unavailable/;

/** Run syspatch with args in the sandbox with patching on (the default) or off; its result and --stats. */
function run(dir, args, patch) {
  const bin = h.buildPrograms().syspatch.dynamic;
  const out = path.join(dir, `${args.join('-')}.${patch ? 'on' : 'off'}.json`);
  const was = process.env.TSVISOR_SYSTRAP_PATCH;
  try {
    if (patch) delete process.env.TSVISOR_SYSTRAP_PATCH;
    else process.env.TSVISOR_SYSTRAP_PATCH = '0';
    const r = h.runSandbox([bin, ...args], { flags: [...FLAGS, '--stats', out], timeout: 80_000 });
    if (UNAVAILABLE.test(r.stderr)) return null;
    return { r, st: fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) : {} };
  } finally {
    if (was === undefined) delete process.env.TSVISOR_SYSTRAP_PATCH;
    else process.env.TSVISOR_SYSTRAP_PATCH = was;
  }
}

test('1000 getpids through one site: 3 SIGSYS traps with patching, 1000 without (counted)', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-syspatch-');
  const N = 1000;
  for (const patch of [true, false]) {
    const runs = [0, N].map((n) => run(dir, ['loop', String(n)], patch));
    if (runs.includes(null)) return t.skip('systrap is not available on this host');
    for (const { r } of runs) assert.strictEqual(r.status, 0, h.describe(`loop ${patch}`, r));
    const d = (k) => (runs[1].st[k] ?? 0) - (runs[0].st[k] ?? 0);
    const all = JSON.stringify(runs.map((x) => x.st));
    assert.strictEqual(d('syscallStops'), N, all);
    // SIGSYS traps: the system calls that did not come through a patched site.
    const traps = d('syscallStops') - d('patchedCalls');
    if (patch) {
      // The site is patched at its third trap; a patch costs one mapping batch (the text page's private copy).
      assert.strictEqual(traps, 3, all);
      assert.strictEqual(d('sitesPatched'), 1, all);
      assert.strictEqual(d('patchFallbacks'), 0, all);
      assert.deepStrictEqual([d('injections'), d('batches')], [0, 1], all);
    } else {
      assert.strictEqual(traps, N, all);
      assert.strictEqual(runs[1].st.sitesPatched ?? 0, 0, all);
      assert.deepStrictEqual([d('injections'), d('batches')], [0, 0], all);
    }
  }
});

test('patched calls keep the semantics of trapped ones; hostile jumps and rewrites get nothing more (as natively)', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().syspatch.dynamic;
  const dir = h.tmpDir('tsvisor-syspatch-');
  for (const mode of ['semantics', 'hostile', 'step']) {
    const native = childProcess.spawnSync(bin, [mode], { encoding: 'utf8', timeout: 60_000 });
    assert.strictEqual(native.status, 0, `${mode} natively: ${native.stdout}${native.stderr}`);
    const x = run(dir, [mode], true);
    if (x === null) return t.skip('systrap is not available on this host');
    assert.strictEqual(x.r.status, 0, h.describe(mode, x.r));
    assert.strictEqual(x.r.stdout, native.stdout, mode);
    // The attacks ran against patched sites (the program checks the site's bytes before it jumps).
    assert.ok((x.st.sitesPatched ?? 0) >= 3 && (x.st.patchedCalls ?? 0) > 30, `${mode}: ${JSON.stringify(x.st)}`);
  }
});
