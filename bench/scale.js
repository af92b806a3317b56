#!/usr/bin/env node
'use strict';
// bench/scale.js: costs that grow with the number of kernel objects: VMAs,
// descriptors, pages shared by fork, timers. Each workload (bench/scale.c)
// runs natively and in the sandbox in the same invocation, --reps times each,
// alternating; every figure is the median, measured inside the program (no
// start-up counted).
//
//   node bench/scale.js [--reps N] [--tsvisor [LABEL=]PATH]... [--only NAME[,NAME]]
//                       [--timeout SECONDS] [--json]
//
// --tsvisor (repeatable) runs other builds' bin/tsvisor.js, e.g.
// --tsvisor before=/tmp/main/bin/tsvisor.js --tsvisor after=bin/tsvisor.js:
// native and every build alternate within each repetition, so all see the
// same machine load. Default: this checkout, labelled "sandbox". A run that
// fails keeps its partial output: the program prints how far it got (e.g.
// "mmap_failed_at 65514 Cannot allocate memory").

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const BUILD = path.join(__dirname, 'build');

const WORKLOADS = [
  { name: 'mmap', args: ['mmap', '100000'], what: '100k one-page mmaps (adjacent), then 100k munmaps' },
  { name: 'mmapsep', args: ['mmapsep', '60000'], what: '60k one-page mmaps, alternating protections (60k VMAs), then munmaps' },
  { name: 'fds', args: ['fds', '100000'], what: 'dup(0) up to 100k descriptors (RLIMIT_NOFILE raised), then close' },
  { name: 'fork', args: ['fork', '1024', '100'], what: '1 GiB heap touched, then 100 x fork + _exit + wait' },
  { name: 'timers', args: ['timers', '10000'], what: '10k POSIX timers armed at distinct times, then disarmed and deleted' },
];

function parseArgs(argv) {
  const o = { reps: 3, builds: [], only: null, timeout: 900, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') o.json = true;
    else if (a === '--reps') o.reps = Number(argv[++i]);
    else if (a === '--timeout') o.timeout = Number(argv[++i]);
    else if (a === '--tsvisor') {
      const v = argv[++i];
      const eq = v.indexOf('=');
      o.builds.push(eq > 0 ? { label: v.slice(0, eq), path: path.resolve(v.slice(eq + 1)) } : { label: `sandbox${o.builds.length || ''}`, path: path.resolve(v) });
    }
    else if (a === '--only') o.only = argv[++i].split(',');
    else {
      process.stderr.write(`scale: unknown argument ${a}\n`);
      process.exit(2);
    }
  }
  if (!(o.reps > 0)) throw new Error('--reps must be positive');
  if (!o.builds.length) o.builds.push({ label: 'sandbox', path: path.resolve(__dirname, '..', 'bin', 'tsvisor.js') });
  return o;
}

function build() {
  fs.mkdirSync(BUILD, { recursive: true });
  const src = path.join(__dirname, 'scale.c');
  const out = path.join(BUILD, 'scale');
  if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(src).mtimeMs) {
    const r = childProcess.spawnSync('gcc', ['-O2', '-Wall', '-o', out, src], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new Error(`gcc scale.c failed: ${r.error?.message ?? r.stderr}`);
  }
  return out;
}

/** Run argv; returns {values: {key: number}, failed: string|null}. */
function run(argv, timeoutSec) {
  const r = childProcess.spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    timeout: timeoutSec * 1000,
    killSignal: 'SIGKILL',
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const values = {};
  let failed = null;
  for (const line of (r.stdout || '').split('\n')) {
    const m = /^(\S+) (\S+)(?: (.*))?$/.exec(line.trim());
    if (!m) continue;
    if (m[1] === 'mmap_failed_at') failed = `stopped at ${m[2]}: ${m[3]}`;
    else if (Number.isFinite(Number(m[2]))) values[m[1]] = Number(m[2]);
  }
  if (r.error) failed = r.error.code === 'ETIMEDOUT' ? `timed out after ${timeoutSec} s` : r.error.message;
  else if (r.status !== 0 && !failed) failed = r.signal ? `killed by ${r.signal}` : `exit ${r.status}: ${(r.stderr || '').trim().split('\n').pop()}`;
  return { values, failed };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const bin = build();
  const results = [];
  for (const w of WORKLOADS) {
    if (o.only && !o.only.includes(w.name)) continue;
    const sides = ['native', ...o.builds.map((b) => b.label)];
    const runs = Object.fromEntries(sides.map((s) => [s, []]));
    for (let i = 0; i < o.reps; i++) {
      runs.native.push(run([bin, ...w.args], o.timeout));
      for (const b of o.builds) runs[b.label].push(run([process.execPath, b.path, 'do', '--', bin, ...w.args], o.timeout));
      process.stderr.write(`scale: ${w.name} ${i + 1}/${o.reps}\n`);
    }
    const row = { name: w.name, what: w.what, sides };
    for (const side of sides) {
      const keys = new Set(runs[side].flatMap((r) => Object.keys(r.values)));
      row[side] = {};
      for (const k of keys) row[side][k] = median(runs[side].map((r) => r.values[k]).filter((v) => v !== undefined));
      const fails = runs[side].map((r) => r.failed).filter(Boolean);
      if (fails.length) row[side].failed = fails[0];
    }
    results.push(row);
  }
  if (o.json) {
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    return;
  }
  for (const r of results) {
    process.stdout.write(`\n${r.name}: ${r.what}\n  ${''.padEnd(20)}${r.sides.map((s) => s.padStart(12)).join('')}\n`);
    const keys = [...new Set(r.sides.flatMap((s) => Object.keys(r[s])))].filter((k) => k !== 'failed');
    for (const k of keys) process.stdout.write(`  ${k.padEnd(20)}${r.sides.map((s) => String(r[s][k] ?? '-').padStart(12)).join('')}\n`);
    for (const s of r.sides) if (r[s].failed) process.stdout.write(`  ${s}: ${r[s].failed}\n`);
  }
}

main();
