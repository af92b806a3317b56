// signalfd (man 2 signalfd): pending signals of a mask read as 128-byte
// signalfd_siginfo records instead of delivered. Readable while one of them
// is pending for the process that made it; the signal manager notifies the
// file when one is queued (ThreadGroup.signalfds). Linux reads and polls the
// signals of whichever task calls; here they are the maker's (the same task
// in the usual use: one process blocking signals and waiting for them).
import { E, Errno } from '../../abi/errno';
import { O_NONBLOCK, type InodeAttrs } from '../../abi/fs';
import { SIGCHLD, SIGKILL, SIGSTOP, sigBit, type SigInfo } from '../../abi/signals';
import { EVENT_IN, EVENT_RDNORM } from '../../abi/waitqueue';
import type { Task } from '../../kernel/task';
import type { FileCtx } from '../../vfs/ctx';
import { anonAttrs, FileDescription, type MaybePromise } from '../../vfs/file';

const READ_EVENTS = EVENT_IN | EVENT_RDNORM;
export const SIGNALFD_SIGINFO_SIZE = 128;

/** struct signalfd_siginfo from a queued siginfo. */
function encode(si: SigInfo): Buffer {
  const b = Buffer.alloc(SIGNALFD_SIGINFO_SIZE);
  b.writeUInt32LE(si.signo, 0);
  if (si.raw) {
    // rt_sigqueueinfo's own siginfo: errno, code, pid, uid and the value as given.
    b.writeInt32LE(si.raw.readInt32LE(4), 4);
    b.writeInt32LE(si.raw.readInt32LE(8), 8);
    b.writeUInt32LE(si.raw.readUInt32LE(16), 12);
    b.writeUInt32LE(si.raw.readUInt32LE(20), 16);
    b.writeInt32LE(si.raw.readInt32LE(24), 44);
    b.writeBigUInt64LE(si.raw.readBigUInt64LE(24), 48);
    return b;
  }
  b.writeInt32LE(si.errno ?? 0, 4);
  b.writeInt32LE(si.code, 8);
  if (si.addr !== undefined) {
    b.writeBigUInt64LE(si.addr >= 2 ** 64 ? 0xffffffffffffffffn : BigInt.asUintN(64, BigInt(si.addr)), 72);
    return b;
  }
  b.writeUInt32LE((si.pid ?? 0) >>> 0, 12);
  b.writeUInt32LE((si.uid ?? 0) >>> 0, 16);
  if (si.signo === SIGCHLD) {
    b.writeInt32LE(si.status ?? 0, 40);
    b.writeBigUInt64LE(BigInt(si.utime ?? 0), 56);
    b.writeBigUInt64LE(BigInt(si.stime ?? 0), 64);
  }
  return b;
}

export class SignalFdFile extends FileDescription {
  private mask = 0n;

  constructor(mask: bigint, flags: number, private readonly owner: Task) {
    super(null, null, flags);
    this.setMask(mask);
    owner.tg.signalfds.add(this);
  }

  /** SIGKILL and SIGSTOP are never read through a signalfd. */
  setMask(mask: bigint): void {
    this.mask = mask & ~(sigBit(SIGKILL) | sigBit(SIGSTOP));
    this.queue.notify(READ_EVENTS);
  }

  procName(): string {
    return 'anon_inode:[signalfd]';
  }

  fdinfo(): string {
    return `sigmask:\t${this.mask.toString(16).padStart(16, '0')}\n`;
  }

  override stat(): InodeAttrs {
    return anonAttrs(0o600);
  }

  override canPoll(): boolean {
    return true;
  }

  override supportsNowait(): boolean {
    return true;
  }

  /** The next pending signal of the mask (thread-directed first, lowest number first), taken off its queue. */
  private take(): SigInfo | null {
    for (const q of [this.owner.pending, this.owner.tg.pending]) {
      let best = 0;
      for (const sig of q.keys()) if (this.mask & sigBit(sig) && (best === 0 || sig < best)) best = sig;
      if (best) return q.take(best) ?? null;
    }
    return null;
  }

  private anyPending(): boolean {
    for (const q of [this.owner.pending, this.owner.tg.pending]) for (const sig of q.keys()) if (this.mask & sigBit(sig)) return true;
    return false;
  }

  override readiness(mask: number): number {
    return this.anyPending() ? READ_EVENTS & mask : 0;
  }

  override read(t: FileCtx, len: number, nowait = false): MaybePromise<Buffer> {
    if (len < SIGNALFD_SIGINFO_SIZE) throw new Errno(E.EINVAL);
    const out: Buffer[] = [];
    while (out.length < Math.floor(len / SIGNALFD_SIGINFO_SIZE)) {
      const si = this.take();
      if (!si) break;
      out.push(encode(si));
    }
    if (out.length) return Buffer.concat(out);
    if (this.flags & O_NONBLOCK || nowait) throw new Errno(E.EAGAIN);
    return t.block(this, READ_EVENTS).then(() => this.read(t, len, nowait));
  }

  override write(): number {
    throw new Errno(E.EINVAL);
  }

  protected override release(): void {
    this.owner.tg.signalfds.delete(this);
  }
}
