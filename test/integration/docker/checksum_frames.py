#!/usr/bin/env python3
# TCP SYNs with a wrong checksum and with a right one, sent from the host
# side of a container's veth to a port nothing listens on in the container
# (docker_net.test.js). The host's packet socket sends them with no checksum
# offload state, so the virtio-net header the Sentry reads says neither
# DATA_VALID nor NEEDS_CSUM: the Sentry must verify, answer the good SYN
# with a reset and drop the corrupt one unanswered. Each SYN has its own
# source port; prints the source ports that got a reset, one line.
#   checksum_frames.py IFNAME DST_MAC DST_IP SRC_IP
import socket
import struct
import sys
import time

ifname, dst_mac, dst_ip, src_ip = sys.argv[1:5]
dmac = bytes.fromhex(dst_mac.replace(':', ''))
smac = bytes.fromhex('02c5c5c5c5c5')
PORT = 9
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((ifname, 0))
s.settimeout(0.2)


def csum(b):
    if len(b) % 2:
        b += b'\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while t >> 16:
        t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff


def syn(sport, corrupt):
    src, dst = socket.inet_aton(src_ip), socket.inet_aton(dst_ip)
    tcp = struct.pack('!HHIIBBHHH', sport, PORT, 1000, 0, 5 << 4, 0x02, 65535, 0, 0)
    c = csum(src + dst + struct.pack('!BBH', 0, 6, len(tcp)) + tcp) ^ (1 if corrupt else 0)
    tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return dmac + smac + b'\x08\x00' + ip + tcp


answered = set()
want = {41001: True, 41002: False, 41003: True, 41004: False}  # port: corrupt
for sport, corrupt in want.items():
    s.send(syn(sport, corrupt))
end = time.time() + 3
while time.time() < end:
    try:
        f = s.recv(65536)
    except socket.timeout:
        continue
    if len(f) < 54 or f[12:14] != b'\x08\x00' or f[23] != 6 or f[26:30] != socket.inet_aton(dst_ip):
        continue
    t = 14 + (f[14] & 0xf) * 4
    sport, dport = struct.unpack('!HH', f[t:t + 4])
    if sport == PORT and dport in want and f[t + 13] & 0x04:
        answered.add(dport)
print(' '.join(str(p) for p in sorted(answered)))
