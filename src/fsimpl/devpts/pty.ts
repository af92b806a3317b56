// One pseudo-terminal pair (pty(7)): the master (/dev/ptmx) and the slave
// (/dev/pts/N) joined by a line discipline. Writes to the master are the
// slave's input; the slave's output, and echoes, wait for the master's reader
// in a bounded queue. The pair also holds what makes it a terminal for job
// control: its session, its foreground process group, its window size.
import { E } from '../../abi/errno';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDNORM, EVENT_WRNORM } from '../../abi/waitqueue';
import { SIGCONT, SIGHUP, SI_KERNEL } from '../../abi/signals';
import type { HeapBudget } from '../../abi/accounting';
import type { Kernel } from '../../kernel/kernel';
import type { ThreadGroup } from '../../kernel/thread_group';
import type { PtyHost } from './ioctl';
import { INPUT_BACKLOG, LineDiscipline, N_TTY_BUF_SIZE } from './ldisc';

/** What the slave's output may hold for the master's reader before the slave's writer waits. */
export const MASTER_BUF = 8192;
/** Heap charged per pair: its queues are arrays of numbers (8 bytes a byte), plus the objects. */
const PTY_HEAP = (N_TTY_BUF_SIZE * 3 + INPUT_BACKLOG + MASTER_BUF) * 8 + 4096;

/** The open descriptions of one end: readiness changes notify their queues. */
interface End {
  queue: { notify(events: number): void };
}

export class Pty {
  readonly ldisc: LineDiscipline;
  /** Output and echoes waiting for the master's reader. */
  toMaster: number[] = [];
  /** TIOCSPTLCK: the slave cannot be opened while locked (a new pair starts locked). */
  locked = true;
  masterOpen = true;
  slaveOpens = 0;
  /** The slave was opened and every open of it has closed since (the master sees EOF/EIO and POLLHUP). */
  slaveClosed = false;
  /** struct winsize: rows, cols, xpixel, ypixel. */
  winsize = Buffer.alloc(8);
  /** Job control: the session it is the controlling terminal of, and its foreground process group. */
  session: number | null = null;
  foreground: number | null = null;
  /** Processes of the session that gave it up with TIOCNOTTY without being its leader. */
  readonly detached = new Set<number>();
  /** TIOCEXCL: further opens of the slave fail with EBUSY (but for CAP_SYS_ADMIN). */
  exclusive = false;
  readonly masters = new Set<End>();
  readonly slaves = new Set<End>();
  private charged = 0;

  constructor(
    readonly index: number,
    readonly kernel: Kernel,
    readonly host: PtyHost,
    private readonly heap: HeapBudget | null,
    /** Called once both ends are gone: the number is free again. */
    private readonly onFree: (p: Pty) => void,
  ) {
    if (heap) {
      heap.charge(PTY_HEAP, E.ENOMEM);
      this.charged = PTY_HEAP;
    }
    this.ldisc = new LineDiscipline({
      toMaster: (d) => this.queueForMaster(d),
      // Input that only edits a line (a flood of "a^U") never fills the read buffer: its echo is bounded here.
      echo: (d) => this.queueForMaster(d.slice(0, Math.max(0, MASTER_BUF + N_TTY_BUF_SIZE - this.toMaster.length))),
      signal: (sig) => this.signalForeground(sig),
    });
  }

  private queueForMaster(d: number[]): void {
    if (!d.length) return;
    for (const c of d) this.toMaster.push(c);
    this.notifyMasters();
  }

  notifyMasters(): void {
    for (const e of this.masters) e.queue.notify(EVENT_IN | EVENT_RDNORM | EVENT_OUT | EVENT_WRNORM | EVENT_HUP | EVENT_ERR);
  }
  notifySlaves(): void {
    for (const e of this.slaves) e.queue.notify(EVENT_IN | EVENT_RDNORM | EVENT_OUT | EVENT_WRNORM | EVENT_HUP | EVENT_ERR);
  }

  /** Members of process group pgid that are alive. */
  groupMembers(pgid: number): ThreadGroup[] {
    return [...this.kernel.groups.values()].filter((g) => g.pgid === pgid && !g.zombie);
  }

  /** A signal from the terminal (ISIG characters, SIGWINCH, hangup) to a process group. */
  signalGroup(pgid: number | null, sig: number): void {
    if (pgid === null) return;
    for (const g of this.groupMembers(pgid)) this.kernel.signals.sendToGroup(g, sig, { signo: sig, code: SI_KERNEL });
  }

  signalForeground(sig: number): void {
    this.signalGroup(this.foreground, sig);
  }

  /**
   * A process group is orphaned when none of its members has a parent in
   * another group of the same session: nobody is left to continue it, so
   * terminal stop signals are not sent to it.
   */
  orphaned(pgid: number): boolean {
    return !this.groupMembers(pgid).some((g) => g.parent !== null && g.parent.pgid !== pgid && g.parent.sid === g.sid && !g.parent.zombie);
  }

  /** Whether this is the controlling terminal of the process tg. */
  controls(tg: ThreadGroup): boolean {
    return this.session !== null && this.session === tg.sid && !this.detached.has(tg.pid);
  }

  /**
   * Hangup (the master closed, or the controlling process exited): the
   * session leader gets SIGHUP and SIGCONT (on exit: the foreground group
   * SIGHUP), and the session loses its terminal.
   */
  hangup(leaderExit: boolean): void {
    const sid = this.session;
    if (sid === null) return;
    if (leaderExit) {
      this.signalGroup(this.foreground, SIGHUP);
    } else {
      const leader = this.kernel.groups.get(sid);
      if (leader && !leader.zombie && leader.sid === sid) {
        for (const sig of [SIGHUP, SIGCONT]) this.kernel.signals.sendToGroup(leader, sig, { signo: sig, code: SI_KERNEL });
      }
    }
    this.session = null;
    this.foreground = null;
    this.detached.clear();
  }

  masterClosed(): void {
    this.masterOpen = false;
    this.host.masterGone(this);
    this.hangup(false);
    this.notifySlaves();
    this.maybeFree();
  }

  slaveOpened(): void {
    this.slaveOpens++;
    this.slaveClosed = false;
  }

  slaveReleased(): void {
    if (--this.slaveOpens === 0) {
      this.slaveClosed = true;
      this.notifyMasters();
    }
    this.maybeFree();
  }

  private maybeFree(): void {
    if (this.masterOpen || this.slaveOpens > 0) return;
    this.heap?.uncharge(this.charged);
    this.charged = 0;
    this.onFree(this);
  }

  /** The slave's output processed into the master's queue; returns how much of data was taken. */
  slaveWrite(data: Buffer): number {
    const n = Math.min(data.length, MASTER_BUF - this.toMaster.length);
    if (n <= 0) return 0;
    this.ldisc.write(data.subarray(0, n));
    return n;
  }

  /** Up to len bytes for the master's reader. */
  masterRead(len: number): Buffer {
    const out = Buffer.from(this.toMaster.splice(0, len));
    if (out.length) this.notifySlaves();
    return out;
  }

  /** Input for the slave; returns how much was taken. */
  masterWrite(data: Buffer): number {
    const n = this.ldisc.receive(data);
    if (n) this.notifySlaves();
    return n;
  }
}
