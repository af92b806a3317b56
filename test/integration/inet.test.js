'use strict';
// The sandbox's own network stack (net/), beyond the C programs compared in
// c_programs (test/c/inettcp.c, inetudp.c): real servers and clients inside
// one sandbox over its loopback (python's http.server with curl and urllib, a
// node http server and client), python's socket and asyncio compared with a
// native run, and a hostile program (test/hostile/inetflood.c) that floods
// listeners and fills connections inside a small sandbox, which stays up
// with its memory bounded.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const DIR = path.join(__dirname, 'inet');

test('python http.server with curl and urllib, and a node http server and client, inside one sandbox', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['/usr/bin/python3', 'curl', 'node'])) return;
  const r = h.runSandbox(['/bin/sh', path.join(DIR, 'servers.sh')], { cwd: '/', timeout: 150_000 });
  assert.strictEqual(r.status, 0, h.describe('servers.sh', r));
  assert.strictEqual(r.stdout, [
    'curl v4: hello-from-the-sandbox',
    'curl v6: hello-from-the-sandbox',
    'curl 404: 404',
    'urllib: hello-from-the-sandbox',
    'node http: node got GET 0',
    'node http: node got POST 300000',
    'curl refused: 000',
    '',
  ].join('\n'));
});

test('python socket and asyncio over loopback match native', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['/usr/bin/python3', 'unshare', 'ip'])) return;
  const script = path.join(DIR, 'sockets.py');
  const native = h.runNative(['unshare', '--map-root-user', '--net', 'sh', '-c', 'ip link set lo up && exec /usr/bin/python3 "$0"', script]);
  assert.strictEqual(native.status, 0, h.describe('native', native));
  const sandbox = h.runSandbox(['/usr/bin/python3', script], { cwd: '/', timeout: 150_000 });
  assert.strictEqual(sandbox.status, 0, h.describe('sandbox', sandbox));
  assert.strictEqual(sandbox.stdout, native.stdout);
  assert.match(sandbox.stdout, /done\n$/);
});

test('UDP-Lite over loopback (coverage options, partial coverage refused, a closed port) matches native', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['/usr/bin/python3', 'unshare', 'ip'])) return;
  const script = path.join(DIR, 'udplite.py');
  const native = h.runNative(['unshare', '--map-root-user', '--net', 'sh', '-c', 'ip link set lo up && exec /usr/bin/python3 "$0"', script]);
  assert.strictEqual(native.status, 0, h.describe('native', native));
  const sandbox = h.runSandbox(['/usr/bin/python3', script], { cwd: '/', timeout: 100_000 });
  assert.strictEqual(sandbox.status, 0, h.describe('sandbox', sandbox));
  assert.strictEqual(sandbox.stdout, native.stdout);
  assert.match(sandbox.stdout, /^partial dropped$/m);
});

test('a refused connect may be retried, and RFC 3542 hop limit and traffic class control messages on UDP over IPv6, match native', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['/usr/bin/python3', 'unshare', 'ip'])) return;
  const script = path.join(DIR, 'reconnect.py');
  const native = h.runNative(['unshare', '--map-root-user', '--net', 'sh', '-c', 'ip link set lo up && exec /usr/bin/python3 "$0"', script]);
  assert.strictEqual(native.status, 0, h.describe('native', native));
  const sandbox = h.runSandbox(['/usr/bin/python3', script], { cwd: '/', timeout: 100_000 });
  assert.strictEqual(sandbox.status, 0, h.describe('sandbox', sandbox));
  assert.strictEqual(sandbox.stdout, native.stdout);
  assert.match(sandbox.stdout, /^blocking again: OK$/m);
  assert.match(sandbox.stdout, /^b'one' \[\(41, 52, 7\), \(41, 67, 40\)\] $/m);
});

test('connect floods, thousands of connections and unread senders stay inside a 96 MiB sandbox', { timeout: 300_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-inetflood-');
  const bin = path.join(dir, 'inetflood');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'inetflood.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const log = path.join(dir, 'debug.log');
  const r = h.runSandbox(['/bin/sh', '-c', `${bin}; echo "status $?"`], { cwd: '/', flags: ['--memory', '96m', '--debug-log', log], timeout: 280_000 });
  assert.strictEqual(r.status, 0, h.describe('inetflood', r));
  // The listener that never accepts keeps a bounded queue: connects beyond it are left in SYN-SENT (EINPROGRESS).
  assert.match(r.stdout, /^connect flood: 3000 in progress, 0 other$/m);
  const made = Number(/^connections: (\d+) made/m.exec(r.stdout)?.[1]);
  assert.ok(made >= 500, r.stdout);
  // Writers meet back-pressure (EAGAIN) or the spent budget (ENOBUFS), never an unbounded queue.
  assert.match(r.stdout, /^writers: (wrote|nothing), \d+ full, \d+ budget errnos$/m);
  assert.match(r.stdout, /^after: alive$/m);
  assert.match(r.stdout, /^status 0$/m);
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs');
});

test('busybox ping -I lo (SO_BINDTODEVICE on a raw ICMP socket) over 127.0.0.1 and ::1, and an unknown interface, as in a fresh namespace', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['unshare', 'ip', 'busybox'])) return;
  const bb = childProcess.execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim();
  const script = `for a in 127.0.0.1 ::1; do ${bb} ping -c 2 -W 5 -I lo $a | grep transmitted; echo "status $?"; done; ` +
    `${bb} ping -c 1 -W 2 -I nosuch0 127.0.0.1 2>&1; echo "status $?"`;
  const native = h.runNative(['unshare', '--map-root-user', '--net', 'sh', '-c', `ip link set lo up && ${script}`]);
  assert.strictEqual(native.status, 0, h.describe('native', native));
  const sandbox = h.runSandbox(['/bin/sh', '-c', script], { cwd: '/', flags: ['--network', 'none'] });
  assert.strictEqual(sandbox.status, 0, h.describe('sandbox', sandbox));
  assert.strictEqual(sandbox.stdout, native.stdout);
  assert.match(native.stdout, /^2 packets transmitted, 2 packets received/m);
});

// IPv4 options on a ping socket (net/ip/ipopts.ts): the request records the route both ways, the stack's echo reply carries them back
// echoed (Linux's icmp_reply). Natively the namespace must admit its root's group to ping sockets.
test('IPv4 record route through a ping socket and the echo reply matches native', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc', 'unshare', 'ip'])) return;
  const bin = h.buildPrograms().pingopts.static;
  const native = h.runNative(['unshare', '--map-root-user', '--net', 'sh', '-c', 'ip link set lo up && echo 0 0 > /proc/sys/net/ipv4/ping_group_range && exec "$0"', bin]);
  assert.strictEqual(native.status, 0, h.describe('native', native));
  const sandbox = h.runSandbox([bin], { cwd: '/', timeout: 100_000 });
  assert.strictEqual(sandbox.status, 0, h.describe('sandbox', sandbox));
  assert.strictEqual(sandbox.stdout, native.stdout);
  assert.match(sandbox.stdout, /cmsg 0\/6: 07 27 14 7f/);
});
