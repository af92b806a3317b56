'use strict';
// The stub is out of the application's reach: hostile programs try to map
// over it or beyond the top of their address space by every mapping path
// (test/hostile/mapattack.c) and must get the errors Linux gives for
// addresses above TASK_SIZE, with nothing left running on the host and
// nothing executed there; max_map_count is enforced; and the stubs hold only
// the fds the platform gives them, whatever the caller of tsvisor left open.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const w = require('../lib/stubwatch');

function build(t, name, dir) {
  if (!h.needTools(t, ['gcc'])) return null;
  const bin = path.join(dir, name);
  const cc = childProcess.spawnSync('gcc', ['-O1', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', `${name}.c`)], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  return bin;
}

const hasPku = () => /^flags\s*:.*\bpku\b/m.test(fs.readFileSync('/proc/cpuinfo', 'latin1'));

test('mapping over the stub or beyond the top fails as beyond TASK_SIZE on Linux', { timeout: 120_000 }, async (t) => {
  const dir = h.tmpDir('tsvisor-mapattack-');
  const bin = build(t, 'mapattack', dir);
  if (!bin) return;
  const marker = path.join(dir, `escaped-${crypto.randomBytes(4).toString('hex')}`);
  const native = h.runNative([bin, 'native', marker]);
  assert.strictEqual(native.status, 0, h.describe('native', native));
  const r = await w.runWatched([bin, 'sandbox', marker], { cwd: '/' });
  assert.strictEqual(r.status, 0, `sandbox: ${r.status} ${r.signal}\n${r.stderr}`);
  const [readLine] = r.stdout.split('\n').filter((l) => l.startsWith("read the stub's code: "));
  const sandboxOut = r.stdout.split('\n').filter((l) => !l.startsWith("read the stub's code: ")).join('\n');
  assert.strictEqual(sandboxOut, native.stdout, 'the sandbox answers as Linux does beyond TASK_SIZE');
  assert.match(native.stdout, /^mmap MAP_FIXED at the stub: ENOMEM$/m);
  assert.match(native.stdout, /^mremap MREMAP_FIXED onto the stub: EINVAL$/m);
  assert.match(native.stdout, /^brk to the stub: refused$/m);
  assert.match(native.stdout, /^write the stub's control page: signal SIGSEGV$/m);
  assert.match(native.stdout, /^done$/m);
  // Execute-only stub code where the host has protection keys.
  assert.strictEqual(readLine, hasPku() ? "read the stub's code: signal SIGSEGV" : "read the stub's code: exit 0");
  assert.ok(r.pgid > 1, 'the stubs were seen');
  assert.deepStrictEqual(r.leftovers, [], 'no stub process survives the sandbox');
  assert.ok(!fs.existsSync(marker), 'application code ran as a host process');
});

test('max_map_count: ENOMEM past the limit, for new mappings and for splits', { timeout: 120_000 }, async (t) => {
  const dir = h.tmpDir('tsvisor-maps-');
  const bin = build(t, 'mapcount', dir);
  if (!bin) return;
  const native = h.runNative([bin]);
  assert.strictEqual(native.status, 0, h.describe('native', native));
  const r = h.runSandbox([bin], { cwd: '/' });
  assert.strictEqual(r.status, 0, h.describe('sandbox', r));
  for (const out of [native.stdout, r.stdout]) {
    const m = /^mapped (\d+) before ENOMEM$/m.exec(out);
    assert.ok(m, out);
    const limit = Number(/^max_map_count (\d+)$/m.exec(out)[1]);
    assert.strictEqual(limit, 65530);
    // The program's own VMAs and the host's few reserved pages come off the limit.
    assert.ok(Number(m[1]) > limit - 100 && Number(m[1]) <= limit, out);
  }
  const rest = (s) => s.split('\n').filter((l) => !l.startsWith('mapped ')).join('\n');
  assert.strictEqual(rest(r.stdout), rest(native.stdout));
});

test("the stubs hold only the platform's fds, not the caller's", { timeout: 60_000 }, async () => {
  const dir = h.tmpDir('tsvisor-fds-');
  const file = path.join(dir, 'secret');
  fs.writeFileSync(file, 'not for the sandbox\n');
  const fileFd = fs.openSync(file, 'r+');
  const ro = fs.openSync(file, 'r');
  try {
    // fds 3..10 stay unused; 11 is a host file, 12 a socket (Node's 'pipe' is a socketpair), 13 the file again.
    const stdio = [...Array(8).fill('ignore'), fileFd, 'pipe', ro];
    const r = await w.runWatched(['/bin/sleep', '1'], {
      cwd: '/',
      stdio,
      sample: (pgid) => w.group(pgid).map((p) => ({ pid: p.pid, comm: p.comm, fds: w.fdsOf(p.pid) })),
    });
    assert.strictEqual(r.status, 0, r.stderr);
    const seen = r.samples.flat().filter((s) => s.fds);
    // A stub caught while it exits has already closed some (or all) of its fds.
    for (const s of seen) {
      assert.strictEqual(s.comm, 'tsvisor-stub');
      for (const f of s.fds) assert.ok(f.fd === 3 || f.fd === 4, `stub ${s.pid} holds fd ${f.fd} -> ${f.target}`);
      // fd 4: the waker's epoll set on ptrace, the eventfd that wakes the Sentry on systrap.
      const fd4 = h.platformUnderTest() === 'systrap' ? /\[eventfd\]/ : /eventpoll/;
      // '?': the link could not be read (the stub ended between listing and reading its fds).
      for (const f of s.fds) if (f.target !== '?') assert.match(f.target, f.fd === 3 ? /memfd:tsvisor-memory/ : fd4);
    }
    const whole = seen.filter((s) => s.fds.length === 2);
    // systrap has no waker stub.
    const want = h.platformUnderTest() === 'systrap' ? 2 : 3;
    assert.ok(new Set(whole.map((s) => s.pid)).size >= want, 'the master, the waker (ptrace) and the application stub were sampled');
    assert.deepStrictEqual(r.leftovers, []);
  } finally {
    fs.closeSync(fileFd);
    fs.closeSync(ro);
  }
});
