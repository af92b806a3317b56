'use strict';
// socket/hostinet/cmsg.ts, the allowlist of control messages between a
// host-mode socket's application and its host socket: what the host gets
// (fresh, length-checked, never SOL_SOCKET) and what the application gets
// back (listed pairs of their exact size only: a host SCM_RIGHTS, which would
// carry a host descriptor number, never passes; malformed data ends the walk).
const test = require('node:test');
const assert = require('node:assert');
const { appRecvControl, hostSendControl } = require('../../dist/socket/hostinet/cmsg');

const SOL_SOCKET = 1, SOL_IP = 0, SOL_IPV6 = 41, AF_INET = 2, AF_INET6 = 10;
const SCM_RIGHTS = 1, IP_TTL = 2, IP_TOS = 1, IP_PKTINFO = 8, IP_RETOPTS = 7, IPV6_PKTINFO = 50, IPV6_HOPLIMIT = 52;

function cmsg(level, type, data) {
  const b = Buffer.alloc(16 + ((data.length + 7) & ~7));
  b.writeBigUInt64LE(BigInt(16 + data.length), 0);
  b.writeInt32LE(level, 8);
  b.writeInt32LE(type, 12);
  data.copy(b, 16);
  return b;
}
const int = (v) => { const b = Buffer.alloc(4); b.writeInt32LE(v, 0); return b; };
/** The destination's family an IPv6 socket's datagram goes to (asked only for a message not listed). */
const v6 = () => false;
const errno = (fn) => { try { fn(); } catch (e) { return e.errno; } return 0; };

test('sendmsg: listed pairs are copied with their checked length, others of the own level are EINVAL, other levels dropped', () => {
  assert.strictEqual(hostSendControl(AF_INET, false, undefined, v6), null);
  const pi = Buffer.alloc(12, 7);
  assert.deepStrictEqual(hostSendControl(AF_INET, false, [{ level: SOL_IP, type: IP_PKTINFO, data: pi }], v6), cmsg(SOL_IP, IP_PKTINFO, pi));
  assert.strictEqual(errno(() => hostSendControl(AF_INET, false, [{ level: SOL_IP, type: IP_PKTINFO, data: Buffer.alloc(16) }], v6)), 22);
  assert.strictEqual(errno(() => hostSendControl(AF_INET, false, [{ level: SOL_IP, type: IP_TTL, data: Buffer.alloc(2) }], v6)), 22);
  // IP options: passed for the host to check, cut at 40 bytes as Linux's ip_cmsg_send.
  const opts = Buffer.alloc(4, 1);
  assert.deepStrictEqual(hostSendControl(AF_INET, false, [{ level: SOL_IP, type: IP_RETOPTS, data: opts }], v6), cmsg(SOL_IP, IP_RETOPTS, opts));
  const long = Buffer.alloc(44, 1);
  assert.deepStrictEqual(hostSendControl(AF_INET, false, [{ level: SOL_IP, type: IP_RETOPTS, data: long }], v6), cmsg(SOL_IP, IP_RETOPTS, long.subarray(0, 40)));
  assert.deepStrictEqual(hostSendControl(AF_INET, false, [{ level: SOL_IP, type: IP_TOS, data: Buffer.from([0x20]) }], v6), cmsg(SOL_IP, IP_TOS, Buffer.from([0x20])));
  // An in6_pktinfo may be longer: the host gets its 20 bytes.
  const p6 = Buffer.alloc(32, 1);
  assert.deepStrictEqual(hostSendControl(AF_INET6, false, [{ level: SOL_IPV6, type: IPV6_PKTINFO, data: p6 }], v6), cmsg(SOL_IPV6, IPV6_PKTINFO, p6.subarray(0, 20)));
  // SOL_SOCKET (descriptors, credentials), another IP level's unknown type, a foreign level: nothing reaches the host.
  for (const m of [{ level: SOL_SOCKET, type: SCM_RIGHTS, data: int(3) }, { level: SOL_IPV6, type: 99, data: int(1) }, { level: 99, type: 1, data: int(1) }]) {
    assert.strictEqual(hostSendControl(AF_INET, false, [m], v6), null);
  }
  assert.deepStrictEqual(hostSendControl(AF_INET6, false, [{ level: SOL_SOCKET, type: SCM_RIGHTS, data: int(3) }, { level: SOL_IPV6, type: IPV6_HOPLIMIT, data: int(9) }], v6), cmsg(SOL_IPV6, IPV6_HOPLIMIT, int(9)));
  // An IPv6 socket's datagram to a mapped address follows IPv4's rules: an unknown IP type is EINVAL, an unknown IPv6 one dropped; no destination: both dropped (the host fails the call).
  const unknown = [{ level: SOL_IPV6, type: 25, data: int(1) }];
  assert.strictEqual(errno(() => hostSendControl(AF_INET6, false, unknown, v6)), 22);
  assert.strictEqual(hostSendControl(AF_INET6, false, unknown, () => true), null);
  assert.strictEqual(errno(() => hostSendControl(AF_INET6, false, [{ level: SOL_IP, type: 11, data: int(1) }], () => true)), 22);
  assert.strictEqual(hostSendControl(AF_INET6, false, [{ level: SOL_IP, type: 11, data: int(1) }], () => null), null);
  let asked = 0;
  hostSendControl(AF_INET6, false, [{ level: SOL_IPV6, type: IPV6_HOPLIMIT, data: int(9) }], () => { asked++; return false; });
  assert.strictEqual(asked, 0, 'listed messages need no destination');
});

test('recvmsg: only listed pairs of their exact size reach the application', () => {
  const pi = Buffer.alloc(12, 5);
  const ctl = Buffer.concat([cmsg(SOL_SOCKET, SCM_RIGHTS, int(7)), cmsg(SOL_IP, IP_PKTINFO, pi), cmsg(SOL_IP, IP_TTL, Buffer.alloc(2)), cmsg(SOL_IP, IP_TTL, int(64)), cmsg(SOL_IP, 99, int(1))]);
  assert.deepStrictEqual(appRecvControl(ctl), [{ level: SOL_IP, type: IP_PKTINFO, data: pi }, { level: SOL_IP, type: IP_TTL, data: int(64) }]);
  assert.strictEqual(appRecvControl(cmsg(SOL_SOCKET, SCM_RIGHTS, int(7))), undefined);
  // IP_RECVOPTS (6) and IP_RECVRETOPTS (7): any size up to 40 bytes of options; longer is not the host's and is dropped.
  const o = Buffer.alloc(12, 3);
  assert.deepStrictEqual(appRecvControl(Buffer.concat([cmsg(SOL_IP, 6, o), cmsg(SOL_IP, 7, Buffer.alloc(0)), cmsg(SOL_IP, 6, Buffer.alloc(44))])), [{ level: SOL_IP, type: 6, data: o }, { level: SOL_IP, type: 7, data: Buffer.alloc(0) }]);
  assert.strictEqual(appRecvControl(Buffer.alloc(0)), undefined);
  // A length past the end, or shorter than a header: the walk stops there.
  const bad = cmsg(SOL_IP, IP_TTL, int(64));
  bad.writeBigUInt64LE(1000n, 0);
  assert.strictEqual(appRecvControl(Buffer.concat([bad])), undefined);
  const zero = Buffer.concat([Buffer.alloc(16), cmsg(SOL_IP, IP_TTL, int(64))]);
  assert.strictEqual(appRecvControl(zero), undefined);
});

test('IPv6 extension headers: the length field checked both ways, CAP_NET_RAW for the options headers, IPv4 sockets drop them', () => {
  const IPV6_HOPOPTS = 54, IPV6_RTHDR = 57, IPV6_DSTOPTS = 59;
  const raw = { capEffective: 1n << 13n }, none = { capEffective: 0n };
  const hop = Buffer.from([17, 0, 1, 4, 0, 0, 0, 0]);
  // A longer message: the host gets the header's own 8 bytes.
  const longer = Buffer.concat([hop, Buffer.alloc(8, 9)]);
  assert.deepStrictEqual(hostSendControl(AF_INET6, false, [{ level: SOL_IPV6, type: IPV6_HOPOPTS, data: longer }], v6, raw), cmsg(SOL_IPV6, IPV6_HOPOPTS, hop));
  assert.strictEqual(errno(() => hostSendControl(AF_INET6, false, [{ level: SOL_IPV6, type: IPV6_HOPOPTS, data: Buffer.from([17, 1, 1, 4, 0, 0, 0, 0]) }], v6, raw)), 22);
  assert.strictEqual(errno(() => hostSendControl(AF_INET6, false, [{ level: SOL_IPV6, type: IPV6_DSTOPTS, data: Buffer.from([17]) }], v6, raw)), 22);
  assert.strictEqual(errno(() => hostSendControl(AF_INET6, false, [{ level: SOL_IPV6, type: IPV6_DSTOPTS, data: hop }], v6, none)), 1);
  assert.strictEqual(errno(() => hostSendControl(AF_INET6, false, [{ level: SOL_IPV6, type: IPV6_RTHDR, data: hop.subarray(0, 3) }], v6, none)), 22);
  assert.deepStrictEqual(hostSendControl(AF_INET6, false, [{ level: SOL_IPV6, type: IPV6_RTHDR, data: hop }], v6, none), cmsg(SOL_IPV6, IPV6_RTHDR, hop));
  assert.strictEqual(hostSendControl(AF_INET, false, [{ level: SOL_IPV6, type: IPV6_HOPOPTS, data: hop }], v6, none), null);
  // Received: only a header whose length field says its size.
  assert.deepStrictEqual(appRecvControl(cmsg(SOL_IPV6, IPV6_DSTOPTS, hop)), [{ level: SOL_IPV6, type: IPV6_DSTOPTS, data: hop }]);
  assert.strictEqual(appRecvControl(cmsg(SOL_IPV6, IPV6_DSTOPTS, Buffer.from([17, 1, 1, 4, 0, 0, 0, 0]))), undefined);
  assert.strictEqual(appRecvControl(cmsg(SOL_IPV6, 55, hop)), undefined);
});

test('SO_TIMESTAMPING: per-message flags cross (streams too, which drop the IP levels), stamps and extended errors come back, the latter from the error queue only', () => {
  const SO_TIMESTAMPING = 37, IP_RECVERR = 11, IPV6_RECVERR = 25;
  const flags = int(2);
  assert.deepStrictEqual(hostSendControl(AF_INET, true, [{ level: SOL_IP, type: IP_TTL, data: int(3) }, { level: SOL_SOCKET, type: SO_TIMESTAMPING, data: flags }], v6), cmsg(SOL_SOCKET, SO_TIMESTAMPING, flags));
  assert.strictEqual(errno(() => hostSendControl(AF_INET, false, [{ level: SOL_SOCKET, type: SO_TIMESTAMPING, data: Buffer.alloc(8) }], v6)), 22);
  const ts = Buffer.alloc(48, 1);
  assert.deepStrictEqual(appRecvControl(cmsg(SOL_SOCKET, SO_TIMESTAMPING, ts)), [{ level: SOL_SOCKET, type: SO_TIMESTAMPING, data: ts }]);
  assert.strictEqual(appRecvControl(cmsg(SOL_SOCKET, SO_TIMESTAMPING, Buffer.alloc(40))), undefined);
  const ee = Buffer.alloc(32, 2), ee6 = Buffer.alloc(44, 3);
  assert.strictEqual(appRecvControl(cmsg(SOL_IP, IP_RECVERR, ee)), undefined);
  assert.deepStrictEqual(appRecvControl(Buffer.concat([cmsg(SOL_IP, IP_RECVERR, ee), cmsg(SOL_IPV6, IPV6_RECVERR, ee6)]), true),
    [{ level: SOL_IP, type: IP_RECVERR, data: ee }, { level: SOL_IPV6, type: IPV6_RECVERR, data: ee6 }]);
  assert.strictEqual(appRecvControl(cmsg(SOL_IP, IP_RECVERR, Buffer.alloc(16)), true), undefined);
});
