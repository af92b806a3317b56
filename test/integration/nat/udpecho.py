# A UDP echo server on 127.0.0.1:PORT that says who sent each datagram.
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', int(sys.argv[1])))
while True:
    d, peer = s.recvfrom(65536)
    s.sendto(b'echo:' + d, peer)
