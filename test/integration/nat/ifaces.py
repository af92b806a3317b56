# The interfaces through the SIOCGIF* ioctls (address, netmask, flags) and
# if_nameindex (netlink), as a program in the sandbox sees them.
import fcntl, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for n in (b'lo', b'eth0'):
    a = fcntl.ioctl(s, 0x8915, struct.pack('16s16x', n))
    m = fcntl.ioctl(s, 0x891b, struct.pack('16s16x', n))
    f = struct.unpack('H', fcntl.ioctl(s, 0x8913, struct.pack('16s16x', n))[16:18])[0]
    print(n.decode(), socket.inet_ntoa(a[20:24]), socket.inet_ntoa(m[20:24]), hex(f))
print(socket.if_nameindex())
