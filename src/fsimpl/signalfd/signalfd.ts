// signalfd (man 2 signalfd): pending signals in a mask read from a file as
// struct signalfd_siginfo records, instead of delivered to a handler.
// Readable while the owning task or its process has a signal in the mask
// pending; the process's signal queue (ThreadGroup.signalWaiters) wakes its
// waiters when a signal is queued. Linux reads the caller's signals; this
// file reads those of the task that made it (they differ only for a
// signalfd passed to another process).

import { E, Errno } from '../../abi/errno';
import { EVENT_IN, EVENT_RDNORM, type Waiter } from '../../abi/waitqueue';
import { O_NONBLOCK } from '../../abi/fs';
import * as S from '../../abi/signals';
import { AnonFile, type MaybePromise } from '../../vfs/file';
import type { FileCtx } from '../../vfs/ctx';
import type { Task } from '../../kernel/task';
import { timerSignalTaken } from '../../kernel/posix_timers';

const READ_EVENTS = EVENT_IN | EVENT_RDNORM;
export const SIGNALFD_SIGINFO_SIZE = 128;

const SI_USER = 0, SI_KERNEL = 0x80, SI_QUEUE = -1, SI_TIMER = -2, SI_MESGQ = -3, SI_TKILL = -6;
/** Signals whose positive si_codes carry a fault address. */
const FAULT_SIGNALS = S.sigBit(S.SIGSEGV) | S.sigBit(S.SIGBUS) | S.sigBit(S.SIGILL) | S.sigBit(S.SIGFPE) | S.sigBit(S.SIGTRAP);

/** struct signalfd_siginfo from a siginfo_t, field by field as the siginfo's layout says (Linux's signalfd_copyinfo). */
function toSignalfdSiginfo(si: S.SigInfo): Buffer {
  const src = S.encodeSigInfo(si);
  const b = Buffer.alloc(SIGNALFD_SIGINFO_SIZE);
  const code = src.readInt32LE(8);
  b.writeUInt32LE(src.readUInt32LE(0), 0); // ssi_signo
  b.writeInt32LE(src.readInt32LE(4), 4); // ssi_errno
  b.writeInt32LE(code, 8); // ssi_code
  const signo = si.signo;
  if (code === SI_TIMER) {
    b.writeUInt32LE(src.readUInt32LE(16), 24); // ssi_tid
    b.writeUInt32LE(src.readUInt32LE(20), 32); // ssi_overrun
    b.writeBigUInt64LE(src.readBigUInt64LE(24), 48); // ssi_ptr
    b.writeInt32LE(src.readInt32LE(24), 44); // ssi_int
  } else if (code > 0 && code !== SI_KERNEL && (FAULT_SIGNALS & S.sigBit(signo)) !== 0n) {
    b.writeBigUInt64LE(src.readBigUInt64LE(16), 72); // ssi_addr
  } else if (code > 0 && code !== SI_KERNEL && signo === S.SIGCHLD) {
    b.writeUInt32LE(src.readUInt32LE(16), 12); // ssi_pid
    b.writeUInt32LE(src.readUInt32LE(20), 16); // ssi_uid
    b.writeInt32LE(src.readInt32LE(24), 40); // ssi_status
    b.writeBigUInt64LE(src.readBigUInt64LE(32), 56); // ssi_utime
    b.writeBigUInt64LE(src.readBigUInt64LE(40), 64); // ssi_stime
  } else if (code > 0 && code !== SI_KERNEL && signo === S.SIGIO) {
    b.writeUInt32LE(src.readUInt32LE(16), 28); // ssi_band
    b.writeInt32LE(src.readInt32LE(24), 20); // ssi_fd
  } else {
    b.writeUInt32LE(src.readUInt32LE(16), 12); // ssi_pid
    b.writeUInt32LE(src.readUInt32LE(20), 16); // ssi_uid
    if (code === SI_QUEUE || code === SI_MESGQ || (code !== SI_USER && code !== SI_KERNEL && code !== SI_TKILL && code < 0)) {
      b.writeBigUInt64LE(src.readBigUInt64LE(24), 48); // ssi_ptr
      b.writeInt32LE(src.readInt32LE(24), 44); // ssi_int
    }
  }
  return b;
}

export class SignalFdFile extends AnonFile {
  constructor(
    private readonly owner: Task,
    /** The signals it reads (never SIGKILL or SIGSTOP). */
    public mask: bigint,
    flags: number,
  ) {
    super('[signalfd]', flags, true);
  }

  fdinfo(): string {
    return `sigmask:\t${this.mask.toString(16).padStart(16, '0')}\n`;
  }

  override eventRegister(w: Waiter): void {
    this.owner.tg.signalWaiters.add(w);
  }

  override eventUnregister(w: Waiter): void {
    this.owner.tg.signalWaiters.remove(w);
  }

  /** The lowest pending signal in the mask: the task's own first, then its process's. */
  private next(): [S.SigQueue, number] | null {
    for (const q of [this.owner.pending, this.owner.tg.pending]) {
      let best = 0;
      for (const sig of q.keys()) if (this.mask & S.sigBit(sig) && (best === 0 || sig < best)) best = sig;
      if (best) return [q, best];
    }
    return null;
  }

  override readiness(mask: number): number {
    return this.next() ? mask & READ_EVENTS : 0;
  }

  override read(t: FileCtx, len: number, nowait = false): MaybePromise<Buffer> {
    const max = Math.floor(len / SIGNALFD_SIGINFO_SIZE);
    if (max === 0) throw new Errno(E.EINVAL);
    const out: Buffer[] = [];
    for (let n = this.next(); n && out.length < max; n = this.next()) {
      const si = n[0].take(n[1])!;
      timerSignalTaken(this.owner.tg, si);
      out.push(toSignalfdSiginfo(si));
    }
    if (out.length) return Buffer.concat(out);
    if (this.flags & O_NONBLOCK || nowait) throw new Errno(E.EAGAIN);
    return t.block(this, READ_EVENTS).then(() => this.read(t, len, nowait));
  }
}
