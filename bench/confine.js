#!/usr/bin/env node
'use strict';
// bench/confine.js: what the Sentry's confinement costs (docs/SECURITY.md).
// Interleaved, the same run: `tsvisor do /bin/true` (wall time, node start
// included) and the getpid loop (ns per system call, bench/getpid.c), each
// with --no-confine and with --confine, alternating; medians.
//
//   node bench/confine.js [--reps N] [--iters N] [--json]

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const TSVISOR = path.join(__dirname, '..', 'bin', 'tsvisor.js');
const BUILD = path.join(__dirname, 'build');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const reps = arg('--reps', 11);
const iters = arg('--iters', 200000);

function getpidBin() {
  fs.mkdirSync(BUILD, { recursive: true });
  const out = path.join(BUILD, 'getpid.static');
  const src = path.join(__dirname, 'getpid.c');
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs) {
    const r = childProcess.spawnSync('gcc', ['-O2', '-static', '-o', out, src], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcc getpid.c: ${r.stderr || r.error}`);
  }
  return out;
}

function run(flag, argv) {
  const t0 = process.hrtime.bigint();
  const r = childProcess.spawnSync(process.execPath, [TSVISOR, 'do', flag, '--', ...argv], { encoding: 'utf8', timeout: 300000, killSignal: 'SIGKILL' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${flag} ${argv.join(' ')}: exit ${r.status ?? r.signal}: ${(r.stderr || '').trim().split('\n').pop()}`);
  return { ms, stdout: r.stdout };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const getpid = getpidBin();
const flags = ['--no-confine', '--confine'];
const res = { true: { '--no-confine': [], '--confine': [] }, getpid: { '--no-confine': [], '--confine': [] } };
for (let i = 0; i < reps; i++) {
  // Alternate which goes first, so that neither always runs on a warmer machine.
  for (const f of i % 2 ? [...flags].reverse() : flags) {
    res.true[f].push(run(f, ['/bin/true']).ms);
    const m = /ns_per_iter=([\d.]+)/.exec(run(f, [getpid, String(iters)]).stdout);
    if (!m) throw new Error('getpid printed no ns_per_iter');
    res.getpid[f].push(Number(m[1]));
  }
}
const rows = [
  ['tsvisor do /bin/true (ms)', median(res.true['--no-confine']), median(res.true['--confine'])],
  ['getpid loop (ns/syscall)', median(res.getpid['--no-confine']), median(res.getpid['--confine'])],
];
if (process.argv.includes('--json')) {
  process.stdout.write(JSON.stringify({ reps, iters, rows }) + '\n');
} else {
  process.stdout.write(`medians of ${reps} interleaved runs (getpid: ${iters} iterations)\n`);
  process.stdout.write('| | unconfined | confined | confined / unconfined |\n|---|---|---|---|\n');
  for (const [what, a, b] of rows) process.stdout.write(`| ${what} | ${a.toFixed(1)} | ${b.toFixed(1)} | ${(b / a).toFixed(2)} |\n`);
}
