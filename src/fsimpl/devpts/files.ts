// The open descriptions of a pty pair: MasterFile (/dev/ptmx) and SlaveFile
// (/dev/pts/N). Both wait through the one readiness interface (readiness,
// eventRegister, `queue`), so read/write, poll, select and epoll agree.
// The slave applies job control (SIGTTIN, SIGTTOU with TOSTOP) for the
// processes whose controlling terminal it is; ioctls are in ioctl.ts.
import { Errno, E, ERESTARTSYS } from '../../abi/errno';
import { EVENT_ERR, EVENT_HUP, EVENT_IN, EVENT_OUT, EVENT_RDNORM, EVENT_WRNORM } from '../../abi/waitqueue';
import { O_NONBLOCK, type InodeAttrs } from '../../abi/fs';
import { SIGTTIN, SIGTTOU, sigBit } from '../../abi/signals';
import { TOSTOP, VMIN, VTIME } from '../../abi/termios';
import type { FileCtx } from '../../vfs/ctx';
import type { VPath } from '../../vfs/dentry';
import { FileDescription, type MaybePromise } from '../../vfs/file';
import type { Inode } from '../../vfs/inode';
import type { Task } from '../../kernel/task';
import { MASTER_BUF, type Pty } from './pty';
import { ptyIoctl } from './ioctl';

const READ_EVENTS = EVENT_IN | EVENT_RDNORM;
const WRITE_EVENTS = EVENT_OUT | EVENT_WRNORM;

/** What both ends share: the pair, and the wait-or-EAGAIN rule. */
export abstract class PtyEnd extends FileDescription {
  constructor(path: VPath, inode: Inode, flags: number, readonly pty: Pty) {
    super(path, inode, flags);
  }
  abstract readonly isMaster: boolean;
  override canPoll(): boolean {
    return true;
  }
  override supportsNowait(): boolean {
    return true;
  }
  override asyncEvents(): number {
    return READ_EVENTS | WRITE_EVENTS;
  }
  override stat(): InodeAttrs {
    return (this.inode as Inode).attrs();
  }
  protected wait<T>(t: FileCtx, events: number, nowait: boolean, again: () => MaybePromise<T>, deadlineNs?: number): Promise<T> {
    if (this.flags & O_NONBLOCK || nowait) throw new Errno(E.EAGAIN);
    return t.block(this, events | EVENT_HUP | EVENT_ERR, deadlineNs).then(again);
  }
  override ioctl(t: FileCtx, cmd: number, arg: number): MaybePromise<number> {
    return ptyIoctl(t as Task, this, cmd, arg);
  }
}

export class MasterFile extends PtyEnd {
  readonly isMaster = true;
  constructor(path: VPath, inode: Inode, flags: number, pty: Pty) {
    super(path, inode, flags, pty);
    pty.masters.add(this);
  }
  override readiness(mask: number): number {
    const p = this.pty;
    let r = 0;
    if (p.toMaster.length) r |= READ_EVENTS;
    if (p.slaveClosed) r |= EVENT_HUP;
    if (p.ldisc.inputRoom() > 0) r |= WRITE_EVENTS;
    return r & (mask | EVENT_HUP | EVENT_ERR);
  }
  override available(): number {
    return this.pty.toMaster.length;
  }
  override read(t: FileCtx, len: number, nowait = false): MaybePromise<Buffer> {
    const p = this.pty;
    if (p.toMaster.length) return p.masterRead(len);
    if (len === 0) return Buffer.alloc(0);
    // Linux: once every slave descriptor has closed, the master's reader gets EIO.
    if (p.slaveClosed) throw new Errno(E.EIO);
    return this.wait(t, READ_EVENTS, nowait, () => this.read(t, len, nowait));
  }
  override write(t: FileCtx, data: Buffer, nowait = false): MaybePromise<number> {
    return this.writeFrom(t, data, 0, nowait);
  }
  private writeFrom(t: FileCtx, data: Buffer, done: number, nowait: boolean): MaybePromise<number> {
    while (done < data.length) {
      const n = this.pty.masterWrite(data.subarray(done));
      if (n === 0) break;
      done += n;
    }
    if (done === data.length) return done;
    if (done > 0 && (this.flags & O_NONBLOCK || nowait)) return done;
    return this.wait(t, WRITE_EVENTS, nowait, () => this.writeFrom(t, data, done, nowait)).catch((e: unknown) => {
      if (done > 0 && e instanceof Errno && e.errno === ERESTARTSYS) return done;
      throw e;
    });
  }
  protected override release(): void {
    this.pty.masters.delete(this);
    this.pty.masterClosed();
  }
}

export class SlaveFile extends PtyEnd {
  readonly isMaster = false;
  constructor(path: VPath, inode: Inode, flags: number, pty: Pty) {
    super(path, inode, flags, pty);
    pty.slaves.add(this);
    pty.slaveOpened();
  }
  /** VMIN when a read waits for a count of bytes (VTIME 0), else 1. */
  private minBytes(): number {
    const cc = this.pty.ldisc.termios.cc;
    return !this.pty.ldisc.canonical && cc[VTIME] === 0 && cc[VMIN] > 0 ? cc[VMIN] : 1;
  }
  override readiness(mask: number): number {
    const p = this.pty;
    if (!p.masterOpen) return (READ_EVENTS | WRITE_EVENTS | EVENT_HUP | EVENT_ERR) & (mask | EVENT_HUP | EVENT_ERR);
    let r = 0;
    if (p.ldisc.readable(this.minBytes())) r |= READ_EVENTS;
    if (p.toMaster.length < MASTER_BUF && !p.ldisc.stopped) r |= WRITE_EVENTS;
    return r & mask;
  }
  override available(): number {
    return this.pty.ldisc.available();
  }

  /**
   * Job control for a process whose controlling terminal this is, outside its
   * foreground group: the group gets sig and the call restarts once it is
   * continued, unless the signal is ignored or blocked (then `allowed` says
   * whether the call goes on) or the group is orphaned (EIO).
   */
  private jobControl(t: FileCtx, sig: number, allowedWhenIgnored: boolean): void {
    const task = t as Task;
    const p = this.pty;
    const tg = task.tg;
    if (!tg || !p.controls(tg) || p.foreground === null || tg.pgid === p.foreground) return;
    if (task.kernel.signals.isIgnored(task, sig) || task.sigmask & sigBit(sig)) {
      if (allowedWhenIgnored) return;
      throw new Errno(E.EIO);
    }
    if (p.orphaned(tg.pgid)) throw new Errno(E.EIO);
    p.signalGroup(tg.pgid, sig);
    throw new Errno(ERESTARTSYS);
  }

  /** TCSETS*, TIOCSPGRP & co. from a background process: SIGTTOU whatever TOSTOP (Linux's tty_check_change). */
  checkChange(t: FileCtx): void {
    this.jobControl(t, SIGTTOU, true);
  }

  override read(t: FileCtx, len: number, nowait = false, deadlineNs?: number): MaybePromise<Buffer> {
    const p = this.pty;
    this.jobControl(t, SIGTTIN, false);
    if (!p.masterOpen) return Buffer.alloc(0);
    const ld = p.ldisc;
    if (len === 0) return Buffer.alloc(0);
    const cc = ld.termios.cc;
    if (ld.canonical) {
      if (ld.readable()) return this.took(ld.read(len));
      return this.wait(t, READ_EVENTS, nowait, () => this.read(t, len, nowait));
    }
    const min = cc[VMIN], time = cc[VTIME];
    const have = ld.available();
    if (min === 0 && time === 0) return this.took(ld.read(len));
    if (time === 0) {
      if (have >= Math.min(min, len)) return this.took(ld.read(len));
      return this.wait(t, READ_EVENTS, nowait, () => this.read(t, len, nowait));
    }
    // VTIME in tenths of a second: with VMIN 0 a timeout for the first byte,
    // else an inter-byte timer started by each byte that arrives.
    const task = t as Task;
    const now = task.kernel.monotonicNs();
    if (min === 0) {
      if (have > 0) return this.took(ld.read(len));
      const dl = deadlineNs ?? now + time * 100_000_000;
      if (now >= dl) return Buffer.alloc(0);
      return this.wait(t, READ_EVENTS, nowait, () => this.read(t, len, nowait, dl), dl);
    }
    if (have >= Math.min(min, len)) return this.took(ld.read(len));
    if (have === 0) return this.wait(t, READ_EVENTS, nowait, () => this.read(t, len, nowait));
    // Some bytes, fewer than VMIN: wait for more until the inter-byte timer ends.
    if (deadlineNs !== undefined && now >= deadlineNs) return this.took(ld.read(len));
    const dl = now + time * 100_000_000;
    return this.wait(t, READ_EVENTS, nowait, () => (ld.available() > have ? this.read(t, len, nowait) : this.read(t, len, nowait, dl)), dl);
  }

  private took(b: Buffer): Buffer {
    // Room in the read buffer: a waiting master writer may go on.
    this.pty.notifyMasters();
    return b;
  }

  override write(t: FileCtx, data: Buffer, nowait = false): MaybePromise<number> {
    const p = this.pty;
    if (!p.masterOpen) throw new Errno(E.EIO);
    if (p.ldisc.termios.lflag & TOSTOP) this.jobControl(t, SIGTTOU, true);
    return this.writeFrom(t, data, 0, nowait);
  }
  private writeFrom(t: FileCtx, data: Buffer, done: number, nowait: boolean): MaybePromise<number> {
    const p = this.pty;
    if (!p.masterOpen) {
      if (done) return done;
      throw new Errno(E.EIO);
    }
    while (done < data.length && !p.ldisc.stopped) {
      const n = p.slaveWrite(data.subarray(done));
      if (n === 0) break;
      done += n;
    }
    if (done === data.length) return done;
    if (done > 0 && (this.flags & O_NONBLOCK || nowait)) return done;
    return this.wait(t, WRITE_EVENTS, nowait, () => this.writeFrom(t, data, done, nowait)).catch((e: unknown) => {
      if (done > 0 && e instanceof Errno && e.errno === ERESTARTSYS) return done;
      throw e;
    });
  }
  protected override release(): void {
    this.pty.slaves.delete(this);
    this.pty.slaveReleased();
  }
}
