// A description open on a POSIX message queue (kernel/ipc/mqueue.ts). read
// gives the queue's status line as Linux's mqueue file system does; poll
// says readable while messages wait and writable while there is room.

import { EVENT_IN, EVENT_OUT, EVENT_RDNORM, EVENT_WRNORM } from '../../abi/waitqueue';
import { type InodeAttrs, S_IFREG } from '../../abi/fs';
import type { HeapBudget } from '../../abi/accounting';
import { anonAttrs, FileDescription } from '../../vfs/file';
import type { FileCtx } from '../../vfs/ctx';
import type { MessageQueue, MqNamespace } from '../../kernel/ipc/mqueue';
import type { Waiter } from '../../abi/waitqueue';

export class MqFile extends FileDescription {
  constructor(readonly mq: MessageQueue, private readonly ns: MqNamespace, flags: number, readonly budget: HeapBudget | null) {
    super(null, null, flags);
    mq.opens++;
  }

  procName(): string {
    return `/${this.mq.name}`;
  }

  override stat(): InodeAttrs {
    return { ...anonAttrs(S_IFREG | this.mq.mode), uid: this.mq.uid, gid: this.mq.gid, size: this.mq.bytes };
  }

  override canPoll(): boolean {
    return true;
  }

  override eventRegister(w: Waiter): void {
    this.mq.queue.add(w);
  }

  override eventUnregister(w: Waiter): void {
    this.mq.queue.remove(w);
  }

  override readiness(mask: number): number {
    let r = 0;
    if (this.mq.count > 0) r |= EVENT_IN | EVENT_RDNORM;
    if (!this.mq.full) r |= EVENT_OUT | EVENT_WRNORM;
    return r & mask;
  }

  /** The status line, read like a small file from the description's offset. */
  override read(_t: FileCtx, len: number): Buffer {
    const n = this.mq.notify;
    const line = `QSIZE:${String(this.mq.bytes).padEnd(10)} NOTIFY:${String(n ? (n.signo ? 0 : 1) : 0).padEnd(5)} SIGNO:${String(n?.signo ?? 0).padEnd(5)} NOTIFY_PID:${String(n?.pid ?? 0).padEnd(6)}\n`;
    const b = Buffer.from(line, 'latin1').subarray(this.offset, this.offset + len);
    this.offset += b.length;
    return Buffer.from(b);
  }

  protected override release(): void {
    this.mq.opens--;
    if (this.mq.unlinked && this.mq.opens === 0) this.ns.free(this.mq, this.budget);
  }
}
