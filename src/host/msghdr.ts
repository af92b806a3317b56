// struct msghdr and SCM_RIGHTS control messages (x86-64 layout), for every
// host sendmsg/recvmsg the Sentry, the Gofer and the runtime make: one
// place that knows the offsets. Addresses are the caller's (pinned memory,
// or a Buffer kept referenced until the call returns).
import { SCM_RIGHTS, SOL_SOCKET, cmsgSpace, CMSG_HDR } from '../abi/socket';

/** sizeof(struct msghdr). */
export const MSGHDR_SIZE = 56;
/** Offsets of msg_namelen, msg_controllen and msg_flags, which the host writes back. */
export const MSG_NAMELEN = 8;
export const MSG_CONTROLLEN = 40;
export const MSG_FLAGS = 48;

export interface MsghdrFields {
  name?: bigint;
  nameLen?: number;
  /** The address of an array of iovLen struct iovec. */
  iov: bigint;
  iovLen: number;
  control?: bigint;
  controlLen?: number;
}

/** Lay out a struct msghdr in m (its first MSGHDR_SIZE bytes; msg_flags zero). */
export function fillMsghdr(m: Buffer, f: MsghdrFields): Buffer {
  m.fill(0, 0, MSGHDR_SIZE);
  m.writeBigUInt64LE(f.name ?? 0n, 0);
  m.writeUInt32LE(f.nameLen ?? 0, MSG_NAMELEN);
  m.writeBigUInt64LE(f.iov, 16);
  m.writeBigUInt64LE(BigInt(f.iovLen), 24);
  m.writeBigUInt64LE(f.control ?? 0n, 32);
  m.writeBigUInt64LE(BigInt(f.controlLen ?? 0), MSG_CONTROLLEN);
  return m;
}

/** One struct iovec at off in b. */
export function fillIovec(b: Buffer, off: number, base: bigint, len: number): void {
  b.writeBigUInt64LE(base, off);
  b.writeBigUInt64LE(BigInt(len), off + 8);
}

/** An SCM_RIGHTS message of fds at the start of ctl (zeroed first): its CMSG_SPACE, the msg_controllen to send. */
export function writeRights(ctl: Buffer, fds: readonly number[]): number {
  const space = cmsgSpace(4 * fds.length);
  if (space > ctl.length) throw new RangeError(`${fds.length} descriptors do not fit a control buffer of ${ctl.length} bytes`);
  ctl.fill(0, 0, space);
  ctl.writeBigUInt64LE(BigInt(CMSG_HDR + 4 * fds.length), 0);
  ctl.writeInt32LE(SOL_SOCKET, 8);
  ctl.writeInt32LE(SCM_RIGHTS, 12);
  fds.forEach((fd, i) => ctl.writeInt32LE(fd, CMSG_HDR + 4 * i));
  return space;
}

/** The descriptors of every SCM_RIGHTS message in the first ctlLen bytes of ctl, in order. */
export function readRights(ctl: Buffer, ctlLen: number): number[] {
  const fds: number[] = [];
  const end = Math.min(ctlLen, ctl.length);
  for (let off = 0; off + CMSG_HDR <= end;) {
    const len = Number(ctl.readBigUInt64LE(off));
    if (len < CMSG_HDR || off + len > end) break;
    if (ctl.readInt32LE(off + 8) === SOL_SOCKET && ctl.readInt32LE(off + 12) === SCM_RIGHTS) {
      for (let p = off + CMSG_HDR; p + 4 <= off + len; p += 4) fds.push(ctl.readInt32LE(p));
    }
    off += cmsgSpace(len - CMSG_HDR);
  }
  return fds;
}
