'use strict';
// The interface a socket is tied to and IPv6 scope ids on the Sentry's stack,
// with two Ethernet interfaces whose link-local networks are the same
// fe80::/64 (what no namespace with loopback only can show, so the C program
// test/c/inetscope.c cannot): a scope id picks the interface a datagram or a
// connection leaves by and is reported back by getsockname, getpeername and
// recvfrom; SO_BINDTODEVICE keeps routes through other interfaces and traffic
// that came in on them away from the socket.

const assert = require('node:assert');
const { test } = require('node:test');
const { Stack } = require('../../dist/net/stack');
const { UdpSocket } = require('../../dist/net/udp_socket');
const { TcpSocket } = require('../../dist/net/tcp_socket');
const { parseFrame } = require('../../dist/net/ip/ip');
const { PseudoFs } = require('../../dist/vfs/numbering');
const { Credentials } = require('../../dist/auth/creds');
const { defaultNetSysctl } = require('../../dist/kernel/netinfo');
const { bufferSource } = require('../../dist/socket/socket');
const { segment, writeTcp, optionsLength, SYN, RST, TCP_HLEN } = require('../../dist/net/tcp/segment');

const AF_INET6 = 10;
const LL0 = 'fe800000000000000000000000000a00';
const LL1 = 'fe800000000000000000000000000b00';
const PEER = 'fe800000000000000000000000000c00';
const V4_0 = '00000000000000000000ffff0a000002';

function world() {
  const env = { heap: null, nowMs: () => 0, randomU32: () => 0x12345678, newTimer: () => ({ arm() {}, cancel() {} }) };
  const s = new Stack(env);
  const nic = (name, index) => ({
    name, index, mtu: 1500, checksumOffload: true, sent: [],
    stats: { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0 },
    transmit(f) { this.sent.push(f); },
  });
  const eth0 = nic('eth0', 2);
  const eth1 = nic('eth1', 3);
  s.attach(eth0, [LL0, V4_0], false);
  s.attach(eth1, [LL1], false);
  s.addOnLink(eth0, 'fe80' + '0'.repeat(28), 64, LL0);
  s.addOnLink(eth1, 'fe80' + '0'.repeat(28), 64, LL1);
  s.addOnLink(eth0, V4_0.slice(0, 30) + '00', 120, V4_0);
  const inet = { stack: s, sockfs: new PseudoFs(1), sysctl: defaultNetSysctl(), nowNs: () => 0, realtimeNs: () => 0, sigurg() {} };
  const t = { creds: new Credentials() };
  return { s, eth0, eth1, inet, t };
}

/** A sockaddr_in6 for ip (32 hex digits), port and scope id. */
function sa6(ip, port, scope) {
  const b = Buffer.alloc(28);
  b.writeUInt16LE(AF_INET6, 0);
  b.writeUInt16BE(port, 2);
  b.write(ip, 8, 'hex');
  b.writeUInt32LE(scope, 24);
  return b;
}
const scopeOf = (b) => b.readUInt32LE(24);
const ipOf = (b) => b.toString('hex', 8, 24);

/** A UDP frame (Ethernet, IPv6) from src:sport to dst:dport, built by a scratch stack's send path. */
function udpFrame(src, sport, dst, dport, data) {
  const env = { heap: null, nowMs: () => 0, randomU32: () => 1, newTimer: () => ({ arm() {}, cancel() {} }) };
  const s = new Stack(env);
  const out = { name: 'x', index: 2, mtu: 1500, checksumOffload: true, stats: { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0 }, sent: [], transmit(f) { this.sent.push(f); } };
  s.attach(out, [src], true);
  s.sendUdp(src, sport, dst, dport, data, 0, 64);
  return out.sent[0];
}

test('routes: a scope id or tied socket picks the interface; one that does not exist, or has no route there, fails as Linux', () => {
  const { s, eth0, eth1 } = world();
  assert.strictEqual(s.route(PEER).nic, eth0, 'no scope: the first fe80::/64');
  assert.deepStrictEqual(s.route(PEER, 3), { nic: eth1, src: LL1 });
  assert.deepStrictEqual(s.route(PEER, 2), { nic: eth0, src: LL0 });
  assert.throws(() => s.route(PEER, 9), { message: 'ENETUNREACH' });
  assert.throws(() => s.route(V4_0.slice(0, 30) + '07', 9), { message: 'ENODEV' });
  assert.throws(() => s.route(V4_0.slice(0, 30) + '07', 3), { message: 'ENETUNREACH' }, 'eth1 has no IPv4 route');
  assert.throws(() => s.route(PEER, 1), { message: 'ENETUNREACH' }, 'lo carries no link-local traffic');
  assert.strictEqual(s.route('00000000000000000000ffff7f000001', 1).nic, s.lo);
  assert.throws(() => s.route('00000000000000000000ffff7f000001', 2), { message: 'ENETUNREACH' });
});

test('UDP: bind, sendto and recvfrom with scope ids; a socket tied to eth1 ignores what comes in on eth0', () => {
  const { s, eth0, eth1, inet, t } = world();
  const u = new UdpSocket(inet, AF_INET6, 0);
  assert.throws(() => u.bind(t, sa6(LL1, 5000, 0)), { message: 'EINVAL' });
  assert.throws(() => u.bind(t, sa6(LL1, 5000, 2)), { message: 'EADDRNOTAVAIL' }, 'fe80::b00 is eth1\'s, not eth0\'s');
  assert.throws(() => u.bind(t, sa6(LL1, 5000, 7)), { message: 'ENODEV' });
  u.bind(t, sa6(LL1, 5000, 3));
  const name = u.sockname();
  assert.strictEqual(ipOf(name), LL1);
  assert.strictEqual(scopeOf(name), 3);
  // sendto a link-local peer: out of eth1 (the socket's interface), from its address.
  u.sendmsg(t, { data: bufferSource(Buffer.from('hi')), flags: 0, addr: sa6(PEER, 7, 0), rights: null, cred: null });
  assert.strictEqual(eth0.sent.length, 0);
  assert.strictEqual(eth1.sent.length, 1);
  assert.strictEqual(parseFrame(eth1.sent[0], {}).src, LL1);
  // The same datagram arriving on eth0 is not for a socket tied to eth1 (a port unreachable goes back instead); on eth1 it is, with scope 3.
  const f = () => udpFrame(PEER, 7, LL1, 5000, Buffer.from('yo'));
  s.receive(eth0, f());
  s.flush();
  assert.throws(() => u.recvmsg(t, 100, 0x40), { message: 'EAGAIN' });
  s.receive(eth1, f());
  s.flush();
  const r = u.recvmsg(t, 100, 0x40);
  assert.strictEqual(r.data.toString(), 'yo');
  assert.strictEqual(ipOf(r.addr), PEER);
  assert.strictEqual(scopeOf(r.addr), 3);
});

test('UDP: an unbound socket\'s sendto with a scope id leaves by that interface; connect needs a scope and keeps it', () => {
  const { eth0, eth1, inet, t } = world();
  const u = new UdpSocket(inet, AF_INET6, 0);
  u.sendmsg(t, { data: bufferSource(Buffer.from('a')), flags: 0, addr: sa6(PEER, 7, 3), rights: null, cred: null });
  assert.strictEqual(eth1.sent.length, 1);
  assert.strictEqual(parseFrame(eth1.sent[0], {}).src, LL1);
  u.sendmsg(t, { data: bufferSource(Buffer.from('b')), flags: 0, addr: sa6(PEER, 7, 2), rights: null, cred: null });
  assert.strictEqual(eth0.sent.length, 1);
  assert.strictEqual(parseFrame(eth0.sent[0], {}).src, LL0);
  const c = new UdpSocket(inet, AF_INET6, 0);
  assert.throws(() => c.connect(t, sa6(PEER, 7, 0)), { message: 'EINVAL' });
  c.connect(t, sa6(PEER, 7, 3));
  assert.strictEqual(scopeOf(c.peername()), 3);
  assert.strictEqual(scopeOf(c.sockname()), 3);
  assert.strictEqual(ipOf(c.sockname()), LL1);
  assert.throws(() => c.connect(t, sa6(PEER, 7, 2)), { message: 'EINVAL' }, 'tied to eth1 already');
});

test('SO_BINDTODEVICE: a name the stack has ties the socket, others are ENODEV; the value reads back', () => {
  const { eth0, eth1, inet, t } = world();
  const u = new UdpSocket(inet, AF_INET6, 0);
  const SOL_SOCKET = 1;
  assert.throws(() => u.setsockopt(t, SOL_SOCKET, 25, Buffer.from('eth9\0')), { message: 'ENODEV' });
  u.setsockopt(t, SOL_SOCKET, 25, Buffer.from('eth1\0'));
  assert.strictEqual(u.getsockopt(t, SOL_SOCKET, 25).toString('latin1'), 'eth1\0');
  assert.strictEqual(u.getsockopt(t, SOL_SOCKET, 62).readInt32LE(0), 3);
  u.sendmsg(t, { data: bufferSource(Buffer.from('a')), flags: 0, addr: sa6(PEER, 7, 0), rights: null, cred: null });
  assert.strictEqual(eth1.sent.length, 1);
  assert.strictEqual(eth0.sent.length, 0);
  // Without CAP_NET_RAW a tied socket stays tied.
  const nocap = { creds: new Credentials(1000, 1000, 1000, 1000) };
  assert.throws(() => u.setsockopt(nocap, SOL_SOCKET, 25, Buffer.alloc(0)), { message: 'EPERM' });
  u.setsockopt(t, SOL_SOCKET, 62, Buffer.from([0, 0, 0, 0]));
  assert.strictEqual(u.getsockopt(t, SOL_SOCKET, 25).length, 0);
});

/** An Ethernet frame with a TCP SYN from PEER:port to dst:80, checksummed. */
function synFrame(dst, port) {
  const seg = segment(port, 80, 1000, 0, SYN, 65535);
  const f = Buffer.alloc(54 + TCP_HLEN + optionsLength(seg, true));
  writeTcp(f, 54, seg, false, PEER, dst);
  f.writeUInt16BE(0x86dd, 12);
  f.writeUInt32BE(0x60000000, 14);
  f.writeUInt16BE(f.length - 54, 18);
  f[20] = 6;
  f[21] = 64;
  f.write(PEER, 22, 'hex');
  f.write(dst, 38, 'hex');
  return f;
}
const tcpFlags = (f) => parseFrame(f, {}).payload[13];

test('TCP: a listener tied to eth1 does not see a SYN that came in on eth0; a connection to a link-local peer leaves by the scope\'s interface', () => {
  const { s, eth0, eth1, inet, t } = world();
  const l = new TcpSocket(inet, AF_INET6, 0);
  l.setsockopt(t, 1, 25, Buffer.from('eth1\0'));
  l.bind(t, sa6('0'.repeat(32), 80, 0));
  l.listen(t, 8);
  s.receive(eth0, synFrame(LL0, 1111));
  s.flush();
  assert.strictEqual(eth0.sent.length, 1);
  assert.strictEqual(tcpFlags(eth0.sent[0]) & (RST | SYN), RST, 'refused on eth0');
  s.receive(eth1, synFrame(LL1, 2222));
  s.flush();
  assert.strictEqual(eth1.sent.length, 1);
  assert.strictEqual(tcpFlags(eth1.sent[0]) & (RST | SYN), SYN, 'a SYN-ACK on eth1');
  const c = new TcpSocket(inet, AF_INET6, 0o4000);
  assert.throws(() => c.connect(t, sa6(PEER, 80, 0)), { message: 'EINVAL' });
  assert.throws(() => c.connect(t, sa6(PEER, 80, 3)), { message: 'EINPROGRESS' });
  assert.strictEqual(eth1.sent.length, 2, 'the SYN');
  assert.strictEqual(parseFrame(eth1.sent[1], {}).src, LL1);
  assert.strictEqual(scopeOf(c.sockname()), 3);
  assert.strictEqual(c.getsockopt(t, 1, 62).readInt32LE(0), 3, 'the scope id tied the socket');
});

test('ping sockets: an echo reply is read only when it came in on the socket\'s interface, with the scope id of a link-local sender', () => {
  const { s, eth0, eth1, inet, t } = world();
  const { PingSocket } = require('../../dist/net/ping_socket');
  const { finish } = require('../../dist/net/icmp');
  const p = new PingSocket(inet, AF_INET6, 0);
  p.setsockopt(t, 1, 25, Buffer.from('eth1\0'));
  const req = Buffer.from([128, 0, 0, 0, 0, 0, 0, 1, 0x61, 0x62]);
  p.sendmsg(t, { data: bufferSource(req), flags: 0, addr: sa6(PEER, 0, 0), rights: null, cred: null });
  assert.strictEqual(eth1.sent.length, 1, 'the request left by eth1');
  assert.strictEqual(eth0.sent.length, 0);
  const id = parseFrame(eth1.sent[0], {}).payload.readUInt16BE(4);
  /** The echo reply from PEER to LL1 as a frame (a scratch stack writes the headers). */
  const reply = () => {
    const env = { heap: null, nowMs: () => 0, randomU32: () => 1, newTimer: () => ({ arm() {}, cancel() {} }) };
    const x = new Stack(env);
    const out = { name: 'x', index: 2, mtu: 1500, checksumOffload: true, stats: { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0 }, sent: [], transmit(f) { this.sent.push(f); } };
    x.attach(out, [PEER], true);
    const msg = Buffer.from([129, 0, 0, 0, 0, 0, 0, 1, 0x61, 0x62]);
    msg.writeUInt16BE(id, 4);
    x.sendRaw(PEER, LL1, 58, finish(msg, false, PEER, LL1));
    return out.sent[0];
  };
  s.receive(eth0, reply());
  s.flush();
  assert.throws(() => p.recvmsg(t, 100, 0x40), { message: 'EAGAIN' });
  s.receive(eth1, reply());
  s.flush();
  const r = p.recvmsg(t, 100, 0x40);
  assert.strictEqual(r.data[0], 129);
  assert.strictEqual(ipOf(r.addr), PEER);
  assert.strictEqual(scopeOf(r.addr), 3);
});
