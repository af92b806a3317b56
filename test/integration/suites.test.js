'use strict';
// suites: the Linux Test Project's system call tests and CPython's regression
// tests, natively and in the sandbox (test/suites/ltp.js, cpython.js; the
// figures are in docs/SUITES.md). Long (tens of minutes), so only with
// TSVISOR_SUITES=1. A case that passed in the sandbox when the baseline was
// taken (test/suites/baseline.json, written by test/suites/baseline.js)
// and passes natively now must pass in the sandbox too.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const ON = /^(1|true|yes)$/i.test(process.env.TSVISOR_SUITES || '');
const DIR = path.join(__dirname, '..', 'suites');
const baseline = () => JSON.parse(fs.readFileSync(path.join(DIR, 'baseline.json'), 'utf8'));

// runSuite runs a runner and returns its raw results ({id: {native, sandbox}} per case).
function runSuite(script, rawCases) {
  const json = path.join(h.tmpDir('tsvisor-suite-'), 'results.json');
  const r = childProcess.spawnSync(process.execPath, [path.join(DIR, script)], {
    env: { ...h.sentryEnv(), SUITE_JSON: json },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 << 20,
  });
  assert.strictEqual(r.status, 0, `${script} failed`);
  return rawCases(JSON.parse(fs.readFileSync(json, 'utf8')));
}

function regressions(cases, passedBefore) {
  const bad = [];
  for (const id of passedBefore) {
    const c = cases.get(id);
    if (c && c.native.status === 'pass' && c.sandbox.status !== 'pass') bad.push(`${id}: ${c.sandbox.reason}`);
  }
  return bad;
}

test('LTP system call tests: no case that passed in the sandbox fails now', { skip: !ON && 'set TSVISOR_SUITES=1 (tens of minutes)', timeout: 4 * 3600_000 }, () => {
  const cases = runSuite('ltp.js', (raw) => new Map(Object.entries(raw)));
  assert.ok(cases.size > 500, `only ${cases.size} LTP cases ran`);
  assert.deepStrictEqual(regressions(cases, baseline().ltp), []);
});

test('CPython regression tests: no case that passed in the sandbox fails now', { skip: !ON && 'set TSVISOR_SUITES=1 (tens of minutes)', timeout: 4 * 3600_000 }, () => {
  const cases = runSuite('cpython.js', (raw) => {
    const m = new Map();
    for (const mod of Object.values(raw)) {
      for (const [id, native] of Object.entries(mod.native)) {
        m.set(id, { native, sandbox: mod.sandbox[id] || { status: 'missing', reason: 'not reached' } });
      }
    }
    return m;
  });
  assert.ok(cases.size > 3000, `only ${cases.size} CPython cases ran`);
  assert.deepStrictEqual(regressions(cases, baseline().cpython), []);
});
