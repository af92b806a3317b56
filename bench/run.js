#!/usr/bin/env node
'use strict';
// bench/run.js: how much the sandbox costs, against native and against the
// ptrace floor (the smallest possible PTRACE_SYSEMU tracer, bench/floor.c).
//
//   node bench/run.js [--reps N] [--native-iters N] [--floor-iters N]
//                     [--sandbox-iters N] [--true-runs N] [--loop N]
//                     [--loop-reps N] [--timeout SECONDS] [--json]
//                     [--pingpong-iters N] [--tsvisor PATH] [--skip-sandbox]
//
// Rows (medians over the repetitions):
//   getpid      ns per syscall(SYS_getpid), as bench/getpid.c measures its
//               own loop with clock_gettime: natively, under the floor, and
//               in the sandbox (`tsvisor do`).
//   /bin/true   wall time of one run: spawned natively, and `tsvisor do
//               /bin/true` (which includes starting node).
//   node -e 0   wall time of starting node, the part of the above that any
//               Node sandbox pays.
//   sh loop     wall time of `sh -c` running /bin/true 500 times (fork+exec).
//   pingpong    ns per round trip of one byte between two processes over
//               two pipes (bench/pingpong.c): 4 system calls and 2 wake-ups
//               of a blocked reader per round trip.
// --tsvisor PATH measures another build (bin/tsvisor.js of another tree),
// so that two builds can be measured interleaved.
// A sandbox that fails does not stop the benchmark: its cells say "error"
// and the reason is printed under the table.

const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const BUILD = path.join(__dirname, 'build');
const TSVISOR = path.join(ROOT, 'bin', 'tsvisor.js');

function parseArgs(argv) {
  const opts = {
    reps: 5,
    nativeIters: 2_000_000,
    floorIters: 100_000,
    sandboxIters: 20_000,
    trueRuns: 10,
    loop: 500,
    loopReps: 3,
    timeout: 300,
    json: false,
    skipSandbox: false,
    pingpongIters: 5000,
    tsvisor: TSVISOR,
  };
  const numeric = {
    '--reps': 'reps',
    '--native-iters': 'nativeIters',
    '--floor-iters': 'floorIters',
    '--sandbox-iters': 'sandboxIters',
    '--true-runs': 'trueRuns',
    '--loop': 'loop',
    '--loop-reps': 'loopReps',
    '--timeout': 'timeout',
    '--pingpong-iters': 'pingpongIters',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--json') opts.json = true;
    else if (a === '--skip-sandbox') opts.skipSandbox = true;
    else if (a === '--tsvisor' && i + 1 < argv.length) opts.tsvisor = path.resolve(argv[++i]);
    else if (a === '-h' || a === '--help') {
      const doc = fs.readFileSync(__filename, 'utf8').split('\n').slice(2, 30);
      process.stdout.write(doc.map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
      process.exit(0);
    } else if (numeric[a] && i + 1 < argv.length && /^\d+$/.test(argv[i + 1]) && Number(argv[i + 1]) > 0) {
      opts[numeric[a]] = Number(argv[++i]);
    } else {
      process.stderr.write(`bench: unknown or invalid argument ${a} (try --help)\n`);
      process.exit(2);
    }
  }
  return opts;
}

function log(msg) {
  process.stderr.write(`bench: ${msg}\n`);
}

// build compiles the benchmark programs into bench/build/ when out of date.
function build() {
  fs.mkdirSync(BUILD, { recursive: true });
  const targets = [
    ['getpid.c', 'getpid.static', ['-static']],
    ['getpid.c', 'getpid', []],
    ['floor.c', 'floor', []],
    ['pingpong.c', 'pingpong.static', ['-static']],
  ];
  for (const [src, out, flags] of targets) {
    const srcPath = path.join(__dirname, src);
    const outPath = path.join(BUILD, out);
    if (fs.existsSync(outPath) && fs.statSync(outPath).mtimeMs > fs.statSync(srcPath).mtimeMs) continue;
    const r = childProcess.spawnSync('gcc', ['-O2', '-Wall', ...flags, '-o', outPath, srcPath], { encoding: 'utf8' });
    if (r.error) throw new Error(`gcc: ${r.error.message} (install gcc and libc6-dev)`);
    if (r.status !== 0) throw new Error(`gcc ${src} failed:\n${r.stderr}`);
  }
  // Prefer the static build: fewer system calls before the loop, and the
  // simplest thing for a young sandbox to load.
  const getpid = fs.existsSync(path.join(BUILD, 'getpid.static'))
    ? path.join(BUILD, 'getpid.static')
    : path.join(BUILD, 'getpid');
  return { getpid, floor: path.join(BUILD, 'floor'), pingpong: path.join(BUILD, 'pingpong.static') };
}

// run runs argv and returns {ms, stdout, stderr}; it throws with a short
// reason when the command fails or times out.
function run(argv, timeoutSec) {
  const t0 = process.hrtime.bigint();
  const r = childProcess.spawnSync(argv[0], argv.slice(1), {
    encoding: 'utf8',
    timeout: timeoutSec * 1000,
    killSignal: 'SIGKILL',
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.error) {
    if (r.error.code === 'ETIMEDOUT') throw new Error(`timed out after ${timeoutSec} s`);
    throw new Error(r.error.message);
  }
  if (r.status !== 0) {
    const why = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    const line = (r.stderr || '').trim().split('\n').filter(Boolean).slice(-1)[0] || '';
    throw new Error(`${why}${line ? `: ${line}` : ''}`);
  }
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

let tsvisorPath = TSVISOR;

function sandboxArgv(argv) {
  return [process.execPath, tsvisorPath, 'do', '--', ...argv];
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// measure calls fn reps times and returns {median, samples} or {error}.
function measure(label, reps, fn) {
  const samples = [];
  try {
    for (let i = 0; i < reps; i++) samples.push(fn());
  } catch (e) {
    log(`${label}: ${e.message}`);
    return { error: e.message };
  }
  const m = median(samples);
  log(`${label}: median ${fmt(m)} of [${samples.map(fmt).join(', ')}]`);
  return { median: m, samples };
}

function nsPerIter(stdout) {
  const m = /ns_per_iter=([\d.]+)/.exec(stdout);
  if (!m) throw new Error(`no ns_per_iter in output: ${stdout.trim().slice(0, 200)}`);
  return Number(m[1]);
}

function fmt(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return '-';
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function ratio(a, b) {
  if (!a || !b || a.error || b.error || a.median === undefined || b.median === undefined) return undefined;
  return a.median / b.median;
}

function cell(m) {
  if (!m) return '-';
  if (m.error) return 'error';
  return fmt(m.median);
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const bins = build();
  tsvisorPath = opts.tsvisor;
  const sandboxReady = fs.existsSync(path.join(path.dirname(opts.tsvisor), '..', 'dist', 'cli', 'main.js'));
  const skipReason = opts.skipSandbox
    ? 'skipped (--skip-sandbox)'
    : sandboxReady ? null : 'dist/cli/main.js missing: run npm run build';
  const sandbox = (label, reps, fn) => (skipReason ? { error: skipReason } : measure(label, reps, fn));
  const T = opts.timeout;
  const rows = [];

  log(`getpid loop: native ${opts.nativeIters}, floor ${opts.floorIters}, sandbox ${opts.sandboxIters} iterations, ${opts.reps} repetitions`);
  const gNative = measure('getpid native', opts.reps, () => nsPerIter(run([bins.getpid, String(opts.nativeIters)], T).stdout));
  const gFloor = measure('getpid floor', opts.reps, () =>
    nsPerIter(run([bins.floor, bins.getpid, String(opts.floorIters)], T).stdout));
  const gSandbox = sandbox('getpid sandbox', opts.reps, () =>
    nsPerIter(run(sandboxArgv([bins.getpid, String(opts.sandboxIters)]), T).stdout));
  rows.push({ what: 'getpid (ns/syscall)', native: gNative, floor: gFloor, sandbox: gSandbox });

  const trueNative = measure('/bin/true native', opts.trueRuns, () => run(['/bin/true'], T).ms);
  const trueSandbox = sandbox('/bin/true sandbox', opts.trueRuns, () => run(sandboxArgv(['/bin/true']), T).ms);
  rows.push({ what: '/bin/true wall (ms)', native: trueNative, sandbox: trueSandbox });
  const nodeStart = measure('node -e 0', opts.trueRuns, () => run([process.execPath, '-e', '0'], T).ms);
  rows.push({ what: 'node -e 0 wall (ms)', native: nodeStart });

  const loop = `i=0; while [ $i -lt ${opts.loop} ]; do /bin/true; i=$((i+1)); done`;
  const loopNative = measure('sh loop native', opts.loopReps, () => run(['/bin/sh', '-c', loop], T).ms);
  const loopSandbox = sandbox('sh loop sandbox', opts.loopReps, () => run(sandboxArgv(['/bin/sh', '-c', loop]), T).ms);
  rows.push({ what: `sh: ${opts.loop} fork+exec (ms)`, native: loopNative, sandbox: loopSandbox });

  const ppNative = measure('pingpong native', opts.reps, () => nsPerIter(run([bins.pingpong, String(opts.pingpongIters * 10)], T).stdout));
  const ppSandbox = sandbox('pingpong sandbox', opts.reps, () =>
    nsPerIter(run(sandboxArgv([bins.pingpong, String(opts.pingpongIters)]), T).stdout));
  rows.push({ what: 'pipe ping-pong (ns/round trip)', native: ppNative, sandbox: ppSandbox });

  if (opts.json) {
    const plain = rows.map((r) => ({
      what: r.what,
      native: r.native ?? null,
      floor: r.floor ?? null,
      sandbox: r.sandbox ?? null,
      sandbox_over_native: ratio(r.sandbox, r.native) ?? null,
      sandbox_over_floor: ratio(r.sandbox, r.floor) ?? null,
      floor_over_native: ratio(r.floor, r.native) ?? null,
    }));
    process.stdout.write(JSON.stringify({ options: opts, rows: plain }, null, 2) + '\n');
    return;
  }

  const header = ['what', 'native', 'floor', 'sandbox', 'sandbox/native', 'sandbox/floor', 'floor/native'];
  const table = rows.map((r) => [
    r.what,
    cell(r.native),
    cell(r.floor),
    cell(r.sandbox),
    fmt(ratio(r.sandbox, r.native)),
    fmt(ratio(r.sandbox, r.floor)),
    fmt(ratio(r.floor, r.native)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
  const line = (cols) => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...table.map(line)];
  const errors = [];
  for (const r of rows) {
    for (const col of ['native', 'floor', 'sandbox']) {
      if (r[col] && r[col].error) errors.push(`${r.what}, ${col}: ${r[col].error}`);
    }
  }
  if (errors.length) out.push('', 'errors:', ...errors.map((e) => `  ${e}`));
  out.push('', `medians of ${opts.reps} runs (getpid), ${opts.trueRuns} runs (/bin/true, node), ${opts.loopReps} runs (sh loop), ${opts.reps} runs (ping-pong)`);
  process.stdout.write(out.join('\n') + '\n');
}

main();
