#!/usr/bin/env python3
# Malformed and hostile Ethernet frames, sent from the host side of a
# container's veth to the container's MAC address (docker_net.test.js):
# truncated headers, wrong versions and lengths, bad checksums, bogus ARP,
# IPv6 with endless extension headers, TCP with impossible offsets, and
# random bytes. Prints how many frames went out, and how many of them are
# malformed at the link or IP layer (the sandbox must drop and count those).
#   hostile_frames.py IFNAME DST_MAC DST_IP SRC_IP
import os
import random
import socket
import struct
import sys

ifname, dst_mac, dst_ip, src_ip = sys.argv[1:5]
dmac = bytes.fromhex(dst_mac.replace(':', ''))
smac = bytes.fromhex('02badbadbad0')
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((ifname, 0))
rnd = random.Random(11)


def csum(b):
    if len(b) % 2:
        b += b'\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff


def eth(typ, body):
    return dmac + smac + struct.pack('!H', typ) + body


def ip4(proto, payload, ihl=5, total=None, version=4, fix=True, frag=0x4000):
    total = 20 + len(payload) if total is None else total
    h = struct.pack('!BBHHHBBH4s4s', (version << 4) | ihl, 0, total, 1, frag, 64, proto, 0,
                    socket.inet_aton(src_ip), socket.inet_aton(dst_ip))
    if fix:
        h = h[:10] + struct.pack('!H', csum(h)) + h[12:]
    return h + payload


bad = []
bad.append(dmac + smac)                                   # no ethertype
bad.append(eth(0x0800, b''))                              # no IP header
bad.append(eth(0x0800, b'\x45' + b'\0' * 10))             # truncated IP header
bad.append(eth(0x0800, ip4(6, b'x' * 20, version=6)))     # IPv4 ethertype, version 6
bad.append(eth(0x0800, ip4(6, b'x' * 20, ihl=3)))         # header length under 20
bad.append(eth(0x0800, ip4(6, b'x' * 20, ihl=15)))        # header length past the packet
bad.append(eth(0x0800, ip4(6, b'x' * 20, total=60000)))   # total length past the frame
bad.append(eth(0x0800, ip4(6, b'x' * 20, total=10)))      # total length under the header
bad.append(eth(0x0800, ip4(6, b'x' * 20, fix=False)[:10] + b'\xde\xad' + ip4(6, b'x' * 20)[12:]))  # bad header checksum
bad.append(eth(0x0806, b'\0\1\x08\0'))                    # truncated ARP
bad.append(eth(0x0806, struct.pack('!HHBBH', 1, 0x0800, 16, 4, 1) + b'\0' * 40))  # ARP with a 16-byte hardware address
bad.append(eth(0x0806, struct.pack('!HHBBH', 1, 0x0800, 6, 4, 9) + b'\0' * 20))   # ARP opcode 9
bad.append(eth(0x86dd, b'\x60\0\0\0'))                    # truncated IPv6
bad.append(eth(0x86dd, struct.pack('!IHBB', 6 << 28, 5000, 6, 64) + b'\0' * 32))  # IPv6 payload length past the frame
bad.append(eth(0x88b5, b'local experimental ethertype'))  # unknown ethertype
# Well-formed IP, hostile above it (dropped further up, not counted as link drops):
above = []
tcp_bad_off = struct.pack('!HHIIBBHHH', 1234, 80, 1, 0, 0xf0, 0x02, 1024, 0, 0)   # data offset 60 in a 20-byte segment
above.append(eth(0x0800, ip4(6, tcp_bad_off)))
above.append(eth(0x0800, ip4(6, b'\0' * 3)))               # TCP header cut short
above.append(eth(0x0800, ip4(17, b'\0' * 5)))              # UDP header cut short
above.append(eth(0x0800, ip4(17, struct.pack('!HHHH', 1, 53, 9000, 0) + b'x')))  # UDP length past the packet
above.append(eth(0x0800, ip4(1, b'\x03\x03')))             # ICMP cut short
above.append(eth(0x0800, ip4(6, b'x' * 40, frag=0x2000)))  # a fragment (never reassembled)
# IPv6: a chain of destination options headers, longer than any packet should carry.
chain = b''.join(bytes([60, 0]) + b'\0' * 6 for _ in range(40)) + bytes([59, 0]) + b'\0' * 6
v6 = struct.pack('!IHBB', 6 << 28, len(chain), 60, 64) + b'\xfd' + b'\0' * 15 + b'\xfd' + b'\0' * 14 + b'\1'
above.append(eth(0x86dd, v6 + chain))
sent = 0
nbad = 0
for i, f in enumerate(bad + above):
    try:
        s.send(f)
    except OSError:
        continue  # the host refused it (a runt): never reached the sandbox
    sent += 1
    nbad += i < len(bad)
# Random bytes behind a valid Ethernet header, 500 of each type, and runts.
for i in range(1500):
    typ = (0x0800, 0x86dd, 0x0806)[i % 3]
    body = bytes(rnd.getrandbits(8) for _ in range(rnd.randrange(0, 120)))
    s.send(eth(typ, body))
    sent += 1
print(sent, nbad)
