// Data buffers, iovecs, fcntl and ioctl as strace shows them.

import { openFlags } from './dec_fs';
import { bitNames, buffer, dec64, enumName, failed, hex, hex64, ptr, STRLEN, struct, type Call, type Decoder, type Table } from './format';

/** A buffer as strace shows getrandom's: every byte as \xNN. */
function hexBuffer(c: Call, addr: number, len: number): string {
  const b = struct(c.t, addr, Math.min(len, STRLEN));
  if (!b) return hex(addr);
  let s = '"';
  for (const x of b) s += '\\x' + x.toString(16).padStart(2, '0');
  return s + '"' + (len > STRLEN ? '...' : '');
}

/** iovec arrays: count in the next argument; shown bytes limited to total (the result, for reads). */
function iovec(c: Call, addr: number, count: number, total: number): string {
  if (addr === 0) return 'NULL';
  const n = Math.max(0, Math.min(count, STRLEN));
  const b = struct(c.t, addr, n * 16);
  if (!b) return hex(addr);
  const parts: string[] = [];
  let left = total;
  for (let k = 0; k < n; k++) {
    const base = Number(b.readBigUInt64LE(k * 16));
    const len = Number(b.readBigUInt64LE(k * 16 + 8));
    const show = Math.max(0, Math.min(len, left));
    left -= show;
    parts.push(`{iov_base=${show > 0 || len === 0 ? buffer(c.t, base, show) : '""'}, iov_len=${len}}`);
  }
  return `[${parts.join(', ')}${count > n ? ', ...' : ''}]`;
}

const FCNTL: Record<number, string> = {
  0: 'F_DUPFD', 1: 'F_GETFD', 2: 'F_SETFD', 3: 'F_GETFL', 4: 'F_SETFL', 5: 'F_GETLK', 6: 'F_SETLK', 7: 'F_SETLKW',
  8: 'F_SETOWN', 9: 'F_GETOWN', 10: 'F_SETSIG', 11: 'F_GETSIG', 15: 'F_SETOWN_EX', 16: 'F_GETOWN_EX',
  36: 'F_OFD_GETLK', 37: 'F_OFD_SETLK', 38: 'F_OFD_SETLKW', 1024: 'F_SETLEASE', 1025: 'F_GETLEASE', 1026: 'F_NOTIFY',
  1030: 'F_DUPFD_CLOEXEC', 1031: 'F_SETPIPE_SZ', 1032: 'F_GETPIPE_SZ', 1033: 'F_ADD_SEALS', 1034: 'F_GET_SEALS',
};
const LOCK_TYPES: Record<number, string> = { 0: 'F_RDLCK', 1: 'F_WRLCK', 2: 'F_UNLCK' };
const WHENCE = ['SEEK_SET', 'SEEK_CUR', 'SEEK_END'];
const SEALS = [[1, 'F_SEAL_SEAL'], [2, 'F_SEAL_SHRINK'], [4, 'F_SEAL_GROW'], [8, 'F_SEAL_WRITE'], [0x10, 'F_SEAL_FUTURE_WRITE']] as const;

function flock(c: Call, v: number, withPid: boolean): string {
  const b = struct(c.t, v, 32);
  if (!b) return hex(v);
  const s = `{l_type=${LOCK_TYPES[b.readInt16LE(0)] ?? b.readInt16LE(0)}, l_whence=${WHENCE[b.readInt16LE(2)] ?? b.readInt16LE(2)}, l_start=${b.readBigInt64LE(8)}, l_len=${b.readBigInt64LE(16)}`;
  return s + (withPid ? `, l_pid=${b.readInt32LE(24)}}` : '}');
}

/** fcntl's third argument, shaped by the command. GETLK variants show the lock the kernel wrote back. */
const fcntlArg: Decoder = {
  out: true,
  fmt: (c, i) => {
    const cmd = c.args[i - 1] | 0;
    const v = c.args[i];
    switch (cmd) {
      case 1: case 3: case 9: case 11: case 1025: case 1032: case 1034: return null;
      case 2: return bitNames(v, [[1, 'FD_CLOEXEC']], '0');
      case 4: return openFlags(v | 0);
      case 5: case 36: return failed(c) ? hex(v) : flock(c, v, true);
      case 6: case 7: case 37: case 38: return flock(c, v, false);
      case 1033: return bitNames(v, SEALS, '0');
      case 10: return String(v | 0);
      default: return dec64(c, i);
    }
  },
};

/** fcntl's result for the commands that return flags. */
export function fcntlResult(c: Call): string | null {
  const cmd = c.args[1] | 0;
  const r = c.ret;
  if (cmd === 1) return r === 0 ? '0' : `${hex(r)} (flags ${bitNames(r, [[1, 'FD_CLOEXEC']], '0')})`;
  if (cmd === 3) return `${hex(r)} (flags ${openFlags(r)})`;
  if (cmd === 1034) return r === 0 ? '0' : `${hex(r)} (seals ${bitNames(r, SEALS, '0')})`;
  return null;
}

type IoctlArg = 'none' | 'int_in' | 'int_out' | 'winsize_in' | 'winsize_out' | 'ptr';
const IOCTLS: Record<number, [string, IoctlArg]> = {
  0x5401: ['TCGETS', 'ptr'], 0x5402: ['TCSETS', 'ptr'], 0x5403: ['TCSETSW', 'ptr'], 0x5404: ['TCSETSF', 'ptr'],
  0x5405: ['TCGETA', 'ptr'], 0x5406: ['TCSETA', 'ptr'], 0x5407: ['TCSETAW', 'ptr'], 0x5408: ['TCSETAF', 'ptr'],
  0x5409: ['TCSBRK', 'ptr'], 0x540a: ['TCXONC', 'ptr'], 0x540b: ['TCFLSH', 'ptr'], 0x540c: ['TIOCEXCL', 'none'],
  0x540d: ['TIOCNXCL', 'none'], 0x540e: ['TIOCSCTTY', 'ptr'], 0x540f: ['TIOCGPGRP', 'int_out'],
  0x5410: ['TIOCSPGRP', 'int_in'], 0x5411: ['TIOCOUTQ', 'int_out'], 0x5412: ['TIOCSTI', 'ptr'],
  0x5413: ['TIOCGWINSZ', 'winsize_out'], 0x5414: ['TIOCSWINSZ', 'winsize_in'], 0x5415: ['TIOCMGET', 'int_out'],
  0x5416: ['TIOCMBIS', 'int_in'], 0x5417: ['TIOCMBIC', 'int_in'], 0x5418: ['TIOCMSET', 'int_in'],
  0x541b: ['FIONREAD', 'int_out'], 0x541c: ['TIOCLINUX', 'ptr'], 0x541d: ['TIOCCONS', 'none'],
  0x5421: ['FIONBIO', 'int_in'], 0x5422: ['TIOCNOTTY', 'none'], 0x5423: ['TIOCSETD', 'int_in'],
  0x5424: ['TIOCGETD', 'int_out'], 0x5427: ['TIOCSBRK', 'none'], 0x5428: ['TIOCCBRK', 'none'],
  0x5429: ['TIOCGSID', 'int_out'], 0x802c542a: ['TCGETS2', 'ptr'], 0x402c542b: ['TCSETS2', 'ptr'],
  0x80045430: ['TIOCGPTN', 'int_out'], 0x40045431: ['TIOCSPTLCK', 'int_in'], 0x80045439: ['TIOCGPTLCK', 'int_out'],
  0x5441: ['TIOCGPTPEER', 'ptr'], 0x5450: ['FIONCLEX', 'none'], 0x5451: ['FIOCLEX', 'none'],
  0x5452: ['FIOASYNC', 'int_in'], 0x5460: ['FIOQSIZE', 'ptr'], 0x80086601: ['FS_IOC_GETFLAGS', 'int_out'],
  0x40086602: ['FS_IOC_SETFLAGS', 'int_in'], 0x1: ['FIBMAP', 'int_in'], 0x2: ['FIGETBSZ', 'int_out'],
  0x80081272: ['BLKGETSIZE64', 'ptr'], 0x40049409: ['FICLONE', 'ptr'],
};
const IOC_DIRS = ['_IOC_NONE', '_IOC_WRITE', '_IOC_READ', '_IOC_READ|_IOC_WRITE'];

function ioctlName(req: number): string {
  const known = IOCTLS[req];
  if (known) return known[0];
  const h = (n: number) => (n === 0 ? '0' : hex(n));
  return `_IOC(${IOC_DIRS[(req >>> 30) & 3]}, ${h((req >>> 8) & 0xff)}, ${h(req & 0xff)}, ${h((req >>> 16) & 0x3fff)})`;
}

function winsize(b: Buffer): string {
  return `{ws_row=${b.readUInt16LE(0)}, ws_col=${b.readUInt16LE(2)}, ws_xpixel=${b.readUInt16LE(4)}, ws_ypixel=${b.readUInt16LE(6)}}`;
}

/** ioctl's third argument: its shape depends on the request; outputs are read when the call returns. */
const ioctlArg: Decoder = {
  out: true,
  fmt: (c, i) => {
    const v = c.args[i];
    const kind = IOCTLS[c.args[i - 1] >>> 0]?.[1];
    if (kind === 'none') return null;
    if (kind === undefined) return v === 0 ? '0' : hex64(c, i);
    if (kind === 'ptr' || v === 0) return ptr(v);
    if ((kind === 'int_out' || kind === 'winsize_out') && failed(c)) return hex(v);
    const b = struct(c.t, v, kind.startsWith('winsize') ? 8 : 4);
    if (!b) return hex(v);
    return kind.startsWith('winsize') ? winsize(b) : `[${b.readInt32LE(0)}]`;
  },
};

export const ioDecoders: Table = {
  /** Data the kernel wrote: as many bytes as the call returned. */
  buf: { out: true, fmt: (c, i) => (failed(c) ? hex(c.args[i]) : buffer(c.t, c.args[i], c.ret)) },
  buf_hex: { out: true, fmt: (c, i) => (failed(c) || c.args[i] === 0 ? ptr(c.args[i]) : hexBuffer(c, c.args[i], c.ret)) },
  /** Data the application passes: its length is the next argument. */
  inbuf: { fmt: (c, i) => buffer(c.t, c.args[i], c.args[i + 1]) },
  iovec: { fmt: (c, i) => iovec(c, c.args[i], c.args[i + 1] | 0, Infinity) },
  iovec_out: { out: true, fmt: (c, i) => (failed(c) ? hex(c.args[i]) : iovec(c, c.args[i], c.args[i + 1] | 0, c.ret)) },
  int_out: { out: true, fmt: (c, i) => {
    const v = c.args[i];
    if (v === 0 || failed(c)) return ptr(v);
    const b = struct(c.t, v, 4);
    return b ? `[${b.readInt32LE(0)}]` : hex(v);
  } },
  fcntl_cmd: { fmt: (c, i) => enumName(c.args[i] >>> 0, FCNTL, 'F_???') },
  fcntl_arg: fcntlArg,
  ioctl_req: { fmt: (c, i) => ioctlName(c.args[i] >>> 0) },
  ioctl_arg: ioctlArg,
};

const POLL_BITS = [
  [1, 'POLLIN'], [2, 'POLLPRI'], [4, 'POLLOUT'], [8, 'POLLERR'], [0x10, 'POLLHUP'], [0x20, 'POLLNVAL'],
  [0x40, 'POLLRDNORM'], [0x80, 'POLLRDBAND'], [0x100, 'POLLWRNORM'], [0x200, 'POLLWRBAND'], [0x400, 'POLLMSG'],
  [0x2000, 'POLLRDHUP'],
] as const;

/** struct pollfd array (fd, events, revents: 8 bytes each), its count in the next argument. */
function pollfds(c: Call, revents: boolean): string | null {
  const n = Math.max(0, Math.min(c.args[1] >>> 0, STRLEN));
  const b = struct(c.t, c.args[0], n * 8);
  if (!b) return null;
  const parts: string[] = [];
  for (let k = 0; k < n; k++) {
    const ev = b.readInt16LE(k * 8 + (revents ? 6 : 4)) & 0xffff;
    if (revents && ev === 0) continue;
    parts.push(`{fd=${b.readInt32LE(k * 8)}, ${revents ? 'revents' : 'events'}=${bitNames(ev, POLL_BITS, '0')}}`);
  }
  return `[${parts.join(', ')}${(c.args[1] >>> 0) > n && !revents ? ', ...' : ''}]`;
}

ioDecoders.pollfd = { fmt: (c, i) => (c.args[i] === 0 ? 'NULL' : pollfds(c, false) ?? hex(c.args[i])) };

/** poll/ppoll's result: the ready descriptors, or that the time ran out. */
export function pollResult(c: Call): string | null {
  if (c.ret === 0) return '0 (Timeout)';
  const r = pollfds(c, true);
  return r === null ? null : `${c.ret} (${r})`;
}
