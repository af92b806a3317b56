#!/usr/bin/env node
'use strict';
// bench/hostrw.js: writes to a read-write bind mount (`tsvisor do -v`)
// against the same operations natively on the host, and for scale in the
// sandbox's own /tmp (memory), interleaved, median of --reps runs (default 5). Each phase is timed inside the program
// (bench/hostrw.c), so the sandbox's start-up is not counted.
//
//   node bench/hostrw.js [--reps N]
//
// Rows:
//   write 32 x 1 MiB     create + 16 writes of 64 KiB + close, 32 files
//   create 1000 small    open(O_CREAT|O_EXCL) + write 100 bytes + close
//   unlink 1000 small    unlink of those
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const TSVISOR = path.join(__dirname, '..', 'bin', 'tsvisor.js');
let reps = 5;
const ri = process.argv.indexOf('--reps');
if (ri > 0) reps = Number(process.argv[ri + 1]) || 5;

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-bench-hostrw-'));
const bin = path.join(work, 'hostrw');
childProcess.execFileSync('gcc', ['-O2', '-o', bin, path.join(__dirname, 'hostrw.c')]);
const nativeDir = path.join(work, 'native');
const bindDir = path.join(work, 'bind');
fs.mkdirSync(nativeDir);
fs.mkdirSync(bindDir);

function run(argv) {
  const r = childProcess.spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout.trim().split(' ').map(Number);
}
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];

const nat = [[], [], []];
const sb = [[], [], []];
const mem = [[], [], []];
try {
  for (let k = 0; k < reps; k++) {
    run([bin, nativeDir]).forEach((v, i) => nat[i].push(v));
    run([process.execPath, TSVISOR, 'do', '-v', `${work}:/w`, '--', '/w/hostrw', '/w/bind']).forEach((v, i) => sb[i].push(v));
    run([process.execPath, TSVISOR, 'do', '-v', `${work}:/w`, '--', '/w/hostrw', '/tmp']).forEach((v, i) => mem[i].push(v));
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}
const names = ['write 32 x 1 MiB', 'create 1000 small', 'unlink 1000 small'];
names.forEach((name, i) => {
  const n = median(nat[i]);
  const s = median(sb[i]);
  const m = median(mem[i]);
  console.log(`${name.padEnd(18)} native ${n.toFixed(1).padStart(8)} ms   rw bind ${s.toFixed(1).padStart(8)} ms   x${(s / n).toFixed(1)}   sandbox /tmp ${m.toFixed(1).padStart(8)} ms`);
});
