# A tiny authoritative DNS server for the NAT tests, on 127.0.0.1:53 over UDP
# and TCP: every A query for a name under nat.test is answered with
# 192.0.2.7, anything else with NXDOMAIN; AAAA and other types get no data.
import socket, struct, threading

def answer(q):
    ident, flags, qd = struct.unpack('>HHH', q[:6])
    i = 12
    labels = []
    while q[i]:
        labels.append(q[i + 1:i + 1 + q[i]].decode())
        i += 1 + q[i]
    i += 1
    qtype, _ = struct.unpack('>HH', q[i:i + 4])
    question = q[12:i + 4]
    name = '.'.join(labels).lower()
    ours = name.endswith('nat.test')
    rcode = 0 if ours else 3
    an = b''
    if ours and qtype == 1:
        an = b'\xc0\x0c' + struct.pack('>HHIH', 1, 1, 60, 4) + bytes([192, 0, 2, 7])
    head = struct.pack('>HHHHHH', ident, 0x8400 | (flags & 0x0100) | rcode, 1, 1 if an else 0, 0, 0)
    return head + question + an

def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 53))
    while True:
        q, peer = s.recvfrom(4096)
        s.sendto(answer(q), peer)

def tcp():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', 53))
    s.listen()
    while True:
        c, _ = s.accept()
        try:
            h = c.recv(2)
            if len(h) < 2:
                continue  # a probe that only checked the port
            n = struct.unpack('>H', h)[0]
            q = b''
            while len(q) < n:
                d = c.recv(n - len(q))
                if not d:
                    break
                q += d
            a = answer(q)
            c.sendall(struct.pack('>H', len(a)) + a)
        finally:
            c.close()

threading.Thread(target=udp, daemon=True).start()
tcp()
