'use strict';
// The link layer of a taken-over interface (net/packet/nic.ts, neigh.ts)
// without Docker: the NIC's "packet socket" is one end of a pair of
// connected UDP sockets on ::1, so every frame it sends arrives whole at the
// test's end, and a frame the test sends arrives whole at the NIC's (a
// readiness callback the test runs). ARP and neighbour discovery answered
// and used, next hops chosen, frames queued while unresolved and bounded,
// malformed frames dropped and counted, the virtio-net header of a segment
// the host is to cut.

const assert = require('node:assert');
const { test } = require('node:test');
const hs = require('../../dist/host/hostsocket');
const { Stack } = require('../../dist/net/stack');
const { PacketNic } = require('../../dist/net/packet/nic');
const { Neighbours } = require('../../dist/net/packet/neigh');
const { LinkTable } = require('../../dist/kernel/linktable');
const { samePrefix } = require('../../dist/net/ip/addr');

const AF_UNIX = 1, SOCK_DGRAM = 2;
const MAC = Buffer.from('02420a000002', 'hex');
const PEER = Buffer.from('02420a0000fe', 'hex');
const GWMAC = Buffer.from('02420a000001', 'hex');
const ip4 = (s) => Buffer.from(s.split('.').map(Number));
const mapped = (s) => '00000000000000000000ffff' + ip4(s).toString('hex');

let names = 0;
/** An abstract AF_UNIX address of this process's own. */
function saUn() {
  const name = `\0tsvisor-nic-${process.pid}-${names++}`;
  const b = Buffer.alloc(2 + name.length);
  b.writeUInt16LE(AF_UNIX, 0);
  b.write(name, 2, 'latin1');
  return b;
}

/** Two connected datagram sockets: [the NIC's, the test's]. Frames cross whole. */
function link(t) {
  const a = hs.socket(AF_UNIX, SOCK_DGRAM, 0);
  const b = hs.socket(AF_UNIX, SOCK_DGRAM, 0);
  assert.ok(a >= 0 && b >= 0);
  const [sa, sb] = [saUn(), saUn()];
  assert.strictEqual(hs.bind(a, sa), 0);
  assert.strictEqual(hs.bind(b, sb), 0);
  assert.strictEqual(hs.connect(a, sb), 0);
  assert.strictEqual(hs.connect(b, sa), 0);
  // Room for a 64 KiB frame in flight.
  const size = Buffer.alloc(4);
  size.writeInt32LE(1 << 20, 0);
  for (const fd of [a, b]) hs.setsockopt(fd, 1, 7 /* SO_SNDBUF */, size);
  t.after(() => hs.close(b));
  return [a, b];
}

function world(t, { vnetHdr = false, routes = [] } = {}) {
  const [fd, peer] = link(t);
  let now = 1000;
  let ready = null;
  const env = { heap: null, nowMs: () => now, newTimer: () => ({ arm() {}, cancel() {} }), randomU32: () => 7 };
  const stack = new Stack(env);
  const events = { watch: (f, ev, cb) => ((ready = cb), { fd: f, live: true }), unwatch: () => {} };
  const cfg = {
    name: 'eth0', mac: MAC, mtu: 1500, fd, vnetHdr,
    addrs: [{ addr: ip4('10.0.0.2'), prefix: 24 }, { addr: Buffer.from('fd000000000000000000000000000002', 'hex'), prefix: 64 }],
    gateway4: ip4('10.0.0.1'), gateway6: null, routes,
  };
  const nic = new PacketNic(stack, { events, log: () => {} }, cfg, 2);
  t.after(() => nic.close());
  stack.attach(nic, nic.addresses, true);
  for (const r of nic.networks) stack.addOnLink(nic, r.ip, r.bits);
  for (const r of nic.routed) stack.addOnLink(nic, r.ip, r.bits, r.src);
  const sent = () => {
    const out = [];
    const buf = Buffer.alloc(70000);
    for (;;) {
      const n = hs.recv(peer, buf, 0);
      if (n < 0) return out;
      out.push(Buffer.from(buf.subarray(vnetHdr ? 10 : 0, n)));
    }
  };
  const inject = (frame, vnet = Buffer.alloc(10)) => {
    assert.strictEqual(hs.sendto(peer, vnetHdr ? Buffer.concat([vnet, frame]) : frame, 0, null), (vnetHdr ? 10 : 0) + frame.length);
    ready(1);
  };
  return { stack, nic, sent, inject, tick: (ms) => (now += ms), headers: () => {
    const buf = Buffer.alloc(70000);
    const n = hs.recv(peer, buf, 0);
    return n < 0 ? null : Buffer.from(buf.subarray(0, n));
  } };
}

function arp(op, sha, spa, tha, tpa, dst = MAC) {
  const f = Buffer.alloc(42);
  dst.copy(f, 0);
  sha.copy(f, 6);
  f.writeUInt16BE(0x0806, 12);
  f.writeUInt16BE(1, 14);
  f.writeUInt16BE(0x0800, 16);
  f[18] = 6;
  f[19] = 4;
  f.writeUInt16BE(op, 20);
  sha.copy(f, 22);
  ip4(spa).copy(f, 28);
  tha.copy(f, 32);
  ip4(tpa).copy(f, 38);
  return f;
}

test('ARP: a request for our address is answered; one for another is not', (t) => {
  const w = world(t);
  w.inject(arp(1, PEER, '10.0.0.9', Buffer.alloc(6), '10.0.0.2', Buffer.alloc(6, 0xff)));
  const [r] = w.sent();
  assert.ok(r, 'a reply');
  assert.deepStrictEqual(r.subarray(0, 6), PEER);
  assert.deepStrictEqual(r.subarray(6, 12), MAC);
  assert.strictEqual(r.readUInt16BE(20), 2);
  assert.deepStrictEqual(r.subarray(22, 28), MAC);
  assert.deepStrictEqual([...r.subarray(28, 32)], [10, 0, 0, 2]);
  assert.deepStrictEqual(r.subarray(32, 38), PEER);
  w.inject(arp(1, PEER, '10.0.0.9', Buffer.alloc(6), '10.0.0.77', Buffer.alloc(6, 0xff)));
  assert.deepStrictEqual(w.sent(), []);
});

test('next hop: on-link destinations are resolved themselves, others through the gateway; frames wait for the answer', (t) => {
  const w = world(t);
  w.stack.sendUdp(mapped('10.0.0.2'), 5000, mapped('10.0.0.9'), 53, Buffer.from('on-link'), 0, 64);
  let [q] = w.sent();
  assert.strictEqual(q.readUInt16BE(12), 0x0806, 'an ARP request first');
  assert.deepStrictEqual(q.subarray(0, 6), Buffer.alloc(6, 0xff));
  assert.deepStrictEqual([...q.subarray(38, 42)], [10, 0, 0, 9]);
  w.inject(arp(2, PEER, '10.0.0.9', MAC, '10.0.0.2'));
  const [u] = w.sent();
  assert.strictEqual(u.readUInt16BE(12), 0x0800);
  assert.deepStrictEqual(u.subarray(0, 6), PEER, 'the waiting datagram, to the answer\'s address');
  assert.ok(u.includes(Buffer.from('on-link')));
  // Known now: sent at once.
  w.stack.sendUdp(mapped('10.0.0.2'), 5000, mapped('10.0.0.9'), 53, Buffer.from('again'), 0, 64);
  assert.deepStrictEqual(w.sent()[0].subarray(0, 6), PEER);
  // Off the network: the gateway's address is asked for.
  w.stack.sendUdp(mapped('10.0.0.2'), 5000, mapped('192.0.2.7'), 53, Buffer.from('far'), 0, 64);
  [q] = w.sent();
  assert.deepStrictEqual([...q.subarray(38, 42)], [10, 0, 0, 1]);
  w.inject(arp(2, GWMAC, '10.0.0.1', MAC, '10.0.0.2'));
  const [g] = w.sent();
  assert.deepStrictEqual(g.subarray(0, 6), GWMAC);
  assert.deepStrictEqual([...g.subarray(30, 34)], [192, 0, 2, 7], 'addressed to the far host');
  // An unsolicited reply teaches nothing.
  w.inject(arp(2, PEER, '10.0.0.50', MAC, '10.0.0.2'));
  w.stack.sendUdp(mapped('10.0.0.2'), 5000, mapped('10.0.0.50'), 53, Buffer.from('x'), 0, 64);
  assert.strictEqual(w.sent()[0].readUInt16BE(12), 0x0806);
});

test('neighbour table: bounded in entries and in queued frames; solicitations rate-limited', () => {
  let now = 0;
  const asked = [];
  const out = [];
  const counters = {};
  const n = new Neighbours({ solicit: (ip) => asked.push(ip), send: (f, mac) => out.push([f, mac]), nowMs: () => now }, counters);
  for (let i = 0; i < 1000; i++) n.output(`ip${i}`, Buffer.from([i & 0xff]), 0);
  assert.ok(n.size <= 256, `${n.size} neighbours`);
  for (let i = 0; i < 100; i++) n.output('busy', Buffer.from([i]), 0);
  assert.strictEqual(asked.filter((a) => a === 'busy').length, 1, 'asked once within a second');
  assert.ok(counters.NeighQueueDrops >= 100 - 32);
  now += 1500;
  n.output('busy', Buffer.from([200]), 0);
  assert.strictEqual(asked.filter((a) => a === 'busy').length, 2);
  n.learn('busy', PEER, false);
  assert.strictEqual(out.length, 32, 'the queue held at most 32 frames');
  assert.strictEqual(out[31][0][0], 200, 'the newest kept');
  assert.strictEqual(out[0][1].toString('hex'), PEER.toString('hex'));
  // Large frames to many silent neighbours: at most 1 MiB waits in all.
  const big = new Neighbours({ solicit: () => {}, send: () => {}, nowMs: () => now }, {});
  for (let i = 0; i < 200; i++) for (let j = 0; j < 32; j++) big.output(`silent${i}`, Buffer.alloc(60000), 0);
  assert.ok(big.queuedBytes <= 1 << 20 && big.queuedBytes > 0, `${big.queuedBytes} bytes queued`);
});

test('malformed frames are dropped and counted, frames for other hosts ignored', (t) => {
  const w = world(t);
  const bad = [
    Buffer.alloc(8),
    Buffer.concat([MAC, PEER, Buffer.from([0x08, 0x00])]),
    Buffer.concat([MAC, PEER, Buffer.from([0x08, 0x00, 0x45, 0, 0, 10])]),
    Buffer.concat([MAC, PEER, Buffer.from([0x08, 0x06, 0, 1])]),
    arp(9, PEER, '10.0.0.9', Buffer.alloc(6), '10.0.0.2'),
    Buffer.concat([MAC, PEER, Buffer.from([0x86, 0xdd, 0x60])]),
    Buffer.concat([MAC, PEER, Buffer.from([0x88, 0xb5, 1, 2, 3])]),
  ];
  for (const f of bad) w.inject(f);
  assert.strictEqual(w.nic.stats.rxDropped, bad.length);
  const rx = w.nic.stats.rxPackets;
  w.inject(arp(1, PEER, '10.0.0.9', Buffer.alloc(6), '10.0.0.2', Buffer.from('020000000099', 'hex')));
  assert.strictEqual(w.nic.stats.rxPackets, rx, 'unicast for another MAC');
  assert.deepStrictEqual(w.sent(), []);
});

test('IPv6 neighbour discovery: a solicitation for our address gets an advertisement with our MAC', (t) => {
  const w = world(t);
  const me = Buffer.from('fd000000000000000000000000000002', 'hex');
  const them = Buffer.from('fd000000000000000000000000000009', 'hex');
  const body = Buffer.alloc(32);
  body[0] = 135;
  me.copy(body, 8);
  body[24] = 1;
  body[25] = 1;
  PEER.copy(body, 26);
  const group = Buffer.from('ff0200000000000000000001ff000002', 'hex');
  let sum = 0;
  const add = (b) => { for (let i = 0; i < b.length; i += 2) sum += b.readUInt16BE(i); };
  add(them); add(group); sum += body.length + 58; add(body);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  body.writeUInt16BE(~sum & 0xffff, 2);
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(0x60000000, 0);
  ip.writeUInt16BE(body.length, 4);
  ip[6] = 58;
  ip[7] = 255;
  them.copy(ip, 8);
  group.copy(ip, 24);
  w.inject(Buffer.concat([Buffer.from('3333ff000002', 'hex'), PEER, Buffer.from([0x86, 0xdd]), ip, body]));
  const [na] = w.sent();
  assert.ok(na, 'an advertisement');
  assert.deepStrictEqual(na.subarray(0, 6), PEER);
  assert.strictEqual(na[14 + 40], 136);
  assert.deepStrictEqual(na.subarray(14 + 40 + 8, 14 + 40 + 24), me);
  assert.deepStrictEqual(na.subarray(14 + 40 + 26, 14 + 40 + 32), MAC);
  // A bad checksum: dropped and counted, not answered.
  body.writeUInt16BE(body.readUInt16BE(2) ^ 1, 2);
  const dropped = w.nic.stats.rxDropped;
  w.inject(Buffer.concat([Buffer.from('3333ff000002', 'hex'), PEER, Buffer.from([0x86, 0xdd]), ip, body]));
  assert.deepStrictEqual(w.sent(), []);
  assert.strictEqual(w.nic.stats.rxDropped, dropped + 1);
});

test('segmentation offload: a large segment goes out behind a virtio-net header asking the host to cut it', (t) => {
  const w = world(t, { vnetHdr: true });
  assert.ok(w.nic.gsoMax > 60000);
  w.inject(arp(2, PEER, '10.0.0.9', MAC, '10.0.0.2'));
  // Learnt only as an answer: ask first (a datagram), then answer.
  w.stack.sendUdp(mapped('10.0.0.2'), 5000, mapped('10.0.0.9'), 53, Buffer.from('x'), 0, 64);
  w.sent();
  w.inject(arp(2, PEER, '10.0.0.9', MAC, '10.0.0.2'));
  w.sent();
  // A TCP frame of 10 segments of 1448 bytes (headers as the stack writes them).
  const data = 14480;
  const f = Buffer.alloc(14 + 20 + 20 + data);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + 20 + data, 16);
  f[23] = 6;
  ip4('10.0.0.2').copy(f, 26);
  ip4('10.0.0.9').copy(f, 30);
  f[34 + 12] = 5 << 4;
  w.nic.transmit(f, 1448);
  const h = w.headers();
  assert.strictEqual(h[0], 1, 'NEEDS_CSUM');
  assert.strictEqual(h[1], 1, 'GSO TCPv4');
  assert.strictEqual(h.readUInt16LE(2), 54, 'headers end');
  assert.strictEqual(h.readUInt16LE(4), 1448, 'segment size');
  assert.strictEqual(h.readUInt16LE(6), 34, 'checksum start');
  assert.strictEqual(h.readUInt16LE(8), 16, 'checksum offset');
  assert.strictEqual(h.length, 10 + f.length);
  assert.deepStrictEqual(h.subarray(10, 16), PEER);
});

/** The Internet checksum of b (folded, complemented). */
function csum(b, sum = 0) {
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length & 1) sum += b[b.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An IPv4 frame from 10.0.0.9 to us carrying transport bytes t of protocol proto, its transport checksum (at field) right, or wrong by one bit. */
function v4Frame(proto, t, field, bad) {
  const src = ip4('10.0.0.9'), dst = ip4('10.0.0.2');
  const pseudo = Buffer.concat([src, dst, Buffer.from([0, proto, t.length >> 8, t.length & 0xff])]);
  t.writeUInt16BE(0, field);
  let sum = 0;
  for (let i = 0; i < pseudo.length; i += 2) sum += pseudo.readUInt16BE(i);
  t.writeUInt16BE(csum(t, sum) ^ (bad ? 1 : 0), field);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + t.length, 2);
  ip[8] = 64;
  ip[9] = proto;
  src.copy(ip, 12);
  dst.copy(ip, 16);
  ip.writeUInt16BE(csum(ip), 10);
  return Buffer.concat([MAC, PEER, Buffer.from([0x08, 0x00]), ip, t]);
}

const syn = (port) => {
  const t = Buffer.alloc(20);
  t.writeUInt16BE(40000, 0);
  t.writeUInt16BE(port, 2);
  t.writeUInt32BE(1000, 4);
  t[12] = 5 << 4;
  t[13] = 0x02;
  t.writeUInt16BE(65535, 14);
  return t;
};
const udp = (port, text) => {
  const t = Buffer.concat([Buffer.alloc(8), Buffer.from(text)]);
  t.writeUInt16BE(40000, 0);
  t.writeUInt16BE(port, 2);
  t.writeUInt16BE(t.length, 4);
  return t;
};
/** A virtio-net header with flags (and for NEEDS_CSUM the checksum's start and offset). */
const vnet = (flags, start = 0, off = 0) => {
  const h = Buffer.alloc(10);
  h[0] = flags;
  h.writeUInt16LE(start, 6);
  h.writeUInt16LE(off, 8);
  return h;
};

test('receive checksums behind the virtio-net header: verified unless the host checked them (DATA_VALID) or left them partial (NEEDS_CSUM)', (t) => {
  const w = world(t, { vnetHdr: true });
  assert.strictEqual(w.nic.checksumOffload, false);
  // Our neighbour 10.0.0.9 known, so that answers go out at once.
  w.stack.sendUdp(mapped('10.0.0.2'), 5000, mapped('10.0.0.9'), 53, Buffer.from('x'), 0, 64);
  w.inject(arp(2, PEER, '10.0.0.9', MAC, '10.0.0.2'));
  w.sent();
  const c = w.stack.counters;
  // A SYN to a closed port is answered by a reset; one with a bad checksum is dropped, counted, unanswered.
  w.inject(v4Frame(6, syn(81), 16, true), vnet(0));
  assert.deepStrictEqual(w.sent(), [], 'no reset for a corrupt SYN');
  assert.strictEqual(c.TcpInCsumErrors, 1);
  w.inject(v4Frame(6, syn(81), 16, false), vnet(0));
  const [rst] = w.sent();
  assert.ok(rst && (rst[14 + 20 + 13] & 0x04), 'a reset for a good SYN');
  // The same corrupt SYN, vouched for by the host: taken as it is.
  w.inject(v4Frame(6, syn(81), 16, true), vnet(2));
  assert.strictEqual(w.sent().length, 1, 'DATA_VALID: answered');
  w.inject(v4Frame(6, syn(81), 16, true), vnet(1, 34, 16));
  assert.strictEqual(w.sent().length, 1, 'NEEDS_CSUM: answered');
  // NEEDS_CSUM whose checksum field lies past the frame: not believed, verified, dropped.
  w.inject(v4Frame(6, syn(81), 16, true), vnet(1, 34, 4000));
  assert.deepStrictEqual(w.sent(), []);
  assert.strictEqual(c.LinkBadCsumOffsets, 1);
  assert.strictEqual(c.TcpInCsumErrors, 2);
  // UDP to a closed port: a port unreachable for a good datagram, nothing for a corrupt one.
  w.inject(v4Frame(17, udp(99, 'corrupt'), 6, true), vnet(0));
  assert.deepStrictEqual(w.sent(), []);
  assert.strictEqual(c.UdpInCsumErrors, 1);
  w.inject(v4Frame(17, udp(99, 'fine'), 6, false), vnet(0));
  const [icmp] = w.sent();
  assert.ok(icmp && icmp[14 + 9] === 1 && icmp[14 + 20] === 3, 'port unreachable');
  // A corrupt IPv4 header is dropped whatever the virtio-net header says.
  const f = v4Frame(17, udp(99, 'hdr'), 6, false);
  f[14 + 10] ^= 1;
  w.inject(f, vnet(2));
  assert.deepStrictEqual(w.sent(), []);
  assert.strictEqual(c.IpInCsumErrors, 1);
  // The reset went out with its checksum left to the host: NEEDS_CSUM, from the TCP header, the pseudo-header's sum in the field.
  w.inject(v4Frame(6, syn(81), 16, false), vnet(0));
  const h = w.headers();
  assert.strictEqual(h[0], 1, 'NEEDS_CSUM');
  assert.strictEqual(h[1], 0, 'not to be cut');
  assert.strictEqual(h.readUInt16LE(6), 34);
  assert.strictEqual(h.readUInt16LE(8), 16);
  const seg = h.subarray(10 + 34);
  const pseudo = Buffer.concat([ip4('10.0.0.2'), ip4('10.0.0.9'), Buffer.from([0, 6, 0, seg.length])]);
  assert.strictEqual(seg.readUInt16BE(16), ~csum(pseudo) & 0xffff, 'the folded pseudo-header sum');
  // Finished as the host would (the sum from csum_start, the field holding the pseudo-header's), the checksum is right.
  const fin = Buffer.from(seg);
  fin.writeUInt16BE(csum(fin), 16);
  let v = 0;
  for (const b of [pseudo, fin]) for (let i = 0; i < b.length; i += 2) v += b.readUInt16BE(i);
  while (v > 0xffff) v = (v & 0xffff) + (v >>> 16);
  assert.strictEqual(v, 0xffff);
});

test('routes other than on-link and default: through their own gateway, or on the link; the longest prefix wins; shown by the interface table', (t) => {
  const routes = [
    { dst: ip4('192.0.2.0'), prefix: 24, gateway: ip4('10.0.0.7') },
    { dst: ip4('192.0.2.128'), prefix: 25, gateway: ip4('10.0.0.8') },
    { dst: ip4('198.51.100.0'), prefix: 24, gateway: null },
  ];
  const w = world(t, { routes });
  const asked = (dst) => {
    w.stack.sendUdp(mapped('10.0.0.2'), 5000, mapped(dst), 53, Buffer.from('x'), 0, 64);
    const [q] = w.sent();
    assert.strictEqual(q.readUInt16BE(12), 0x0806, `an ARP request for the next hop to ${dst}`);
    assert.deepStrictEqual([...q.subarray(28, 32)], [10, 0, 0, 2], 'from our address');
    return q.subarray(38, 42).join('.');
  };
  assert.strictEqual(asked('192.0.2.5'), '10.0.0.7');
  assert.strictEqual(asked('192.0.2.200'), '10.0.0.8', 'the /25 before the /24');
  assert.strictEqual(asked('198.51.100.9'), '198.51.100.9', 'on the link: the destination itself');
  assert.strictEqual(asked('203.0.113.1'), '10.0.0.1', 'the rest: the default gateway');
  // The stack sends from the interface's address.
  assert.deepStrictEqual(w.stack.route(mapped('192.0.2.5')).src, mapped('10.0.0.2'));
  const links = [{ name: 'eth0', mac: MAC, mtu: 1500, fd: -1, vnetHdr: false, addrs: [{ addr: ip4('10.0.0.2'), prefix: 24 }], gateway4: ip4('10.0.0.1'), gateway6: null, routes }];
  const rs = new LinkTable(links).snapshot().routes.filter((r) => r.table === 254 && r.dst && r.dstLen >= 24 && r.oif === 2);
  const shown = rs.map((r) => `${r.dst.join('.')}/${r.dstLen} ${r.gateway ? r.gateway.join('.') : 'link'}`).sort();
  assert.deepStrictEqual(shown, ['10.0.0.0/24 link', '192.0.2.0/24 10.0.0.7', '192.0.2.128/25 10.0.0.8', '198.51.100.0/24 link']);
});

test('the interface table shows the taken-over link as it was configured; prefixes compare by bits', () => {
  const links = [{ name: 'eth0', mac: MAC, mtu: 1450, fd: -1, vnetHdr: false, addrs: [{ addr: ip4('172.18.0.3'), prefix: 16 }], gateway4: ip4('172.18.0.1'), gateway6: null }];
  const s = new LinkTable(links).snapshot();
  const eth = s.links.find((l) => l.name === 'eth0');
  assert.strictEqual(eth.index, 2);
  assert.strictEqual(eth.mtu, 1450);
  assert.deepStrictEqual(eth.hwaddr, MAC);
  const a = s.addrs.find((x) => x.index === 2);
  assert.deepStrictEqual([...a.address], [172, 18, 0, 3]);
  assert.deepStrictEqual([...a.broadcast], [172, 18, 255, 255]);
  assert.ok(s.routes.some((r) => r.dstLen === 0 && r.gateway && r.gateway.equals(ip4('172.18.0.1'))));
  assert.ok(s.routes.some((r) => r.dstLen === 16 && r.dst && r.dst.equals(ip4('172.18.0.0'))));
  assert.ok(samePrefix(mapped('172.18.200.9'), mapped('172.18.0.3'), 96 + 16));
  assert.ok(!samePrefix(mapped('172.19.0.9'), mapped('172.18.0.3'), 96 + 16));
  assert.ok(samePrefix(mapped('10.0.0.9'), mapped('10.0.0.14'), 96 + 29));
  assert.ok(!samePrefix(mapped('10.0.0.9'), mapped('10.0.0.17'), 96 + 29));
});

test('an IPv6 interface: its link-local address and routes as ip(8) and /proc/net/ipv6_route show them under runc', () => {
  const { ipv6RouteText, ifInet6Text } = require('../../dist/fsimpl/proc/net');
  const six = (h) => Buffer.from(h, 'hex');
  const links = [{
    name: 'eth0', mac: Buffer.from('0242ac120002', 'hex'), mtu: 1500, fd: -1, vnetHdr: false, gateway4: null,
    addrs: [{ addr: six('fd007e57beef00000000000000000002'), prefix: 64, flags: 0x02 }, { addr: six('fe800000000000000042acfffe120002'), prefix: 64, scope: 253 }],
    gateway6: six('fd007e57beef00000000000000000001'),
  }];
  const s = new LinkTable(links).snapshot();
  // What a runc container on `docker network create --ipv6 --subnet fd00:7e57:beef::/64` showed (interface 2150 there), without the reference and use counts.
  const runc = `fd007e57beef00000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000003 00000000 00000001     eth0
fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd007e57beef00000000000000000001 00000400 00000001 00000000 00000003     eth0
00000000000000000000000000000001 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001       lo
fd007e57beef00000000000000000002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001     eth0
fe800000000000000042acfffe120002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000002 00000000 80200001     eth0
ff000000000000000000000000000000 08 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000005 00000000 00000001     eth0
00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo
`;
  const counts = (text) => text.split('\n').map((l) => l.split(/\s+/).filter((_, i) => i !== 6 && i !== 7).join(' ')).join('\n');
  assert.strictEqual(counts(ipv6RouteText(s)), counts(runc));
  assert.strictEqual(ifInet6Text(s).split('\n').filter((l) => l.endsWith('eth0')).map((l) => l.split(' ').slice(2).join(' ')).join('\n'), '40 00 82     eth0\n40 20 80     eth0');
});
