#!/usr/bin/env node
'use strict';
// bench/platforms.js: the two platforms side by side, interleaved run by run
// so that both see the same machine load.
//
//   node bench/platforms.js [--reps N] [--iters N] [--mt-iters N] [--json]
//
// Rows (medians):
//   getpid          ns per syscall(SYS_getpid) (bench/getpid.c): natively,
//                   under the C ptrace floor (bench/floor.c), in tsvisor on
//                   ptrace and on systrap
//   getpid xT       total calls per second in T = 1, 2, 4 threads
//                   (bench/getpid_mt.c)
//   idle CPU        CPU time (ms per second of wall time) that tsvisor and
//                   its stubs use while the sandboxed program sleeps
// Each sandbox run also records the platform's counters (--stats): for
// systrap, how often the Sentry caught a trap spinning against sleeping, and
// how many traps were taken with the threads apart from the Sentry's CPU
// (platform/systrap/placement.ts; TSVISOR_SYSTRAP_PLACEMENT=apart|together
// in the environment fixes the placement for the whole run).

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const BUILD = path.join(__dirname, 'build');
const TSVISOR = path.join(ROOT, 'bin', 'tsvisor.js');
const PLATFORMS = ['ptrace', 'systrap'];

function parseArgs(argv) {
  const o = { reps: 5, iters: 50_000, mtIters: 20_000, json: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--reps') o.reps = Number(argv[++i]);
    else if (argv[i] === '--iters') o.iters = Number(argv[++i]);
    else if (argv[i] === '--mt-iters') o.mtIters = Number(argv[++i]);
    else if (argv[i] === '--json') o.json = true;
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  return o;
}

function build() {
  fs.mkdirSync(BUILD, { recursive: true });
  const out = {};
  for (const [src, name, flags] of [['getpid.c', 'getpid', ['-O2']], ['floor.c', 'floor', ['-O2']], ['getpid_mt.c', 'getpid_mt.static', ['-O2', '-static', '-pthread']]]) {
    const bin = path.join(BUILD, name);
    const r = childProcess.spawnSync('gcc', [...flags, '-o', bin, path.join(__dirname, src)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcc ${src}: ${r.stderr}`);
    out[name] = bin;
  }
  return out;
}

function run(argv) {
  const r = childProcess.spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: status ${r.status} ${r.signal ?? ''}\n${r.stderr}`);
  return r.stdout;
}

const stats = path.join(os.tmpdir(), `tsvisor-platforms-${process.pid}.json`);
function sandbox(platform, argv) {
  const out = run([process.execPath, TSVISOR, 'do', '--platform', platform, '--stats', stats, '--', ...argv]);
  return { out, stats: JSON.parse(fs.readFileSync(stats, 'utf8')) };
}

const num = (re, s) => {
  const m = re.exec(s);
  if (!m) throw new Error(`no ${re} in ${s}`);
  return Number(m[1]);
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** CPU ticks (utime + stime) of pid and every process in the stubs' group it started. */
function treeTicks(pid) {
  let ticks = 0;
  const stat = (p) => {
    const s = fs.readFileSync(`/proc/${p}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), pgid: Number(f[2]), ticks: Number(f[11]) + Number(f[12]), comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')) };
  };
  const all = [];
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      all.push({ pid: Number(n), ...stat(n) });
    } catch {
      // gone
    }
  }
  const master = all.find((p) => p.ppid === pid && p.comm === 'tsvisor-stub');
  for (const p of all) if (p.pid === pid || (master && p.pgid === master.pgid)) ticks += p.ticks;
  return ticks;
}

/** ms of CPU per second of wall time while `sleep` runs in the sandbox (ticks are 10 ms: over 4 s). */
async function idleCpu(platform) {
  const child = childProcess.spawn(process.execPath, [TSVISOR, 'do', '--platform', platform, '--', '/bin/sleep', '6'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1500));
  const a = treeTicks(child.pid);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, 4000));
  const b = treeTicks(child.pid);
  const secs = (Date.now() - t0) / 1000;
  await new Promise((r) => child.on('close', r));
  return ((b - a) * 10) / secs;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const load0 = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  const bins = build();
  const res = { native: [], floor: [] };
  for (const p of PLATFORMS) {
    res[`getpid ${p}`] = [];
    res[`spin hits ${p}`] = [];
    res[`apart ${p}`] = [];
    for (const T of [1, 2, 4]) res[`x${T} ${p}`] = [];
    res[`idle ${p}`] = [];
  }
  for (let rep = 0; rep < o.reps; rep++) {
    process.stderr.write(`rep ${rep + 1}/${o.reps}\n`);
    res.native.push(num(/ns_per_iter=([\d.]+)/, run([bins.getpid, String(o.iters * 20)])));
    res.floor.push(num(/ns_per_iter=([\d.]+)/, run([bins.floor, bins.getpid, String(o.iters)])));
    for (const p of PLATFORMS) {
      const g = sandbox(p, [bins.getpid, String(o.iters)]);
      res[`getpid ${p}`].push(num(/ns_per_iter=([\d.]+)/, g.out));
      const st = g.stats;
      res[`spin hits ${p}`].push(st.syscallStops ? (100 * st.spinHits) / st.syscallStops : 0);
      res[`apart ${p}`].push(st.syscallStops ? (100 * (st.apartTraps ?? 0)) / st.syscallStops : 0);
      for (const T of [1, 2, 4]) {
        res[`x${T} ${p}`].push(num(/calls_per_sec=([\d.]+)/, sandbox(p, [bins['getpid_mt.static'], String(T), String(o.mtIters)]).out));
      }
    }
    if (rep < 2) for (const p of PLATFORMS) res[`idle ${p}`].push(await idleCpu(p));
  }
  fs.rmSync(stats, { force: true });
  const m = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.length ? median(v) : null]));
  if (o.json) {
    process.stdout.write(JSON.stringify({ options: o, load: os.loadavg(), samples: res, medians: m }, null, 2) + '\n');
    return;
  }
  const f = (x, d = 0) => (x === null ? '-' : x.toFixed(d));
  const lines = [
    `| what | native | C floor | ptrace | systrap | systrap/ptrace | systrap/floor |`,
    `| --- | --- | --- | --- | --- | --- | --- |`,
    `| getpid (ns/call) | ${f(m.native)} | ${f(m.floor)} | ${f(m['getpid ptrace'])} | ${f(m['getpid systrap'])} | ${f(m['getpid systrap'] / m['getpid ptrace'], 2)} | ${f(m['getpid systrap'] / m.floor, 2)} |`,
  ];
  for (const T of [1, 2, 4]) {
    lines.push(`| getpid x${T} (calls/s) | | | ${f(m[`x${T} ptrace`])} | ${f(m[`x${T} systrap`])} | ${f(m[`x${T} systrap`] / m[`x${T} ptrace`], 2)} | |`);
  }
  lines.push(`| idle sandbox CPU (ms/s) | | | ${f(m['idle ptrace'], 1)} | ${f(m['idle systrap'], 1)} | | |`);
  lines.push(`| systrap traps caught spinning (%) | | | | ${f(m['spin hits systrap'], 1)} | | |`);
  lines.push(`| systrap traps taken apart from the Sentry's CPU (%) | | | | ${f(m['apart systrap'], 1)} | | |`);
  lines.push('', `medians of ${o.reps} interleaved runs (idle CPU: 2); TSVISOR_SYSTRAP_PLACEMENT=${process.env.TSVISOR_SYSTRAP_PLACEMENT ?? 'auto'}; load average at the start ${load0}, at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; ${os.cpus().length} CPUs`);
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
