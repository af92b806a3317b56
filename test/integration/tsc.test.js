'use strict';
// prctl(PR_SET_TSC) leaves nothing behind in a reused stub: a hostile
// process sets PR_TSC_SIGSEGV (and on systrap also writes the mode into
// the stub's shared areas from a racing thread), ends, and the next
// process, which takes its stub, must read the TSC freely
// (test/hostile/tsc_reuse.c). The behaviour itself is compared with Linux
// by test/c/tsc.c (c_programs.test.js).

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const ROUNDS = 6;

for (const platform of ['ptrace', 'systrap']) {
  test(`${platform}: a process after one that set PR_TSC_SIGSEGV reads the TSC freely, in a reused stub (counted)`, { timeout: 120_000 }, (t) => {
    if (!h.needTools(t, ['gcc'])) return;
    const dir = h.tmpDir('tsvisor-tsc-');
    const bin = path.join(dir, 'tsc_reuse');
    const cc = childProcess.spawnSync('gcc', ['-O2', '-Wall', '-Werror', '-static', '-pthread', '-o', bin, path.join(__dirname, '..', 'hostile', 'tsc_reuse.c')], { encoding: 'utf8' });
    assert.strictEqual(cc.status, 0, cc.stderr);
    const code = require(path.join(h.ROOT, 'dist', 'platform/systrap/stub_code.js'));
    const areas = platform === 'systrap' ? code.AREAS_BASE.toString(16) : '0';
    const stats = path.join(dir, 'stats.json');
    const r = h.runSandbox([bin, areas, String(code.A_TSC), String(ROUNDS)], { flags: ['--platform', platform, '--stats', stats] });
    if (/systrap platform unavailable/.test(r.stderr)) return t.skip('systrap is not available on this host');
    assert.strictEqual(r.status, 0, h.describe(platform, r));
    assert.strictEqual(r.stdout, `rounds whose next process reads the TSC freely: ${ROUNDS} of ${ROUNDS}\n`);
    // Stubs were taken again: on systrap the hostile ones themselves in most rounds (the next process resets the
    // mode; one whose second thread is still on its way out is not kept); on ptrace only those left with rdtsc
    // allowed (a stub whose thread has PR_TSC_SIGSEGV is not kept).
    assert.ok(JSON.parse(fs.readFileSync(stats, 'utf8')).stubsReused >= (platform === 'systrap' ? ROUNDS : 1), fs.readFileSync(stats, 'utf8'));
  });
}
