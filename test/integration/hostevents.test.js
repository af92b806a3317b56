'use strict';
// hostevents: a sandboxed process waiting on host file descriptors (its
// stdin, a FIFO the test writes) and on host signals sent to the Sentry.
// test/c/hostevents.c prints "ready X" before each wait; the driver below
// then writes to its stdin (a FIFO), closes it, or sends a signal, and the output
// must equal a native run's. A hang is a failure (the run is killed after
// RUN_TIMEOUT_MS), never a slow pass: nothing here asserts a duration.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const RUN_TIMEOUT_MS = 30_000;

// stdinFifo returns {read, write}: host fds of a fresh FIFO, the read side
// blocking (a child's stdin as a shell gives it), the write side for the
// driver. Not a socketpair, which is what Node's 'pipe' stdio would be: a
// socket cannot be reopened through /proc/self/fd.
function stdinFifo() {
  const p = path.join(h.tmpDir(), 'stdin');
  childProcess.execFileSync('mkfifo', [p]);
  const c = fs.constants;
  const probe = fs.openSync(p, c.O_RDONLY | c.O_NONBLOCK);
  const write = fs.openSync(p, c.O_WRONLY);
  const read = fs.openSync(p, c.O_RDONLY);
  fs.closeSync(probe);
  return { read, write };
}

// drive runs argv with a FIFO as stdin; actions[X](child, input) runs when
// the program prints "ready X" (input: write(s), end(), and write2(s) to
// a second FIFO given as fd 2 when opts.fifo2). Resolves with {stdout,
// stderr, status, signal, timedOut}.
function drive(argv, actions, opts = {}) {
  return new Promise((resolve) => {
    const fifo = stdinFifo();
    const fifo2 = opts.fifo2 ? stdinFifo() : null;
    const stdio = [fifo.read, 'pipe', fifo2 ? fifo2.read : 'pipe'];
    const child = childProcess.spawn(argv[0], argv.slice(1), { stdio, env: h.baseEnv });
    fs.closeSync(fifo.read);
    if (fifo2) fs.closeSync(fifo2.read);
    let open = true;
    const input = {
      write: (s) => open && fs.writeSync(fifo.write, s),
      write2: (s) => fs.writeSync(fifo2.write, s),
      end: () => {
        if (open) fs.closeSync(fifo.write);
        if (open && fifo2) fs.closeSync(fifo2.write);
        open = false;
      },
    };
    let stdout = '';
    let stderr = '';
    let pending = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s) => {
      stdout += s;
      pending += s;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const m = /^ready (\S+)$/.exec(line);
        if (m && actions[m[1]]) actions[m[1]](child, input);
      }
    });
    if (child.stderr) {
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (s) => (stderr += s));
    }
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      input.end();
      resolve({ stdout, stderr, status, signal, timedOut });
    });
  });
}

function sandboxArgv(argv, flags = []) {
  const args = [h.TSVISOR, 'do'];
  for (const [k, v] of Object.entries(h.baseEnv)) args.push('--env', `${k}=${v}`);
  return [process.execPath, ...args, ...flags, '--', ...argv];
}

const later = (ms, fn) => setTimeout(fn, ms);

function describe(label, r) {
  return `${label}: status=${r.status} signal=${r.signal}${r.timedOut ? ' TIMED OUT' : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

async function compareDriven(bin, mode, actions, flags, opts) {
  const native = await drive([bin, mode], actions, opts);
  assert.strictEqual(native.status, 0, describe('native', native));
  const sandbox = await drive(sandboxArgv([bin, mode], flags), actions, opts);
  assert.ok(!sandbox.timedOut, describe('sandbox hung', sandbox));
  assert.strictEqual(sandbox.stdout, native.stdout, describe('sandbox', sandbox));
  assert.strictEqual(sandbox.status, 0, describe('sandbox', sandbox));
  assert.ok(native.stdout.endsWith('done\n'));
  return { native, sandbox };
}

test('a host fd number closed and reused gets a fresh watch (no stale one)', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().hostevents.static;
  // Only the second FIFO gets data: the stale registration of the first one
  // must not be what wakes the reader.
  await compareDriven(bin, 'stale', { stale: (_c, input) => later(500, () => input.write2('hello')) }, [], { fifo2: true });
});

test('poll, select, ppoll and pselect on a donated stdin pipe', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().hostevents.dynamic;
  await compareDriven(bin, 'poll', {
    poll: (_c, input) => input.write('a'),
    select: (_c, input) => input.write('b'),
    pselect: (_c, input) => input.write('c'),
    eof: (_c, input) => input.end(),
  });
});

test('SIGTERM and SIGINT to the Sentry reach a process blocked in a host-fd read', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().hostevents.static;
  // The delay only makes it likely that the read has started; the output
  // does not depend on it.
  await compareDriven(bin, 'signal', {
    term: (child) => later(300, () => child.kill('SIGTERM')),
    int: (child) => later(300, () => child.kill('SIGINT')),
    data: (_c, input) => input.write('bye'),
  });
});

test('a task blocked on a host fd costs the Sentry no wake-ups (no polling tick)', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const bin = h.buildPrograms().hostevents.static;
  const stats = path.join(h.tmpDir(), 'stats.json');
  // Idle for a second and a half: a 100 ms tick would wake the Sentry about 15 times.
  await compareDriven(bin, 'idle', { idle: (_c, input) => later(1500, () => input.write('x')) }, ['--stats', stats]);
  const s = JSON.parse(fs.readFileSync(stats, 'utf8'));
  assert.ok(typeof s.hostEvents === 'number', JSON.stringify(s));
  // The write to stdin is one event (a few more may come from Node's own loop).
  assert.ok(s.hostEvents >= 1 && s.hostEvents <= 4, `host events: ${s.hostEvents}`);
});

// An embedder's own timers (Node's setInterval in the process that runs the
// sandbox) keep running while the sandbox blocks in a sleep and while it is
// busy with system calls: with no polling tick, the host timer covers Node's
// next timer. Before, the loop either never let them run or spun on them.
test("the embedding program's timers run while its sandbox sleeps and while it is busy", { timeout: 120_000 }, async () => {
  const { Sandbox } = require('../../dist/sandbox/sandbox.js');
  const dir = h.tmpDir('tsvisor-embed-');
  const runFor = async (argv) => {
    const fds = [fs.openSync('/dev/null', 'r'), fs.openSync(path.join(dir, 'out'), 'w'), fs.openSync(path.join(dir, 'err'), 'w')];
    const sb = new Sandbox({ rootfs: '/', argv, env: ['PATH=/usr/bin:/bin'], cwd: dir, stdio: fds });
    let ticks = 0;
    const iv = setInterval(() => ticks++, 20);
    try {
      const status = await sb.run();
      return { status, ticks };
    } finally {
      clearInterval(iv);
      for (const fd of fds) fs.closeSync(fd);
    }
  };
  const asleep = await runFor(['/bin/sleep', '1']);
  assert.strictEqual(asleep.status, 0);
  assert.ok(asleep.ticks >= 3, `a 20 ms interval ran ${asleep.ticks} times during a 1 s sleep in the sandbox`);
  const busy = await runFor(['/bin/sh', '-c', 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); : > /dev/null; done']);
  assert.strictEqual(busy.status, 0);
  assert.ok(busy.ticks >= 1, `a 20 ms interval ran ${busy.ticks} times during a busy sandbox`);
});
