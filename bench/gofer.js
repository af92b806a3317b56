#!/usr/bin/env node
'use strict';
// bench/gofer.js: host file access through the Gofer (a separate process,
// src/gofer) against the Sentry's own in-process host tree and against
// native runs. Median wall time of --reps runs each, the three interleaved
// (native, in-process, Gofer, native, ...) so load changes hit all alike.
//
//   node bench/gofer.js [--reps N] [--only NAME]
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
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--reps') reps = Number(process.argv[++i]) || reps;
  else if (process.argv[i] === '--only') only = process.argv[++i];
}

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
  const t0 = process.hrtime.bigint();
  const r = childProcess.spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, out: String(r.stdout), err: r.status === 0 ? null : `exit ${r.status}: ${String(r.stderr).slice(-300)}` };
}
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];

console.log(`reps ${reps}, medians in ms; ratios against in-process`);
console.log(`${'row'.padEnd(14)} ${'native'.padStart(8)} ${'in-proc'.padStart(8)} ${'gofer'.padStart(8)}   gofer/in-proc`);
for (const [name, cmdOf] of rows) {
  if (only && name !== only) continue;
  const cmd = typeof cmdOf === 'function' ? cmdOf() : cmdOf;
  const runs = { native: ['sh', '-c', cmd], inproc: [process.execPath, TSVISOR, 'do', '--no-gofer', '--', 'sh', '-c', cmd], gofer: [process.execPath, TSVISOR, 'do', '--gofer', '--', 'sh', '-c', cmd] };
  const ms = { native: [], inproc: [], gofer: [] };
  const outs = {};
  for (let k = 0; k < reps; k++) {
    for (const which of ['native', 'inproc', 'gofer']) {
      const r = time(runs[which]);
      if (r.err) console.error(`${name} (${which}): ${r.err}`);
      ms[which].push(r.ms);
      outs[which] = r.out;
    }
  }
  if (outs.gofer !== outs.native || outs.inproc !== outs.native) console.error(`${name}: outputs differ: ${JSON.stringify(outs)}`);
  const [n, i, g] = ['native', 'inproc', 'gofer'].map((w) => median(ms[w]));
  console.log(`${name.padEnd(14)} ${n.toFixed(0).padStart(8)} ${i.toFixed(0).padStart(8)} ${g.toFixed(0).padStart(8)}   x${(g / i).toFixed(2)}`);
}
