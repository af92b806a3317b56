#!/usr/bin/env node
'use strict';
// bench/threads.js: threads and runtimes in the sandbox, against native and
// the multi-threaded ptrace floor (bench/floor_mt.c).
//
//   node bench/threads.js [--rounds N] [--only NAME,...] [--tsvisor PATH]
//
// Every round runs each case natively, under the floor where there is one,
// and in the sandbox, one after the other (interleaved, so that the noise of
// a shared machine spreads over all three); the table gives medians.
//   getpid xT     syscall(SYS_getpid) in T = 1, 2, 4 threads at once
//                 (getpid_mt.c): total calls per second.
//   cpu x2        two threads each summing a 64 MiB array 20 times
//                 (cpu_mt.c): the compute time the program measures around
//                 its loop (start-up, page faults and the freeing of the
//                 arrays excluded), the time to the last join (freeing
//                 included), and the wall time of the whole run.
//   futex pp      two threads handing a turn over through one futex word
//                 (futex_pp.c): round trips per second.
//   pipe pp       two processes passing a byte over two pipes (pingpong.c):
//                 round trips per second.
//   thread create+join  pthread_create and pthread_join of a thread that
//                 does nothing, one after the other (thread_cj.c): time per
//                 pair, measured inside the program.
//   start-up      wall time of `python3 -c pass`, `node -e 0`,
//                 `java -version`, and gcc -O2 -c of a generated 2000-line C
//                 file.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const BUILD = path.join(__dirname, 'build');

function parseArgs(argv) {
  const o = { rounds: 5, only: null, tsvisor: path.join(__dirname, '..', 'bin', 'tsvisor.js') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--rounds') o.rounds = Number(argv[++i]);
    else if (argv[i] === '--only') o.only = argv[++i].split(',');
    else if (argv[i] === '--tsvisor') o.tsvisor = path.resolve(argv[++i]);
    else {
      process.stderr.write(`bench/threads: unknown argument ${argv[i]}\n`);
      process.exit(2);
    }
  }
  return o;
}

function build() {
  fs.mkdirSync(BUILD, { recursive: true });
  const targets = [
    ['floor_mt.c', 'floor_mt', []],
    ['getpid_mt.c', 'getpid_mt.static', ['-static', '-pthread']],
    ['cpu_mt.c', 'cpu_mt.static', ['-static', '-pthread']],
    ['futex_pp.c', 'futex_pp.static', ['-static', '-pthread']],
    ['pingpong.c', 'pingpong.static', ['-static']],
    ['thread_cj.c', 'thread_cj.static', ['-static', '-pthread']],
  ];
  for (const [src, out, flags] of targets) {
    const s = path.join(__dirname, src);
    const o = path.join(BUILD, out);
    if (fs.existsSync(o) && fs.statSync(o).mtimeMs > fs.statSync(s).mtimeMs) continue;
    const r = childProcess.spawnSync('gcc', ['-O2', '-Wall', ...flags, '-o', o, s], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcc ${src}: ${r.stderr || r.error}`);
  }
  // A 2000-line C file for the compile start-up case.
  const c = path.join(BUILD, 'gen2000.c');
  if (!fs.existsSync(c)) {
    const lines = ['#include <stdio.h>', '#include <string.h>'];
    for (let i = 0; lines.length < 1990; i++) {
      const call = i ? `f${i - 1}(x - 1)` : '1';
      lines.push(`static int f${i}(int x) {`, `  int y = x * ${i + 3} + (int)strlen("s${i}");`, `  if (y % 7 == ${i % 7}) y += ${call};`, '  return y ^ (x << 2);', '}');
    }
    lines.push('int main(void) {', '  int s = 0;', '  for (int i = 0; i < 10; i++) s += f10(i);', '  printf("%d\\n", s);', '  return 0;', '}');
    fs.writeFileSync(c, `${lines.join('\n')}\n`);
  }
  return (name) => path.join(BUILD, name);
}

function run(argv, timeoutMs = 600_000) {
  const t0 = process.hrtime.bigint();
  const r = childProcess.spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 16 << 20,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error || r.status !== 0) {
    const tail = ((r.stderr || '') + (r.stdout || '')).trim().split('\n').slice(-1)[0] || '';
    throw new Error(`${argv.slice(0, 4).join(' ')}: ${r.error ? r.error.message : `status ${r.status} ${r.signal || ''}`} ${tail}`);
  }
  return { ms, out: r.stdout + r.stderr };
}

function num(out, key) {
  const m = new RegExp(`${key}=([\\d.]+)`).exec(out);
  if (!m) throw new Error(`no ${key} in: ${out.slice(0, 200)}`);
  return Number(m[1]);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const bin = build();
  const sb = (argv) => [process.execPath, o.tsvisor, 'do', '--cwd', '/tmp', '--', ...argv];
  const floor = (argv) => [bin('floor_mt'), ...argv];
  const gen = bin('gen2000.c');
  // Each case: name, unit, and for each mode a function giving one sample.
  const cases = [];
  for (const T of [1, 2, 4]) {
    const g = (iters) => [bin('getpid_mt.static'), String(T), String(iters)];
    cases.push({
      name: `getpid x${T}`, unit: 'calls/s', higher: true,
      native: () => num(run(g(500_000)).out, 'calls_per_sec'),
      floor: () => num(run(floor(g(40_000))).out, 'calls_per_sec'),
      sandbox: () => num(run(sb(g(20_000))).out, 'calls_per_sec'),
    });
  }
  const cpu = [bin('cpu_mt.static'), '2', '64', '20'];
  const lastWall = {};
  const lastJoined = {};
  cases.push({
    name: 'cpu x2 compute', unit: 'ms',
    native: () => { const r = run(cpu); lastWall.native = r.ms; lastJoined.native = num(r.out, 'joined_ms'); return num(r.out, 'compute_ms'); },
    sandbox: () => { const r = run(sb(cpu)); lastWall.sandbox = r.ms; lastJoined.sandbox = num(r.out, 'joined_ms'); return num(r.out, 'compute_ms'); },
  });
  cases.push({ name: 'cpu x2 joined', unit: 'ms', native: () => lastJoined.native, sandbox: () => lastJoined.sandbox });
  cases.push({ name: 'cpu x2 wall', unit: 'ms', native: () => lastWall.native, sandbox: () => lastWall.sandbox });
  const perSec = (out) => 1e9 / num(out, 'ns_per_iter');
  cases.push({
    name: 'futex pp', unit: 'round trips/s', higher: true,
    native: () => perSec(run([bin('futex_pp.static'), '20000']).out),
    floor: () => perSec(run(floor([bin('futex_pp.static'), '2000'])).out),
    sandbox: () => perSec(run(sb([bin('futex_pp.static'), '2000'])).out),
  });
  cases.push({
    name: 'pipe pp', unit: 'round trips/s', higher: true,
    native: () => perSec(run([bin('pingpong.static'), '20000']).out),
    floor: () => perSec(run(floor([bin('pingpong.static'), '2000'])).out),
    sandbox: () => perSec(run(sb([bin('pingpong.static'), '2000'])).out),
  });
  cases.push({
    name: 'thread create+join', unit: 'us',
    native: () => num(run([bin('thread_cj.static'), '20000']).out, 'us_per_create_join'),
    sandbox: () => num(run(sb([bin('thread_cj.static'), '500'])).out, 'us_per_create_join'),
  });
  const startups = [
    ['python3 -c pass', ['/usr/bin/python3', '-c', 'pass']],
    ['node -e 0', ['/usr/bin/node', '-e', '0']],
    ['java -version', ['/usr/bin/java', '-version']],
    ['gcc -O2 -c 2000 lines', ['/usr/bin/gcc', '-O2', '-c', '-o', '/tmp/gen2000.o', gen]],
  ];
  for (const [name, argv] of startups) {
    if (!fs.existsSync(argv[0])) continue;
    cases.push({ name, unit: 'ms', native: () => run(argv).ms, sandbox: () => run(sb(argv)).ms });
  }
  const chosen = o.only ? cases.filter((c) => o.only.some((w) => c.name.startsWith(w))) : cases;
  const samples = new Map(chosen.map((c) => [c.name, { native: [], floor: [], sandbox: [] }]));
  for (let round = 0; round < o.rounds; round++) {
    for (const c of chosen) {
      for (const mode of ['native', 'floor', 'sandbox']) {
        if (!c[mode]) continue;
        try {
          const v = c[mode]();
          samples.get(c.name)[mode].push(v);
          process.stderr.write(`round ${round + 1} ${c.name} ${mode}: ${v.toFixed(1)}\n`);
        } catch (e) {
          process.stderr.write(`round ${round + 1} ${c.name} ${mode}: ERROR ${e.message}\n`);
        }
      }
    }
  }
  const f = (x) => (x === undefined ? '-' : x >= 100 ? x.toFixed(0) : x.toFixed(2));
  const rows = ['| case | unit | native | floor | sandbox | sandbox/native | sandbox/floor |', '| --- | --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const c of chosen) {
    const s = samples.get(c.name);
    const m = (k) => (s[k].length ? median(s[k]) : undefined);
    const [n, fl, sx] = [m('native'), m('floor'), m('sandbox')];
    const r = (a, b) => (a === undefined || b === undefined ? '-' : (a / b).toFixed(c.higher ? 3 : 2));
    rows.push(`| ${c.name} | ${c.unit} | ${f(n)} | ${f(fl)} | ${f(sx)} | ${r(sx, n)} | ${r(sx, fl)} |`);
  }
  process.stdout.write(`${rows.join('\n')}\n\nmedians of ${o.rounds} interleaved rounds; ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} at the end\n`);
}

main();
