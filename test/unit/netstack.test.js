'use strict';
// The network stack without a sandbox: malformed packets are dropped and
// counted (never thrown), and TCP delivers a stream intact across a lossy
// fake link that drops, reorders and duplicates segments, with the
// retransmission timer driven by a fake clock.

const assert = require('node:assert');
const { test } = require('node:test');
const { Stack } = require('../../dist/net/stack');
const { Tcb } = require('../../dist/net/tcp/tcb');
const { defaultTcbOptions } = require('../../dist/net/tcp/params');
const { Listener } = require('../../dist/net/tcp/listener');
const { parseFrame } = require('../../dist/net/ip/ip');
const { parseTcp } = require('../../dist/net/tcp/segment');
const { parseUdp } = require('../../dist/net/udp');

const LOOP4 = '00000000000000000000ffff7f000001';

/** A stack over a fake clock and a link that verifies checksums and may drop, reorder and duplicate. */
function world(lossy) {
  let now = 0;
  const timers = new Set();
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const env = {
    heap: null,
    nowMs: () => now,
    newTimer: (target) => {
      const tm = { at: 0, target, arm(at) { tm.at = at; timers.add(tm); }, cancel() { timers.delete(tm); } };
      return tm;
    },
    randomU32: () => (rnd() * 2 ** 32) >>> 0,
  };
  const held = [];
  const stats = { dropped: 0, duplicated: 0, reordered: 0 };
  const nic = {
    name: 'fake0', index: 1, mtu: 1500, checksumOffload: false,
    stats: { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0 },
    transmit(frame) {
      if (!lossy) return void s.receive(nic, frame);
      const r = rnd();
      if (r < 0.1) return void stats.dropped++;
      if (r < 0.15) {
        stats.duplicated++;
        s.receive(nic, Buffer.from(frame));
      }
      if (r > 0.85) {
        stats.reordered++;
        held.push(frame);
        return;
      }
      s.receive(nic, frame);
      if (held.length && rnd() < 0.5) s.receive(nic, held.shift());
    },
  };
  const s = new Stack(env, nic);
  const step = (ms) => {
    now += ms;
    while (held.length) s.receive(nic, held.shift());
    s.flush();
    for (const tm of [...timers]) {
      if (tm.at <= now && timers.has(tm)) {
        timers.delete(tm);
        tm.target.onTimer();
      }
    }
    s.flush();
  };
  return { s, step, stats, now: () => now };
}

function connectPair(w) {
  const { s } = w;
  const b = { ip: LOOP4, port: 80, v6only: false, reuseAddr: false, reusePort: false, uid: 0, listening: true, forConnect: false, ino: 1 };
  s.tcpPorts.bind(b);
  const opts = { ...defaultTcbOptions(), nodelay: true };
  const l = new Listener(s, 8, opts, () => {}, (c) => s.addConn(c, { ...b, ino: 0 }));
  s.listeners.set(b, l);
  const c = new Tcb(s, LOOP4, 40000, LOOP4, 80, true, opts, 1500);
  s.addConn(c, b);
  c.owner = { wake() {} };
  c.connect();
  s.flush();
  let srv = null;
  for (let i = 0; i < 200 && !(srv = l.take()); i++) w.step(250);
  assert.ok(srv, 'the handshake completes despite losses');
  srv.owner = { wake() {} };
  return { c, srv };
}

test('TCP delivers 2 MB intact over a link that drops, reorders and duplicates', () => {
  const w = world(true);
  const { c, srv } = connectPair(w);
  const data = Buffer.alloc(2 * 1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 10)) & 0xff;
  let off = 0;
  const got = [];
  let gotLen = 0;
  for (let i = 0; i < 200000 && gotLen < data.length; i++) {
    const n = Math.min(c.sndSpace, data.length - off, 65536);
    if (n > 0) {
      c.write(data.subarray(off, off + n), false);
      off += n;
    }
    w.s.flush();
    const r = srv.read(1 << 20, false);
    if (r.length) {
      got.push(r);
      gotLen += r.length;
    }
    w.step(5);
  }
  assert.strictEqual(gotLen, data.length);
  assert.ok(Buffer.concat(got).equals(data), 'the bytes are intact and in order');
  assert.ok(w.stats.dropped > 10 && w.stats.duplicated > 5 && w.stats.reordered > 10, JSON.stringify(w.stats));
  assert.ok((w.s.counters.TcpRetransSegs ?? 0) > 0, 'losses were repaired by retransmission');
  // The close goes through FIN_WAIT and TIME_WAIT to CLOSED on both sides, losses or not.
  c.shutdownWrite();
  srv.shutdownWrite();
  for (let i = 0; i < 4000 && (c.state !== 7 || srv.state !== 7); i++) w.step(100);
  assert.strictEqual(srv.state, 7, 'server CLOSED');
  assert.strictEqual(c.state, 7, 'client CLOSED after TIME_WAIT');
});

test('a connection to a closed port is refused with a reset', () => {
  const w = world(false);
  const c = new Tcb(w.s, LOOP4, 40001, LOOP4, 81, true, defaultTcbOptions(), 1500);
  w.s.addConn(c, { ip: LOOP4, port: 40001 });
  c.connect();
  w.s.flush();
  assert.strictEqual(c.state, 7);
  assert.strictEqual(c.err, 111); // ECONNREFUSED
});

test('the retransmission timer gives up on a peer that never answers (ETIMEDOUT)', () => {
  const w = world(false);
  const lost = w.s;
  lost.nics[0].transmit = () => {}; // a black hole
  const c = new Tcb(lost, LOOP4, 40002, LOOP4, 82, true, defaultTcbOptions(), 1500);
  lost.addConn(c, { ip: LOOP4, port: 40002 });
  c.connect();
  for (let i = 0; i < 1000 && c.state !== 7; i++) w.step(1000);
  assert.strictEqual(c.state, 7);
  assert.strictEqual(c.err, 110); // ETIMEDOUT after the SYN retries
});

/** A TCP segment over 127.0.0.1 with a correct checksum, so that what follows the checksum is what is tested. */
function summed(t) {
  let sum = 0x7f00 * 2 + 0x0001 * 2 + 6 + t.length;
  for (let i = 0; i < t.length; i += 2) sum += (t[i] << 8) | (t[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  t.writeUInt16BE(~sum & 0xffff, 16);
  return t;
}

function frame(v4, proto, transport) {
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(v4 ? 0x0800 : 0x86dd, 12);
  const ip = Buffer.alloc(v4 ? 20 : 40);
  if (v4) {
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + transport.length, 2);
    ip[8] = 64;
    ip[9] = proto;
    ip.writeUInt32BE(0x7f000001, 12);
    ip.writeUInt32BE(0x7f000001, 16);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    ip.writeUInt16BE(~sum & 0xffff, 10);
  } else {
    ip[0] = 0x60;
    ip.writeUInt16BE(transport.length, 4);
    ip[6] = proto;
    ip[7] = 64;
    ip[23] = 1;
    ip[39] = 1;
  }
  return Buffer.concat([eth, ip, transport]);
}

test('malformed frames, IP headers, TCP headers and options, and UDP lengths are dropped and counted', () => {
  const w = world(false);
  const s = w.s;
  const nic = s.nics[0];
  const bad = [
    Buffer.alloc(5), // shorter than Ethernet
    frame(true, 6, Buffer.alloc(0)).subarray(0, 25), // truncated IPv4 header
    (() => { const f = frame(true, 6, Buffer.alloc(20)); f[14 + 10] ^= 0xff; return f; })(), // IPv4 checksum
    (() => { const f = frame(true, 6, Buffer.alloc(20)); f.writeUInt16BE(9000, 14 + 2); return f; })(), // total length past the frame
    (() => { const f = frame(true, 6, Buffer.alloc(20)); f[14] = 0x43; return f; })(), // IHL below 5
    (() => { const f = frame(false, 6, Buffer.alloc(20)); f.writeUInt16BE(500, 14 + 4); return f; })(), // IPv6 payload length past the frame
    frame(true, 6, Buffer.alloc(10)), // TCP shorter than its header
    (() => { const t = Buffer.alloc(20); t[12] = 0xf0; return frame(true, 6, t); })(), // data offset past the segment
    (() => { const t = Buffer.alloc(24); t[12] = 0x60; t[20] = 2; t[21] = 40; return frame(true, 6, summed(t)); })(), // option length past the header
    (() => { const t = Buffer.alloc(24); t[12] = 0x60; t[20] = 8; t[21] = 1; return frame(true, 6, summed(t)); })(), // option length below 2
    (() => { const t = Buffer.alloc(20); t[12] = 0x50; t[13] = 0x02; return frame(true, 6, t); })(), // a TCP checksum that is wrong
    (() => { const u = Buffer.alloc(8); u.writeUInt16BE(4, 4); return frame(true, 17, u); })(), // UDP length below 8
    (() => { const u = Buffer.alloc(8); u.writeUInt16BE(100, 4); return frame(true, 17, u); })(), // UDP length past the packet
    (() => { const u = Buffer.alloc(8); u.writeUInt16BE(8, 4); return frame(false, 17, u); })(), // IPv6 UDP without a checksum
    frame(true, 99, Buffer.alloc(4)), // an unknown protocol
    frame(true, 1, Buffer.alloc(3)), // ICMP shorter than its header
  ];
  for (const f of bad) assert.doesNotThrow(() => { s.receive(nic, f); s.flush(); });
  const c = s.counters;
  const drops = ['LinkTruncated', 'IpInHdrErrors', 'IpInCsumErrors', 'Ip6InTruncatedPkts', 'TcpInHdrTrunc', 'TcpInBadOptions', 'TcpInCsumErrors', 'UdpInErrors', 'IpInUnknownProtos', 'IcmpInErrors'];
  for (const k of drops) assert.ok(c[k] > 0, `${k} counted: ${JSON.stringify(c)}`);
  assert.strictEqual(c.TcpOutRsts ?? 0, 0, 'no reply to a malformed segment');
  // Random bytes after valid headers: never a throw.
  for (let i = 0; i < 2000; i++) {
    const junk = Buffer.alloc(1 + (i % 90));
    for (let j = 0; j < junk.length; j++) junk[j] = (i * 7919 + j * 104729) & 0xff;
    for (const p of [6, 17, 1, 58]) assert.doesNotThrow(() => { s.receive(nic, frame(p !== 58, p, junk)); s.flush(); });
  }
  // The parsers alone, on short buffers.
  assert.strictEqual(parseFrame(Buffer.alloc(0), {}), null);
  assert.strictEqual(parseTcp(Buffer.alloc(3), true, LOOP4, LOOP4, true, {}), null);
  assert.strictEqual(parseUdp(Buffer.alloc(7), true, LOOP4, LOOP4, true, {}), null);
});
