#!/usr/bin/env node
'use strict';
// bench/systrap.js: the systrap platform's figures for issue 13, each beside
// the C ptrace floor and tsvisor on ptrace in the same round, interleaved,
// with the load average of every round:
//
//   node bench/systrap.js [--rounds N] [--iters N] [--mt-iters N] [--idle-s S] [--only getpid,mt,idle,patch]
//                         [--trace FILE] [--json]
//
//   getpid   ns per getpid (bench/getpid.c, static) under the C floor
//            (bench/floor.c), on ptrace, and on systrap with the placement
//            automatic, forced together and forced apart
//            (TSVISOR_SYSTRAP_PLACEMENT), and automatic with instruction
//            patching off (TSVISOR_SYSTRAP_PATCH=0), with systrap's counters: the share
//            of calls that came through a patched site, the share
//            of traps taken apart, the hand-off's host calls per trap (the
//            Sentry's sleeps and the stubs it had to wake), switches, probes
//            lost and skipped
//   mt       total getpid calls per second in 1, 2 and 4 threads
//            (bench/getpid_mt.c) under the multi-threaded C floor
//            (bench/floor_mt.c), on ptrace, systrap auto and systrap apart
//   idle     host CPU (utime + stime, /proc/PID/stat) of the Sentry (the
//            tsvisor process) and of its stubs over S seconds (default 5)
//            while the sandboxed program sleeps, on each platform
//   patch    (not in the default set) bench/patch_bound.c, one of its
//            rounds per round here: getppid natively, through the seccomp
//            trap's SIGSYS, and through a patched site (instruction
//            patching's path, the prototype of what the stub now does), each alone and with
//            a spin hand-off across CPUs and a futex one on one CPU
//
// --trace FILE appends the automatic placement's decisions in each getpid
// run (TSVISOR_SYSTRAP_PLACEMENT_TRACE) to FILE. Medians over the rounds, with the range. Re-run it as it is on a quiet
// machine: the defaults (5 rounds of 30000 calls) take about 2 minutes there.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const BUILD = path.join(__dirname, 'build');
const TSVISOR = path.join(ROOT, 'bin', 'tsvisor.js');
const TICK_MS = 1000 / 100; // USER_HZ

function parseArgs(argv) {
  const o = { rounds: 5, iters: 30_000, mtIters: 10_000, idleS: 5, only: ['getpid', 'mt', 'idle'], trace: null, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rounds') o.rounds = Number(argv[++i]);
    else if (a === '--iters') o.iters = Number(argv[++i]);
    else if (a === '--mt-iters') o.mtIters = Number(argv[++i]);
    else if (a === '--idle-s') o.idleS = Number(argv[++i]);
    else if (a === '--only') o.only = argv[++i].split(',');
    else if (a === '--trace') o.trace = argv[++i];
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

function build() {
  fs.mkdirSync(BUILD, { recursive: true });
  const bin = {};
  for (const [src, name, flags] of [
    // A static PIE, as Debian builds programs: a non-PIE program's heap starts below systrap's trampoline table, so its sites are never patched.
    ['getpid.c', 'getpid.static', ['-O2', '-static-pie']],
    ['floor.c', 'floor', ['-O2']],
    ['floor_mt.c', 'floor_mt', ['-O2']],
    ['getpid_mt.c', 'getpid_mt.static', ['-O2', '-static', '-pthread']],
    ['patch_bound.c', 'patch_bound', ['-O2', '-pthread']],
  ]) {
    const out = path.join(BUILD, name);
    const r = childProcess.spawnSync('gcc', [...flags, '-o', out, path.join(__dirname, src)], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcc ${src}: ${r.stderr}`);
    bin[name] = out;
  }
  return bin;
}

function run(argv, env = {}) {
  const r = childProcess.spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 600_000, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: status ${r.status} ${r.signal ?? ''}\n${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

const statsFile = path.join(os.tmpdir(), `tsvisor-systrap-bench-${process.pid}.json`);

/**
 * A sandbox run: its output and its platform counters. placement: null (ptrace), 'auto', 'together' or 'apart';
 * 'unpatched' is auto with instruction patching off (TSVISOR_SYSTRAP_PATCH=0).
 */
function sandbox(placement, argv, trace = false) {
  const platform = placement === null ? 'ptrace' : 'systrap';
  const env = placement === null || placement === 'auto' || placement === 'unpatched' ? { TSVISOR_SYSTRAP_PLACEMENT: '' } : { TSVISOR_SYSTRAP_PLACEMENT: placement };
  env.TSVISOR_SYSTRAP_PATCH = placement === 'unpatched' ? '0' : '';
  if (trace) env.TSVISOR_SYSTRAP_PLACEMENT_TRACE = '1';
  const r = run([process.execPath, TSVISOR, 'do', '--platform', platform, '--stats', statsFile, '--', ...argv], env);
  return { out: r.stdout, stderr: r.stderr, stats: JSON.parse(fs.readFileSync(statsFile, 'utf8')) };
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
const load1 = () => os.loadavg()[0];

/** utime + stime (ticks) of a process, and the sum over the processes of a process group. */
function ticksOf(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(f[1]), pgid: Number(f[2]), ticks: Number(f[11]) + Number(f[12]), comm: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')) };
}

function cpuOf(sentry) {
  const all = [];
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    try {
      all.push({ pid: Number(n), ...ticksOf(n) });
    } catch {
      // gone meanwhile
    }
  }
  const me = all.find((p) => p.pid === sentry);
  const master = all.find((p) => p.ppid === sentry && p.comm === 'tsvisor-stub');
  let stubs = 0;
  if (master) for (const p of all) if (p.pgid === master.pgid) stubs += p.ticks;
  return { sentry: me ? me.ticks : 0, stubs };
}

/** ms of CPU of the Sentry and of its stubs over idleS seconds of `sleep` in the sandbox, after 2 s of start-up. */
async function idleCpu(platform, idleS) {
  const child = childProcess.spawn(process.execPath, [TSVISOR, 'do', '--platform', platform, '--', '/bin/sleep', String(idleS + 4)], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 2000));
  const a = cpuOf(child.pid);
  await new Promise((r) => setTimeout(r, idleS * 1000));
  const b = cpuOf(child.pid);
  await new Promise((r) => child.on('close', r));
  return { sentry: (b.sentry - a.sentry) * TICK_MS, stubs: (b.stubs - a.stubs) * TICK_MS };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const bin = build();
  const s = {};
  const push = (k, v) => (s[k] ??= []).push(v);
  const loads = [];
  for (let round = 0; round < o.rounds; round++) {
    process.stderr.write(`round ${round + 1}/${o.rounds}, load ${load1().toFixed(1)}\n`);
    loads.push(load1());
    if (o.only.includes('getpid')) {
      const prog = [bin['getpid.static'], String(o.iters)];
      push('getpid floor', num(/ns_per_iter=([\d.]+)/, run([bin.floor, ...prog]).stdout));
      push('getpid ptrace', num(/ns_per_iter=([\d.]+)/, sandbox(null, prog).out));
      for (const pl of ['auto', 'together', 'apart', 'unpatched']) {
        const r = sandbox(pl, prog, o.trace !== null && pl === 'auto');
        push(`getpid ${pl}`, num(/ns_per_iter=([\d.]+)/, r.out));
        if (o.trace !== null && pl === 'auto') {
          const lines = r.stderr.split('\n').filter((l) => l.startsWith('systrap placement:'));
          fs.appendFileSync(o.trace, `round ${round + 1}, load ${load1().toFixed(1)}: ${r.out.trim()}\n${lines.join('\n')}\n`);
        }
        const st = r.stats;
        const traps = st.syscallStops + st.faultStops;
        push(`apart% ${pl}`, traps ? (100 * (st.apartTraps ?? 0)) / traps : 0);
        // The hand-off's host calls in the Sentry: an epoll_wait per sleep, a futex wake per stub found asleep.
        push(`calls ${pl}`, traps ? (st.sleeps + (st.stubWakes ?? 0)) / traps : 0);
        push(`patched% ${pl}`, st.syscallStops ? (100 * (st.patchedCalls ?? 0)) / st.syscallStops : 0);
        if (pl === 'auto') {
          push('switches auto', st.placementSwitches ?? 0);
          push('lost auto', st.placementProbesLost ?? 0);
          push('skipped auto', st.placementProbesSkipped ?? 0);
        }
      }
    }
    if (o.only.includes('mt')) {
      for (const T of [1, 2, 4]) {
        const prog = [bin['getpid_mt.static'], String(T), String(o.mtIters)];
        push(`x${T} floor`, num(/calls_per_sec=([\d.]+)/, run([bin.floor_mt, ...prog]).stdout));
        push(`x${T} ptrace`, num(/calls_per_sec=([\d.]+)/, sandbox(null, prog).out));
        for (const pl of ['auto', 'apart']) push(`x${T} ${pl}`, num(/calls_per_sec=([\d.]+)/, sandbox(pl, prog).out));
      }
    }
    if (o.only.includes('patch')) {
      // Lines "NAME   MEDIAN ns (min .., max ..)": with one round each, the median is the round's figure.
      for (const l of run([bin.patch_bound, String(o.iters), '1']).stdout.split('\n')) {
        const m = /^(.*?)\s+(\d+) ns \(/.exec(l);
        if (m) push(`patch ${m[1]}`, Number(m[2]));
      }
    }
    if (o.only.includes('idle') && round < 3) {
      for (const p of ['ptrace', 'systrap']) {
        const c = await idleCpu(p, o.idleS);
        push(`idle sentry ${p}`, c.sentry);
        push(`idle stubs ${p}`, c.stubs);
      }
    }
  }
  fs.rmSync(statsFile, { force: true });
  const env = { loads, end: load1(), cpus: os.cpus().length, options: o };
  if (o.json) {
    process.stdout.write(JSON.stringify({ ...env, samples: s }, null, 2) + '\n');
    return;
  }
  const m = (k) => (s[k] ? median(s[k]) : null);
  const cell = (k, d = 0) => {
    if (!s[k]) return '-';
    const lo = Math.min(...s[k]), hi = Math.max(...s[k]);
    return `${m(k).toFixed(d)} (${lo.toFixed(d)}-${hi.toFixed(d)})`;
  };
  const ratio = (a, b, d = 2) => (m(a) !== null && m(b) ? (m(a) / m(b)).toFixed(d) : '-');
  const lines = [];
  if (s['getpid floor']) {
    const pls = ['auto', 'together', 'apart', 'unpatched'];
    const row = (name, f) => `| ${name} | ${pls.map(f).join(' | ')} |`;
    lines.push('| getpid, ns per call | C floor | ptrace | systrap auto | systrap together | systrap apart | systrap auto, unpatched |', '| --- | --- | --- | --- | --- | --- | --- |');
    lines.push(`| median (range) | ${cell('getpid floor')} | ${cell('getpid ptrace')} ${row('', (pl) => cell(`getpid ${pl}`)).slice(3)}`);
    lines.push(`| x the floor | 1.00 | ${ratio('getpid ptrace', 'getpid floor')} ${row('', (pl) => ratio(`getpid ${pl}`, 'getpid floor')).slice(3)}`);
    lines.push(`| x ptrace | | 1.00 ${row('', (pl) => ratio(`getpid ${pl}`, 'getpid ptrace')).slice(3)}`);
    lines.push(`| traps apart (%) | | ${row('', (pl) => cell(`apart% ${pl}`, 1)).slice(3)}`);
    lines.push(`| calls through a patched site (%) | | ${row('', (pl) => cell(`patched% ${pl}`, 1)).slice(3)}`);
    lines.push(`| Sentry sleeps + stub wake-ups per trap | | ${row('', (pl) => cell(`calls ${pl}`, 2)).slice(3)}`);
    lines.push('', `auto: placement switches ${cell('switches auto')}, probes lost ${cell('lost auto')}, skipped ${cell('skipped auto')}`, '');
  }
  if (s['x1 floor']) {
    lines.push('| getpid threads, calls/s | C floor (floor_mt) | ptrace | systrap auto | systrap apart | auto/ptrace | apart/ptrace |', '| --- | --- | --- | --- | --- | --- | --- |');
    for (const T of [1, 2, 4]) {
      lines.push(`| ${T} | ${cell(`x${T} floor`)} | ${cell(`x${T} ptrace`)} | ${cell(`x${T} auto`)} | ${cell(`x${T} apart`)} | ${ratio(`x${T} auto`, `x${T} ptrace`)} | ${ratio(`x${T} apart`, `x${T} ptrace`)} |`);
    }
    lines.push('');
  }
  const patchKeys = Object.keys(s).filter((k) => k.startsWith('patch '));
  if (patchKeys.length) {
    lines.push('| bench/patch_bound.c, getppid | ns per call |', '| --- | --- |');
    for (const k of patchKeys) lines.push(`| ${k.slice(6)} | ${cell(k)} |`);
    lines.push('');
  }
  if (s['idle sentry ptrace']) {
    lines.push(`| idle sandbox, ms of host CPU over ${o.idleS} s | Sentry | stubs |`, '| --- | --- | --- |');
    for (const p of ['ptrace', 'systrap']) lines.push(`| ${p} | ${cell(`idle sentry ${p}`)} | ${cell(`idle stubs ${p}`)} |`);
    lines.push('');
  }
  lines.push(`${o.rounds} interleaved rounds (idle: ${Math.min(3, o.rounds)}), ${o.iters} calls (threads: ${o.mtIters} each); load average (1 min) per round ${loads.map((x) => x.toFixed(1)).join(' ')}, at the end ${env.end.toFixed(1)}; ${env.cpus} CPUs`);
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e.stack ?? e}\n`);
  process.exit(1);
});
