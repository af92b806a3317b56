# A console socket as Docker's shim and containerd make one: listens on
# argv[1], receives the pty master with SCM_RIGHTS, types argv[2] into it, and
# prints the name sent with the fd and everything the terminal shows until it
# hangs up.
import os, socket, sys

path, typed = sys.argv[1], sys.argv[2].encode()
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
srv.settimeout(60)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
print('name:', msg.decode(), flush=True)
master = fds[0]
os.write(master, typed)
out = b''
while True:
    try:
        d = os.read(master, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
sys.stdout.write(out.decode('latin1'))
