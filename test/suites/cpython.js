#!/usr/bin/env node
'use strict';
// cpython.js [MODULE...]: CPython's regression tests (Debian's
// libpython3.11-testsuite, installed here when missing), one module at a
// time, natively and under `tsvisor do`, each run with a timeout. Prints the
// comparison as Markdown (the section of docs/SUITES.md). test/suites/pyrun.py
// runs one module and reports each case as it ends.
//
// Environment: SUITE_JOBS (runs at once, default 2), SUITE_TIMEOUT_S (per
// module run, default 600), SUITE_JSON (write the raw results there).

const fs = require('node:fs');
const path = require('node:path');
const childProcess = require('node:child_process');
const { run, pool, compareRuns, markdown } = require('./common');
const h = require('../lib/harness');

const PYTHON = '/usr/bin/python3.11';
const TESTDIR = '/usr/lib/python3.11/test';
const DRIVER = path.join(__dirname, 'pyrun.py');

// The modules that exercise the kernel interface (files, processes, signals,
// time, memory, terminals) plus a few pure ones as a baseline.
const MODULES = [
  'test_os', 'test_posix', 'test_signal', 'test_subprocess', 'test_fcntl', 'test_select', 'test_poll',
  'test_time', 'test_shutil', 'test_tempfile', 'test_pathlib', 'test_io', 'test_fileio', 'test_mmap',
  'test_resource', 'test_pty', 'test_file', 'test_stat', 'test_glob', 'test_genericpath', 'test_posixpath',
  'test_zipfile', 'test_tarfile', 'test_json', 'test_re', 'test_epoll', 'test_selectors', 'test_fileinput',
  'test_filecmp', 'test_pwd', 'test_grp', 'test_errno', 'test_wait3', 'test_wait4', 'test_fork1',
  'test_getpass', 'test_utf8source', 'test_struct', 'test_bz2', 'test_gzip',
  'test_zlib', 'test_lzma', 'test_csv', 'test_datetime', 'test_dbm', 'test_dbm_dumb', 'test_shelve', 'test_uuid',
  'test_random', 'test_hashlib', 'test_platform', 'test_sys', 'test_cmd_line', 'test_faulthandler',
  // Threads, processes and local IPC (issue 9): the runtimes' own tests.
  'test_threading', 'test_thread', 'test_queue', 'test_concurrent_futures', 'test_socket', 'test_asyncio',
  'test_multiprocessing_fork',
];

// Cases left out: the first two set the host's clock when run natively;
// the VSOCK stream test (a class: all its cases) waits forever natively in
// accept on a VM whose host end does not connect back (Firecracker);
// test_drain_raises waits forever, without IP networking (the sandbox has
// none yet), for an address its server thread dies before giving.
const EXCLUDE = [
  'test.test_time.TimeTestCase.test_clock_settime',
  'test.test_time.TimeTestCase.test_monotonic_settime',
  'test.test_socket.ThreadedVSOCKSocketStreamTest',
  'test.test_asyncio.test_streams.StreamTests.test_drain_raises',
];

// Cases left out of the sandboxed run only while the sandbox has no AF_INET
// sockets (probed: the network issue brings them), each with its reason.
const NO_INET_EXCLUDE = {
  // Its listener child dies on AF_INET, so the test errors without joining
  // its other (daemon) child, which waits for ever on a pipe the failed test
  // still holds. That child keeps its inherited copy of the resource
  // tracker's pipe open, so tearDownModule's stop of the tracker waits for
  // ever and the module never ends. Natively the same happens when
  // socket(AF_INET) fails.
  'test.test_multiprocessing_fork.WithProcessesTestPicklingConnections.test_pickling':
    'left out without AF_INET: once its listener fails, its daemon child blocks the resource tracker\'s end and the module never ends (natively too)',
};

function sandboxHasInet() {
  const r = childProcess.spawnSync(process.execPath, h.sandboxArgs([PYTHON, '-c', 'import socket; socket.socket()']), { env: h.sentryEnv(), timeout: 60_000 });
  return r.status === 0;
}

function ensureTestsuite() {
  if (fs.existsSync(path.join(TESTDIR, 'test_os.py'))) return;
  process.stderr.write('installing libpython3.11-testsuite with apt-get\n');
  const r = childProcess.spawnSync('sh', ['-c', 'apt-get install -y libpython3.11-testsuite || (apt-get update && apt-get install -y libpython3.11-testsuite)'], { stdio: 'inherit' });
  if (r.status !== 0 || !fs.existsSync(path.join(TESTDIR, 'test_os.py'))) throw new Error('cannot install libpython3.11-testsuite');
}

// parse turns pyrun.py's output into {cases: Map id -> {status, reason}, importError, done}.
function parse(r) {
  const cases = new Map();
  let importError = null;
  let done = false;
  const rank = { pass: 0, skip: 1, fail: 2 };
  // A marker may follow, on its line, what a child process (a worker of
  // multiprocessing's forkserver, say) wrote to the same stdout without a
  // newline: it is looked for anywhere in the line.
  for (const line of r.stdout.split('\n')) {
    let m = /@@CASE (\S+) (\S+) ?(.*)$/.exec(line);
    if (m) {
      const status = m[1] === 'ok' || m[1] === 'xfail' ? 'pass' : m[1] === 'skip' ? 'skip' : 'fail';
      const old = cases.get(m[2]);
      if (!old || rank[status] > rank[old.status]) cases.set(m[2], { status, reason: m[3] });
      continue;
    }
    m = /@@IMPORT (.*)$/.exec(line);
    if (m) importError = m[1];
    if (line.endsWith('@@DONE')) done = true;
  }
  return { cases, importError, done };
}

function ended(r) {
  if (r.timedOut) return `not reached: the module's run timed out after ${Math.round(r.ms / 1000)} s`;
  if (r.signal) return `not reached: python was killed by ${r.signal}`;
  const tail = r.stderr.trim().split('\n').slice(-1)[0] || '';
  return `not reached: python exited with status ${r.status} before the end (${tail.slice(0, 200)})`;
}

async function main() {
  ensureTestsuite();
  const modules = process.argv.length > 2 ? process.argv.slice(2) : MODULES;
  const timeoutMs = (Number(process.env.SUITE_TIMEOUT_S) || 600) * 1000;
  const jobs = Number(process.env.SUITE_JOBS) || 2;
  const env = { TMPDIR: '/tmp', PYTHONDONTWRITEBYTECODE: '1', PYRUN_SKIP: EXCLUDE.join(',') };
  const sandboxOnly = sandboxHasInet() ? {} : NO_INET_EXCLUDE;
  const sandboxEnv = { ...env, PYRUN_SKIP: [...EXCLUDE, ...Object.keys(sandboxOnly)].join(',') };
  const tasks = [];
  for (const mod of modules) {
    for (const sandbox of [false, true]) {
      tasks.push(async () => {
        const r = await run([PYTHON, DRIVER, mod], { sandbox, timeoutMs, env: sandbox ? sandboxEnv : env, cwd: '/tmp' });
        process.stderr.write(`${mod} ${sandbox ? 'sandbox' : 'native'}: ${r.ms} ms${r.timedOut ? ' (timed out)' : ''}\n`);
        return { mod, sandbox, r, ...parse(r) };
      });
    }
  }
  const results = await pool(tasks, jobs);
  const groups = [];
  const raw = {};
  for (let i = 0; i < results.length; i += 2) {
    const nat = results[i];
    const sb = results[i + 1];
    const why = sb.importError ? `module fails to load: ${sb.importError}` : ended(sb.r);
    const g = compareRuns(nat.cases, sb.cases, (id) => sandboxOnly[id] || why);
    groups.push({ name: nat.mod, ...g });
    raw[nat.mod] = {
      native: Object.fromEntries(nat.cases), sandbox: Object.fromEntries(sb.cases),
      nativeImportError: nat.importError, sandboxImportError: sb.importError,
      nativeDone: nat.done, sandboxDone: sb.done,
    };
  }
  if (process.env.SUITE_JSON) fs.writeFileSync(process.env.SUITE_JSON, JSON.stringify(raw, null, 1));
  const cmd = `node test/suites/cpython.js${process.argv.length > 2 ? ' ' + modules.join(' ') : ''}`;
  process.stdout.write(markdown('CPython 3.11 regression tests', cmd, groups) + '\n');
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${e.stack || e}\n`);
    process.exit(1);
  });
}

module.exports = { MODULES };
