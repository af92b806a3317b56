// Where AF_UNIX addresses lead. A name is a key in the sandbox's table
// (Kernel.unixNames): "@" + the abstract name's bytes, or the device and inode
// of the socket node a bind made in the file system (the node's identity, not
// its path, as on Linux: a rename keeps the binding, an unlink drops it).
import { Errno, E } from '../../abi/errno';
import { AF_UNIX, SOCKADDR_UN_SIZE, SUN_PATH_OFFSET } from '../../abi/socket';

export const nodeKey = (id: { dev: number; ino: number }): string => `node:${id.dev}:${id.ino}`;

/** A decoded sockaddr_un: the abstract name's bytes (with the leading NUL) or the path. */
export type UnixAddr = { abstract: Buffer; path: null } | { abstract: null; path: string };

/** Check and decode a sockaddr_un of addr.length bytes; null for a bare family (autobind). */
export function parseUnixAddr(addr: Buffer): UnixAddr | null {
  if (addr.length < SUN_PATH_OFFSET || addr.length > SOCKADDR_UN_SIZE) throw new Errno(E.EINVAL);
  if (addr.readUInt16LE(0) !== AF_UNIX) throw new Errno(E.EINVAL);
  if (addr.length === SUN_PATH_OFFSET) return null;
  if (addr[SUN_PATH_OFFSET] === 0) return { abstract: Buffer.from(addr.subarray(SUN_PATH_OFFSET)), path: null };
  const z = addr.indexOf(0, SUN_PATH_OFFSET);
  return { abstract: null, path: addr.toString('latin1', SUN_PATH_OFFSET, z < 0 ? addr.length : z) };
}

/** The sockaddr_un Linux reports for a name: a path with its NUL, an abstract name as given. */
export function unixSockaddr(a: UnixAddr | null): Buffer {
  const body = a === null ? Buffer.alloc(0) : a.path !== null ? Buffer.concat([Buffer.from(a.path, 'latin1'), Buffer.alloc(1)]) : a.abstract;
  const out = Buffer.alloc(SUN_PATH_OFFSET + body.length);
  out.writeUInt16LE(AF_UNIX, 0);
  body.copy(out, SUN_PATH_OFFSET);
  return out;
}

/** Abstract names are per socket type (a stream and a datagram socket may share one) and per network namespace (scope: '' for the initial one). */
export const abstractKey = (type: number, name: Buffer, scope = ''): string => `@${scope}${scope ? '/' : ''}${type}:` + name.toString('latin1');
