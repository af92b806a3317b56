// Sockets. The network stack (unix sockets, the user-space TCP/IP stack) is a
// later issue; until then socket() and socketpair() fail with EAFNOSUPPORT and
// every call on a descriptor reports ENOTSOCK (or EBADF), as Linux does for a
// descriptor that is not a socket. Programs such as bash probe fds this way.

import { E, Errno } from '../kernel/errno';
import type { Task } from '../kernel/task';
import { i32, type SyscallDef } from './types';

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
  [42, 'connect', ['fd', 'ptr', 'size']],
  [43, 'accept', ['fd', 'ptr', 'ptr']],
  [288, 'accept4', ['fd', 'ptr', 'ptr', 'hex']],
  [44, 'sendto', ['fd', 'inbuf', 'size', 'hex', 'ptr', 'size']],
  [45, 'recvfrom', ['fd', 'ptr', 'size', 'hex', 'ptr', 'ptr']],
  [46, 'sendmsg', ['fd', 'ptr', 'hex']],
  [47, 'recvmsg', ['fd', 'ptr', 'hex']],
  [48, 'shutdown', ['fd', 'int']],
  [49, 'bind', ['fd', 'ptr', 'size']],
  [50, 'listen', ['fd', 'int']],
  [51, 'getsockname', ['fd', 'ptr', 'ptr']],
  [52, 'getpeername', ['fd', 'ptr', 'ptr']],
  [54, 'setsockopt', ['fd', 'int', 'int', 'ptr', 'size']],
  [55, 'getsockopt', ['fd', 'int', 'int', 'ptr', 'ptr']],
  [299, 'recvmmsg', ['fd', 'ptr', 'uint', 'hex', 'ptr']],
  [307, 'sendmmsg', ['fd', 'ptr', 'uint', 'hex']],
];

export const defs: SyscallDef[] = [
  { nr: 41, name: 'socket', fn: socket, args: ['int', 'int', 'int'], partial: 'no address family is supported yet: EAFNOSUPPORT' },
  { nr: 53, name: 'socketpair', fn: socket, args: ['int', 'int', 'int', 'fdpair_out'], partial: 'no address family is supported yet: EAFNOSUPPORT' },
  ...fdCalls.map(([nr, name, args]) => ({ nr, name, fn: notSocket, args, partial: PARTIAL })),
];
