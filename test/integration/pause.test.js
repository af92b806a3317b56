'use strict';
// pause: Kernel.pause()/resume() on a busy multi-process workload
// (test/c/pausework.c: relative and absolute sleeps, pipes between
// processes, a blocking read, wait4 of children, an interval timer with
// sigsuspend, sigtimedwait with a timeout, a vfork, a process spinning in user
// code). The sandbox runs in this process through the Sandbox API; it is
// paused several times in the middle, and each time the test checks that the
// sandbox is at rest: no task runs or blocks or has a handler in flight, every
// application stub is stopped on the host, and nothing happens while paused.
// The output must equal an uninterrupted run's, natively and sandboxed.

const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const RAX = 10; // Reg.RAX in user_regs_struct order
const NR_RESTART_SYSCALL = 219;
/** Enough spinning that the spinner is still in user code at the first pauses. */
const ARGS = ['600000000', '40'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const AT_REST = h.platformUnderTest() === 'systrap' ? 'S' : 't';

/** The host state letter of a process ('t' = stopped by its tracer). */
function hostState(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  return s.slice(s.lastIndexOf(')') + 2).split(' ')[0];
}

/**
 * The host state of a held thread. A systrap thread spins a little in the
 * handler before its futex sleep, and on a loaded machine may wait for a CPU
 * to get there: it gets up to 2 s to settle.
 */
function restingState(tid) {
  let st = hostState(tid);
  for (let i = 0; i < 200 && st !== AT_REST; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    st = hostState(tid);
  }
  return st;
}

/** What a paused kernel must look like; returns the names of the processes seen and what they were doing. */
function checkAtRest(k) {
  assert.strictEqual(k.pauser.state, 'paused');
  assert.strictEqual(k.runner.inFlight, 0, 'a system call handler is still in flight');
  const seen = [];
  for (const t of k.tasks.values()) {
    if (t.state === 'dead') continue;
    const what = `${t.tg.comm}(${t.tid}) state=${t.state} paused=${t.paused}`;
    assert.notStrictEqual(t.state, 'blocked', what);
    assert.ok(t.state === 'stopped' || t.paused || t.vforkChild !== null, what);
    // At rest on the host: stopped by its tracer (ptrace), or asleep in the stub's handler (systrap).
    assert.strictEqual(restingState(t.ctx.hostTid), AT_REST, `${what}: its stub is not stopped on the host`);
    const rb = t.restartBlock;
    seen.push({ comm: t.tg.comm, rax: t.ctx.regs.get(RAX), restart: rb });
  }
  return seen;
}

test('pause and resume a busy sandbox several times: at rest while paused, same output as uninterrupted', { timeout: 180_000 }, async () => {
  const prog = h.buildPrograms().pausework.dynamic;
  const native = h.runNative([prog, ...ARGS], { timeout: 60_000 });
  assert.strictEqual(native.status, 0, h.describe('native', native));
  assert.match(native.stdout, /done\n$/);
  assert.doesNotMatch(native.stdout, /EARLY/);
  const plain = h.runSandbox([prog, ...ARGS], { timeout: 60_000 });
  assert.strictEqual(plain.stdout, native.stdout, h.describe('sandbox', plain));

  const { Sandbox } = require('../../dist/sandbox/sandbox.js');
  const dir = h.tmpDir('tsvisor-pause-');
  const outPath = path.join(dir, 'out');
  const fds = [fs.openSync('/dev/null', 'r'), fs.openSync(outPath, 'w'), fs.openSync(path.join(dir, 'err'), 'w')];
  const sb = new Sandbox({
    rootfs: '/',
    argv: [prog, ...ARGS],
    env: Object.entries(h.baseEnv).map(([key, v]) => `${key}=${v}`),
    cwd: dir,
    stdio: fds,
    debugLog: path.join(dir, 'debug.log'),
  });
  const k = sb.kernel;
  let finished = false;
  const running = sb.run().finally(() => (finished = true));
  // Pauses at various distances, some right after a resume, at least 8 and
  // until a vfork parent and a sleeper in nanosleep were caught.
  const gaps = [150, 0, 120, 10, 150, 0, 100, 60];
  const sleeperRestarts = [];
  let vforkParents = 0;
  let held = 0;
  for (let i = 0; i < 40 && (i < gaps.length || !vforkParents || !sleeperRestarts.length); i++) {
    await sleep(gaps[i % gaps.length]);
    if (finished) break;
    await k.pause();
    held++;
    const seen = checkAtRest(k);
    for (const s of seen) {
      // A relative sleep unwound by the pause continues through restart_syscall, to its old deadline.
      if (s.comm === 'sleeper' && s.restart && s.restart.kind === 'nanosleep') {
        assert.strictEqual(s.rax, NR_RESTART_SYSCALL);
        sleeperRestarts.push(s.restart.deadline);
      }
    }
    vforkParents += [...k.tasks.values()].filter((t) => t.vforkChild !== null && t.vforkChild.paused).length;
    // Nothing moves while paused: no stop, no timer (the alarmer's interval timer would fire within 60 ms).
    const stops = { ...k.platform.stats };
    const signalsQueued = k.signals.queuedCount();
    await sleep(80);
    assert.deepStrictEqual({ ...k.platform.stats }, stops);
    assert.strictEqual(k.signals.queuedCount(), signalsQueued);
    checkAtRest(k);
    k.resume();
  }
  const status = await running;
  for (const fd of fds) fs.closeSync(fd);
  assert.strictEqual(status, 0, fs.readFileSync(path.join(dir, 'err'), 'utf8'));
  assert.strictEqual(fs.readFileSync(outPath, 'utf8'), native.stdout);
  assert.ok(held >= 8, `only ${held} pauses happened before the workload ended`);
  assert.strictEqual(k.pauser.count, held);
  // Exited processes left no timer behind (the alarmer's interval timer, the waiter's POSIX timer): at most the kernel's tick.
  assert.ok(k.timers.size <= 1, `${k.timers.size} timers still armed`);
  // The spinner never makes a system call while it spins: only interrupts bring it to rest.
  assert.ok(k.runner.interrupts >= 1, 'no running context was interrupted');
  assert.ok(sleeperRestarts.length >= 1, 'no pause caught the sleeper in nanosleep');
  assert.ok(vforkParents >= 1, 'no pause caught the parent waiting in vfork');
});

test('pause before start and after the end resolve at once; resume without pause does nothing', { timeout: 60_000 }, async () => {
  const prog = h.buildPrograms().hello.dynamic;
  const { Sandbox } = require('../../dist/sandbox/sandbox.js');
  const dir = h.tmpDir('tsvisor-pause-');
  const fds = [fs.openSync('/dev/null', 'r'), fs.openSync(path.join(dir, 'out'), 'w'), fs.openSync('/dev/null', 'w')];
  const sb = new Sandbox({ rootfs: '/', argv: [prog, 'x'], env: ['PATH=/bin'], cwd: dir, stdio: fds });
  const k = sb.kernel;
  k.resume();
  await k.pause();
  assert.strictEqual(k.pauser.state, 'paused');
  k.resume();
  assert.strictEqual(k.pauser.state, 'running');
  assert.strictEqual(await sb.run(), 0);
  await k.pause();
  assert.strictEqual(k.pauser.state, 'paused');
  k.resume();
  for (const fd of fds) fs.closeSync(fd);
  assert.match(fs.readFileSync(path.join(dir, 'out'), 'utf8'), /x/);
});
