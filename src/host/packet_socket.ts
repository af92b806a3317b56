// The AF_PACKET socket through which the Sentry sends and receives a
// taken-over interface's frames (host/netns.ts), and the take-over's
// failures.
import { SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOL_SOCKET, SO_RCVBUFFORCE, SO_SNDBUFFORCE } from '../abi/socket';
import * as libc from './libc';

const AF_PACKET = 17;
const ETH_P_ALL = 0x0003;
const SOL_PACKET = 263;
const PACKET_IGNORE_OUTGOING = 23;
const PACKET_VNET_HDR = 15;
const htons = (v: number): number => ((v & 0xff) << 8) | (v >> 8);

/** The socket buffers of a packet socket: room for a burst of full-size (GSO) frames. */
const PACKET_BUFFER = 4 << 20;

/** A host failure of the take-over, with what was being done. */
export class TakeoverError extends Error {}

export function check(rc: number | bigint, what: string): number {
  const n = Number(rc);
  if (n < 0) throw new TakeoverError(`network take-over: ${what}: errno ${libc.errno()}`);
  return n;
}

/**
 * An AF_PACKET socket bound to interface index, non-blocking, with large
 * buffers, not seeing its own transmissions, and with virtio-net headers if
 * the host allows them (the host then cuts the Sentry's large TCP segments
 * and hands it its own unsegmented).
 */
export function packetSocket(index: number): { fd: number; vnetHdr: boolean } {
  const fd = check(libc.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL)) as number, 'socket(AF_PACKET)');
  try {
    const sll = Buffer.alloc(20);
    sll.writeUInt16LE(AF_PACKET, 0);
    sll.writeUInt16BE(ETH_P_ALL, 2);
    sll.writeInt32LE(index, 4);
    check(libc.bind(fd, sll, sll.length) as number, 'bind(AF_PACKET)');
    const one = Buffer.alloc(4);
    one.writeInt32LE(1, 0);
    check(libc.setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, one, 4) as number, 'PACKET_IGNORE_OUTGOING');
    const vnetHdr = Number(libc.setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, one, 4)) === 0;
    const size = Buffer.alloc(4);
    size.writeInt32LE(PACKET_BUFFER, 0);
    libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4);
    libc.setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, size, 4);
    return { fd, vnetHdr };
  } catch (e) {
    libc.close(fd);
    throw e;
  }
}
