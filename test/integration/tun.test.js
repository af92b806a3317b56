'use strict';
// tun devices (net/tun/) beyond the C program compared in c_programs
// (test/c/tun.c): iproute2's `ip tuntap`, `ip addr` and `ip link` on a tun
// device of a fresh network namespace compared with native, and a hostile
// program (test/hostile/tunflood.c) that floods a device nobody reads,
// writes garbage and huge packets and makes devices until refused, inside a
// small sandbox that stays up with the device still carrying packets.

const assert = require('node:assert');
const childProcess = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');

const DIR = path.join(__dirname, 'tun');

test('ip tuntap add, addr add, link set up and down, tuntap del on a tun device match native', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['unshare', 'ip'])) return;
  if (!fs.existsSync('/dev/net/tun')) return t.skip('no /dev/net/tun on the host to compare with');
  const script = path.join(DIR, 'iproute.sh');
  const native = h.runNative(['unshare', '--map-root-user', '--net', 'sh', script]);
  assert.strictEqual(native.status, 0, h.describe('native', native));
  const sandbox = h.runSandbox(['unshare', '-n', 'sh', script], { cwd: '/', timeout: 100_000 });
  assert.strictEqual(sandbox.status, 0, h.describe('sandbox', sandbox));
  assert.strictEqual(sandbox.stdout, native.stdout);
  assert.match(native.stdout, /^10\.7\.0\.0\/24 dev tt0 proto kernel scope link src 10\.7\.0\.1 linkdown $/m);
  assert.match(native.stdout, /^end$/m);
});

test('a tun flood, garbage, huge writes and device after device stay bounded inside a 96 MiB sandbox', { timeout: 180_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-tunflood-');
  const bin = path.join(dir, 'tunflood');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'tunflood.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const log = path.join(dir, 'debug.log');
  const r = h.runSandbox(['/bin/sh', '-c', `${bin} 1000; echo "status $?"`], { cwd: '/', flags: ['--memory', '96m', '--debug-log', log], timeout: 170_000 });
  assert.strictEqual(r.status, 0, h.describe('tunflood', r));
  // What Linux does too (checked natively when the host has /dev/net/tun).
  const common = ['flood: sent 3000, queued at most 500: 1', 'garbage: 20000 of 20000 taken', 'write 1 MiB: 1048576', 'write echo: 28', 'echo reply: 1',
    'tap garbage: 20000 of 20000 taken', 'arp requests: 5000 of 5000 taken'];
  for (const line of common) assert.ok(r.stdout.includes(line + '\n'), `${line}\n${r.stdout}`);
  if (fs.existsSync('/dev/net/tun')) {
    const native = h.runNative(['unshare', '--map-root-user', '--net', bin, '100']);
    for (const line of common) assert.ok(native.stdout.includes(line + '\n'), `native: ${line}\n${native.stdout}`);
  }
  // Linux has no bound of its own; the sandbox's is 64 devices a namespace (net/tun/device.ts), the flood's TUN and TAP included.
  // Linux answers asynchronously (none may be queued yet when it reads); the sandbox before write returns.
  assert.match(r.stdout, /^arp answers: at most 500 queued: 1$/m);
  assert.match(r.stdout, /^devices: made 62, then Cannot allocate memory$/m);
  assert.match(r.stdout, /^after: alive$/m);
  assert.match(r.stdout, /^status 0$/m);
  const bugs = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('BUG'));
  assert.deepStrictEqual(bugs, [], 'Sentry bugs');
});

test('IPv6 over a tun device: a datagram read from the fd and a crafted reply received, as native', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['unshare', 'ip', '/usr/bin/python3'])) return;
  if (!fs.existsSync('/dev/net/tun')) return t.skip('no /dev/net/tun on the host to compare with');
  const script = path.join(DIR, 'ipv6.py');
  const native = h.runNative(['unshare', '--map-root-user', '--net', 'sh', '-c', 'ip link set lo up && exec /usr/bin/python3 "$0"', script]);
  assert.strictEqual(native.status, 0, h.describe('native', native));
  const sandbox = h.runSandbox(['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec /usr/bin/python3 "$0"', script], { cwd: '/', timeout: 100_000 });
  assert.strictEqual(sandbox.status, 0, h.describe('sandbox', sandbox));
  assert.strictEqual(sandbox.stdout, native.stdout);
  assert.match(native.stdout, /^recv b'back'$/m);
});

// IPv4 options from outside the stack (net/ip/ipopts.ts): echo requests written into a TUN device, well-formed options echoed back with
// what the stack recorded, malformed and source-routed ones unanswered, 300 random ones answered as often as Linux answers them.
test('echo requests with hostile IPv4 options through a tun device are answered or dropped as native', { timeout: 120_000 }, (t) => {
  if (!h.needTools(t, ['gcc'])) return;
  const dir = h.tmpDir('tsvisor-tunopts-');
  const bin = path.join(dir, 'tunopts');
  const cc = childProcess.spawnSync('gcc', ['-O1', '-Wall', '-Werror', '-static', '-o', bin, path.join(__dirname, '..', 'hostile', 'tunopts.c')], { encoding: 'utf8' });
  assert.strictEqual(cc.status, 0, cc.stderr);
  const r = h.runSandbox([bin], { cwd: '/', timeout: 100_000 });
  assert.strictEqual(r.status, 0, h.describe('tunopts', r));
  assert.match(r.stdout, /^rr: 07 0b 0c 0a 05 00 01 0a 05 00 01 00$/m);
  assert.match(r.stdout, /^rr len past: no reply$/m);
  assert.match(r.stdout, /^after: 07 07 08 0a 05 00 01 00\ndone\n$/m);
  if (!fs.existsSync('/dev/net/tun')) return;
  const native = h.runNative(['unshare', '--map-root-user', '--net', bin]);
  assert.strictEqual(native.status, 0, h.describe('native', native));
  assert.strictEqual(r.stdout, native.stdout);
});
