// ioctls of a pty pair (tty_ioctl(4), ioctl_tty(2)). As on Linux, the mode
// requests (termios, window size) on the master act on the slave's settings,
// and the job-control ones name the slave as a controlling terminal.
import { Errno, E } from '../../abi/errno';
import { O_ACCMODE, O_CLOEXEC, O_NOCTTY, O_NONBLOCK } from '../../abi/fs';
import { SIGCONT, SIGHUP, SIGWINCH } from '../../abi/signals';
import { CAP_SYS_ADMIN } from '../../abi/capability';
import { capableInit } from '../../auth/userns';
import * as T from '../../abi/termios';
import type { Task } from '../../kernel/task';
import { pidNsOf } from '../../kernel/pid_ns';
import type { PtyEnd, SlaveFile } from './files';
import type { Pty } from './pty';

/** What the ioctls need from the file system: opening the slave (TIOCGPTPEER), and who has a terminal. */
export interface PtyHost {
  openPeer(end: PtyEnd, flags: number): PtyEnd;
  /** The master closed: the slave's node goes. */
  masterGone(pty: Pty): void;
  /** Whether session sid has a controlling terminal already. */
  sessionHasTty(sid: number): boolean;
}

function slaveOf(end: PtyEnd): SlaveFile | null {
  return end.isMaster ? null : (end as SlaveFile);
}

export function ptyIoctl(t: Task, end: PtyEnd, cmd: number, arg: number): number {
  const p = end.pty;
  const ld = p.ldisc;
  const slave = slaveOf(end);
  // A slave whose master is gone is hung up: only TIOCSPGRP says ENOTTY, the rest EIO.
  if (slave && !p.masterOpen) throw new Errno(cmd === T.TIOCSPGRP ? E.ENOTTY : E.EIO);
  switch (cmd) {
    case T.TCGETS:
    case T.TCGETS2:
      t.mm.copyOut(arg, T.encodeTermios(ld.termios, cmd === T.TCGETS ? T.TERMIOS_SIZE : T.TERMIOS2_SIZE));
      return 0;
    case T.TCSETS: case T.TCSETSW: case T.TCSETSF:
    case T.TCSETS2: case T.TCSETSW2: case T.TCSETSF2: {
      const two = cmd === T.TCSETS2 || cmd === T.TCSETSW2 || cmd === T.TCSETSF2;
      const b = t.mm.copyIn(arg, two ? T.TERMIOS2_SIZE : T.TERMIOS_SIZE);
      slave?.checkChange(t);
      // TCSETSW waits for output to drain: a pty's output is in the master's queue already, as on Linux.
      if (cmd === T.TCSETSF || cmd === T.TCSETSF2) ld.flushInput();
      ld.setTermios(T.decodeTermios(b, ld.termios));
      p.notifySlaves();
      p.notifyMasters();
      return 0;
    }
    case T.TCGETA:
      t.mm.copyOut(arg, T.encodeTermio(ld.termios));
      return 0;
    case T.TCSETA: case T.TCSETAW: case T.TCSETAF: {
      const b = t.mm.copyIn(arg, T.TERMIO_SIZE);
      slave?.checkChange(t);
      if (cmd === T.TCSETAF) ld.flushInput();
      ld.setTermios(T.decodeTermio(b, ld.termios));
      p.notifySlaves();
      p.notifyMasters();
      return 0;
    }
    case T.TIOCGWINSZ:
      t.mm.copyOut(arg, p.winsize);
      return 0;
    case T.TIOCSWINSZ: {
      const w = t.mm.copyIn(arg, 8);
      if (!w.equals(p.winsize)) {
        p.winsize = Buffer.from(w);
        p.signalForeground(SIGWINCH);
      }
      return 0;
    }
    case T.TIOCOUTQ:
      // Linux's pty driver has nothing in flight: a write lands in the other side's buffer.
      t.mm.writeI32(arg, 0);
      return 0;
    case T.TCSBRK:
      return 0; // a break on a pty is nothing; waiting for output to drain returns at once (as above)
    case T.TCFLSH: {
      if (arg > T.TCIOFLUSH) throw new Errno(E.EINVAL);
      slave?.checkChange(t);
      // The slave's input is what the master wrote; the slave's output what the master reads.
      const inSlave = slave ? arg !== T.TCOFLUSH : arg !== T.TCIFLUSH;
      const outSlave = slave ? arg !== T.TCIFLUSH : arg !== T.TCOFLUSH;
      if (inSlave) ld.flushInput();
      if (outSlave) p.toMaster = [];
      p.notifySlaves();
      p.notifyMasters();
      return 0;
    }
    case T.TCXONC:
      slave?.checkChange(t);
      switch (arg) {
        case T.TCOOFF: ld.stopped = true; break;
        case T.TCOON: ld.stopped = false; break;
        case T.TCIOFF: case T.TCION: {
          const c = ld.termios.cc[arg === T.TCIOFF ? T.VSTOP : T.VSTART];
          if (c !== 0) p.toMaster.push(c);
          break;
        }
        default: throw new Errno(E.EINVAL);
      }
      p.notifySlaves();
      p.notifyMasters();
      return 0;
    case T.TIOCGETD:
      t.mm.writeI32(arg, 0); // N_TTY, the only discipline
      return 0;
    case T.TIOCGPTN:
      if (slave) throw new Errno(E.ENOTTY);
      t.mm.writeI32(arg, p.index);
      return 0;
    case T.TIOCSPTLCK:
      if (slave) throw new Errno(E.ENOTTY);
      p.locked = t.mm.readI32(arg) !== 0;
      return 0;
    case T.TIOCGPTLCK:
      if (slave) throw new Errno(E.ENOTTY);
      t.mm.writeI32(arg, p.locked ? 1 : 0);
      return 0;
    case T.TIOCGPTPEER: {
      if (slave) throw new Errno(E.ENOTTY);
      if (arg & ~(O_ACCMODE | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)) throw new Errno(E.EINVAL);
      const f = p.host.openPeer(end, arg & ~O_CLOEXEC & ~O_NOCTTY);
      return t.fdTable.install(f, (arg & O_CLOEXEC) !== 0);
    }
    case T.TIOCSCTTY:
      return setCtty(t, end, arg);
    case T.TIOCNOTTY: {
      if (!slave || !p.controls(t.tg)) throw new Errno(E.ENOTTY);
      if (t.tg.pid === t.tg.sid) {
        // The session leader gives it up for the whole session: its foreground group is told.
        const fg = p.foreground;
        p.signalGroup(fg, SIGHUP);
        p.signalGroup(fg, SIGCONT);
        p.session = null;
        p.foreground = null;
        p.detached.clear();
      } else p.detached.add(t.tg.pid);
      return 0;
    }
    case T.TIOCGPGRP:
      if (slave && !p.controls(t.tg)) throw new Errno(E.ENOTTY);
      // Process groups and sessions in the caller's PID namespace's numbers (0 when led from outside it).
      t.mm.writeI32(arg, pidNsOf(t).nrOfGlobal(p.foreground ?? 0));
      return 0;
    case T.TIOCSPGRP: {
      // From either end, only for a process whose controlling terminal it is.
      slave?.checkChange(t);
      if (!p.controls(t.tg)) throw new Errno(E.ENOTTY);
      const vg = t.mm.readI32(arg);
      if (vg < 0) throw new Errno(E.EINVAL);
      const ns = pidNsOf(t);
      const g = ns.parent ? ns.globalOf(vg) : vg;
      const members = p.groupMembers(g);
      if (!members.length) throw new Errno(E.ESRCH);
      if (members.some((m) => m.sid !== t.tg.sid)) throw new Errno(E.EPERM);
      p.foreground = g;
      return 0;
    }
    case T.TIOCGSID:
      if ((slave && !p.controls(t.tg)) || p.session === null) throw new Errno(E.ENOTTY);
      t.mm.writeI32(arg, pidNsOf(t).nrOfGlobal(p.session));
      return 0;
    case T.TIOCEXCL:
      p.exclusive = true;
      return 0;
    case T.TIOCNXCL:
      p.exclusive = false;
      return 0;
    case T.TIOCPKT:
    case T.TIOCGPKT:
      throw new Errno(E.EINVAL); // packet mode is not implemented (declared in ARCHITECTURE.md)
    default:
      throw new Errno(E.ENOTTY);
  }
}

/** TIOCSCTTY: a session leader without a terminal takes this one (arg 1 with CAP_SYS_ADMIN: even from another session). */
function setCtty(t: Task, end: PtyEnd, arg: number): number {
  const p = end.pty;
  const tg = t.tg;
  if (end.isMaster) throw new Errno(E.EINVAL); // the master as a controlling terminal is not supported
  if (p.controls(tg)) return 0;
  if (tg.pid !== tg.sid || p.host.sessionHasTty(tg.sid)) throw new Errno(E.EPERM);
  if (!end.readable && !capableInit(t.creds, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  if (p.session !== null) {
    // Stolen from its session (which just loses it, no signal), as Linux does.
    if (arg !== 1 || !capableInit(t.creds, CAP_SYS_ADMIN)) throw new Errno(E.EPERM);
  }
  p.session = tg.sid;
  p.foreground = tg.pgid;
  p.detached.clear();
  return 0;
}
