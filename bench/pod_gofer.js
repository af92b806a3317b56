#!/usr/bin/env node
'use strict';
// bench/pod_gofer.js: a pod's container joining its sandbox, as the CRI
// drives it (create, start, delete of a busybox container running `true`
// in a running pod sandbox, confined: each joining container brings its own
// Gofer). Wall time of each command, medians over --reps; with --against
// DIR (another checkout, built) a pod of that build too, its containers
// created in the same interleaving (the two taking turns at going first),
// so both see the same load. As root.
//
//   node bench/pod_gofer.js [--reps N] [--against DIR]
//
// What it shows is create's critical path: the joining container's Gofer
// (a Node process) starts during create and the sandbox makes the
// container's tree once the Gofer says hello (docs/PERFORMANCE.md, "A pod
// container's Gofer off create's path").
const path = require('node:path');

let reps = 7;
let against = null;
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === '--reps') reps = Number(process.argv[++i]) || reps;
  else if (process.argv[i] === '--against') against = path.resolve(process.argv[++i]);
}

// Each tree's own test library: its tsv() runs that tree's bin/tsvisor.js.
const trees = [['this', path.join(__dirname, '..')], ...(against ? [['base', against]] : [])].map(([name, root]) => {
  const lib = require(path.join(root, 'test', 'lib', 'oci_pod.js'));
  const dir = lib.podDir();
  lib.startSandbox(dir, 'pb');
  return { name, lib, dir, t: { create: [], start: [], delete: [] } };
});

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
try {
  for (let i = 0; i < reps; i++) {
    // The builds take turns at going first.
    for (const tr of i % 2 ? trees.slice().reverse() : trees) {
      const { lib, dir, t } = tr;
      const id = `pbc${i}`;
      lib.bundle(dir, id, ['true'], { [lib.CRI_TYPE]: 'container', [lib.CRI_SANDBOX]: 'pb' });
      let t0 = process.hrtime.bigint();
      lib.ok(lib.tsv(dir, ['create', '--bundle', path.join(dir, id), id]), `create ${id}`);
      t.create.push(ms(t0));
      t0 = process.hrtime.bigint();
      lib.ok(lib.tsv(dir, ['start', id]), `start ${id}`);
      t.start.push(ms(t0));
      t0 = process.hrtime.bigint();
      lib.ok(lib.tsv(dir, ['delete', '--force', id]), `delete ${id}`);
      t.delete.push(ms(t0));
    }
  }
} finally {
  for (const tr of trees) tr.lib.cleanup();
}
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`reps ${reps}, medians in ms${against ? `; base: ${against}` : ''}`);
console.log(`${'build'.padEnd(6)} ${['create', 'start', 'delete'].map((c) => c.padStart(8)).join(' ')}   create, each`);
for (const { name, t } of trees) {
  console.log(`${name.padEnd(6)} ${['create', 'start', 'delete'].map((c) => median(t[c]).toFixed(0).padStart(8)).join(' ')}   ${t.create.map((x) => x.toFixed(0)).join(' ')}`);
}
