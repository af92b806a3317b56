#!/usr/bin/env node
'use strict';
// bench/oci.js: tsvisor as an OCI runtime against runc (Debian's), as root.
//
//   node bench/oci.js [--reps N] [--docker unix:///path/docker.sock --image IMG | --dockerd] [--base DIR] [--only run,docker,pss] [--json]
//   node bench/oci.js --dockerd --timeline N
//
// --dockerd starts a private dockerd for the run (as test/integration/
// docker.test.js does: vfs storage, its own roots and socket under a
// temporary folder, tsvisor registered with `tsvisor install --config`, no
// host firewall changes), imports a busybox image from a tarball, and stops
// the daemon by its pid at the end.
//
// --base DIR adds another tsvisor tree (built with npm run build: main
// before a change) as a third runtime, interleaved with the others; with
// --dockerd it is registered as the runtime `tsvisor-base`. tsvisor is
// executed as Docker executes it (bin/tsvisor.js, its shell line, then Node).
//
// Rows (medians over the repetitions, the runtimes interleaved):
//   run true     wall time of `RUNTIME run ID` of a busybox bundle whose
//                process is `true` (create, start, wait, delete); and, in
//                runs of their own, its CPU time (user + system, GNU time:
//                the processes run waited for, so not a Gofer).
//   docker true  wall time of `docker run --rm --runtime=R IMG true`, with
//                --docker (a daemon with tsvisor installed as `tsvisor`).
//   PSS idle     host memory (the sum of Pss in /proc/PID/smaps_rollup) of
//                every host process of one container running `sleep 1000`
//                (tsvisor: the sandbox process and its stubs; runc: the
//                container's process), and of ten such containers at once;
//                each made by create and start, as Docker's shim makes it;
//                and one container's by process (the sandbox process, for
//                a confined Sentry its runtime; the Sentry; the Gofer; the
//                stubs; util-linux helpers).
//
// --timeline N (with --dockerd; no other rows): N `docker run --rm IMG true`
// of each runtime through a wrapper registered as `R-trace`, which logs
// when each runtime command docker's shim executes begins and ends (bash's
// EPOCHREALTIME, no fork) and gives tsvisor `--debug` with its log in the
// trace (the Sentry's start-up steps); prints each run's timeline in ms
// since `docker run` was started, then the median of each step.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const TSVISOR = path.join(ROOT, 'bin', 'tsvisor.js');

function parseArgs(argv) {
  const o = { reps: 11, docker: null, image: null, dockerd: false, base: null, only: null, json: false, timeline: 0 };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--reps') o.reps = Number(argv[++i]);
    else if (argv[i] === '--docker') o.docker = argv[++i];
    else if (argv[i] === '--image') o.image = argv[++i];
    else if (argv[i] === '--dockerd') o.dockerd = true;
    else if (argv[i] === '--only') o.only = argv[++i];
    else if (argv[i] === '--base') o.base = path.resolve(argv[++i]);
    else if (argv[i] === '--json') o.json = true;
    else if (argv[i] === '--timeline') o.timeline = Number(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

/**
 * xs starting at its i-th: the runtimes take turns at going first. In a
 * fixed order the second runtime's docker run was 5-7% faster than the
 * first's at load 8-10 (the same two trees swapped gave the same
 * difference the other way): the run after another meets Docker's
 * cleanup of that one.
 */
const rotate = (xs, i) => [...xs.slice(i % xs.length), ...xs.slice(0, i % xs.length)];

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function timed(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = childProcess.spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 120_000 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.status} ${r.stderr}`);
  return ms;
}

/** User + system CPU ms of a command and the descendants it waited for (GNU time); a Gofer, never reaped by its starter, is not among them. */
function cpuOf(cmd, args) {
  const r = childProcess.spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 120_000 });
  const m = /^cpu ([\d.]+) ([\d.]+)$/m.exec(r.stderr);
  if (r.status !== 0 || !m) throw new Error(`${cmd} ${args.join(' ')}: ${r.status} ${r.stderr}`);
  return (Number(m[1]) + Number(m[2])) * 1000;
}

function bundle(dir, args) {
  const rootfs = path.join(dir, 'rootfs');
  fs.mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(rootfs, 'bin', 'busybox'));
  fs.chmodSync(path.join(rootfs, 'bin', 'busybox'), 0o755);
  for (const a of ['sh', 'true', 'sleep']) fs.symlinkSync('busybox', path.join(rootfs, 'bin', a));
  for (const d of ['proc', 'sys', 'dev', 'tmp']) fs.mkdirSync(path.join(rootfs, d));
  childProcess.execFileSync(process.execPath, [TSVISOR, 'spec', '--bundle', dir]);
  const spec = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
  spec.process.args = args;
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
}

/** [name, command, arguments before tsvisor's own] of each runtime; base: the --base tree, or null. */
let BASE = null;
const runtimes = () => [['tsvisor', TSVISOR, []], ...(BASE ? [['base', path.join(BASE, 'bin', 'tsvisor.js'), []]] : []), ['runc', 'runc', []]];
/** Docker's name of each runtime (startDockerd registers them). */
const dockerName = { tsvisor: 'tsvisor', base: 'tsvisor-base', runc: 'runc' };

/** Sum of Pss (kB) of these host processes. */
function pss(pids) {
  let kb = 0;
  for (const p of pids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kb;
}

function tree(root) {
  const kids = new Map();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const st = fs.readFileSync(`/proc/${e}/stat`, 'latin1');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(e)]);
    } catch {
      // gone
    }
  }
  const out = [];
  const walk = (p) => {
    out.push(p);
    for (const c of kids.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** PSS (kB) of one container's host processes by role: the sandbox process (the runtime, or the Sentry unconfined), the Sentry, the Gofer, stubs and helpers. */
const perProcess = {};
function byRole(root) {
  const out = {};
  for (const p of tree(root)) {
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'latin1');
    } catch {
      continue;
    }
    const role = p === root ? 'sandbox process' : cmd.includes('gofer/main.js') ? 'Gofer' : cmd.includes('sandbox-init') ? 'Sentry' : /^(setpriv|unshare|\/bin\/sh)\0/.test(cmd) ? 'helpers' : 'stubs';
    out[role] = (out[role] ?? 0) + pss([p]);
  }
  return out;
}

function idleMemory(dir, n) {
  const res = {};
  for (const [name, cmd, pre] of runtimes()) {
    const root = path.join(dir, `state-${name}`);
    const ids = Array.from({ length: n }, (_, i) => `idle${i}`);
    const pids = [];
    try {
      for (const id of ids) {
        // create and start, as Docker's shim does (tsvisor's create becomes the sandbox process).
        childProcess.execFileSync(cmd, [...pre, '--root', root, 'create', '--bundle', path.join(dir, 'idle'), id], { stdio: ['ignore', 'ignore', 'inherit'] });
        childProcess.execFileSync(cmd, [...pre, '--root', root, 'start', id], { stdio: ['ignore', 'ignore', 'inherit'] });
        const st = JSON.parse(childProcess.execFileSync(cmd, [...pre, '--root', root, 'state', id], { encoding: 'utf8' }));
        pids.push(st.pid);
      }
      // Let start-up garbage settle as an idle container's would.
      childProcess.execFileSync('sleep', ['3']);
      res[name] = pss(pids.flatMap(tree));
      if (n === 1) perProcess[name] = byRole(pids[0]);
    } finally {
      for (const id of ids) childProcess.spawnSync(cmd, [...pre, '--root', root, 'delete', '--force', id]);
    }
  }
  return res;
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * A runtime command that logs to trace when each command begins and ends,
 * then runs cmd; tsvisor's (debug): with --debug and its log in trace.debug.
 */
function traceWrapper(dir, trace, cmd, debug) {
  const file = path.join(dir, `trace-${path.basename(path.dirname(path.dirname(cmd)))}-${path.basename(cmd)}`);
  const rewrite = debug
    ? 'a=(); while [ $# -gt 0 ]; do case $1 in --log) a+=(--log "$L.debug"); shift 2;; --log-format) a+=(--log-format text); shift 2;; *) a+=("$1"); shift;; esac; done; set -- --debug "${a[@]}"\n'
    : '';
  fs.writeFileSync(file, `#!/bin/bash\nL='${trace}'\necho "$EPOCHREALTIME $$ begin $*" >> "$L"\n${rewrite}'${cmd}' "$@"; rc=$?\necho "$EPOCHREALTIME $$ end $rc" >> "$L"\nexit $rc\n`, { mode: 0o755 });
  return file;
}

/** The subcommand of a runtime command line (after the global flags, those with a value skipped). */
function subcommand(words) {
  for (let i = 0; i < words.length; i++) {
    if (['--root', '--log', '--log-format', '--platform', '--network', '--criu'].includes(words[i])) i++;
    else if (!words[i].startsWith('-')) return words[i];
  }
  return '?';
}

/**
 * --timeline: n runs of each runtime through its -trace wrapper; each run's
 * events (a runtime command's begin and end, tsvisor's debug lines) in ms
 * since docker run began, and the medians.
 */
function timeline(daemon, trace, n) {
  const out = [];
  for (const [name] of runtimes()) {
    const runs = [];
    for (let i = 0; i <= n; i++) {
      fs.writeFileSync(trace, '');
      fs.writeFileSync(`${trace}.debug`, '');
      const t0 = Date.now();
      const ms = timed('docker', ['-H', daemon.sock, 'run', '--rm', `--runtime=${dockerName[name]}-trace`, daemon.image, 'true']);
      // Docker's shim may run its last delete after docker run returned.
      sleep(300);
      const events = [];
      const open = new Map();
      for (const l of fs.readFileSync(trace, 'utf8').split('\n').filter(Boolean)) {
        const [t, pid, what, ...rest] = l.split(' ');
        const at = Number(t) * 1000 - t0;
        if (what === 'begin') open.set(pid, { cmd: subcommand(rest), at });
        else if (open.has(pid)) {
          const b = open.get(pid);
          events.push({ what: `${b.cmd}`, from: b.at, to: at, rc: rest[0] });
        }
      }
      for (const l of fs.readFileSync(`${trace}.debug`, 'utf8').split('\n').filter(Boolean)) {
        const m = /^time="([^"]+)" level=\w+ msg="(.*)"$/.exec(l);
        if (m && !/^\S+: (linux\.|mounts\[)/.test(m[2])) events.push({ what: JSON.parse(`"${m[2]}"`).replace(/^[\w-]+: /, '').replace(/ \(\d+ ms\)$/, ''), from: Date.parse(m[1]) - t0 });
      }
      events.sort((a, b) => a.from - b.from);
      // The first run of each: image and code caches warm up.
      if (i > 0) runs.push({ ms, events });
      if (i > 0) process.stdout.write(`${name} run ${i}: ${ms.toFixed(0)} ms: ${events.map((e) => `${e.what} ${e.from.toFixed(0)}${e.to !== undefined ? `-${e.to.toFixed(0)}${e.rc !== '0' ? ` rc ${e.rc}` : ''}` : ''}`).join(', ')}\n`);
    }
    // Medians by event name and occurrence.
    const keys = new Map();
    for (const r of runs) {
      const seen = new Map();
      for (const e of r.events) {
        // The same step whatever its numbers (pids, ms) say; the numbers' medians are not kept.
        const w = e.what.replace(/\d+/g, 'N');
        const k = `${w}#${(seen.get(w) ?? 0) + 1}`;
        seen.set(w, (seen.get(w) ?? 0) + 1);
        if (!keys.has(k)) keys.set(k, { from: [], to: [] });
        keys.get(k).from.push(e.from);
        if (e.to !== undefined) keys.get(k).to.push(e.to);
      }
    }
    const lines = [...keys].filter(([, v]) => v.from.length * 2 > runs.length).map(([k, v]) => ({ k: k.replace(/#1$/, ''), from: median(v.from), to: v.to.length ? median(v.to) : null }))
      .sort((a, b) => a.from - b.from);
    out.push(`${name}: docker run median ${median(runs.map((r) => r.ms)).toFixed(0)} ms; medians (ms since docker run began):`);
    for (const l of lines) out.push(`  ${l.from.toFixed(0).padStart(5)}${l.to !== null ? `-${l.to.toFixed(0).padEnd(5)} (${(l.to - l.from).toFixed(0)} ms)` : ''.padEnd(15)}  ${l.k}`);
  }
  process.stdout.write(out.join('\n') + '\n');
}

/** A private dockerd with tsvisor installed and a busybox image: { sock, image, stop }. */
function startDockerd(trace = null) {
  const dir = fs.mkdtempSync('/tmp/tsvb-');
  // The daemon makes Docker's default bridge; removed at the end unless it was there before.
  const bridgeBefore = fs.existsSync('/sys/class/net/docker0');
  const sock = path.join(dir, 'docker.sock');
  const config = path.join(dir, 'daemon.json');
  fs.writeFileSync(config, JSON.stringify({ 'log-level': 'warn' }));
  childProcess.execFileSync(process.execPath, [TSVISOR, 'install', '--config', config]);
  if (BASE) childProcess.execFileSync(process.execPath, [path.join(BASE, 'bin', 'tsvisor.js'), 'install', '--config', config, '--runtime', 'tsvisor-base']);
  if (trace) {
    const c = JSON.parse(fs.readFileSync(config, 'utf8'));
    for (const [name, cmd] of runtimes()) c.runtimes[`${dockerName[name]}-trace`] = { path: traceWrapper(dir, trace, cmd, name !== 'runc') };
    fs.writeFileSync(config, JSON.stringify(c));
  }
  const log = fs.openSync(path.join(dir, 'dockerd.log'), 'w');
  const daemon = childProcess.spawn('dockerd', [
    '--config-file', config, '--storage-driver=vfs', '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'exec'),
    '--pidfile', path.join(dir, 'dockerd.pid'), '-H', `unix://${sock}`, '--iptables=false', '--ip6tables=false', '--ip-masq=false',
  ], { stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  const docker = (args) => childProcess.spawnSync('docker', ['-H', `unix://${sock}`, ...args], { encoding: 'utf8' });
  const stop = () => {
    try {
      process.kill(daemon.pid, 'SIGTERM');
      for (let i = 0; i < 300 && fs.existsSync(`/proc/${daemon.pid}`) && !/\) Z/.test(fs.readFileSync(`/proc/${daemon.pid}/stat`, 'latin1')); i++) sleep(100);
      process.kill(daemon.pid, 'SIGKILL');
    } catch {
      // gone
    }
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && m.startsWith(dir));
    for (const m of mounts.sort().reverse()) childProcess.spawnSync('umount', ['-l', m]);
    fs.rmSync(dir, { recursive: true, force: true });
    if (!bridgeBefore && fs.existsSync('/sys/class/net/docker0')) childProcess.spawnSync('ip', ['link', 'delete', 'docker0']);
  };
  try {
    for (let i = 0; ; i++) {
      if (fs.existsSync(sock) && docker(['version']).status === 0) break;
      if (i > 600) throw new Error(`dockerd did not answer: ${fs.readFileSync(path.join(dir, 'dockerd.log'), 'utf8').slice(-2000)}`);
      sleep(100);
    }
    const root = path.join(dir, 'image');
    bundle(path.join(dir, 'imgbundle'), ['true']);
    fs.renameSync(path.join(dir, 'imgbundle', 'rootfs'), root);
    const tar = path.join(dir, 'image.tar');
    childProcess.execFileSync('tar', ['-C', root, '-cf', tar, '.']);
    const imp = docker(['import', tar, 'tsvisor-bench:1']);
    if (imp.status !== 0) throw new Error(`docker import: ${imp.stderr}`);
  } catch (e) {
    stop();
    throw e;
  }
  return { sock: `unix://${sock}`, image: 'tsvisor-bench:1', stop };
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  BASE = o.base;
  if (process.getuid() !== 0) throw new Error('runc run needs root');
  const want = (row) => o.only === null || o.only.split(',').includes(row);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsvisor-bench-oci-'));
  const rows = [];
  let daemon = null;
  try {
    bundle(path.join(dir, 'true'), ['true']);
    bundle(path.join(dir, 'idle'), ['sleep', '1000']);
    if (want('run')) {
      const times = Object.fromEntries(runtimes().map(([n]) => [n, []]));
      for (let i = 0; i < o.reps; i++) {
        for (const [name, cmd, pre] of rotate(runtimes(), i)) {
          times[name].push(timed(cmd, [...pre, '--root', path.join(dir, `state-${name}`), 'run', '--bundle', path.join(dir, 'true'), `t${i}`]));
        }
      }
      rows.push({ row: 'run true (ms)', ...Object.fromEntries(Object.entries(times).map(([n, t]) => [n, median(t)])) });
      // CPU time, in separate runs (GNU time's own start is not timed above).
      const cpu = Object.fromEntries(runtimes().map(([n]) => [n, []]));
      for (let i = 0; i < o.reps; i++) {
        for (const [name, cmd, pre] of rotate(runtimes(), i)) cpu[name].push(cpuOf(cmd, [...pre, '--root', path.join(dir, `state-${name}`), 'run', '--bundle', path.join(dir, 'true'), `c${i}`]));
      }
      rows.push({ row: 'run true, CPU (ms, user+sys, Gofer not counted)', ...Object.fromEntries(Object.entries(cpu).map(([n, t]) => [n, median(t)])) });
    }
    if (o.timeline) {
      const trace = path.join(dir, 'trace.log');
      daemon = startDockerd(trace);
      timeline(daemon, trace, o.timeline);
      return;
    }
    if (o.dockerd && want('docker')) {
      daemon = startDockerd();
      o.docker = daemon.sock;
      o.image = daemon.image;
    }
    if (o.docker && want('docker')) {
      const names = runtimes().map(([n]) => n);
      const d = Object.fromEntries(names.map((n) => [n, []]));
      // One untimed run of each first: the image's first container, and code caches.
      for (const rt of names) timed('docker', ['-H', o.docker, 'run', '--rm', `--runtime=${dockerName[rt]}`, o.image, 'true']);
      for (let i = 0; i < o.reps; i++) {
        for (const rt of rotate(names, i)) d[rt].push(timed('docker', ['-H', o.docker, 'run', '--rm', `--runtime=${dockerName[rt]}`, o.image, 'true']));
      }
      rows.push({ row: 'docker run --rm true (ms)', ...Object.fromEntries(names.map((n) => [n, median(d[n])])) });
    }
    if (want('pss')) {
      const one = idleMemory(dir, 1);
      rows.push({ row: 'PSS, 1 idle container (kB)', ...one });
      const ten = idleMemory(dir, 10);
      rows.push({ row: 'PSS, 10 idle containers (kB)', ...ten });
    }
  } finally {
    if (daemon) daemon.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  if (o.json) return void process.stdout.write(JSON.stringify({ rows, perProcess }) + '\n');
  process.stdout.write(`load average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; medians of ${o.reps}\n`);
  const b = o.base !== null;
  process.stdout.write(`| | tsvisor |${b ? ' base |' : ''} runc | ratio |${b ? ' base ratio |' : ''}\n|---|---:|${b ? '---:|' : ''}---:|---:|${b ? '---:|' : ''}\n`);
  for (const r of rows) {
    process.stdout.write(`| ${r.row} | ${Math.round(r.tsvisor)} |${b ? ` ${Math.round(r.base)} |` : ''} ${Math.round(r.runc)} | ${(r.tsvisor / r.runc).toFixed(2)}x |${b ? ` ${(r.base / r.runc).toFixed(2)}x |` : ''}\n`);
  }
  for (const [name, roles] of Object.entries(perProcess)) process.stdout.write(`PSS of 1 idle container, ${name}: ${Object.entries(roles).map(([k, v]) => `${k} ${v} kB`).join(', ')}\n`);
}

main();
