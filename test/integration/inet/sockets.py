# Python's socket and asyncio over the sandbox's loopback: compared with a native run.
import asyncio, errno, socket, threading

def tcp_echo(fam, host):
    srv = socket.socket(fam, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, 0))
    srv.listen()
    port = srv.getsockname()[1]
    def serve():
        c, _ = srv.accept()
        with c:
            while True:
                d = c.recv(65536)
                if not d:
                    break
                c.sendall(d)
    t = threading.Thread(target=serve)
    t.start()
    with socket.create_connection((host, port)) as c:
        data = bytes(range(256)) * 4000
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        got = b''
        while True:
            d = c.recv(65536)
            if not d:
                break
            got += d
    t.join()
    srv.close()
    print('tcp echo', fam.name, len(got), got == data)

def udp(fam, host):
    a = socket.socket(fam, socket.SOCK_DGRAM)
    a.bind((host, 0))
    b = socket.socket(fam, socket.SOCK_DGRAM)
    b.sendto(b'datagram', a.getsockname())
    d, frm = a.recvfrom(100)
    print('udp', fam.name, d, frm[0])
    a.close(); b.close()

def errors():
    s = socket.socket()
    try:
        s.connect(('127.0.0.1', 1))
    except OSError as e:
        print('connect port 1:', errno.errorcode[e.errno])
    s.close()
    a = socket.socket(); a.bind(('127.0.0.1', 0)); a.listen()
    b = socket.socket()
    try:
        b.bind(a.getsockname())
    except OSError as e:
        print('bind again:', errno.errorcode[e.errno])
    a.close(); b.close()
    print('getaddrinfo 127.0.0.1:', sorted({x[4][0] for x in socket.getaddrinfo('127.0.0.1', 80, type=socket.SOCK_STREAM)}))

async def aio():
    async def handle(r, w):
        line = await r.readline()
        w.write(b'echo ' + line)
        await w.drain()
        w.close()
    srv = await asyncio.start_server(handle, '127.0.0.1', 0)
    port = srv.sockets[0].getsockname()[1]
    out = []
    for i in range(20):
        r, w = await asyncio.open_connection('127.0.0.1', port)
        w.write(b'line %d\n' % i)
        await w.drain()
        out.append(await r.readline())
        w.close()
        await w.wait_closed()
    srv.close()
    await srv.wait_closed()
    print('asyncio', len(out), out[0], out[-1])

tcp_echo(socket.AF_INET, '127.0.0.1')
tcp_echo(socket.AF_INET6, '::1')
udp(socket.AF_INET, '127.0.0.1')
udp(socket.AF_INET6, '::1')
errors()
asyncio.run(aio())
print('done')
