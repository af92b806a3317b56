// The line discipline of a pseudo-terminal slave (Linux's N_TTY, by its
// documented behaviour: termios(3), the Linux tty driver): input from the
// master is translated (ICRNL, INLCR, IGNCR, ISTRIP), turned into signals
// (ISIG), edited into lines (ICANON: VERASE, VKILL, VWERASE, VREPRINT,
// VLNEXT, VEOF, VEOL) and echoed (ECHO, ECHOE, ECHOK, ECHOKE, ECHONL,
// ECHOCTL); output from the slave is post-processed (OPOST: ONLCR, OCRNL,
// ONOCR, ONLRET, OLCUC). Bytes waiting to be read are bounded as Linux's
// read buffer is (4096); input beyond that waits in a bounded backlog, and
// the master's writer waits when that is full.
import * as T from '../../abi/termios';
import { SIGINT, SIGQUIT, SIGTSTP } from '../../abi/signals';

/** Linux's N_TTY_BUF_SIZE: what the slave can have waiting to be read, the line included. */
export const N_TTY_BUF_SIZE = 4096;
/** Input written by the master that the discipline has not taken yet (Linux's flip buffers hold up to 64 KiB; a quarter here, each byte being 8 in the heap). */
export const INPUT_BACKLOG = 16384;

/** What the discipline needs from its terminal. */
export interface LdiscPort {
  /** Output towards the master's reader, already processed (the writer made room for it). */
  toMaster(data: number[]): void;
  /** Echoes towards the master's reader: dropped when it holds too much already, as Linux drops them. */
  echo(data: number[]): void;
  /** A terminal-generated signal for the foreground process group. */
  signal(sig: number): void;
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

export class LineDiscipline {
  termios: T.Termios = T.defaultTermios();
  /** Bytes ready for the slave's reader. */
  private ready: number[] = [];
  /** Ends of complete lines in `ready` (canonical mode); a 0 at the front is an end of file. */
  private lineEnds: number[] = [];
  /** The line being edited (canonical mode). */
  private edit: number[] = [];
  /** Input not yet processed: the read buffer was full. */
  private backlog: number[] = [];
  /** The next input byte is taken literally (VLNEXT). */
  private literalNext = false;
  /** Output stopped by VSTOP (IXON) until VSTART. */
  stopped = false;
  /** Output column, for ONOCR and the width of erased tabs. */
  private column = 0;

  constructor(private readonly port: LdiscPort) {}

  private l(flag: number): boolean {
    return (this.termios.lflag & flag) !== 0;
  }
  private i(flag: number): boolean {
    return (this.termios.iflag & flag) !== 0;
  }
  get canonical(): boolean {
    return this.l(T.ICANON);
  }

  /** New settings; TCSETSF's flush is the caller's. Leaving canonical mode makes the edited line readable. */
  setTermios(n: T.Termios): void {
    const wasCanon = this.canonical;
    this.termios = n;
    if (wasCanon && !this.canonical) {
      this.ready.push(...this.edit);
      this.edit = [];
      this.lineEnds = [];
    } else if (!wasCanon && this.canonical && this.ready.length) {
      this.lineEnds = [this.ready.length];
    }
    if (!this.i(T.IXON)) this.stopped = false;
    this.drainBacklog();
  }

  /** Bytes a read could return now (FIONREAD/TIOCINQ): in canonical mode only complete lines count. */
  available(): number {
    return this.canonical ? (this.lineEnds.length ? this.lineEnds[this.lineEnds.length - 1] : 0) : this.ready.length;
  }

  /** A read would not block: a line (or end of file) in canonical mode, min bytes otherwise. */
  readable(min = 1): boolean {
    if (this.canonical) return this.lineEnds.length > 0;
    return this.ready.length >= min;
  }

  /** Room for n more bytes from the master. */
  inputRoom(): number {
    return INPUT_BACKLOG - this.backlog.length;
  }

  /** Up to len bytes for the reader: at most one line in canonical mode (empty: end of file). */
  read(len: number): Buffer {
    let n: number;
    if (this.canonical) {
      if (!this.lineEnds.length) return Buffer.alloc(0);
      if (this.lineEnds[0] === 0) {
        this.lineEnds.shift();
        return Buffer.alloc(0);
      }
      n = Math.min(len, this.lineEnds[0]);
    } else n = Math.min(len, this.ready.length);
    const out = Buffer.from(this.ready.splice(0, n));
    if (this.canonical) {
      for (let k = 0; k < this.lineEnds.length; k++) this.lineEnds[k] -= n;
      if (this.lineEnds[0] === 0 && n > 0) this.lineEnds.shift();
    }
    this.drainBacklog();
    return out;
  }

  /** Input from the master: takes what fits in the backlog, returns the count. */
  receive(data: Buffer): number {
    const n = Math.min(data.length, this.inputRoom());
    for (let k = 0; k < n; k++) this.backlog.push(data[k]);
    this.drainBacklog();
    return n;
  }

  private full(): boolean {
    return this.ready.length + this.edit.length >= N_TTY_BUF_SIZE;
  }

  private drainBacklog(): void {
    let k = 0;
    const echo: number[] = [];
    // A canonical line that fills the buffer still takes the bytes that end or edit it (the others are dropped).
    while (k < this.backlog.length && (!this.full() || (this.canonical && !this.lineEnds.length))) {
      this.inputByte(this.backlog[k++], echo);
    }
    if (k) this.backlog.splice(0, k);
    if (echo.length) this.port.echo(echo);
  }

  /** Flush what waits to be read (TCIFLUSH, and signals without NOFLSH). */
  flushInput(): void {
    this.ready = [];
    this.lineEnds = [];
    this.edit = [];
    this.backlog = [];
  }

  private echoChar(c: number, echo: number[]): void {
    if (this.l(T.ECHOCTL) && (c < 0x20 || c === 0x7f) && c !== 0x09 && c !== 0x0a) {
      echo.push(0x5e, c === 0x7f ? 0x3f : c + 0x40);
      this.column += 2;
    } else this.outputByte(c, echo);
  }

  /** How many columns the echo of c took (for erasing it). */
  private echoWidth(c: number): number {
    if (this.l(T.ECHOCTL) && (c < 0x20 || c === 0x7f) && c !== 0x09) return 2;
    if (c === 0x09) return 8 - (this.column % 8 || 8) + 1; // approximate: a tab is erased to the previous stop
    return 1;
  }

  private eraseOne(echo: number[]): boolean {
    if (!this.edit.length) return false;
    let c = this.edit.pop() as number;
    // With IUTF8 a multi-byte character goes as one.
    if (this.i(T.IUTF8)) while ((c & 0xc0) === 0x80 && this.edit.length) c = this.edit.pop() as number;
    if (this.l(T.ECHO)) {
      if (this.l(T.ECHOE) || this.l(T.ECHOKE)) {
        const w = c === 0x09 ? 1 : this.echoWidth(c);
        for (let k = 0; k < w; k++) echo.push(8, 0x20, 8);
        this.column = Math.max(0, this.column - w);
      }
    }
    return true;
  }

  private special(c: number, slot: number): boolean {
    const v = this.termios.cc[slot];
    return v !== 0 && c === v;
  }

  private inputByte(c: number, echo: number[]): void {
    if (this.i(T.ISTRIP)) c &= 0x7f;
    if (this.literalNext) {
      this.literalNext = false;
      if (this.l(T.ECHO)) echo.push(8);
      this.store(c, echo);
      return;
    }
    if (c === 0x0d) {
      if (this.i(T.IGNCR)) return;
      if (this.i(T.ICRNL)) c = 0x0a;
    } else if (c === 0x0a && this.i(T.INLCR)) c = 0x0d;
    if (this.i(T.IUCLC) && this.l(T.IEXTEN) && c >= 0x41 && c <= 0x5a) c += 0x20;
    if (this.i(T.IXON)) {
      if (this.special(c, T.VSTOP)) {
        this.stopped = true;
        return;
      }
      if (this.special(c, T.VSTART)) {
        this.stopped = false;
        return;
      }
      if (this.stopped && this.i(T.IXANY)) this.stopped = false;
    }
    if (this.l(T.ISIG)) {
      const sig = this.special(c, T.VINTR) ? SIGINT : this.special(c, T.VQUIT) ? SIGQUIT : this.special(c, T.VSUSP) ? SIGTSTP : 0;
      if (sig) {
        if (!this.l(T.NOFLSH)) this.flushInput();
        this.stopped = false;
        if (this.l(T.ECHO)) this.echoChar(c, echo);
        this.port.signal(sig);
        return;
      }
    }
    if (!this.canonical) {
      if (this.l(T.ECHO)) this.echoChar(c, echo);
      this.ready.push(c);
      return;
    }
    if (this.l(T.IEXTEN) && this.special(c, T.VLNEXT)) {
      this.literalNext = true;
      if (this.l(T.ECHO)) echo.push(0x5e);
      return;
    }
    if (this.special(c, T.VERASE)) {
      this.eraseOne(echo);
      return;
    }
    if (this.special(c, T.VKILL)) {
      if (this.l(T.ECHO) && this.l(T.ECHOKE) && this.l(T.ECHOE)) while (this.eraseOne(echo));
      else {
        this.edit = [];
        if (this.l(T.ECHO)) {
          this.echoChar(c, echo);
          if (this.l(T.ECHOK)) this.outputByte(0x0a, echo);
        }
      }
      return;
    }
    if (this.l(T.IEXTEN) && this.special(c, T.VWERASE)) {
      let alnums = 0;
      while (this.edit.length) {
        const last = this.edit[this.edit.length - 1];
        if (isAlnum(last)) alnums++;
        else if (alnums) break;
        this.eraseOne(echo);
      }
      return;
    }
    if (this.l(T.IEXTEN) && this.special(c, T.VREPRINT)) {
      if (this.l(T.ECHO)) {
        this.echoChar(c, echo);
        this.outputByte(0x0a, echo);
        for (const e of this.edit) this.echoChar(e, echo);
      }
      return;
    }
    if (this.special(c, T.VEOF)) {
      this.completeLine();
      return;
    }
    if (c === 0x0a || this.special(c, T.VEOL) || (this.l(T.IEXTEN) && this.special(c, T.VEOL2))) {
      if (this.l(T.ECHO) || (c === 0x0a && this.l(T.ECHONL))) this.echoChar(c, echo);
      this.edit.push(c);
      this.completeLine();
      return;
    }
    this.store(c, echo);
  }

  /** An ordinary character: into the line (dropped past 4095 bytes, as Linux does) or the raw queue. */
  private store(c: number, echo: number[]): void {
    if (this.canonical) {
      if (this.ready.length + this.edit.length >= N_TTY_BUF_SIZE - 1) {
        if (this.i(T.IMAXBEL) && this.l(T.ECHO)) echo.push(7);
        return;
      }
      this.edit.push(c);
    } else this.ready.push(c);
    if (this.l(T.ECHO)) this.echoChar(c, echo);
  }

  private completeLine(): void {
    this.ready.push(...this.edit);
    this.edit = [];
    this.lineEnds.push(this.ready.length);
  }

  /** One byte of output through OPOST into out. */
  private outputByte(c: number, out: number[]): void {
    const o = this.termios.oflag;
    if (!(o & T.OPOST)) {
      out.push(c);
      return;
    }
    switch (c) {
      case 0x0a:
        if (o & T.ONLRET) this.column = 0;
        if (o & T.ONLCR) {
          this.column = 0;
          out.push(0x0d, 0x0a);
          return;
        }
        break;
      case 0x0d:
        if (o & T.ONOCR && this.column === 0) return;
        if (o & T.OCRNL) {
          c = 0x0a;
          if (o & T.ONLRET) this.column = 0;
          break;
        }
        this.column = 0;
        break;
      case 0x09:
        this.column = (this.column | 7) + 1;
        break;
      case 0x08:
        if (this.column > 0) this.column--;
        break;
      default:
        if (o & T.OLCUC && c >= 0x61 && c <= 0x7a) c -= 0x20;
        if (c >= 0x20 && c !== 0x7f && (c & 0xc0) !== 0x80) this.column++;
    }
    out.push(c);
  }

  /** Output written by the slave, processed for the master. */
  write(data: Buffer): void {
    const out: number[] = [];
    for (const c of data) this.outputByte(c, out);
    this.port.toMaster(out);
  }
}
