// SO_BINDTODEVICE and SO_BINDTOIFINDEX (socket(7)): the values the
// application passes, checked as Linux checks them, for the Sentry's stack and
// for host-mode sockets alike. Whether the name or index exists is the
// caller's question (its own interface table: the sandbox's or the host's).
import { Errno, E } from '../abi/errno';
import { CAP_NET_RAW } from '../abi/inet';
import { IFNAMSIZ } from '../abi/netif';
import { hasCapability, type Credentials } from '../auth/creds';

/**
 * SO_BINDTODEVICE's value: an interface name, at most IFNAMSIZ-1 bytes of the
 * option (longer values are cut there), ending at the first NUL; '' (or a
 * zero length) unbinds.
 */
export function deviceName(val: Buffer): string {
  const raw = val.subarray(0, IFNAMSIZ - 1);
  const nul = raw.indexOf(0);
  return raw.subarray(0, nul < 0 ? raw.length : nul).toString('latin1');
}

/** SO_BINDTOIFINDEX's value: an int (shorter is EINVAL), 0 unbinds; checked by newDevice. Linux does not check that the index exists. */
export function deviceIndex(val: Buffer): number {
  if (val.length < 4) throw new Errno(E.EINVAL);
  return val.readInt32LE(0);
}

/**
 * The index a socket tied to current (0: none) is tied to next, checked as
 * Linux's sock_bindtoindex_locked: retying or untying needs CAP_NET_RAW (the
 * first binding needs nothing), then a negative index is EINVAL.
 */
export function newDevice(creds: Credentials, current: number, index: number): number {
  if (current !== 0 && !hasCapability(creds, CAP_NET_RAW)) throw new Errno(E.EPERM);
  if (index < 0) throw new Errno(E.EINVAL);
  return index;
}

/** SO_BINDTODEVICE as getsockopt reports it: nothing when unbound, else the name and its NUL. */
export function deviceNameValue(name: string): Buffer {
  return name ? Buffer.from(name + '\0', 'latin1') : Buffer.alloc(0);
}
