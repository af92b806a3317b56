#!/usr/bin/env node
'use strict';
// bench/netstack.js: TCP over loopback inside the sandbox (its own stack, net/)
// against native (in a network namespace with lo up, since this machine's
// root namespace has no 127.0.0.1). bench/netloop.c streams N MiB between
// two processes and times connect/accept/close cycles.
//
//   npm run build && node bench/netstack.js [--mib N] [--conns N] [--reps N]
//
// Prints the median of each figure over the repetitions.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const BUILD = path.join(__dirname, 'build');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const MIB = arg('--mib', 256);
const CONNS = arg('--conns', 2000);
const REPS = arg('--reps', 3);

function binary() {
  const bin = path.join(BUILD, 'netloop.static');
  fs.mkdirSync(BUILD, { recursive: true });
  childProcess.execFileSync('gcc', ['-O2', '-static', '-o', bin, path.join(__dirname, 'netloop.c')]);
  return bin;
}

function run(argv) {
  const r = childProcess.spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', cwd: ROOT, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return parseFloat(r.stdout);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const bin = binary();
const native = (args) => run(['unshare', '--map-root-user', '--net', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', bin, ...args]);
const sandbox = (args) => run([process.execPath, path.join(ROOT, 'bin', 'tsvisor.js'), 'do', '--', bin, ...args]);
for (const [label, args, unit] of [[`stream ${MIB} MiB`, ['stream', String(MIB)], 'Gbit/s'], [`connect/accept/close x${CONNS}`, ['connect', String(CONNS)], 'per s']]) {
  const n = [];
  const s = [];
  for (let i = 0; i < REPS; i++) {
    n.push(native(args));
    s.push(sandbox(args));
  }
  const mn = median(n);
  const ms = median(s);
  console.log(`${label}: native ${mn} ${unit}, sandbox ${ms} ${unit}, sandbox/native ${(ms / mn).toFixed(3)}`);
}
