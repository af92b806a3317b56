// Sockets. The network stack (unix sockets, the user-space TCP/IP stack) is a
// later issue; until then socket() and socketpair() fail with EAFNOSUPPORT and
// every call on a descriptor reports ENOTSOCK (or EBADF), as Linux does for a
// descriptor that is not a socket. Programs such as bash probe fds this way.

import { E, Errno } from '../abi/errno';
import type { Task } from '../kernel/task';
import { i32, type SyscallDef } from '../kernel/syscall';

function notSocket(t: Task, a: number[]): number {
  t.fdTable.get(i32(a[0])); // EBADF first
  throw new Errno(E.ENOTSOCK);
}

function socket(t: Task, a: number[]): number {
  const domain = i32(a[0]);
  t.kernel.logOnce('socket', `socket(domain ${domain}): sockets are not implemented yet (logged once)`);
  throw new Errno(E.EAFNOSUPPORT);
}

const PARTIAL = 'sockets not implemented yet: ENOTSOCK/EBADF on descriptors';
const fdCalls: Array<[number, string, string[]]> = [
  [42, 'connect', ['fd', 'sockaddr', 'size']],
  [43, 'accept', ['fd', 'sockaddr_out', 'int_out']],
  [288, 'accept4', ['fd', 'sockaddr_out', 'int_out', 'fdflags']],
  [44, 'sendto', ['fd', 'inbuf', 'size', 'msg_flags', 'sockaddr', 'size']],
  [45, 'recvfrom', ['fd', 'buf', 'size', 'msg_flags', 'sockaddr_out', 'int_out']],
  [46, 'sendmsg', ['fd', 'ptr', 'msg_flags']],
  [47, 'recvmsg', ['fd', 'ptr_out', 'msg_flags']],
  [48, 'shutdown', ['fd', 'shut_how']],
  [49, 'bind', ['fd', 'sockaddr', 'size']],
  [50, 'listen', ['fd', 'int']],
  [51, 'getsockname', ['fd', 'sockaddr_out', 'int_out']],
  [52, 'getpeername', ['fd', 'sockaddr_out', 'int_out']],
  [54, 'setsockopt', ['fd', 'int', 'int', 'ptr', 'size']],
  [55, 'getsockopt', ['fd', 'int', 'int', 'ptr', 'ptr']],
  [299, 'recvmmsg', ['fd', 'ptr', 'uint', 'hex', 'ptr']],
  [307, 'sendmmsg', ['fd', 'ptr', 'uint', 'hex']],
];

export const defs: SyscallDef[] = [
  { nr: 41, name: 'socket', fn: socket, args: ['sock_domain', 'sock_type', 'sock_proto'], partial: 'no address family is supported yet: EAFNOSUPPORT' },
  { nr: 53, name: 'socketpair', fn: socket, args: ['sock_domain', 'sock_type', 'sock_proto', 'fdpair_out'], partial: 'no address family is supported yet: EAFNOSUPPORT' },
  ...fdCalls.map(([nr, name, args]) => ({ nr, name, fn: notSocket, args, partial: PARTIAL })),
];
