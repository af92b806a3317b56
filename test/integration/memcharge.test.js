'use strict';
// memcharge: memory the Sentry holds for a program outside its own pages
// (pipe buffers, unix socket queues, /dev/shm, memfd and System V pages) is
// bounded under the sandbox's --memory, and comes back when freed
// (test/hostile/chargehog.c). Natively, in a memory cgroup of 64 MiB, Linux
// OOM-kills each of these (status 137: it charges pipe pages, socket skbs
// and shmem to the cgroup); the Sentry refuses what it can refuse instead,
// below the limit: the heap budget (a quarter of the limit) bounds pipe
// capacities (F_SETPIPE_SZ EPERM) and socket queues (ENOBUFS), /dev/shm its
// size (half the limit, ENOSPC), a memfd the limit (ENOMEM); touched System
// V pages get the OOM kill, as natively. A pod's container is held to its
// own limit the same way (oci_pod_limits.test.js).

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

function build(t) {
  if (!h.needTools(t, ['gcc'])) return null;
  const out = path.join(h.tmpDir('tsvisor-memcharge-'), 'chargehog');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', out, path.join(__dirname, '..', 'hostile', 'chargehog.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  return out;
}

test('pipes, unix sockets, /dev/shm, memfds and System V segments cannot take a sandbox past its --memory; what can be refused is, and comes back', { timeout: 120_000 }, (t) => {
  const bin = build(t);
  if (!bin) return;
  const log = path.join(h.tmpDir('tsvisor-memcharge-'), 'debug.log');
  const modes = ['pipes', 'splice', 'sockets', 'shm', 'fallocate', 'memfd', 'sysvshm'];
  const r = h.runSandbox(['/bin/sh', '-c', `for m in ${modes.join(' ')}; do ${bin} $m; echo "status $?"; done`], { cwd: '/', flags: ['--memory', '64m', '--debug-log', log] });
  assert.strictEqual(r.status, 0, h.describe('chargehog', r));
  const parts = r.stdout.split(/^status \d+\n/m);
  assert.deepStrictEqual(r.stdout.match(/^status \d+$/gm), [...modes.slice(0, 6).map(() => 'status 0'), 'status 137'], r.stdout);
  // The bound and the errno: the heap budget (16 MiB) for pipes and sockets, /dev/shm's size (32 MiB), the limit for a memfd.
  const expect = { pipes: ['EPERM', 16], splice: ['EPERM', 16], sockets: ['ENOBUFS', 16], shm: ['ENOSPC', 32], fallocate: ['ENOSPC', 32], memfd: ['ENOMEM', 64] };
  for (const [i, m] of modes.slice(0, 6).entries()) {
    assert.match(parts[i], new RegExp(`^${m}: ${expect[m][0]}\\nheld MiB: (\\d+)\\nagain: ok\\nalive\\n$`), parts[i]);
    const held = Number(/held MiB: (\d+)/.exec(parts[i])[1]);
    assert.ok(held >= 8 && held <= expect[m][1], `${m} held ${held} MiB`);
  }
  // Touched System V pages cannot be refused: the OOM kill, as natively.
  assert.strictEqual(parts[6], '');
  assert.match(r.stderr, /out of memory \(sandbox limit 64 MiB\): killed process \d+ \(chargehog\)/);
  // What the memory file held on the host stayed under the limit.
  const text = fs.readFileSync(log, 'utf8');
  const line = /memory: peak \d+ kB of the 65536 kB limit; host holds (\d+) kB/.exec(text);
  assert.ok(line && Number(line[1]) <= 65536, text.slice(-1000));
  assert.doesNotMatch(text, /BUG/);
});
