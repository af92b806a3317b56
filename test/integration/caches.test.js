'use strict';
// The Sentry's file caches stay bounded whatever a program does (counts, not
// timing). test/hostile/manyfiles.c holds thousands of host files open, and
// creates and walks many names; from the host the test counts the Sentry's
// descriptors (/proc/PID/fd) and reads the cache counts of --stats, taken
// after a full garbage collection (node --expose-gc).

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

// src/host/hosttree.ts DEFAULT_HOST_TREE_LIMITS: path, read, pinned read descriptors.
const PATH_FDS = 256 + 1;
const READ_FDS = 128;
const PINNED_READ_FDS = 1024;

function build(dir) {
  const bin = path.join(dir, 'manyfiles');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-o', bin, path.join(__dirname, '..', 'hostile', 'manyfiles.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  return bin;
}

function hardNofile() {
  const m = /^Max open files\s+\S+\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return m && m[1] !== 'unlimited' ? Number(m[1]) : Infinity;
}

/** Run the sandbox asynchronously; onLine(line, child) sees each line of its stdout. */
function spawnSandbox(argv, { nodeFlags = [], flags = [], env = {}, input = null, onLine = () => {} } = {}) {
  return new Promise((resolve) => {
    const child = childProcess.spawn(process.execPath, [...nodeFlags, ...h.sandboxArgs(argv, { cwd: '/', flags })], {
      cwd: h.ROOT,
      env: { ...h.sentryEnv(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      pending += d;
      for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
        onLine(pending.slice(0, i), child);
        pending = pending.slice(i + 1);
      }
    });
    child.stderr.on('data', (d) => (stderr += d));
    if (input !== null) child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

test('a program holding thousands of host files open cannot exhaust the Sentry descriptors', { timeout: 240_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-manyfiles-');
  const bin = build(dir);
  const n = Math.min(3000, hardNofile() - 200);
  assert.ok(n > PINNED_READ_FDS + READ_FDS, `the host's RLIMIT_NOFILE (${hardNofile()}) is too low for this test`);
  const files = path.join(dir, 'files');
  fs.mkdirSync(files);
  for (let i = 0; i < n; i++) fs.writeFileSync(path.join(files, `f${i}`), `file ${i}\n`);
  const stats = path.join(dir, 'stats.json');
  let sentryFds = -1;
  const r = await spawnSandbox([bin, 'open', files, String(n)], {
    flags: ['--stats', stats],
    onLine: (line, child) => {
      if (line !== `held ${n}`) return;
      sentryFds = fs.readdirSync(`/proc/${child.pid}/fd`).length;
      child.stdin.end('go\n');
    },
  });
  assert.strictEqual(r.status, 0, `${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  assert.match(r.stdout, /^reread ok$/m);
  // The program held n host files open at that point; the Sentry no more than its caps and a few of its own.
  assert.ok(sentryFds >= PINNED_READ_FDS, `the Sentry's descriptors were counted (${sentryFds})`);
  assert.ok(sentryFds <= PATH_FDS + READ_FDS + PINNED_READ_FDS + 64, `the Sentry held ${sentryFds} host descriptors for ${n} open files`);
  t.diagnostic(`${n} host files held open: the Sentry had ${sentryFds} descriptors`);
  const s = JSON.parse(fs.readFileSync(stats, 'utf8'));
  assert.strictEqual(s.hostFds.pinnedRead, 0, 'closed files keep no pinned descriptor');
  assert.ok(s.hostFds.read <= READ_FDS && s.hostFds.path <= PATH_FDS, JSON.stringify(s.hostFds));
});

test('creating and walking many names keeps the dentry cache within its limit', { timeout: 240_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-walk-');
  const bin = build(dir);
  const LIMIT = 500;
  const N = 5000;
  const walked = '/usr/include\n';
  // The same walk natively (created names in a host directory instead of the sandbox's /tmp).
  const native = childProcess.spawnSync(bin, ['walk', path.join(dir, 'w'), String(N)], { input: walked, encoding: 'utf8' });
  assert.strictEqual(native.status, 0, native.stdout);
  const count = Number(/^walked (\d+)$/m.exec(native.stdout)[1]);
  assert.ok(count > N + 10 * LIMIT, `a walk much larger than the cache (${count})`);
  const stats = path.join(dir, 'stats.json');
  const r = await spawnSandbox([bin, 'walk', '/tmp/w', String(N)], {
    nodeFlags: ['--expose-gc'],
    flags: ['--stats', stats],
    env: { TSVISOR_DENTRY_CACHE: String(LIMIT) },
    input: walked,
  });
  assert.strictEqual(r.status, 0, `${r.stdout.slice(-2000)}\n${r.stderr.slice(-2000)}`);
  assert.strictEqual(r.stdout, native.stdout);
  const s = JSON.parse(fs.readFileSync(stats, 'utf8'));
  assert.strictEqual(s.dentryCache.limit, LIMIT);
  assert.ok(s.dentryCache.peak <= LIMIT, JSON.stringify(s.dentryCache));
  // After a collection, what is reachable through the cache: the kept entries and the
  // directories above them (mount roots, /usr, /usr/include, /tmp/w and the like).
  assert.strictEqual(typeof s.liveDentries, 'number');
  t.diagnostic(`${count} names walked: LRU peak ${s.dentryCache.peak} of ${LIMIT}, ${s.liveDentries} dentries alive after a collection`);
  assert.ok(s.liveDentries <= LIMIT + 100, `${s.liveDentries} dentries alive after walking ${count} names`);
});
