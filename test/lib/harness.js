'use strict';
// harness: shared helpers for the black-box integration tests.
//
// - buildPrograms() compiles test/c/*.c once into test/build/, as NAME
//   (dynamic) and NAME.static, rebuilding only what is out of date.
// - runNative(argv, opts) / runSandbox(argv, opts) run a command on the host
//   or under `tsvisor do` and return {status, signal, stdout, stderr, ...}.
// - compare(t, argv, opts) runs both and asserts equal stdout and status.
// - needTools(t, tools) skips a test whose host tools are missing, except
//   under CI (CI=true), where .ci/run installs them and a missing one fails.
//
// Both kinds of run get the same small, fixed environment (baseEnv plus
// opts.env) so that their output can be compared byte for byte.
//
// node --test runs every .js file under test/, this one included: loaded as
// the main module it does nothing, so it shows up as one empty passing file.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const TSVISOR = path.join(ROOT, 'bin', 'tsvisor.js');
const C_DIR = path.join(ROOT, 'test', 'c');
const BUILD_DIR = path.join(ROOT, 'test', 'build');
const IN_CI = /^(1|true|yes)$/i.test(process.env.CI || '');

// DEFAULT_TIMEOUT_MS bounds every single run; TSVISOR_TEST_TIMEOUT_MS changes it.
const DEFAULT_TIMEOUT_MS = Number(process.env.TSVISOR_TEST_TIMEOUT_MS) || 60_000;

const CFLAGS = ['-O2', '-Wall', '-Werror', '-pthread'];

// baseEnv is the whole environment of the command under test, natively and
// in the sandbox (where it is passed with --env), plus opts.env.
const baseEnv = Object.freeze({
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: '/root',
  LC_ALL: 'C',
  LANG: 'C',
  TZ: 'UTC',
  TERM: 'dumb',
});

// which returns the absolute path of an executable found in PATH, or null.
function which(name) {
  if (name.includes('/')) return isExecutable(name) ? name : null;
  const dirs = (process.env.PATH || baseEnv.PATH).split(':').concat(baseEnv.PATH.split(':'));
  for (const dir of dirs) {
    const p = path.join(dir || '.', name);
    if (isExecutable(p)) return p;
  }
  return null;
}

function isExecutable(p) {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// missingTools returns the names in tools that cannot be found.
function missingTools(tools) {
  return tools.filter((tool) => !which(tool));
}

// needTools returns true if every tool is present. Otherwise it skips the
// test t and returns false, or, under CI, fails it: CI installs every tool
// the suite needs, so a missing one is a broken CI setup, never a skip.
function needTools(t, tools) {
  const missing = missingTools(tools);
  if (missing.length === 0) return true;
  const msg = `missing host tool(s): ${missing.join(', ')} (.ci/run installs them)`;
  if (IN_CI) assert.fail(`${msg}; CI must not skip`);
  t.skip(msg);
  return false;
}

// Building the C programs.

function cSources() {
  return fs
    .readdirSync(C_DIR)
    .filter((f) => f.endsWith('.c'))
    .map((f) => f.slice(0, -2))
    .sort();
}

function mtime(p) {
  try {
    return fs.statSync(p).mtimeMs;
  } catch {
    return -1;
  }
}

// stale reports whether out must be (re)built: it is missing or older than
// test/c/NAME.c or any header in test/c.
function stale(name, out) {
  const src = path.join(C_DIR, `${name}.c`);
  const headers = fs.readdirSync(C_DIR).filter((f) => f.endsWith('.h'));
  const newest = Math.max(mtime(src), ...headers.map((h) => mtime(path.join(C_DIR, h))));
  return mtime(out) <= newest;
}

// COMPILE_ALL runs in a child node process: it compiles every job
// [name, out, extraFlags] into out (atomically, through a temporary name)
// with as many gcc processes at a time as the machine has CPUs, and prints
// [{name, flags, status, stderr}] of the jobs. A synchronous spawn of it
// keeps buildPrograms synchronous for the tests that call it.
const COMPILE_ALL = `
const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const [cDir, cflags, jobs] = JSON.parse(process.argv[1]);
const results = [];
let next = 0;
function one() {
  if (next >= jobs.length) return Promise.resolve();
  const [name, out, extra] = jobs[next++];
  const tmp = out + '.tmp-' + process.pid;
  return new Promise((resolve) => {
    const gcc = cp.spawn('gcc', [...cflags, ...extra, '-o', tmp, cDir + '/' + name + '.c'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    gcc.stderr.on('data', (d) => { stderr += d; });
    gcc.on('error', (e) => { stderr += e.message; });
    gcc.on('close', (status) => {
      if (status === 0 && stderr.trim() === '') fs.renameSync(tmp, out);
      else fs.rmSync(tmp, { force: true });
      results.push({ name, flags: extra, status, stderr });
      resolve();
    });
  }).then(one);
}
const width = Math.max(1, Math.min(jobs.length, os.availableParallelism()));
Promise.all(Array.from({ length: width }, one)).then(() => process.stdout.write(JSON.stringify(results)));
`;

// compileAll compiles the jobs [name, out, extraFlags] warning-free, or throws.
function compileAll(jobs) {
  if (jobs.length === 0) return;
  const r = childProcess.spawnSync(process.execPath, ['-e', COMPILE_ALL, JSON.stringify([C_DIR, CFLAGS, jobs])], {
    encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20,
  });
  if (r.error || r.status !== 0) throw new Error(`compiling test/c: ${r.error ? r.error.message : r.stderr}`);
  for (const j of JSON.parse(r.stdout)) {
    if (j.status !== 0 || j.stderr.trim() !== '') {
      throw new Error(`gcc ${j.flags.join(' ')} ${j.name}.c failed (status ${j.status}):\n${j.stderr}`);
    }
  }
}

let built = null;

// buildPrograms compiles every test/c/*.c program, dynamic and -static, and
// returns {NAME: {dynamic: path, static: path}}. It throws if gcc is missing
// or a program does not compile warning-free. Out-of-date programs are
// compiled in parallel (one gcc per CPU): the first call in a clean tree
// compiles some 340 binaries.
function buildPrograms() {
  if (built) return built;
  if (!which('gcc')) throw new Error('gcc not found: install gcc and libc6-dev (.ci/run does)');
  fs.mkdirSync(BUILD_DIR, { recursive: true });
  const result = {};
  const jobs = [];
  for (const name of cSources()) {
    const dynamic = path.join(BUILD_DIR, name);
    const stat = path.join(BUILD_DIR, `${name}.static`);
    if (stale(name, dynamic)) jobs.push([name, dynamic, []]);
    if (stale(name, stat)) jobs.push([name, stat, ['-static']]);
    result[name] = { dynamic, static: stat };
  }
  compileAll(jobs);
  built = result;
  return result;
}

// Running commands.

function toResult(r, started) {
  const out = r.stdout || Buffer.alloc(0);
  const err = r.stderr || Buffer.alloc(0);
  return {
    status: r.status,
    signal: r.signal,
    stdout: out.toString('utf8'),
    stderr: err.toString('utf8'),
    stdoutBuf: out,
    timedOut: !!(r.error && r.error.code === 'ETIMEDOUT'),
    error: r.error || null,
    ms: Date.now() - started,
  };
}

// Native runs kept for the suite's second pass. tools/test_suite.js makes a
// fresh directory per suite run and names it in NATIVE_RUN_CACHE (no
// TSVISOR_ prefix: tests check that no such variable reaches a sandbox).
// c_native.test.js stores the native runs of each test/c program once it
// has shown them deterministic (two dynamic runs and the static one print
// the same bytes, exit 0, stderr empty); c_programs.test.js then compares
// its sandboxed runs, on both platforms, with those instead of running the
// same binary natively again. The key is the binaries' content (sha256),
// argv with the run's fresh directory as a placeholder, the environment and
// the input: a rebuilt program or another argument is another entry.
function nativeCacheFile(argv, opts) {
  const dir = process.env.NATIVE_RUN_CACHE;
  if (!dir || !opts.cacheDir) return null;
  const binHash = (a) => {
    if (a.includes(opts.cacheDir)) return a.split(opts.cacheDir).join('<dir>');
    if (!a.startsWith(`${BUILD_DIR}/`) || !fs.statSync(a, { throwIfNoEntry: false })?.isFile()) return a;
    return `sha256:${crypto.createHash('sha256').update(fs.readFileSync(a)).digest('hex')}`;
  };
  const key = JSON.stringify([argv.map(binHash), { ...baseEnv, ...(opts.env || {}) }, opts.input === undefined ? null : String(opts.input)]);
  return path.join(dir, `${crypto.createHash('sha256').update(key).digest('hex')}.json`);
}

// storeNative keeps r, a native run of argv with opts.cacheDir as its fresh
// directory, for runNative(argv, {cacheDir, cached: true}); only a clean run
// (exit 0, no signal, nothing on stderr) is kept.
function storeNative(argv, opts, r) {
  const file = nativeCacheFile(argv, opts);
  if (!file || r.status !== 0 || r.signal || r.timedOut || r.error || r.stderr !== '') return;
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify({ stdout: r.stdoutBuf.toString('base64') }));
  fs.renameSync(tmp, file);
}

// runNative runs argv on the host. opts: {cwd, env, input, timeout}, and
// {cacheDir, cached: true} to take the run stored by storeNative if any.
function runNative(argv, opts = {}) {
  const file = opts.cached ? nativeCacheFile(argv, opts) : null;
  if (file && fs.existsSync(file)) {
    const out = Buffer.from(JSON.parse(fs.readFileSync(file, 'utf8')).stdout, 'base64');
    return { status: 0, signal: null, stdout: out.toString('utf8'), stderr: '', stdoutBuf: out, timedOut: false, error: null, ms: 0, cached: true };
  }
  const started = Date.now();
  const r = childProcess.spawnSync(argv[0], argv.slice(1), {
    cwd: opts.cwd,
    env: { ...baseEnv, ...(opts.env || {}) },
    input: opts.input,
    timeout: opts.timeout || DEFAULT_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  return toResult(r, started);
}

// sandboxArgs returns the arguments of `node bin/tsvisor.js` for argv.
// opts: {cwd, env, rootfs, strace, flags: [extra flags before --]}.
function sandboxArgs(argv, opts = {}) {
  const args = [TSVISOR, 'do'];
  if (opts.rootfs) args.push('--rootfs', opts.rootfs);
  if (opts.strace) args.push('--strace');
  if (opts.cwd) args.push('--cwd', opts.cwd);
  const env = opts.rawEnv ? opts.env || {} : { ...baseEnv, ...(opts.env || {}) };
  for (const [k, v] of Object.entries(env)) args.push('--env', `${k}=${v}`);
  if (opts.flags) args.push(...opts.flags);
  args.push('--', ...argv);
  return args;
}

// sentryEnv is the environment of the tsvisor process itself (not of the
// command it runs): the caller's, without node:test's own markers.
function sentryEnv() {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  return env;
}

// runSandbox runs argv under `tsvisor do`. opts: as sandboxArgs, plus input
// and timeout. The tsvisor process itself runs in the host directory
// opts.hostCwd (default: the repository).
function runSandbox(argv, opts = {}) {
  const started = Date.now();
  const r = childProcess.spawnSync(process.execPath, sandboxArgs(argv, opts), {
    cwd: opts.hostCwd || ROOT,
    env: sentryEnv(),
    input: opts.input,
    timeout: opts.timeout || DEFAULT_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  return toResult(r, started);
}

// describe summarises a result for assertion messages.
function describe(label, r) {
  const lines = [`${label}: status=${r.status} signal=${r.signal} (${r.ms} ms)${r.timedOut ? ' TIMED OUT' : ''}`];
  if (r.error && !r.timedOut) lines.push(`  spawn error: ${r.error.message}`);
  const tail = (s) => {
    const t = s.length > 3000 ? `...${s.slice(-3000)}` : s;
    return t.replace(/^/gm, '  | ');
  };
  if (r.stderr) lines.push(`  stderr:\n${tail(r.stderr)}`);
  return lines.join('\n');
}

// compare runs argv natively and in the sandbox and asserts equal stdout
// (byte for byte) and exit status. opts: {cwd, env, setup, expectStatus,
// native: opts for runNative only (such as {cached: true}), sandbox: opts
// for runSandbox only}.
// opts.setup(), if given, is called before each run and returns the cwd,
// so that each run starts from an identical fresh directory; argv may then
// be a function of that directory. The default cwd is /.
// It returns {native, sandbox}.
function compare(t, argv, opts = {}) {
  const nativeCwd = opts.setup ? opts.setup('native') : opts.cwd || '/';
  const nativeArgv = typeof argv === 'function' ? argv(nativeCwd) : argv;
  const native = runNative(nativeArgv, { ...opts, cwd: nativeCwd, cacheDir: nativeCwd, ...(opts.native || {}) });
  assert.ok(!native.timedOut && !native.error, describe('native run failed', native));
  if (opts.expectStatus !== undefined) {
    assert.strictEqual(native.status, opts.expectStatus, describe('native run: unexpected status', native));
  }
  const sandboxCwd = opts.setup ? opts.setup('sandbox') : opts.cwd || '/';
  const sandboxArgv = typeof argv === 'function' ? argv(sandboxCwd) : argv;
  const sandbox = runSandbox(sandboxArgv, { ...opts, cwd: sandboxCwd, ...(opts.sandbox || {}) });
  const cmd = sandboxArgv.join(' ');
  const ctx = `${cmd.length > 300 ? `${cmd.slice(0, 300)}...` : cmd}\n${describe('sandbox', sandbox)}`;
  assert.ok(!sandbox.timedOut, `sandbox run timed out\n${ctx}`);
  assert.strictEqual(sandbox.stdout, native.stdout, `stdout differs from the native run\n${ctx}`);
  assert.ok(sandbox.stdoutBuf.equals(native.stdoutBuf), `stdout bytes differ\n${ctx}`);
  assert.strictEqual(sandbox.signal, native.signal, `signal differs\n${ctx}`);
  assert.strictEqual(sandbox.status, native.status, `exit status differs\n${ctx}`);
  return { native, sandbox };
}

// Temporary directories, removed when the process exits.

const tmpRoots = [];
process.on('exit', () => {
  if (process.env.TSVISOR_KEEP_TMP) return;
  for (const d of tmpRoots) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {}
  }
});

// tmpDir creates a fresh host directory for a test. Not under /tmp: inside the
// sandbox /tmp is a private tmpfs, so the sandbox could not see it there.
const TMP_BASE = path.join(ROOT, 'test', 'build', 'tmp');
function tmpDir(prefix = 'tsvisor-test-') {
  fs.mkdirSync(TMP_BASE, { recursive: true });
  const d = fs.mkdtempSync(path.join(TMP_BASE, prefix));
  tmpRoots.push(d);
  return d;
}

// writeTree creates files from {relative path: content}; a value that is an
// object {symlink: target} makes a symbolic link, {dir: true} a directory,
// {content, mode, mtime} a file with that mode and mtime (seconds).
function writeTree(dir, tree) {
  for (const [rel, spec] of Object.entries(tree)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    if (spec && typeof spec === 'object' && !Buffer.isBuffer(spec)) {
      if (spec.symlink !== undefined) {
        fs.symlinkSync(spec.symlink, p);
        continue;
      }
      if (spec.dir) {
        fs.mkdirSync(p, { recursive: true });
        if (spec.mode !== undefined) fs.chmodSync(p, spec.mode);
        continue;
      }
      fs.writeFileSync(p, spec.content);
      if (spec.mode !== undefined) fs.chmodSync(p, spec.mode);
      if (spec.mtime !== undefined) fs.utimesSync(p, spec.mtime, spec.mtime);
      continue;
    }
    fs.writeFileSync(p, spec);
  }
}

// busyboxBin returns a directory with one symlink per busybox applet (made
// once per process), to be the only entry of PATH for busybox scripts.
let bbDir = null;
function busyboxBin() {
  if (bbDir) return bbDir;
  const busybox = '/bin/busybox';
  const d = tmpDir('tsvisor-busybox-');
  const r = childProcess.spawnSync(busybox, ['--install', '-s', d], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`busybox --install failed: ${r.stderr}`);
  bbDir = d;
  return d;
}

/**
 * The platform a sandbox started by this test runs on: what TSVISOR_PLATFORM
 * names (the suite names it in both passes), else the sandbox's default,
 * systrap, where the host can run it.
 */
function platformUnderTest() {
  const v = process.env.TSVISOR_PLATFORM;
  if (v === 'ptrace' || v === 'systrap') return v;
  const { systrapSupported } = require(path.join(ROOT, 'dist', 'platform', 'systrap', 'platform.js'));
  return systrapSupported() === null ? 'systrap' : 'ptrace';
}

module.exports = {
  ROOT,
  platformUnderTest,
  TSVISOR,
  BUILD_DIR,
  IN_CI,
  DEFAULT_TIMEOUT_MS,
  baseEnv,
  which,
  missingTools,
  needTools,
  buildPrograms,
  runNative,
  storeNative,
  runSandbox,
  sandboxArgs,
  sentryEnv,
  describe,
  compare,
  tmpDir,
  writeTree,
  busyboxBin,
};
