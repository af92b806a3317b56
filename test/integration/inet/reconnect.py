# A TCP socket whose connect was refused may connect again (non-blocking and
# blocking), and RFC 3542 ancillary data on UDP over IPv6 (IPV6_RECVHOPLIMIT,
# IPV6_RECVTCLASS, IPV6_HOPLIMIT and IPV6_TCLASS on sendmsg, control buffers
# too small), for inet.test.js to compare with a native run.
import errno
import select
import socket

for host, fam in (('127.0.0.1', socket.AF_INET), ('::1', socket.AF_INET6)):
    lst = socket.socket(fam)
    lst.bind((host, 0))
    addr = lst.getsockname()[:2]
    s = socket.socket(fam)
    s.setblocking(False)
    print('first:', errno.errorcode[s.connect_ex(addr)])
    select.select([], [s], [], 5)
    print('again:', errno.errorcode.get(s.connect_ex(addr), 'OK'))
    lst.listen(1)
    r = s.connect_ex(addr)
    print('after listen:', errno.errorcode.get(r, 'OK'))
    select.select([], [s], [], 5)
    print('so_error:', s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR), 'peer', s.getpeername()[1] == addr[1])
    s.close()
    lst.close()
    b = socket.socket(fam)
    lst = socket.socket(fam)
    lst.bind((host, 0))
    addr = lst.getsockname()[:2]
    print('blocking:', errno.errorcode.get(b.connect_ex(addr), 'OK'))
    lst.listen(1)
    print('blocking again:', errno.errorcode.get(b.connect_ex(addr), 'OK'))
    print('connect on connected:', errno.errorcode.get(b.connect_ex(addr), 'OK'))
    b.close()
    lst.close()

r = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
r.bind(('::1', 0))
w = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
r.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
r.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVTCLASS, 1)
print('opts:', r.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT), r.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVTCLASS))
i32 = lambda v: v.to_bytes(4, 'little', signed=True)
w.sendmsg([b'one'], [(socket.IPPROTO_IPV6, socket.IPV6_HOPLIMIT, i32(7)), (socket.IPPROTO_IPV6, socket.IPV6_TCLASS, i32(0x28))], 0, r.getsockname())
w.sendmsg([b'two'], [], 0, r.getsockname())
w.sendmsg([b'three'], [(socket.IPPROTO_IPV6, socket.IPV6_HOPLIMIT, i32(-1))], 0, r.getsockname())
for size in (1024, 1024, socket.CMSG_LEN(4)):
    data, anc, flags, _ = r.recvmsg(100, size)
    print(data, [(l, t, int.from_bytes(d, 'little', signed=True) if len(d) == 4 else d) for l, t, d in anc], 'CTRUNC' if flags & socket.MSG_CTRUNC else '')
for v in (256, -2):
    try:
        w.sendmsg([b'x'], [(socket.IPPROTO_IPV6, socket.IPV6_HOPLIMIT, i32(v))], 0, r.getsockname())
    except OSError as e:
        print('hoplimit', v, errno.errorcode[e.errno])
try:
    w.sendmsg([b'x'], [(socket.IPPROTO_IPV6, socket.IPV6_HOPLIMIT, b'\x01')], 0, r.getsockname())
except OSError as e:
    print('short hoplimit', errno.errorcode[e.errno])
w.sendmsg([b'four'], [], 0, r.getsockname())
data, anc, flags, _ = r.recvmsg(100, 0)
print(data, anc, 'CTRUNC' if flags & socket.MSG_CTRUNC else '')
print('done')
