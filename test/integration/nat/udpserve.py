# A UDP echo server inside the sandbox on 0.0.0.0:PORT, answering with the
# sender's address as the sandbox sees it (the gateway, for published ports).
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', int(sys.argv[1])))
while True:
    d, peer = s.recvfrom(65536)
    s.sendto(b'echo from sandbox to ' + peer[0].encode() + b': ' + d, peer)
