// IPv4 options (RFC 791) on the Sentry's stack, with Linux's rules
// (ip_options_compile, ip_options_build, ip_options_echo), facts checked
// against Linux 6.x on loopback:
// - an application's options (IP_OPTIONS, IP_RETOPTS): at most 40 bytes,
//   padded with zeros to a multiple of 4, everything after an end-of-list
//   zeroed; each option's length within what is left; record route and
//   timestamps with a pointer of at least 4 (5) and, where there is room,
//   room for a whole entry; one source route (loose or strict) with its
//   pointer at 4 and whole addresses; one record route and one timestamp
//   option; a router alert of 4 bytes or more;
//   CIPSO refused (no DOI is configured); timestamp flags other than 0, 1
//   and 3 and options unknown here need CAP_NET_RAW. Kept as given (what
//   getsockopt reads back).
// - sending: a record route with room records the source, a timestamp with
//   room records the time (ms since midnight UTC) and with flag 1 the
//   source; a source route sends the packet to its first address and puts
//   the final destination in its last slot.
// - receiving (the stack's input, before any socket): the same length and
//   pointer rules without the application's; a record route with room
//   records the address the packet came to, a timestamp records the time
//   (and address), a prespecified one only when the address is ours, a full
//   one counts its overflow (15: malformed). A malformed packet is dropped
//   and counted, as is one with a source route (Linux's default:
//   accept_source_route is 0 for all interfaces).
// - IP_RECVRETOPTS (ip_options_echo): the received record route and
//   timestamp, padded; a source route would come reversed, but none is ever
//   delivered.
import { Errno, E } from '../../abi/errno';
import { type Ip, ipFromBytes, writeIp } from './addr';

export const IP_OPTIONS_MAX = 40;
const END = 0, NOP = 1, RR = 7, TS = 0x44, LSRR = 0x83, SSRR = 0x89, RA = 0x94, CIPSO = 0x86;
const TS_ONLY = 0, TS_ADDR = 1, TS_PRESPEC = 3;

/** Milliseconds since midnight UTC, as an IPv4 timestamp holds them. */
export const tsNow = (nowMs: number): number => nowMs % 86_400_000;

/** One pass over well-formed or untrusted options: calls each for an option other than END and NOP at i, of len; false from the walk: malformed. */
function walk(b: Buffer, each: (type: number, i: number, len: number) => boolean): boolean {
  for (let i = 0; i < b.length; ) {
    const type = b[i];
    if (type === END) {
      b.fill(END, i + 1);
      return true;
    }
    if (type === NOP) {
      i++;
      continue;
    }
    if (b.length - i < 2) return false;
    const len = b[i + 1];
    if (len < 2 || len > b.length - i) return false;
    if (!each(type, i, len)) return false;
    i += len;
  }
  return true;
}

/** Whether a record route or timestamp option at i of len has a well-formed pointer; room: an entry's size. */
function pointerOk(b: Buffer, i: number, len: number, min: number, entry: number): boolean {
  const ptr = b[i + 2];
  if (len < min - 1 || ptr < min) return false;
  return ptr > len || ptr + entry - 1 <= len;
}

/** The timestamp entry size by flag, 0: a flag not acted on. */
const tsEntry = (flag: number): number => (flag === TS_ONLY ? 4 : flag === TS_ADDR || flag === TS_PRESPEC ? 8 : 0);

/**
 * An application's options (setsockopt IP_OPTIONS, the IP_RETOPTS control
 * message) checked: the bytes kept (empty: none). EINVAL when malformed,
 * or when an option needs CAP_NET_RAW the caller lacks (rawCap).
 */
export function compileUser(val: Buffer, rawCap: boolean): Buffer {
  if (val.length > IP_OPTIONS_MAX) throw new Errno(E.EINVAL);
  const b = Buffer.alloc((val.length + 3) & ~3);
  val.copy(b);
  let srr = false;
  const seen = new Set<number>();
  const ok = walk(b, (type, i, len) => {
    // One record route and one timestamp option (a second is malformed, as Linux's).
    if ((type === RR || type === TS) && seen.has(type)) return false;
    seen.add(type);
    switch (type) {
      case LSRR:
      case SSRR:
        if (srr || len < 7 || b[i + 2] !== 4 || (len - 3) % 4 !== 0) return false;
        srr = true;
        return true;
      case RR:
        return pointerOk(b, i, len, 4, 4);
      case TS: {
        const entry = tsEntry(b[i + 3] & 0xf);
        if (!pointerOk(b, i, len, 5, entry || 1)) return false;
        // A flag not acted on is the privileged's to send, while there is room (Linux asks only then).
        if (entry === 0 && !rawCap && b[i + 2] <= len) return false;
        return b[i + 2] <= len || b[i + 3] >> 4 !== 15;
      }
      case RA:
        return len >= 4;
      case CIPSO:
        return false;
      default:
        return rawCap;
    }
  });
  if (!ok) throw new Errno(E.EINVAL);
  return b;
}

/** The first hop of options with a source route (where the packet is sent), or null. */
export function firstHop(opts: Buffer): Ip | null {
  let hop: Ip | null = null;
  walk(Buffer.from(opts), (type, i) => {
    if (type === LSRR || type === SSRR) hop = ipFromBytes(opts, i + 3, 4);
    return true;
  });
  return hop;
}

/** The options as sent from src to the final destination dst, with what the sender records (checked options only). */
export function wireOptions(opts: Buffer, src: Ip, dst: Ip, nowMs: number): Buffer {
  const b = Buffer.from(opts);
  walk(b, (type, i, len) => {
    const ptr = b[i + 2];
    if (type === LSRR || type === SSRR) {
      b.copy(b, i + 3, i + 7, i + len);
      writeIp(dst, b, i + len - 4, true);
    } else if (type === RR && ptr <= len) {
      writeIp(src, b, i + ptr - 1, true);
      b[i + 2] = ptr + 4;
    } else if (type === TS && ptr <= len) {
      const flag = b[i + 3] & 0xf;
      if (flag === TS_ONLY) {
        b.writeUInt32BE(tsNow(nowMs), i + ptr - 1);
        b[i + 2] = ptr + 4;
      } else if (flag === TS_ADDR) {
        writeIp(src, b, i + ptr - 1, true);
        b.writeUInt32BE(tsNow(nowMs), i + ptr + 3);
        b[i + 2] = ptr + 8;
      }
    }
    return true;
  });
  return b;
}

/** What the stack does with a received packet's options. */
export type Received = { opts: Buffer } | 'malformed' | 'source-routed';

/**
 * A received packet's options (a view into its header), checked and with
 * what this hop records: local is the address it came to, own() says
 * whether an address is the stack's. The options are copied.
 */
export function receivedOptions(view: Buffer, local: Ip, own: (ip: Ip) => boolean, nowMs: number): Received {
  const b = Buffer.from(view);
  let srr = false;
  const seen = new Set<number>();
  const ok = walk(b, (type, i, len) => {
    const ptr = b[i + 2];
    if ((type === RR || type === TS) && seen.has(type)) return false;
    seen.add(type);
    switch (type) {
      case LSRR:
      case SSRR:
        if (srr || len < 3 || ptr < 4) return false;
        srr = true;
        return true;
      case RR:
        if (!pointerOk(b, i, len, 4, 4)) return false;
        if (ptr <= len) {
          writeIp(local, b, i + ptr - 1, true);
          b[i + 2] = ptr + 4;
        }
        return true;
      case TS: {
        const flag = b[i + 3] & 0xf;
        if (!pointerOk(b, i, len, 5, tsEntry(flag) || 1)) return false;
        if (ptr > len) {
          if (b[i + 3] >> 4 === 15) return false;
          b[i + 3] += 0x10;
          return true;
        }
        if (flag === TS_ONLY) {
          b.writeUInt32BE(tsNow(nowMs), i + ptr - 1);
          b[i + 2] = ptr + 4;
        } else if (flag === TS_ADDR || (flag === TS_PRESPEC && own(ipFromBytes(b, i + ptr - 1, 4)))) {
          // A prespecified address stays; flag 1 records this hop's.
          if (flag === TS_ADDR) writeIp(local, b, i + ptr - 1, true);
          b.writeUInt32BE(tsNow(nowMs), i + ptr + 3);
          b[i + 2] = ptr + 8;
        }
        return true;
      }
      case RA:
        return len >= 4;
      case CIPSO:
        return false;
      default:
        return true;
    }
  });
  if (!ok) return 'malformed';
  return srr ? 'source-routed' : { opts: b };
}

/** IP_RECVRETOPTS: the options a reply would carry (received ones, checked). */
export function echoOptions(opts: Buffer): Buffer {
  const parts: Buffer[] = [];
  let ts: Buffer | null = null;
  walk(Buffer.from(opts), (type, i, len) => {
    if (type === RR) parts.push(opts.subarray(i, i + len));
    else if (type === TS) ts = opts.subarray(i, i + len);
    return true;
  });
  if (ts) parts.push(ts);
  const all = Buffer.concat(parts);
  const out = Buffer.alloc((all.length + 3) & ~3);
  all.copy(out);
  return out;
}
