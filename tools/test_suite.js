#!/usr/bin/env node
'use strict';
// The default suite (`npm test`, after the build and the dead-code check),
// on both platforms (issue 13): every test file (test/unit, test/integration)
// on ptrace, and every test/integration file that runs a sandboxed program
// again with TSVISOR_PLATFORM=systrap (the first pass sets
// TSVISOR_PLATFORM=ptrace: systrap is the default). Where the host cannot run systrap the
// second pass says why and is left out.
//
// Work done once for both passes: the C programs of test/c are compiled
// first (one gcc per CPU), and the native runs that c_native.test.js shows
// deterministic are kept in a directory of this run (NATIVE_RUN_CACHE,
// test/lib/harness.js) for c_programs.test.js on both platforms. Files that
// run no sandboxed program, or name their platform in every run, run once
// (SYSTRAP_ONCE, each with its reason; test/unit/suite_lists.test.js checks
// that list against the files).
//
// Two test files run at a time (--jobs N to change it; --jobs 1 is the old
// one-file-at-a-time order), with two rules: a file never runs beside
// itself (its ptrace and systrap passes take turns, so a fixed name or port
// of a file never meets itself), and the ALONE files run with nothing
// beside them. Each file's TAP output is printed whole when it ends, then a
// summary of every file's time.
//
// Usage: node tools/test_suite.js [--jobs N] [--platform ptrace|systrap] [FILE...]
// (FILE: paths of test files; default: all of them).

const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');

// Files of test/integration run on ptrace only, and why.
const SYSTRAP_ONCE = Object.freeze({
  'c_native.test.js': { runs: 'native', why: 'the C programs natively, without a sandbox (their runs are kept for c_programs.test.js on both platforms)' },
  'systrap.test.js': { runs: 'own-platform', why: 'every sandbox it runs names its platform with --platform (systrap, and both for the round-trip comparison)' },
  'gofer_cache.test.js': { runs: 'native', why: 'the Gofer and its client in the test process, no sandboxed program' },
  'gofer_open.test.js': { runs: 'native', why: 'speaks to the Gofer directly as a compromised Sentry would, no sandboxed program' },
  'gofer_watch.test.js': { runs: 'native', why: 'speaks to the Gofer directly as a compromised Sentry would, no sandboxed program' },
});
// test/unit runs on ptrace only: no unit test runs a sandboxed program or reads TSVISOR_PLATFORM (suite_lists.test.js checks).

// Files that run with no other file beside them, and why.
const ALONE = Object.freeze({
  'docker.test.js': 'a dockerd of its own (bridge, cgroup parent, mounts under its data root) and a CPU-heavy image build',
  'docker_net.test.js': 'a dockerd of its own with user-defined networks and fixed host ports (18081-18091)',
  'oci.test.js': 'host cgroups of its containers (linux.resources), namespaces joined by path',
  'oci_pod_limits.test.js': 'the pod containers\' host cgroups and the OOM kills the host records in them',
  'memcharge.test.js': 'a native run in a host memory cgroup of 64 MiB',
  'cpupolicy.test.js': 'where the CPU policy puts threads follows the CPU time they get: another file\'s load would change what it sees',
  'preempt.test.js': 'preemption of compute-bound threads: another file\'s load changes how often it happens',
  'stopcount.test.js': 'counts the platform\'s round trips per system call',
  'pause.test.js': 'pauses compute-bound programs and reads their progress',
  'hostnice.test.js': 'reads the host threads\' nice values while they run',
});

// Seconds each file took on ptrace (CI log of 2026-12-03, 1 file at a time):
// the longest start first so that the last ones to end are short.
const LONG = { 'c_programs.test.js': 246, 'docker_net.test.js': 62, 'docker.test.js': 55, 'admin_calls.test.js': 54, 'oci.test.js': 50,
  'nat.test.js': 43, 'hostnotify.test.js': 38, 'oci_pod_pause.test.js': 37, 'gofer.test.js': 33, 'hostrw.test.js': 28, 'hostnet.test.js': 28,
  'runtimes_threads.test.js': 28, 'hostmaps.test.js': 26, 'memedges.test.js': 25, 'nat6.test.js': 22, 'systrap.test.js': 21 };

function testFiles(dir) {
  return fs.readdirSync(path.join(ROOT, 'test', dir)).filter((f) => f.endsWith('.test.js')).sort().map((f) => `test/${dir}/${f}`);
}

/** The jobs [{file, platform}] of both passes; why the systrap pass is left out, if it is. */
function plan(platforms, only) {
  const jobs = [];
  const keep = (f) => only.length === 0 || only.some((o) => path.resolve(ROOT, o) === path.resolve(ROOT, f));
  let note = null;
  if (platforms.includes('ptrace')) {
    for (const file of [...testFiles('unit'), ...testFiles('integration')]) if (keep(file)) jobs.push({ file, platform: 'ptrace' });
  }
  if (platforms.includes('systrap')) {
    const { systrapSupported } = require(path.join(ROOT, 'dist', 'platform', 'systrap', 'platform.js'));
    note = systrapSupported();
    if (note === null) {
      for (const file of testFiles('integration')) {
        if (!SYSTRAP_ONCE[path.basename(file)] && keep(file)) jobs.push({ file, platform: 'systrap' });
      }
    }
  }
  // c_native first (c_programs waits for its kept runs), then the longest.
  const weight = (j) => (j.file.endsWith('/c_native.test.js') ? 1e9 : LONG[path.basename(j.file)] ?? fs.statSync(path.join(ROOT, j.file)).size / 2000);
  jobs.sort((a, b) => weight(b) - weight(a) || (a.platform === 'ptrace' ? -1 : 1));
  return { jobs, note };
}

function jobEnv(platform, cache) {
  const env = { ...process.env, NATIVE_RUN_CACHE: cache };
  delete env.TSVISOR_SYSTRAP_SUITE;
  // Named in both passes: systrap is the sandbox's default, so the ptrace pass must ask for ptrace.
  env.TSVISOR_PLATFORM = platform;
  return env;
}

/** Runs one file (its node --test process in children); resolves {code, out, ms, counts}. */
function runJob(job, cache, children) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = childProcess.spawn(process.execPath, ['--test', '--test-reporter=tap', job.file], {
      cwd: ROOT, env: jobEnv(job.platform, cache), stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.on('close', () => children.delete(child));
    const chunks = [];
    child.stdout.on('data', (d) => chunks.push(d));
    child.stderr.on('data', (d) => chunks.push(d));
    child.on('close', (code, signal) => {
      const out = Buffer.concat(chunks).toString('utf8');
      const counts = {};
      for (const k of ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo']) {
        const m = new RegExp(`^# ${k} (\\d+)$`, 'm').exec(out);
        counts[k] = m ? Number(m[1]) : 0;
      }
      resolve({ code: code ?? (signal ? 1 : 0), out, ms: Date.now() - started, counts });
    });
  });
}

async function main() {
  const args = process.argv.slice(2);
  let jobsWide = 2;
  let platforms = ['ptrace', 'systrap'];
  const only = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--jobs') jobsWide = Math.max(1, Number(args[++i]) || 1);
    else if (args[i] === '--platform') platforms = [args[++i]];
    else only.push(args[i]);
  }
  const { jobs, note } = plan(platforms, only);
  if (note !== null) console.log(`# systrap pass skipped: ${note}`);
  const once = Object.entries(SYSTRAP_ONCE).map(([f, s]) => `${f} (${s.why})`);
  if (platforms.includes('systrap') && note === null) console.log(`# on ptrace only: test/unit, ${once.join('; ')}`);

  const started = Date.now();
  console.log(`# compiling test/c (${os.availableParallelism()} at a time)`);
  require(path.join(ROOT, 'test', 'lib', 'harness.js')).buildPrograms();
  console.log(`# compiled in ${((Date.now() - started) / 1000).toFixed(1)} s; ${jobs.length} files, ${jobsWide} at a time`);
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'native-runs-'));
  // Stopped, the suite stops its files' runs (they clean up after themselves on SIGTERM) and removes the kept runs.
  const children = new Set();
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, () => {
      for (const c of children) c.kill('SIGTERM');
      fs.rmSync(cache, { recursive: true, force: true });
      process.exit(130);
    });
  }
  const pending = [...jobs];
  const running = new Set();
  const done = [];
  let cNativeDone = !jobs.some((j) => j.file.endsWith('/c_native.test.js'));
  const eligible = (j) => {
    if ([...running].some((r) => r.file === j.file || ALONE[path.basename(r.file)])) return false;
    if (ALONE[path.basename(j.file)] && running.size > 0) return false;
    return cNativeDone || !j.file.endsWith('/c_programs.test.js');
  };
  await new Promise((resolveAll) => {
    const pump = () => {
      if (pending.length === 0 && running.size === 0) return resolveAll();
      while (running.size < jobsWide) {
        const i = pending.findIndex(eligible);
        if (i < 0) break;
        const [job] = pending.splice(i, 1);
        running.add(job);
        runJob(job, cache, children).then((r) => {
          running.delete(job);
          if (job.file.endsWith('/c_native.test.js')) cNativeDone = true;
          done.push({ ...job, ...r });
          console.log(`# ---- ${job.file} on ${job.platform}: ${r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`}, ${(r.ms / 1000).toFixed(1)} s`);
          process.stdout.write(r.out.endsWith('\n') ? r.out : `${r.out}\n`);
          pump();
        });
      }
    };
    pump();
  });
  fs.rmSync(cache, { recursive: true, force: true });

  const wall = (Date.now() - started) / 1000;
  console.log(`# ==== every file (seconds, tests, pass, fail, skipped), longest first; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  for (const d of [...done].sort((a, b) => b.ms - a.ms)) {
    const c = d.counts;
    console.log(`# ${(d.ms / 1000).toFixed(1).padStart(7)} ${String(c.tests).padStart(4)} ${String(c.pass).padStart(4)} ${String(c.fail).padStart(3)} ${String(c.skipped).padStart(3)} ${d.platform.padEnd(7)} ${d.file}${d.code === 0 ? '' : ' FAILED'}`);
  }
  let failed = 0;
  for (const p of platforms) {
    const mine = done.filter((d) => d.platform === p);
    if (mine.length === 0) continue;
    const sum = (k) => mine.reduce((n, d) => n + d.counts[k], 0);
    const secs = mine.reduce((n, d) => n + d.ms, 0) / 1000;
    console.log(`# ${p}: ${mine.length} files, ${sum('tests')} tests, ${sum('pass')} pass, ${sum('fail')} fail, ${sum('cancelled')} cancelled, ${sum('skipped')} skipped; ${secs.toFixed(0)} s of file time`);
    failed += mine.filter((d) => d.code !== 0).length;
  }
  console.log(`# wall ${wall.toFixed(0)} s (${jobsWide} files at a time); ${failed === 0 ? 'all files passed' : `${failed} file(s) FAILED`}`);
  process.exit(failed === 0 ? 0 : 1);
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

module.exports = { SYSTRAP_ONCE, ALONE, testFiles };
