'use strict';
// A namespace's tun devices (net/tun/device.ts) on a bare stack: names with
// %d and indexes never reused, the interface table's view (flags, the
// on-link route only while up, linkdown without a file), the queue bounded
// at txqlen with drops counted and its bytes charged to the heap budget and
// given back, the device bound per namespace, persistence on detach, and
// written packets reaching a socket's endpoint through the stack.

const assert = require('node:assert');
const { test } = require('node:test');
const { Stack } = require('../../dist/net/stack');
const { TunLinks, MAX_TUN_DEVICES } = require('../../dist/net/tun/device');
const { NamespaceLoopbackTable } = require('../../dist/kernel/netinfo');
const { HeapBudget } = require('../../dist/abi/accounting');

const AF_INET = 2;
const ip4 = (s) => Buffer.from(s.split('.').map(Number));

function world() {
  const heap = new HeapBudget(64 << 20);
  const env = { heap, nowMs: () => 1000, newTimer: () => ({ arm() {}, cancel() {} }), randomU32: () => 7 };
  const stack = new Stack(env);
  const table = new NamespaceLoopbackTable();
  const links = new TunLinks(stack, () => Math.max(...table.snapshot().links.map((l) => l.index)) + 1);
  table.extra = links;
  let woken = 0;
  const reader = { queue: { notify: () => woken++ } };
  return { heap, stack, table, links, reader, woken: () => woken };
}

/** A UDP datagram of n payload bytes from 10.9.0.1:4242 to 10.9.0.2:9999, sent by the stack. */
const send = (stack, n = 100) => stack.sendUdp('00000000000000000000ffff0a090001', 4242, '00000000000000000000ffff0a090002', 9999, Buffer.alloc(n), 0, 64);

test('names, indexes and the table view', () => {
  const w = world();
  const a = w.links.create('tun%d');
  const b = w.links.create('tun%d');
  assert.deepStrictEqual([a.name, a.index, b.name, b.index], ['tun0', 2, 'tun1', 3]);
  assert.throws(() => w.links.create('tun0'), { message: /^EEXIST/ });
  assert.throws(() => w.links.create('a%db%d'), { message: /^EINVAL/ });
  a.detach();
  const c = w.links.create('tun%d');
  assert.deepStrictEqual([c.name, c.index], ['tun0', 4], 'a name is reused, an index never');
  c.reader = w.reader;
  w.table.addAddress(4, AF_INET, ip4('10.9.0.1'), 24);
  let s = w.table.snapshot();
  assert.strictEqual(s.links.find((l) => l.name === 'tun0').flags, 0x1090);
  assert.ok(!s.routes.some((r) => r.oif === 4 && r.dstLen === 24), 'no on-link route while down');
  assert.throws(() => send(w.stack), { message: /^ENETUNREACH/ });
  w.table.setUp(4, true);
  s = w.table.snapshot();
  assert.strictEqual(s.links.find((l) => l.name === 'tun0').flags, 0x110d1);
  assert.strictEqual(s.routes.find((r) => r.oif === 4 && r.dstLen === 24).flags, 0);
  c.reader = null;
  assert.strictEqual(w.table.snapshot().routes.find((r) => r.oif === 4 && r.dstLen === 24).flags, 0x10, 'linkdown without a file');
});

test('the queue holds txqlen packets, charges the heap and gives it back', () => {
  const w = world();
  const d = w.links.create('q%d');
  d.reader = w.reader;
  w.table.addAddress(d.index, AF_INET, ip4('10.9.0.1'), 24);
  w.table.setUp(d.index, true);
  const before = w.heap.used;
  for (let i = 0; i < 600; i++) send(w.stack);
  assert.strictEqual(d.packets.length, 500);
  assert.strictEqual(d.txDropped, 100);
  assert.strictEqual(w.heap.used - before, 500 * 128);
  const p = d.take();
  assert.strictEqual(p[0], 0x45);
  assert.strictEqual(p.length, 128);
  w.table.setLinkValue(d.index, 'txqlen', 2);
  send(w.stack);
  assert.strictEqual(d.txDropped, 101, 'a shorter queue drops at once');
  d.detach();
  assert.strictEqual(w.heap.used, before - 4096, 'the packets and the device are given back');
  assert.strictEqual(w.links.size, 0);
});

test('persistent devices stay detached; the namespace holds a bounded number', () => {
  const w = world();
  const d = w.links.create('p0');
  d.persist = true;
  d.reader = w.reader;
  d.detach();
  assert.strictEqual(w.links.byName('p0'), d);
  for (let i = 1; i < MAX_TUN_DEVICES; i++) w.links.create('m%d');
  assert.throws(() => w.links.create('m%d'), { message: /^ENOMEM/ });
  assert.throws(() => w.table.setLinkValue(d.index, 'mtu', 67), { message: /^EINVAL/ });
  w.table.setLinkValue(d.index, 'mtu', 1280);
  assert.strictEqual(d.mtu, 1280);
});

test('a route added through the device carries packets to it, from its address; deleting it unroutes them', () => {
  const w = world();
  const d = w.links.create('r0');
  d.reader = w.reader;
  w.table.addAddress(d.index, AF_INET, ip4('10.9.0.1'), 24);
  w.table.setUp(d.index, true);
  const far = '00000000000000000000ffff0a140101';
  assert.throws(() => w.stack.route(far), { message: /^ENETUNREACH/ });
  assert.strictEqual(w.table.changeRoute(d.index, AF_INET, ip4('10.20.7.7'), 16, true), true);
  assert.strictEqual(w.table.changeRoute(d.index, AF_INET, ip4('10.20.0.0'), 16, true), false, 'the same network');
  const r = w.stack.route(far);
  assert.strictEqual(r.nic, d);
  assert.strictEqual(r.src, '00000000000000000000ffff0a090001');
  assert.ok(w.table.snapshot().routes.some((x) => x.oif === d.index && x.dstLen === 16 && x.dst.equals(ip4('10.20.0.0'))));
  assert.strictEqual(w.table.changeRoute(d.index, AF_INET, ip4('10.20.0.0'), 16, false), true);
  assert.throws(() => w.stack.route(far), { message: /^ENETUNREACH/ });
  assert.strictEqual(w.table.delAddress(d.index, AF_INET, ip4('10.9.0.1')), true);
  assert.strictEqual(w.table.delAddress(d.index, AF_INET, ip4('10.9.0.1')), false);
});
