#!/usr/bin/env node
'use strict';
// bench/gofer.js: host file access through the Gofer (a separate process,
// src/gofer) against the Sentry's own in-process host tree and against
// native runs. Median wall time of --reps runs each, the three interleaved
// (native, in-process, Gofer, native, ...) so load changes hit all alike.
//
//   node bench/gofer.js [--reps N] [--only NAME] [--against DIR] [--cpu]
//
// --cpu also gives each column's median CPU time (user + system, ms) of the
// run and every process it started (the Gofer, the stubs, the program),
// from a cpuacct cgroup made per run (cgroup v1 at /sys/fs/cgroup/cpuacct,
// root): on a loaded machine wall time is mostly the wait for a CPU, CPU
// time much less so.
//
// --against DIR adds DIR's build (another checkout, built: say a copy of
// main) as two more columns, in-process and Gofer, run in the same
// interleaving, so a change is measured against its base under one load.
//
// Rows:
//   find /usr        find /usr -xdev | wc -l
//   ls -lR share     ls -lR /usr/share > /dev/null
//   python import    python3 -c 'import email, json, http.client, asyncio'
//   tar include      tar cf - /usr/include | wc -c
//   git status       git status in a repository of ~/usr/include's size
//                    (made once under bench/build/gofer-git)
//   /bin/true        the start-up cost (the Gofer is a second Node process)
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const TSVISOR = path.join(__dirname, '..', 'bin', 'tsvisor.js');
const BUILD = path.join(__dirname, 'build');
let reps = 5;
let only = null;
let against = null;
let cpu = false;
const CPUACCT = '/sys/fs/cgroup/cpuacct';
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--reps') reps = Number(process.argv[++i]) || reps;
  else if (process.argv[i] === '--only') only = process.argv[++i];
  else if (process.argv[i] === '--against') against = path.resolve(process.argv[++i]);
  else if (process.argv[i] === '--cpu') cpu = true;
}
const BASE = against && path.join(against, 'bin', 'tsvisor.js');

function gitTree() {
  const dir = path.join(BUILD, 'gofer-git');
  if (fs.existsSync(path.join(dir, '.git'))) return dir;
  fs.mkdirSync(dir, { recursive: true });
  childProcess.execFileSync('cp', ['-a', '/usr/include/.', dir]);
  const git = (...a) => childProcess.execFileSync('git', ['-C', dir, '-c', 'user.name=b', '-c', 'user.email=b@b', ...a], { stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'tree');
  return dir;
}

const rows = [
  ['find /usr', 'find /usr -xdev | wc -l'],
  ['ls -lR share', 'ls -lR /usr/share > /dev/null'],
  ['python import', "python3 -c 'import email, json, http.client, asyncio'"],
  ['tar include', 'tar cf - /usr/include 2>/dev/null | wc -c'],
  ['git status', () => `git -C ${gitTree()} status --porcelain | wc -l`],
  ['/bin/true', 'true'],
];

function time(argv) {
  // With --cpu: a shell moves itself into a fresh cpuacct cgroup, then execs the run (whose processes all stay there).
  const cg = cpu ? fs.mkdtempSync(path.join(CPUACCT, 'tsvisor-bench-gofer-')) : null;
  const run = cg ? ['sh', '-c', `echo $$ > ${cg}/cgroup.procs && exec "$@"`, 'sh', ...argv] : argv;
  const t0 = process.hrtime.bigint();
  const r = childProcess.spawnSync(run[0], run.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  let cpuMs = 0;
  if (cg) {
    cpuMs = Number(fs.readFileSync(path.join(cg, 'cpuacct.usage'), 'utf8')) / 1e6;
    // The Gofer ends when the Sentry's socket closes: wait for the group to empty before removing it.
    for (let k = 0; k < 200 && fs.readFileSync(path.join(cg, 'cgroup.procs'), 'utf8').trim() !== ''; k++) childProcess.spawnSync('sleep', ['0.05']);
    cpuMs = Number(fs.readFileSync(path.join(cg, 'cpuacct.usage'), 'utf8')) / 1e6;
    try {
      fs.rmdirSync(cg);
    } catch {}
  }
  return { ms, cpuMs, out: String(r.stdout), err: r.status === 0 ? null : `exit ${r.status}: ${String(r.stderr).slice(-300)}` };
}
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];

console.log(`reps ${reps}, medians in ms; ratios against in-process${BASE ? `; base: ${against}` : ''}`);
const cols = ['native', 'inproc', 'gofer', ...(BASE ? ['baseInproc', 'baseGofer'] : [])];
console.log(`${'row'.padEnd(14)} ${cols.map((c) => c.padStart(10)).join(' ')}   gofer/in-proc${BASE ? '   base gofer/in-proc' : ''}`);
for (const [name, cmdOf] of rows) {
  if (only && name !== only) continue;
  const cmd = typeof cmdOf === 'function' ? cmdOf() : cmdOf;
  const sandboxed = (bin, mode) => [process.execPath, bin, 'do', mode, '--', 'sh', '-c', cmd];
  const runs = {
    native: ['sh', '-c', cmd], inproc: sandboxed(TSVISOR, '--no-gofer'), gofer: sandboxed(TSVISOR, '--gofer'),
    ...(BASE ? { baseInproc: sandboxed(BASE, '--no-gofer'), baseGofer: sandboxed(BASE, '--gofer') } : {}),
  };
  const ms = Object.fromEntries(cols.map((c) => [c, []]));
  const cpuMs = Object.fromEntries(cols.map((c) => [c, []]));
  const outs = {};
  for (let k = 0; k < reps; k++) {
    for (const which of cols) {
      const r = time(runs[which]);
      if (r.err) console.error(`${name} (${which}): ${r.err}`);
      ms[which].push(r.ms);
      cpuMs[which].push(r.cpuMs);
      outs[which] = r.out;
    }
  }
  if (cols.some((c) => outs[c] !== outs.native)) console.error(`${name}: outputs differ: ${JSON.stringify(outs)}`);
  const m = Object.fromEntries(cols.map((c) => [c, median(ms[c])]));
  const base = BASE ? `   x${(m.baseGofer / m.baseInproc).toFixed(2)}` : '';
  console.log(`${name.padEnd(14)} ${cols.map((c) => m[c].toFixed(0).padStart(10)).join(' ')}   x${(m.gofer / m.inproc).toFixed(2)}${base}`);
  if (cpu) {
    const c = Object.fromEntries(cols.map((k) => [k, median(cpuMs[k])]));
    const cbase = BASE ? `   x${(c.baseGofer / c.baseInproc).toFixed(2)}` : '';
    console.log(`${'  CPU ms'.padEnd(14)} ${cols.map((k) => c[k].toFixed(0).padStart(10)).join(' ')}   x${(c.gofer / c.inproc).toFixed(2)}${cbase}`);
  }
}
