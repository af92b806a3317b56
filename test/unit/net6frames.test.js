'use strict';
// IPv6 frames arriving at the stack's eth0 (and at the NAT, its other end):
// extension headers are walked within bounds (options and a finished routing
// header passed over, fragments, routing still to do, chains too long or
// running past the packet dropped and counted), and hostile frames never
// throw out of the stack or the NAT.

const assert = require('node:assert');
const { test } = require('node:test');
const { Stack } = require('../../dist/net/stack');
const { defaultTcbOptions } = require('../../dist/net/tcp/params');
const { Listener } = require('../../dist/net/tcp/listener');
const { parseFrame } = require('../../dist/net/ip/ip');
const { segment, writeTcp, optionsLength, SYN, ACK, TCP_HLEN } = require('../../dist/net/tcp/segment');
const { finish } = require('../../dist/net/icmp');
const { Nat, GUEST6, GATEWAY6 } = require('../../dist/net/nat/nat');

const ANY6 = '0'.repeat(32);
const PEER = 'fd000000000000000000000000000002';
const ME = 'fd00000000000000505400fffe123456';

/** A stack with eth0 (fd00::5054:ff:fe12:3456, default route) whose transmitted frames are kept, and a listener on [::]:80. */
function world() {
  const env = {
    heap: null, nowMs: () => 0, randomU32: () => 0x12345678,
    newTimer: () => ({ arm() {}, cancel() {} }),
  };
  const s = new Stack(env);
  const sent = [];
  const nic = {
    name: 'eth0', index: 2, mtu: 1500, checksumOffload: false,
    stats: { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0 },
    transmit(f) { sent.push(f); },
  };
  s.attach(nic, [ME], true);
  const b = { ip: ANY6, port: 80, v6only: false, reuseAddr: false, reusePort: false, uid: 0, listening: true, forConnect: false, ino: 1 };
  s.tcpPorts.bind(b);
  const l = new Listener(s, 8, defaultTcbOptions(), () => {}, (c) => s.addConn(c, { ...b, ino: 0 }));
  s.listeners.set(b, l);
  const feed = (f) => assert.doesNotThrow(() => { s.receive(nic, f); s.flush(); });
  return { s, sent, feed };
}

/** The bytes of a TCP SYN from PEER:port to ME:80, checksummed. */
function synBytes(port) {
  const seg = segment(port, 80, 1000, 0, SYN, 65535);
  seg.mss = 1440;
  const room = 54;
  const f = Buffer.alloc(room + TCP_HLEN + optionsLength(seg, true));
  writeTcp(f, room, seg, false, PEER, ME);
  return f.subarray(room);
}

/** An Ethernet frame with an IPv6 header (next header nh) and then body (extension headers and the transport bytes). */
function frame6(nh, body, src = PEER, dst = ME) {
  const f = Buffer.alloc(14 + 40 + body.length);
  f.writeUInt16BE(0x86dd, 12);
  f.writeUInt32BE(0x60000000, 14);
  f.writeUInt16BE(body.length, 18);
  f[20] = nh;
  f[21] = 64;
  f.write(src, 22, 'hex');
  f.write(dst, 38, 'hex');
  body.copy(f, 54);
  return f;
}

/** An extension header: next header, and len8 8-byte units after the first (PadN filling it). */
function ext(next, len8 = 0, third = 0) {
  const e = Buffer.alloc((len8 + 1) * 8);
  e[0] = next;
  e[1] = len8;
  e[2] = 1; // PadN over the rest (options headers); a routing header's type
  e[3] = third; // PadN's length, or a routing header's segments left
  return e;
}

const synAcks = (sent) => sent.filter((f) => {
  const p = parseFrame(f, {});
  return p && !p.v4 && p.proto === 6 && (p.payload[13] & (SYN | ACK)) === (SYN | ACK);
}).length;

test('a SYN behind hop-by-hop, destination options and a finished routing header is answered', () => {
  const w = world();
  const syn = synBytes(40001);
  w.feed(frame6(0, Buffer.concat([ext(60, 1, 4), ext(43, 0, 0), ext(6), syn])));
  assert.strictEqual(synAcks(w.sent), 1, JSON.stringify(w.s.counters));
  w.feed(frame6(6, synBytes(40002)));
  assert.strictEqual(synAcks(w.sent), 2);
});

test('hostile IPv6 frames and extension header chains are dropped and counted, never thrown', () => {
  const w = world();
  const syn = synBytes(40003);
  const chain = (n) => {
    const parts = [];
    for (let i = 0; i < n; i++) parts.push(ext(i === n - 1 ? 6 : 60));
    return Buffer.concat([...parts, syn]);
  };
  const bad = [
    frame6(6, syn).subarray(0, 40), // truncated IPv6 header
    (() => { const f = frame6(6, syn); f.writeUInt16BE(4000, 18); return f; })(), // payload length past the frame
    (() => { const f = frame6(6, syn); f[14] = 0x40; return f; })(), // version 4 under the IPv6 type
    (() => { const e = ext(6); e[1] = 200; return frame6(0, Buffer.concat([e, syn])); })(), // an extension past the packet
    frame6(0, Buffer.alloc(4)), // an extension shorter than 8 bytes
    frame6(60, Buffer.concat([ext(0), ext(6), syn])), // hop-by-hop not first
    frame6(60, chain(9)), // a chain longer than 8
    frame6(44, Buffer.concat([ext(6), syn])), // a fragment
    frame6(43, Buffer.concat([ext(6, 0, 1), syn])), // a routing header with segments left
    frame6(59, syn), // no next header
    frame6(6, syn, 'ff020000000000000000000000000001'), // a multicast source
    frame6(200, syn), // an unknown protocol
    frame6(58, Buffer.alloc(3)), // ICMPv6 shorter than its header
    frame6(58, Buffer.from([128, 0, 0, 0, 0, 1, 0, 1])), // an echo request with a wrong checksum
    frame6(58, finish(Buffer.from([1, 4, 0, 0, 0, 0, 0, 0, 0x60, 0, 0]), false, PEER, ME)), // an error quoting a truncated packet
    frame6(17, Buffer.from([0, 53, 0, 53, 0, 8, 0, 0])), // UDP without a checksum
    frame6(136, Buffer.from([0, 53, 0, 53, 0, 3, 1, 2, 9])), // UDP-Lite coverage below its header
    frame6(136, Buffer.from([0, 53, 0, 53, 0, 40, 1, 2, 9])), // UDP-Lite coverage past the datagram
    frame6(136, Buffer.from([0, 53, 0, 53, 0, 0, 0, 0, 9])), // UDP-Lite without a checksum
    frame6(136, Buffer.from([0, 53])), // UDP-Lite shorter than its header
  ];
  for (const f of bad) w.feed(f);
  const c = w.s.counters;
  for (const k of ['Ip6InHdrErrors', 'Ip6InTruncatedPkts', 'Ip6ReasmFails', 'Ip6InNoNextHeader', 'Ip6InAddrErrors', 'Ip6InUnknownProtos', 'Icmp6InErrors', 'Icmp6InCsumErrors', 'UdpInErrors', 'UdpLiteInErrors', 'UdpLiteInCsumErrors']) {
    assert.ok(c[k] > 0, `${k} counted: ${JSON.stringify(c)}`);
  }
  assert.strictEqual(synAcks(w.sent), 0, 'nothing dropped was answered');
  // A valid echo request is answered after all that.
  w.feed(frame6(58, finish(Buffer.from([128, 0, 0, 0, 0, 1, 0, 1]), false, PEER, ME)));
  assert.ok(w.sent.some((f) => { const p = parseFrame(f, {}); return p && p.proto === 58 && p.payload[0] === 129; }));
  // Mutations of a valid SYN behind extension headers: one byte at a time, every value class.
  const good = frame6(0, Buffer.concat([ext(60, 1, 4), ext(6), syn]));
  for (let i = 14; i < good.length; i++) {
    for (const v of [0, 1, 6, 43, 44, 59, 60, 0x7f, 0xff]) {
      const f = Buffer.from(good);
      f[i] = v;
      w.feed(f);
    }
  }
});

test('the NAT drops hostile IPv6 frames from the stack without touching the host', () => {
  const env = { heap: null, nowMs: () => 0, randomU32: () => 1, newTimer: () => ({ arm() {}, cancel() {} }) };
  const s = new Stack(env);
  const no = () => { throw new Error('the host was used'); };
  const nat = new Nat(s, {
    events: { watch: no, unwatch: no, modify: no }, budget: { take: no, give: no }, heap: null, log: () => {},
    config: { publish: [], allowHostLoopback: false, resolvers: [], hostOwns: () => false },
  });
  assert.strictEqual(GUEST6, ME);
  assert.strictEqual(GATEWAY6, PEER);
  const syn = synBytes(40004);
  const frames = [
    frame6(44, Buffer.concat([ext(6), syn]), ME, PEER),
    frame6(60, Buffer.concat([ext(0), ext(6), syn]), ME, PEER),
    (() => { const e = ext(6); e[1] = 255; return frame6(0, Buffer.concat([e, syn]), ME, PEER); })(),
    frame6(6, Buffer.alloc(7), ME, PEER),
    frame6(17, Buffer.alloc(5), ME, PEER),
    frame6(58, Buffer.alloc(2), ME, PEER),
    frame6(58, Buffer.from([135, 0, 0, 0, 0, 0, 0, 0]), ME, PEER), // a neighbour solicitation: not carried
  ];
  for (const f of frames) assert.doesNotThrow(() => nat.fromSandbox(f));
  const c = nat.counters;
  for (const k of ['Ip6ReasmFails', 'Ip6InHdrErrors', 'Ip6InTruncatedPkts', 'TcpInHdrTrunc', 'UdpInErrors', 'NatIcmpDropped']) assert.ok(c[k] > 0, `${k} counted: ${JSON.stringify(c)}`);
});
