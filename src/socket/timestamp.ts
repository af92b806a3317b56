// Receive timestamps of datagram sockets, inet and unix (socket(7): SO_TIMESTAMP,
// SO_TIMESTAMPNS and their _NEW forms, SIOCGSTAMP and SIOCGSTAMPNS), as
// Linux keeps them on the socket:
// - one setsockopt on turns stamps on and chooses the control message's
//   form (timeval or timespec, old or new type number); any of the four set
//   to 0 turns them off. getsockopt reads the four back from those flags
//   with Linux's rules (SO_TIMESTAMP_NEW also reads 1 under
//   SO_TIMESTAMPNS_NEW).
// - a datagram is stamped when it arrives, once the socket has asked for
//   stamps (an option, or a first SIOCGSTAMP); one that arrived before has
//   none and is stamped when it is read, as Linux stamps an skb that came
//   in while no socket wanted times.
// - SO_TIMESTAMPING (its _NEW form the same), software receive stamps only:
//   RX_SOFTWARE stamps arrivals, SOFTWARE reports them as SCM_TIMESTAMPING
//   (three timespecs, the software one first; the hardware ones stay zero,
//   as on a NIC without them) after the SO_TIMESTAMP message. Send stamps
//   (TX_SOFTWARE, TX_SCHED, TX_ACK, TX_HARDWARE) and BIND_PHC are EINVAL:
//   no error queue holds them on the Sentry's stack (host mode passes the
//   option to the host).
// - SIOCGSTAMP answers the last datagram read without a control message
//   (Linux's sk_stamp): ENOENT before any; a read while stamps were off
//   leaves "no time", answered with the time of the ioctl.
import { Errno, E } from '../abi/errno';
import { SOL_SOCKET } from '../abi/socket';
import { SIOCGSTAMPNS_NEW, SIOCGSTAMPNS_OLD, SO_TIMESTAMPING_NEW, SO_TIMESTAMPING_OLD, SO_TIMESTAMPNS_NEW, SO_TIMESTAMPNS_OLD, SO_TIMESTAMP_NEW, SO_TIMESTAMP_OLD } from '../abi/inet';
import type { Cmsg } from './socket';

/** sk_stamp before any datagram was read (Linux's SK_DEFAULT_STAMP). */
const NONE = -1;

/** SOF_TIMESTAMPING_ flags (linux/net_tstamp.h): those known to Linux 6.x, the receive ones acted on, the send ones and BIND_PHC refused here. */
const SOF_MASK = (1 << 18) - 1;
const SOF_RX_SOFTWARE = 1 << 3;
const SOF_SOFTWARE = 1 << 4;
const SOF_OPT_ID = 1 << 7;
const SOF_OPT_ID_TCP = 1 << 16;
const SOF_REFUSED = (1 << 0) | (1 << 1) | (1 << 8) | (1 << 9) | (1 << 15);

/** 16 bytes of seconds and micro- or nanoseconds (struct timeval, timespec, and the 64-bit __kernel_sock_timeval). */
function timeBytes(ns: number, nanos: boolean): Buffer {
  // A realtime ns count is above 2^53, so every double there is an integer: exact as a BigInt.
  const t = BigInt(ns);
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(t / 1_000_000_000n, 0);
  const frac = t % 1_000_000_000n;
  b.writeBigInt64LE(nanos ? frac : frac / 1000n, 8);
  return b;
}

export class RecvStamps {
  /** SOCK_RCVTSTAMP, SOCK_RCVTSTAMPNS and SOCK_TSTAMP_NEW. */
  private rcv = false;
  private nanos = false;
  private newForm = false;
  /** SOCK_TIMESTAMP: arrivals are stamped (never turned off again, as Linux). */
  wanted = false;
  /** sk_stamp: NONE, 0 (a read of an unstamped datagram while stamps were off), or realtime ns. */
  private last = NONE;
  /** SO_TIMESTAMPING's flags (its _NEW name sets newForm, which Linux shares with SO_TIMESTAMP's: SOCK_TSTAMP_NEW). */
  private tsFlags = 0;

  /** setsockopt SO_TIMESTAMPING: an int of flags, or a struct so_timestamping (flags, PHC index). */
  setTimestamping(name: number, val: Buffer): void {
    if (val.length < 4) throw new Errno(E.EINVAL);
    const flags = val.readInt32LE(0);
    if (flags & ~SOF_MASK || flags & SOF_REFUSED || (flags & SOF_OPT_ID_TCP && !(flags & SOF_OPT_ID))) throw new Errno(E.EINVAL);
    this.tsFlags = flags;
    this.newForm = name === SO_TIMESTAMPING_NEW;
    if (flags & SOF_RX_SOFTWARE) this.wanted = true;
  }

  /** getsockopt SO_TIMESTAMPING: a struct so_timestamping (no PHC). */
  getTimestamping(): Buffer {
    const b = Buffer.alloc(8);
    b.writeInt32LE(this.tsFlags, 0);
    return b;
  }

  /** SCM_TIMESTAMPING for data that arrived at arrivalNs (0: not stamped), or null: none reported, as Linux gives none without a software time. */
  timestamping(arrivalNs: number): Cmsg | null {
    if (!(this.tsFlags & SOF_SOFTWARE) || arrivalNs === 0) return null;
    const data = Buffer.alloc(48);
    timeBytes(arrivalNs, true).copy(data, 0);
    return { level: SOL_SOCKET, type: this.newForm ? SO_TIMESTAMPING_NEW : SO_TIMESTAMPING_OLD, data };
  }

  /** setsockopt of one of TIMESTAMP_OPTIONS. */
  set(name: number, on: boolean): void {
    if (!on) {
      this.rcv = this.nanos = false;
      return;
    }
    this.newForm = name === SO_TIMESTAMP_NEW || name === SO_TIMESTAMPNS_NEW;
    this.nanos = name === SO_TIMESTAMPNS_OLD || name === SO_TIMESTAMPNS_NEW;
    this.rcv = this.wanted = true;
  }

  /** getsockopt of one of TIMESTAMP_OPTIONS. */
  get(name: number): number {
    switch (name) {
      case SO_TIMESTAMP_OLD: return this.rcv && !this.newForm && !this.nanos ? 1 : 0;
      case SO_TIMESTAMPNS_OLD: return this.nanos && !this.newForm ? 1 : 0;
      case SO_TIMESTAMP_NEW: return this.rcv && this.newForm ? 1 : 0;
      default: return this.nanos && this.newForm ? 1 : 0;
    }
  }

  /** The arrival time to keep with a datagram coming in now: 0 while no stamps are wanted. */
  arrival(now: () => number): number {
    return this.wanted ? now() : 0;
  }

  /** A datagram that arrived at arrivalNs (0: not stamped) is read: its control message, or null when none was asked for. */
  read(arrivalNs: number, now: () => number): Cmsg | null {
    if (!this.rcv) {
      // Linux writes sk_stamp on every such read once SOCK_TIMESTAMP is on, and marks "no time" once otherwise.
      if (this.wanted) this.last = arrivalNs;
      else if (this.last === NONE) this.last = 0;
      return null;
    }
    return this.message(arrivalNs, now);
  }

  /** A stream's read of data that last arrived at arrivalNs (0: not stamped): the control message, if asked for. TCP never sets SIOCGSTAMP's time. */
  streamRead(arrivalNs: number, now: () => number): Cmsg | null {
    return this.rcv ? this.message(arrivalNs, now) : null;
  }

  /** An accepted connection's socket takes its listener's flags, as Linux's copy of the listening sock. */
  inherit(from: RecvStamps): void {
    this.rcv = from.rcv;
    this.nanos = from.nanos;
    this.newForm = from.newForm;
    this.wanted = from.wanted;
    this.tsFlags = from.tsFlags;
  }

  private message(arrivalNs: number, now: () => number): Cmsg {
    const type = this.newForm ? (this.nanos ? SO_TIMESTAMPNS_NEW : SO_TIMESTAMP_NEW) : this.nanos ? SO_TIMESTAMPNS_OLD : SO_TIMESTAMP_OLD;
    return { level: SOL_SOCKET, type, data: timeBytes(arrivalNs || now(), this.nanos) };
  }

  /** SIOCGSTAMP and SIOCGSTAMPNS: the 16 bytes to write back. */
  ioctl(cmd: number, now: () => number): Buffer {
    this.wanted = true;
    if (this.last === NONE) throw new Errno(E.ENOENT);
    if (this.last === 0) this.last = now();
    return timeBytes(this.last, cmd === SIOCGSTAMPNS_OLD || cmd === SIOCGSTAMPNS_NEW);
  }
}
