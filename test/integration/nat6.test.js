'use strict';
// IPv6 on the sandbox's eth0 in `tsvisor do --network sandbox`: the stack has
// fd00::5054:ff:fe12:3456/64 with a default route via fd00::2 (slirp4netns's
// addresses), and the user-mode NAT carries IPv6 TCP, UDP and ICMPv6 echo to
// host IPv6 sockets (fd00::2 is the host's ::1 with --allow-host-loopback).
// The same C program runs natively in a network namespace where fd00::2 is
// an address of lo, and in the sandbox, against one server on [::].

const assert = require('node:assert');
const path = require('node:path');
const { test } = require('node:test');
const h = require('../lib/harness');
const netns = require('../lib/netns');

const DIR = path.join(__dirname, 'nat');

test('IPv6 TCP and UDP from the sandbox to a host server at fd00::2 match native; refused (EACCES) without --allow-host-loopback', { timeout: 300_000 }, async (t) => {
  if (!h.needTools(t, ['gcc', 'python3', 'unshare', 'ip'])) return;
  const bin = netns.cbin(DIR, 'inet6');
  const r = await netns.inNetns(t, `
ip addr add fd00::2/64 dev lo nodad
python3 ${path.join(DIR, 'echo6.py')} 8000 &
wait_port 8000 ::1
echo native; ${bin} fd00::2 8000 8100
echo sandbox; $TSV --allow-host-loopback -- ${bin} fd00::2 8000 8100
echo default; $TSV -- ${bin} fd00::2 8000 8100`);
  assert.strictEqual(r.status, 0, h.describe('script', r));
  const [native, sandbox, dflt] = r.stdout.split(/^(?:native|sandbox|default)\n/m).slice(1);
  assert.strictEqual(native, [
    'tcp connect: OK', 'tcp peer: [fd00::2]:8000 family AF_INET6', 'tcp local: fd00::/64 yes', 'tcp echo: hello over IPv6', 'tcp eof: 0',
    'tcp closed port: ECONNREFUSED', 'udp connected: OK ping6', 'udp unconnected: OK datagram from [fd00::2]:8001', 'udp closed port: ECONNREFUSED', '',
  ].join('\n'), r.stderr);
  assert.strictEqual(sandbox, native, r.stderr);
  // The host's loopback is administratively prohibited (ICMPv6 code 1): EACCES, as Linux reports it to TCP and to a connected UDP socket.
  assert.deepStrictEqual(dflt.split('\n').filter((l) => !l.startsWith('udp unconnected')), [
    'tcp connect: EACCES', 'tcp closed port: EACCES', 'udp connected: EACCES ', 'udp closed port: EACCES', '',
  ], r.stderr);
});

test('eth0\'s IPv6 address and routes as ip(8) and /proc/net/if_inet6 show them', { timeout: 120_000 }, async (t) => {
  if (!h.needTools(t, ['unshare', 'ip'])) return;
  const r = await netns.inNetns(t, `$TSV -- sh -c 'ip -6 addr show dev eth0; ip -6 route; ip -6 route show table local; cat /proc/net/if_inet6'`);
  assert.strictEqual(r.status, 0, h.describe('script', r));
  assert.match(r.stdout, /inet6 fd00::5054:ff:fe12:3456\/64 scope global/);
  assert.match(r.stdout, /^fd00::\/64 dev eth0 proto kernel metric 256/m);
  assert.match(r.stdout, /^default via fd00::2 dev eth0 .*metric 1024/m);
  assert.match(r.stdout, /^local fd00::5054:ff:fe12:3456 dev eth0/m);
  assert.match(r.stdout, /^fd00000000000000505400fffe123456 02 40 00 80 +eth0$/m);
});

test('ICMPv6 echo: ping sockets reach fd00::2 only with --allow-host-loopback and ::1 always, as native; busybox ping -6 (raw ICMPv6) too', { timeout: 300_000 }, async (t) => {
  if (!h.needTools(t, ['gcc', 'unshare', 'ip', 'busybox', 'sysctl'])) return;
  const bin = netns.cbin(DIR, 'icmpecho');
  // The namespace's ping_group_range (IPv4's sysctl rules ICMPv6 ping sockets too) admits everyone: the native run and the Sentry's host sockets.
  const r = await netns.inNetns(t, `
ip addr add fd00::2/64 dev lo nodad
sysctl -qw net.ipv4.ping_group_range="0 2147483647"
echo native; ${bin} fd00::2 ::1
echo allowed; $TSV --allow-host-loopback -- ${bin} fd00::2 ::1
echo default; $TSV -- ${bin} fd00::2 fd00::99
echo none; $TSV --network none -- ${bin} ::1 fd00::2
echo busybox; $TSV --allow-host-loopback -- busybox ping -6 -c 2 -W 5 fd00::2 | grep -E 'transmitted'
$TSV -- busybox ping -6 -c 1 -W 5 ::1 | grep -E 'transmitted'
$TSV -u 65534 -- busybox ping -6 -c 1 -W 5 ::1 2>&1 | grep ping:
true`);
  assert.strictEqual(r.status, 0, h.describe('script', r));
  assert.deepStrictEqual(r.stdout.trim().split('\n'), [
    'native', 'fd00::2: 3 replies', '::1: 3 replies',
    'allowed', 'fd00::2: 3 replies', '::1: 3 replies',
    'default', 'fd00::2: 0 replies', 'fd00::99: 0 replies',
    'none', '::1: 3 replies', 'fd00::2: sendto: ENETUNREACH', 'fd00::2: 0 replies',
    'busybox', '2 packets transmitted, 2 packets received, 0% packet loss', '1 packets transmitted, 1 packets received, 0% packet loss',
    'ping: permission denied (are you root?)',
  ], r.stderr);
});
