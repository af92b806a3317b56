#!/usr/bin/env node
'use strict';
// bench/two_sandboxes.js: what a second sandbox in the same Node process
// costs. bench/getpid.c (a loop of syscall(SYS_getpid), timed by itself) runs
// in one sandbox alone, then in two at once (both loops on the one JavaScript
// thread, which polls and takes turns: platform/thread.ts).
//
//   npm run build && node bench/two_sandboxes.js [--iters N] [--reps N]
//
// Prints the median ns per getpid alone and, for two at once, the median of
// each sandbox's own figure and the wall time of the pair.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { Sandbox } = require('../dist/sandbox/sandbox.js');

const BUILD = path.join(__dirname, 'build');

function arg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const ITERS = arg('--iters', 20000);
const REPS = arg('--reps', 5);

function binary() {
  const bin = path.join(BUILD, 'getpid.static');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(BUILD, { recursive: true });
    childProcess.execFileSync('gcc', ['-O2', '-static', '-o', bin, path.join(__dirname, 'getpid.c')]);
  }
  return bin;
}

async function runOne(bin) {
  const out = path.join(BUILD, `two-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const fd = fs.openSync(out, 'w+');
  const nul = fs.openSync('/dev/null', 'r+');
  try {
    const sb = new Sandbox({ rootfs: '/', argv: [bin, String(ITERS)], env: ['PATH=/usr/bin:/bin'], cwd: '/', stdio: [nul, fd, nul], memory: 256 << 20 });
    const status = await sb.run();
    const text = fs.readFileSync(out, 'latin1');
    const m = /ns_per_iter=([\d.]+)/.exec(text);
    if (status !== 0 || !m) throw new Error(`getpid failed: status ${status}: ${text}`);
    return Number(m[1]);
  } finally {
    fs.closeSync(fd);
    fs.closeSync(nul);
    fs.rmSync(out, { force: true });
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const bin = binary();
  await runOne(bin); // warm-up
  const alone = [];
  for (let i = 0; i < REPS; i++) alone.push(await runOne(bin));
  const together = [];
  const wall = [];
  for (let i = 0; i < REPS; i++) {
    const t0 = process.hrtime.bigint();
    together.push(...(await Promise.all([runOne(bin), runOne(bin)])));
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`getpid, ${ITERS} iterations, median of ${REPS} runs`);
  console.log(`  one sandbox alone:          ${median(alone).toFixed(0)} ns per call`);
  console.log(`  each of two at once:        ${median(together).toFixed(0)} ns per call`);
  console.log(`  two at once, wall per pair: ${median(wall).toFixed(0)} ms`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
