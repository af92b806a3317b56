# Clients in the sandbox, through the NAT: urllib, UDP (echo, a refused
# port), DNS over UDP (getaddrinfo through 10.0.2.3) and over TCP.
import socket, struct, sys, urllib.request
base = sys.argv[1]
print('urllib:', urllib.request.urlopen(base + '/hello.txt', timeout=60).read().decode().strip())
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(30)
u.sendto(b'ping', ('10.0.2.2', 9000))
print('udp:', u.recvfrom(100)[0].decode())
big = bytes(range(256)) * 32
u.sendto(big, ('10.0.2.2', 9000))
d = u.recvfrom(65536)[0]
print('udp 8 KiB:', d == b'echo:' + big)
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.settimeout(30)
r.connect(('10.0.2.2', 9001))
r.send(b'x')
try:
    r.recv(10)
    print('refused udp: got data')
except OSError as e:
    print('refused udp:', e.errno == 111 and 'ECONNREFUSED' or e)
print('getaddrinfo:', sorted(set(a[4][0] for a in socket.getaddrinfo('web.nat.test', 80, socket.AF_INET, socket.SOCK_STREAM))))
try:
    socket.getaddrinfo('nowhere.example', 80, socket.AF_INET)
    print('nxdomain: resolved?')
except socket.gaierror as e:
    print('nxdomain:', e.errno == socket.EAI_NONAME)
q = struct.pack('>HHHHHH', 7, 0x0100, 1, 0, 0, 0) + b'\x03tcp\x03nat\x04test\x00' + struct.pack('>HH', 1, 1)
t = socket.create_connection(('10.0.2.3', 53), timeout=30)
t.sendall(struct.pack('>H', len(q)) + q)
n = struct.unpack('>H', t.recv(2))[0]
a = b''
while len(a) < n:
    a += t.recv(n - len(a))
print('dns over tcp:', '.'.join(str(b) for b in a[-4:]))
