'use strict';
// The sandbox memory limit and the bounds on what a program can make the
// Sentry keep (test/hostile/memlimit.c): each kind is filled until Linux's
// errno, the sandbox keeps running afterwards, and the memory file on the
// host never holds more than the limit.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

let bin = null;
function build(t) {
  if (!h.needTools(t, ['gcc'])) return null;
  if (bin) return bin;
  const dir = h.tmpDir('tsvisor-memlimit-');
  const out = path.join(dir, 'memlimit');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', out, path.join(__dirname, '..', 'hostile', 'memlimit.c'), '-lrt'], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  bin = out;
  return bin;
}

function run(argv, log) {
  return h.runSandbox(argv, { cwd: '/', flags: ['--memory', '64m', '--debug-log', log], timeout: 120_000 });
}

function noBugs(log) {
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs');
}

test('touching 200 MiB in a 64 MiB sandbox: the OOM kill, signal 9, and the shell carries on', { timeout: 180_000 }, (t) => {
  const b = build(t);
  if (!b) return;
  const log = path.join(h.tmpDir('tsvisor-memlimit-'), 'debug.log');
  const r = run(['/bin/sh', '-c', `${b} anon 200; echo "status $?"; ${b} anon 16`], log);
  assert.strictEqual(r.status, 0, h.describe('oom', r));
  assert.match(r.stdout, /^mmap 200 MiB: ok$/m, 'a large mapping succeeds (overcommit)');
  assert.doesNotMatch(r.stdout, /touched 200 MiB/);
  assert.match(r.stdout, /^status 137$/m, 'the shell sees signal 9');
  assert.match(r.stdout, /^touched 16 MiB\nalive$/m, 'the sandbox runs programs after the kill');
  const text = fs.readFileSync(log, 'utf8');
  const m = /out of memory \(sandbox limit 64 MiB\): killed process \d+ \(memlimit\).*memory file on the host: (\d+)kB/.exec(text);
  assert.ok(m, `no OOM line in the debug log:\n${text}`);
  assert.ok(Number(m[1]) <= 65536, `the memory file held ${m[1]} kB on the host, over the 64 MiB limit`);
  const peak = /memory: peak (\d+) kB of the 65536 kB limit/.exec(text);
  assert.ok(peak && Number(peak[1]) <= 65536, 'peak use within the limit');
  noBugs(log);
});

test('mappings that are never touched do not count against the limit', { timeout: 120_000 }, (t) => {
  const b = build(t);
  if (!b) return;
  const log = path.join(h.tmpDir('tsvisor-memlimit-'), 'debug.log');
  // 16 areas of 16 MiB (each given frames eagerly), only the first touched.
  const r = run([b, 'eager', '16', '16'], log);
  assert.strictEqual(r.status, 0, h.describe('eager', r));
  assert.match(r.stdout, /^mapped 16 x 16 MiB\ntouched 16 MiB\nalive$/m);
  noBugs(log);
});

test('/proc/meminfo and sysinfo show the sandbox limit', { timeout: 120_000 }, (t) => {
  const b = build(t);
  if (!b) return;
  const log = path.join(h.tmpDir('tsvisor-memlimit-'), 'debug.log');
  const r = run([b, 'meminfo'], log);
  assert.strictEqual(r.status, 0, h.describe('meminfo', r));
  assert.match(r.stdout, /^MemTotal: +65536 kB$/m);
  assert.match(r.stdout, /^sysinfo totalram 65536 kB$/m);
  const free = Number(/^MemFree: +(\d+) kB$/m.exec(r.stdout)[1]);
  assert.ok(free > 0 && free < 65536, `MemFree ${free}`);
});

/** Whether this (the caller's) process holds a capability in its effective set. */
function callerHasCap(cap) {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? (BigInt('0x' + m[1]) >> BigInt(cap)) & 1n ? true : false : false;
}

test('filling tmpfs, xattrs, pipes, signal queues, timers, epoll sets and message queues gives Linux errnos, and the sandbox lives on', { timeout: 300_000 }, (t) => {
  const b = build(t);
  if (!b) return;
  const log = path.join(h.tmpDir('tsvisor-memlimit-'), 'debug.log');
  const steps = ['files /tmp', 'symlinks /tmp', 'bigfile /dev/shm', 'xattrs /tmp', 'pipesize', 'pipes', 'sigqueue 1000', 'timers 100', 'epoll', 'msgq'];
  const r = run(['/bin/sh', '-c', steps.map((s) => `${b} ${s}`).join('; ') + '; echo done'], log);
  assert.strictEqual(r.status, 0, h.describe('fill', r));
  const want = [
    /^f: ENOSPC after some\ncreate again: ok\nalive$/m,
    /^l: ENOSPC after some\ncreate again: ok\nalive$/m,
    /^bigfile: ENOSPC\nbigfile: written <= blocks\ncreate again: ok\nalive$/m,
    /^value 64 KiB \+ 1: E2BIG\nname 256 bytes: ERANGE\nxattrs: ENOSPC\ncreate again: ok\nalive$/m,
    // Root (in the sandbox) may pass pipe-max-size if it holds CAP_SYS_RESOURCE
    // (the sandbox's root gets the caller's bounding set), never the hard cap; a user may not.
    new RegExp(`^root 2 MiB: ${callerHasCap(24) ? 'ok' : 'EPERM'}\\nroot 1 GiB: EPERM\\nroot INT_MAX: EPERM\\nuser 1 MiB: ok\\nuser 2 MiB: EPERM\\nalive$`, 'm'),
    /^pipes: ENFILE\npipe again: ok\nalive$/m,
    /^sigqueue: EAGAIN after about the limit\nkill: ok\ndequeued all\nsigqueue again: ok\nalive$/m,
    /^timer_create: EAGAIN after about the limit\nalive$/m,
    /^epoll_ctl: ENOSPC after some\nepoll again: ok\nalive$/m,
    /^msgq: ENOMEM after some\nmsgq again: ok\nalive$/m,
    /^done$/m,
  ];
  for (const re of want) assert.match(r.stdout, re);
  noBugs(log);
});
