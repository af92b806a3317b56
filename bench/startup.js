#!/usr/bin/env node
'use strict';
// bench/startup.js: the cost of starting tsvisor's commands, against Node's
// own start (`node -e 0`), and optionally against another tsvisor tree.
//
//   node bench/startup.js [--reps N] [--base DIR] [--only TEXT] [--json]
//
// Rows: `node -e 0`; `tsvisor state` of a missing container, `tsvisor
// kill` of one and `tsvisor delete --force` of one (what Docker's shim calls
// several times per container, light commands); `tsvisor do /bin/true` (the
// kernel). tsvisor is started as Docker starts it, by executing
// bin/tsvisor.js (its shell line, then Node), in this process's environment
// (the output says whether NODE_EXTRA_CA_CERTS is set in it: Node parses
// those certificates at start-up, tsvisor keeps it from doing so; a row
// `node -e 0` without it is added then). Each run is measured by
// /usr/bin/time: wall ms, CPU ms (user + system of the process and the
// children it waited for), which a loaded machine inflates less than the
// wall time, and minor page faults (memory first touched; the same at any
// load); with perf installed, perf stat's task-clock and minor-faults of the
// command and its descendants instead (CPU to 0.01 ms, not time's 10 ms
// steps). Systems and rows are interleaved run by run; medians.
// --base DIR adds the same rows for the tree at DIR (built with npm run build);
// the two trees take turns at going first. --only TEXT keeps the tsvisor rows
// whose label contains TEXT (`--only do` for `do /bin/true` alone).

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

function parseArgs(argv) {
  const o = { reps: 15, base: null, json: false, only: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--reps') o.reps = Number(argv[++i]);
    else if (argv[i] === '--base') o.base = path.resolve(argv[++i]);
    else if (argv[i] === '--json') o.json = true;
    else if (argv[i] === '--only') o.only = argv[++i];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/**
 * One run under /usr/bin/time: { wall, cpu } in ms, and the minor page faults.
 * The wall time is this process's clock around the run (time's own is in
 * hundredths of a second, too coarse for 30 ms starts), so it includes
 * starting /usr/bin/time, the same for every row.
 */
function measure(argv) {
  if (PERF) return measurePerf(argv);
  const t0 = process.hrtime.bigint();
  const r = childProcess.spawnSync('/usr/bin/time', ['-f', '@@ %e %U %S %R', ...argv], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = /@@ ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`${argv.join(' ')}: no timing (${r.stderr.slice(-300)})`);
  return { wall, cpu: (Number(m[2]) + Number(m[3])) * 1000, faults: Number(m[4]) };
}

/** perf (linux-perf), when installed: CPU as its task-clock (the command and all its descendants, to 0.01 ms) instead of time's 10 ms steps. */
const PERF = ['/usr/bin/perf', '/usr/local/bin/perf'].find((p) => fs.existsSync(p) && childProcess.spawnSync(p, ['stat', '-x,', '-e', 'task-clock', 'true']).status === 0);

function measurePerf(argv) {
  const t0 = process.hrtime.bigint();
  const r = childProcess.spawnSync(PERF, ['stat', '-x,', '-e', 'task-clock,minor-faults', '--', ...argv], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = /^([\d.]+),msec,task-clock/m.exec(r.stderr);
  const faults = /^(\d+),,minor-faults/m.exec(r.stderr);
  if (!cpu || !faults) throw new Error(`${argv.join(' ')}: no counts from perf (${r.stderr.slice(-300)})`);
  return { wall, cpu: Number(cpu[1]), faults: Number(faults[1]) };
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const load0 = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  if (!PERF && !fs.existsSync('/usr/bin/time')) throw new Error('bench/startup.js needs /usr/bin/time (apt-get install time)');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsv-startup-'));
  const trees = [['tsvisor', ROOT], ...(o.base ? [['base', o.base]] : [])];
  const rows = [['node -e 0', () => [[process.execPath, '-e', '0']]]];
  // What tsvisor's Node starts from (bin/tsvisor.js keeps the certificates from it).
  if (process.env.NODE_EXTRA_CA_CERTS !== undefined) rows.push(['node -e 0 without NODE_EXTRA_CA_CERTS', () => [['env', '-u', 'NODE_EXTRA_CA_CERTS', process.execPath, '-e', '0']]]);
  const cmds = [
    ['state (missing container)', ['--root', root, 'state', 'missing']],
    ['kill (missing container)', ['--root', root, 'kill', 'missing', 'TERM']],
    ['delete --force (missing container)', ['--root', root, 'delete', '--force', 'missing']],
    ['do /bin/true', ['do', '/bin/true']],
  ];
  for (const [label, args] of cmds) if (o.only === null || label.includes(o.only)) rows.push([label, () => trees.map(([, dir]) => [path.join(dir, 'bin', 'tsvisor.js'), ...args])]);
  const columns = ['native', ...trees.map(([n]) => n)];
  const results = new Map(rows.map(([label]) => [label, new Map()]));
  // One untimed run of each first: code caches written after a build.
  for (const [, argvs] of rows) for (const argv of argvs()) measure(argv);
  for (let rep = 0; rep < o.reps; rep++) {
    for (const [label, argvs] of rows) {
      const list = argvs();
      // With a base, the trees take turns at going first (a run warms the page cache for the next).
      const order = rep % 2 ? list.map((_, i) => list.length - 1 - i) : list.map((_, i) => i);
      for (const i of order) {
        const col = label.startsWith('node -e 0') ? 'native' : columns[1 + i];
        const per = results.get(label);
        if (!per.has(col)) per.set(col, []);
        per.get(col).push(measure(list[i]));
      }
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
  const out = [];
  for (const [label, per] of results) {
    for (const [col, runs] of per) out.push({ row: label, system: col, wallMs: median(runs.map((r) => r.wall)), cpuMs: median(runs.map((r) => r.cpu)), minorFaults: median(runs.map((r) => r.faults)) });
  }
  if (o.json) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const node = out.find((r) => r.row === 'node -e 0');
  // Issue 7's measure: wall time over `node -e 0`'s, as this environment starts it and (when it names a CA bundle) without it.
  const bare = out.find((r) => r.row === 'node -e 0 without NODE_EXTRA_CA_CERTS');
  console.log(`load average at the start: ${load0}, at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; medians of ${o.reps}; NODE_EXTRA_CA_CERTS ${process.env.NODE_EXTRA_CA_CERTS === undefined ? 'unset' : 'set'}; CPU and faults by ${PERF ? 'perf stat' : '/usr/bin/time'}`);
  // The same ratios of CPU time, which a loaded machine distorts less than wall time.
  console.log(`| row | system | wall ms | CPU ms | minor faults | CPU beyond \`node -e 0\`, ms | wall / \`node -e 0\`'s | CPU / \`node -e 0\`'s |${bare ? ' wall / without the CA bundle | CPU / without the CA bundle |' : ''}`);
  console.log(`|---|---|---:|---:|---:|---:|---:|---:|${bare ? '---:|---:|' : ''}`);
  const ratio = (r, base) => `${(r.wallMs / base.wallMs).toFixed(2)}x | ${(r.cpuMs / base.cpuMs).toFixed(2)}x`;
  for (const r of out) console.log(`| ${r.row} | ${r.system} | ${r.wallMs.toFixed(0)} | ${r.cpuMs.toFixed(PERF ? 1 : 0)} | ${r.minorFaults} | ${(r.cpuMs - node.cpuMs).toFixed(0)} | ${ratio(r, node)} |${bare ? ` ${ratio(r, bare)} |` : ''}`);
}

main();
