// A description open on a POSIX message queue (kernel/ipc/mqueue.ts), made
// by mq_open or by open(2) of the queue's file in an mqueue file system
// (fs.ts). read gives the queue's status line as Linux's mqueue file system
// does; poll says readable while messages wait and writable while there is
// room; fstat shows the queue's file.

import { EVENT_IN, EVENT_OUT, EVENT_RDNORM, EVENT_WRNORM } from '../../abi/waitqueue';
import { type InodeAttrs } from '../../abi/fs';
import { nowNs } from '../../host/clock';
import { FileDescription } from '../../vfs/file';
import type { FileCtx } from '../../vfs/ctx';
import type { VPath } from '../../vfs/dentry';
import type { Inode } from '../../vfs/inode';
import type { MessageQueue, MqNamespace } from '../../kernel/ipc/mqueue';
import type { Waiter } from '../../abi/waitqueue';

export class MqFile extends FileDescription {
  /** Linux gives this file no splice operations (splice: EINVAL). */
  override canSplice(): boolean {
    return false;
  }

  /**
   * node: the queue's file in its namespace's mqueue file system. path: where
   * open(2) found it (null for mq_open, whose descriptor is on no mount of the
   * sandbox, as Linux's is on the namespace's internal one).
   */
  constructor(readonly mq: MessageQueue, private readonly ns: MqNamespace, flags: number, private readonly node: Inode, path: VPath | null) {
    super(path, path ? node : null, flags);
    mq.opens++;
  }

  procName(): string {
    return `/${this.mq.name}`;
  }

  override stat(): InodeAttrs {
    return this.node.attrs();
  }

  override ids(): { dev: number; ino: number } {
    return { dev: this.node.fs.dev, ino: this.node.ino };
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

  /**
   * The status line, read like a small file from the description's offset:
   * the bytes queued, the registration's sigev_notify (SIGEV_SIGNAL 0,
   * SIGEV_NONE 1), its signal and its process.
   */
  override read(_t: FileCtx, len: number): Buffer {
    const n = this.mq.notify;
    const line = `QSIZE:${String(this.mq.bytes).padEnd(10)} NOTIFY:${String(n ? (n.signo ? 0 : 1) : 0).padEnd(5)} SIGNO:${String(n?.signo ?? 0).padEnd(5)} NOTIFY_PID:${String(n?.pid ?? 0).padEnd(6)}\n`;
    const b = Buffer.from(line, 'latin1').subarray(this.offset, this.offset + len);
    this.offset += b.length;
    this.mq.atimeNs = this.mq.ctimeNs = nowNs();
    return Buffer.from(b);
  }

  protected override release(): void {
    this.mq.opens--;
    if (this.mq.unlinked && this.mq.opens === 0) this.ns.free(this.mq);
  }
}
