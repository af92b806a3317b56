# The host's end of nat/oobclient.c: waits for urgent data, reads the bytes
# before the mark, the urgent byte out of band and the rest, answers with
# "before|urgent|after;" and then "12", urgent "Z", "34", and closes.
import select
import socket
import sys

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(1)
while True:
    # A probe (wait_port) connects and closes without a byte: the next one.
    c, _ = s.accept()
    select.select([c], [], [], 30)
    if c.recv(16, socket.MSG_PEEK):
        break
    c.close()
select.select([], [], [c], 30)
before = b""
while not before.endswith(b"c"):
    before += c.recv(16)
urgent = c.recv(1, socket.MSG_OOB)
after = b""
while len(after) < 3:
    after += c.recv(16)
c.sendall(b"%s|%s|%s;" % (before, urgent, after))
c.sendall(b"12")
c.send(b"Z", socket.MSG_OOB)
c.sendall(b"34")
c.close()
