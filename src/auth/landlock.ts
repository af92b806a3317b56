// Landlock's checks that are not about files (man 7 landlock; Linux's
// security/landlock/net.c and task.c for the facts): TCP ports (ABI 4) and
// the scopes of ABI 6 (abstract Unix sockets, signals). Every such hook of
// the sandbox goes through these; the file system's are vfs/landlock.ts.

import { E, Errno } from '../abi/errno';
import { ACCESS_NET_BIND_TCP, ACCESS_NET_CONNECT_TCP } from '../abi/landlock';
import { AF_INET, AF_INET6, AF_UNSPEC, SOCK_STREAM, SOCK_TYPE_MASK } from '../abi/socket';
import type { Credentials, LandlockDomain } from './creds';

const IPPROTO_TCP = 6;
/** sizeof(struct sockaddr_in); sizeof(struct sockaddr_in6) without its scope id (SIN6_LEN_RFC2133). */
const SOCKADDR_IN_SIZE = 16;
const SIN6_LEN_RFC2133 = 24;

/** What the net hook needs of a socket. */
export interface SocketKind {
  readonly family: number;
  readonly type: number;
  readonly protocol: number;
}

/**
 * bind (ACCESS_NET_BIND_TCP) or connect (ACCESS_NET_CONNECT_TCP) of socket s
 * to addr: EACCES unless every layer that handles the right has a rule on
 * the port that grants it. Only TCP sockets are restricted; a domain that
 * handles no network right checks nothing, not even the address. The hook
 * runs before the protocol's own checks, so a malformed address is its
 * EINVAL (or EAFNOSUPPORT) first, as on Linux.
 */
export function landlockCheckNet(creds: Credentials, s: SocketKind, addr: Buffer, access: number): void {
  const dom = creds.landlock;
  if (!dom || !dom.some((l) => l.handledNet !== 0)) return;
  if ((s.family !== AF_INET && s.family !== AF_INET6) || (s.type & SOCK_TYPE_MASK) !== SOCK_STREAM) return;
  if (s.protocol !== 0 && s.protocol !== IPPROTO_TCP) return;
  if (addr.length < 2) throw new Errno(E.EINVAL);
  const family = addr.readUInt16LE(0);
  if (family === AF_UNSPEC || family === AF_INET) {
    if (addr.length < SOCKADDR_IN_SIZE) throw new Errno(E.EINVAL);
  } else if (family === AF_INET6) {
    if (addr.length < SIN6_LEN_RFC2133) throw new Errno(E.EINVAL);
  } else return;
  if (family === AF_UNSPEC) {
    // Dissolving a connection is like closing it: always allowed.
    if (access === ACCESS_NET_CONNECT_TCP) return;
    // bind takes AF_UNSPEC as AF_INET with INADDR_ANY only.
    if (access === ACCESS_NET_BIND_TCP) {
      if (s.family !== AF_INET) throw new Errno(E.EINVAL);
      if (addr.readUInt32BE(4) !== 0) throw new Errno(E.EAFNOSUPPORT);
    }
  } else if (family !== s.family) {
    throw new Errno(E.EINVAL);
  }
  // Port 0 is a rule's port like any other: binding to it asks for an ephemeral port.
  const port = addr.readUInt16BE(2);
  for (const l of dom) {
    if (access & l.handledNet && !((l.netRules.get(port) ?? 0) & access)) throw new Errno(E.EACCES);
  }
}

/**
 * Whether a task of domain client is kept by scope (LANDLOCK_SCOPE_*) from
 * an object (a socket, a process) of domain server: some layer of the client
 * that has the scope is not a layer of the server too (the server is then
 * outside that layer's domain). Layers are shared objects, so the same
 * object at the same depth is the same domain.
 */
export function landlockScoped(client: LandlockDomain | null, server: LandlockDomain | null, scope: number): boolean {
  if (!client) return false;
  for (let i = 0; i < client.length; i++) {
    if (!(client[i].scoped & scope)) continue;
    if (!server || i >= server.length || server[i] !== client[i]) return true;
  }
  return false;
}
