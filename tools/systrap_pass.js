#!/usr/bin/env node
'use strict';
// The systrap pass of the default suite alone: every test/integration file
// that runs a sandboxed program, with TSVISOR_PLATFORM=systrap
// (tools/test_suite.js, which `npm test` runs for both platforms, has the
// list of files run on ptrace only and why). Arguments are test_suite.js's.

const childProcess = require('node:child_process');
const path = require('node:path');

const r = childProcess.spawnSync(process.execPath, [path.join(__dirname, 'test_suite.js'), '--platform', 'systrap', ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
