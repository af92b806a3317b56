#!/usr/bin/env node
'use strict';
// bench/walk.js: directory walks over the host root tree, natively and in the
// sandbox (rootfs /), median wall time of a few runs each.
//
//   node bench/walk.js [--reps N]
//
// Rows:
//   find /usr        find /usr -xdev (one lookup per entry, fd-relative)
//   ls -lR share     ls -lR /usr/share (lstat of every entry by path)
//   stat loop        3000 `[ -e /usr/lib/x86_64-linux-gnu/libc.so.6 ]` in sh
//                    (the same 4-component path again and again: cached
//                    lookups and their revalidation)
const childProcess = require('node:child_process');
const path = require('node:path');

const TSVISOR = path.join(__dirname, '..', 'bin', 'tsvisor.js');
let reps = 3;
const i = process.argv.indexOf('--reps');
if (i > 0) reps = Number(process.argv[i + 1]) || 3;

const rows = [
  ['find /usr', ['find', '/usr', '-xdev']],
  ['ls -lR share', ['ls', '-lR', '/usr/share']],
  ['stat loop', ['sh', '-c', 'i=0; while [ $i -lt 3000 ]; do [ -e /usr/lib/x86_64-linux-gnu/libc.so.6 ]; i=$((i+1)); done']],
];

function time(argv) {
  const t0 = process.hrtime.bigint();
  const r = childProcess.spawnSync(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'ignore'], maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0 && argv[0] !== 'find' && argv[2] !== 'ls') return { ms, err: `exit ${r.status}` };
  return { ms };
}
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];

for (const [name, argv] of rows) {
  const nat = [];
  const sb = [];
  for (let k = 0; k < reps; k++) {
    nat.push(time(argv).ms);
    const r = time([process.execPath, TSVISOR, 'do', '--', ...argv]);
    if (r.err) console.error(`${name}: sandbox ${r.err}`);
    sb.push(r.ms);
  }
  const n = median(nat);
  const s = median(sb);
  console.log(`${name.padEnd(14)} native ${n.toFixed(0).padStart(7)} ms   sandbox ${s.toFixed(0).padStart(7)} ms   x${(s / n).toFixed(1)}`);
}
