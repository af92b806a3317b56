'use strict';
// The Sentry's NETLINK_ROUTE answers and host-mode sockaddr checks, without a
// sandbox: messages built from the loopback table parse back, requests the
// table does not serve fail with Linux's errnos, and addresses are checked
// length first, then family.
const test = require('node:test');
const assert = require('node:assert');
const { addAddr, answer, nlmsg, setLink } = require('../../dist/socket/netlink/route');
const { checkAddr } = require('../../dist/socket/hostinet/addr');
const { LoopbackTable, NamespaceLoopbackTable } = require('../../dist/kernel/netinfo');

const RTM_GETLINK = 18, RTM_NEWLINK = 16, RTM_GETADDR = 22, RTM_NEWADDR = 20, RTM_GETROUTE = 26, RTM_NEWROUTE = 24;
const DUMP = 0x300, REQUEST = 1;
const AF_INET = 2, AF_INET6 = 10;
const errnoOf = (fn) => {
  try {
    fn();
  } catch (e) {
    return e.errno;
  }
  return 0;
};

test('dumps of the loopback table: one link, two addresses, the local routes', () => {
  const t = new LoopbackTable().snapshot();
  const links = answer(t, { type: RTM_GETLINK, flags: REQUEST | DUMP, seq: 1, body: Buffer.alloc(16) });
  assert.deepStrictEqual(links.map((m) => m.type), [RTM_NEWLINK]);
  const msg = nlmsg(links[0].type, 2, 7, 42, links[0].parts);
  assert.strictEqual(msg.readUInt32LE(0) <= msg.length, true);
  assert.strictEqual(msg.readUInt16LE(4), RTM_NEWLINK);
  assert.strictEqual(msg.readUInt32LE(8), 7);
  assert.strictEqual(msg.readUInt32LE(12), 42);
  assert.strictEqual(msg.readInt32LE(16 + 4), 1, 'ifi_index of lo');
  assert.ok(msg.includes(Buffer.from('lo\0')), 'IFLA_IFNAME');
  const v6 = answer(t, { type: RTM_GETADDR, flags: REQUEST | DUMP, seq: 1, body: Buffer.from([AF_INET6, 0, 0, 0, 0, 0, 0, 0]) });
  assert.deepStrictEqual(v6.map((m) => m.type), [RTM_NEWADDR]);
  assert.strictEqual(answer(t, { type: RTM_GETADDR, flags: REQUEST | DUMP, seq: 1, body: Buffer.alloc(0) }).length, 2, 'no body: every family');
  const r4 = answer(t, { type: RTM_GETROUTE, flags: REQUEST | DUMP, seq: 1, body: Buffer.from([AF_INET, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) });
  assert.ok(r4.length === 3 && r4.every((m) => m.type === RTM_NEWROUTE));
});

test('requests the table does not serve: EPERM for changes, EOPNOTSUPP, ENODEV, EINVAL', () => {
  const t = new LoopbackTable().snapshot();
  const req = (type, flags, body = Buffer.alloc(16)) => errnoOf(() => answer(t, { type, flags, seq: 1, body }));
  assert.strictEqual(req(RTM_NEWLINK, REQUEST), 1);
  assert.strictEqual(req(17 /* DELLINK */, REQUEST), 1);
  assert.strictEqual(req(200, REQUEST), 95);
  assert.strictEqual(req(RTM_GETADDR, REQUEST), 95, 'no single-address lookup');
  assert.strictEqual(req(RTM_GETROUTE, REQUEST), 95, 'no route lookup');
  const byIndex = Buffer.alloc(16);
  byIndex.writeInt32LE(5, 4);
  assert.strictEqual(req(RTM_GETLINK, REQUEST, byIndex), 19);
  assert.strictEqual(req(RTM_GETLINK, REQUEST, Buffer.alloc(3)), 22, 'short ifinfomsg');
  assert.strictEqual(req(RTM_GETLINK, REQUEST), 22, 'neither index nor name');
});

test('host-mode sockaddrs: length first (EINVAL), then family (EAFNOSUPPORT); the host gets a clean copy', () => {
  const sin = (fam, len = 16) => {
    const b = Buffer.alloc(len, 0xee);
    b.writeUInt16LE(fam, 0);
    return b;
  };
  assert.strictEqual(errnoOf(() => checkAddr(AF_INET, sin(AF_INET, 8), 'bind')), 22);
  assert.strictEqual(errnoOf(() => checkAddr(AF_INET, sin(AF_INET6, 28), 'connect')), 97);
  assert.strictEqual(errnoOf(() => checkAddr(AF_INET6, sin(AF_INET6, 20), 'bind')), 22);
  assert.strictEqual(errnoOf(() => checkAddr(AF_INET6, sin(AF_INET, 28), 'connect')), 97);
  assert.strictEqual(errnoOf(() => checkAddr(AF_INET6, sin(1, 28), 'sendto')), 22, 'an IPv6 datagram destination of another family');
  assert.strictEqual(errnoOf(() => checkAddr(AF_INET, Buffer.alloc(1), 'connect')), 22);
  const four = checkAddr(AF_INET, sin(AF_INET, 100), 'bind');
  assert.strictEqual(four.length, 16);
  assert.ok(four.subarray(8).equals(Buffer.alloc(8)), 'sin_zero cleared');
  assert.strictEqual(checkAddr(AF_INET6, sin(AF_INET6, 24), 'bind').length, 28, 'RFC 2133 length padded');
  assert.strictEqual(checkAddr(AF_INET6, sin(0, 28), 'sendto'), null, 'AF_UNSPEC: no destination');
  assert.strictEqual(checkAddr(AF_INET6, sin(0, 2), 'connect').readUInt16LE(0), 0, 'AF_UNSPEC connect dissolves');
  assert.strictEqual(errnoOf(() => checkAddr(AF_INET, sin(0, 16), 'bind')), 97, 'AF_UNSPEC bind needs INADDR_ANY');
  const any = Buffer.alloc(16);
  assert.strictEqual(checkAddr(AF_INET, any, 'bind').readUInt16LE(0), AF_INET);
});

/** An ifinfomsg (index, flags, change) and attributes [type, payload]. */
function ifinfo(index, flags, change, attrs = []) {
  const h = Buffer.alloc(16);
  h.writeInt32LE(index, 4);
  h.writeUInt32LE(flags, 8);
  h.writeUInt32LE(change, 12);
  return Buffer.concat([h, ...attrs.map(([type, p]) => {
    const a = Buffer.alloc((4 + p.length + 3) & ~3);
    a.writeUInt16LE(4 + p.length, 0);
    a.writeUInt16LE(type, 2);
    p.copy(a, 4);
    return a;
  })]);
}

test('a new namespace\'s loopback: down and bare, up by RTM_NEWLINK, nothing else changes', () => {
  const t = new NamespaceLoopbackTable();
  const s = t.snapshot();
  assert.strictEqual(s.links[0].flags & 1, 0);
  assert.deepStrictEqual([s.addrs.length, s.routes.length], [0, 0]);
  // Without CAP_NET_ADMIN, or in the initial namespace's table: EPERM.
  assert.strictEqual(errnoOf(() => setLink(t, false, ifinfo(1, 1, 1))), 1);
  assert.strictEqual(errnoOf(() => setLink(new LoopbackTable(), true, ifinfo(1, 1, 1))), 1);
  // Short, unknown, other flags or attributes (IFLA_MTU): EINVAL, ENODEV, EOPNOTSUPP.
  assert.strictEqual(errnoOf(() => setLink(t, true, Buffer.alloc(8))), 22);
  assert.strictEqual(errnoOf(() => setLink(t, true, ifinfo(7, 1, 1))), 19);
  assert.strictEqual(errnoOf(() => setLink(t, true, ifinfo(0, 1, 1))), 19);
  assert.strictEqual(errnoOf(() => setLink(t, true, ifinfo(1, 0x100, 0x100))), 95);
  assert.strictEqual(errnoOf(() => setLink(t, true, ifinfo(1, 1, 1, [[4, Buffer.alloc(4)]]))), 95);
  assert.strictEqual(t.up, false);
  // By name (IFLA_IFNAME), the up bit only: 127.0.0.1/8, ::1 and the local routes.
  setLink(t, true, ifinfo(0, 1, 1, [[3, Buffer.from('lo\0')]]));
  const up = t.snapshot();
  assert.strictEqual(up.links[0].flags & 1, 1);
  assert.deepStrictEqual(up.addrs.map((a) => a.family), [AF_INET, AF_INET6]);
  assert.ok(up.routes.length > 0);
  // Down again: 127.0.0.1/8 stays, ::1 goes.
  setLink(t, true, ifinfo(1, 0, 1));
  assert.deepStrictEqual(t.snapshot().addrs.map((a) => a.family), [AF_INET]);
});

test('RTM_NEWADDR in a new namespace: the loopback\'s own addresses only, EEXIST with NLM_F_EXCL', () => {
  const t = new NamespaceLoopbackTable();
  const ifaddr = (family, prefix, index, addr) => {
    const h = Buffer.alloc(8);
    h[0] = family;
    h[1] = prefix;
    h.writeInt32LE(index, 4);
    const a = Buffer.alloc((4 + addr.length + 3) & ~3);
    a.writeUInt16LE(4 + addr.length, 0);
    a.writeUInt16LE(2, 2); // IFA_LOCAL
    addr.copy(a, 4);
    return Buffer.concat([h, a]);
  };
  const lo4 = Buffer.from([127, 0, 0, 1]);
  assert.strictEqual(errnoOf(() => addAddr(t, false, 0, ifaddr(AF_INET, 8, 1, lo4))), 1);
  assert.strictEqual(errnoOf(() => addAddr(t, true, 0, ifaddr(AF_INET, 8, 1, Buffer.from([10, 1, 1, 1])))), 95);
  assert.strictEqual(errnoOf(() => addAddr(t, true, 0, ifaddr(AF_INET, 16, 1, lo4))), 95);
  assert.strictEqual(errnoOf(() => addAddr(t, true, 0, ifaddr(AF_INET, 8, 9, lo4))), 19);
  assert.strictEqual(errnoOf(() => addAddr(t, true, 0, Buffer.alloc(8, 0))), 19);
  assert.strictEqual(errnoOf(() => addAddr(t, true, 0, ifaddr(AF_INET, 8, 1, lo4))), 0);
  assert.deepStrictEqual(t.snapshot().addrs.map((a) => a.family), [AF_INET]);
  assert.strictEqual(errnoOf(() => addAddr(t, true, 0x200, ifaddr(AF_INET, 8, 1, lo4))), 17);
  assert.strictEqual(errnoOf(() => addAddr(t, true, 0, ifaddr(AF_INET, 8, 1, lo4))), 0);
});
