# UDP-Lite (udplite(7)) over loopback: the coverage options, partial coverage
# refused below UDPLITE_RECV_CSCOV, a closed port's ECONNREFUSED, for
# inet.test.js to compare with a native run.
import socket
for fam, host in ((socket.AF_INET, '127.0.0.1'), (socket.AF_INET6, '::1')):
    s = socket.socket(fam, socket.SOCK_DGRAM, socket.IPPROTO_UDPLITE)
    s.bind((host, 0))
    c = socket.socket(fam, socket.SOCK_DGRAM, socket.IPPROTO_UDPLITE)
    c.setsockopt(socket.IPPROTO_UDPLITE, 10, 20)
    print(c.getsockopt(socket.IPPROTO_UDPLITE, 10), c.getsockopt(socket.IPPROTO_UDPLITE, 11))
    c.sendto(b'x' * 100, s.getsockname())
    d, a = s.recvfrom(1000)
    print(len(d), a[0])
    s.setsockopt(socket.IPPROTO_UDPLITE, 11, 0)  # full coverage only
    s.settimeout(0.5)
    c.sendto(b'y' * 100, s.getsockname())
    try:
        s.recvfrom(1000); print('partial taken')
    except socket.timeout:
        print('partial dropped')
    s.setsockopt(socket.IPPROTO_UDPLITE, 11, 3)
    print(s.getsockopt(socket.IPPROTO_UDPLITE, 11))
    c.sendto(b'z' * 10, s.getsockname())
    print(s.recvfrom(100)[0])
    # A connected socket to a closed port learns ECONNREFUSED.
    u = socket.socket(fam, socket.SOCK_DGRAM, socket.IPPROTO_UDPLITE)
    u.connect((host, 9)); u.send(b'q'); u.settimeout(1)
    try:
        u.recv(10)
    except OSError as e:
        print('closed:', e.errno)
    print(socket.socket(fam, socket.SOCK_DGRAM, socket.IPPROTO_UDPLITE).getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL))
