#!/usr/bin/env node
'use strict';
// The test suite's pass on the systrap platform (issue 13: both platforms
// pass the suite). `npm test` runs every test on ptrace, then this: the test
// files that exercise the platform (threads, signals, faults, hostile
// programs, pause, preemption, the stubs' hardening) with TSVISOR_PLATFORM=systrap (systrap.test.js runs
// on systrap in the first pass already). TSVISOR_SYSTRAP_SUITE=1
// runs every test file on systrap instead (about as long as the ptrace pass).
// Where the host cannot run systrap the pass says why and is skipped.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
// c_programs (every family against Linux) takes 16 min on systrap at a load of 10: TSVISOR_SYSTRAP_SUITE=1 runs it.
const CORE = ['threads', 'hostile', 'pause', 'preempt', 'stub_hardening', 'sentry_kill', 'platform', 'hardening', 'fdattack', 'futexbound',
  'coredump', 'ptrace', 'procs', 'faultaround', 'memfd'];

const { systrapSupported } = require(path.join(ROOT, 'dist', 'platform', 'systrap', 'platform.js'));
const why = systrapSupported();
if (why !== null) {
  console.log(`systrap pass skipped: ${why}`);
  process.exit(0);
}
const all = process.env.TSVISOR_SYSTRAP_SUITE === '1';
const files = all
  ? [path.join(ROOT, 'test', 'unit'), path.join(ROOT, 'test', 'integration')]
  : CORE.map((n) => path.join(ROOT, 'test', 'integration', `${n}.test.js`));
for (const f of files) if (!fs.existsSync(f)) throw new Error(`systrap pass: ${f} is missing`);
console.log(`systrap pass: ${all ? 'every test' : CORE.join(', ')}`);
// The pass's own switch stays out of the tests' environment (they check that no TSVISOR_ variable reaches a sandboxed program).
const env = { ...process.env, TSVISOR_PLATFORM: 'systrap' };
delete env.TSVISOR_SYSTRAP_SUITE;
const r = childProcess.spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
