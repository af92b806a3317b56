'use strict';
// preempt: signals reach programs that run without system calls (the
// platform interrupts a running context), and the legacy entry points (the
// vsyscall page, int $0x80) behave as Linux does or fail cleanly.
// test/c/preempt.c and test/c/vsyscall.c are compared with native runs by
// c_programs.test.js; this file covers what needs a shell, a host signal or a
// sandbox-only answer.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

let built = null;
function programs() {
  if (built) return built;
  const dir = h.tmpDir('tsvisor-preempt-');
  built = {};
  for (const name of ['spin', 'int80']) {
    const bin = path.join(dir, name);
    const cc = childProcess.spawnSync('gcc', ['-O1', '-static', '-o', bin, path.join(__dirname, 'preempt', `${name}.c`)], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc ${name}.c: ${cc.stderr}`);
    built[name] = bin;
  }
  return built;
}

test('alarm + spin ends by SIGALRM: status 142 in a shell, as natively, with one interrupted stop', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc', 'sh'])) return;
  const { spin } = programs();
  const argv = ['/bin/sh', '-c', `${spin} alarm; echo status $?`];
  const native = h.runNative(argv, { timeout: 60_000 });
  assert.strictEqual(native.stdout, 'status 142\n', h.describe('native', native));
  const log = path.join(h.tmpDir(), 'debug.log');
  const r = h.runSandbox(argv, { flags: ['--debug-log', log], timeout: 60_000 });
  assert.strictEqual(r.stdout, 'status 142\n', h.describe('sandbox', r));
  assert.strictEqual(r.status, 0, h.describe('sandbox', r));
  // One signal to one spinning process: exactly one interrupt, none lost, none repeated.
  assert.match(fs.readFileSync(log, 'utf8'), / interrupted stops: 1$/m);
});

test('timeout 2 ends a spinning program inside the sandbox', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc', 'timeout'])) return;
  const { spin } = programs();
  const r = h.runSandbox(['timeout', '2', spin], { timeout: 60_000 });
  assert.ok(!r.timedOut, h.describe('sandbox', r));
  assert.strictEqual(r.status, 124, h.describe('sandbox', r));
});

/** Host processes whose parent is one of parents (from /proc). */
function childrenOf(parents) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (!parents.includes(Number(f[1]))) continue;
      // On systrap the application runs in a thread of the stub, not its (traced) leader: running if any thread runs.
      let state = f[0];
      for (const tid of fs.readdirSync(`/proc/${name}/task`)) {
        const ts = fs.readFileSync(`/proc/${name}/task/${tid}/stat`, 'latin1');
        if (ts.slice(ts.lastIndexOf(')') + 2).split(' ')[0] === 'R') state = 'R';
      }
      out.push({ pid: Number(name), state });
    } catch {}
  }
  return out;
}

/**
 * Run `spin term` as pid 1; once it is ready, call poke(sentryPid), then send
 * the Sentry SIGTERM (forwarded to pid 1, whose handler ends it).
 */
async function spinThenTerm(poke) {
  const { spin } = programs();
  const child = childProcess.spawn(process.execPath, h.sandboxArgs([spin, 'term']), { cwd: h.ROOT, env: h.sentryEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const status = await new Promise((resolve) => {
    child.stdout.on('data', (d) => {
      const before = out;
      out += d;
      if (!before.includes('ready') && out.includes('ready')) {
        poke(child.pid);
        setTimeout(() => child.kill('SIGTERM'), 300);
      }
    });
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(guard);
  return { status, out, err };
}

test('host SIGTERM forwarded to a spinning pid 1 with a handler reaches it', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const r = await spinThenTerm(() => {});
  assert.deepStrictEqual(r.status, { code: 0, signal: null }, `stdout: ${r.out}\nstderr: ${r.err}`);
  assert.strictEqual(r.out, 'ready\ngot SIGTERM\n');
});

test('signals sent to a stub from outside never reach the application or pass for its faults', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  let hit = 0;
  const r = await spinThenTerm((sentry) => {
    // The stubs are the master's children; the spinning one runs pid 1.
    const masters = childrenOf([sentry]).map((p) => p.pid);
    for (const s of childrenOf(masters).filter((p) => p.state === 'R')) {
      for (const sig of ['SIGCHLD', 'SIGSEGV', 'SIGUSR1', 'SIGTERM']) process.kill(s.pid, sig);
      hit++;
    }
  });
  assert.ok(hit >= 1, 'found the spinning stub');
  assert.deepStrictEqual(r.status, { code: 0, signal: null }, `stdout: ${r.out}\nstderr: ${r.err}`);
  // SIGTERM sent to the stub itself is dropped; only the Sentry's forwarded one reaches the handler.
  assert.strictEqual(r.out, 'ready\ngot SIGTERM\n');
});

test('stress-ng --mmap 1 -t 3 ends (its workers get their signals)', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['stress-ng'])) return;
  const r = h.runSandbox(['stress-ng', '--mmap', '1', '-t', '3'], { timeout: 150_000 });
  assert.ok(!r.timedOut, h.describe('stress-ng', r));
  assert.strictEqual(r.status, 0, h.describe('stress-ng', r));
  assert.match(r.stderr, /successful run completed/);
});

test('int $0x80 never runs the 64-bit call with that number (ENOSYS, or the fault of a host without a 32-bit entry)', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const { int80 } = programs();
  const r = h.runSandbox([int80], { timeout: 60_000 });
  // A host kernel without IA32 emulation faults int $0x80 before any system call is seen (SIGSEGV natively):
  // the sandbox dies of the same fault. Either way, i386 getpid (20) is x86-64 writev and i386 exit (1) is
  // write: neither may happen.
  const native = h.runNative([int80]);
  if (native.signal === 'SIGSEGV' || native.status === 139) {
    assert.strictEqual(r.status, 139, h.describe('int80 on a host without a 32-bit entry', r));
    assert.strictEqual(r.stdout, '');
    return;
  }
  assert.strictEqual(r.status, 0, h.describe('int80', r));
  assert.strictEqual(r.stdout, 'int $0x80 (eax=20) = -38\nint $0x80 (eax=1) = -38\n');
});

/** tsvisor do of a spinning shell (no handlers), sent sig after it started; resolves with the exit status. */
async function spinningShellGets(sig) {
  const child = childProcess.spawn(process.execPath, [path.join(__dirname, '..', '..', 'bin', 'tsvisor.js'), 'do', '--', '/bin/sh', '-c', 'echo ready; while :; do :; done'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
    if (out.includes('ready\n')) child.kill(sig);
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const status = await new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  clearTimeout(guard);
  return status;
}

for (const [sig, n] of [['SIGTERM', 15], ['SIGINT', 2], ['SIGHUP', 1]]) {
  test(`${sig} to tsvisor do ends a sandbox whose pid 1 has no handler, with 128+${n} (timeout, Ctrl-C, a closed terminal)`, { timeout: 120_000 }, async () => {
    const status = await spinningShellGets(sig);
    assert.deepStrictEqual(status, { code: 128 + n, signal: null });
  });
}
