# Unix sockets from Python: socketpair, a socketserver on a path with a
# forked client, and multiprocessing's descriptor passing. Prints only what
# is the same natively and in the sandbox.
import multiprocessing.reduction as reduction
import os
import socket
import socketserver
import sys
import tempfile

a, b = socket.socketpair()
a.sendall(b'ping over a socketpair')
print(b.recv(100).decode())
b.shutdown(socket.SHUT_WR)
print('eof after shutdown:', a.recv(10) == b'')
print('family', a.family == socket.AF_UNIX, 'type', a.type == socket.SOCK_STREAM)
a.close()
b.close()

d1, d2 = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
d1.send(b'one')
d1.send(b'two')
print(d2.recv(10), d2.recv(10))
d1.close()
d2.close()


class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        for line in self.rfile:
            self.wfile.write(b'echo: ' + line.upper())


path = os.path.join(tempfile.mkdtemp(dir=sys.argv[1] if len(sys.argv) > 1 else None), 'server.sock')
srv = socketserver.UnixStreamServer(path, Echo)
pid = os.fork()
if pid == 0:
    srv.handle_request()
    srv.handle_request()
    os._exit(0)
srv.socket.close()
for word in ('first', 'second'):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.connect(path)
    f = c.makefile('rwb')
    f.write(word.encode() + b'\nline two\n')
    f.flush()
    c.shutdown(socket.SHUT_WR)
    print(f.read().decode(), end='')
    print('peer', c.getpeername() == path)
    c.close()
os.waitpid(pid, 0)
os.unlink(path)
os.rmdir(os.path.dirname(path))

# multiprocessing passes a pipe's write end to a child over a socketpair.
p, q = socket.socketpair()
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    p.close()
    fd = reduction.recv_handle(q)
    os.write(fd, b'written through a passed descriptor')
    os._exit(0)
q.close()
reduction.send_handle(p, w, pid)
os.close(w)
print(os.read(r, 100).decode())
os.waitpid(pid, 0)
print('eof', os.read(r, 10) == b'')
print('done')
