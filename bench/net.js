#!/usr/bin/env node
'use strict';
// bench/net.js: host-mode networking (`tsvisor do --network host`) against
// native, with bench/tcpbench.c over the loopback (::1, else 127.0.0.1; both ends in the sandbox, each a
// host socket the Sentry owns):
//   TCP throughput  MiB through one connection in 64 KiB writes (Mbit/s)
//   connect rate    connect + accept + close per second
//   node bench/net.js [--reps N] [--mib N] [--conns N]
// Prints medians of the repetitions, and the sandbox/native ratio.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const BUILD = path.join(__dirname, 'build');
const TSVISOR = path.join(ROOT, 'bin', 'tsvisor.js');

const opts = { reps: 5, mib: 256, conns: 2000 };
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 2) {
  const k = { '--reps': 'reps', '--mib': 'mib', '--conns': 'conns' }[args[i]];
  if (!k || !/^\d+$/.test(args[i + 1] || '')) {
    process.stderr.write(`bench/net: unknown argument ${args[i]}\n`);
    process.exit(2);
  }
  opts[k] = Number(args[i + 1]);
}

fs.mkdirSync(BUILD, { recursive: true });
const bin = path.join(BUILD, 'tcpbench');
const cc = childProcess.spawnSync('gcc', ['-O2', '-Wall', '-static', '-o', bin, path.join(__dirname, 'tcpbench.c')], { encoding: 'utf8' });
if (cc.status !== 0) throw new Error(`gcc tcpbench.c: ${cc.stderr}`);

function run(argv) {
  const r = childProcess.spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 600_000, env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: status ${r.status} ${r.stderr}`);
  return r.stdout;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const field = (out, name) => Number(new RegExp(`${name}=([\\d.]+)`).exec(out)[1]);

function measure(label, argv, name) {
  const xs = [];
  for (let i = 0; i < opts.reps; i++) xs.push(field(run(argv), name));
  process.stderr.write(`bench/net: ${label}: ${xs.map((x) => x.toFixed(0)).join(', ')}\n`);
  return median(xs);
}

const sandbox = (argv) => [process.execPath, TSVISOR, 'do', '--network', 'host', '--', ...argv];
const rows = [
  ['TCP throughput over the loopback, Mbit/s', [bin, 'throughput', String(opts.mib)], 'mbit_per_s'],
  ['connect+accept+close over the loopback, per second', [bin, 'connect', String(opts.conns)], 'conn_per_s'],
];
const out = ['| what | native | tsvisor --network=host | tsvisor/native |', '| --- | --- | --- | --- |'];
for (const [what, argv, name] of rows) {
  const n = measure(`${what} native`, argv, name);
  const s = measure(`${what} sandbox`, sandbox(argv), name);
  out.push(`| ${what} | ${n.toFixed(0)} | ${s.toFixed(0)} | ${(s / n).toFixed(3)} |`);
}
process.stdout.write(out.join('\n') + `\n\nmedians of ${opts.reps} runs; ${opts.mib} MiB per throughput run, ${opts.conns} connections per connect run\n`);
