# Host side of test/hostile/natflood.c: on SINKPORT accept every connection
# and never read; on ECHOPORT echo. Prints how many connections the sink got
# when told to (SIGUSR1), so the test sees what crossed the NAT.
import signal, socket, sys, threading
held = []
def sink(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind(('127.0.0.1', port))
    s.listen(4096)
    while True:
        c, _ = s.accept()
        held.append(c)
def echo(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', port))
    s.listen()
    while True:
        c, _ = s.accept()
        d = c.recv(100)
        c.sendall(d)
        c.close()
signal.signal(signal.SIGUSR1, lambda *_: print('sink connections:', len(held), flush=True))
threading.Thread(target=sink, args=(int(sys.argv[1]),), daemon=True).start()
echo(int(sys.argv[2]))
