# A TCP echo server on [::]:PORT and a UDP echo server on [::]:PORT+1, the
# host side of the IPv6 tests (inet6.c); runs until killed.
import socket
import sys
import threading

port = int(sys.argv[1])


def tcp_client(c):
    with c:
        while True:
            b = c.recv(4096)
            if not b:
                return
            c.sendall(b)


def tcp():
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('::', port))
    s.listen()
    while True:
        c, _ = s.accept()
        threading.Thread(target=tcp_client, args=(c,), daemon=True).start()


def udp():
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.bind(('::', port + 1))
    while True:
        b, a = s.recvfrom(4096)
        s.sendto(b, a)


threading.Thread(target=udp, daemon=True).start()
tcp()
