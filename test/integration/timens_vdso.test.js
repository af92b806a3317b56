'use strict';
// A process in a time namespace with offsets gets nothing of the host's
// clock pages, which hold the initial namespace's clocks without the
// offsets (src/kernel/vdso.ts): no page of them readable after a fork into
// the namespace or an exec in it, a jump into the vDSO's code past an entry
// point faults, while libc's clock reads through the vDSO's entry points
// have the offsets (test/hostile/timens_vdso.c; the clocks themselves are
// compared with Linux by test/c/timensvdso.c in c_programs.test.js). Its
// stub is never given to another process: programs that run after it in
// the initial namespace, several at once so that spare stubs are taken,
// find their vDSO (a hidden one given on would show none). Runs as root.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const EXPECTED = [
  'initial namespace: clock page ranges 3, readable pages some',
  'child: readable clock pages 0',
  "child: libc's CLOCK_MONOTONIC +0 days from the system call's",
  "child: a jump into the vDSO's code: SIGSEGV",
  'after exec: AT_SYSINFO_EHDR none, readable clock pages 0',
  'child status 0',
].join('\n');

for (const platform of ['ptrace', 'systrap']) {
  test(`${platform}: no host clock page is left to a process in a time namespace, and its stub to no other process (counted)`, { timeout: 120_000 }, (t) => {
    if (!h.needTools(t, ['gcc'])) return;
    if (process.getuid() !== 0) return t.skip('needs root (unshare(CLONE_NEWTIME) natively)');
    const dir = h.tmpDir('tsvisor-timens-');
    const bin = path.join(dir, 'timens_vdso');
    const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'timens_vdso.c')], { encoding: 'utf8' });
    assert.strictEqual(cc.status, 0, cc.stderr);
    const stats = path.join(dir, 'stats.json');
    // Then programs in the initial namespace, which may take its stubs: each finds its vDSO.
    const script = `${bin}; for i in 1 2 3 4; do ${bin} initial & done; wait`;
    const r = h.runSandbox(['/bin/sh', '-c', script], { flags: ['--platform', platform, '--stats', stats] });
    if (/systrap platform unavailable/.test(r.stderr)) return t.skip('systrap is not available on this host');
    if (/ranges 0/.test(r.stdout)) return t.skip('the host shows no vDSO');
    assert.strictEqual(r.status, 0, h.describe(platform, r));
    assert.strictEqual(r.stdout, `${EXPECTED}\n${'initial: vDSO whole\n'.repeat(4)}`);
    assert.ok(JSON.parse(fs.readFileSync(stats, 'utf8')).stubsReused >= 1, fs.readFileSync(stats, 'utf8'));
  });
}
