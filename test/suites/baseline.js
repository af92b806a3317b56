#!/usr/bin/env node
'use strict';
// baseline.js LTP_JSON CPYTHON_JSON: writes test/suites/baseline.json, the
// cases that pass both natively and in the sandbox in the raw results of
// ltp.js and cpython.js (SUITE_JSON), which suites.test.js holds the sandbox to.

const fs = require('node:fs');
const path = require('node:path');

const [ltpFile, pyFile] = process.argv.slice(2);
if (!ltpFile || !pyFile) {
  process.stderr.write('usage: baseline.js LTP_JSON CPYTHON_JSON\n');
  process.exit(2);
}
const ltp = JSON.parse(fs.readFileSync(ltpFile, 'utf8'));
const py = JSON.parse(fs.readFileSync(pyFile, 'utf8'));
const both = (n, s) => n && s && n.status === 'pass' && s.status === 'pass';
const out = {
  ltp: Object.entries(ltp).filter(([, c]) => both(c.native, c.sandbox)).map(([id]) => id).sort(),
  cpython: Object.values(py).flatMap((m) => Object.keys(m.native).filter((id) => both(m.native[id], m.sandbox[id]))).sort(),
};
fs.writeFileSync(path.join(__dirname, 'baseline.json'), JSON.stringify(out, null, 1) + '\n');
process.stdout.write(`baseline: ${out.ltp.length} LTP cases, ${out.cpython.length} CPython cases\n`);
