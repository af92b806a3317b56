// eventfd (man 2 eventfd): a 64-bit counter behind a file. write adds to it
// (blocking while the sum would pass 2^64-2), read takes it all, or one in
// semaphore mode (blocking while it is 0). Readable while the counter is
// above 0, writable while at least 1 more fits.

import { E, Errno } from '../../abi/errno';
import { EVENT_IN, EVENT_OUT, EVENT_RDNORM, EVENT_WRNORM } from '../../abi/waitqueue';
import { O_NONBLOCK } from '../../abi/fs';
import { AnonFile, type MaybePromise } from '../../vfs/file';
import type { FileCtx } from '../../vfs/ctx';

export const EFD_SEMAPHORE = 1;
const MAX = 0xfffffffffffffffen;
const READ_EVENTS = EVENT_IN | EVENT_RDNORM;
const WRITE_EVENTS = EVENT_OUT | EVENT_WRNORM;

export class EventFdFile extends AnonFile {
  private counter: bigint;

  constructor(initval: number, flags: number, private readonly semaphore: boolean) {
    super('[eventfd]', flags, true);
    this.counter = BigInt(initval >>> 0);
  }

  /** /proc/PID/fdinfo's extra line. */
  fdinfo(): string {
    return `eventfd-count: ${this.counter.toString(16).padStart(16)}\neventfd-id: 0\neventfd-semaphore: ${this.semaphore ? 1 : 0}\n`;
  }

  override readiness(mask: number): number {
    let r = 0;
    if (this.counter > 0n) r |= READ_EVENTS;
    if (this.counter < MAX) r |= WRITE_EVENTS;
    return r & mask;
  }

  override read(t: FileCtx, len: number, nowait = false): MaybePromise<Buffer> {
    if (len < 8) throw new Errno(E.EINVAL);
    if (this.counter === 0n) {
      if (this.flags & O_NONBLOCK || nowait) throw new Errno(E.EAGAIN);
      return t.block(this, READ_EVENTS).then(() => this.read(t, len, nowait));
    }
    const v = this.semaphore ? 1n : this.counter;
    this.counter -= v;
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    this.queue.notify(WRITE_EVENTS);
    return b;
  }

  override write(t: FileCtx, data: Buffer, nowait = false): MaybePromise<number> {
    if (data.length < 8) throw new Errno(E.EINVAL);
    const v = data.readBigUInt64LE(0);
    if (v === 0xffffffffffffffffn) throw new Errno(E.EINVAL);
    if (this.counter + v > MAX) {
      if (this.flags & O_NONBLOCK || nowait) throw new Errno(E.EAGAIN);
      return t.block(this, WRITE_EVENTS).then(() => this.write(t, data, nowait));
    }
    this.counter += v;
    // Linux wakes readers even for 0 (an edge for edge-triggered epoll).
    this.queue.notify(READ_EVENTS);
    return 8;
  }
}
