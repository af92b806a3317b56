# A tun device with an IPv6 address (ip addr add, nodad): a UDP datagram to its network read from the fd, a crafted reply written back received on the socket. Run by tun.test.js natively and in the sandbox.
import fcntl, os, socket, struct, subprocess, time
fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
ifr = struct.pack('16sH22x', b't6', 0x1001)
fcntl.ioctl(fd, 0x400454ca, ifr)
subprocess.run(['ip', 'addr', 'add', 'fd07::1/64', 'dev', 't6', 'nodad'], check=True)
subprocess.run(['ip', 'link', 'set', 't6', 'up'], check=True)
time.sleep(0.3)
try:
    while True: os.read(fd, 2000)
except BlockingIOError: pass
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(('fd07::1', 5000))
s.sendto(b'six', ('fd07::2', 6000))
for i in range(50):
    try:
        p = os.read(fd, 2000)
    except BlockingIOError:
        time.sleep(0.01); continue
    if p[0] >> 4 == 6 and p[6] == 17:
        print('read v6 udp', len(p), 'hop', p[7], socket.inet_ntop(socket.AF_INET6, p[8:24]), socket.inet_ntop(socket.AF_INET6, p[24:40]), p[48:])
        # reply: swap addresses and ports, recompute checksum
        src, dst = p[24:40], p[8:24]
        udp = bytearray(p[40:]); udp[0:2], udp[2:4] = p[42:44], p[40:42]; udp[6:8] = b'\0\0'
        data = bytes(udp[:8]) + b'back'
        udp = bytearray(data); struct.pack_into('!H', udp, 4, len(udp))
        ph = src + dst + struct.pack('!I3xB', len(udp), 17) + bytes(udp)
        if len(ph) % 2: ph += b'\0'
        c = sum(struct.unpack('!%dH' % (len(ph)//2), ph)); 
        while c >> 16: c = (c & 0xffff) + (c >> 16)
        struct.pack_into('!H', udp, 6, ~c & 0xffff)
        ip6 = struct.pack('!IHBB', 0x60000000, len(udp), 17, 64) + src + dst + bytes(udp)
        os.write(fd, ip6)
        s.settimeout(2)
        print('recv', s.recvfrom(100)[0])
        break
else:
    print('no v6 packet')
