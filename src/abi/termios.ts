// Terminal ABI (asm-generic/termbits.h, ioctls.h): the kernel's struct
// termios (36 bytes; termios2 adds the two speeds), its flags, the c_cc
// slots, struct winsize and the tty ioctl numbers.

export const TERMIOS_SIZE = 36;
export const TERMIOS2_SIZE = 44;
export const NCCS = 19;

// c_cc indices.
export const VINTR = 0, VQUIT = 1, VERASE = 2, VKILL = 3, VEOF = 4, VTIME = 5, VMIN = 6;
export const VSTART = 8, VSTOP = 9, VSUSP = 10, VEOL = 11, VREPRINT = 12, VWERASE = 14, VLNEXT = 15, VEOL2 = 16;

// c_iflag
export const IGNBRK = 0o1, BRKINT = 0o2, ISTRIP = 0o40, INLCR = 0o100, IGNCR = 0o200, ICRNL = 0o400;
export const IUCLC = 0o1000, IXON = 0o2000, IXANY = 0o4000, IMAXBEL = 0o20000, IUTF8 = 0o40000;
// c_oflag
export const OPOST = 0o1, OLCUC = 0o2, ONLCR = 0o4, OCRNL = 0o10, ONOCR = 0o20, ONLRET = 0o40;
// c_cflag
export const B38400 = 0o17, CS8 = 0o60, CREAD = 0o200, HUPCL = 0o2000;
// c_lflag
export const ISIG = 0o1, ICANON = 0o2, ECHO = 0o10, ECHOE = 0o20, ECHOK = 0o40, ECHONL = 0o100;
export const NOFLSH = 0o200, TOSTOP = 0o400, ECHOCTL = 0o1000, ECHOPRT = 0o2000, ECHOKE = 0o4000, IEXTEN = 0o100000;

// ioctl requests
export const TCGETS = 0x5401, TCSETS = 0x5402, TCSETSW = 0x5403, TCSETSF = 0x5404;
export const TCGETA = 0x5405, TCSETA = 0x5406, TCSETAW = 0x5407, TCSETAF = 0x5408;
export const TCSBRK = 0x5409, TCXONC = 0x540a, TCFLSH = 0x540b;
export const TIOCEXCL = 0x540c, TIOCNXCL = 0x540d, TIOCSCTTY = 0x540e, TIOCGPGRP = 0x540f, TIOCSPGRP = 0x5410;
export const TIOCOUTQ = 0x5411, TIOCGWINSZ = 0x5413, TIOCSWINSZ = 0x5414, FIONREAD = 0x541b;
export const TIOCNOTTY = 0x5422, TIOCGETD = 0x5424, TIOCGSID = 0x5429;
export const TCGETS2 = 0x802c542a, TCSETS2 = 0x402c542b, TCSETSW2 = 0x402c542c, TCSETSF2 = 0x402c542d;
export const TIOCGPTN = 0x80045430, TIOCSPTLCK = 0x40045431, TIOCGPTLCK = 0x80045439, TIOCGPTPEER = 0x5441;
export const TIOCPKT = 0x5420, TIOCGPKT = 0x80045438;
export const TIOCINQ = FIONREAD;

// TCFLSH / TCXONC arguments
export const TCIFLUSH = 0, TCOFLUSH = 1, TCIOFLUSH = 2;
export const TCOOFF = 0, TCOON = 1, TCIOFF = 2, TCION = 3;

/** The kernel's termios (speeds kept for termios2). */
export interface Termios {
  iflag: number;
  oflag: number;
  cflag: number;
  lflag: number;
  line: number;
  cc: Uint8Array;
  ispeed: number;
  ospeed: number;
}

/** The settings a new pty slave starts with (Linux's tty_std_termios, without HUPCL). */
export function defaultTermios(): Termios {
  return {
    iflag: ICRNL | IXON,
    oflag: OPOST | ONLCR,
    cflag: B38400 | CS8 | CREAD,
    lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
    line: 0,
    // ^C ^\ DEL ^U ^D time 0, min 1, swtc 0, ^Q ^S ^Z eol 0, ^R ^O ^W ^V eol2 0
    cc: Uint8Array.from([3, 0x1c, 0x7f, 0x15, 4, 0, 1, 0, 0x11, 0x13, 0x1a, 0, 0x12, 0x0f, 0x17, 0x16, 0, 0, 0]),
    ispeed: 38400,
    ospeed: 38400,
  };
}

export function encodeTermios(t: Termios, size: number): Buffer {
  const b = Buffer.alloc(size);
  b.writeUInt32LE(t.iflag >>> 0, 0);
  b.writeUInt32LE(t.oflag >>> 0, 4);
  b.writeUInt32LE(t.cflag >>> 0, 8);
  b.writeUInt32LE(t.lflag >>> 0, 12);
  b[16] = t.line;
  Buffer.from(t.cc).copy(b, 17, 0, NCCS);
  if (size >= TERMIOS2_SIZE) {
    b.writeUInt32LE(t.ispeed >>> 0, 36);
    b.writeUInt32LE(t.ospeed >>> 0, 40);
  }
  return b;
}

/** struct termio (TCGETA/TCSETA): 16-bit flags, the line discipline and the first NCC control characters. */
const NCC = 8;
export const TERMIO_SIZE = 17; // the 18th byte is padding Linux never writes

export function encodeTermio(t: Termios): Buffer {
  const b = Buffer.alloc(TERMIO_SIZE);
  b.writeUInt16LE(t.iflag & 0xffff, 0);
  b.writeUInt16LE(t.oflag & 0xffff, 2);
  b.writeUInt16LE(t.cflag & 0xffff, 4);
  b.writeUInt16LE(t.lflag & 0xffff, 6);
  b[8] = t.line;
  Buffer.from(t.cc).copy(b, 9, 0, NCC);
  return b;
}

/** TCSETA replaces the low 16 bits of each flag word and the first NCC characters; the rest stays. */
export function decodeTermio(b: Buffer, prev: Termios): Termios {
  const hi = (x: number) => (x & 0xffff0000) >>> 0;
  const cc = Uint8Array.from(prev.cc);
  cc.set(b.subarray(9, 9 + NCC));
  return {
    iflag: (hi(prev.iflag) | b.readUInt16LE(0)) >>> 0, oflag: (hi(prev.oflag) | b.readUInt16LE(2)) >>> 0,
    cflag: (hi(prev.cflag) | b.readUInt16LE(4)) >>> 0, lflag: (hi(prev.lflag) | b.readUInt16LE(6)) >>> 0,
    line: b[8], cc, ispeed: prev.ispeed, ospeed: prev.ospeed,
  };
}

export function decodeTermios(b: Buffer, prev: Termios): Termios {
  const t: Termios = {
    iflag: b.readUInt32LE(0), oflag: b.readUInt32LE(4), cflag: b.readUInt32LE(8), lflag: b.readUInt32LE(12),
    line: b[16], cc: Uint8Array.from(b.subarray(17, 17 + NCCS)), ispeed: prev.ispeed, ospeed: prev.ospeed,
  };
  if (b.length >= TERMIOS2_SIZE) {
    t.ispeed = b.readUInt32LE(36);
    t.ospeed = b.readUInt32LE(40);
  }
  return t;
}
