'use strict';
// net/ip/ipopts.ts, IPv4 options on the Sentry's stack: an application's
// options checked as Linux's ip_options_compile (EINVAL, CAP_NET_RAW),
// what a sender and a receiver record, the reply's options; and the
// stack's input: packets whose options are malformed (or source-routed, as
// Linux's default refuses) are dropped and counted, hostile bytes never
// throw. test/c/ipopts4.c compares the whole path with Linux.
const assert = require('node:assert');
const { test } = require('node:test');
const { Stack } = require('../../dist/net/stack');
const { compileUser, wireOptions, receivedOptions, echoOptions, firstHop } = require('../../dist/net/ip/ipopts');

const LOOP4 = '00000000000000000000ffff7f000001';
const OTHER4 = '00000000000000000000ffff0a000002';
const errno = (fn) => { try { fn(); } catch (e) { return e.errno; } return 0; };
const B = (...a) => Buffer.from(a);

test('an application\'s options: padded, zeroed after an end of list, Linux\'s checks, CAP_NET_RAW for the unknown', () => {
  assert.deepStrictEqual(compileUser(B(1, 1, 1), false), B(1, 1, 1, 0));
  assert.deepStrictEqual(compileUser(B(1, 0, 7, 7), false), B(1, 0, 0, 0));
  assert.deepStrictEqual(compileUser(B(7, 7, 4, 0, 0, 0, 0), false), B(7, 7, 4, 0, 0, 0, 0, 0));
  assert.strictEqual(errno(() => compileUser(B(7, 7, 4), false)), 22, 'an option past the (padded) end');
  assert.strictEqual(compileUser(Buffer.alloc(0), false).length, 0);
  const einval = [
    Buffer.alloc(44, 1), B(7), B(7, 1), B(7, 2, 4), B(7, 7, 3), B(7, 9, 4, 0), // too long, lengths, pointer
    B(0x44, 12, 4, 0), // timestamp pointer below 5
    B(0x83, 7, 8, 127, 0, 0, 1), B(0x83, 8, 4, 127, 0, 0, 1), // a source route's pointer, a partial address
    B(0x83, 7, 4, 127, 0, 0, 1, 0x89, 7, 4, 127, 0, 0, 1), // two source routes
    B(0x86, 4, 0, 0), // CIPSO
    B(7, 7, 4, 0, 0, 0, 0, 7, 7, 4, 0, 0, 0, 0, 0, 0), // two record routes
    B(0x44, 8, 9, 0xf0), // a full timestamp whose overflow is at its most
  ];
  for (const b of einval) assert.strictEqual(errno(() => compileUser(b, true)), 22, b.toString('hex'));
  assert.strictEqual(errno(() => compileUser(B(0x9e, 4, 0, 0), false)), 22);
  assert.deepStrictEqual(compileUser(B(0x9e, 4, 0, 0), true), B(0x9e, 4, 0, 0));
  assert.strictEqual(errno(() => compileUser(B(0x44, 12, 5, 2), false)), 22);
  assert.deepStrictEqual(compileUser(B(0x94, 4, 0, 0), false), B(0x94, 4, 0, 0));
});

test('sending and receiving record what Linux records; a source route goes to its first hop; the reply keeps record route and timestamps', () => {
  const rr = compileUser(Buffer.concat([B(7, 11, 4), Buffer.alloc(8)]), false);
  const sent = wireOptions(rr, LOOP4, LOOP4, 1000);
  assert.deepStrictEqual(sent, B(7, 11, 8, 127, 0, 0, 1, 0, 0, 0, 0, 0));
  const r = receivedOptions(sent, LOOP4, () => true, 1000);
  assert.deepStrictEqual(r.opts, B(7, 11, 12, 127, 0, 0, 1, 127, 0, 0, 1, 0));
  assert.deepStrictEqual(echoOptions(r.opts), r.opts);
  assert.strictEqual(rr[2], 4, 'the socket keeps what the application gave');
  // Timestamps: ms since midnight UTC; a full one counts its overflow at the receiver.
  const ts = wireOptions(compileUser(Buffer.concat([B(0x44, 12, 5, 1), Buffer.alloc(8)]), false), LOOP4, LOOP4, 86_400_000 + 258);
  assert.deepStrictEqual(ts, B(0x44, 12, 13, 1, 127, 0, 0, 1, 0, 0, 1, 2));
  assert.deepStrictEqual(receivedOptions(ts, LOOP4, () => true, 0).opts, B(0x44, 12, 13, 0x11, 127, 0, 0, 1, 0, 0, 1, 2));
  // A prespecified address gets a time only where it is ours.
  const pre = B(0x44, 12, 5, 3, 10, 0, 0, 2, 0, 0, 0, 0);
  assert.deepStrictEqual(receivedOptions(pre, LOOP4, () => false, 5).opts, pre);
  assert.deepStrictEqual(receivedOptions(pre, LOOP4, () => true, 5).opts, B(0x44, 12, 13, 3, 10, 0, 0, 2, 0, 0, 0, 5));
  // A source route: sent to its first address, the final destination in its last slot; refused on receipt.
  const srr = compileUser(B(0x83, 11, 4, 10, 0, 0, 2, 10, 0, 0, 3), false);
  assert.strictEqual(firstHop(srr), OTHER4);
  assert.deepStrictEqual(wireOptions(srr, LOOP4, LOOP4, 0), B(0x83, 11, 4, 10, 0, 0, 3, 127, 0, 0, 1, 0));
  assert.strictEqual(receivedOptions(srr, LOOP4, () => true, 0), 'source-routed');
  assert.strictEqual(receivedOptions(B(7, 7, 8, 0, 0, 0, 0, 0).subarray(0, 8), LOOP4, () => true, 0).opts.length, 8);
  assert.strictEqual(receivedOptions(B(0x44, 16, 13, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), LOOP4, () => true, 0), 'malformed');
  // Only record route and timestamps are echoed.
  assert.deepStrictEqual(echoOptions(B(1, 1, 1, 0)), Buffer.alloc(0));
});

/** A UDP datagram to 127.0.0.1 port 9 with IPv4 options (a multiple of 4 bytes), its header checksum right. */
function withOptions(opts) {
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  const hl = 20 + opts.length;
  const ip = Buffer.alloc(hl);
  ip[0] = 0x40 | (hl >> 2);
  const udp = Buffer.alloc(9);
  udp.writeUInt16BE(1234, 0);
  udp.writeUInt16BE(9, 2);
  udp.writeUInt16BE(9, 4);
  ip.writeUInt16BE(hl + udp.length, 2);
  ip[8] = 64;
  ip[9] = 17;
  ip.writeUInt32BE(0x7f000001, 12);
  ip.writeUInt32BE(0x7f000001, 16);
  opts.copy(ip, 20);
  let sum = 0;
  for (let i = 0; i < hl; i += 2) sum += ip.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  ip.writeUInt16BE(~sum & 0xffff, 10);
  return Buffer.concat([eth, ip, udp]);
}

test('the stack drops packets with malformed or source-routing options and counts them; hostile options never throw', () => {
  const env = { heap: null, nowMs: () => 0, newTimer: () => ({ arm() {}, cancel() {} }), randomU32: () => 7 };
  const nic = { name: 'fake0', index: 1, mtu: 1500, checksumOffload: true, stats: { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxDropped: 0 }, transmit() {} };
  const s = new Stack(env, nic);
  const input = (opts) => { s.receive(nic, withOptions(opts)); s.flush(); };
  const c = s.counters;
  input(B(7, 7, 4, 0, 0, 0, 0, 0));
  assert.strictEqual(c.UdpNoPorts, 1, 'well-formed options reach UDP');
  for (const bad of [B(7, 9, 4, 0), B(7, 7, 3, 0, 0, 0, 0, 0), B(0x44, 3, 5, 0), B(0x86, 4, 0, 0), B(0x44, 8, 9, 0xf0, 0, 0, 0, 0), B(0x44, 4, 5, 0, 0x44, 4, 5, 0)]) input(bad);
  assert.strictEqual(c.IpInHdrErrors, 6);
  input(B(0x89, 7, 4, 127, 0, 0, 1, 0));
  assert.strictEqual(c.IpInSourceRouted, 1);
  assert.strictEqual(c.UdpNoPorts, 1);
  let seed = 99;
  for (let i = 0; i < 3000; i++) {
    const junk = Buffer.alloc(4 * (1 + (i % 10)));
    for (let j = 0; j < junk.length; j++) junk[j] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    if (i % 3 === 0) junk[0] = [7, 0x44, 0x83, 0x94][i % 4];
    assert.doesNotThrow(() => input(junk));
  }
});
