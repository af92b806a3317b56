'use strict';
// Unix domain sockets beyond the C program (test/c/unixsock.c): python3's
// socket, socketserver and multiprocessing descriptor passing must behave as
// natively, and a hostile program filling sockets (test/hostile/sockflood.c)
// meets Linux's errnos within the sandbox's memory budget while the sandbox
// and the host carry on.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

test('python3 socketpair, a socketserver on a path and multiprocessing fd passing match native', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['python3'])) return;
  h.compare(t, ['/usr/bin/python3', path.join(__dirname, 'unixsock', 'sockets.py')], { setup: () => h.tmpDir('tsvisor-unixsock-'), expectStatus: 0 });
});

test('filling socket buffers ends in ENOBUFS inside a 64 MiB sandbox, which keeps working', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-sockflood-');
  const bin = path.join(dir, 'sockflood');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'sockflood.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const log = path.join(dir, 'debug.log');
  const before = fs.readdirSync(os.tmpdir()).length;
  const r = h.runSandbox(['/bin/sh', '-c', `${bin}; echo "status $?"`], { cwd: '/', flags: ['--memory', '64m', '--debug-log', log], timeout: 150_000 });
  assert.strictEqual(r.status, 0, h.describe('sockflood', r));
  assert.match(r.stdout, /^stopped by a resource errno: 1$/m);
  assert.match(r.stdout, /send: ENOBUFS|socketpair: (ENOBUFS|ENOMEM)/);
  assert.match(r.stdout, /^unreachable cycles made: 20000 \(all\)$/m);
  assert.match(r.stdout, /^after freeing: alive$/m);
  assert.match(r.stdout, /^status 0$/m);
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs');
  // Sockets are Sentry objects: nothing appeared on the host.
  assert.ok(fs.readdirSync(os.tmpdir()).length <= before + 1, 'no host files');
});
